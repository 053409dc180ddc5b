"""``pg_stat_activity`` / ``pg_locks`` snapshots (csv, psql aligned or expanded, several tables in one file)
→ who blocks whom, since when, doing what.

The blocking edges come from the best evidence in the file, in this order: a ``pg_blocking_pids(pid)``
column (``blocked_by``), a pair table (``blocked_pid``/``blocking_pid``, as the classic blocking query
and pg-extras print), or ``pg_locks`` itself (an ungranted lock waits for every granted lock on the same
object whose mode conflicts — the table in the PostgreSQL docs, "Conflicting Lock Modes"; waiters queued
behind other waiters are not counted, so the tree can be shallower than ``pg_blocking_pids``'s).

Durations need the snapshot's time: a ``now``/``snapshot_time``/``clock_timestamp`` column when the dump
has one; otherwise the latest timestamp in the dump is used as a lower bound and ``snapshot_time_source``
says so.
"""
from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd

from ..artifact import Provenance, provenance_for
from ..errors import ArtifactError
from .psql_table import FOOTER, parse_table

#: Lock modes and the modes they conflict with (PostgreSQL docs, Table "Conflicting Lock Modes").
_MODES = ["AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock",
          "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"]
_CONFLICT_ROWS = {
    "AccessShareLock": {"AccessExclusiveLock"},
    "RowShareLock": {"ExclusiveLock", "AccessExclusiveLock"},
    "RowExclusiveLock": {"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"},
    "ShareUpdateExclusiveLock": {"ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock",
                                 "AccessExclusiveLock"},
    "ShareLock": {"RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareRowExclusiveLock", "ExclusiveLock",
                  "AccessExclusiveLock"},
    "ShareRowExclusiveLock": {"RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock",
                              "ExclusiveLock", "AccessExclusiveLock"},
    "ExclusiveLock": set(_MODES[1:]),
    "AccessExclusiveLock": set(_MODES),
}
_LOCK_OBJECT = ["locktype", "database", "relation", "page", "tuple", "virtualxid", "transactionid", "classid",
                "objid", "objsubid"]
_NOW = ("now", "snapshot_time", "clock_timestamp", "snapshot_at", "captured_at", "ts")
_STAMPS = ("backend_start", "xact_start", "query_start", "state_change")


def conflicts(wanted: str, held: str) -> bool:
    """Whether a lock of mode ``wanted`` must wait for one of mode ``held`` on the same object."""
    return held in _CONFLICT_ROWS.get(wanted, set())


@dataclass
class ActivitySnapshot:
    activity: pd.DataFrame | None
    locks: pd.DataFrame | None
    pairs: pd.DataFrame | None
    provenance: Provenance
    snapshot_time: pd.Timestamp | None = None
    snapshot_time_source: str = "unknown"
    tables: list = field(default_factory=list)

    def __repr__(self) -> str:
        n = lambda d: 0 if d is None else len(d)  # noqa: E731
        return (f"ActivitySnapshot({n(self.activity)} sessions, {n(self.locks)} locks, {n(self.pairs)} pairs, "
                f"{os.path.basename(self.provenance.path)})")


def _tables(text: str) -> list[tuple[list[str], list[list], list[int]]]:
    """Every table in the file: aligned blocks (split at their footers) or one CSV."""
    lines = text.splitlines()
    if re.search(r"^-\[ RECORD \d+ \]", text, re.M):  # \x on: name | value records
        from .formats import parse_expanded

        t = parse_expanded(text)
        return [([c.strip().lower() for c in t.columns], t.rows, list(t.lines))]
    if lines and "," in lines[0] and "|" not in lines[0] and not re.search(r"^\s*-{3,}", text, re.M):
        rows = list(csv.reader(io.StringIO(text, newline="")))
        head = [c.strip() for c in rows[0]]
        body = [[None if v == "" else v for v in r] for r in rows[1:] if r and len(r) == len(head)]
        return [(head, body, list(range(2, 2 + len(body))))]
    out, start = [], 0
    for i, ln in enumerate(lines + ["(0 rows)"]):
        if FOOTER.match(ln.strip()) or i == len(lines):
            block = "\n".join(lines[start:i + 1])
            t = parse_table(block, is_text=lambda n: n.strip().lower() in ("query", "blocked_statement",
                                                                           "blocking_statement", "current_statement"))
            if t.columns and len(t.columns) > 1:
                out.append(([c.strip().lower() for c in t.columns], t.rows, [start + x for x in t.lines]))
            start = i + 1
    return out


def _stamp(s: pd.Series) -> pd.Series:
    fixed = s.astype("str").str.replace(r"([+-]\d\d)$", r"\1:00", regex=True)
    return pd.to_datetime(fixed, utc=True, errors="coerce", format="ISO8601")


