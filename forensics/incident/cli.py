"""``forensics incident load|timeline|links FOLDER`` and ``forensics report FOLDER -o report.html``."""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING

# pandas and the incident's modules are imported by the commands: every `forensics` command imports this
# module to build its parser
if TYPE_CHECKING:
    import pandas as pd

TIMELINE_COLUMNS = ["time", "artifact", "artifact_kind", "kind", "service", "host", "severity", "detail",
                    "crash_class", "ref", "time_source"]


def iso_utc(ts: pd.Series) -> pd.Series:
    """ISO 8601 UTC text (``2026-11-26T06:10:53.468835Z``); missing stays missing."""
    out = ts.dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return out.where(ts.notna(), None)


def _open(args):
    from .views import open_incident

    return open_incident(args.folder)


def cmd_load(args):
    """One row per file: kind, status, warnings, error, size, sha256."""
    inc = _open(args)
    cols = ["file", "kind", "artifact_kind", "status", "warnings", "error", "size", "sha256", "parser"]
    return inc.load_report[cols]


def cmd_timeline(args):
    inc = _open(args)
    tl = inc.timeline
    if args.kind:
        tl = tl[tl["kind"].isin(args.kind)]
    if args.min_severity:
        from .timeline import SEVERITY_ORDER

        tl = tl[tl["severity"].map(SEVERITY_ORDER).fillna(0) >= SEVERITY_ORDER[args.min_severity]]
    _notes(inc)
    out = tl[TIMELINE_COLUMNS].copy()
    out["time"] = iso_utc(tl["time"])
    return out.reset_index(drop=True)


def cmd_links(args):
    inc = _open(args)
    links = [l for l in inc.links if l["confidence"] >= args.min_confidence]
    _notes(inc)
    if args.format == "json":
        return [{"a": l["a"], "b": l["b"], "type": l["type"], "basis": l.get("basis"), "reason": l["reason"],
                 "confidence": l["confidence"]} for l in links]
    import pandas as pd

    cols = ["a_kind", "a_ref", "b_kind", "b_ref", "type", "basis", "confidence", "reason"]
    return pd.DataFrame([{"a_kind": l["a"]["artifact_kind"], "a_ref": l["a"]["ref"], "b_kind": l["b"]["artifact_kind"],
                          "b_ref": l["b"]["ref"], "type": l["type"], "basis": l.get("basis"),
                          "confidence": l["confidence"], "reason": l["reason"]} for l in links], columns=cols)


def _notes(inc) -> None:
    """What could not be analysed or joined, or is out of place, on stderr (the output stays data)."""
    for note in inc.notes:
        print(f"forensics: note: {note}", file=sys.stderr)


def cmd_report(args):
    from .report import write_report  # matplotlib and every kind's analysis: only for `forensics report`

    out = write_report(args.folder, args.output, pdf=args.pdf)
    return {"report": out["path"], "pdf": out.get("pdf"), "bytes": out["bytes"], "sections": out["sections"],
            "chain": out["chain"], "not_covered": out["not_covered"],
            "seconds": round(out["timings"]["total"], 1)}


def register(sub, common) -> None:
    p = sub.add_parser("incident", help="an incident folder: load report, one timeline, cross-artifact links")
    s = p.add_subparsers(dest="incident_command", metavar="COMMAND")
    s.required = True
    q = s.add_parser("load", parents=[common], help="load every artifact; one row per file with its status")
    q.add_argument("folder", metavar="FOLDER")
    q.set_defaults(func=cmd_load)
    q = s.add_parser("timeline", parents=[common], help="one row per event from every artifact, in UTC")
    q.add_argument("folder", metavar="FOLDER")
    q.add_argument("--kind", action="append", help="only these event kinds (repeatable), e.g. crash, reset")
    q.add_argument("--min-severity", choices=["info", "warning", "error", "critical"])
    q.set_defaults(func=cmd_timeline)
    q = s.add_parser("links", parents=[common], help="cross-artifact links with confidence and reason")
    q.add_argument("folder", metavar="FOLDER")
    q.add_argument("--min-confidence", type=float, default=0.0)
    q.set_defaults(func=cmd_links)

    r = sub.add_parser("report", parents=[common], help="the incident's postmortem: one self-contained HTML page")
    r.add_argument("folder", metavar="FOLDER")
    r.add_argument("-o", "--output", default="report.html", help="HTML file to write (default: report.html)")
    r.add_argument("--pdf", metavar="FILE", help="also print it to this PDF (headless Chromium)")
    r.set_defaults(func=cmd_report)
