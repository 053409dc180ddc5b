"""The object graph of a heap dump: GC roots, dominator tree, retained sizes, shortest paths, reference labels.

The graph gets one synthetic *super-root* (index ``n``) with an edge to every
GC root, as Eclipse MAT does; the dominator tree and shortest paths are
computed from it with :mod:`forensics.memory.dominators` (the code the V8
diff uses). Every object refers to its class (as in MAT), so classes are
reached through their instances and their loader; objects reachable from no
root (none in a ``:live`` dump) keep their own size as retained size.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit

from . import dominators as dom
from . import hprof_scan as hs
from .hprof import HprofDump
from .hprof_bytes import read_spans

JDK_PACKAGES = ("java.", "javax.", "jdk.", "sun.", "com.sun.", "[")


@dataclass
class HeapGraph:
    """Dominators and shortest paths over a dump (``root`` = the super-root index ``n``)."""

    root: int
    first: np.ndarray
    to: np.ndarray
    idom: np.ndarray
    order: np.ndarray
    retained: np.ndarray
    dist: np.ndarray
    pred: np.ndarray


def heap_graph(dump: HprofDump) -> HeapGraph:
    """Dominator tree (retained sizes) and BFS shortest-path tree from the GC roots."""
    n = dump.n
    roots = np.unique(dump.roots["object"].to_numpy())
    roots = roots[roots >= 0].astype(np.int32)
    first = np.concatenate([dump.first_edge, [dump.first_edge[-1] + len(roots)]])
    to = np.concatenate([dump.edge_to, roots])
    ok = np.ones(len(to), np.bool_)
    idom, order = dom.dominator_tree(n + 1, first, to, ok, n)
    size = np.concatenate([dump.objects["size"], [0]])
    retained = dom.retained_sizes(idom, order, size)
    dist, _via, pred = dom.shortest_paths(n + 1, first, to, ok, n)
    return HeapGraph(n, first, to, idom, order, retained, dist, pred)


def class_name(dump: HprofDump, v: int) -> str:
    """The class of object ``v`` (for a class object: ``class X``)."""
    if dump.objects["kind"][v] == hs.K_CLASS:
        return f"class {class_of_classobj(dump, v)}"
    return str(dump.class_names[dump.objects["cls"][v]])


def class_of_classobj(dump: HprofDump, v: int) -> str:
    c = np.flatnonzero(dump.classes["class_id"].to_numpy() == dump.objects["id"][v])
    return str(dump.classes["name"].iloc[c[0]]) if len(c) else "(unnamed)"


def label(dump: HprofDump, v: int) -> str:
    """``java.util.HashMap @0x7ff0…`` / ``byte[65536] @0x…`` / ``class LeakyHeap$SessionRegistry @0x…``."""
    o = dump.objects
    k = int(o["kind"][v])
    name = class_name(dump, v)
    if k in (hs.K_OBJARRAY, hs.K_PRIMARRAY):
        from .jvm import readable
        r = readable(name)
        name = f"{r[:-2]}[{int(o['length'][v]):,}]" if r.endswith("[]") else r
    return f"{name} @0x{int(o['id'][v]):x}"


# --------------------------------------------------------------------------- references with names

def _class_row(dump: HprofDump, class_id: int):
    c = np.flatnonzero(dump.classes["class_id"].to_numpy() == class_id)
    return dump.classes.iloc[c[0]] if len(c) else None


def _instance_fields(dump: HprofDump, class_id: int) -> list[tuple[str, int]]:
    """(name, basic type) of an instance's fields in HPROF order: the class's own, then each superclass's."""
    out, seen = [], 0
    row = _class_row(dump, class_id)
    while row is not None and seen < 64:
        fs, fc = int(row["field_start"]), int(row["field_count"])
        out += list(zip(dump.fields["name"].iloc[fs:fs + fc], dump.fields["type"].iloc[fs:fs + fc].tolist()))
        row = _class_row(dump, int(row["super_id"])) if int(row["super_id"]) else None
        seen += 1
    return out


_SIZES = {2: None, 4: 1, 5: 2, 6: 4, 7: 8, 8: 1, 9: 2, 10: 4, 11: 8}


def find_object(dump: HprofDump, ident: int) -> int:
    """The index of the object with id (address) ``ident``, or -1."""
    return _find(dump, ident)


def _find(dump: HprofDump, ident: int) -> int:
    if not 0 <= ident < 2**64:
        return -1
    ids = dump.sorted_ids
    j = int(np.searchsorted(ids, np.uint64(ident)))
    return int(dump.id_order[j]) if j < len(ids) and int(ids[j]) == ident else -1