def _pids(v) -> list[int]:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return []
    return [int(x) for x in re.findall(r"\d+", str(v))]


def load_activity(path, **_ignored) -> ActivitySnapshot:
    """A pg_stat_activity and/or pg_locks snapshot (or a blocking-pairs table). Raises only ArtifactError."""
    from .plan import read_text

    prov = provenance_for(path, parser="forensics.postgres.activity")
    text = read_text(path, prov)
    tables = _tables(text)
    act = locks = pairs = None
    for cols, rows, lines in tables:
        df = pd.DataFrame(rows, columns=cols)
        df["source"] = [f"line {x}" for x in lines]
        s = set(cols)
        if {"blocked_pid", "blocking_pid"} <= s:
            pairs = df
        elif {"locktype", "mode", "granted"} <= s:
            locks = df
        elif "pid" in s and ({"state", "query"} & s or "wait_event_type" in s or "blocked_by" in s):
            act = df
    if act is None and locks is None and pairs is None:
        found = "; ".join(", ".join(c[:8]) for c, _, _ in tables) or "no table"
        raise ArtifactError(path, None, "not a pg_stat_activity / pg_locks snapshot: need pid with state/query, "
                            f"locktype/mode/granted, or blocked_pid/blocking_pid columns; found: {found}")
    snap_time, src = None, "unknown"
    if act is not None:
        act["pid"] = pd.to_numeric(act["pid"], errors="coerce").astype("Int64")
        for c in _STAMPS:
            if c in act:
                act[c] = _stamp(act[c])
        now = next((c for c in _NOW if c in act), None)
        if now:
            t = _stamp(act[now])
            snap_time, src = t.max(), f"the dump's {now!r} column"
        else:
            stamps = [act[c].max() for c in _STAMPS if c in act and act[c].notna().any()]
            if stamps:
                snap_time = max(stamps)
                src = ("lower bound: the latest timestamp in the dump (no now() column); durations are at least "
                       "these")
                prov.warn(None, "the snapshot has no now()/clock_timestamp() column: durations are measured to the "
                          f"latest timestamp in it ({snap_time}), so they are lower bounds")
        if "blocked_by" not in act and "pg_blocking_pids" in act:
            act["blocked_by"] = act["pg_blocking_pids"]
    if locks is not None:
        locks["pid"] = pd.to_numeric(locks["pid"], errors="coerce").astype("Int64")
        locks["granted"] = locks["granted"].astype("str").str.strip().str.lower().isin(["t", "true", "1"])
        if "waitstart" in locks:
            locks["waitstart"] = _stamp(locks["waitstart"])
    if pairs is not None:
        for c in ("blocked_pid", "blocking_pid"):
            pairs[c] = pd.to_numeric(pairs[c], errors="coerce").astype("Int64")
    prov.kind, prov.format = "pg_activity", "snapshot"
    prov.details["tables"] = [c[:6] for c, _, _ in tables]
    prov.attach(*(d for d in (act, locks, pairs) if d is not None))
    return ActivitySnapshot(act, locks, pairs, prov, snap_time, src, [c for c, _, _ in tables])


