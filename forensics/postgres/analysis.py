"""What hurt, from pg_stat_statements: the interval between two snapshots, rankings, findings.

Pure functions on the canonical frame of :func:`forensics.postgres.load.load_pgss` (or a
:class:`~forensics.postgres.load.PgssDump`); no I/O.

>>> import pandas as pd
>>> from forensics.postgres.versions import CANONICAL
>>> f = pd.DataFrame([{c: None for c in CANONICAL}] * 2)
>>> f["queryid"], f["toplevel"], f["query"] = [1, 2], [True, True], ["SELECT 1", "SELECT 2"]
>>> f["calls"], f["total_exec_time"] = [10, 30], [100.0, 300.0]
>>> rank(f, by="total_exec_time")[["rank", "queryid", "share", "cum_share"]].to_dict("records")
[{'rank': 1, 'queryid': 2, 'share': 0.75, 'cum_share': 0.75}, {'rank': 2, 'queryid': 1, 'share': 0.25, 'cum_share': 1.0}]
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from ..artifact import Provenance
from .findings import findings
from .measures import _ADDITIVE_METRICS, _IO_TIMES, MEASURE_INPUTS, METRICS  # noqa: F401 (METRICS: importers)
from .versions import ADDITIVE

_MOMENTS = (("calls", "exec"), ("plans", "plan"))


def rankable(frame) -> dict:
    """{measure: None when the dump can rank by it, else what it lacks} — a partial projection (a runbook's
    or a tool's few columns) is ranked by what it has and says what it lacks.

    >>> import pandas as pd
    >>> rankable(pd.DataFrame({"calls": [1], "total_exec_time": [2.0], "shared_blks_hit": [None]}))["hit_ratio"]
    'no shared_blks_hit, shared_blks_read values in this dump'
    """
    df = _frame(frame)
    has = lambda c: c in df and df[c].notna().any()  # noqa: E731
    out = {}
    for m, cols in MEASURE_INPUTS.items():
        ok = any(has(c) for c in cols) if m == "io_time" else all(has(c) for c in cols)
        out[m] = None if ok else f"no {', '.join(cols if m != 'io_time' else ['*_blk_*_time'])} values in this dump"
    return out


def _frame(x) -> pd.DataFrame:
    return x.statements if hasattr(x, "statements") else x


def _bare(df: pd.DataFrame) -> pd.DataFrame:
    """A shallow copy without ``attrs``: pandas deep-copies attrs (our provenance) on every operation."""
    out = df.copy(deep=False)
    out.attrs = {}
    return out


def row_key(df: pd.DataFrame) -> list[str]:
    """The entry key the frame supports: ``(userid, dbid, toplevel, queryid)``, names for ids when a
    runbook left the oids out, ``query`` when there is no queryid (extension ≤ 1.1)."""
    has = lambda c: c in df and df[c].notna().any()  # noqa: E731
    key = ["userid", "dbid"] if has("userid") and has("dbid") else [c for c in ("rolname", "datname") if has(c)]
    if has("toplevel"):
        key.append("toplevel")
    key.append("queryid" if has("queryid") else "query")
    return key


def _sum_sq(df, n, kind):
    """Σx² of an entry's timings, from its count, mean and population stddev (pg_stat_statements' own)."""
    mean, sd = df[f"mean_{kind}_time"].astype(float), df[f"stddev_{kind}_time"].astype(float)
    return n * (sd * sd + mean * mean)


def _moment_aggregation(df: pd.DataFrame) -> dict:
    """Add the ``_sq_*`` sums of squares to ``df`` (in place) and return the groupby aggregation that
    merges rows exactly: counters summed, sums of squares summed, min of mins, max of maxes."""
    for cnt, kind in _MOMENTS:
        df[f"_sq_{kind}"] = _sum_sq(df, df[cnt].astype(float), kind)
    agg = {c: "sum" for c in ADDITIVE if c in df}
    agg.update({f"_sq_{k}": "sum" for _, k in _MOMENTS})
    agg.update({c: "min" for c in df if c.startswith("min_")})
    agg.update({c: "max" for c in df if c.startswith("max_")})
    return agg


def merge_duplicates(df: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """Rows sharing a key summed into one (additive counters summed, mean/stddev recombined exactly,
    min of mins, max of maxes). Rows with unique keys pass through unchanged."""
    dup = df.duplicated(key, keep=False)
    if not dup.any():
        return df
    part = df[dup].copy()
    agg = _moment_aggregation(part)
    agg.update({c: "first" for c in part if c not in agg and c not in key})
    g = part.groupby(key, dropna=False, sort=False).agg(agg).reset_index()
    for c in ADDITIVE:  # a sum over all-missing is missing, not 0
        if c in g:
            g[c] = g[c].where(part.groupby(key, dropna=False, sort=False)[c].count().to_numpy() > 0)
    _recompute_moments(g)
    g = g.drop(columns=[f"_sq_{k}" for _, k in _MOMENTS])
    out = pd.concat([df[~dup], g[df.columns]], ignore_index=True)
    out.attrs = df.attrs
    return out


def _recompute_moments(g: pd.DataFrame) -> None:
    for cnt, kind in _MOMENTS:
        n = g[cnt].astype(float)
        tot = g[f"total_{kind}_time"].astype(float)
        mean = tot / n.where(n > 0)
        var = g[f"_sq_{kind}"] / n.where(n > 0) - mean * mean
        g[f"mean_{kind}_time"] = mean.where(n > 0, 0.0).where(tot.notna())
        g[f"stddev_{kind}_time"] = np.sqrt(var.clip(lower=0)).where(n > 0, 0.0).where(tot.notna())


def delta(before, after, *, before_info: dict | None = None, after_info: dict | None = None) -> pd.DataFrame:
    """The interval between two snapshots of the same server: what happened *between* them.

    Entries are matched on :func:`row_key`. An entry new in ``after`` is kept whole (``is_new``);
    one whose counters went down (reset, or evicted and back) or whose ``stats_since`` moved is
    kept whole too (``is_reset``) and warned about — never a negative delta. Mean and stddev are
    recomputed exactly from the cumulative moments; min/max are kept only where the interval
    certainly set them (a new maximum), else NaN. Entries with no activity in the interval are
    dropped. ``pg_stat_statements_info`` (``*_info``, or the dumps' ``info``) adds reset and
    eviction warnings.

    >>> d = delta(load_pgss("before.csv"), load_pgss("after.csv"))          # doctest: +SKIP
    """
    b, a = _frame(before), _frame(after)
    prov = _derived_provenance(a, b)
    b, a = _bare(b), _bare(a)
    if before_info is None and hasattr(before, "statements"):
        before_info = before.info
    if after_info is None and hasattr(after, "statements"):
        after_info = after.info
    kb, ka = row_key(b), row_key(a)
    key = ka if ka == kb or b.empty else [c for c in ka if c in kb]
    if "queryid" not in key and "query" not in key:
        key = [*key, "query"]
    if key != ka or key != kb:
        prov.warn(None, f"the snapshots have different key columns ({', '.join(kb)} vs {', '.join(ka)}); "
                  f"matched on {', '.join(key)}")
    b, a = merge_duplicates(b, key), merge_duplicates(a, key)
    keep = key + [c for c in ADDITIVE + ["min_exec_time", "max_exec_time", "mean_exec_time", "stddev_exec_time",
                                         "min_plan_time", "max_plan_time", "mean_plan_time", "stddev_plan_time",
                                         "stats_since", "minmax_stats_since"] if c in b and c not in key]
    m = a.merge(b[keep], on=key, how="left", suffixes=("", "_b"), indicator=True)
    matched = (m["_merge"] == "both").to_numpy()
    went_down = np.zeros(len(m), dtype=bool)
    for c in ("calls", "plans", "total_exec_time", "total_plan_time", "rows", "shared_blks_hit", "shared_blks_read"):
        if c in m:
            went_down |= (m[c].astype(float) < m[c + "_b"].astype(float)).fillna(False).to_numpy()
    moved = np.zeros(len(m), dtype=bool)
    if "stats_since" in m:
        moved = (m["stats_since"].notna() & m["stats_since_b"].notna()
                 & (m["stats_since"] != m["stats_since_b"])).to_numpy()
    is_reset = matched & (went_down | moved)
    whole = ~matched | is_reset
    out = a.copy()
    for cnt, kind in _MOMENTS:
        n_a, n_b = m[cnt].astype(float), m[cnt + "_b"].astype(float)
        # Σx² over the interval = Σx²(after) − Σx²(before); each from n·(σ² + μ²).
        q = _sum_sq(m, n_a, kind) - n_b * (m[f"stddev_{kind}_time_b"].astype(float) ** 2
                                           + m[f"mean_{kind}_time_b"].astype(float) ** 2)
        n = n_a - n_b
        tot = m[f"total_{kind}_time"].astype(float) - m[f"total_{kind}_time_b"].astype(float)
        mean = tot / n.where(n > 0)
        var = (q / n.where(n > 0) - mean * mean).clip(lower=0)
        hi_new = m[f"max_{kind}_time"].astype(float) > m[f"max_{kind}_time_b"].astype(float)
        lo_new = m[f"min_{kind}_time"].astype(float) < m[f"min_{kind}_time_b"].astype(float)
        if "minmax_stats_since" in m:  # min/max reset on their own (17+): the after values cover part of the interval
            mm, mm_b = m["minmax_stats_since"], m["minmax_stats_since_b"]
            same = ~(mm.notna() & mm_b.notna() & (mm != mm_b))
            hi_new, lo_new = hi_new & same, lo_new & same
        inc = {f"mean_{kind}_time": mean.where(n > 0, 0.0), f"stddev_{kind}_time": np.sqrt(var).where(n > 0, 0.0),
               f"max_{kind}_time": m[f"max_{kind}_time"].where(hi_new),
               f"min_{kind}_time": m[f"min_{kind}_time"].where(lo_new)}
        for c, v in inc.items():
            out[c] = np.where(whole, out[c].astype(float), v.astype(float))
    for c in ADDITIVE:
        if c in b:
            diff = m[c] - m[c + "_b"]
            out[c] = out[c].where(whole, diff) if out[c].dtype.kind != "f" else np.where(whole, out[c], diff)
    out["is_new"] = ~matched
    out["is_reset"] = is_reset
    active = (out["calls"].fillna(0).astype(float) > 0) | (out["plans"].fillna(0).astype(float) > 0) \
        | (out["total_exec_time"].fillna(0).astype(float) > 0)
    idle = int((~active).sum())
    out = out[active.to_numpy()].reset_index(drop=True)
    gone = len(b) - int(b[key].merge(a[key], on=key, how="inner").shape[0])
    _delta_warnings(prov, int(is_reset.sum()), int((~matched).sum()), gone, before_info, after_info)
    prov.details["delta"] = {"key": key, "entries_new": int((~matched).sum()), "entries_reset": int(is_reset.sum()),
                             "entries_idle_dropped": idle, "entries_gone": gone}
    prov.attach(out)
    return out


def _derived_provenance(a: pd.DataFrame, b: pd.DataFrame) -> Provenance:
    pa, pb = a.attrs.get("provenance") or {}, b.attrs.get("provenance") or {}
    fields = {f.name for f in dataclasses.fields(Provenance)}
    prov = Provenance(**{k: v for k, v in pa.items() if k in fields}) if pa else Provenance("<frame>", 0, "")
    prov.warnings = list(prov.warnings)
    prov.details = {**prov.details, "baseline": {k: pb.get(k) for k in ("path", "sha256", "format", "loaded_at")}}
    prov.parser = "forensics.postgres.analysis.delta"
    return prov


def _delta_warnings(prov, n_reset, n_new, n_gone, bi, ai) -> None:
    if n_reset:
        prov.warn(None, f"{n_reset} entries have counters lower than in the first snapshot (reset, or evicted and "
                  "back): their whole counts are used, which may cover more than the interval")
    if n_gone:
        prov.warn(None, f"{n_gone} entries of the first snapshot are gone from the second (evicted or reset)")
    if bi and ai:
        if bi.get("stats_reset") is not None and ai.get("stats_reset") is not None \
                and bi["stats_reset"] != ai["stats_reset"]:
            prov.warn(None, f"pg_stat_statements_reset() ran between the snapshots (stats_reset {ai['stats_reset']}); "
                      "counts of entries new since then cover only the time after it")
        if bi.get("dealloc") is not None and ai.get("dealloc") is not None and ai["dealloc"] > bi["dealloc"]:
            prov.warn(None, f"{ai['dealloc'] - bi['dealloc']} entries were evicted between the snapshots "
                      f"(pg_stat_statements.max too small): {n_new} 'new' entries may be old statements that came back")


# ----------------------------------------------------------------------------- ranking

def with_measures(df: pd.DataFrame) -> pd.DataFrame:
    """Add ``blocks``, ``hit_ratio``, ``io_time`` and ``elapsed`` (plan + exec; plan NaN counts as 0)."""
    out = df.copy()
    hit, read = out["shared_blks_hit"].astype(float), out["shared_blks_read"].astype(float)
    out["blocks"] = hit + read
    out["hit_ratio"] = hit / out["blocks"].where(out["blocks"] > 0)
    io = out[[c for c in _IO_TIMES if c in out]].astype(float)
    out["io_time"] = io.sum(axis=1, min_count=1)
    out["elapsed"] = out["total_plan_time"].astype(float).fillna(0) + out["total_exec_time"].astype(float)
    return out


def group_statements(df: pd.DataFrame, group: str = "row") -> pd.DataFrame:
    """Rows as they are (``row``), or summed per ``queryid`` or pglast ``fingerprint`` (top-level and
    nested kept apart, so that nesting is never double-counted)."""
    if group == "row":
        return df
    if group not in ("queryid", "fingerprint"):
        raise ValueError(f"group must be row, queryid or fingerprint, not {group!r}")
    from .fingerprint import add_fingerprints

    src = add_fingerprints(df) if group == "fingerprint" else df.copy()
    # a row with no key (no query text to fingerprint, no queryid) is its own statement: never merge such rows
    missing = src[group].isna() | (src["query"].isna() if group == "fingerprint" and "query" in src else False)
    if missing.any():
        src[group] = src[group].astype(object).where(~missing, [f"(row {i})" for i in range(len(src))])
    key = [group] + (["toplevel"] if src["toplevel"].notna().any() else [])
    src = src.sort_values("total_exec_time", ascending=False, na_position="last", kind="stable")
    agg = _moment_aggregation(src)
    for c in ("query", "query_truncated", "datname", "rolname", "queryid", "fingerprint", "fingerprint_ok",
              "toplevel"):
        if c in src and c not in key:
            agg[c] = "first"
    gb = src.groupby(key, dropna=False, sort=False)
    g = gb.agg(agg).reset_index()
    counts = gb[[c for c in ADDITIVE if c in src]].count().reset_index(drop=True)
    for c in counts:
        g[c] = g[c].where(counts[c].to_numpy() > 0)
    g["entries"] = gb.size().to_numpy()
    g["queryids"] = gb["queryid"].agg(lambda s: sorted({int(x) for x in s.dropna()})).to_numpy()
    _recompute_moments(g)
    g = g.drop(columns=[f"_sq_{k}" for _, k in _MOMENTS])
    g.attrs = df.attrs
    return g


def rank(frame, by: str = "total_exec_time", group: str = "row", min_blocks: int = 100,
         top: int | None = None) -> pd.DataFrame:
    """Statements ordered by ``by`` (worst first), with ``share`` of the total and ``cum_share``.

    ``by``: any of :data:`METRICS` (``hit_ratio`` ranks ascending, over rows with at least
    ``min_blocks`` shared blocks). Shares are of the top-level total: with ``track=all`` a nested
    statement's time is already inside its caller's, so nested rows show their share but do not add
    to ``cum_share`` (``calls`` are not nested and all count). For ``mean_exec_time`` and
    ``hit_ratio`` the share is of execution time. A projection that prints each statement's share of the
    server's total (pg-extras' ``prop_exec_time``) keeps that share: its rows are only the top ones.
    ``attrs["share_basis"]`` says what the shares are of. Each row gets ``findings`` (see
    :mod:`forensics.postgres.findings`).
    """
    df = _frame(frame)
    attrs = df.attrs
    df = _bare(df)
    if by not in METRICS:
        if by not in df or not pd.api.types.is_numeric_dtype(df[by]):
            raise ValueError(f"cannot rank by {by!r}; choose one of {', '.join(METRICS)} or a numeric column")
    g = with_measures(group_statements(df, group))
    g["findings"] = findings(g)
    nested = g["toplevel"].eq(False).fillna(False).to_numpy()
    share_of = by if by in _ADDITIVE_METRICS or by not in METRICS else "total_exec_time"
    vals = g[share_of].astype(float)
    denom = vals[~nested].sum() if share_of != "calls" else vals.sum()
    g["value"] = g[by].astype(float)
    g["share"] = vals / denom if denom and math.isfinite(denom) else np.nan
    share_basis = "the statements in the dump"
    if share_of == "total_exec_time" and "prop_exec_time" in g and len(g) and g["prop_exec_time"].notna().all():
        # a tool's projection (pg-extras `outliers`) lists only its top rows, but prints each one's share of the
        # server's whole execution time: that is the share, not the share among the rows the paste holds
        g["share"] = g["prop_exec_time"].astype(float) / 100
        share_basis = "all statements' execution time on the server (the dump's own prop_exec_time)"
    g = g[g["value"].notna()]
    if by == "hit_ratio":
        g = g[g["blocks"] >= min_blocks]
    elif METRICS.get(by) == "desc" and by in _ADDITIVE_METRICS:
        g = g[g["value"] > 0]
    g = g.sort_values(["value", "total_exec_time"], ascending=[METRICS.get(by, "desc") == "asc", False],
                      kind="stable", na_position="last").reset_index(drop=True)
    counted = g["share"].where(~g["toplevel"].eq(False).fillna(False) | (share_of == "calls"), 0.0)
    g["cum_share"] = counted.fillna(0).cumsum().where(g["share"].notna())
    g.insert(0, "rank", np.arange(1, len(g) + 1))
    if top:
        g = g.head(top)
    g = g.reset_index(drop=True)
    g.attrs = {**attrs, "share_basis": share_basis}
    return g


def cumulative_vs_interval(before, after, by: str = "total_exec_time", top: int = 5) -> pd.DataFrame:
    """Top statements of the cumulative ``after`` snapshot next to the interval's — why the interval matters."""
    cum = rank(after, by=by, top=top)
    inter = rank(delta(before, after), by=by, top=top)
    short = lambda q: q.fillna("").str.replace(r"\s+", " ", regex=True).str.slice(0, 60)  # noqa: E731
    return pd.DataFrame({"rank": np.arange(1, top + 1),
                         "cumulative": short(cum["query"]).reindex(range(top)).to_numpy(),
                         "cumulative_share": cum["share"].reindex(range(top)).round(3).to_numpy(),
                         "interval": short(inter["query"]).reindex(range(top)).to_numpy(),
                         "interval_share": inter["share"].reindex(range(top)).round(3).to_numpy()})


