"""V8 ``.heapsnapshot`` files (Node ``v8.writeHeapSnapshot()``, Chrome DevTools) as numpy arrays.

The layout is read from ``snapshot.meta`` (``node_fields``, ``node_types``,
``edge_fields``, ``edge_types``), never from hard-coded offsets. Integers are
parsed chunk by chunk straight into numpy (see :mod:`.jsonscan`); strings are
kept as byte offsets into the file and decoded only when a name is needed.

>>> snap = read_v8("sample_data/memory/node_s2_target.heapsnapshot")   # doctest: +SKIP
>>> snap.node_count, snap.edge_count                                     # doctest: +SKIP
(44_021, 190_410)
>>> names, codes = snap.class_names()                                    # doctest: +SKIP
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from ..artifact import Provenance, open_readonly
from ..errors import ArtifactError
from ..progress import progress
from .jsonscan import ChunkReader
from .v8_arrays import (NODE_SECOND, EdgeSplit, _col, edge_columns, edge_divisors, edge_drops, edges_ahead,
                        finish_edges, node_columns, read_ints, read_strings)
from .v8_lazy import LazyEdgeNames, StringTable  # noqa: F401  (part of this module's API)

_INT32_MAX = (1 << 31) - 1


@njit(cache=True, nogil=True)
def _class_keys(node_type, node_name, named):
    """The dense renumbering of class keys (``remap``) and the sorted keys (``uniq``), without int64 temporaries.

    A node's key is its type, or — for named types — ``#types + 1 + name``; keys are
    renumbered densely in increasing order (O(n), unlike ``np.unique``).
    """
    ntypes = len(named) - 1
    n = len(node_type)
    maxk = 0
    for i in range(n):
        t = min(np.int64(node_type[i]), ntypes)
        k = np.int64(node_name[i]) + ntypes + 1 if named[t] else t
        if k > maxk:
            maxk = k
    present = np.zeros(maxk + 1, np.bool_)
    for i in range(n):
        t = min(np.int64(node_type[i]), ntypes)
        present[np.int64(node_name[i]) + ntypes + 1 if named[t] else t] = True
    remap = np.empty(maxk + 1, np.int32)
    c = 0
    for k in range(maxk + 1):
        remap[k] = c
        if present[k]:
            c += 1
    uniq = np.empty(c, np.int64)
    j = 0
    for k in range(maxk + 1):
        if present[k]:
            uniq[j] = k
            j += 1
    return remap, uniq


@njit(cache=True, nogil=True)
def _fill_codes(node_type, node_name, named, remap, codes):
    ntypes = len(named) - 1
    for i in range(len(node_type)):
        t = min(np.int64(node_type[i]), ntypes)
        codes[i] = remap[np.int64(node_name[i]) + ntypes + 1 if named[t] else t]
    return codes

# DevTools' className(): these node types are shown as one class each.
_TYPE_CLASS = {"hidden": "(system)", "code": "(compiled code)"}
#: node types whose instances are named by their constructor (DevTools: object, native).
NAMED_TYPES = ("object", "native")
#: node types that count as user-level owners of the bytes they dominate.
OWNER_TYPES = ("object", "closure", "regexp")


@dataclass
class V8Snapshot:
    """One heap snapshot: per-node and per-edge numpy arrays plus the string table.

    Node arrays are indexed by node ordinal (0 is the synthetic root); the edges
    of node ``i`` are ``first_edge[i]:first_edge[i + 1]``; ``edge_to`` holds node
    ordinals (the file stores offsets into ``nodes``).
    """

    path: str
    provenance: Provenance
    meta: dict
    node_types: list
    edge_types: list
    node_type: np.ndarray
    node_name: np.ndarray
    node_id: np.ndarray
    self_size: np.ndarray
    edge_count: np.ndarray | None    # None once first_edge is built
    detachedness: np.ndarray | None
    first_edge: np.ndarray | None = None
    edge_type: np.ndarray | None = None
    edge_name: np.ndarray | None = None
    edge_to: np.ndarray | None = None
    strings: StringTable | None = None
    locations: np.ndarray | None = None
    nodes_at: int | None = None          # byte offset of the "nodes" array (for re-reading one field)
    node_marks: np.ndarray | None = None  # file offset of every MARK_EVERY-th node record (ditto)
    _classes: tuple | None = field(default=None, repr=False)

    @property
    def node_count(self) -> int:
        return len(self.node_type)

    @property
    def edge_total(self) -> int:
        return 0 if self.edge_to is None else len(self.edge_to)

    def type_code(self, name: str) -> int:
        """Index of a node type name in ``node_types`` (-1 when the snapshot has none)."""
        return self.node_types.index(name) if name in self.node_types else -1

    def edge_type_code(self, name: str) -> int:
        return self.edge_types.index(name) if name in self.edge_types else -1

    def class_names(self):
        """DevTools class names: ``(names, codes)`` with ``names[codes[i]]`` the class of node ``i``.

        ``hidden`` → ``(system)``, ``object``/``native`` → the constructor name,
        ``code`` → ``(compiled code)``, anything else → ``(<type>)``.
        """
        if self._classes is None:
            ntypes = len(self.node_types)
            named = np.zeros(ntypes + 1, dtype=bool)
            for t in NAMED_TYPES:
                if t in self.node_types:
                    named[self.node_types.index(t)] = True
            remap, uniq = _class_keys(self.node_type, self.node_name, named)
            # int16 codes while there are under 32,768 classes
            codes = np.empty(len(self.node_type), np.int16 if len(uniq) < 2**15 else np.int32)
            _fill_codes(self.node_type, self.node_name, named, remap, codes)
            del remap
            texts = self.strings.get_many(uniq[uniq > ntypes] - ntypes - 1) if self.strings else {}
            names = []
            for k in uniq.tolist():
                if k > ntypes:
                    names.append(texts.get(k - ntypes - 1, f"(string #{k - ntypes - 1})") or "(anonymous)")
                elif k < len(self.node_types):
                    tn = self.node_types[k]
                    names.append(_TYPE_CLASS.get(tn, f"({tn})"))
                else:
                    names.append("(unknown type)")
            self._classes = (np.array(names, dtype=object), codes)
        return self._classes

    def node_label(self, i: int) -> str:
        """A short readable label for node ``i``: ``Map``, ``(closure) onTick``, ``(string) 'req-1'``."""
        names, codes = self.class_names()
        cls = names[codes[i]]
        tname = self.node_types[self.node_type[i]] if self.node_type[i] < len(self.node_types) else "?"
        if tname in NAMED_TYPES:
            return str(cls)
        raw = self.strings[int(self.node_name[i])] if self.strings else ""
        raw = raw if len(raw) <= 60 else raw[:57] + "..."
        if tname == "synthetic" or (tname == "hidden" and raw):
            return raw or "(root)"
        if tname in ("string", "concatenated string", "sliced string"):
            return f"{cls} {raw!r}"
        return f"{cls} {raw}".rstrip() if raw else str(cls)

    def edge_label(self, e: int) -> str:
        """memlab-style edge text: ``.name`` (property), ``[3]`` (element), ``name (variable)`` (closure context)."""
        et = self.edge_types[self.edge_type[e]] if self.edge_type[e] < len(self.edge_types) else "?"
        v = int(self.edge_name[e])
        if et == "element":
            return f"[{v}]"
        if et == "hidden":
            return f"{v} (hidden)"
        name = self.strings[v] if self.strings else str(v)
        if et == "property":
            return f".{name}"
        if et == "context":
            return f"{name} (variable)"
        return f"{name} ({et})"


_MALLOPT_DONE = False
#: snapshots with fewer edges are read on one thread (a second one costs more than it saves)
_AHEAD_MIN = 1 << 20
_POOL = None


def _pool():
    """One helper thread for the edges array, shared by every read (numba kernels release the GIL)."""
    global _POOL
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor

        _POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="v8-edges")
    return _POOL


def _mmap_big_allocations() -> None:
    """Ask glibc to serve allocations over 4 MiB with mmap, so freed temporaries return to the OS.

    glibc raises its mmap threshold after each big free (up to 32 MiB), after which
    10–30 MB numpy temporaries come from the heap and are not given back: on a
    250 MB snapshot that held ~100 MB of dead memory. No-op elsewhere.
    """
    global _MALLOPT_DONE
    if _MALLOPT_DONE:
        return
    _MALLOPT_DONE = True
    try:
        import ctypes

        ctypes.CDLL(None).mallopt(-3, 4 << 20)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError, TypeError):
        pass


def read_v8(path, prov: Provenance | None = None, *, graph: bool = True, edge_names: bool = True) -> V8Snapshot:
    """Parse a V8 heap snapshot into a :class:`V8Snapshot` (``graph=False`` skips the edges;
    ``edge_names=False`` keeps the edges but not their names, and the offset of only every 64th string:
    enough for dominators, retained sizes and class names; names on paths are re-read on demand)."""
    _mmap_big_allocations()
    path = os.fspath(path)
    if prov is None:
        from ..artifact import provenance_for
        prov = provenance_for(path, parser="forensics.memory.v8")
    with open_readonly(path) as f, progress(prov.size, "reading heap snapshot", size_bytes=prov.size) as bar:
        reader = ChunkReader(f, prov.size, bar=bar)
        if reader.take() != 123:
            raise ArtifactError(path, 0, "a heap snapshot is a JSON object; this file does not start with '{'")
        meta = None
        arrays: dict[str, np.ndarray] = {}
        string_offsets = None
        expected = {}
        while True:
            c = reader.peek()
            if c is None:
                if string_offsets is None and meta is not None and "edges" in arrays:
                    prov.warn(reader.offset, 'the file ends before the "strings" array — truncated snapshot; names are missing')
                break
            if c == 125:
                break
            if c == 44:
                reader.pos += 1
                continue
            at = reader.offset
            raw_key = reader.read_small(4096)
            try:
                key = json.loads(raw_key)
            except (ValueError, UnicodeDecodeError):
                raise ArtifactError(path, at, "expected a quoted key in the snapshot's top-level object") from None
            if not isinstance(key, str) or reader.take() != 58:
                raise ArtifactError(path, reader.offset, f"expected ':' after the key {key!r}")
            at = reader.offset
            if key == "snapshot":
                try:
                    snap_obj = json.loads(reader.read_small(16 << 20))
                    meta = snap_obj["meta"]
                    nf, ef = list(meta["node_fields"]), list(meta["edge_fields"])
                    expected = {"nodes": int(snap_obj["node_count"]), "edges": int(snap_obj["edge_count"])}
                except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                    raise ArtifactError(path, at, '"snapshot" must be an object with meta.node_fields, meta.edge_fields, '
                                        "node_count and edge_count") from None
                if not nf or not ef or min(expected.values()) < 0:
                    raise ArtifactError(path, at, "snapshot.meta has empty field lists or negative counts")
                node_types, edge_types = _check_meta(path, at, meta, nf, ef)
            elif key in ("nodes", "edges"):
                if meta is None:
                    raise ArtifactError(path, at, f'"{key}" comes before "snapshot" (V8 writes the meta first); cannot read it')
                if key == "edges" and not graph:
                    if not reader.skip():
                        raise ArtifactError(path, reader.offset, 'the file ends inside "edges" — truncated snapshot?')
                    continue
                if key == "nodes":
                    arrays["nodes_at"] = reader.offset
                    ahead = split = None
                    if graph and "edges" not in arrays and expected["edges"] >= _AHEAD_MIN:
                        # the first part of the edges (60 % of the file) on a second core while this thread parses the
                        # nodes, then the rest of the edges here (EdgeSplit says where)
                        split = EdgeSplit()
                        ahead = _pool().submit(edges_ahead, path, reader.offset, prov.size, ef, len(nf), expected,
                                               edge_names, bar, split)
                    keep = ("type", "name", "id", "self_size", "edge_count")
                    try:
                        arrays.update(node_columns(path, *read_ints(reader, path, key, nf, expected[key], small=("type",),
                                                                    drop=[f for f in nf if f not in keep],
                                                                    second=NODE_SECOND)))
                    except BaseException:
                        if ahead is not None:   # the nodes' error is the one to report; let the helper finish
                            ahead.exception()
                        raise
                    done = None
                    if ahead is not None:
                        if split is not None:
                            split.ready.wait()
                        if split is None or split.mid is None:
                            done = ahead.result()
                        else:
                            part = ahead.result()[0]
                            cols = finish_edges(reader, path, ef, expected, split, part[1])
                            # a part that did not end where the split said: parse the edges again, in one piece
                            done = (cols, reader.offset) if cols is not None else None
                            if done is None:
                                reader.seek(split.edges_at)
                                arrays["edges_at"] = split.edges_at
                                arrays.update(edge_columns(path, *read_ints(
                                    reader, path, "edges", ef, expected["edges"], edge_divisors(ef, len(nf), path),
                                    small=("type",), drop=edge_drops(ef, edge_names)), expected["nodes"]))
                                arrays["edges"] = True
                    if done is not None:
                        arrays.update(done[0])
                        arrays["edges"] = True
                        reader.seek(done[1])
                else:
                    arrays["edges_at"] = reader.offset
                    arrays.update(edge_columns(path, *read_ints(reader, path, key, ef, expected[key],
                                                                edge_divisors(ef, len(nf), path), small=("type",),
                                                                drop=edge_drops(ef, edge_names)), expected["nodes"]))
                arrays[key] = True
            elif key == "strings":
                string_offsets = read_strings(reader, prov, every=1 if edge_names else 64)
            elif not reader.skip():
                break
    if meta is None or "nodes" not in arrays:
        raise ArtifactError(path, reader.offset, 'no "snapshot" meta or no "nodes" array — not a complete V8 heap snapshot')
    if graph and "edges" not in arrays:
        raise ArtifactError(path, reader.offset, 'no "edges" array — the object graph is missing')
    return _build(path, prov, meta, arrays, string_offsets, nf, ef, graph)


def _check_meta(path, at, meta, nf, ef):
    """The node and edge type names, after checking the meta's shape."""
    if not all(isinstance(x, str) for x in nf + ef):
        raise ArtifactError(path, at, "snapshot.meta field names must be strings")
    for k in ("type", "name", "id", "self_size", "edge_count"):
        _col(nf, k, path, "snapshot.meta.node_fields")
    for k in ("type", "name_or_index", "to_node"):
        _col(ef, k, path, "snapshot.meta.edge_fields")
    try:
        node_types = list(meta["node_types"][nf.index("type")])
        edge_types = list(meta["edge_types"][ef.index("type")])
    except (KeyError, TypeError, IndexError):
        raise ArtifactError(path, at, "snapshot.meta.node_types/edge_types do not list the type names") from None
    if not all(isinstance(x, str) for x in node_types + edge_types) or len(nf) != len(set(nf)) or len(ef) != len(set(ef)):
        raise ArtifactError(path, at, "snapshot.meta type names must be strings and field names unique")
    return node_types, edge_types