def lock_edges(locks: pd.DataFrame) -> pd.DataFrame:
    """(waiter, holder, mode wanted, mode held, object) from pg_locks: ungranted vs conflicting granted locks."""
    key = [c for c in _LOCK_OBJECT if c in locks]
    lk = locks.copy()
    cells = lk[key].map(lambda v: "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v))
    lk["_obj"] = ["|".join(row) for row in cells.itertuples(index=False)]  # (an empty table stays empty)
    waiting, held = lk[~lk["granted"]], lk[lk["granted"]]
    m = waiting.merge(held, on="_obj", suffixes=("_w", "_h"))
    if m.empty:
        return pd.DataFrame(columns=["waiter", "holder", "mode_wanted", "mode_held", "object", "evidence"])
    clash = np.array([conflicts(a, b) for a, b in zip(m["mode_w"], m["mode_h"])], dtype=bool)
    m = m[(m["pid_w"] != m["pid_h"]).to_numpy(dtype=bool) & clash]
    out = pd.DataFrame({"waiter": m["pid_w"], "holder": m["pid_h"], "mode_wanted": m["mode_w"],
                        "mode_held": m["mode_h"], "object": m["_obj"].str.split("|").map(lambda parts: " ".join(p for p in parts if p)),
                        "evidence": "pg_locks"})
    return out.drop_duplicates(["waiter", "holder"]).reset_index(drop=True)


def edges(snap: ActivitySnapshot) -> pd.DataFrame:
    """Blocking edges waiter → holder from the best evidence in the snapshot (see the module docstring)."""
    if snap.activity is not None and "blocked_by" in snap.activity:
        rows = [{"waiter": int(r.pid), "holder": h, "evidence": "pg_blocking_pids"}
                for r in snap.activity.itertuples() for h in _pids(r.blocked_by) if pd.notna(r.pid)]
        if rows:
            return pd.DataFrame(rows)
    if snap.pairs is not None:
        p = snap.pairs.dropna(subset=["blocked_pid", "blocking_pid"])
        return pd.DataFrame({"waiter": p["blocked_pid"].astype(int), "holder": p["blocking_pid"].astype(int),
                             "evidence": "blocking pairs"}).drop_duplicates()
    if snap.locks is not None:
        return lock_edges(snap.locks)
    return pd.DataFrame(columns=["waiter", "holder", "evidence"])


def _session(snap: ActivitySnapshot, pid: int) -> dict:
    a = snap.activity
    if a is None or pid not in set(a["pid"].dropna()):
        if snap.pairs is not None:  # pairs carry the statements and durations themselves
            p = snap.pairs
            row = p[p["blocking_pid"] == pid].head(1)
            if len(row):
                return {"query": row.iloc[0].get("blocking_statement") or row.iloc[0].get("current_statement"),
                        "duration": row.iloc[0].get("blocking_duration")}
            row = p[p["blocked_pid"] == pid].head(1)
            if len(row):
                return {"query": row.iloc[0].get("blocked_statement"), "duration": row.iloc[0].get("blocked_duration")}
        return {}
    r = a[a["pid"] == pid].iloc[0]
    out = {k: r.get(k) for k in ("usename", "datname", "application_name", "client_addr", "state", "wait_event_type",
                                 "wait_event", "query", "backend_type")}
    now = snap.snapshot_time
    for c, name in (("xact_start", "xact_age"), ("query_start", "query_age"), ("state_change", "state_age")):
        v = r.get(c)
        out[name] = (now - v) if now is not None and v is not None and pd.notna(v) else None
    return out


def blocking_tree(snap: ActivitySnapshot) -> pd.DataFrame:
    """One row per session in a blocking chain: its root blocker, depth, what it waits for, what it does."""
    e = edges(snap)
    if e.empty:
        return pd.DataFrame(columns=["root", "pid", "depth", "blocked_by", "blocks", "state", "query"])
    g = nx.DiGraph()
    g.add_edges_from(zip(e["holder"], e["waiter"]))
    rows = []
    roots = [n for n in g.nodes if g.in_degree(n) == 0]
    cyc = [c for c in nx.simple_cycles(g)] if not roots or len(roots) < nx.number_weakly_connected_components(g) else []
    for root in roots:
        depth = nx.single_source_shortest_path_length(g, root)
        for pid, d in sorted(depth.items(), key=lambda kv: (kv[1], kv[0])):
            s = _session(snap, pid)
            rows.append({"root": root, "pid": pid, "depth": d,
                         "blocked_by": ",".join(map(str, sorted(g.predecessors(pid)))) or None,
                         "blocks": len(nx.descendants(g, pid)), **s})
    for c in cyc:
        for pid in c:
            rows.append({"root": None, "pid": pid, "depth": None, "blocked_by": ",".join(map(str, g.predecessors(pid))),
                         "blocks": None, "cycle": True, **_session(snap, pid)})
    return pd.DataFrame(rows)


def idle_in_transaction(snap: ActivitySnapshot, blocking_only: bool = False) -> pd.DataFrame:
    a = snap.activity
    if a is None or "state" not in a:
        return pd.DataFrame()
    idle = a[a["state"].astype("str").str.startswith("idle in transaction")].copy()
    holders = set(edges(snap)["holder"]) if len(idle) else set()
    idle["blocks_others"] = idle["pid"].isin(holders)
    if "xact_start" in idle and snap.snapshot_time is not None:
        idle["xact_age"] = snap.snapshot_time - idle["xact_start"]
    if blocking_only:
        idle = idle[idle["blocks_others"]]
    return idle.sort_values("xact_start" if "xact_start" in idle else "pid").reset_index(drop=True)


def long_running(snap: ActivitySnapshot, threshold: str = "1min") -> pd.DataFrame:
    a = snap.activity
    if a is None or "query_start" not in a or snap.snapshot_time is None:
        return pd.DataFrame()
    act = a[a["state"].astype("str") == "active"].copy() if "state" in a else a.copy()
    act["runtime"] = snap.snapshot_time - act["query_start"]
    act = act[act["runtime"] >= pd.Timedelta(threshold)]
    return act.sort_values("runtime", ascending=False).reset_index(drop=True)
