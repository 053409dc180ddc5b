"""Why a plan is slow: findings over the node frame of :func:`forensics.postgres.plan.load_plan`, the
tree drawn with its hot path, and two plans of one statement compared. Pure functions, no I/O.

Findings (thresholds in :data:`THRESHOLDS`), each a dict ``{code, plan, node, severity, text, ...}``
whose text is computed from the plan's own numbers:

| code | rule |
|---|---|
| ``hot_node`` | the node with the most exclusive time (and its share of the plan's time) |
| ``misestimate`` | the node whose rows per loop are furthest from the estimate (≥ 10×) |
| ``seq_scan_filter`` | a Seq Scan whose filter removes ≥ 90 % of ≥ 1,000 rows read |
| ``missing_index`` | that scan's filter columns — the columns an index would serve (a hint, not a certainty) |
| ``index_filter`` | an index scan whose Filter throws away ≥ 90 % of ≥ 1,000 rows it fetched (index too narrow) |
| ``spill`` | a sort or hash that went to disk (``Disk:``, hash batches > 1, temp blocks written) |
| ``nested_loop_misestimate`` | a Nested Loop whose outer side returned ≥ 10× its estimate, so the inner side ran that much more often |
| ``never_executed`` | nodes the executor never reached (``never executed``) |
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

THRESHOLDS = {"misestimate": 10.0, "filter_share": 0.9, "filter_rows": 1000, "nested_outer": 10.0,
              "hot_share": 0.0}
_IDENT = re.compile(r"(?<![\w.'\"$])(?:\w+\.)?([a-z_][a-z0-9_]*)(?![\w(])")
_NOT_COLUMNS = {"and", "or", "not", "is", "null", "true", "false", "any", "all", "in", "like", "ilike", "between",
                "text", "integer", "bigint", "numeric", "timestamp", "without", "with", "time", "zone", "date",
                "character", "varying", "double", "precision", "boolean", "interval", "array", "jsonb", "json",
                "smallint", "real", "uuid", "bpchar", "name", "oid", "regclass", "varchar"}


def _fmt_ms(ms: float) -> str:
    if ms is None or not np.isfinite(ms):
        return "unknown"
    return f"{ms / 1000:,.2f} s" if ms >= 1000 else f"{ms:,.3f} ms"


def _at(r) -> str:
    """`` (line N)`` for a node whose line in the file is known (a plan in a JSON log line has none)."""
    v = getattr(r, "source", None)
    try:
        return f" (line {int(v)})" if v is not None and np.isfinite(float(v)) else ""
    except (TypeError, ValueError):
        return f" ({v})" if isinstance(v, str) and v else ""


def filter_columns(expr: str | None) -> list[str]:
    """Column names a filter expression compares (string literals and casts skipped).

    >>> filter_columns("((status = 'open'::text) AND (customer_id = 42))")
    ['status', 'customer_id']
    """
    if not expr:
        return []
    s = re.sub(r"'(?:[^']|'')*'", "''", expr)
    s = re.sub(r"::[\w ]+(?:\[\])?", "", s)
    out = []
    for m in _IDENT.finditer(s):
        name = m.group(1)
        if name not in _NOT_COLUMNS and name not in out and not name.isdigit():
            out.append(name)
    return out


def _label(r) -> str:
    on = r.relation if isinstance(r.relation, str) else None
    idx = r.index if isinstance(r.index, str) else None
    text = r.node_text if isinstance(r.node_text, str) else r.node_type
    if on and on not in text:
        text += f" on {on}"
    if idx and idx not in text:
        text += f" using {idx}"
    return text


def filter_share(r) -> tuple[float, float, float, float] | None:
    """(rows read, rows kept, lowest, highest share removed by the filter) over all loops. Before PostgreSQL
    18 rows per loop are printed rounded to whole numbers, so with many loops each per-loop figure is
    ±0.5: the share is a range (PEV2 issue 648: "1 removed, 0 kept" per loop was 60 %, not 100 %)."""
    if pd.isna(r.rows_removed_by_filter) or pd.isna(r.actual_rows):
        return None
    loops = r.loops if r.loops and r.loops > 0 else 1
    removed, kept = r.rows_removed_by_filter, r.actual_rows
    slack = 0.5 if loops > 1 and float(removed).is_integer() and float(kept).is_integer() else 0.0
    lo_rm, hi_rm = max(removed - slack, 0), removed + slack
    lo_kp, hi_kp = max(kept - slack, 0), kept + slack
    lo = lo_rm / (lo_rm + hi_kp) if lo_rm + hi_kp > 0 else 0.0
    hi = hi_rm / (hi_rm + lo_kp) if hi_rm + lo_kp > 0 else 0.0
    return (removed + kept) * loops, kept * loops, lo, hi


def _share_text(lo: float, hi: float) -> str:
    return f"{lo:.1%}" if abs(hi - lo) < 0.0005 else f"between {lo:.1%} and {hi:.1%} (rows per loop are rounded)"


def plan_total_ms(nodes: pd.DataFrame, plans: pd.DataFrame | None, plan: int) -> float:
    """The plan's time: Execution Time when printed, else the root's inclusive time, else auto_explain's duration."""
    if plans is not None and len(plans) > plan:
        for c in ("execution_ms", "duration_ms"):
            v = plans.iloc[plan].get(c)
            if v is not None and np.isfinite(v):
                return float(v)
    root = nodes[(nodes["plan"] == plan) & nodes["parent"].isna()]
    return float(root["inclusive_ms"].sum(min_count=1)) if len(root) else float("nan")


