"""The served OpenAPI document is valid OpenAPI 3.1 and holds every endpoint of API.md.

Usage: contract.py BASE_URL   (tests/api/contract.rs runs it against a fresh `techmarket serve`)

1. /api/v1/openapi.json passes openapi-spec-validator (OpenAPI 3.1), every error found is listed;
2. every endpoint of tests/contract/endpoints.toml is in the document with its statuses, and each
   error code listed for a status appears in backticks in that response's description;
3. endpoints marked `planned` are skipped while absent, and fail once they exist (remove the flag);
4. every /api/v1 operation of the document is in the list.
"""
import json
import re
import sys
import tomllib
import urllib.request
from pathlib import Path

from openapi_spec_validator import OpenAPIV31SpecValidator

ROOT = Path(__file__).resolve().parents[2]
METHODS = ("get", "put", "post", "patch", "delete")


def main(base: str) -> int:
    with urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=30) as r:
        assert r.status == 200, r.status
        doc = json.load(r)
    problems: list[str] = []

    assert doc.get("openapi", "").startswith("3.1"), f"not OpenAPI 3.1: {doc.get('openapi')}"
    for err in OpenAPIV31SpecValidator(doc).iter_errors():
        where = "/".join(str(p) for p in err.absolute_path)
        problems.append(f"validator: {err.message} (at {where or 'document'})")

    spec = tomllib.loads((ROOT / "tests/contract/endpoints.toml").read_text())
    listed = set()
    planned_count = built_count = 0
    for ep in spec["endpoint"]:
        method, path = ep["method"].lower(), ep["path"]
        listed.add((method, path))
        op = doc.get("paths", {}).get(path, {}).get(method)
        name = f"{ep['method']} {path}"
        if ep.get("planned"):
            planned_count += 1
            if op is not None:
                problems.append(f"{name} is built: remove `planned = true` from tests/contract/endpoints.toml")
            continue
        built_count += 1
        if op is None:
            problems.append(f"{name} (API.md) is missing from the document")
            continue
        responses = op.get("responses", {})
        for status in ep["statuses"]:
            if str(status) not in responses:
                problems.append(f"{name}: status {status} is not documented")
        for status, codes in ep.get("codes", {}).items():
            desc = responses.get(str(status), {}).get("description", "")
            for code in codes:
                if f"`{code}`" not in desc:
                    problems.append(f"{name}: {status} does not name `{code}` (description: {desc!r})")
        for status, codes in ep.get("planned_codes", {}).items():
            desc = responses.get(str(status), {}).get("description", "")
            for code in codes:
                if f"`{code}`" in desc:
                    problems.append(f"{name}: `{code}` is documented: move it from planned_codes to codes")
        for status in ep.get("planned_statuses", []):
            if str(status) in responses:
                problems.append(f"{name}: {status} is documented: move it from planned_statuses to statuses")
        for status in responses:
            if status[0] in "45":
                content = responses[status].get("content", {}).get("application/json", {})
                ref = content.get("schema", {}).get("$ref", "")
                if path.startswith("/api/v1/") and not ref.endswith("/ErrorBody"):
                    problems.append(f"{name}: {status} does not use the error schema")

    for path, item in doc.get("paths", {}).items():
        for method in METHODS:
            if method in item and (method, path) not in listed:
                problems.append(
                    f"{method.upper()} {path} is served but not in tests/contract/endpoints.toml "
                    "(add it, `extension = true` if API.md does not name it)")

    ids = [op.get("operationId") for item in doc["paths"].values() for m, op in item.items() if m in METHODS]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        problems.append(f"duplicate operationIds: {dupes}")
    for path, item in doc["paths"].items():
        in_template = set(re.findall(r"{([^}]+)}", path))
        for m, op in item.items():
            for p in op.get("parameters", []):
                if p["in"] == "path" and p["name"] not in in_template:
                    problems.append(f"{m.upper()} {path}: `{p['name']}` declared in path")

    for p in problems:
        print("FAIL", p)
    print(f"{built_count} endpoints checked, {planned_count} planned, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1].rstrip("/")))
