"""What a Java heap dump says: MAT-style leak suspects, duplicate strings, big arrays, and the diff of two dumps.

* :func:`leak_suspects` — Eclipse MAT's Leak Suspects rule on one dump: any
  object the dominator tree shows retaining at least ``threshold`` of the heap
  (MAT's default 10 %) and any class whose top-level instances together do;
  for each, the *accumulation point* — going down the dominator tree through
  the biggest child while it keeps at least ``drop`` (80 %) of its parent's
  retained bytes, the node where that stops — the *holder* that keeps the
  accumulation point (the static field or user object above it), what it
  accumulates, and the shortest path from a GC root.
* :func:`duplicate_strings` / :func:`big_arrays` — the strings and primitive
  arrays summaries (what MAT's "Duplicate Strings" and "Top consumers" show).
* :func:`compare_dumps` — per class: instances and shallow bytes before/after
  (the jmap histogram diff), MAT's retained heap per class, and the bytes
  *owned* per class (charged to the nearest user-level dominator, as the V8
  diff does), sorted by owned growth.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import hprof_scan as hs
from .hprof import HprofDump, histogram
from .hprof_bytes import read_spans
from .hprof_graph import (HeapGraph, format_path, is_user_owner, label, named_references, owned_by_class,
                          path_to_root, retained_by_class)


def _children(g: HeapGraph, v: int) -> np.ndarray:
    return np.flatnonzero(g.idom == v)


def accumulation_point(g: HeapGraph, v: int, drop: float = 0.8, limit: int = 10_000) -> int:
    """Follow the biggest dominated child while it retains ≥ ``drop`` of its parent; where it stops."""
    kids_of = _child_index(g)
    x = v
    for _ in range(limit):
        kids = kids_of(x)
        if len(kids) == 0:
            return x
        big = kids[np.argmax(g.retained[kids])]
        if g.retained[big] < drop * g.retained[x]:
            return x
        x = int(big)
    return x


def _child_index(g: HeapGraph):
    """``children(x)``: the objects ``x`` immediately dominates (built once per graph)."""
    cached = getattr(g, "_children", None)
    if cached is None:
        kids = np.flatnonzero(g.idom >= 0).astype(np.int32)
        parents = g.idom[kids]
        o = np.argsort(parents, kind="stable")
        kids = kids[o]
        first = np.zeros(len(g.idom) + 1, np.int64)
        np.cumsum(np.bincount(parents, minlength=len(g.idom)), out=first[1:])
        del o, parents
        cached = g._children = (kids, first)
    kids, first = cached
    return lambda x: kids[first[x]:first[x + 1]]


def _holder(dump: HprofDump, g: HeapGraph, acc: int) -> str:
    """The static field or user-level object that keeps ``acc``: walk up the dominator tree from it."""
    from .hprof_graph import class_of_classobj

    own = _owners(dump)
    o = dump.objects
    below, x = acc, int(g.idom[acc])
    while x >= 0 and x != g.root:
        if own[x] or o["kind"][x] == hs.K_CLASS:
            refs = named_references(dump, [x])[x]
            field = next((n for n, t in refs if t == below), "?")
            if o["kind"][x] == hs.K_CLASS:
                return f"{class_of_classobj(dump, x)}.{field.replace('static ', '')} (static field)"
            return f"{label(dump, x)} .{field}"
        below, x = x, int(g.idom[x])
    return "(no user-level holder: held by the JVM or the JDK)"


def _owners(dump: HprofDump) -> np.ndarray:
    cached = getattr(dump, "_user_owner", None)     # computed once per dump
    if cached is None:
        cached = dump._user_owner = is_user_owner(dump)
    return cached


def _accumulates(dump: HprofDump, g: HeapGraph, acc: int) -> tuple[str, int]:
    """The most common user-level class among the objects ``acc`` dominates (the leaking type), and how many."""
    from . import dominators as dom

    marked = np.zeros(len(g.idom), np.bool_)
    marked[acc] = True
    inside = np.flatnonzero(dom.top_marked(g.idom, g.order, marked)[: dump.n] == acc)
    own = _owners(dump)[inside]
    pick = inside[own] if own.any() else inside[inside != acc]
    if len(pick) == 0:
        return "", 0
    counts = np.bincount(dump.objects["cls"][pick], minlength=len(dump.class_names))
    k = int(np.argmax(counts))
    return str(dump.class_names[k]), int(counts[k])


def _contents(dump: HprofDump, g: HeapGraph, acc: int, top: int = 3) -> tuple[str, str, int]:
    """What the accumulation point's dominated objects are, by class (the most common first)."""
    kids = _child_index(g)(acc)
    if len(kids) == 0:
        return "", "", 0
    cls = dump.objects["cls"][kids]
    df = pd.DataFrame({"cls": cls, "ret": g.retained[kids]}).groupby("cls")["ret"].agg(["count", "sum"])
    df = df.sort_values(["sum", "count"], ascending=False)
    parts = [f"{int(c):,} × {dump.class_names[k]} ({int(s):,} B retained)" for k, (c, s) in
             zip(df.index[:top], df.itertuples(index=False))]
    # one level deeper for containers of nodes (HashMap$Node → the values)
    main = str(dump.class_names[df.index[0]])
    return "; ".join(parts), main, int(df["count"].iloc[0])