def named_references(dump: HprofDump, objects) -> dict[int, list[tuple[str, int]]]:
    """For each object index: its outgoing references as ``(field name, target index)``.

    Field names come from the class dumps (``value``, ``table``, ``[17]`` for
    an array element, ``static SESSIONS``, ``<class>``, ``<super>``, ``<loader>``).
    Reads the objects' bytes back from the dump (one pass for a gzip dump).
    """
    o = dump.objects
    I = dump.id_size
    spans = {}
    for v in objects:
        k = int(o["kind"][v])
        if k == hs.K_INSTANCE:
            spans[v] = (int(o["offset"][v]), int(o["length"][v]))
        elif k == hs.K_OBJARRAY:
            spans[v] = (int(o["offset"][v]), int(o["length"][v]) * I)
        elif k == hs.K_CLASS:
            row = _class_row(dump, int(o["id"][v]))
            spans[v] = (int(o["offset"][v]), 0 if row is None else 64 + 24 * 8 + 16 * int(row["static_count"]) * 2 + 4096)
    data = read_spans(dump, list(spans.values()))
    out = {}
    for (v, _), raw in zip(spans.items(), data):
        k = int(o["kind"][v])
        refs = []
        if k == hs.K_INSTANCE:
            p = 0
            for name, t in _instance_fields(dump, int(o["type_id"][v])):
                s = I if t == 2 else _SIZES.get(t, 0)
                if t == 2 and p + I <= len(raw):
                    tgt = int.from_bytes(raw[p:p + I], "big")
                    if tgt:
                        refs.append((name, _find(dump, tgt)))
                p += s
            refs.append(("<class>", _find(dump, int(o["type_id"][v]))))
        elif k == hs.K_OBJARRAY:
            for i in range(len(raw) // I):
                tgt = int.from_bytes(raw[i * I:(i + 1) * I], "big")
                if tgt:
                    refs.append((f"[{i}]", _find(dump, tgt)))
        elif k == hs.K_CLASS:
            refs = _class_refs(dump, raw, v)
        out[v] = refs
    return out


def _class_refs(dump: HprofDump, raw: bytes, v: int) -> list[tuple[str, int]]:
    I = dump.id_size
    u = lambda p, n: int.from_bytes(raw[p:p + n], "big")  # noqa: E731
    p = 1 + I + 4
    sup, ldr = u(p, I), u(p + I, I)
    p += 6 * I + 4
    refs = []
    try:
        ncp = u(p, 2)
        p += 2
        for _ in range(ncp):
            t = raw[p + 2]
            p += 3 + (I if t == 2 else _SIZES[t])
        nst = u(p, 2)
        p += 2
        for _ in range(nst):
            name = dump.strings.get(u(p, I), "?")
            t = raw[p + I]
            s = I if t == 2 else _SIZES[t]
            if t == 2 and u(p + I + 1, I):
                refs.append((f"static {name}", _find(dump, u(p + I + 1, I))))
            p += I + 1 + s
    except (IndexError, KeyError):
        pass
    if sup:
        refs.append(("<super>", _find(dump, sup)))
    if ldr:
        refs.append(("<loader>", _find(dump, ldr)))
    return refs


def edge_name(dump: HprofDump, src: int, dst: int, refs=None) -> str:
    refs = refs if refs is not None else named_references(dump, [src])[src]
    for name, t in refs:
        if t == dst:
            return name
    return "?"


# --------------------------------------------------------------------------- paths and summaries

def path_to_root(dump: HprofDump, g: HeapGraph, v: int, limit: int = 200) -> pd.DataFrame:
    """The shortest path from a GC root to object ``v``: one row per step, root first.

    Columns: ``depth, object_id, object, edge`` (the field of the previous step that
    holds this one), ``root_type`` (on the first row), ``shallow``, ``retained``.
    """
    steps = []
    x = int(v)
    while x >= 0 and x != g.root and len(steps) < limit:
        steps.append(x)
        x = int(g.pred[x])
    steps = steps[::-1]
    if not steps or g.dist[steps[0]] != 1:
        return pd.DataFrame({"depth": [0], "object_id": [int(dump.objects["id"][v])], "object": [label(dump, v)],
                             "edge": ["(not reachable from a GC root)"], "root_type": [""],
                             "shallow": [int(dump.objects["size"][v])], "retained": [int(g.retained[v])]})
    refs = named_references(dump, steps[:-1])
    rt = dump.roots.groupby("object")["type"].agg(lambda s: ", ".join(sorted(set(s))))
    rows = []
    for d, x in enumerate(steps):
        rows.append({"depth": d, "object_id": int(dump.objects["id"][x]), "object": label(dump, x),
                     "edge": "" if d == 0 else edge_name(dump, steps[d - 1], x, refs[steps[d - 1]]),
                     "root_type": rt.get(x, "") if d == 0 else "",
                     "shallow": int(dump.objects["size"][x]), "retained": int(g.retained[x])})
    return pd.DataFrame(rows)


def format_path(df: pd.DataFrame) -> str:
    """``[thread] java.lang.Thread @0x… --contextClassLoader--> … --table--> java.util.HashMap$Node[4,096] @0x…``."""
    parts = []
    for r in df.itertuples():
        parts.append(f"[{r.root_type}] {r.object}" if r.depth == 0 else f"--{r.edge}--> {r.object}")
    return " ".join(parts)


def gc_roots(dump: HprofDump, g: HeapGraph | None = None) -> pd.DataFrame:
    """GC roots by type: ``type, roots, objects`` (distinct), and ``retained`` (bytes the roots of the type
    dominate: what would be freed if only they were dropped)."""
    r = dump.roots
    df = r.groupby("type").agg(roots=("object", "size"), objects=("object", "nunique")).reset_index()
    if g is not None:
        top = (g.idom == g.root)
        ret = []
        for t in df["type"]:
            objs = np.unique(r.loc[(r["type"] == t) & (r["object"] >= 0), "object"].to_numpy())
            ret.append(int(g.retained[objs[top[objs]]].sum()) if len(objs) else 0)
        df["retained"] = np.array(ret, dtype=np.int64)
    return df.sort_values(["roots", "type"], ascending=[False, True]).reset_index(drop=True)


def is_user_owner(dump: HprofDump) -> np.ndarray:
    """Objects that own the bytes they dominate: instances of non-JDK classes, and non-JDK class objects
    (their static fields). JDK collections, strings and arrays are charged to whoever holds them."""
    names = dump.class_names.astype(str)
    user_cls = np.array([not n.startswith(JDK_PACKAGES) and not n.startswith("(") for n in names], dtype=bool)
    o = dump.objects
    own = user_cls[o["cls"]] & (o["kind"] == hs.K_INSTANCE)
    k = np.flatnonzero(o["kind"] == hs.K_CLASS)
    cn = dump.classes.set_index("class_id")["name"]
    own[k] = [not str(cn.get(int(i), "java.")).startswith(JDK_PACKAGES) for i in o["id"][k].tolist()]
    return own


def owned_by_class(dump: HprofDump, g: HeapGraph) -> pd.Series:
    """Bytes per owner class: every object's size is charged to its nearest dominator that is a user-level
    owner (:func:`is_user_owner`), or to itself; class objects count as ``X (static fields)``."""
    own = np.concatenate([is_user_owner(dump), [False]])
    owner = dom.owners(g.idom, g.order, own)[: dump.n]
    per = np.bincount(owner, weights=dump.objects["size"], minlength=dump.n)
    keys = owner_names(dump)
    s = pd.Series(per, index=keys).groupby(level=0).sum()
    return s[s > 0].astype(np.int64)


def owner_names(dump: HprofDump) -> np.ndarray:
    """Per object, the row name it is charged under: its histogram class, or ``X (static fields)`` for class X."""
    o = dump.objects
    names = dump.class_names.astype(object)[o["cls"]].copy()
    k = np.flatnonzero(o["kind"] == hs.K_CLASS)
    cn = dump.classes.set_index("class_id")["name"]
    names[k] = [f"{cn.get(int(i), '(unnamed)')} (static fields)" for i in o["id"][k].tolist()]
    return names


@njit(cache=True)
def _topmost_by_class(first_child, children, root, cls, retained, n_cls):
    """Per class: retained bytes of its instances not dominated by another instance of the same class."""
    total = np.zeros(n_cls, np.int64)
    active = np.zeros(n_cls, np.int32)
    stack = np.empty(len(children) + 1, np.int64)
    state = np.zeros(len(first_child) - 1, np.uint8)
    sp = 0
    stack[0] = root
    sp = 1
    while sp > 0:
        v = stack[sp - 1]
        if state[v] == 0:
            state[v] = 1
            if v != root:
                c = cls[v]
                if active[c] == 0:
                    total[c] += retained[v]
                active[c] += 1
            for k in range(first_child[v], first_child[v + 1]):
                stack[sp] = children[k]
                sp += 1
        else:
            sp -= 1
            if v != root:
                active[cls[v]] -= 1
    return total


def retained_by_class(dump: HprofDump, g: HeapGraph) -> pd.Series:
    """MAT's retained heap per class: the bytes freed if every instance of the class went away."""
    idom = g.idom
    kids = np.flatnonzero(idom >= 0)
    parents = idom[kids]
    o = np.argsort(parents, kind="stable")
    children = kids[o].astype(np.int64)
    first = np.zeros(len(idom) + 1, np.int64)
    np.cumsum(np.bincount(parents, minlength=len(idom)), out=first[1:])
    k = len(dump.class_names)
    cls = np.concatenate([dump.objects["cls"], [k]]).astype(np.int64)
    tot = _topmost_by_class(first, children, g.root, cls, g.retained, k + 1)[:k]
    s = pd.Series(tot, index=dump.class_names.astype(str)).groupby(level=0).sum()
    return s[s > 0]
