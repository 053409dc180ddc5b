"""The PostgreSQL kinds in an incident: timeline builders and cross-artifact links (named in ``forensics/kinds.py``).

- :func:`plan_timeline` — auto_explain plans (they carry the log's time) with their hot node; a pasted
  EXPLAIN has no time of its own and gives no event (never a guessed time)
- :func:`activity_timeline` — a snapshot's blocking chains, idle-in-transaction holders and long queries,
  from their own start times to the snapshot's time
- :func:`plan_links` — a plan ↔ the pg_stat_statements row of the same statement (pglast fingerprint)
- :func:`lock_wait_links` — a logged lock wait ↔ trace spans running that statement during the wait

The log's own builder is :func:`forensics.postgres.log_analysis.timeline`.
"""
from __future__ import annotations

import re

import pandas as pd

COLUMNS = ["time", "end", "kind", "severity", "detail", "ref", "source_rows", "service", "host"]
_EXPLAIN = re.compile(r"^\s*EXPLAIN\s*(?:\([^)]*\)|(?:ANALY[SZ]E|VERBOSE|\s)+)?\s*", re.I)


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=COLUMNS)


def _path(result) -> str | None:
    return getattr(getattr(result, "provenance", None), "path", None)


def plan_timeline(result) -> pd.DataFrame:
    """Events for plans that carry a time (auto_explain): one per plan, spanning its duration."""
    from .plan_analysis import findings

    plans = getattr(result, "plans", None)
    if plans is None or not len(plans) or "time" not in plans or plans["time"].isna().all():
        return _empty()
    finds = findings(result)
    rows = []
    for p in plans.itertuples():
        if p.time is None or pd.isna(p.time):
            continue
        mine = [f for f in finds if f["plan"] == p.plan]
        hot = next((f["text"] for f in mine if f["code"] == "hot_node"), "no per-node times")
        codes = sorted({f["code"] for f in mine if f["code"] != "hot_node"})
        dur = p.duration_ms if pd.notna(p.duration_ms) else p.execution_ms
        start = p.time - pd.to_timedelta(dur, unit="ms") if pd.notna(dur) else p.time
        q = " ".join(str(p.query_text or "").split())[:100]
        rows.append({"time": start, "end": p.time, "kind": "pg_plan", "severity": "warning" if codes else "info",
                     "detail": f"plan of {q or 'a statement'} ({dur:,.0f} ms): {hot}"
                               + (f"; findings: {', '.join(codes)}" if codes else ""),
                     "ref": f"{_path(result)}:{p.source}", "source_rows": [int(p.plan)], "service": None, "host": None})
    out = pd.DataFrame(rows, columns=COLUMNS)
    for c in ("time", "end"):
        out[c] = pd.to_datetime(out[c], utc=True)
    return out


def activity_timeline(result) -> pd.DataFrame:
    """Blocking chains, idle-in-transaction holders and long-running queries of a snapshot, ending at its time."""
    from .activity import blocking_tree, idle_in_transaction, long_running

    now = result.snapshot_time
    if now is None or pd.isna(now):
        return _empty()
    rows = []
    tree = blocking_tree(result)
    a = result.activity
    for root, g in (tree.groupby("root") if len(tree) and tree["root"].notna().any() else []):
        r0 = g[g["depth"] == 0].iloc[0]
        start = now
        if a is not None and "xact_start" in a:
            s = a.loc[a["pid"] == root, "xact_start"]
            start = s.iloc[0] if len(s) and pd.notna(s.iloc[0]) else now
        rows.append({"time": start, "end": now, "kind": "pg_activity.blocking", "severity": "error",
                     "detail": f"pid {root} ({r0.get('state') or 'state unknown'}) blocks {len(g) - 1} session(s): "
                               f"{' '.join(str(r0.get('query') or '').split())[:100]}",
                     "ref": f"{_path(result)}:pid {root}", "source_rows": [int(x) for x in g.index],
                     "service": r0.get("datname"), "host": r0.get("client_addr")})
    idle = idle_in_transaction(result)
    for r in idle.itertuples() if len(idle) else []:
        if getattr(r, "blocks_others", False):
            continue  # already a blocking chain above
        xs = getattr(r, "xact_start", None)
        rows.append({"time": xs if xs is not None and pd.notna(xs) else now, "end": now,
                     "kind": "pg_activity.idle_in_transaction", "severity": "warning",
                     "detail": f"pid {r.pid} idle in transaction: "
                               f"{' '.join(str(getattr(r, 'query', '') or '').split())[:100]}",
                     "ref": f"{_path(result)}:pid {r.pid}", "source_rows": [int(r.Index)], "service": None,
                     "host": None})
    slow = long_running(result)
    for r in slow.itertuples() if len(slow) else []:
        rows.append({"time": r.query_start, "end": now, "kind": "pg_activity.long_query", "severity": "warning",
                     "detail": f"pid {r.pid} running {r.runtime}: "
                               f"{' '.join(str(getattr(r, 'query', '') or '').split())[:100]}",
                     "ref": f"{_path(result)}:pid {r.pid}", "source_rows": [int(r.Index)], "service": None,
                     "host": None})
    out = pd.DataFrame(rows, columns=COLUMNS)
    for c in ("time", "end"):
        out[c] = pd.to_datetime(out[c], utc=True)
    return out


