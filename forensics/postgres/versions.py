"""pg_stat_statements column sets by extension version (1.2 … 1.12, PostgreSQL 9.4 … 18).

The view's columns follow the *installed extension version*, not the server version (after
``pg_upgrade`` without ``ALTER EXTENSION ... UPDATE`` a PG15 server still serves a 1.8 view), so the
version is decided from the column names. Sources: the extension's install and upgrade scripts
(``pg_stat_statements--1.4.sql``, ``--X--Y.sql``) — see docs/postgres.md.

>>> detect_version(COLUMNS["1.2"]).version, detect_version(COLUMNS["1.12"]).servers
('1.2', '18')
>>> detect_version(["userid", "dbid", "queryid", "query", "calls", "total_time", "rows"]).version  # a subset
'1.2-1.7'
>>> canonical_name("blk_read_time"), canonical_name("total_time")
('shared_blk_read_time', 'total_exec_time')
"""
from __future__ import annotations

from dataclasses import dataclass

_BLKS = ["shared_blks_hit", "shared_blks_read", "shared_blks_dirtied", "shared_blks_written",
         "local_blks_hit", "local_blks_read", "local_blks_dirtied", "local_blks_written",
         "temp_blks_read", "temp_blks_written"]
_PLAN = ["plans", "total_plan_time", "min_plan_time", "max_plan_time", "mean_plan_time", "stddev_plan_time"]
_EXEC = ["calls", "total_exec_time", "min_exec_time", "max_exec_time", "mean_exec_time", "stddev_exec_time"]
_JIT = ["jit_functions", "jit_generation_time", "jit_inlining_count", "jit_inlining_time",
        "jit_optimization_count", "jit_optimization_time", "jit_emission_count", "jit_emission_time"]

#: ``select * from pg_stat_statements`` columns, in order, per extension version (as the view shows them).
COLUMNS: dict[str, list[str]] = {
    "1.2": ["userid", "dbid", "queryid", "query", "calls", "total_time", "rows", *_BLKS,
            "blk_read_time", "blk_write_time"],
    "1.3": ["userid", "dbid", "queryid", "query", "calls", "total_time", "min_time", "max_time", "mean_time",
            "stddev_time", "rows", *_BLKS, "blk_read_time", "blk_write_time"],
    "1.8": ["userid", "dbid", "queryid", "query", *_PLAN, *_EXEC, "rows", *_BLKS, "blk_read_time",
            "blk_write_time", "wal_records", "wal_fpi", "wal_bytes"],
    "1.9": ["userid", "dbid", "toplevel", "queryid", "query", *_PLAN, *_EXEC, "rows", *_BLKS, "blk_read_time",
            "blk_write_time", "wal_records", "wal_fpi", "wal_bytes"],
    "1.10": ["userid", "dbid", "toplevel", "queryid", "query", *_PLAN, *_EXEC, "rows", *_BLKS, "blk_read_time",
             "blk_write_time", "temp_blk_read_time", "temp_blk_write_time", "wal_records", "wal_fpi", "wal_bytes",
             *_JIT],
    "1.11": ["userid", "dbid", "toplevel", "queryid", "query", *_PLAN, *_EXEC, "rows", *_BLKS,
             "shared_blk_read_time", "shared_blk_write_time", "local_blk_read_time", "local_blk_write_time",
             "temp_blk_read_time", "temp_blk_write_time", "wal_records", "wal_fpi", "wal_bytes", *_JIT,
             "jit_deform_count", "jit_deform_time", "stats_since", "minmax_stats_since"],
    "1.12": ["userid", "dbid", "toplevel", "queryid", "query", *_PLAN, *_EXEC, "rows", *_BLKS,
             "shared_blk_read_time", "shared_blk_write_time", "local_blk_read_time", "local_blk_write_time",
             "temp_blk_read_time", "temp_blk_write_time", "wal_records", "wal_fpi", "wal_bytes", "wal_buffers_full",
             *_JIT, "jit_deform_count", "jit_deform_time", "parallel_workers_to_launch", "parallel_workers_launched",
             "stats_since", "minmax_stats_since"],
}
# Versions without a column change share their predecessor's set.
for _same, _as in (("1.4", "1.3"), ("1.5", "1.3"), ("1.6", "1.3"), ("1.7", "1.3")):
    COLUMNS[_same] = COLUMNS[_as]

#: PostgreSQL major versions that ship each extension version by default.
SERVER_VERSIONS = {"1.2": "9.4", "1.3": "9.5", "1.4": "9.6", "1.5": "10", "1.6": "11", "1.7": "12",
                   "1.8": "13", "1.9": "14", "1.10": "15-16", "1.11": "17", "1.12": "18"}

#: Old name -> canonical name (the newest name of the same measurement).
RENAMES = {
    "total_time": "total_exec_time", "min_time": "min_exec_time", "max_time": "max_exec_time",
    "mean_time": "mean_exec_time", "stddev_time": "stddev_exec_time",
    # Before 1.11 there were no local-buffer timings: blk_*_time was shared-buffer I/O.
    "blk_read_time": "shared_blk_read_time", "blk_write_time": "shared_blk_write_time",
}

