"""``forensics report FOLDER -o report.html``: the incident's postmortem as one self-contained HTML page.

Built in-process from the incident (no notebook is run): the summary first (what happened — the
causal chain in one sentence — and the impact: failed and slow requests, crashes, the window),
then the causal chain with the evidence and confidence of each link, the timeline figure, one
section per artifact with its key figure and table (drawn with the kinds' own plot functions),
the open questions, and the provenance appendix (file, size, SHA-256, parser, warnings; paths
relative to the incident). Every sentence about the data is computed from it
(:mod:`.postmortem`, :mod:`.report_sections`); the page has no script and loads nothing
(:mod:`.report_html`). ``pdf=`` also prints it to PDF with headless Chromium when one is installed.

>>> write_report("sample_data/incidents/checkout-latency", "report.html")   # doctest: +SKIP
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time

from .. import __version__
from ..display import html_table
from . import postmortem, report_html
from .notebook_plan import OVERVIEW, notebook_parameters, plan  # noqa: F401  (the notebooks' parameters)
from .plots import plot_timeline
from .report_sections import artifact_sections, png_of
from .timeline import key_events
from .views import open_incident

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]

METHOD = [
    "Artifacts are opened read-only and hashed (SHA-256) before parsing; a file that is cut short loads what is "
    "valid, with a located warning.",
    "The timeline puts every artifact's events on one UTC clock; an event's time comes from the artifact's own "
    "content first, then the manifest, then the file's modification time (flagged in 'time source').",
    "The causal chain lists the artifacts with error or critical events in time order. A step is joined to an "
    "earlier one only by the incident's links (shared identifiers, endpoints, statements, time windows), each with "
    "its confidence (0–1) and reason; steps without a link are ordered by time only.",
    "Failed requests are traces whose root span has an error; slow requests are the others whose duration exceeds "
    "the incident's slow threshold for the trace set (a multiple of its 25th percentile).",
    "pg_stat_statements figures cover the interval between two snapshots when the incident has two; a single "
    "snapshot's counters run since the last reset.",
    "Tables show the first rows only (the count of the rest is given); long text is cut in the middle, with the "
    "full text on hover.",
]


def _say(msg: str):
    print(f"forensics report: {msg}", file=sys.stderr, flush=True)


def build(inc) -> tuple[str, dict]:
    """The HTML page of ``inc`` and what went into it (sections, coverage, timings in seconds)."""
    timings = {}
    t = time.perf_counter()
    tl = inc.timeline
    links = inc.links
    timings["timeline+links"] = time.perf_counter() - t
    t = time.perf_counter()
    steps = postmortem.causal_chain(inc)
    impact = postmortem.impact(inc)
    timings["chain+impact"] = time.perf_counter() - t
    t = time.perf_counter()
    sections, coverage = artifact_sections(inc)
    timings["sections"] = time.perf_counter() - t
    t = time.perf_counter()
    questions = postmortem.open_questions(inc, steps, coverage)
    covered = [f for f, why in coverage.items() if why is None]
    summary = [f"<p><b>What happened</b> (computed from the evidence): "
               f"{report_html.esc(postmortem.chain_statement(steps))}</p>",
               "<ul>" + "".join(f"<li>{report_html.esc(x)}</li>" for x in impact) + "</ul>",
               f"<p>{len(inc.artifacts):,} file(s) in the incident; {len(covered):,} analysed in a section below"
               + (f"; not analysed: {report_html.esc(', '.join(f for f, w in coverage.items() if w))} (see Open "
                  f"questions)" if len(covered) < len(coverage) else "") + f"; {len(links):,} cross-artifact "
               f"link(s); {len(tl):,} timeline event(s).</p>"]
    if inc.summary:
        summary.append(f"<p>The incident's own note (from its manifest, not computed):</p>"
                       f"<blockquote>{report_html.esc(inc.summary)}</blockquote>")
    tl_html = []
    try:
        tl_html.append(report_html.figure(png_of(lambda: plot_timeline(inc)),
                                          "One lane per service and artifact kind; marker = event kind, colour = "
                                          "severity; dotted lines are the manifest's events."))
    except Exception as e:
        tl_html.append(f"<p>The timeline figure could not be drawn ({report_html.esc(type(e).__name__)}: "
                       f"{report_html.esc(e)}).</p>")
    if len(tl):
        key = key_events(tl, 20)[["time", "severity", "kind", "service", "artifact", "detail"]]
        tl_html.append("<p><b>Error and critical events</b> (one per kind, service and artifact)</p>"
                       + html_table(key, max_rows=20, max_colwidth=220))
    timings["timeline figure"] = time.perf_counter() - t
    meta = report_html.generated_note(inc, __version__)
    page = report_html.page(f"Postmortem: {inc.title}", meta, "".join(summary), report_html.chain_html(steps),
                            "".join(tl_html), sections, questions, postmortem.provenance_table(inc), METHOD)
    return page, {"steps": steps, "sections": [s.title for s in sections], "coverage": coverage,
                  "questions": questions, "timings": timings}


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


def print_pdf(html_path: str, pdf_path: str, timeout: int = 120) -> None:
    """Print the page to PDF with headless Chromium (``chromium --print-to-pdf``)."""
    exe = chromium()
    if exe is None:
        raise RuntimeError("PDF export needs Chromium (chromium --print-to-pdf); it is not installed")
    with tempfile.TemporaryDirectory(prefix="forensics-chromium-") as profile:
        r = subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--no-pdf-header-footer",
                            f"--print-to-pdf={os.path.abspath(pdf_path)}", f"file://{os.path.abspath(html_path)}"],
                           capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0 or not os.path.exists(pdf_path):
        raise RuntimeError(f"chromium --print-to-pdf failed ({r.returncode}): {r.stderr.strip()[-300:]}")


def write_report(folder, output="report.html", pdf: str | None = None, **_ignored) -> dict:
    """Write the postmortem of ``folder`` to ``output`` (and to ``pdf`` when given); returns what went in."""
    t0 = time.perf_counter()
    _say("loading the incident")
    inc = open_incident(folder)
    t1 = time.perf_counter()
    _say("analysing and drawing")
    page, info = build(inc)
    with open(output, "w", encoding="utf-8") as f:
        f.write(page)
    info["timings"] = {"load": t1 - t0, **info["timings"], "total": time.perf_counter() - t0}
    _say(f"wrote {output} ({len(page.encode()):,} bytes) in {info['timings']['total']:.1f} s")
    out = {"path": os.path.abspath(output), "bytes": len(page.encode()), "sections": info["sections"],
           "not_covered": {f: w for f, w in info["coverage"].items() if w}, "timings": info["timings"],
           "chain": [s.artifact for s in info["steps"]]}
    if pdf:
        print_pdf(output, pdf)
        out["pdf"] = os.path.abspath(pdf)
        _say(f"wrote {pdf}")
    return out
