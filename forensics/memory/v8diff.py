"""What grew between V8 heap snapshots, and what keeps it alive.

* :func:`compare` — DevTools' Comparison view: per class, objects whose id is
  only in the later snapshot are *new*, only in the earlier one *deleted*;
  ``# delta = new − deleted``. It adds retained bytes per class (see
  :func:`summarize`).
* :func:`leak_clusters` — memlab's rule on three snapshots: objects allocated
  between *baseline* and *target* that are still alive in *final*, reduced to
  the outermost ones (not dominated by another candidate), grouped by their
  shortest retainer path from the GC roots and ranked by retained size.
* :func:`retainer_path` — the shortest path from the root to one object.

Bytes held by closures live in ``(array)`` backing stores and ``system /
Context`` objects, not in the ``(closure)`` itself. Retained bytes here are
charged to *user-level owners* (objects, closures, regexps): every object's
self size counts under the nearest dominator of those types, so a closure
holding a big array shows the array's bytes under ``(closure)`` and the
leak report names the owning object on the retainer path.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit

from . import dominators as dom
from .v8 import OWNER_TYPES, V8Snapshot, read_v8  # noqa: F401

#: node types that are never reported as the outermost leaked object (compiler and VM bookkeeping).
NOT_LEAK_ROOTS = ("code", "object shape", "hidden", "synthetic")


@dataclass
class Graph:
    """Dominator tree and shortest-path tree of one snapshot."""

    idom: np.ndarray
    order: np.ndarray
    retained: np.ndarray
    owner: np.ndarray
    dist: np.ndarray | None
    via: np.ndarray | None
    pred: np.ndarray | None


def analyse_graph(snap: V8Snapshot, paths: bool = True, owners: bool = True, retained: bool = True,
                  consume: bool = False) -> Graph:
    """Dominators (weak edges ignored, shortcuts only from the root), retained sizes, (``owners=True``) owners
    and (``paths=True``) the breadth-first shortest-path tree from the root (``via``/``pred``; ``dist`` is not kept:
    a node is reachable when it is the root or has a ``pred``)."""
    ok = snap.edge_type != snap.edge_type_code("weak")
    shortcut = snap.edge_type_code("shortcut")
    if shortcut >= 0:  # a shortcut edge is essential only from the root (node 0, whose edges come first)
        beyond_root = np.flatnonzero(snap.edge_type[int(snap.first_edge[1]):] == shortcut) + int(snap.first_edge[1])
        ok[beyond_root] = False
    if consume:   # the caller is done with the edge types (ok holds what the walks need)
        snap.edge_type = None
    idom, order = dom.dominator_tree(snap.node_count, snap.first_edge, snap.edge_to, ok, 0)
    retained = dom.retained_sizes(idom, order, snap.self_size) if retained else None
    owner = dom.owners(idom, order, owner_mask(snap)) if owners else None
    via = pred = None
    if paths:
        _, via, pred = dom.shortest_paths(snap.node_count, snap.first_edge, snap.edge_to, ok, 0)
    return Graph(idom, order, retained, owner, None, via, pred)


def reachable(g: Graph) -> np.ndarray:
    """Per node: reached by the breadth-first walk from the root."""
    r = g.pred >= 0
    r[0] = True
    return r


@njit(cache=True, nogil=True)
def _merge_match(a, a_order, b, b_order, out):
    i = 0
    j = 0
    while i < len(a_order) and j < len(b_order):
        x = a[a_order[i]]
        y = b[b_order[j]]
        if x == y:
            out[a_order[i]] = b_order[j]
            i += 1
        elif x < y:
            i += 1
        else:
            j += 1
    return out


@njit(cache=True, nogil=True)
def _merge_match_both(a, a_order, b, b_order, out_a, out_b):
    i = 0
    j = 0
    while i < len(a_order) and j < len(b_order):
        x = a[a_order[i]]
        y = b[b_order[j]]
        if x == y:
            out_a[a_order[i]] = b_order[j]
            out_b[b_order[j]] = a_order[i]
            i += 1
            j += 1
        elif x < y:
            i += 1
        else:
            j += 1


def match_both(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(match(a, b), match(b, a))`` for arrays of unique ids, sorting each once."""
    out_a = np.full(len(a), -1, dtype=np.int64)
    out_b = np.full(len(b), -1, dtype=np.int64)
    if len(a) and len(b):
        # the two sorts on the two cores (numpy's sort releases the GIL)
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=1) as pool:
            order_b = pool.submit(np.argsort, b, kind="stable")
            order_a = np.argsort(a, kind="stable")
            _merge_match_both(a, order_a, b, order_b.result(), out_a, out_b)
    return out_a, out_b