#: Canonical columns in output order; every loaded frame has all of them (NaN/NA where the dump lacks one).
CANONICAL = ["userid", "dbid", "toplevel", "queryid", "datname", "rolname", "query",
             *_PLAN, *_EXEC, "rows", *_BLKS,
             "shared_blk_read_time", "shared_blk_write_time", "local_blk_read_time", "local_blk_write_time",
             "temp_blk_read_time", "temp_blk_write_time", "wal_records", "wal_fpi", "wal_bytes", "wal_buffers_full",
             *_JIT, "jit_deform_count", "jit_deform_time", "parallel_workers_to_launch", "parallel_workers_launched",
             "stats_since", "minmax_stats_since"]

ID_COLUMNS = ["userid", "dbid", "queryid"]
TEXT_COLUMNS = ["datname", "rolname", "query"]
BOOL_COLUMNS = ["toplevel"]
TIME_STAMP_COLUMNS = ["stats_since", "minmax_stats_since"]
#: Float columns: times in ms, and wal_bytes (numeric in SQL; may exceed int64 in principle).
FLOAT_COLUMNS = [c for c in CANONICAL if c.endswith("_time") or c == "wal_bytes"]
#: Integer counters (nullable Int64: a column the version lacks is <NA>, never 0).
COUNT_COLUMNS = [c for c in CANONICAL if c not in ID_COLUMNS + TEXT_COLUMNS + BOOL_COLUMNS + TIME_STAMP_COLUMNS
                 + FLOAT_COLUMNS]
#: Counters that add up over time (a delta subtracts them); min/max/mean/stddev and timestamps do not.
ADDITIVE = [c for c in COUNT_COLUMNS + FLOAT_COLUMNS
            if not c.startswith(("min_", "max_", "mean_", "stddev_"))]
#: Names a runbook or a tool may use for the same thing.
ALIASES = {"database": "datname", "db": "datname", "dbname": "datname", "usename": "rolname", "username": "rolname",
           "user": "rolname", "role": "rolname", "query_id": "queryid", "toplevel_": "toplevel"}


def canonical_name(name: str) -> str:
    """The canonical column name for a header cell (case, quotes, ``s.`` prefixes and old names folded)."""
    n = "_".join(name.strip().strip('"`').strip().lower().split())
    if "." in n and not n.startswith("."):
        n = n.rsplit(".", 1)[1]
    n = ALIASES.get(n, n)
    return RENAMES.get(n, n)


@dataclass(frozen=True)
class VersionMatch:
    """Which extension version a dump's columns match, and how sure that is."""

    version: str           # "1.10", or a lower bound like "≥1.8" for a runbook with a subset of columns
    servers: str           # PostgreSQL major versions shipping it, e.g. "15-16"
    exact: bool            # the column set equals one version's full set
    evidence: str

    def as_dict(self) -> dict:
        return {"version": self.version, "servers": self.servers, "exact": self.exact, "evidence": self.evidence}


_ORDER = ["1.2", "1.3", "1.8", "1.9", "1.10", "1.11", "1.12"]


def detect_version(columns) -> VersionMatch:
    """Extension version from raw (un-renamed) column names; see the module docstring.

    >>> detect_version(COLUMNS["1.10"]).servers
    '15-16'
    >>> detect_version(["datname", "queryid", "calls", "total_exec_time", "query"]).version
    '≥1.8'
    """
    raw = [c.strip().strip('"').lower().rsplit(".", 1)[-1] for c in columns]
    cols = set(raw)
    known = set().union(*map(set, COLUMNS.values()))
    for v in _ORDER:
        if set(COLUMNS[v]) == cols & known and set(COLUMNS[v]) <= cols:
            label = v if v != "1.3" else "1.3-1.7"
            return VersionMatch(label, SERVER_VERSIONS[v] if v != "1.3" else "9.5-12", True,
                                f"columns equal the {v} set ({len(COLUMNS[v])} columns)")
    # A subset (runbook query): the lowest version consistent with what is present.
    if "wal_buffers_full" in cols or "parallel_workers_launched" in cols:
        lo, why = "1.12", "wal_buffers_full/parallel_workers_* present"
    elif {"shared_blk_read_time", "stats_since", "jit_deform_count", "local_blk_read_time"} & cols:
        lo, why = "1.11", "shared_blk_*_time/stats_since/jit_deform present"
    elif {"jit_functions", "temp_blk_read_time"} & cols:
        lo, why = "1.10", "jit_*/temp_blk_*_time present"
    elif "toplevel" in cols:
        lo, why = "1.9", "toplevel present"
    elif {"plans", "total_exec_time", "total_plan_time", "wal_records", "mean_exec_time"} & cols:
        lo, why = "1.8", "*_exec_time/plans present"
    elif {"min_time", "max_time", "mean_time", "stddev_time"} & cols:
        lo, why = "1.3", "min/max/mean/stddev_time present"
        return VersionMatch("1.3-1.7", "9.5-12", False, why + " (subset of columns)")
    elif "total_time" in cols:
        if "queryid" in cols:
            return VersionMatch("1.2-1.7", "9.4-12", False, "total_time and queryid present (subset of columns)")
        return VersionMatch("≤1.7", "≤12", False, "total_time present, no queryid")
    else:
        return VersionMatch("unknown", "unknown", False, "no version-specific column present")
    return VersionMatch("≥" + lo, SERVER_VERSIONS[lo] + "+", False, why + " (subset of columns)")
