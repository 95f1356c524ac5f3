"""API fuzzing with schemathesis against the served document, as three callers in turn.

Usage: fuzz.py BASE_URL REPORT_DIR   (a `techmarket serve --demo` server; tests/api/fuzz.rs runs it)

Callers: anonymous, a verified member (buyer-auto@demo, 重庆), an exchange administrator (admin-cquaee@demo).
Their tokens are taken first: the anonymous run fails logins on purpose, and the per-address throttle
would then refuse the others (as it should).

Checks, on every response: no 5xx (`not_a_server_error`), only documented statuses
(`status_code_conformance`), bodies that match their schema (`response_schema_conformance`) and
content types (`content_type_conformance`). Phases: coverage (boundary and invalid values of every
parameter and body field), fuzzing (random valid and invalid requests), stateful (sequences along the
links schemathesis infers from the document: create a listing, then read, edit, submit it…).

Short by default (CI); TECHMARKET_LONG=1 runs many more examples per operation with a fresh seed.
TECHMARKET_FUZZ_SEED=N replays a run. The reports (JUnit, NDJSON) are kept in REPORT_DIR/<caller>/.
One worker: with two, hypothesis describes strategies by parsing their source in two threads at once,
which CPython 3.11 can fail ("AST constructor recursion depth mismatch"), a crash of the tool, not a
finding, that made the run fail now and then.
"""
import json
import os
import random
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from demo_otp import demo_otp

PASSWORD = "demo-password-2026"
CALLERS = [
    ("anonymous", None),
    ("member", "buyer-auto@demo.techmarket.cn"),
    ("admin", "admin-cquaee@demo.techmarket.cn"),
]
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance"


def login(base: str, email: str) -> str:
    body = {"email": email, "password": PASSWORD}
    if email.startswith("admin-"):
        body["otp"] = demo_otp(email)
    req = urllib.request.Request(
        f"{base}/api/v1/auth/login",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)["token"]


def main(base: str, reports: Path) -> int:
    long = os.environ.get("TECHMARKET_LONG") == "1"
    seed = int(os.environ.get("TECHMARKET_FUZZ_SEED") or (random.randrange(1 << 30) if long else 20261207))
    examples = "300" if long else "12"
    reports.mkdir(parents=True, exist_ok=True)
    config = reports / "schemathesis.toml"
    # The sign-up bootstrap would register and log in a user of its own; the callers are ours.
    config.write_text("[auth]\nauto-signup = false\n")
    tokens = {name: (login(base, email) if email else None) for name, email in CALLERS}
    exe = Path(sys.executable).parent / "schemathesis"
    failed = []
    for name, _ in CALLERS:
        out_dir = reports / name
        out_dir.mkdir(parents=True, exist_ok=True)
        cmd = [str(exe), "--no-color", "--config-file", str(config), "run", f"{base}/api/v1/openapi.json",
               "--checks", CHECKS, "--max-examples", examples, "--seed", str(seed), "--workers", "1",
               "--phases", "coverage,fuzzing,stateful", "--request-timeout", "30",
               "--report", "junit,ndjson", "--report-dir", str(out_dir), "--warnings", "off"]
        if tokens[name]:
            # Logging out would end the caller's token for the rest of the run.
            cmd += ["-H", f"Authorization: Bearer {tokens[name]}", "--exclude-path", "/api/v1/auth/logout"]
        started = time.monotonic()
        run = subprocess.run(cmd, capture_output=True, text=True, cwd=out_dir)
        took = time.monotonic() - started
        (out_dir / "output.txt").write_text(run.stdout + run.stderr)
        summary = [l for l in run.stdout.splitlines() if "generated" in l or "passed" in l or "failed" in l]
        print(f"== {name}: exit {run.returncode} in {took:.0f} s, seed {seed}: {summary[-1].strip() if summary else ''}")
        if run.returncode != 0:
            failed.append(name)
            print(run.stdout[-20000:])
            print(run.stderr[-5000:])
    print(f"fuzz: seed {seed}, {examples} examples per operation, failed callers: {failed or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1].rstrip("/"), Path(sys.argv[2])))
