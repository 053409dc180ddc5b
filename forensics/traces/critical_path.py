"""Critical path and self time, computed the way Jaeger UI computes them.

Critical path (jaeger-ui ``components/TracePage/CriticalPath``), per root span of a trace:

1. take the root's subtree, leaving out non-blocking children — a CONSUMER span under a
   PRODUCER parent — with everything below them;
2. in pre-order, drop a child that starts at/after its (already clipped) parent's end or ends
   at/before its start (with its subtree), and clip a child that overhangs its parent;
3. walk from the root: at span S (with an optional "before" time t) pick the child that finishes
   last (strictly latest end, the earliest-starting on ties), among children ending strictly
   before t when t is set. With such a child C, S owns [C.end, t or S.end] and the walk goes
   into C; without one, S owns [S.start, t or S.end] and the walk returns to S's parent with
   t = S.start (to find the sibling that finished just before S started).

Sections come out in reverse time order; the sections of all roots are concatenated.

Self time (jaeger-ui ``utils/compute-span-self-time``): duration minus the union of the
children's intervals clipped to the span, all children counted (async ones too).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

try:
    from numba import njit
except ImportError:  # numba is a dependency, but keep working without it
    def njit(*a, **k):
        return (lambda f: f) if not a or not callable(a[0]) else a[0]


def with_provenance(func):
    """Carry the loaded file's provenance (from the first argument's spans) onto the result:
    ``df.attrs["provenance"]`` for tables, ``graph.graph["provenance"]`` for networkx graphs."""
    import functools

    @functools.wraps(func)
    def wrapper(ts, *args, **kwargs):
        out = func(ts, *args, **kwargs)
        prov = getattr(getattr(ts, "spans", ts), "attrs", {}).get("provenance")
        if prov is not None:
            if isinstance(out, (pd.DataFrame, pd.Series)):
                out.attrs["provenance"] = prov
            elif hasattr(out, "graph"):
                out.graph["provenance"] = prov
        return out

    return wrapper


def _children(parent: np.ndarray, start: np.ndarray) -> list[list[int]]:
    """Children of each local span, sorted by start (stable: file order on ties)."""
    kids: list[list[int]] = [[] for _ in range(len(parent))]
    for i in np.lexsort((np.arange(len(parent)), start)):
        p = parent[i]
        if p >= 0:
            kids[p].append(int(i))
    return kids


def _one_root(root, kids, start, end, kind, fparent, sections):
    """jaeger-ui's criticalPathForTrace for one root: createCPSpanMap, sanitizeOverFlowingChildren,
    computeCriticalPath. ``fparent`` is the OTel-model parent (row, -1 none, -2 not in the file)."""
    # createCPSpanMap: pre-order over the tree, leaving out CONSUMER children of PRODUCER spans
    order, childs, stack = [], {}, [root]
    while stack:
        node = stack.pop()
        order.append(node)
        ks = [c for c in kids[node] if not (kind[c] == "consumer" and kind[node] == "producer")]
        childs[node] = ks
        stack.extend(reversed(ks))
    s = {n: start[n] for n in order}
    e = {n: end[n] for n in order}
    # sanitizeOverFlowingChildren, against the (OTel) parent's already sanitised interval
    for n in order:
        p = fparent[n]
        if p == -1:
            continue
        if p not in s:  # parent missing or dropped: the span goes (and so does its subtree)
            del s[n], e[n]
            continue
        ps, pe, cs, ce = s[p], e[p], s[n], e[n]
        if cs >= ps:
            if cs >= pe:
                del s[n], e[n]
            elif ce > pe:
                e[n] = pe
        elif ce <= ps:
            del s[n], e[n]
        else:
            s[n], e[n] = ps, min(ce, pe)
    # computeCriticalPath, iteratively (jaeger-ui recurses and overflows on deep traces, #2720)
    node, before = root, None
    while node in s:
        best, best_end = -1, -1
        for c in childs[node]:
            if c not in s:
                continue
            ce = e[c]
            if before and not ce < before:
                continue
            if ce > best_end:
                best, best_end = c, ce
        sec_end = before if before else e[node]
        if best >= 0:
            if best_end != sec_end:
                sections.append((node, best_end, sec_end))
            node, before = best, None
        else:
            if s[node] != sec_end:
                sections.append((node, s[node], sec_end))
            if fparent[node] == -1:
                break
            node, before = fparent[node], s[node]


def _per_trace(spans: pd.DataFrame):
    """Yield (trace_id, rows, local parent, start, end, kind, local OTel parent) for each trace of
    ``spans`` (whose ``parent``/``otel_parent`` hold row numbers of ``spans`` itself, -2 = missing)."""
    codes, uniq = pd.factorize(spans["trace_id"].to_numpy(), sort=False)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniq) + 1))
    local = np.empty(len(spans), dtype=np.int64)
    local[order] = np.arange(len(spans)) - bounds[codes[order]]
    gparent = spans["parent"].to_numpy()
    lparent = np.where(gparent >= 0, local[np.maximum(gparent, 0)], -1)
    gf = spans["otel_parent"].to_numpy() if "otel_parent" in spans else gparent
    lf = np.where(gf >= 0, local[np.maximum(gf, 0)], gf)
    st, en, kd = spans["start_us"].to_numpy(), spans["end_us"].to_numpy(), spans["kind"].to_numpy()
    for k, trace_id in enumerate(uniq):
        rows = order[bounds[k]:bounds[k + 1]]
        yield trace_id, rows, lparent[rows], st[rows], en[rows], kd[rows], lf[rows]


def _with_local_parents(spans: pd.DataFrame) -> pd.DataFrame:
    """Re-point ``parent`` (row numbers into the full table) into ``spans``' own row numbers."""
    if "parent_span_id" not in spans:
        raise ValueError("spans need a parent_span_id column (load them with load_traces)")
    key = spans["trace_id"] + "\x00" + spans["span_id"]
    pkey = spans["trace_id"] + "\x00" + spans["parent_span_id"].fillna("\x01")
    where = pd.Series(np.arange(len(spans)), index=key.to_numpy())
    where = where[~where.index.duplicated()]
    parent = where.reindex(pkey.to_numpy()).fillna(-1).to_numpy().astype(np.int64)
    out = spans.reset_index(drop=True).assign(parent=parent)
    if "otel_parent_span_id" in spans:  # the parent jaeger-ui's OTel model walks back to
        okey = (spans["trace_id"] + "\x00" + spans["otel_parent_span_id"].fillna("\x01")).to_numpy()
        op = where.reindex(okey).fillna(-2).to_numpy().astype(np.int64)
        op[spans["otel_parent_span_id"].isna().to_numpy()] = -1
        out["otel_parent"] = op
    return out


