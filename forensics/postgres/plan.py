"""Load EXPLAIN plans — text as psql prints it (or bare), JSON, YAML, XML, auto_explain in a server log —
into one node frame.

>>> from forensics.postgres.plan import load_plan
>>> p = load_plan("tests/postgres/wild/plans/pev2-98.parallel.txt")          # doctest: +SKIP
>>> p.nodes[["id", "parent", "node_type", "relation", "inclusive_ms", "exclusive_ms"]]   # doctest: +SKIP

Times follow explain.depesz.com: a node's ``actual time`` is per loop, so **inclusive** time is
``actual total time × loops`` and **exclusive** time is inclusive minus the children's inclusive
(InitPlans and SubPlans included), never below zero — a parallel node's workers run at the same
time, so their summed loops can exceed the Gather above them; ``wall_ms`` divides those by the
processes that ran them (workers launched + leader), as PEV2 does.
"""
from __future__ import annotations

import os
import re
import textwrap
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..artifact import Provenance, open_readonly, provenance_for
from ..errors import ArtifactError
from .plan_formats import PlanFormatError, detect_plan_format, parse_structured
from .plan_text import explain_command, parse_text_plan, strip_psql

MAX_BYTES = 256 << 20
_HEADER = re.compile(r"^\s*QUERY PLAN\s*$", re.M)
_RULEISH = re.compile(r"^\s*(?:QUERY PLAN\s*|-{5,}\s*|-\[ RECORD \d+ \].*)$")  # psql's header, rule, record lines
#: Node types that always have a child (one with none means the paste was cut).
NEEDS_CHILD = {"Sort", "Incremental Sort", "Hash", "Materialize", "Limit", "Gather", "Gather Merge", "Unique",
               "Memoize", "LockRows", "WindowAgg", "Subquery Scan", "SetOp", "ProjectSet"}
NEEDS_TWO = {"Nested Loop", "Hash Join", "Merge Join"}

#: JSON field -> frame column.
_FIELDS = {
    "Node Type": "node_type", "Relation Name": "relation", "Schema": "schema", "Alias": "alias",
    "Index Name": "index", "Join Type": "join_type", "Strategy": "strategy", "Partial Mode": "partial_mode",
    "Parent Relationship": "parent_relationship", "Subplan Name": "subplan_name", "Parallel Aware": "parallel_aware",
    "CTE Name": "cte_name", "Function Name": "function_name", "Operation": "operation",
    "Startup Cost": "startup_cost", "Total Cost": "total_cost", "Plan Rows": "plan_rows", "Plan Width": "plan_width",
    "Actual Startup Time": "actual_startup_ms", "Actual Total Time": "actual_total_ms", "Actual Rows": "actual_rows",
    "Actual Loops": "loops", "Rows Removed by Filter": "rows_removed_by_filter",
    "Rows Removed by Join Filter": "rows_removed_by_join_filter",
    "Rows Removed by Index Recheck": "rows_removed_by_index_recheck",
    "Shared Hit Blocks": "shared_hit", "Shared Read Blocks": "shared_read", "Shared Dirtied Blocks": "shared_dirtied",
    "Shared Written Blocks": "shared_written", "Local Hit Blocks": "local_hit", "Local Read Blocks": "local_read",
    "Temp Read Blocks": "temp_read", "Temp Written Blocks": "temp_written",
    "Sort Method": "sort_method", "Sort Space Type": "sort_space_type", "Sort Space Used": "sort_space_kb",
    "Hash Batches": "hash_batches", "Original Hash Batches": "original_hash_batches", "HashAgg Batches": "hashagg_batches",
    "Peak Memory Usage": "peak_memory_kb", "Disk Usage": "disk_kb",
    "Workers Planned": "workers_planned", "Workers Launched": "workers_launched",
    "Filter": "filter", "Index Cond": "index_cond", "Hash Cond": "hash_cond", "Join Filter": "join_filter",
    "Recheck Cond": "recheck_cond", "Merge Cond": "merge_cond", "Group Key": "group_key", "Sort Key": "sort_key",
}
NUMERIC = ["startup_cost", "total_cost", "plan_rows", "plan_width", "actual_startup_ms", "actual_total_ms",
           "actual_rows", "loops", "rows_removed_by_filter", "rows_removed_by_join_filter",
           "rows_removed_by_index_recheck", "shared_hit", "shared_read", "shared_dirtied", "shared_written",
           "local_hit", "local_read", "temp_read", "temp_written", "sort_space_kb", "hash_batches",
           "original_hash_batches", "hashagg_batches", "peak_memory_kb", "disk_kb", "workers_planned",
           "workers_launched"]
COLUMNS = ["plan", "id", "parent", "depth", "node_type", "node_text", *[c for c in _FIELDS.values() if c != "node_type"],
           "inclusive_ms", "exclusive_ms", "wall_ms", "rows_total", "plan_rows_total", "misestimate",
           "shared_read_excl", "temp_written_excl", "never_executed", "source"]