def _ref(kind, artifact, ref) -> dict:
    return {"artifact_kind": kind, "artifact": artifact, "ref": str(ref)}


def _artifacts(inc, kind: str):
    return [a for a in inc.loaded("postgres") if a.kind == kind and a.result is not None]


def plan_queries(result) -> list[tuple[int, str]]:
    """(plan number, statement text) of every plan that says which statement it is."""
    out = []
    for p in getattr(result, "plans").itertuples():
        q = p.query_text
        if isinstance(q, str) and q.strip():
            out.append((int(p.plan), _EXPLAIN.sub("", q, count=1)))
    return out


def matching_statements(plans, statements: pd.DataFrame) -> pd.DataFrame:
    """The pg_stat_statements rows whose statement is a plan's (same pglast fingerprint; constants and
    ``$n`` parameters compare equal): plan, fingerprint, and the row's queryid/query/calls/times."""
    from .fingerprint import fingerprint

    fps = [isinstance(q, str) and fingerprint(q) for q in statements["query"]]
    rows = []
    for pno, q in plan_queries(plans):
        fp = fingerprint(q)
        if fp.startswith("text:"):
            continue
        for k, f in enumerate(fps):
            if f == fp:
                r = statements.iloc[k]
                rows.append({"plan": pno, "fingerprint": fp, "queryid": r["queryid"], "query": r["query"],
                             "calls": r["calls"], "total_exec_time": r["total_exec_time"],
                             "mean_exec_time": r["mean_exec_time"], "toplevel": r["toplevel"]})
    return pd.DataFrame(rows, columns=["plan", "fingerprint", "queryid", "query", "calls", "total_exec_time",
                                       "mean_exec_time", "toplevel"])


def plan_links(inc) -> list[dict]:
    """A plan (pasted EXPLAIN or auto_explain) ↔ the pg_stat_statements entries with the same fingerprint."""
    out = []
    pgss = _artifacts(inc, "pg_stat_statements")
    if not pgss:
        return out
    sources = [(a, a.result) for a in _artifacts(inc, "pg_plan")]
    sources += [(a, a.result.plans) for a in _artifacts(inc, "pg_log") if a.result.plans is not None]
    for art, plans in sources:
        for s in pgss:
            m = matching_statements(plans, s.result.statements)
            for _, row in m.groupby("plan").head(3).iterrows():
                out.append({"a": _ref("postgres", art.file, f"plan {row['plan']}"),
                            "b": _ref("postgres", s.file, row["queryid"]), "type": "plan-statement",
                            "reason": f"the plan's statement has the same pglast fingerprint ({row['fingerprint']}) as "
                                      f"queryid {row['queryid']} ({int(row['calls']) if pd.notna(row['calls']) else '?'} "
                                      "calls in the dump)", "confidence": 0.9})
    return out


def lock_wait_links(inc) -> list[dict]:
    """A logged lock wait ↔ trace spans of the same statement (fingerprint) in flight during the wait."""
    from .fingerprint import fingerprint

    out = []
    logs = _artifacts(inc, "pg_log")
    if not logs:
        return out
    try:
        from ..incident.endpoints import traces_of
    except ImportError:  # an older incident package: no spans to link
        return out
    traces = list(traces_of(inc))
    for art in logs:
        e = art.result.entries
        waits = e[e["event"].isin(["lock_wait", "lock_acquired"]) & e["query"].notna()]
        for r in waits.itertuples():
            fp = fingerprint(r.query)
            t1 = r.time.value // 1000
            t0 = t1 - int(r.wait_ms * 1000)
            for t_art, spans, attrs in traces:
                db = attrs[attrs["statement"].notna()]
                if not len(db):
                    continue
                match = [i for i, q in zip(db.index, db["statement"]) if fingerprint(q) == fp]
                sp = spans.loc[match]
                live = sp[(sp["start_us"] <= t1) & (sp["start_us"] + sp["duration_us"] >= t0)]
                for _, s in live.head(5).iterrows():
                    out.append({"a": _ref("postgres", art.file, f"line {r.source}"),
                                "b": _ref("traces", t_art.file, s["span_id"]), "type": "lock-wait-span",
                                "reason": f"pid {r.pid} waited {r.wait_ms:,.0f} ms for {r.lock_mode} on {r.lock_target}"
                                          f" running this statement; the span ({s['duration_us'] / 1000:,.0f} ms) "
                                          "runs the same statement during the wait", "confidence": 0.8})
    return out