@with_provenance
def critical_path(spans, trace_id: str | None = None) -> pd.DataFrame:
    """Critical-path sections of each trace (or only ``trace_id``), exactly as jaeger-ui computes them.

    ``spans`` is a :class:`~forensics.traces.load.TraceSet` or its ``spans`` table.
    Columns: trace_id, span_id, service, operation, start_us, end_us, duration_us.

    **Order**: traces in order of first appearance; within a trace, roots by start time (file order on
    ties) and, per root, sections in *reverse time order* (latest first) — jaeger-ui's list as is.
    As in jaeger-ui, a root whose own parent is missing from the file (an orphan: the trace's real
    root was not exported) gets **no** sections: its OTel parent is unknown, so jaeger-ui's
    sanitising step drops it. FOLLOWS_FROM children count like CHILD_OF; only CONSUMER children of
    PRODUCER spans are left out.

    >>> import pandas as pd
    >>> s = pd.DataFrame({"trace_id": "t", "span_id": ["x", "a", "c"], "parent_span_id": [None, "x", "x"],
    ...     "service": "s", "operation": ["X", "A", "C"], "kind": "internal",
    ...     "start_us": [1, 10, 20], "end_us": [101, 50, 60]})
    >>> critical_path(s)[["span_id", "start_us", "end_us"]].values.tolist()
    [['x', 60, 101], ['c', 20, 60], ['x', 1, 20]]
    """
    spans = getattr(spans, "spans", spans)
    if trace_id is not None:
        m = spans["trace_id"] == trace_id
        if not m.any():
            m = spans["trace_id"].str.startswith(trace_id)
        spans = spans[m]
    spans = _with_local_parents(spans)
    out_rows, out_s, out_e = [], [], []
    for _tid, rows, parent, start, end, kind, fparent in _per_trace(spans):
        kids = _children(parent, start)
        roots = [int(r) for r in np.lexsort((np.arange(len(rows)), start)) if parent[r] < 0]
        sections: list = []
        for root in roots:
            _one_root(root, kids, start, end, kind, fparent, sections)
        for node, a, b in sections:
            out_rows.append(rows[node]); out_s.append(a); out_e.append(b)
    idx = np.array(out_rows, dtype=np.int64)
    res = pd.DataFrame({"trace_id": spans["trace_id"].to_numpy()[idx], "span_id": spans["span_id"].to_numpy()[idx],
                        "service": spans["service"].to_numpy()[idx], "operation": spans["operation"].to_numpy()[idx],
                        "start_us": np.array(out_s, dtype=np.int64), "end_us": np.array(out_e, dtype=np.int64)})
    res["duration_us"] = res["end_us"] - res["start_us"]
    return res


