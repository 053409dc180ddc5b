"""Heap diffs across kinds: one row per type or allocation site, sorted by growth.

:func:`heap_diff` takes two or three snapshots (before, after[, final]) of the
same kind, or one file that is already a diff (tracemalloc ``compare_to``
text), and returns a :class:`HeapDiff` whose ``table`` has the columns
``name, count_before, count_after, count_delta, bytes_before, bytes_after,
bytes_delta`` (+ kind-specific ones). For V8 it adds DevTools' ``new_count``/
``deleted_count``, ``retained_delta`` (bytes owned by the class, from the
dominator tree) and ``leak_candidate`` (objects matching memlab's
three-snapshot rule), and ``leaks`` holds the retainer-path clusters.

>>> d = heap_diff(["jcmd_histo_t0.txt", "jcmd_histo_t1.txt", "jcmd_histo_t2.txt"])   # doctest: +SKIP
>>> d.table.iloc[0]["name"]                                                          # doctest: +SKIP
'LeakyService$OrderRecord'
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..artifact import Provenance, sniff
from ..errors import ArtifactError
from .load import PICKLE_REFUSAL, load_heap

BASE_COLUMNS = ["name", "count_before", "count_after", "count_delta", "bytes_before", "bytes_after", "bytes_delta"]

CLOSURE_NOTE = ("bytes captured by closures live in '(array)' backing stores and 'system / Context' objects, "
                "not in '(closure)' itself; retained_delta charges them to the user-level owner (object, closure) "
                "that dominates them, and the leak paths name that owner")


@dataclass
class HeapDiff:
    """A diff: the per-type/site ``table``, V8 ``leaks`` clusters, plain-words ``notes`` and provenances."""

    kind: str
    table: pd.DataFrame
    leaks: pd.DataFrame | None = None
    notes: list = field(default_factory=list)
    provenance: list = field(default_factory=list)
    verdict: str = ""
    comparable: bool = True   # False when the snapshots cannot be one process at two times (no shared name)


def _kinds(paths) -> str:
    kinds = []
    for p in paths:
        d = sniff(p)
        if d.kind == "python-pickle":
            raise ArtifactError(p, 0, PICKLE_REFUSAL)
        kinds.append(d.kind)
    if len(set(kinds)) != 1:
        raise ArtifactError(paths[-1], None, "a diff needs files of one kind; got " + ", ".join(str(k) for k in kinds))
    return kinds[0]


def _join(before: pd.DataFrame, after: pd.DataFrame, extra=()) -> pd.DataFrame:
    b = before.groupby("name")[["count", "bytes"]].sum()
    a = after.groupby("name")[["count", "bytes"]].sum()
    df = b.add_suffix("_before").join(a.add_suffix("_after"), how="outer").fillna(0).astype(np.int64)
    df["count_delta"] = df["count_after"] - df["count_before"]
    df["bytes_delta"] = df["bytes_after"] - df["bytes_before"]
    df = df.reset_index()
    for col in extra:
        src = pd.concat([before[["name", col]], after[["name", col]]]).drop_duplicates("name", keep="last")
        df[col] = df["name"].map(src.set_index("name")[col])
    df["name"] = df["name"].astype("str")
    return df[BASE_COLUMNS + list(extra)]


def _sorted(df: pd.DataFrame, key="bytes_delta") -> pd.DataFrame:
    return df.sort_values([key, "count_delta", "name"], ascending=[False, False, True], kind="stable").reset_index(drop=True)


def _simple_diff(kind: str, heaps: list, extra: tuple) -> pd.DataFrame:
    """Before = first file, after = last; with three files ``leak_candidate`` = grew in both intervals."""
    df = _join(heaps[0].classes, heaps[-1].classes, extra)
    if len(heaps) == 3:
        mid = heaps[1].classes.groupby("name")["bytes"].sum()
        first = df.set_index("name")["bytes_before"]
        last = df.set_index("name")["bytes_after"]
        m = mid.reindex(first.index).fillna(0)
        df["bytes_middle"] = m.to_numpy(dtype=np.int64)
        df["leak_candidate"] = ((m > first) & (last > m)).to_numpy()
    return _sorted(df)


def _diff_file(heap) -> pd.DataFrame:
    c = heap.classes
    if "delta" in c:  # a pprof -top report: only the growth is known
        na = pd.array([pd.NA] * len(c), dtype="Int64")
        space = heap.info.get("space", True)
        delta = pd.array(c["delta"], dtype="Int64")
        df = pd.DataFrame({"name": c["name"], "count_before": na, "count_after": na,
                           "count_delta": na if space else delta, "bytes_before": na, "bytes_after": na,
                           "bytes_delta": delta if space else na})
        key = "bytes_delta" if space else "count_delta"
        return df.sort_values([key, "name"], ascending=[False, True], kind="stable").reset_index(drop=True)
    df = pd.DataFrame({"name": c["name"], "count_before": c["count_before"], "count_after": c["count"],
                       "bytes_before": c["bytes_before"], "bytes_after": c["bytes"]})
    df["count_delta"] = df["count_after"] - df["count_before"]
    df["bytes_delta"] = df["bytes_after"] - df["bytes_before"]
    df["traceback"] = c["traceback"]
    # ties keep the print-out's order (compare_to's own sort), not the name's
    df = df[BASE_COLUMNS + ["traceback"]].sort_values(["bytes_delta", "count_delta"], ascending=False, kind="stable")
    return df.reset_index(drop=True)


def _provenances(paths, parser: str):
    """Provenances whose SHA-256 is computed on another thread while the files are parsed (hashlib and the
    parsing kernels both release the GIL); ``finish()`` waits for the hashes and fills them in."""
    from concurrent.futures import ThreadPoolExecutor

    from .. import __version__
    from ..artifact import sha256_of

    pool = ThreadPoolExecutor(max_workers=1)
    hashes = [pool.submit(sha256_of, p) for p in paths]
    provs = []
    for p in paths:
        d, st = sniff(p), os.stat(p)
        provs.append(Provenance(path=os.path.abspath(p), size=st.st_size, sha256="", kind=d.kind, format=d.format,
                                parser=parser, parser_version=__version__, mtime=st.st_mtime))

    def finish():
        for prov, h in zip(provs, hashes):
            prov.sha256 = h.result()
        pool.shutdown()
    return provs, finish


def _v8_diff(paths, top: int) -> HeapDiff:
    from .v8 import drop_node_names, read_v8
    from .v8diff import analyse_graph, candidate_mask, compare_and_new, leak_clusters, summarize

    all_provs, finish_hashes = _provenances(paths, "forensics.memory.v8")
    sums, provs = [None, None], all_provs[:2]
    # the bigger snapshot first: its graph is then built while no other summary is held (lower peak memory)
    for i in sorted((0, 1), key=lambda k: -os.path.getsize(paths[k])):
        prov = provs[i]
        snap = read_v8(paths[i], prov, edge_names=False)   # a summary needs the graph's shape, not its edge names
        sums[i] = summarize(snap, consume=True)
        del snap   # freed at once: a snapshot holds no reference cycles
    table, grew = compare_and_new(sums[0], sums[1])   # grew: ids allocated between the first two
    del sums  # keep peak memory to one snapshot at a time
    leaks = None
    if len(paths) == 3:
        prov = all_provs[2]
        final = read_v8(paths[2], prov, edge_names=False)   # the clusters re-read the names on their paths
        drop_node_names(final)                              # … node names too, once the classes are known
        provs.append(prov)
        g = analyse_graph(final, owners=False)   # the clusters need dominators and paths, not owners
        mask = candidate_mask(None, None, final, grew=grew)
        names, codes = final.class_names()
        per_class = pd.Series(np.bincount(codes[mask], minlength=len(names)), index=names.astype(str))
        per_class = per_class.groupby(level=0).sum()
        table["leak_candidate"] = table["name"].map(per_class).fillna(0).astype(np.int64)
        leaks = leak_clusters(final, mask, g, top=top)
    else:
        table["leak_candidate"] = pd.array([pd.NA] * len(table), dtype="Int64")
    finish_hashes()
    if leaks is not None:
        provs[-1].attach(leaks)
    cols = BASE_COLUMNS + ["new_count", "deleted_count", "size_delta", "retained_before", "retained_after",
                           "retained_delta", "leak_candidate"]
    table = table[cols]
    provs[-1].attach(table)
    notes = ["rows are DevTools classes; objects are matched by id (new = only in the later snapshot)",
             "sorted by retained_delta: bytes owned by the class (its objects plus the internal objects they dominate)",
             CLOSURE_NOTE]
    if leaks is not None:
        notes.append("leak candidates follow memlab's rule: allocated between the first and second snapshot "
                     "and still alive in the third; clusters group the outermost ones by shortest retainer path")
    return HeapDiff("v8-heapsnapshot", table, leaks, notes, [p.to_dict() for p in provs])


def _hprof_diff(paths, top: int, **options) -> HeapDiff:
    """Two or three Java heap dumps: compare the first and the last; leak suspects of the last."""
    from .hprof_analysis import compare_dumps, leak_suspects
    from .hprof_graph import heap_graph

    heaps = [load_heap(p, **options) for p in (paths[0], paths[-1])]
    graphs = [heap_graph(h.snapshot) for h in heaps]
    table = compare_dumps(heaps[0].snapshot, heaps[1].snapshot, *graphs)
    if len(paths) == 3:
        mid = load_heap(paths[1], **options).classes.groupby("name")["bytes"].sum()
        m = table["name"].map(mid).fillna(0).astype(np.int64)
        table["bytes_middle"] = m.to_numpy()
        table["leak_candidate"] = ((m > table["bytes_before"]) & (table["bytes_after"] > m)).to_numpy()
    leaks = leak_suspects(heaps[1].snapshot, graphs[1], top=top or 10)
    for df in (table, leaks):
        heaps[1].provenance.attach(df)
    notes = ["rows are Java classes (jmap's names); count/bytes are shallow, as jmap -histo",
             "retained_* charges every object to its nearest dominator that is a user-level object or class "
             "(JDK collections, strings and arrays count under whoever holds them; a class's static fields "
             "as 'X (static fields)'); mat_retained_* is Eclipse MAT's retained heap of the class",
             "leaks holds MAT-style leak suspects of the later dump (10 % of the heap retained)"]
    return HeapDiff("hprof", table, leaks, notes, [h.provenance.to_dict() for h in heaps])


def heap_diff(paths, top: int = 20, **options) -> HeapDiff:
    """Diff two or three heap artifacts of one kind (or read one tracemalloc diff file)."""
    paths = [os.fspath(p) for p in paths]
    if not 1 <= len(paths) <= 3:
        raise ArtifactError(None, None, f"give one diff file, or two or three snapshots (before, after[, final]); got {len(paths)}")
    kind = _kinds(paths)
    if kind == "v8-heapsnapshot":
        if len(paths) == 1:
            raise ArtifactError(paths[0], None, "one V8 snapshot is not a diff: give before and after (and final for leak candidates)")
        try:
            d = _v8_diff(paths, top)
        except (MemoryError, KeyError, IndexError, TypeError, ValueError, OverflowError) as e:
            if isinstance(e, ArtifactError):
                raise
            raise ArtifactError(paths[-1], None, f"could not be parsed as a V8 heap snapshot: {type(e).__name__}: {e}") from None
    elif kind == "hprof":
        if len(paths) == 1:
            raise ArtifactError(paths[0], None, "one heap dump is not a diff: give two (before, after); "
                                "`forensics heap leaks DUMP` reads one")
        d = _hprof_diff(paths, top, **options)
    else:
        heaps = [load_heap(p, **options) for p in paths]
        if len(heaps) > 1 and any(h.is_diff for h in heaps):
            p = next(h for h in heaps if h.is_diff).provenance.path
            raise ArtifactError(p, None, "this file is already a diff (a compare_to print-out or a pprof report): give it alone")
        if len(heaps) == 1:
            if not heaps[0].is_diff:
                raise ArtifactError(paths[0], None, "this file holds one point in time, not a diff: give two or three files")
            table = _diff_file(heaps[0])
        else:
            extra = {"jvm-histogram": ("readable", "module"), "tracemalloc-text": ("traceback",)}.get(kind, ())
            table = _simple_diff(kind, heaps, extra)
        heaps[-1].provenance.attach(table)
        d = HeapDiff(kind, table, None, list(heaps[-1].notes), [h.provenance.to_dict() for h in heaps])
    d.verdict = verdict(d)
    if len(paths) > 1:
        shared = _shared_share(d.table)
        if shared == 0:
            d.comparable = False
            d.verdict = ("these snapshots share no type or allocation site, so they are not two points in time of one "
                         "process (different programs or builds?): whether anything grew is unknown")
        elif shared is not None and shared < 0.5:
            d.notes.append(f"only {shared:.0%} of the later snapshot's bytes are in types or sites the earlier one "
                           "also has: check that both come from the same process")
    if top:
        d.table = d.table.head(top) if top > 0 else d.table
    return d


def _shared_share(t: pd.DataFrame) -> float | None:
    """Share of the later snapshot's bytes (objects when no bytes) in names the earlier one also has."""
    for before, after in (("bytes_before", "bytes_after"), ("count_before", "count_after")):
        if before in t and after in t:
            b, a = t[before].fillna(0).astype(float), t[after].fillna(0).astype(float)
            total = float(a.sum())
            return float(a[b > 0].sum()) / total if total else None
    return None


