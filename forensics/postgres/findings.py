"""Findings per statement, each from a documented threshold (:data:`THRESHOLDS`).

Every finding is a string ``"code: what and why, in numbers"``; codes are ``missing_index``,
``temp_spill``, ``low_cache_hit``, ``plan_heavy``, ``n_plus_one``, ``unstable``, ``failing``,
``nested`` and ``text_cut``. They are hints to check with ``EXPLAIN (ANALYZE, BUFFERS)``, not verdicts.

>>> THRESHOLDS["low_hit_ratio"]
0.9
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .fingerprint import is_keyed_lookup, statement_kind

THRESHOLDS = {
    # A B-tree lookup touches ~3-5 pages per row it returns; a statement that reads ≥1,000 pages
    # (8 MB) per call and ≥100 pages per row returned is scanning, not looking up.
    "missing_index_blocks_per_call": 1000,
    "missing_index_blocks_per_row": 100,
    "missing_index_min_calls": 5,
    # Any temp block written means a sort/hash/materialise spilled past work_mem.
    "temp_spill_min_blocks": 1,
    # Fewer than 90% of shared-buffer accesses found in cache, over at least 1,000 blocks.
    "low_hit_ratio": 0.90,
    "low_hit_min_blocks": 1000,
    # Planning took at least as long as executing, and at least 10 ms in all.
    "plan_heavy_ratio": 1.0,
    "plan_heavy_min_ms": 10.0,
    # Many calls of a cheap single-row keyed lookup: one query per row of some other result.
    "n_plus_one_min_calls": 1000,
    "n_plus_one_max_mean_ms": 1.0,
    "n_plus_one_max_rows_per_call": 1.5,
    # Standard deviation at least the mean (coefficient of variation ≥ 1) over ≥ 10 calls that
    # take ≥ 0.1 ms on average (below that, jitter is noise).
    "unstable_cv": 1.0,
    "unstable_min_calls": 10,
    "unstable_min_mean_ms": 0.1,
}

_BUILTINS = {"count", "sum", "avg", "min", "max", "coalesce", "now", "left", "right", "lower", "upper", "length",
             "substr", "substring", "round", "abs", "greatest", "least", "nullif", "exists", "in", "any", "all",
             "array", "cast", "date_trunc", "extract", "to_char", "json_agg", "jsonb_agg", "row_to_json",
             "string_agg", "array_agg", "generate_series", "md5", "repeat", "random", "values", "over", "filter",
             "pg_sleep", "current_setting", "set_config", "not", "and", "or", "as", "on", "using", "where", "from",
             "select", "limit", "by", "int", "bigint", "numeric", "text", "varchar", "interval", "timestamptz"}
_CALL = re.compile(r"\b([A-Za-z_][\w.]*)\s*\(")


def _f(x) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return float("nan")
    return v


def _calls_user_function(text) -> bool:
    if not isinstance(text, str):
        return False
    kind = statement_kind(text)
    if kind in ("call", "do"):
        return True
    if re.match(r"\s*(create|alter)\s+extension\b", text, re.I):
        return True
    return any(name.rsplit(".", 1)[-1].lower() not in _BUILTINS for name in _CALL.findall(text))


def likely_callers(df: pd.DataFrame) -> pd.Series:
    """For each nested (``toplevel = false``) row, the index of the likely top-level caller, else NaN.

    pg_stat_statements does not record who called a nested statement. The guess: a top-level
    statement of the same user and database that calls a user function (or ``CALL``/``DO``/
    ``CREATE EXTENSION``), took at least as long, and whose calls divide the nested statement's calls
    (each call ran it k times); among those, the one with the closest total time.
    """
    out = pd.Series(np.nan, index=df.index)
    nested = df.index[df["toplevel"].eq(False).fillna(False)]
    if not len(nested):
        return out
    top = df[df["toplevel"].eq(True).fillna(False) & df["query"].map(_calls_user_function)]
    for i in nested:
        r = df.loc[i]
        cand = top
        for c in ("userid", "dbid", "rolname", "datname"):
            if c in df and pd.notna(r[c]):
                cand = cand[cand[c] == r[c]]
        t = _f(r["total_exec_time"])
        cand = cand[cand["total_exec_time"].astype(float) >= (t if t == t else 0)]
        if cand.empty:
            continue
        calls = cand["calls"].astype(float)
        divides = ((_f(r["calls"]) % calls.where(calls > 0)) == 0).fillna(False)
        score = pd.DataFrame({"div": ~divides, "gap": cand["total_exec_time"].astype(float) - (t if t == t else 0)})
        out[i] = score.sort_values(["div", "gap"]).index[0]
    return out


def findings(df: pd.DataFrame) -> pd.Series:
    """A list of finding strings per row (see the module docstring and :data:`THRESHOLDS`)."""
    T = THRESHOLDS
    calls = df["calls"].astype(float)
    per_call = calls.where(calls > 0)
    hit, read = df["shared_blks_hit"].astype(float), df["shared_blks_read"].astype(float)
    blocks = hit + read
    bpc = blocks / per_call
    rows = df["rows"].astype(float)
    bpr = blocks / rows.clip(lower=1)
    rpc = rows / per_call
    mean = df["total_exec_time"].astype(float) / per_call
    plan, exe = df["total_plan_time"].astype(float), df["total_exec_time"].astype(float)
    temp = df["temp_blks_written"].astype(float)
    cv = df["stddev_exec_time"].astype(float) / mean.where(mean > 0)
    plans = df["plans"].astype(float)
    callers = likely_callers(df)
    out = []
    for k, i in enumerate(df.index):
        q = df.at[i, "query"]
        kind = statement_kind(q)
        f = []
        if (kind in ("select", "with", "update", "delete") and calls[i] >= T["missing_index_min_calls"]
                and bpc[i] >= T["missing_index_blocks_per_call"] and bpr[i] >= T["missing_index_blocks_per_row"]):
            f.append(f"missing_index: {bpc[i]:,.0f} blocks per call and {bpr[i]:,.0f} per row returned "
                     f"({rpc[i]:,.1f} rows per call) — a keyed lookup touches ~4 per row; check EXPLAIN for a Seq Scan")
        if temp[i] >= T["temp_spill_min_blocks"]:
            f.append(f"temp_spill: {temp[i]:,.0f} temp blocks written ({temp[i] * 8192 / 2**20:,.1f} MiB"
                     + (f", {temp[i] / per_call[i]:,.0f} per call" if per_call[i] == per_call[i] else "")
                     + ") — sorts/hashes spill past work_mem")
        if blocks[i] >= T["low_hit_min_blocks"] and hit[i] / blocks[i] < T["low_hit_ratio"]:
            f.append(f"low_cache_hit: {hit[i] / blocks[i]:.1%} of {blocks[i]:,.0f} shared blocks found in cache "
                     f"({read[i]:,.0f} read) — cold or larger than shared_buffers")
        if plan[i] >= T["plan_heavy_min_ms"] and plan[i] >= T["plan_heavy_ratio"] * exe[i]:
            f.append(f"plan_heavy: planning {plan[i]:,.1f} ms vs executing {exe[i]:,.1f} ms — many joins, or "
                     "no prepared statements")
        if (calls[i] >= T["n_plus_one_min_calls"] and mean[i] < T["n_plus_one_max_mean_ms"]
                and rpc[i] <= T["n_plus_one_max_rows_per_call"] and is_keyed_lookup(q)):
            f.append(f"n_plus_one: {calls[i]:,.0f} calls of a keyed lookup at {mean[i]:.3f} ms and "
                     f"{rpc[i]:.1f} rows each — one query per row of another result; batch it (IN/ANY or a join)")
        if calls[i] >= T["unstable_min_calls"] and cv[i] >= T["unstable_cv"] and mean[i] >= T["unstable_min_mean_ms"]:
            f.append(f"unstable: stddev {cv[i]:.1f}× the mean ({mean[i]:,.2f} ms) — time depends on parameters, "
                     "locks or cache")
        if calls[i] == 0 and plans[i] > 0:
            f.append(f"failing: planned {plans[i]:,.0f} times, never completed — errors are not counted "
                     "by pg_stat_statements; look in the server log")
        if df.at[i, "toplevel"] is False or (pd.notna(df.at[i, "toplevel"]) and not df.at[i, "toplevel"]):
            c = callers[i]
            if c == c:
                who = df.at[c, "query"] if isinstance(df.at[c, "query"], str) else ""
                qid = df.at[c, "queryid"]
                f.append(f"nested: runs inside another statement, likely {' '.join(who.split())[:60]!r}"
                         + (f" (queryid {qid})" if pd.notna(qid) else "") + "; its time is part of that caller's")
            else:
                f.append("nested: runs inside another statement (caller unknown); its time is part of the caller's")
        if "query_truncated" in df and bool(df.at[i, "query_truncated"]):
            f.append("text_cut: the query text in the dump is cut short")
        out.append(f)
    return pd.Series(out, index=df.index, dtype=object)