def leak_suspects(dump: HprofDump, g: HeapGraph, threshold: float = 0.10, drop: float = 0.8,
                  top: int = 10) -> pd.DataFrame:
    """MAT Leak Suspects: one row per suspect object or class, biggest first.

    Columns: ``rank, suspect`` (object label or ``N × class``), ``kind`` (object|class), ``retained``,
    ``share`` (of the heap), ``accumulation_point``, ``accumulated`` (its retained bytes), ``holder``
    (static field / user object keeping it), ``contents`` (its direct dominated objects, by class),
    ``leaking_class`` / ``leaking_objects`` (the most common user-level class below it, and how many),
    ``path`` (shortest path from a GC root to the accumulation point).
    """
    total = int(dump.objects["size"].sum())
    cols = ["rank", "suspect", "kind", "retained", "share", "accumulation_point", "accumulated", "holder",
            "contents", "leaking_class", "leaking_objects", "path"]
    if total == 0:
        return pd.DataFrame({c: [] for c in cols})
    tops = np.flatnonzero(g.idom == g.root)
    found = []
    for v in tops[g.retained[tops] >= threshold * total]:
        found.append(("object", label(dump, int(v)), int(g.retained[v]), int(v)))
    # classes whose top-level instances together retain the threshold (no single one does)
    cls = dump.objects["cls"][tops]
    per = pd.DataFrame({"cls": cls, "ret": g.retained[tops], "v": tops}).groupby("cls")
    for k, grp in per:
        if dump.class_names[k] == "java.lang.Class":   # system classes are GC roots themselves: no information
            continue
        if len(grp) > 1 and grp["ret"].sum() >= threshold * total and grp["ret"].max() < threshold * total:
            v = int(grp.sort_values("ret").iloc[-1]["v"])
            found.append(("class", f"{len(grp):,} × {dump.class_names[k]}", int(grp["ret"].sum()), v))
    rows = []
    for kind, name, ret, v in sorted(found, key=lambda r: -r[2])[:top]:
        acc = accumulation_point(g, v, drop)
        contents, _, _ = _contents(dump, g, acc)
        main, n_main = _accumulates(dump, g, acc)
        p = path_to_root(dump, g, acc)
        rows.append({"suspect": name, "kind": kind, "retained": ret, "share": round(ret / total, 4),
                     "accumulation_point": label(dump, acc), "accumulated": int(g.retained[acc]),
                     "holder": _holder(dump, g, acc), "contents": contents, "leaking_class": main,
                     "leaking_objects": n_main,
                     "path": format_path(p)})
    df = pd.DataFrame(rows, columns=cols[1:])
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    return df