@dataclass
class PlanDump:
    """Plans from one file: ``nodes`` (one row per plan node, every plan), ``plans`` (one row per plan)."""

    nodes: pd.DataFrame
    plans: pd.DataFrame
    provenance: Provenance
    form: str = "text"
    queries: list = field(default_factory=list)

    def __repr__(self) -> str:
        return (f"PlanDump({len(self.plans)} plan(s), {len(self.nodes)} nodes, form={self.form!r}, "
                f"{os.path.basename(self.provenance.path)})")


def split_pastes(text: str) -> list[tuple[int, str]]:
    """(first line, text) of each plan in a paste of several (one per ``QUERY PLAN`` header)."""
    starts = [m.start() for m in _HEADER.finditer(text)]
    if len(starts) <= 1:
        return [(1, text)]
    out = []
    for k, s in enumerate(starts):
        begin = s if k else 0
        end = starts[k + 1] if k + 1 < len(starts) else len(text)
        out.append((text.count("\n", 0, begin) + 1, text[begin:end]))
    return out


def parse_plans(text: str) -> tuple[list[dict], str]:
    """Plans (node dicts + summary) of a paste in any EXPLAIN format, and which format it was."""
    plans, form = [], "text"
    for first_line, chunk in split_pastes(text):
        body, skipped = strip_psql(chunk)
        lines = chunk.splitlines()
        first_plan_line = next((i for i, b in enumerate(body.splitlines()) if b.strip()), 0) + skipped
        command = explain_command([ln for ln in lines[:first_plan_line] if not _RULEISH.match(ln)])
        fmt = detect_plan_format(body)
        if fmt == "text":
            got = [parse_text_plan(body)]
            for n in got[0]["nodes"]:
                n["_line"] = n.get("_line", 0) + first_line - 1 + skipped
            got = [p for p in got if p["nodes"]]
        else:
            form = fmt
            got = parse_structured(textwrap.dedent(body), fmt)
        for p in got:
            if command and not p.get("Query Text"):
                p["Query Text"] = command
        plans.extend(got)
    return plans, form


def _num(v):
    if v is None or isinstance(v, bool):
        return np.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return np.nan


def node_frame(plans: list[dict]) -> pd.DataFrame:
    """The node frame of parsed plans (see the module docstring for the time columns)."""
    rows = []
    for pno, plan in enumerate(plans):
        for i, n in enumerate(plan["nodes"]):
            r = {"plan": pno, "id": i, "parent": n.get("_parent"), "depth": n.get("_depth", 0),
                 "node_text": n.get("_text") or n.get("Node Type"), "source": n.get("_line")}
            for k, col in _FIELDS.items():
                v = n.get(k)
                if isinstance(v, list):
                    v = ", ".join(map(str, v))
                r[col] = v
            rows.append(r)
    df = pd.DataFrame(rows, columns=[c for c in COLUMNS if c not in ("inclusive_ms", "exclusive_ms", "wall_ms",
                                                                        "rows_total", "plan_rows_total",
                                                                        "misestimate", "shared_read_excl",
                                                                        "temp_written_excl", "never_executed")])
    for c in NUMERIC:
        df[c] = pd.to_numeric(df[c].map(_num), errors="coerce").astype(float)
    df["parent"] = df["parent"].astype("Int64")
    df["parallel_aware"] = df["parallel_aware"].map(lambda v: bool(v) if v is not None else False)
    df["never_executed"] = df["loops"].eq(0)
    loops = df["loops"].where(df["loops"] > 0)
    df["inclusive_ms"] = df["actual_total_ms"] * df["loops"]
    df["rows_total"] = df["actual_rows"] * df["loops"]
    df["plan_rows_total"] = df["plan_rows"] * loops
    # misestimate: how many times more (positive) or fewer (negative) rows per loop than planned
    act, est = df["actual_rows"].clip(lower=1), df["plan_rows"].clip(lower=1)
    ratio = act / est
    df["misestimate"] = np.where(ratio >= 1, ratio, -1 / ratio)
    df.loc[df["loops"].fillna(0) <= 0, "misestimate"] = np.nan
    df["exclusive_ms"] = np.nan
    df["wall_ms"] = df["inclusive_ms"]
    df["shared_read_excl"] = df["shared_read"]
    df["temp_written_excl"] = df["temp_written"]
    for pno, g in df.groupby("plan", sort=False):
        idx = g.index
        parent = g["parent"]
        child_incl = g.groupby(parent)["inclusive_ms"].sum(min_count=1)
        mapped = g["id"].map(child_incl)
        df.loc[idx, "exclusive_ms"] = (g["inclusive_ms"] - mapped.fillna(0)).clip(lower=0)
        for col in ("shared_read", "temp_written"):
            sums = g.groupby(parent)[col].sum(min_count=1)
            df.loc[idx, f"{col}_excl"] = (g[col] - g["id"].map(sums).fillna(0)).clip(lower=0)
        procs = _parallel_processes(g)
        df.loc[idx, "wall_ms"] = g["inclusive_ms"] / procs
    return df[COLUMNS]