def findings(dump_or_nodes, plans: pd.DataFrame | None = None) -> list[dict]:
    """Findings for every plan in a :class:`~forensics.postgres.plan.PlanDump` (or a node frame)."""
    nodes = getattr(dump_or_nodes, "nodes", dump_or_nodes)
    plans = getattr(dump_or_nodes, "plans", plans)
    out: list[dict] = []
    for pno, g in nodes.groupby("plan", sort=True):
        out.extend(_plan_findings(g, nodes, plans, int(pno)))
    return out


def _plan_findings(g: pd.DataFrame, nodes, plans, pno: int) -> list[dict]:
    out = []
    total = plan_total_ms(nodes, plans, pno)
    by_id = g.set_index("id")
    ex = g["exclusive_ms"]
    if ex.notna().any() and ex.max() > 0:
        r = g.loc[ex.idxmax()]
        procs = r.inclusive_ms / r.wall_ms if r.wall_ms and r.wall_ms > 0 else 1.0
        own = r.exclusive_ms / procs  # parallel workers run at once: their summed time is not wall time
        share = own / total if total and np.isfinite(total) and total > 0 else float("nan")
        text = f"{_label(r)}{_at(r)} spends the most time itself: {_fmt_ms(r.exclusive_ms)}"
        if procs > 1:
            text += f" summed over {procs:.0f} parallel processes (≈{_fmt_ms(own)} each)"
        if np.isfinite(share):
            text += f", {share:.0%} of the plan's {_fmt_ms(total)}"
        if r.loops and r.loops > 1 and procs <= 1:
            text += f" over {int(r.loops):,} loops"
        if bool(r.get("children_missing", False)):
            text += " — but the paste is cut below it, so this includes its missing children's time"
        out.append({"code": "hot_node", "plan": pno, "node": int(r.id), "severity": "info", "value": r.exclusive_ms,
                    "share": share, "text": text})
    elif ex.notna().any():
        out.append({"code": "hot_node", "plan": pno, "node": None, "severity": "info", "value": 0.0,
                    "text": "unknown: every node's time is printed as 0.000 ms (below the printed precision)"})
    elif g["loops"].notna().any():
        out.append({"code": "hot_node", "plan": pno, "node": None, "severity": "info", "value": None,
                    "text": "unknown: the plan has no per-node times (EXPLAIN ANALYZE with TIMING OFF, or no ANALYZE)"})
    mis = g["misestimate"].abs()
    if mis.notna().any() and mis.max() >= THRESHOLDS["misestimate"]:
        # ties: the deepest node, where the misestimate starts (the nodes above inherit it)
        order = pd.DataFrame({"f": mis.round(1), "d": g["depth"]}).sort_values(["f", "d"], ascending=False)
        r = g.loc[order.index[0]]
        way = "more" if r.misestimate > 0 else "fewer"
        out.append({"code": "misestimate", "plan": pno, "node": int(r.id), "severity": "warning",
                    "value": float(r.misestimate),
                    "text": f"{_label(r)}{_at(r)} returned {abs(r.misestimate):,.0f}× {way} rows than "
                            f"estimated ({r.actual_rows:,.0f} per loop vs {r.plan_rows:,.0f} planned)"})
    for r in g.itertuples():
        fs = filter_share(r) if r.node_type == "Seq Scan" else None
        if fs:
            read, kept, lo, hi = fs
            # the lowest share the printed figures allow must pass: a rounding never makes a finding
            if read >= THRESHOLDS["filter_rows"] and lo >= THRESHOLDS["filter_share"]:
                out.append({"code": "seq_scan_filter", "plan": pno, "node": int(r.id), "severity": "warning",
                            "value": lo,
                            "text": f"{_label(r)}{_at(r)} read {read:,.0f} rows to keep {kept:,.0f}: its "
                                    f"filter removed {_share_text(lo, hi)}"})
                cols = filter_columns(r.filter)
                if cols:
                    out.append({"code": "missing_index", "plan": pno, "node": int(r.id), "severity": "info",
                                "value": None, "columns": cols,
                                "text": f"hint: an index on {r.relation} ({', '.join(cols)}) could serve the filter "
                                        f"{r.filter} — check its selectivity and existing indexes first"})
        fs = filter_share(r) if r.node_type in ("Index Scan", "Index Only Scan", "Bitmap Heap Scan") else None
        if fs:
            read, kept, lo, hi = fs
            if read >= THRESHOLDS["filter_rows"] and lo >= THRESHOLDS["filter_share"]:
                cols = filter_columns(r.filter)
                out.append({"code": "index_filter", "plan": pno, "node": int(r.id), "severity": "warning",
                            "value": lo, "columns": cols,
                            "text": f"{_label(r)}{_at(r)} fetched {read:,.0f} rows through the index and its "
                                    f"filter threw away {_share_text(lo, hi)}: the index does not cover "
                                    f"{', '.join(cols) or 'the filter'} (a hint: a wider index)"})
        spill = None
        if isinstance(r.sort_space_type, str) and r.sort_space_type == "Disk":
            spill = f"sort spilled to disk ({r.sort_method}, {r.sort_space_kb:,.0f} kB)"
        elif pd.notna(r.hash_batches) and r.hash_batches > 1:
            spill = f"hash ran in {r.hash_batches:,.0f} batches" + (
                f" (planned {r.original_hash_batches:,.0f})" if pd.notna(r.original_hash_batches) else "")
        elif pd.notna(r.hashagg_batches) and r.hashagg_batches > 1:
            spill = f"hash aggregate ran in {r.hashagg_batches:,.0f} batches ({r.disk_kb or 0:,.0f} kB on disk)"
        elif pd.notna(r.temp_written_excl) and r.temp_written_excl > 0 and r.node_type in (
                "Sort", "Hash", "Aggregate", "Materialize", "CTE Scan", "WindowAgg", "Incremental Sort"):
            spill = f"wrote {r.temp_written_excl:,.0f} temp blocks"
        if spill:
            out.append({"code": "spill", "plan": pno, "node": int(r.id), "severity": "warning", "value": None,
                        "text": f"{_label(r)}{_at(r)}: {spill} — work_mem too small for it"})
        if r.node_type == "Nested Loop":
            kids = g[(g["parent"] == r.id) & g["parent_relationship"].isin(["Outer", "Inner"])]
            outer = kids[kids["parent_relationship"] == "Outer"]
            inner = kids[kids["parent_relationship"] == "Inner"]
            if len(outer) and len(inner):
                o, i = outer.iloc[0], inner.iloc[0]
                if pd.notna(o.misestimate) and o.misestimate >= THRESHOLDS["nested_outer"]:
                    out.append({"code": "nested_loop_misestimate", "plan": pno, "node": int(r.id),
                                "severity": "warning", "value": float(o.misestimate),
                                "text": f"Nested Loop{_at(r)}: its outer side {_label(o)} returned "
                                        f"{o.actual_rows:,.0f} rows per loop where {o.plan_rows:,.0f} were estimated, "
                                        f"so the inner side {_label(i)} ran {i.loops:,.0f} times"
                                        + (f" ({_fmt_ms(i.inclusive_ms)})" if pd.notna(i.inclusive_ms) else "")})
    never = g[g["never_executed"]]
    if len(never):
        out.append({"code": "never_executed", "plan": pno, "node": None, "severity": "info", "value": len(never),
                    "text": f"{len(never)} node(s) never executed: " + ", ".join(_label(r) for r in never.itertuples())})
    del by_id
    return out


