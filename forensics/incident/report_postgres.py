"""The postmortem's sections for PostgreSQL's "why" evidence: EXPLAIN plans, server logs, activity snapshots.

One builder per kind, each filling a section (the ``Section`` of :mod:`.report_sections`, handed in
with its ``png_of`` so this module stays below it in the import graph) from the kind's own analysis:

- a plan (:mod:`forensics.postgres.plan_analysis`): the hot node by exclusive time, the worst row
  misestimate, the other findings, the node table and the exclusive-time bars (the notebook's view);
- a server log (:mod:`forensics.postgres.log_analysis`): a pgBadger-like summary — errors by SQLSTATE,
  slowest statements, lock waits and their outcome, deadlocks, checkpoints, temp files, auto_explain;
- an activity / locks snapshot (:mod:`forensics.postgres.activity`): the blocking tree, who holds it,
  idle-in-transaction sessions, long-running queries.

Every sentence is computed from the artifact; where the file cannot decide (no ANALYZE, a setting that
was off, a snapshot without a clock) the sentence says ``unknown`` and why.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..display import duration, size, timestamp
from ..postgres import log_analysis, plots as postgres_plots
from ..postgres.activity import blocking_tree, edges, idle_in_transaction, long_running
from ..postgres.hooks import matching_statements
from ..postgres.plan_analysis import THRESHOLDS, findings as plan_findings, hot_path

#: plans drawn per file, rows per table
PLANS_SHOWN = 5
LOG_PLANS_DRAWN = 3
TOP = 10
LONG_RUNNING = "1min"
TITLES = {"pg_plan": "PostgreSQL plan", "pg_log": "PostgreSQL server log", "pg_activity": "PostgreSQL activity"}


def title(art) -> str:
    return f"{TITLES[art.kind]} {art.file}"


def fill(s, inc, art, png_of):
    """Fill section ``s`` for a pg_plan, pg_log or pg_activity artifact; returns ``s``."""
    {"pg_plan": plan_section, "pg_log": log_section, "pg_activity": activity_section}[art.kind](s, inc, art, png_of)
    return s


def one_line(text, n: int = 200) -> str:
    t = " ".join(str(text).split())
    return t if len(t) <= n else t[: n - 1] + "…"


def _line(v) -> str:
    return f" (line {int(v)})" if v is not None and pd.notna(v) else ""


def _ms(v) -> str:
    return duration(v, "ms")


# --------------------------------------------------------------------------- plans
def node_label(r) -> str:
    text = r["node_text"] if isinstance(r["node_text"], str) else str(r["node_type"])
    for key, word in (("relation", "on"), ("index", "using")):
        v = r.get(key)
        if isinstance(v, str) and v not in text:
            text += f" {word} {v}"
    return text


def plan_nodes_table(nodes: pd.DataFrame, plan: int) -> pd.DataFrame:
    """The plan's nodes in plan order, with the hot path marked (the notebook's tree, as a table)."""
    g = nodes[nodes["plan"] == plan]
    hot = set(hot_path(nodes, plan)) if g["exclusive_ms"].notna().any() else set()
    out = pd.DataFrame({
        "node": g["id"].astype(int),
        "plan node": ["· " * int(d) + node_label(r) for d, (_, r) in zip(g["depth"].fillna(0), g.iterrows())],
        "rows_planned": g["plan_rows"], "rows_actual": g["actual_rows"], "loops": g["loops"],
        "inclusive_ms": g["inclusive_ms"], "exclusive_ms": g["exclusive_ms"],
        "misestimate (×)": g["misestimate"], "hot path": ["yes" if i in hot else "" for i in g["id"]],
        "line": g["source"]})
    return out.dropna(axis=1, how="all").reset_index(drop=True)


def _misestimate_sentence(g: pd.DataFrame, finds: list[dict]) -> str:
    mis = [f for f in finds if f["code"] == "misestimate"]
    if mis:
        return "Worst row misestimate: " + mis[0]["text"] + "."
    if g["actual_rows"].isna().all():
        return ("Row misestimates: unknown — the plan has no actual row counts (EXPLAIN without ANALYZE, or a "
                "node line without 'actual').")
    m = g["misestimate"].abs()
    if m.notna().any():
        r = g.loc[m.idxmax()]
        return (f"No node's rows per loop are {THRESHOLDS['misestimate']:.0f}× or more off its estimate; the "
                f"largest gap is {abs(r['misestimate']):,.1f}× at {node_label(r)}{_line(r['source'])}.")
    return "Row misestimates: unknown — no node has both an estimate and an actual row count."


def _pgss_matches(inc, dump) -> list[str]:
    out = []
    for a in inc.loaded("postgres"):
        if a.kind != "pg_stat_statements":
            continue
        m = matching_statements(dump, a.result.statements)
        for r in m.head(3).itertuples():
            out.append(f"Plan {int(r.plan) + 1}'s statement has the same fingerprint as queryid {r.queryid} in "
                       f"{a.file} ({int(r.calls):,} call(s), {_ms(r.total_exec_time)} of execution in that dump's counters)")
    return out


def describe_plan(s, dump, pno: int, mine: list[dict], png_of):
    """One plan of a PlanDump (a pasted EXPLAIN or a log's auto_explain plan) into section ``s``."""
    nodes = dump.nodes
    p = dump.plans[dump.plans["plan"] == pno].iloc[0]
    g = nodes[nodes["plan"] == pno]
    head = f"Plan {pno + 1} ({len(g):,} nodes)"
    q = p["query_text"] if isinstance(p["query_text"], str) and p["query_text"].strip() else None
    head += f" of: {one_line(q)}" if q else ": the statement text is not in the file"
    facts = []
    if isinstance(p.get("time"), pd.Timestamp) and pd.notna(p["time"]):
        facts.append(f"logged at {timestamp(p['time'])} UTC" + (f" by pid {p['pid']}" if pd.notna(p["pid"]) else ""))
    if pd.notna(p["execution_ms"]):
        facts.append(f"execution time {_ms(p['execution_ms'])}")
    elif pd.notna(p.get("duration_ms", np.nan)):
        facts.append(f"duration {_ms(p['duration_ms'])} (auto_explain)")
    else:
        facts.append("execution time unknown (no 'Execution Time' line: EXPLAIN without ANALYZE, or cut)")
    if pd.notna(p["planning_ms"]):
        facts.append(f"planning {_ms(p['planning_ms'])}")
    if not p["analyze"]:
        facts.append("estimates only (no ANALYZE): times, actual rows and spills are unknown")
    s.p(head + " — " + "; ".join(facts) + ".")
    hot = next((f for f in mine if f["code"] == "hot_node"), None)
    s.p("Hot node (most exclusive time): " + (hot["text"] if hot else "unknown — the plan has no per-node times")
        + ".")
    s.p(_misestimate_sentence(g, mine))
    rest = [f"{f['code']}: {f['text']}" for f in mine if f["code"] not in ("hot_node", "misestimate")]
    if rest:
        s.items(rest)
    else:
        s.p("No other finding (filtering seq scans, spills to disk, nested loops over a misestimate, nodes never "
            "executed) in this plan.")
    s.table(plan_nodes_table(nodes, pno), f"Plan {pno + 1}: nodes in plan order ('· ' per level; times summed over "
                                          f"loops; misestimate below zero = fewer rows than planned)", max_rows=25)
    if g["exclusive_ms"].notna().any() and g["exclusive_ms"].max() > 0:
        s.attempt(f"Plan {pno + 1} figure", lambda: s.figure(
            png_of(lambda: postgres_plots.plan_bars(nodes, pno)),
            f"Plan {pno + 1}: each node's exclusive time (time in the node itself, children excluded)."))


def plans_table(dump, finds: list[dict]) -> pd.DataFrame:
    """One row per plan: when, how long, the statement, the hot node and the other findings' codes."""
    rows = []
    for p in dump.plans.itertuples():
        mine = [f for f in finds if f["plan"] == p.plan]
        hot = next((f["text"] for f in mine if f["code"] == "hot_node"), "unknown (no per-node times)")
        rows.append({"plan": int(p.plan) + 1, "time": getattr(p, "time", None), "pid": getattr(p, "pid", None),
                     "duration_ms": p.duration_ms if pd.notna(p.duration_ms) else p.execution_ms,
                     "query": one_line(p.query_text) if isinstance(p.query_text, str) else None, "hot node": hot,
                     "findings": ", ".join(sorted({f["code"] for f in mine if f["code"] != "hot_node"})) or None})
    out = pd.DataFrame(rows)
    out["time"] = pd.to_datetime(out["time"], utc=True)
    return out.dropna(axis=1, how="all")


def plan_section(s, inc, art, png_of):
    dump = art.result
    finds = plan_findings(dump)
    s.p(f"{len(dump.plans):,} plan(s), {len(dump.nodes):,} node(s), read as {dump.provenance.format or dump.form}.")
    if len(dump.plans) > 1:
        s.table(plans_table(dump, finds), "Every plan in the file")
    for pno in dump.plans["plan"].head(PLANS_SHOWN):
        describe_plan(s, dump, int(pno), [f for f in finds if f["plan"] == pno], png_of)
    if len(dump.plans) > PLANS_SHOWN:
        s.p(f"Plans {PLANS_SHOWN + 1}–{len(dump.plans)} are listed in the table above, not drawn.")
    s.items(_pgss_matches(inc, dump))


# --------------------------------------------------------------------------- server logs
def lock_wait_outcomes(entries: pd.DataFrame) -> pd.DataFrame:
    """One row per waiting process and lock: the longest wait logged and how it ended (from its later lines)."""
    lw = log_analysis.lock_waits(entries)
    if lw.empty:
        return pd.DataFrame(columns=["pid", "lock_mode", "lock_target", "first_logged", "longest_wait_ms",
                                     "holders", "outcome", "query"])
    rows = []
    for (pid, target), g in lw.groupby(["pid", "lock_target"], sort=False, dropna=False):
        evs = set(g["event"])
        outcome = ("acquired" if "lock_acquired" in evs else "deadlock detected while waiting" if "deadlock_wait" in evs
                   else "unknown: no later line says it was acquired (still waiting when the log ends, or cancelled)")
        holders = ",".join(dict.fromkeys(x for h in g["holders"].dropna() for x in str(h).split(",")))
        rows.append({"pid": pid, "lock_mode": g["lock_mode"].iloc[0], "lock_target": target,
                     "first_logged": g["time"].min(), "longest_wait_ms": g["wait_ms"].max(),
                     "holders": holders or None, "outcome": outcome, "query": g["query"].dropna().head(1).squeeze()
                     if g["query"].notna().any() else None})
    return pd.DataFrame(rows).sort_values("longest_wait_ms", ascending=False).reset_index(drop=True)


def _freq(e: pd.DataFrame) -> str:
    t = e["time"].dropna()
    span = (t.max() - t.min()).total_seconds() if len(t) else 1.0
    return f"{max(1, int(np.ceil(span / 60)))}s"


def log_section(s, inc, art, png_of):
    log = art.result
    e = log.entries
    st = log_analysis.summary(log)
    when = (f"from {timestamp(st['first'])} to {timestamp(st['last'])} UTC" if pd.notna(st["first"])
            else "with no timestamps (the log_line_prefix has no %m/%t): times unknown")
    s.p(f"{st['entries']:,} entries ({log.form}) {when}: {st['slow_statements']:,} duration line(s), "
        f"{st['errors']:,} error(s), {st['lock_waits']:,} lock wait(s), {st['deadlocks']:,} deadlock(s), "
        f"{st['temp_files']:,} temp file(s) ({size(st['temp_bytes'])}), {st['checkpoints']:,} checkpoint(s), "
        f"{st['connections']:,} connection(s), {st['auto_explain_plans']:,} auto_explain plan(s).")
    if e["time"].notna().any():
        s.attempt("Events over time", lambda: s.figure(
            png_of(lambda: postgres_plots.log_events_over_time(e, freq=_freq(e))),
            f"What the server logged per {_freq(e)}, by kind of entry."))
    # errors by SQLSTATE
    err = log_analysis.errors_by_sqlstate(log)
    if len(err):
        src = err.groupby("code_source")["count"].sum().to_dict()
        s.p(f"Errors by SQLSTATE: {int(err['count'].sum()):,} ERROR/FATAL/PANIC entries under {len(err):,} code(s); "
            + ", ".join(f"{n:,} with the code {k}" for k, n in src.items()) + ".")
        s.table(err[["code", "severity", "count", "code_source", "example", "first", "last"]],
                "Errors by SQLSTATE (code logged by the server, or inferred from an unambiguous message)")
    else:
        s.p("No ERROR, FATAL or PANIC entry in the log.")
    # slowest statements
    shapes = log_analysis.top_statements(log, by="total_ms", top=None)
    top = shapes.head(TOP)
    if len(top):
        worst = shapes.sort_values("max_ms", ascending=False).iloc[0]
        s.p(f"Slowest statements: {int(shapes['count'].sum()):,} logged execution(s) (duration lines and auto_explain, "
            f"one execution logged by both counted once), {_ms(shapes['total_ms'].sum())} in all, in {len(shapes):,} "
            f"statement shape(s); the longest single one took "
            f"{_ms(worst['max_ms'])}: {one_line(worst['query'] if isinstance(worst['query'], str) else worst['fingerprint'])}. "
            f"Only statements the server chose to log are counted (log_min_duration_statement / auto_explain "
            f"thresholds, which the log does not record).")
        s.table(top[["query", "count", "total_ms", "mean_ms", "max_ms", "first", "last"]],
                "Statements by total logged duration (grouped by statement shape)")
    else:
        s.p("Slowest statements: unknown — the log has no statement duration (log_min_duration_statement and "
            "auto_explain off, or nothing crossed their thresholds).")
    # lock waits
    waits = lock_wait_outcomes(e)
    if len(waits):
        s.items(f"pid {r.pid} waited for {r.lock_mode} on {r.lock_target}"
                + (f" held by pid {r.holders}" if isinstance(r.holders, str) else " (holder not logged)")
                + f": {_ms(r.longest_wait_ms)} at the longest line; {r.outcome}"
                + (f" — {one_line(r.query, 120)}" if isinstance(r.query, str) else "")
                for r in waits.head(TOP).itertuples())
        s.table(waits, "Lock waits (log_lock_waits lines after deadlock_timeout), one row per process and lock")
    else:
        s.p("Lock waits: none logged — either none lasted deadlock_timeout, or log_lock_waits was off (the log "
            "cannot say which).")
    dl = log_analysis.deadlocks(log)
    if len(dl):
        s.items(f"{timestamp(r.time)} UTC: deadlock between pids {r.deadlock_pids} ({r.lock_mode} on "
                f"{r.lock_target}); pid {r.pid} detected it and its statement was cancelled: "
                f"{one_line(r.query, 120) if isinstance(r.query, str) else 'statement not logged'}"
                for r in dl.itertuples())
        s.table(dl[["time", "pid", "deadlock_pids", "lock_mode", "lock_target", "deadlock_statements"]],
                "Deadlocks, with every process's statement from the DETAIL lines")
    # checkpoints and temp files
    ck = log_analysis.checkpoints(log)
    if len(ck):
        r = ck.loc[ck["total_s"].idxmax()]
        s.p(f"Checkpoints: {len(ck):,} completed, {int(ck['buffers_written'].sum()):,} buffers written in all; the "
            f"longest took {duration(r['total_s'])} ({int(r['buffers_written']):,} buffers, write "
            f"{duration(r['write_s'])}, sync {duration(r['sync_s'])}) at {timestamp(r['time'])} UTC.")
        s.table(ck[["time", "reason", "buffers_written", "write_s", "sync_s", "total_s"]], "Checkpoints")
    else:
        s.p("Checkpoints: none logged — unknown whether any ran (the log records them only with log_checkpoints on).")
    tf = log_analysis.temp_files_per_hour(log)
    if len(tf):
        s.p(f"Temp files: {int(tf['files'].sum()):,} written, {size(tf['bytes'].sum())} in all, the largest "
            f"{size(tf['largest'].max())} (work_mem too small for those sorts and hashes).")
        s.table(tf, "Temp files per hour")
    if log.plans is not None and len(log.plans.plans):
        dump = log.plans
        finds = plan_findings(dump)
        t = plans_table(dump, finds).sort_values("duration_ms", ascending=False, na_position="last")
        warned = {f["plan"] for f in finds if f["severity"] == "warning"}
        pick = [int(n) - 1 for n in t["plan"] if int(n) - 1 in warned][:LOG_PLANS_DRAWN] or [int(t["plan"].iloc[0]) - 1]
        s.p(f"auto_explain plans logged: {len(t):,}, {len(warned):,} with a warning finding; drawn below: "
            + ", ".join(f"plan {n + 1}" for n in pick)
            + (" (the ones with warning findings, longest first)." if pick[0] in warned else
               " (the longest; no plan has a warning finding)."))
        s.table(t, "auto_explain plans, longest first", max_rows=TOP)
        for pno in pick:
            describe_plan(s, dump, pno, [f for f in finds if f["plan"] == pno], png_of)


# --------------------------------------------------------------------------- activity / locks
def _age(v) -> str | None:
    return duration(v) if isinstance(v, pd.Timedelta) and pd.notna(v) else None


def activity_section(s, inc, art, png_of):
    snap = art.result
    n = lambda d: 0 if d is None else len(d)  # noqa: E731
    now = snap.snapshot_time
    s.p(f"Snapshot with {n(snap.activity):,} session(s), {n(snap.locks):,} lock row(s), {n(snap.pairs):,} blocking "
        f"pair(s); its time: " + (f"{timestamp(now)} UTC, from {snap.snapshot_time_source}" if now is not None
                                  else "unknown (no now() column and no timestamps): ages are unknown") + ".")
    ed = edges(snap)
    tree = blocking_tree(snap)
    if ed.empty:
        s.p("Nobody was blocked at the snapshot" + (f" (evidence read: {', '.join(_evidence(snap))})." if
                                                   _evidence(snap) else "."))
    else:
        s.p(f"{ed['waiter'].nunique():,} session(s) waited on {ed['holder'].nunique():,} holder(s); edges from "
            f"{', '.join(sorted(set(ed['evidence'])))}.")
        lines = []
        for root, g in tree[tree["root"].notna()].groupby("root", sort=False):
            r0 = g[g["depth"] == 0].iloc[0]
            state = r0.get("state") if isinstance(r0.get("state"), str) else "state unknown"
            age = _age(r0.get("xact_age"))
            line = (f"pid {int(root)} ({state}" + (f", application {r0['application_name']}"
                                                  if isinstance(r0.get("application_name"), str) else "")
                    + f") blocks {len(g) - 1:,} session(s), {int(g['depth'].max()):,} level(s) deep"
                    + (f"; its transaction had been open {age} at the snapshot" if age else "")
                    + (f": {one_line(r0['query'], 140)}" if isinstance(r0.get("query"), str) else ""))
            if state.startswith("idle in transaction"):
                line += " — idle in transaction: its last statement ended and it holds its locks until the client " \
                        "commits or rolls back"
            lines.append(line)
            for _, w in g[g["depth"] > 0].iterrows():
                wait = "/".join(str(w.get(c)) for c in ("wait_event_type", "wait_event") if isinstance(w.get(c), str))
                lines.append(f"   pid {int(w['pid'])} waits behind {w['blocked_by']}"
                             + (f" ({wait})" if wait else "") + (f" for {_age(w.get('query_age'))}"
                                                                 if _age(w.get("query_age")) else "")
                             + (f": {one_line(w['query'], 120)}" if isinstance(w.get("query"), str) else ""))
        cyc = tree[tree.get("cycle", pd.Series(False, index=tree.index)).fillna(False).astype(bool)] \
            if "cycle" in tree else tree.iloc[0:0]
        if len(cyc):
            lines.append(f"pids {', '.join(map(str, cyc['pid']))} wait on one another in a cycle (a deadlock the "
                         f"server had not yet broken at the snapshot)")
        s.items(lines)
        view = tree.assign(root=tree["root"].map(lambda v: str(int(v)) if pd.notna(v) else None))
        if "wait_event_type" in view:  # one column, so the statement keeps its width
            view["waiting on"] = [("/".join(str(x) for x in (a, b) if isinstance(x, str)) or None)
                                  for a, b in zip(view["wait_event_type"], view.get("wait_event", view["wait_event_type"]))]
        show = [c for c in ("root", "pid", "depth", "blocked_by", "blocks", "state", "waiting on", "application_name",
                            "xact_age", "query") if c in view]
        s.table(view[show], "Blocking tree (depth 0 = the root blocker)", max_colwidth=90)
        s.items(_log_corroboration(inc, tree))
    idle = idle_in_transaction(snap)
    if snap.activity is None or "state" not in snap.activity:
        s.p("Idle-in-transaction sessions: unknown — the snapshot has no pg_stat_activity state column.")
    elif len(idle):
        s.p(f"{len(idle):,} session(s) idle in transaction, {int(idle['blocks_others'].sum()):,} of them blocking "
            f"others.")
        show = [c for c in ("pid", "application_name", "state", "xact_age", "blocks_others", "query") if c in idle]
        s.table(idle[show], "Idle-in-transaction sessions")
    else:
        s.p("No session was idle in transaction.")
    if now is None or snap.activity is None or "query_start" not in snap.activity:
        s.p("Long-running queries: unknown — needs query_start and the snapshot's time.")
    else:
        lr = long_running(snap, LONG_RUNNING)
        if len(lr):
            s.p(f"{len(lr):,} active query/queries running {LONG_RUNNING} or more; the longest for "
                f"{duration(lr['runtime'].iloc[0])}.")
            show = [c for c in ("pid", "application_name", "runtime", "wait_event_type", "wait_event", "query")
                    if c in lr]
            s.table(lr[show], f"Active queries running {LONG_RUNNING} or more at the snapshot")
        else:
            s.p(f"No active query had been running {LONG_RUNNING} or more at the snapshot.")


def _evidence(snap) -> list[str]:
    out = []
    if snap.activity is not None:
        out.append("pg_stat_activity" + (" with pg_blocking_pids" if "blocked_by" in snap.activity else ""))
    if snap.pairs is not None:
        out.append("blocking pairs")
    if snap.locks is not None:
        out.append("pg_locks")
    return out


def _log_corroboration(inc, tree) -> list[str]:
    """Server logs of the incident that name the snapshot's root blockers as lock holders."""
    roots = {str(int(r)) for r in tree["root"].dropna()}
    out = []
    for a in inc.loaded("postgres"):
        if a.kind != "pg_log":
            continue
        lw = log_analysis.lock_waits(a.result)
        for r in lw.itertuples():
            named = set(str(r.holders).split(",")) & roots if isinstance(r.holders, str) else set()
            if named:
                out.append(f"{a.file} line {r.source} ({timestamp(r.time)} UTC): pid {r.pid} waiting for "
                           f"{r.lock_mode} on {r.lock_target} held by pid {', '.join(sorted(named))} — the "
                           f"snapshot's root blocker")
    return out[:TOP]