def verdict(d: HeapDiff, min_objects: int = 100) -> str:
    """One sentence: what grew most, or that nothing grew (churn only).

    A type counts as growing when it gained at least ``min_objects`` objects
    and its bytes (retained for V8) grew; VM-internal V8 classes in parentheses
    are not named as leaks.
    """
    t = d.table
    key = "retained_delta" if d.kind in ("v8-heapsnapshot", "hprof") else "bytes_delta"
    if t["count_delta"].isna().all():  # a report with bytes only
        grow = t[t[key].fillna(0) > 0]
    else:
        grow = t[(t["count_delta"].fillna(0) >= min_objects) & (t[key].fillna(0) > 0)]
    if d.kind == "v8-heapsnapshot":
        grow = grow[~grow["name"].str.startswith("(") & ~grow["name"].str.startswith("system /")]
    if d.kind == "hprof":
        grow = grow[~grow["name"].str.endswith("(static fields)")]
    if grow.empty:
        return "no type grew by at least {:,} objects: no leak between these snapshots".format(min_objects)
    r = grow.sort_values(key, ascending=False, kind="stable").iloc[0]
    objects = "" if pd.isna(r["count_delta"]) else f"{int(r['count_delta']):,} objects and "
    return (f"{r['name']} grew by {objects}{int(r[key]):,} bytes"
            f"{' retained' if key == 'retained_delta' else ''} — the top leak suspect")