def hot_path(nodes: pd.DataFrame, plan: int = 0) -> list[int]:
    """Node ids from the root down to the node with the most exclusive time."""
    g = nodes[nodes["plan"] == plan]
    if g["exclusive_ms"].notna().any() and g["exclusive_ms"].max() > 0:
        node = int(g.loc[g["exclusive_ms"].idxmax(), "id"])
    elif len(g):
        return [int(g.iloc[0]["id"])]
    else:
        return []
    parent = dict(zip(g["id"], g["parent"]))
    path = [node]
    while pd.notna(parent.get(path[-1])):
        path.append(int(parent[path[-1]]))
    return path[::-1]


def draw_tree(nodes: pd.DataFrame, plan: int = 0, width: int = 100) -> str:
    """The plan as an indented tree; ``*`` marks the hot path, each line ends with exclusive time and rows."""
    g = nodes[nodes["plan"] == plan]
    hot = set(hot_path(nodes, plan))
    kids: dict = {}
    for r in g.itertuples():
        kids.setdefault(r.parent if pd.notna(r.parent) else None, []).append(r)
    lines: list[str] = []

    def walk(r, prefix: str, last: bool):
        mark = "*" if r.id in hot else " "
        branch = "" if r.parent is None or pd.isna(r.parent) else ("└─ " if last else "├─ ")
        rel = f"[{r.subplan_name}] " if isinstance(r.subplan_name, str) else ""
        stats = []
        if pd.notna(r.exclusive_ms):
            stats.append(f"self {_fmt_ms(r.exclusive_ms)}")
        if pd.notna(r.actual_rows):
            stats.append(f"rows {r.actual_rows:,.0f}/{r.plan_rows:,.0f} est" if pd.notna(r.plan_rows)
                         else f"rows {r.actual_rows:,.0f}")
        if pd.notna(r.loops) and r.loops > 1:
            stats.append(f"×{r.loops:,.0f} loops")
        if r.never_executed:
            stats.append("never executed")
        head = f"{mark} {prefix}{branch}{rel}{_label(r)}"
        tail = "  (" + ", ".join(stats) + ")" if stats else ""
        lines.append((head + tail)[: max(width, 40)])
        children = kids.get(r.id, [])
        for k, c in enumerate(children):
            walk(c, prefix + ("" if branch == "" else ("   " if last else "│  ")), k == len(children) - 1)

    for k, root in enumerate(kids.get(None, [])):
        walk(root, "", k == len(kids.get(None, [])) - 1)
    return "\n".join(lines)


