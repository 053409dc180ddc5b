"""Load heap evidence: V8 snapshots, Java heap dumps, JVM class histograms, tracemalloc text, Go pprof heap profiles.

:func:`load_heap` is the registered loader for the kinds ``v8-heapsnapshot``, ``hprof``,
``jvm-histogram``, ``tracemalloc-text``, ``pprof`` and ``python-pickle`` (the
last one is always refused: evidence is never unpickled).

>>> heap = load_heap("sample_data/memory/jcmd_histo_t2.txt")
>>> heap.classes.head(1)[["readable", "count", "bytes"]].values.tolist()
[['LeakyService.OrderRecord', 42000, 6384000]]
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..artifact import Provenance, provenance_for
from ..errors import ArtifactError

PICKLE_REFUSAL = (
    "this is a Python pickle (tracemalloc's Snapshot.dump() writes pickles, and loading one back with Snapshot.load calls "
    "pickle.load, which runs whatever code the file asks for). The workbench never unpickles evidence. "
    "Export text instead, in the process or a sandbox you trust: "
    "`for s in new.compare_to(old, 'lineno'): print(s)`, or for stacks "
    "`for s in new.compare_to(old, 'traceback'): print(s); print('\\n'.join(s.traceback.format()))`, "
    "save the output to a file and load that"
)


@dataclass
class HeapProfile:
    """One loaded heap artifact.

    ``classes`` has one row per type or allocation site with at least
    ``name, count, bytes`` (shallow/sampled bytes at that time). When the file
    is already a diff (tracemalloc ``compare_to`` text) ``is_diff`` is True and
    ``classes`` also holds ``count_before`` and ``bytes_before``. ``raw`` is the
    kind's detailed frame (histogram rows, statistics, pprof samples) and
    ``snapshot`` the parsed V8 graph (:class:`forensics.memory.v8.V8Snapshot`).
    """

    kind: str
    provenance: Provenance
    classes: pd.DataFrame
    raw: pd.DataFrame | None = None
    info: dict = field(default_factory=dict)
    is_diff: bool = False
    snapshot: object | None = None
    notes: list = field(default_factory=list)


def _v8(path, prov, graph: bool = True, **_):
    from .v8 import read_v8

    snap = read_v8(path, prov, graph=graph)
    names, codes = snap.class_names()
    counts = np.bincount(codes, minlength=len(names))
    sizes = np.bincount(codes, weights=snap.self_size, minlength=len(names)).astype(np.int64)
    classes = pd.DataFrame({"name": pd.array(names.astype(str), dtype="str"), "count": counts.astype(np.int64),
                            "bytes": sizes}).groupby("name", as_index=False).sum()
    classes = classes.sort_values("bytes", ascending=False, kind="stable").reset_index(drop=True)
    info = {"node_count": snap.node_count, "edge_count": snap.edge_total, "total_bytes": int(snap.self_size.sum())}
    return HeapProfile("v8-heapsnapshot", prov, classes, None, info, snapshot=snap,
                       notes=["sizes are shallow (self) sizes; retained sizes come from the dominator tree in heap diffs"])


def _jvm(path, prov, **_):
    from .jvm import read_histogram

    rows, info = read_histogram(path, prov)
    classes = rows[["name", "readable", "module", "count", "bytes"]].copy()
    return HeapProfile("jvm-histogram", prov, classes, rows, info,
                       notes=["JVM histograms count shallow bytes per class; :live histograms are taken after a full GC"])


def _tracemalloc(path, prov, **_):
    from .tracemalloc_text import read_tracemalloc

    stats, info = read_tracemalloc(path, prov)
    g = stats.groupby("site", sort=False)
    classes = pd.DataFrame({"count": g["count"].sum(), "bytes": g["size"].sum()}).reset_index(names="name")
    if info["is_diff"]:
        classes["count_before"] = (g["count"].sum() - g["count_diff"].sum()).to_numpy(dtype=np.int64)
        classes["bytes_before"] = (g["size"].sum() - g["size_diff"].sum()).to_numpy(dtype=np.int64)
    classes["traceback"] = g["traceback"].first().to_numpy()
    classes["name"] = classes["name"].astype("str")
    notes = ["tracemalloc prints rounded sizes (e.g. '93.8 KiB'); byte figures are accurate to about 0.1 %"]
    if info["mode"].startswith("traceback"):
        notes.append("traceback mode: each statistic is attributed to the innermost printed frame (the allocating line), "
                     "not to the header line, which names the outermost frame")
    return HeapProfile("tracemalloc-text", prov, classes, stats, info, is_diff=info["is_diff"], notes=notes)


def _pprof(path, prov, sample_type: str | None = None, **_):
    from .pprof import read_pprof, read_pprof_top

    if prov.format == "pprof -top text report":
        rows, info = read_pprof_top(path, prov)
        space = not (info["type"] or "").endswith("_objects")
        g = rows.groupby("function", sort=False)["flat"].sum()
        classes = pd.DataFrame({"name": g.index.astype("str"), "delta": g.to_numpy(dtype=np.int64)})
        return HeapProfile("pprof", prov, classes, rows, {**info, "value": info["type"], "space": space}, is_diff=True,
                           notes=[f"a pprof -top report ({info['type']}): values are the report's flat column, taken as "
                                  "growth (as printed by pprof -base); sampled estimates; before/after are not in the report"])

    if prov.format == "pprof legacy text heap profile":
        from .pprof_legacy import read_pprof_legacy

        samples, info = read_pprof_legacy(path, prov)
    else:
        samples, info = read_pprof(path, prov)
    types = [t for t, _ in info["sample_types"]]
    space = sample_type or ("inuse_space" if "inuse_space" in types else types[-1])
    if space not in types and space == "inuse_space" and "space" in types:
        space = "space"   # a legacy profile without allocation totals
    objects = space.replace("_space", "_objects") if space.replace("_space", "_objects") in types else None
    if space not in types:
        raise ArtifactError(path, "sample_type", f"no sample type {space!r}; this profile has {', '.join(types)}")
    g = samples.groupby("function")
    classes = pd.DataFrame({"count": g[objects].sum() if objects else g[space].count(), "bytes": g[space].sum()})
    classes = classes.reset_index(names="name")
    classes["name"] = classes["name"].astype("str")
    info["value"] = space
    return HeapProfile("pprof", prov, classes, samples, info,
                       notes=[f"pprof values ({space}) are sampled estimates scaled by the sampling rate, not exact counts; "
                              "rows are leaf functions (pprof -top 'flat')"])


def _hprof(path, prov, compressed_oops=None, **_):
    from .hprof import histogram, read_hprof

    dump = read_hprof(path, prov, compressed_oops=compressed_oops)
    h = histogram(dump)
    classes = h[["name", "readable", "count", "bytes"]].copy()
    info = {**dump.info, "total_bytes": int(h["bytes"].sum()), "total_count": int(h["count"].sum())}
    return HeapProfile("hprof", prov, classes, dump.roots, info, snapshot=dump,
                       notes=["shallow bytes as HotSpot allocates them (what jmap -histo counts), recomputed from the "
                              f"class layouts with {info['reference_size']}-byte references; retained sizes come from "
                              "the dominator tree (forensics.memory.hprof_graph)"])


def load_heap(path, **options) -> HeapProfile:
    """Load one heap artifact (kind sniffed from content) as a :class:`HeapProfile`.

    Options: ``graph=False`` (V8: skip edges; no retained sizes), ``compressed_oops=True|False`` (HPROF:
    the reference size; decided from the object addresses by default),
    ``sample_type="alloc_space"`` (pprof; default ``inuse_space``).
    Python pickles are refused with an :class:`ArtifactError` that says how to export text.
    """
    path = os.fspath(path)
    prov = provenance_for(path, parser="forensics.memory")
    kind = prov.kind
    if kind == "python-pickle":
        raise ArtifactError(path, 0, PICKLE_REFUSAL)
    readers = {"v8-heapsnapshot": _v8, "jvm-histogram": _jvm, "tracemalloc-text": _tracemalloc, "pprof": _pprof,
               "hprof": _hprof}
    if kind not in readers:
        raise ArtifactError(path, None, f"not a heap artifact (sniffed as {kind or 'unknown'}); "
                            "expected a V8 .heapsnapshot, a jmap/jcmd class histogram, tracemalloc text or a pprof profile")
    try:
        result = readers[kind](path, prov, **options)
    except ArtifactError as e:
        if e.path is None:
            raise ArtifactError(path, e.location, e.reason) from None
        raise
    except (MemoryError, RecursionError, KeyError, IndexError, TypeError, ValueError, OverflowError) as e:
        # a last line of defence: every known bad shape is reported above with its location,
        # but evidence is hostile, and the promise is that only ArtifactError escapes
        raise ArtifactError(path, None, f"could not be parsed as {kind}: {type(e).__name__}: {e}") from None
    for df in (result.classes, result.raw):
        if df is not None:
            prov.attach(df)
    return result
