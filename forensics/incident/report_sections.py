"""One section per artifact of the postmortem: its key figures and tables, drawn with the kinds' own code.

A section is a list of blocks — ``("p", text)``, ``("list", [text, ...])``, ``("table", frame, caption)``,
``("figure", png_bytes, caption)`` — rendered by :mod:`.report_html`. Every sentence is computed
from the artifact (or comes from the kind's own analysis, e.g. ``network.analysis.diagnose``); a
figure or table that cannot be made says so, with the reason, instead of stopping the report.
Widget views of the notebooks become static figures here: the worst flow's time-sequence graph,
the slowest and the first failing trace, the crash thread's stack.
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass, field

import pandas as pd

from ..crashes import plots as crash_plots
from ..display import duration, readable_axes, size, timestamp
from ..memory import plots as memory_plots
from ..memory.diff import heap_diff
from ..network import analysis as network_analysis
from ..network import plots as network_plots
from ..postgres import plots as postgres_plots
from ..postgres.analysis import delta, rank
from ..traces import analysis as traces_analysis
from ..traces import plots as traces_plots
from . import report_postgres
from .postmortem import request_stats
from .timeline import pgss_pairs

TOP = 10


@dataclass
class Section:
    title: str
    anchor: str
    artifacts: list[str]
    blocks: list = field(default_factory=list)

    def p(self, text):
        self.blocks.append(("p", str(text)))

    def items(self, lines):
        lines = [str(x) for x in lines if str(x).strip()]
        if lines:
            self.blocks.append(("list", lines))

    def table(self, frame, caption, **kw):
        self.blocks.append(("table", frame, caption, kw))

    def figure(self, png, caption):
        self.blocks.append(("figure", png, caption))

    def attempt(self, what, fn):
        """Run one block builder; a failure becomes a sentence saying what could not be made and why."""
        try:
            fn()
        except Exception as e:
            self.p(f"{what}: could not be made ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}).")


def png_of(draw) -> bytes:
    """Call ``draw()`` (which draws into a fresh figure) and return that figure as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    try:
        out = draw()
        fig = getattr(out, "figure", None) if out is not None else None
        if fig is None or not hasattr(fig, "savefig"):
            fig = out if hasattr(out, "savefig") else plt.gcf()
        readable_axes(fig)  # no 1e6 offsets on the kinds' figures
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
        return buf.getvalue()
    finally:
        for n in set(plt.get_fignums()) - before:
            plt.close(n)


