"""Sample narrative detection, and a user-style incident assembled from sample artifacts.

"No canned prose": a report or notebook run on incident X may print only what X's own files and
generic method text say. The sample incidents' stories (their manifests, answers, the generator
README) and the notebooks' prose are collected as word 6-grams; any of them found in an output
and not in X's own files (nor in the package's source, where generic method text lives) is canned
text. Distinctive sample names (classes, sites, comments) are
checked the same way, as words.
"""
from __future__ import annotations

import html
import re
import shutil
import tomllib
from pathlib import Path

import nbformat

from support import REPO, SAMPLE

INCIDENTS = SAMPLE / "incidents"
N = 6
#: names from the sample stories that no other incident should mention unless its files do
SAMPLE_NAMES = ["LeakyCacheEntry", "requestCache", "ChurnItem", "nightly revenue report", "orders_customer_id_idx",
                "render_page", "catalog_svc", "price-sync", "fulfilment", "ship_order", "PoolTimeout",
                "Conclusions (on the sample files)", "LeakyService"]
_WORD = re.compile(r"[\w$']+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def grams(text: str, n: int = N) -> set[tuple]:
    """Word n-grams with at least three words of letters (addresses and numbers are data, not prose)."""
    w = words(text)
    out = (tuple(w[i:i + n]) for i in range(len(w) - n + 1))
    return {g for g in out if sum(x.isalpha() for x in g) >= 3}


def line_grams(text: str, n: int = N) -> set[tuple]:
    """n-grams within lines only: a heading and the paragraph below it are not one sentence."""
    return set().union(*(grams(line, n) for line in text.splitlines())) if text else set()


def _strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


def narrative_text(exclude: Path | None = None) -> str:
    """The sample stories (all sample incidents but ``exclude``) and the notebooks' markdown."""
    parts = [(REPO / "sample_data" / "generate" / "incidents" / "README.md").read_text()]
    if (INCIDENTS / "README.md").exists():  # one story line per sample: not the one of ``exclude``
        parts += [line for line in (INCIDENTS / "README.md").read_text().splitlines()
                  if exclude is None or f"`{Path(exclude).name}/`" not in line]
    for folder in sorted(p for p in INCIDENTS.iterdir() if p.is_dir()):
        if exclude is not None and folder.resolve() == Path(exclude).resolve():
            continue
        for name in ("incident.toml", "answers.toml"):
            if (folder / name).exists():
                parts += list(_strings(tomllib.loads((folder / name).read_text())))
    for nb_path in sorted((REPO / "notebooks").rglob("*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        parts += [c.source for c in nb.cells if c.cell_type == "markdown"]
    return "\n".join(parts)


def own_text(folder: Path) -> str:
    """Everything the incident's own files say (binary files as latin-1: names inside captures count)."""
    out = []
    for p in sorted(Path(folder).rglob("*")):
        if p.is_file():
            out.append(p.read_bytes().decode("latin-1"))
    return "\n".join(out)


def visible_text(page: str) -> str:
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S | re.I)
    page = re.sub(r"<img\b[^>]*>", " ", page)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def method_grams() -> set[tuple]:
    """Word n-grams of the package's own source: generic method text (captions, how-to-read notes) lives
    there, so a notebook sentence the code also prints is method text, not a sample's story."""
    return set().union(*(line_grams(re.sub(r"<[^>]+>", " ", p.read_text()))
                         for p in (REPO / "forensics").rglob("*.py")))


def canned(output: str, folder: Path, exclude_own_story: bool = True) -> list[str]:
    """Sample narrative found in ``output`` that the incident ``folder`` itself does not contain."""
    own = own_text(folder)
    own_grams, own_lower = grams(own), own.lower()
    story = line_grams(narrative_text(exclude=folder if exclude_own_story else None)) - method_grams()
    found = sorted(" ".join(g) for g in (grams(output) & story) - own_grams)
    low = output.lower()
    found += [n for n in SAMPLE_NAMES if n.lower() in low and n.lower() not in own_lower]
    return found


def notebook_outputs(nb) -> str:
    """The text a reader sees in an executed notebook's outputs (not its markdown or code)."""
    out = []
    for c in nb.cells:
        for o in c.get("outputs", []):
            if o.get("output_type") == "stream":
                out.append(o.get("text", ""))
            for mime, v in (o.get("data") or {}).items():
                if mime in ("text/plain", "text/markdown"):
                    out.append(v if isinstance(v, str) else "".join(v))
                elif mime == "text/html":
                    out.append(visible_text(v if isinstance(v, str) else "".join(v)))
            if o.get("output_type") == "error":
                out.append(f"{o.get('ename')}: {o.get('evalue')}")
    return "\n".join(out)


USER_MANIFEST = '''title = "Booking API: errors and slow pages after the 14:00 push"
id = "booking-api"
summary = "Paged for 5xx on the booking API <script>alert(1)</script>; query $1 in the runbook. Two captures, a trace export, two pg_stat_statements dumps, a core's gdb output and two JVM histograms were collected by hand."

[[artifacts]]
file = "edge/client-side.pcap"
kind = "pcap"
host = "edge-1"
service = "booking"
description = "tcpdump on the edge host"

[[artifacts]]
file = "edge/slow-reader.pcap"
kind = "pcap"
host = "edge-1"
description = "second capture, a slow consumer"

[[artifacts]]
file = "traces/export.otlp.json"
kind = "otlp-json"

[[artifacts]]
file = "db/stat-0.csv"
kind = "pg_stat_statements"
role = "before"
time = "2026-11-26T06:08:50Z"
host = "db-7"
service = "booking-db"

[[artifacts]]
file = "db/stat-1.csv"
kind = "pg_stat_statements"
role = "after"
baseline = "db/stat-0.csv"
time = "2026-11-26T06:08:55Z"
host = "db-7"
service = "booking-db"

[[artifacts]]
file = "cores/indexer.gdb.txt"
kind = "gdb"
time = "2026-11-26T06:08:53Z"
host = "idx-2"
service = "indexer"

[[artifacts]]
file = "heap/histo-0.txt"
kind = "jvm-histogram"
time = "2026-11-26T06:08:40Z"
service = "booking"

[[artifacts]]
file = "heap/histo-2.txt"
kind = "jvm-histogram"
time = "2026-11-26T06:08:58Z"
service = "booking"
'''

USER_FILES = {
    "edge/client-side.pcap": "network/reqresp_reorder.pcap",
    "edge/slow-reader.pcap": "network/slow_reader.pcap",
    "traces/export.otlp.json": "traces/checkout.otlp.json",
    "db/stat-0.csv": "postgres/before.csv",
    "db/stat-1.csv": "postgres/after.csv",
    "cores/indexer.gdb.txt": "crashes/stack_overflow__g-O0__cmds.txt",
    "heap/histo-0.txt": "memory/jcmd_histo_t0.txt",
    "heap/histo-2.txt": "memory/jcmd_histo_t2.txt",
}


def user_incident(dest: Path) -> Path:
    """An incident handed over the way a user would: files from sample artifacts, in sub-folders, under
    names of their own, with an ``incident.toml`` written from docs/incidents.md and a note."""
    dest.mkdir(parents=True, exist_ok=True)
    for rel, src in USER_FILES.items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SAMPLE / src, dest / rel)
    (dest / "incident.toml").write_text(USER_MANIFEST)
    (dest / "ONCALL.md").write_text("14:02 pushed config 7781; 14:05 first 5xx alert; 14:20 rolled back.\n")
    return dest