def _signature(g: pd.DataFrame) -> pd.Series:
    """A node's place in its plan independent of ids: node types and relations from the root down."""
    by_id = g.set_index("id")
    sig = {}
    for i in by_id.index:
        parts, p = [], i
        while pd.notna(p):
            r = by_id.loc[int(p)]
            parts.append(f"{r.node_type}:{r.relation if isinstance(r.relation, str) else ''}")
            p = r.parent
        sig[i] = "/".join(parts[::-1])
    return g["id"].map(sig)


def compare_plans(a, b, plan_a: int = 0, plan_b: int = 0) -> dict:
    """Two plans of one statement side by side: totals, nodes matched by their place in the tree (type and
    relation on the path from the root), scans whose access method changed, time moved per node."""
    na, nb = getattr(a, "nodes", a), getattr(b, "nodes", b)
    pa, pb = getattr(a, "plans", None), getattr(b, "plans", None)
    ga, gb = na[na["plan"] == plan_a].copy(), nb[nb["plan"] == plan_b].copy()
    ga["signature"], gb["signature"] = _signature(ga), _signature(gb)
    ga["occurrence"] = ga.groupby("signature").cumcount()
    gb["occurrence"] = gb.groupby("signature").cumcount()
    keep = ["signature", "occurrence", "node_text", "relation", "index", "exclusive_ms", "actual_rows", "plan_rows",
            "loops"]
    m = ga[keep].merge(gb[keep], on=["signature", "occurrence"], how="outer", suffixes=("_a", "_b"), indicator=True)
    m["delta_exclusive_ms"] = m["exclusive_ms_b"] - m["exclusive_ms_a"]
    m = m.sort_values("delta_exclusive_ms", key=lambda s: s.abs(), ascending=False, na_position="last")
    scans_a = {r: t for r, t in zip(ga["relation"], ga["node_type"]) if isinstance(r, str)}
    scans_b = {r: t for r, t in zip(gb["relation"], gb["node_type"]) if isinstance(r, str)}
    changed = [{"relation": r, "a": scans_a[r], "b": scans_b[r]} for r in scans_a
               if r in scans_b and scans_a[r] != scans_b[r]]
    ta, tb = plan_total_ms(na, pa, plan_a), plan_total_ms(nb, pb, plan_b)
    return {"total_ms_a": ta, "total_ms_b": tb,
            "speedup": ta / tb if tb and np.isfinite(ta) and np.isfinite(tb) and tb > 0 else float("nan"),
            "access_changed": changed, "only_in_a": m.loc[m["_merge"] == "left_only", "node_text_a"].tolist(),
            "only_in_b": m.loc[m["_merge"] == "right_only", "node_text_b"].tolist(),
            "nodes": m.drop(columns="_merge").reset_index(drop=True)}