def _anchor(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


# --------------------------------------------------------------------------- network
def network_section(inc, art) -> Section:
    cap = art.result
    s = Section(f"Network capture {art.file}", _anchor("net-" + art.file), [art.file])
    packets, flows = cap.packets, cap.flows
    s.p(f"{len(packets):,} packets in {len(flows):,} TCP connection(s).")
    s.attempt("Diagnosis", lambda: s.items(str(network_analysis.diagnose(cap)).splitlines()))
    s.attempt("Capture quality", lambda: s.table(pd.DataFrame(
        [{"check": k, "value": v} for k, v in network_analysis.capture_quality(cap).items()]), "Can the capture be trusted?"))
    worst = network_analysis.worst_flows(flows, n=TOP) if len(flows) else pd.DataFrame()
    if not len(worst) and len(flows):
        worst = network_analysis.worst_flows(flows, n=TOP, min_segments=0)
    if len(worst):
        s.table(worst, "Connections by retransmission rate (Wireshark labels per data segment)")
        stream = int(worst["stream"].iloc[0])
        row = worst.iloc[0]
        s.attempt("Time-sequence graph", lambda: s.figure(
            png_of(lambda: network_plots.time_sequence(packets, stream)),
            f"The worst connection, stream {stream} ({row.get('client', '?')} → {row.get('server', '?')}:"
            f"{row.get('server_port', '?')}): segments (blue), ACKs (green), window (grey), retransmissions (red), "
            f"duplicate ACKs (purple)."))
    else:
        s.p("No TCP connection with data in this capture: no time-sequence graph to draw.")
    if len(packets):
        def loss():
            t = pd.to_datetime(packets["time"], utc=True) if "time" in packets else None
            span = (t.max() - t.min()).total_seconds() if t is not None and len(t) else 10.0
            freq = f"{max(100, int(span * 1000 / 120))}ms"
            s.figure(png_of(lambda: network_plots.loss_over_time(network_analysis.loss_timeline(packets, freq))),
                     f"Retransmissions and duplicate ACKs per {freq} against the median ACK RTT.")
        s.attempt("Loss over time", loss)
    return s


# --------------------------------------------------------------------------- traces
def _gantt(s, ts, trace_id, caption):
    s.attempt(f"Trace {trace_id}", lambda: s.figure(png_of(lambda: traces_plots.plot_gantt(ts.trace(trace_id))), caption))


def traces_section(inc, art) -> Section:
    ts = art.result
    s = Section(f"Traces {art.file}", _anchor("traces-" + art.file), [art.file])
    spans = ts.spans
    s.p(f"{spans['trace_id'].nunique():,} traces, {len(spans):,} spans from {spans['service'].nunique():,} "
        f"service(s); {len(ts.orphans):,} orphan span(s), {len(ts.provenance.warnings):,} load warning(s).")
    st = request_stats(ts)
    summary = st["summary"]
    if st["requests"] and st["slow_threshold_us"] is not None:
        s.p(f"{st['failed']:,} of {st['requests']:,} requests failed; {st['slow']:,} more took longer than "
            f"{duration(st['slow_threshold_us'], 'us')}.")
    elif st["requests"]:
        s.p(f"{st['failed']:,} of {st['requests']:,} requests failed; whether it was slow is unknown (one request: "
            f"nothing to compare it with).")
    s.attempt("Service map", lambda: s.figure(png_of(lambda: traces_plots.plot_service_map(traces_analysis.dependency_graph(ts))),
                                              "Service map: arrow width = calls, colour = error rate."))
    s.attempt("Dependencies", lambda: s.table(traces_analysis.dependencies(ts), "Calls between services"))
    causes = st["causes"]
    if len(causes):
        cols = [c for c in ("service", "operation", "message", "failing_traces", "ok_traces", "coverage") if c in causes]
        s.table(causes[cols].head(5), "Where failing requests fail (coverage = share of the failing traces)")
    if len(summary):
        slow = summary.sort_values("duration_us", ascending=False).iloc[0]
        _gantt(s, ts, slow["trace_id"], f"The slowest request: {slow['root_service']} {slow['root_operation']}, "
                                        f"{duration(slow['duration_us'], 'us')}, {int(slow['spans'])} spans, started "
                                        f"{timestamp(slow['start'])} UTC (trace {slow['trace_id']}).")
        failed = summary[summary["root_error"].astype(bool)].sort_values("start")
        if len(failed):
            first = failed.iloc[0]
            _gantt(s, ts, first["trace_id"], f"The first failing request: {first['root_service']} "
                                             f"{first['root_operation']} at {timestamp(first['start'])} UTC, "
                                             f"{duration(first['duration_us'], 'us')} (trace {first['trace_id']}).")
        else:
            s.p("No request failed in this trace set: no failing trace to draw.")
    s.attempt("Findings", lambda: s.items(traces_analysis.findings(ts)))
    return s


# --------------------------------------------------------------------------- postgres
def postgres_section(inc, before, after) -> Section:
    files = [a.file for a in (before, after) if a is not None]
    s = Section(f"PostgreSQL statements {' → '.join(files)}", _anchor("pg-" + "-".join(files)), files)
    cols = ["rank", "query", "calls", "total_exec_time", "mean_exec_time", "share", "findings"]
    if before is not None:
        frame = delta(before.result, after.result)
        s.p(f"What ran between the two snapshots ({before.file} → {after.file}): {len(frame):,} statement(s).")
        what = "over the interval"
    else:
        frame = after.result
        s.p(f"Only one snapshot ({after.file}): the counters are cumulative since the last reset, not the incident's "
            f"interval — a second snapshot taken before would isolate the incident.")
        what = "since the last reset"
    ranked = rank(frame, by="total_exec_time")
    basis = ranked.attrs.get("share_basis", "the statements in the dump")
    s.table(ranked[[c for c in cols if c in ranked]].head(TOP), f"Statements by execution time {what} "
                                                                 f"(share: of {basis})")
    s.attempt("Pareto", lambda: s.figure(png_of(lambda: postgres_plots.pareto(ranked)),
                                         f"Each statement's share of execution time {what} (bars) and the cumulative "
                                         f"share (line), of {basis}."))
    finds = ranked[ranked["findings"].map(lambda f: bool(f) if isinstance(f, (list, tuple)) else False)]
    s.items(f"#{int(r['rank'])} {' '.join(str(r['query']).split())[:160]}: {'; '.join(map(str, r['findings']))}"
            for _, r in finds.head(TOP).iterrows())
    return s


# --------------------------------------------------------------------------- crashes
def crashes_section(inc, art) -> Section:
    res = art.result
    s = Section(f"Crash {art.file}", _anchor("crash-" + art.file), [art.file])
    c = res.crash
    s.p(f"{c.get('signal') or 'No signal'} — class {c.get('class')}"
        + (f" ({c['subclass']})" if c.get("subclass") else "")
        + (f", top own frame {c['top_own_frame']}()" if c.get("top_own_frame") else "")
        + (f": {c['reason']}" if c.get("reason") else "") + ".")
    s.table(crash_plots.crash_table(res.crashes), "Classification")
    stack = crash_plots.crash_stack(res.frames, c.get("file") or art.file)
    s.table(stack, f"The crash thread's stack (thread {c.get('crash_thread')}; own code marked is_own)",
            max_rows=40)
    s.attempt("Next steps", lambda: s.table(crash_plots.next_steps(res.crashes), "What to look at next, per class"))
    return s


# --------------------------------------------------------------------------- memory
def memory_section(inc, arts) -> Section:
    files = [a.file for a in arts]
    s = Section(f"Memory {', '.join(files)}", _anchor("mem-" + "-".join(files)), files)
    diffs = []
    if len(arts) > 1 and not any(getattr(a.result, "is_diff", False) for a in arts):
        diffs.append((" → ".join(files), lambda: heap_diff([a.path for a in arts], top=0)))
    elif len(arts) == 1 and not getattr(arts[0].result, "is_diff", False):
        s.attempt(f"Heap {arts[0].file}", lambda: _one_heap(s, arts[0]))
    else:
        diffs += [(a.file, (lambda a=a: heap_diff([a.path], top=0))) for a in arts]
    for label, make in diffs:
        def one(label=label, make=make):
            d = make()
            s.p(f"{label}: {d.verdict}")
            if not getattr(d, "comparable", True):
                return  # no growth table: the files are not one process at two times
            show = [c for c in ("name", "count_before", "count_after", "count_delta", "bytes_delta", "retained_delta",
                                "leak_candidate") if c in d.table]
            s.table(d.table[show].head(TOP), f"What grew most ({label})")
            s.figure(png_of(lambda: memory_plots.growth_bars(d.table, top=TOP, title=f"Growth per type/site, {label}")),
                     f"Bytes gained per type or allocation site ({label}).")
            leaks = getattr(d, "leaks", None)
            if leaks is not None and len(leaks):  # the leak picker's view, as a table: who holds the growth
                show = [c for c in ("rank", "leak_class", "retained_bytes", "objects", "roots", "owner", "holds",
                                    "retainer_path") if c in leaks]
                s.table(leaks[show].head(5), f"Leak suspects and what retains them ({label})")
        s.attempt(f"Heap diff {label}", one)
    return s


def _one_heap(s: Section, art) -> None:
    """One point in time: what the heap held, largest first — growth needs a second file of the same process."""
    c = art.result.classes
    total, objects = float(c["bytes"].sum()), int(c["count"].sum())
    top = c.sort_values("bytes", ascending=False).head(TOP)
    big = top.iloc[0] if len(top) else None
    share = f" ({big['bytes'] / total:.0%} of it)" if big is not None and total else ""
    s.p(f"{art.file} ({art.result.kind}) holds one point in time: {size(total)} in {objects:,} objects of "
        f"{len(c):,} types or allocation sites; the largest is {big['name'] if big is not None else 'unknown'}"
        f"{share}. Whether anything grew is unknown from one file: growth needs an earlier or later snapshot of "
        f"the same process.")
    show = [col for col in ("name", "readable", "count", "bytes") if col in top]
    s.table(top[show].assign(share=top["bytes"] / total if total else float("nan")),
            f"What the heap held, largest first ({art.file})")


# --------------------------------------------------------------------------- all sections, and what they cover
def artifact_sections(inc) -> tuple[list[Section], dict[str, str | None]]:
    """The sections for every loaded artifact, and {file: None if covered, else why not}."""
    sections, covered = [], {}
    for art in inc.loaded("network"):
        sections.append(_safe(lambda art=art: network_section(inc, art), f"Network capture {art.file}", [art.file]))
    for art in inc.loaded("traces"):
        sections.append(_safe(lambda art=art: traces_section(inc, art), f"Traces {art.file}", [art.file]))
    paired = set()
    for before, after in pgss_pairs(inc):
        if "pg_stat_statements" not in (before.kind, after.kind):
            continue
        paired |= {before.file, after.file}
        sections.append(_safe(lambda b=before, a=after: postgres_section(inc, b, a),
                              f"PostgreSQL statements {before.file} → {after.file}", [before.file, after.file]))
    for art in inc.loaded("postgres"):
        if art.file not in paired and art.kind == "pg_stat_statements":
            sections.append(_safe(lambda art=art: postgres_section(inc, None, art), f"PostgreSQL {art.file}",
                                  [art.file]))
        elif art.kind in report_postgres.TITLES:  # plans, server logs, activity snapshots
            t = report_postgres.title(art)
            sections.append(_safe(lambda art=art, t=t: report_postgres.fill(Section(t, _anchor(t), [art.file]), inc,
                                                                             art, png_of), t, [art.file]))
    for art in inc.loaded("crashes"):
        sections.append(_safe(lambda art=art: crashes_section(inc, art), f"Crash {art.file}", [art.file]))
    groups: dict[tuple, list] = {}
    for art in inc.loaded("memory"):
        groups.setdefault((art.kind, art.meta.get("service")), []).append(art)
    for arts in groups.values():
        arts = sorted(arts, key=lambda a: (a.time is None, a.time, a.file))
        sections.append(_safe(lambda arts=arts: memory_section(inc, arts), f"Memory {', '.join(a.file for a in arts)}",
                              [a.file for a in arts]))
    done = {f for sec in sections for f in sec.artifacts}
    for art in inc.artifacts:
        if art.file in done:
            covered[art.file] = None
        elif art.status == "error":
            covered[art.file] = f"it did not load ({art.error})."
        elif art.status == "skipped":
            covered[art.file] = "it is not evidence this workbench reads."
        else:
            covered[art.file] = f"no report section reads {art.kind or 'this kind of file'} yet."
    return sections, covered


def _safe(build, title, files) -> Section:
    try:
        return build()
    except Exception as e:
        s = Section(title, _anchor(title), files)
        s.p(f"This section could not be made ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}); "
            f"the artifact is still listed in the provenance appendix.")
        return s


def relative_name(inc, path) -> str:
    return os.path.relpath(path, inc.folder) if path else ""