def _string_layout(dump: HprofDump):
    """Field offsets of java.lang.String's ``value`` and ``coder`` in HPROF instance bytes (JDK 9+: coder)."""
    from .hprof_graph import _SIZES, _instance_fields

    c = dump.classes[dump.classes["name"] == "java.lang.String"]
    if c.empty:
        return None, None, None
    off, value, coder = 0, None, None
    for name, t in _instance_fields(dump, int(c["class_id"].iloc[0])):
        if name == "value":
            value = off
        elif name == "coder":
            coder = off
        off += dump.id_size if t == 2 else _SIZES.get(t, 0)
    return int(c.index[0]), value, coder


def duplicate_strings(dump: HprofDump, top: int = 20, preview: int = 60) -> pd.DataFrame:
    """Strings with the same content held in more than one ``String``: ``text, copies, wasted`` (bytes that one
    copy would save: the extra Strings and their arrays), ``array_bytes`` (one array), ordered by waste."""
    cols = ["text", "copies", "wasted", "array_bytes", "example_id"]
    ci, value_off, coder_off = _string_layout(dump)
    o = dump.objects
    if ci is None:
        return pd.DataFrame({c: [] for c in cols})
    code = dump.class_names.tolist().index("java.lang.String")
    s = np.flatnonzero((o["cls"] == code) & (o["kind"] == hs.K_INSTANCE))
    # a String's value: its one reference to a primitive array
    first = dump.first_edge
    arr = np.full(len(s), -1, np.int64)
    for i, v in enumerate(s.tolist()):
        for t in dump.edge_to[first[v]:first[v + 1]].tolist():
            if o["kind"][t] == hs.K_PRIMARRAY:
                arr[i] = t
                break
    ok = arr >= 0
    s, arr = s[ok], arr[ok]
    df = pd.DataFrame({"s": s, "a": arr, "h": o["hash"][arr], "n": o["length"][arr],
                       "bytes": o["size"][s] + o["size"][arr]})
    g = df.groupby(["h", "n"]).agg(copies=("s", "size"), bytes=("bytes", "sum"), s=("s", "first"), a=("a", "first"))
    g = g[g["copies"] > 1]
    g["wasted"] = g["bytes"] - g["bytes"] // g["copies"]
    g = g.sort_values(["wasted", "copies"], ascending=False).head(top)
    if g.empty:
        return pd.DataFrame({c: [] for c in cols})
    texts = read_spans(dump, [(int(o["offset"][a]), min(int(o["length"][a]), 4 * preview)) for a in g["a"]])
    coders = read_spans(dump, [(int(o["offset"][v]) + (coder_off or 0), 1) for v in g["s"]]) if coder_off is not None \
        else [b"\x00"] * len(g)
    out = []
    for raw, cd, typ in zip(texts, coders, o["type_id"][g["a"].to_numpy()]):
        if int(typ) == 5 or cd[:1] == b"\x01":       # char[] (JDK 8) or UTF-16 coder
            t = raw.decode("utf-16-be", "replace")
        else:
            t = raw.decode("latin-1")
        out.append(t[:preview])
    return pd.DataFrame({"text": pd.array(out, dtype="str"), "copies": g["copies"].to_numpy(np.int64),
                         "wasted": g["wasted"].to_numpy(np.int64),
                         "array_bytes": o["size"][g["a"].to_numpy()].astype(np.int64),
                         "example_id": o["id"][g["s"].to_numpy()].astype(np.uint64)})