def match(values: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """For each value, the index of an equal element of ``pool``, or -1.

    V8 ids come out almost sorted, so stable (run-aware) argsorts plus one
    linear merge beat both ``np.isin`` and binary search by a wide margin.
    """
    out = np.full(len(values), -1, dtype=np.int64)
    if len(values) and len(pool):
        _merge_match(values, np.argsort(values, kind="stable"), pool, np.argsort(pool, kind="stable"), out)
    return out


@njit(cache=True, nogil=True)
def _in_sorted(values, pool_sorted, out):
    n = len(pool_sorted)
    for i in range(len(values)):
        x = values[i]
        lo = np.searchsorted(pool_sorted, x)
        out[i] = lo < n and pool_sorted[lo] == x
    return out


def member(values: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """``np.isin(values, pool)`` for id arrays: sort the pool, binary-search each value (no int64 temporaries
    the size of ``values``)."""
    out = np.zeros(len(values), dtype=np.bool_)
    if len(values) and len(pool):
        _in_sorted(values, np.sort(pool), out)
    return out


def type_mask(snap: V8Snapshot, types) -> np.ndarray:
    """Per node: is its type one of ``types`` (names)?"""
    table = np.zeros(256, dtype=bool)
    for t in types:
        if t in snap.node_types:
            table[snap.node_types.index(t)] = True
    return table[snap.node_type]


def owner_mask(snap: V8Snapshot) -> np.ndarray:
    """Nodes that own the bytes they dominate: objects, closures and regexps, except
    plain ``Array`` objects and ``system / …`` internals (their bytes belong to whoever holds them)."""
    names, codes = snap.class_names()
    keep = np.array([not (n == "Array" or n.startswith("system /")) for n in names.astype(str).tolist()], dtype=bool)
    return type_mask(snap, OWNER_TYPES) & keep[codes]


@dataclass
class Summary:
    """What a diff needs from one snapshot, without its edges: ids, classes, sizes, owned bytes per class."""

    path: str
    names: np.ndarray
    codes: np.ndarray
    ids: np.ndarray
    self_size: np.ndarray
    owned_by_class: pd.Series | None
    total_bytes: int


@njit(cache=True, nogil=True)
def _owned_per_class(owner, codes, self_size, n_classes):
    out = np.zeros(n_classes, np.int64)
    for v in range(len(owner)):
        out[codes[owner[v]]] += self_size[v]
    return out


def summarize(snap: V8Snapshot, graph: Graph | None = None, consume: bool = False) -> Summary:
    """Reduce a snapshot to per-node id/class/size and per-class retained (owned) bytes.

    ``consume=True``: the snapshot is not used afterwards, so its columns move into the summary and the
    ones a summary does not need are dropped before the dominator tree is built (lower peak memory).
    """
    names, codes = snap.class_names()
    ids, sizes = (snap.node_id, snap.self_size) if consume else (snap.node_id.copy(), snap.self_size.copy())
    if consume:   # the names are decoded: neither the name column nor the string offsets are needed any more
        snap.node_name = snap.node_id = snap.strings = None
    owned = None
    if snap.edge_to is not None:
        g = graph or analyse_graph(snap, paths=False, retained=False, consume=consume)
        by_class = _owned_per_class(g.owner, codes, sizes, len(names))
        del g
        owned = pd.Series(by_class, index=pd.Index(names.astype(str), name="name"))
        owned = owned.groupby(level=0).sum()
    return Summary(snap.path, names, codes, ids, sizes, owned, int(sizes.sum(dtype=np.int64)))


def _global_map(s: Summary, lookup: dict) -> np.ndarray:
    """The snapshot's class codes -> codes in the joint list of names."""
    return np.array([lookup[n] for n in s.names.tolist()], dtype=np.int64)


@njit(cache=True, nogil=True)
def _class_counts(codes_b, map_b, size_b, mb, codes_a, map_a, size_a, ma, n_classes):
    """Per joint class: count/bytes before and after, new and deleted (by id; a changed class counts as both),
    in one pass over each snapshot: rows count_before, count_after, new_count, deleted_count, bytes_before,
    bytes_after, new_bytes, deleted_bytes."""
    out = np.zeros((8, n_classes), np.int64)
    for i in range(len(codes_b)):
        k = map_b[codes_b[i]]
        out[0, k] += 1
        out[4, k] += size_b[i]
        j = mb[i]
        if j < 0 or map_a[codes_a[j]] != k:
            out[3, k] += 1
            out[7, k] += size_b[i]
    for i in range(len(codes_a)):
        k = map_a[codes_a[i]]
        out[1, k] += 1
        out[5, k] += size_a[i]
        j = ma[i]
        if j < 0 or map_b[codes_b[j]] != k:
            out[2, k] += 1
            out[6, k] += size_a[i]
    return out


def compare(before: Summary, after: Summary) -> pd.DataFrame:
    """DevTools Comparison by object id per class, plus retained (owned) bytes (see :func:`compare_and_new`)."""
    return compare_and_new(before, after)[0]


def compare_and_new(before: Summary, after: Summary) -> tuple[pd.DataFrame, np.ndarray]:
    """DevTools Comparison by object id per class, plus retained (owned) bytes.

    Returns the table and the ids only in ``after`` (memlab's allocated-since set,
    what :func:`new_ids` gives). Columns: ``name, count_before, count_after, count_delta, new_count,
    deleted_count, bytes_before, bytes_after, bytes_delta, size_delta``
    (DevTools' added − removed shallow size), ``retained_before,
    retained_after, retained_delta``. Classes with no change are dropped.
    An object whose id is in both snapshots but whose class changed counts as
    deleted from the old class and new in the new one, as in DevTools.

    >>> df = compare(summarize(read_v8(a)), summarize(read_v8(b)))   # doctest: +SKIP
    """
    all_names = sorted(set(before.names.tolist()) | set(after.names.tolist()))
    lookup = {n: i for i, n in enumerate(all_names)}
    ma, mb = match_both(after.ids, before.ids)   # ids are unique within a snapshot
    new_ids = after.ids[ma < 0]                   # memlab's "allocated since": before any class-change rule
    counts = _class_counts(before.codes, _global_map(before, lookup), before.self_size, mb,
                           after.codes, _global_map(after, lookup), after.self_size, ma, len(all_names))
    del ma, mb
    names = ["count_before", "count_after", "new_count", "deleted_count", "bytes_before", "bytes_after", "new_bytes",
             "deleted_bytes"]
    cols = dict(zip(names, counts))
    df = pd.DataFrame({k: v.astype(np.int64) for k, v in cols.items()})
    df.insert(0, "name", pd.array(all_names, dtype="str"))
    df["count_delta"] = df["new_count"] - df["deleted_count"]
    df["bytes_delta"] = df["bytes_after"] - df["bytes_before"]
    df["size_delta"] = df["new_bytes"] - df["deleted_bytes"]
    if before.owned_by_class is not None and after.owned_by_class is not None:
        df["retained_before"] = df["name"].map(before.owned_by_class).fillna(0).astype(np.int64)
        df["retained_after"] = df["name"].map(after.owned_by_class).fillna(0).astype(np.int64)
        df["retained_delta"] = df["retained_after"] - df["retained_before"]
    else:
        df["retained_before"] = df["retained_after"] = df["retained_delta"] = pd.NA
    changed = (df["new_count"] > 0) | (df["deleted_count"] > 0) | (df["bytes_delta"] != 0)
    if df["retained_delta"].notna().any():
        changed |= df["retained_delta"].fillna(0) != 0
    df = df[changed]
    order = ["name", "count_before", "count_after", "count_delta", "new_count", "deleted_count",
             "bytes_before", "bytes_after", "bytes_delta", "size_delta", "retained_before", "retained_after", "retained_delta"]
    key = df["retained_delta"].fillna(df["bytes_delta"]) if df["retained_delta"].notna().any() else df["bytes_delta"]
    df = df.assign(_k=key).sort_values(["_k", "bytes_delta", "name"], ascending=[False, False, True]).drop(columns="_k")
    return df[order].reset_index(drop=True), new_ids


def new_ids(baseline: Summary, target: Summary) -> np.ndarray:
    """Ids of the objects in ``target`` that are not in ``baseline``."""
    return target.ids[~member(target.ids, baseline.ids)]


def candidate_mask(baseline: Summary | None, target: Summary | None, final: V8Snapshot, grew=None) -> np.ndarray:
    """memlab's rule, per node of ``final``: allocated after baseline, alive at target, alive in final.

    Pass ``grew`` (from :func:`new_ids`) instead of the two summaries to free them first.
    """
    if grew is None:
        grew = new_ids(baseline, target)
    return member(final.node_id, grew)


def path_edges(g: Graph, nodes, limit: int = 200) -> np.ndarray:
    """Every edge on the BFS paths from the root to ``nodes`` (vectorised walk up the tree)."""
    out = []
    frontier = np.unique(np.asarray(nodes, dtype=np.int64))
    for _ in range(limit):
        frontier = frontier[g.via[frontier] >= 0]
        if not len(frontier):
            break
        out.append(g.via[frontier].astype(np.int64))
        frontier = np.unique(g.pred[frontier].astype(np.int64))
    return np.unique(np.concatenate(out)) if out else np.zeros(0, np.int64)


def path_nodes(g: Graph, nodes, limit: int = 200) -> np.ndarray:
    """Every node on the BFS paths from the root to ``nodes``, ``nodes`` included."""
    out = [np.asarray(nodes, dtype=np.int64)]
    frontier = np.unique(out[0])
    for _ in range(limit):
        frontier = frontier[g.pred[frontier] >= 0]
        if not len(frontier):
            break
        frontier = np.unique(g.pred[frontier].astype(np.int64))
        out.append(frontier)
    return np.unique(np.concatenate(out + [np.zeros(1, np.int64)]))


def _path_nodes(g: Graph, v: int, limit: int = 200) -> list[tuple[int, int]]:
    """[(node, edge into node)] from the root down to ``v`` along the BFS tree."""
    steps = []
    while v >= 0 and len(steps) < limit:
        e = int(g.via[v])
        steps.append((v, e))
        if e < 0:
            break
        v = int(g.pred[v])
    return steps[::-1]


def format_path(snap: V8Snapshot, g: Graph, v: int) -> str:
    """``(GC roots) → <element> … → Map .requestCache → (array) <internal table> → LeakyCacheEntry``."""
    steps = _path_nodes(g, v)
    if not steps or steps[0][1] >= 0 and v != 0 and g.pred[v] < 0:
        return "(not reachable from the GC roots)"
    parts = []
    for node, e in steps:
        label = snap.node_label(node)
        parts.append(label if e < 0 else f"--{snap.edge_label(e)}--> {label}")
    return " ".join(parts)


def _user_owner(snap: V8Snapshot, g: Graph, v: int) -> str:
    """The nearest user-level object above ``v`` on its retainer path, with the edge that holds it."""
    names, codes = snap.class_names()
    types = {snap.type_code(t) for t in OWNER_TYPES}
    steps = _path_nodes(g, v)
    for node, e in reversed(steps[:-1]):
        if snap.node_type[node] in types and not str(names[codes[node]]).startswith("system /"):
            held = snap.edge_label(e) if e >= 0 else ""
            return f"{snap.node_label(node)} (held by {held})" if held else snap.node_label(node)
    return "(none: held by VM internals)"


def _edge_key(snap: V8Snapshot, e: int, kinds: tuple) -> tuple:
    """One step of a signature: the edge's type and name, with element/hidden indexes (and numbered internal slots) as -1."""
    elem, hidden, internal = kinds
    t = int(snap.edge_type[e])
    name = -1 if t in (elem, hidden) else int(snap.edge_name[e])
    if t == internal and snap.strings[name].isdigit():
        name = -1  # numbered internal slots (e.g. the internalized-string table) are indexes too
    return (t, name)


def _signature(snap: V8Snapshot, g: Graph, codes: np.ndarray, v: int, memo: dict | None = None, limit: int = 200) -> tuple:
    """The retainer path with element indexes dropped: what memlab's clustering compares.

    ``memo`` (node -> (signature, steps)) shares the work between paths with a common
    prefix; a path over ``limit`` steps is cut from the top, as :func:`_path_nodes` does."""
    if memo is None:
        memo = {}
    kinds = memo.get("kinds")
    if kinds is None:
        kinds = memo["kinds"] = (snap.edge_type_code("element"), snap.edge_type_code("hidden"),
                                 snap.edge_type_code("internal"))
    chain = []
    x = v
    while x >= 0 and x not in memo and len(chain) <= limit:
        chain.append(x)
        if g.via[x] < 0:
            break
        x = int(g.pred[x])
    for node in reversed(chain):
        e = int(g.via[node])
        if e < 0:
            memo[node] = ((int(codes[node]),), 1)
            continue
        up = memo.get(int(g.pred[node]))
        if up is None or up[1] >= limit:
            break
        memo[node] = (up[0] + (_edge_key(snap, e, kinds), int(codes[node])), up[1] + 1)
    if v in memo:
        return memo[v][0]
    sig = []   # deeper than the limit: the top of the path is cut
    for node, e in _path_nodes(g, v, limit):
        if e >= 0:
            sig.append(_edge_key(snap, e, kinds))
        sig.append(int(codes[node]))
    return tuple(sig)


def leak_clusters(final: V8Snapshot, mask: np.ndarray, graph: Graph | None = None, top: int = 20) -> pd.DataFrame:
    """Leak candidates in ``final`` grouped by retainer path, ranked by retained bytes.

    ``mask`` marks the candidate nodes (:func:`candidate_mask`). Only the
    outermost candidates (leak roots) are grouped; objects they dominate are
    counted in ``objects`` and described in ``holds``.

    Columns: ``rank, leak_class, roots, objects, retained_bytes, holds, owner,
    retainer_path, example_id``.
    """
    g = graph or analyse_graph(final)
    names, codes = final.class_names()
    mask = np.asarray(mask, dtype=np.bool_)
    top_of = dom.top_marked(g.idom, g.order, mask)
    skip = type_mask(final, NOT_LEAK_ROOTS)
    roots = np.flatnonzero((top_of == np.arange(final.node_count)) & mask & ~skip & reachable(g))
    cols = ["rank", "leak_class", "roots", "objects", "retained_bytes", "holds", "owner", "retainer_path", "example_id"]
    if len(roots) == 0:
        return pd.DataFrame({c: [] for c in cols})
    if hasattr(final.edge_name, "load"):   # names not kept (read_v8(edge_names=False)): read those on the paths
        final.edge_name.load(path_edges(g, roots))
    if hasattr(final.node_name, "load"):   # the same for node names (v8.drop_node_names)
        final.node_name.load(path_nodes(g, roots))
    # group roots by (class, path signature); vectorised pre-grouping by (class, BFS parent's class, depth)
    groups: dict[tuple, list[int]] = {}
    order = roots[np.argsort(-g.retained[roots], kind="stable")]
    memo: dict = {}
    for v in order.tolist():
        groups.setdefault(_signature(final, g, codes, v, memo), []).append(v)
    # objects inside each root's dominated region, sorted by group (one pass; no per-group scan of all of them)
    cand = np.flatnonzero(mask & (top_of >= 0))
    members_of = [np.array(m) for m in groups.values()]
    all_roots = np.concatenate(members_of)
    group_of_root = np.repeat(np.arange(len(members_of)), [len(m) for m in members_of])
    by_root = np.argsort(all_roots)
    at = np.searchsorted(all_roots[by_root], top_of[cand])
    at[at >= len(all_roots)] = 0
    hit = all_roots[by_root][at] == top_of[cand]
    cand, gid = cand[hit], group_of_root[by_root][at[hit]]
    in_group = np.argsort(gid, kind="stable")
    cand = cand[in_group]
    bounds = np.concatenate([[0], np.cumsum(np.bincount(gid, minlength=len(members_of)))])
    del gid, in_group, at, hit
    # rank on the numbers first; the words (holds, owner, path) only for the groups reported
    order_df = pd.DataFrame({"retained_bytes": [int(g.retained[m].sum()) for m in members_of],
                             "objects": np.diff(bounds).astype(np.int64)})
    order_df = order_df.sort_values(["retained_bytes", "objects"], ascending=False)
    shown = (order_df.head(top) if top else order_df).index.tolist()
    rows = []
    for gi in shown:
        members = members_of[gi]
        sub = cand[bounds[gi]:bounds[gi + 1]]
        held = (pd.DataFrame({"cls": codes[sub], "size": final.self_size[sub]}).groupby("cls")["size"]
                .agg(["count", "sum"]).sort_values("sum", ascending=False).head(3))
        holds = ", ".join(f"{c:,} {names[k]} ({b:,} B)" for k, (c, b) in zip(held.index, held.itertuples(index=False)))
        rep = int(members[0])
        rows.append({
            "leak_class": final.node_label(rep) if final.node_type[rep] == final.type_code("closure") else str(names[codes[rep]]),
            "roots": len(members),
            "objects": int(order_df.at[gi, "objects"]),
            "retained_bytes": int(order_df.at[gi, "retained_bytes"]),
            "holds": holds,
            "owner": _user_owner(final, g, rep),
            "retainer_path": format_path(final, g, rep),
            "example_id": int(final.node_id[rep]),
        })
    df = pd.DataFrame(rows, columns=cols[1:])
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    return df[cols]


def retainer_path(snap: V8Snapshot, node_id: int, graph: Graph | None = None) -> pd.DataFrame:
    """The shortest path from the GC root to the object with id ``node_id``, one row per step.

    Columns: ``depth, node_id, object, class, edge`` (the edge from the
    previous step), ``self_size, retained_size``.
    """
    g = graph or analyse_graph(snap)
    hits = np.flatnonzero(snap.node_id == node_id)
    if len(hits) == 0:
        raise KeyError(f"no object with id {node_id} in {snap.path}")
    names, codes = snap.class_names()
    rows = []
    for depth, (node, e) in enumerate(_path_nodes(g, int(hits[0]))):
        rows.append({"depth": depth, "node_id": int(snap.node_id[node]), "object": snap.node_label(node),
                     "class": str(names[codes[node]]), "edge": snap.edge_label(e) if e >= 0 else "",
                     "self_size": int(snap.self_size[node]), "retained_size": int(g.retained[node])})
    return pd.DataFrame(rows)
