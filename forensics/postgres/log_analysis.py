"""A pgBadger-like reading of a server log, and its events for the incident timeline. Pure functions.

- :func:`top_statements` — statements by total / mean duration and count (grouped by pglast fingerprint)
- :func:`errors_by_sqlstate`, :func:`lock_waits`, :func:`deadlocks`, :func:`temp_files_per_hour`,
  :func:`checkpoints`, :func:`per_hour` — the report's tables
- :func:`summary` — every count, so a test can check that each entry was counted once
- :func:`timeline` — ``builder(result) -> DataFrame`` for the incident timeline (see common contract)
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .log_events import error_code

SEVERITY = {"PANIC": "critical", "FATAL": "error", "ERROR": "error", "WARNING": "warning"}


def _entries(x) -> pd.DataFrame:
    return x.entries if hasattr(x, "entries") else x


def top_statements(log, by: str = "total_ms", top: int | None = 20) -> pd.DataFrame:
    """Logged durations (``duration:`` lines and auto_explain) grouped by statement shape."""
    from .fingerprint import fingerprint

    e = _entries(log)
    d = e.loc[e["event"].isin(["duration", "auto_explain"]) & e["duration_ms"].notna(),
              ["event", "duration_ms", "query", "pid", "time"]].copy()
    if d.empty:
        return pd.DataFrame(columns=["fingerprint", "query", "count", "total_ms", "mean_ms", "max_ms", "first",
                                     "last", "with_text"])
    # auto_explain logs its own "duration: … plan:" for an execution log_min_duration_statement also logged:
    # the same pid within 10 ms is the same execution, counted once (the duration line kept)
    dur = d[d["event"] == "duration"]
    ae = d[d["event"] == "auto_explain"]
    if len(dur) and len(ae):
        keyed = dur[["pid", "time"]].dropna().sort_values("time")
        cand = ae[["pid", "time"]].reset_index().dropna().sort_values("time")
        m = pd.merge_asof(cand, keyed.rename(columns={"time": "t_dur"}), left_on="time", right_on="t_dur", by="pid",
                          tolerance=pd.Timedelta("10ms"), direction="nearest")
        d = d.drop(index=m.loc[m["t_dur"].notna(), "index"])
    d["with_text"] = d["query"].notna()
    d["fingerprint"] = [fingerprint(q) if isinstance(q, str) else "no statement text (log_duration only)"
                        for q in d["query"]]
    g = d.groupby("fingerprint", sort=False).agg(query=("query", "first"), count=("duration_ms", "size"),
                                                 total_ms=("duration_ms", "sum"), mean_ms=("duration_ms", "mean"),
                                                 max_ms=("duration_ms", "max"), first=("time", "min"),
                                                 last=("time", "max"), with_text=("with_text", "all")).reset_index()
    g = g.sort_values(by, ascending=False, kind="stable").reset_index(drop=True)
    return g.head(top) if top else g


def errors_by_sqlstate(log) -> pd.DataFrame:
    e = _entries(log)
    err = e[e["severity"].isin(["ERROR", "FATAL", "PANIC"])].copy()
    err["code"] = error_code(err).fillna("unknown")
    err["code_source"] = np.where(err["sqlstate"].notna() & (err["sqlstate"] != "00000"), "logged",
                                  np.where(err["sqlstate_inferred"].notna(), "inferred from message", "unknown"))
    g = err.groupby(["code", "severity"], sort=False).agg(
        count=("message", "size"), example=("message", "first"), code_source=("code_source", "first"),
        first=("time", "min"), last=("time", "max")).reset_index()
    return g.sort_values("count", ascending=False, kind="stable").reset_index(drop=True)


def lock_waits(log) -> pd.DataFrame:
    """``still waiting`` / ``acquired`` lines: who waited, on what, for how long, behind whom."""
    e = _entries(log)
    cols = ["time", "pid", "event", "lock_mode", "lock_target", "wait_ms", "holders", "wait_queue", "query", "source"]
    return e.loc[e["event"].isin(["lock_wait", "lock_acquired", "deadlock_wait"]), cols].reset_index(drop=True)


def deadlocks(log) -> pd.DataFrame:
    e = _entries(log)
    cols = ["time", "pid", "deadlock_pids", "lock_mode", "lock_target", "deadlock_statements", "query", "context",
            "source"]
    return e.loc[e["event"] == "deadlock", cols].reset_index(drop=True)


def temp_files_per_hour(log) -> pd.DataFrame:
    e = _entries(log)
    t = e[e["event"] == "temp_file"]
    if t.empty:
        return pd.DataFrame(columns=["hour", "files", "bytes", "largest"])
    g = t.groupby(t["time"].dt.floor("h")).agg(files=("temp_bytes", "size"), bytes=("temp_bytes", "sum"),
                                              largest=("temp_bytes", "max"))
    return g.rename_axis("hour").reset_index()


def checkpoints(log) -> pd.DataFrame:
    e = _entries(log)
    starts = e[e["event"].isin(["checkpoint_start", "restartpoint_start"])]
    done = e[e["event"].isin(["checkpoint_complete", "restartpoint_complete"])]
    out = done[["time", "buffers_written", "write_s", "sync_s", "total_s", "source"]].copy()
    reasons = starts["checkpoint_reason"].tolist()
    out["reason"] = (reasons + [None] * len(out))[: len(out)] if len(reasons) >= len(out) else \
        [None] * (len(out) - len(reasons)) + reasons
    return out.reset_index(drop=True)


def per_hour(log) -> pd.DataFrame:
    """Events per hour and kind (the report's activity chart)."""
    e = _entries(log)
    if e.empty or e["time"].isna().all():
        return pd.DataFrame()
    return e.groupby([e["time"].dt.floor("h").rename("hour"), "event"]).size().unstack(fill_value=0)


def summary(log) -> dict:
    """Counts of every kind of entry (each entry is counted in exactly one ``event``)."""
    e = _entries(log)
    counts = e["event"].value_counts().to_dict()
    d = e.loc[e["event"] == "duration", "duration_ms"]  # the column only: a filtered copy of the frame is its size
    return {"entries": int(len(e)), "first": e["time"].min(), "last": e["time"].max(),
            "events": {k: int(v) for k, v in sorted(counts.items())},
            "errors": int(e["severity"].isin(["ERROR", "FATAL", "PANIC"]).sum()),
            "slow_statements": int(len(d)), "slow_total_ms": float(d.sum()), "slowest_ms": float(d.max()) if len(d) else None,
            "lock_waits": int((e["event"] == "lock_wait").sum()), "deadlocks": int((e["event"] == "deadlock").sum()),
            "temp_files": int((e["event"] == "temp_file").sum()),
            "temp_bytes": int(e.loc[e["event"] == "temp_file", "temp_bytes"].sum()),
            "checkpoints": int((e["event"] == "checkpoint_complete").sum()),
            "connections": int((e["event"] == "connection_authorized").sum()),
            "auto_explain_plans": int((e["event"] == "auto_explain").sum())}


_TIMELINE_EVENTS = {"duration": "info", "auto_explain": "info", "lock_wait": "warning", "lock_acquired": "info",
                    "deadlock": "error", "deadlock_wait": "warning", "temp_file": "info", "checkpoint_complete": "info",
                    "error": None, "server": "warning", "autovacuum": "info", "autoanalyze": "info",
                    "warning": "warning"}


#: more info events of one kind than this, and the timeline shows them as bursts per minute
BURST_OVER = 200


def _bursts(sel: pd.DataFrame, path) -> list[dict]:
    """One timeline row per event kind and minute: how many, their total/longest duration, the longest one."""
    out = []
    minute = sel["time"].dt.floor("min")
    for (kind, _), g in sel.groupby([sel["event"], minute], sort=True):
        ms = g["duration_ms"] if kind in ("duration", "auto_explain") else None
        what = {"duration": "statement duration(s) logged", "auto_explain": "auto_explain plan(s)",
                "temp_file": "temp file(s)", "lock_acquired": "lock(s) acquired after a wait",
                "checkpoint_complete": "checkpoint(s)", "autovacuum": "autovacuum run(s)",
                "autoanalyze": "autoanalyze run(s)"}.get(kind, kind)
        detail = f"{len(g):,} {what} in this minute"
        if ms is not None and ms.notna().any():
            top = g.loc[ms.idxmax()]
            q = " ".join(str(top["query"]).split())[:100] if isinstance(top["query"], str) else "statement text not logged"
            detail += f", {ms.sum():,.1f} ms in all; the longest {ms.max():,.1f} ms: {q}"
        elif kind == "temp_file":
            detail += f", {int(g['temp_bytes'].sum()):,} bytes in all"
        first, last = g["time"].min(), g["time"].max()
        out.append({"time": first, "end": last, "kind": f"pg_log.{kind}", "severity": "info", "detail": detail,
                    "ref": f"{path}:{int(g['source'].min())}-{int(g['source'].max())}" if path else
                    f"lines {int(g['source'].min())}-{int(g['source'].max())}",
                    "source_rows": [int(i) for i in g.index], "service": None, "host": None})
    return out


def timeline(result) -> pd.DataFrame:
    """Incident-timeline events of a :class:`~forensics.postgres.serverlog.ServerLog` (or its LogDump):
    columns time, end, kind, severity, detail, ref, source_rows (plus ``host`` = the client when logged)."""
    e = _entries(result)
    cols = ["time", "end", "kind", "severity", "detail", "ref", "source_rows", "service", "host"]
    sel = e[e["event"].isin(list(_TIMELINE_EVENTS))]
    if sel.empty:
        return pd.DataFrame(columns=cols)
    path = getattr(getattr(result, "provenance", None), "path", None)
    rows = []
    # a log of every statement (log_min_duration_statement = 0) holds one duration per execution: past
    # BURST_OVER rows of an info kind, those rows become one burst per minute (warnings and errors stay rows)
    counts = sel["event"].value_counts()
    many = [k for k, n in counts.items() if n > BURST_OVER and _TIMELINE_EVENTS.get(k) == "info"]
    if many:
        rows += _bursts(sel[sel["event"].isin(many)], path)
        sel = sel[~sel["event"].isin(many)]
    for r in sel.itertuples():
        sev = _TIMELINE_EVENTS[r.event] or SEVERITY.get(r.severity, "error")
        q = (r.query or "").replace("\n", " ")[:120] if isinstance(r.query, str) else ""
        if r.event in ("duration", "auto_explain"):
            detail = f"{r.duration_ms:,.1f} ms: {q or 'statement text not logged'}"
            start = r.time - pd.to_timedelta(r.duration_ms, unit="ms") if pd.notna(r.time) else r.time
            end = r.time
        elif r.event in ("lock_wait", "lock_acquired", "deadlock_wait"):
            detail = (f"pid {r.pid} {r.event.replace('_', ' ')} {r.lock_mode} on {r.lock_target} after "
                      f"{r.wait_ms:,.0f} ms" + (f", held by {r.holders}" if isinstance(r.holders, str) else ""))
            start, end = r.time - pd.to_timedelta(r.wait_ms, unit="ms"), r.time
        elif r.event == "deadlock":
            detail = f"deadlock between pids {r.deadlock_pids}: {r.lock_mode} on {r.lock_target}"
            start, end = r.time, r.time
        elif r.event == "temp_file":
            detail = f"temp file {r.temp_bytes:,} bytes: {q}"
            start, end = r.time, r.time
        elif r.event == "checkpoint_complete":
            detail = f"checkpoint wrote {r.buffers_written:,} buffers in {r.total_s:.1f} s"
            start, end = r.time - pd.to_timedelta(r.total_s or 0, unit="s"), r.time
        else:
            detail = f"{r.severity}: {(r.message or '')[:160]}"
            start, end = r.time, r.time
        rows.append({"time": start, "end": end, "kind": f"pg_log.{r.event}", "severity": sev, "detail": detail,
                     "ref": f"{path}:{r.source}" if path else f"line {r.source}", "source_rows": [int(r.Index)],
                     "service": r.database if isinstance(r.database, str) else None,
                     "host": r.client if isinstance(r.client, str) else None})
    out = pd.DataFrame(rows, columns=cols)
    out["time"] = pd.to_datetime(out["time"], utc=True)
    out["end"] = pd.to_datetime(out["end"], utc=True)
    return out.sort_values("time", kind="stable").reset_index(drop=True)