def sections_by_trace(cp: pd.DataFrame) -> list[dict]:
    """:func:`critical_path`'s table as ``[{"trace_id", "sections": [{"span_id", "service", "operation",
    "start_us", "end_us"}, …]}, …]`` — the JSON the CLI prints, order kept."""
    out = []
    for tid, g in cp.groupby("trace_id", sort=False):
        out.append({"trace_id": tid, "sections": [
            {"span_id": r.span_id, "service": r.service, "operation": r.operation,
             "start_us": int(r.start_us), "end_us": int(r.end_us)} for r in g.itertuples(index=False)]})
    return out


@njit(cache=True)
def _self_sweep(child_parent, cstart, cend, pstart, pend, pdur):
    self_us = pdur.copy()
    prev_end = pstart.copy()
    done = np.zeros(len(pdur), dtype=np.bool_)
    for k in range(len(child_parent)):
        p = child_parent[k]
        if done[p]:
            continue
        cs, ce = cstart[k], cend[k]
        if cs > pend[p] or ce < prev_end[p]:
            continue
        lo = max(prev_end[p], cs)
        hi = min(pend[p], ce)
        self_us[p] -= hi - lo
        if hi == pend[p]:
            done[p] = True
            continue
        prev_end[p] = ce
    return np.maximum(self_us, 0)


@with_provenance
def self_time(spans) -> pd.Series:
    """Self time of every span in µs (duration minus its children's union, clipped; Jaeger UI's sweep).

    >>> import pandas as pd
    >>> s = pd.DataFrame({"trace_id": "t", "span_id": ["p", "a", "b"], "parent_span_id": [None, "p", "p"],
    ...     "start_us": [0, 10, 30], "end_us": [100, 40, 120], "duration_us": [100, 30, 90]})
    >>> self_time(s).tolist()
    [10, 30, 90]
    """
    spans = getattr(spans, "spans", spans)
    local = _with_local_parents(spans)
    parent = local["parent"].to_numpy()
    start, end = local["start_us"].to_numpy().astype(np.int64), local["end_us"].to_numpy().astype(np.int64)
    dur = (end - start) if "duration_us" not in local else local["duration_us"].to_numpy().astype(np.int64)
    kids = np.flatnonzero(parent >= 0)
    order = kids[np.lexsort((kids, start[kids], parent[kids]))]
    cp = parent[order]
    res = _self_sweep(cp, start[order], end[order], start, end, dur)
    return pd.Series(res, index=spans.index, name="self_us")