def _build(path, prov, meta, arrays, string_offsets, nf, ef, graph) -> V8Snapshot:
    node_types, edge_types = _check_meta(path, "snapshot.meta", meta, nf, ef)
    n = len(arrays["node_id"])
    if n == 0:  # every graph walk starts at node 0, the synthetic root
        raise ArtifactError(path, "nodes", "the snapshot holds no nodes (not even the root)")
    snap = V8Snapshot(path=path, provenance=prov, meta=meta, node_types=node_types, edge_types=edge_types,
                      node_type=arrays["node_type"], node_name=arrays["node_name"], node_id=arrays["node_id"],
                      self_size=arrays["self_size"], edge_count=arrays["edge_count"], detachedness=arrays["detachedness"])
    if string_offsets is not None:
        starts, lens, every, count = string_offsets
        snap.strings = StringTable(path, starts, lens, every, count)
    else:
        snap.strings = StringTable(path, np.zeros(0, np.int64), np.zeros(0, np.uint32))
    if graph and "edges" in arrays:
        total = int(snap.edge_count.sum(dtype=np.int64))
        if total != len(arrays["edge_to"]):   # checked first: it also rules out overflow below
            raise ArtifactError(path, "nodes", f"the nodes' edge_count fields add up to {total:,} "
                                f"but there are {len(arrays['edge_to']):,} edges")
        first = np.zeros(n + 1, dtype=np.int64 if total >= 2**31 else np.int32)
        np.cumsum(snap.edge_count, out=first[1:], dtype=first.dtype)
        snap.edge_count = None   # first_edge says it all (np.diff(first_edge) gives it back)
        snap.first_edge = first
        snap.edge_type, snap.edge_name, snap.edge_to = arrays["edge_type"], arrays["edge_name"], arrays["edge_to"]
        if snap.edge_name is None:   # read_v8(edge_names=False): names are re-read on demand (load_edge_names)
            snap.edge_name = LazyEdgeNames(path, arrays["edges_at"], len(ef), ef.index("name_or_index"),
                                           arrays.get("edge_marks"))
    snap.nodes_at = arrays.get("nodes_at")
    snap.node_marks = arrays.get("node_marks")
    prov.details.update({"node_count": n, "edge_count": snap.edge_total, "string_count": len(snap.strings)})
    return snap


def drop_node_names(snap: V8Snapshot) -> None:
    """Free the node-name column once the class names are known; names are then re-read on demand
    (``snap.node_name.load(nodes)`` for many at once)."""
    snap.class_names()
    if snap.nodes_at is not None and isinstance(snap.node_name, np.ndarray):
        snap.node_name = LazyEdgeNames(snap.path, snap.nodes_at, len(snap.meta["node_fields"]),
                                       list(snap.meta["node_fields"]).index("name"), snap.node_marks)