def big_arrays(dump: HprofDump, g: HeapGraph, top: int = 10) -> pd.DataFrame:
    """The biggest primitive arrays and who owns them: ``array, bytes, owner`` (the immediate dominator),
    ``holder`` (the user-level object or class above it), ``owner_class``."""
    o = dump.objects
    p = np.flatnonzero(o["kind"] == hs.K_PRIMARRAY)
    big = p[np.argsort(-o["size"][p], kind="stable")[:top]]
    rows = []
    for v in big.tolist():
        d = int(g.idom[v])
        rows.append({"array": label(dump, v), "bytes": int(o["size"][v]),
                     "owner": "(GC root)" if d == g.root else ("(unreachable)" if d < 0 else label(dump, d)),
                     "holder": _holder(dump, g, v) if d >= 0 else "",
                     "owner_class": "" if d < 0 or d == g.root else str(dump.class_names[o["cls"][d]])})
    return pd.DataFrame(rows, columns=["array", "bytes", "owner", "holder", "owner_class"])


def byte_array_owners(dump: HprofDump, g: HeapGraph, top: int = 10) -> pd.DataFrame:
    """``byte[]`` bytes per class of their immediate dominator: who holds the raw bytes."""
    o = dump.objects
    code = [i for i, n in enumerate(dump.class_names.tolist()) if n == "[B"]
    b = np.flatnonzero(np.isin(o["cls"], code))
    d = g.idom[b]
    names = np.where(d == g.root, "(GC root)", np.where(d < 0, "(unreachable)", ""))
    inner = (d >= 0) & (d != g.root)
    cls = np.array(dump.class_names, dtype=object)[o["cls"][d[inner]]]
    names = names.astype(object)
    names[inner] = cls
    df = pd.DataFrame({"owner_class": names, "bytes": o["size"][b]}).groupby("owner_class")["bytes"].agg(
        arrays="size", bytes="sum").reset_index()
    return df.sort_values("bytes", ascending=False).head(top).reset_index(drop=True)


def compare_dumps(before: HprofDump, after: HprofDump, g_before: HeapGraph, g_after: HeapGraph) -> pd.DataFrame:
    """Per class: ``count/bytes_before/after/delta`` (shallow, as jmap), ``retained_before/after/delta``
    (owned bytes: charged to the nearest user-level dominator; static holders as ``X (static fields)``),
    ``mat_retained_before/after`` (MAT's retained heap of the class). Sorted by owned growth."""
    hb, ha = histogram(before).groupby("name")[["count", "bytes"]].sum(), histogram(after).groupby("name")[["count", "bytes"]].sum()
    df = hb.add_suffix("_before").join(ha.add_suffix("_after"), how="outer").fillna(0).astype(np.int64)
    ob, oa = owned_by_class(before, g_before), owned_by_class(after, g_after)
    mb, ma = retained_by_class(before, g_before), retained_by_class(after, g_after)
    idx = df.index.union(ob.index).union(oa.index)
    df = df.reindex(idx).fillna(0).astype(np.int64)
    df["count_delta"] = df["count_after"] - df["count_before"]
    df["bytes_delta"] = df["bytes_after"] - df["bytes_before"]
    df["retained_before"] = ob.reindex(idx).fillna(0).astype(np.int64)
    df["retained_after"] = oa.reindex(idx).fillna(0).astype(np.int64)
    df["retained_delta"] = df["retained_after"] - df["retained_before"]
    df["mat_retained_before"] = mb.reindex(idx).fillna(0).astype(np.int64)
    df["mat_retained_after"] = ma.reindex(idx).fillna(0).astype(np.int64)
    df = df.reset_index(names="name")
    df["name"] = df["name"].astype("str")
    changed = (df["count_delta"] != 0) | (df["bytes_delta"] != 0) | (df["retained_delta"] != 0)
    df = df[changed].sort_values(["retained_delta", "bytes_delta", "name"], ascending=[False, False, True])
    cols = ["name", "count_before", "count_after", "count_delta", "bytes_before", "bytes_after", "bytes_delta",
            "retained_before", "retained_after", "retained_delta", "mat_retained_before", "mat_retained_after"]
    return df[cols].reset_index(drop=True)