def _parallel_processes(g: pd.DataFrame) -> pd.Series:
    """For each node, the processes running it at once: workers launched + 1 below a Gather, else 1."""
    by_id = g.set_index("id")
    out = {}
    for i in by_id.index:
        p, n = by_id.at[i, "parent"], 1.0
        while pd.notna(p):
            if by_id.at[int(p), "node_type"] in ("Gather", "Gather Merge"):
                w = by_id.at[int(p), "workers_launched"]
                w = by_id.at[int(p), "workers_planned"] if pd.isna(w) else w
                n = (w if pd.notna(w) else 0) + 1
                break
            p = by_id.at[int(p), "parent"]
        out[i] = n
    return g["id"].map(out)


def plan_summary(plans: list[dict], nodes: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for pno, p in enumerate(plans):
        g = nodes[nodes["plan"] == pno]
        root = g[g["parent"].isna()]
        rows.append({"plan": pno, "nodes": len(g), "query_text": p.get("Query Text"),
                     "planning_ms": _num(p.get("Planning Time")), "execution_ms": _num(p.get("Execution Time")),
                     "duration_ms": _num(p.get("_duration_ms")),
                     "root_inclusive_ms": float(root["inclusive_ms"].sum(min_count=1)) if len(root) else np.nan,
                     "analyze": bool(g["loops"].notna().any()), "timing": bool(g["actual_total_ms"].notna().any()),
                     "buffers": bool(g[["shared_hit", "shared_read", "local_hit", "temp_read"]].notna().any().any()),
                     "fragment": bool(p.get("fragment", False)), "time": p.get("_time"), "pid": p.get("_pid"),
                     "source": p.get("_source")})
    return pd.DataFrame(rows)


def check_plan(nodes: pd.DataFrame, prov: Provenance) -> None:
    """Warn where a plan is visibly incomplete: a node that always has a child shows none."""
    kids = nodes.groupby(["plan", "parent"]).size()
    nodes["children_missing"] = False
    for r in nodes.itertuples():
        n = kids.get((r.plan, r.id), 0)
        need = 2 if r.node_type in NEEDS_TWO else 1 if r.node_type in NEEDS_CHILD else 0
        if n < need:
            nodes.loc[r.Index, "children_missing"] = True
            prov.warn(f"line {r.source}" if r.source is not None else None,
                      f"{r.node_text} has {n} child node(s) where it always has {need}: the plan is cut short here; "
                      "its exclusive time includes the missing children's")


def from_parsed(plans: list[dict], prov: Provenance, form: str) -> PlanDump:
    for p in plans:
        for loc, reason in p.get("warnings", []):
            prov.warn(loc, reason)
    nodes = node_frame(plans)
    check_plan(nodes, prov)
    summary = plan_summary(plans, nodes)
    prov.attach(nodes, summary)
    return PlanDump(nodes, summary, prov, form, [p.get("Query Text") for p in plans])


def read_text(path, prov: Provenance, limit: int = MAX_BYTES) -> str:
    if prov.size > limit:
        raise ArtifactError(path, None, f"{prov.size:,} bytes is more than this reader takes (limit {limit:,}); "
                            "split the file (e.g. by day) and load the part around the incident")
    with open_readonly(path) as f:
        data = f.read()
    if b"\x00" in data[:4096]:
        raise ArtifactError(path, data.index(b"\x00"), "binary data (NUL bytes), not a text file")
    text = data.decode("utf-8", errors="replace")
    if "\ufffd" in text and b"\xef\xbf\xbd" not in data:
        prov.warn(None, "bytes that are not UTF-8 were replaced by U+FFFD")
    return text.replace("\r\n", "\n").lstrip("\ufeff")


def load_plan(path, **_ignored) -> PlanDump:
    """Every EXPLAIN plan in ``path`` (a psql paste, bare text, JSON/YAML/XML, or auto_explain entries of a
    server log). Raises only :class:`~forensics.errors.ArtifactError`."""
    prov = provenance_for(path, parser="forensics.postgres.plan")
    text = read_text(path, prov)
    prov.kind = "pg_plan"
    from .serverlog import looks_like_log

    if looks_like_log(text):
        from .serverlog import parse_log_text

        log = parse_log_text(text, prov)
        plans = log.plans
        if not plans:
            raise ArtifactError(path, None, "a server log with no auto_explain plan in it")
        prov.format = "auto_explain in a server log"
        return from_parsed(plans, prov, "auto_explain")
    try:
        plans, form = parse_plans(text)
    except PlanFormatError as e:
        raise ArtifactError(path, None, f"not an EXPLAIN plan: {e}") from None
    except (RecursionError, ValueError, KeyError, TypeError, IndexError) as e:  # a last net
        raise ArtifactError(path, None, f"cannot read as an EXPLAIN plan: {e}") from None
    if not plans:
        raise ArtifactError(path, None, "no plan node found (a node line looks like "
                            "'Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)')")
    prov.format = f"EXPLAIN {form}"
    return from_parsed(plans, prov, form)
