"""Writes notebooks/00_start_here.ipynb (edit here, re-run, then tools/nb_refresh.py)."""
import nbformat as nbf

md, code = nbf.v4.new_markdown_cell, nbf.v4.new_code_cell
cells = [
    md("""# Start here: the forensics workbench

**forensics** turns the evidence an incident leaves behind into pandas DataFrames and networkx graphs,
so you can answer *what happened* with the same tools for every artifact:

| artifact | what you get | notebook |
|---|---|---|
| packet captures (pcap, pcapng) | packets, flows, Wireshark-grade TCP analysis | `01_retransmissions.ipynb` |
| Jaeger / OTLP / Zipkin JSON traces | spans, trace trees, service map, critical path | `02_dependency_map.ipynb` |
| pg_stat_statements dumps | ranked queries, findings | `03_slow_queries.ipynb` |
| gdb batch output | frames, crash class, buckets | `04_crash_triage.ipynb` |
| heap snapshots / histograms / tracemalloc | growth, leak suspects, retainers | `05_heap_growth.ipynb` |
| a whole incident folder | one timeline, cross-artifact links, HTML report | `00_incident_overview.ipynb` |

Every loader opens files **read-only**, records their size and SHA-256, and keeps that *provenance*
with every table it returns. A file that is cut short or partly corrupt still loads what is valid,
and the warning says where it stopped."""),
    md("""## Parameters

Every notebook starts with a cell tagged `parameters` that names its inputs. To run a notebook on your
own evidence, either edit that cell, or run it headless with [papermill](https://papermill.readthedocs.io):

```
.venv/bin/papermill notebooks/01_retransmissions.ipynb out.ipynb -p pcap_path /evidence/capture.pcap
```

The cell below is this notebook's parameters cell: the folder whose artifacts we list."""),
    code('evidence_folder = "../sample_data"', metadata={"tags": ["parameters"]}),
    code("""import forensics
from forensics.artifact import inventory

print("forensics", forensics.__version__)"""),
    md("""## What is in the evidence folder?

`inventory` sniffs each file's *content* (magic bytes, JSON keys, text markers — never the file name)
and hashes it. `kind` is empty for files that are not evidence (labels, manifests, answers)."""),
    code("""files = inventory(evidence_folder)
files["sha256"] = files["sha256"].str[:12] + "…"
files"""),
    code("""files.groupby("kind", dropna=False).agg(files=("file", "size"), bytes=("size", "sum"))"""),
    md("""## The sample incidents

Each folder under `sample_data/incidents/` is one staged incident: real services, a real PostgreSQL,
real packet captures, a crashing worker and a leaking service, all on one clock. Open
`00_incident_overview.ipynb` to see one as a single timeline, or `training/` to replay it with questions."""),
    code("""import os, tomllib

incidents_dir = os.path.join(evidence_folder, "incidents")
for name in sorted(os.listdir(incidents_dir)) if os.path.isdir(incidents_dir) else []:
    manifest = os.path.join(incidents_dir, name, "incident.toml")
    if os.path.exists(manifest):
        with open(manifest, "rb") as f:
            title = tomllib.load(f).get("title", "")
        print(f"{name:30s} {title}")"""),
    md("""## Detecting and loading one file

`forensics.detect` says what a file is; `forensics.load` picks the right parser. Whatever goes wrong,
the answer is an `ArtifactError` naming the file, the place in it and the reason — never a traceback
from deep inside a parser."""),
    code("""# NBVAL_CHECK_OUTPUT
capture = os.path.join(evidence_folder, "basic", "loopback_http.pcap")
print(forensics.detect(capture))
print(forensics.sniff(capture).format)"""),
    code("""# NBVAL_CHECK_OUTPUT
empty = os.path.join(evidence_folder, "basic", "..", "basic")  # a folder is not evidence
try:
    forensics.detect(empty)
except forensics.ArtifactError as e:
    print("ArtifactError:", e.reason)"""),
    md("""## The same from a shell

```
forensics info sample_data/basic/loopback_http.pcap           # kind, format, size, sha256, warnings
forensics pcap summary capture.pcap --format json             # retransmissions and friends
forensics traces deps traces.json --format json               # service dependency edges
forensics pgss rank after.csv --baseline before.csv --top 10  # what hurt, over the interval
forensics crash classify crashes/*.txt --format json          # what killed each process
forensics heap diff before.heapsnapshot after.heapsnapshot    # what grew
forensics report sample_data/incidents/<name> -o report.html  # the postmortem, readable without Python
```

Every command takes `--format table|csv|json`."""),
]
nb = nbf.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
nbf.write(nb, "notebooks/00_start_here.ipynb")