def worst_by_measure(frame, measures=("total_exec_time", "calls", "total_plan_time", "temp_blks_written",
                                       "hit_ratio"), min_blocks: int = 100) -> pd.DataFrame:
    """The worst statement for each measure: one row per measure (``queryid``/``query`` empty when none).

    A measure can have no statement at all — no planning time recorded (``track_planning`` off), nothing
    spilled, no statement over ``min_blocks`` blocks — and the row then says so in ``note``.

    >>> from forensics.postgres.load import load_pgss
    >>> before = load_pgss("sample_data/postgres/before.csv").statements
    >>> after = load_pgss("sample_data/postgres/after.csv").statements
    >>> w = worst_by_measure(delta(before, after), ["total_exec_time", "calls"])
    >>> [q[:40] for q in w["query"]]
    ['SELECT id, status, amount, created_at FR', 'SELECT name, price FROM products WHERE i']
    """
    rows = []
    for by in measures:
        try:
            r = rank(frame, by=by, min_blocks=min_blocks, top=1)
        except ValueError as e:  # a column this dump's version does not have
            rows.append({"measure": by, "queryid": None, "query": None, "value": np.nan, "findings": [],
                         "note": str(e)})
            continue
        if r.empty:
            rows.append({"measure": by, "queryid": None, "query": None, "value": np.nan, "findings": [],
                         "note": "no statement has any" if by != "hit_ratio"
                         else f"no statement touched {min_blocks:,} blocks"})
            continue
        top = r.iloc[0]
        rows.append({"measure": by, "queryid": top.get("queryid"), "query": top.get("query"),
                     "value": float(top["value"]), "findings": list(top["findings"]), "note": ""})
    return pd.DataFrame(rows, columns=["measure", "queryid", "query", "value", "findings", "note"])
