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

from ..artifact import Provenance, open_readonly
from ..errors import ArtifactError
from ..progress import progress
from .jsonscan import ChunkReader, parse_ints, scan_strings

_INT32_MAX = (1 << 31) - 1
_FULL = 1 << 40
_WIDE = 1 << 41
_NODIV = 1 << 42

# DevTools' className(): these node types are shown as one class each.
_TYPE_CLASS = {"hidden": "(system)", "code": "(compiled code)"}
#: node types whose instances are named by their constructor (DevTools: object, native).
NAMED_TYPES = ("object", "native")
#: node types that count as user-level owners of the bytes they dominate.
OWNER_TYPES = ("object", "closure", "regexp")


class StringTable:
    """The snapshot's ``strings`` array, decoded lazily from byte offsets into the file."""

    def __init__(self, path: str, starts: np.ndarray, ends: np.ndarray):
        self.path = path
        self.starts = starts
        self.ends = ends
        self._cache: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self.starts)

    def get_many(self, indices) -> dict[int, str]:
        """``{index: text}`` for the given string indices (missing ones get a placeholder)."""
        want = sorted({int(i) for i in indices} - self._cache.keys())
        if want:
            with open_readonly(self.path) as f:
                for i in want:
                    if 0 <= i < len(self.starts):
                        f.seek(int(self.starts[i]))
                        raw = f.read(int(self.ends[i] - self.starts[i]))
                        try:
                            self._cache[i] = json.loads(raw)
                        except (ValueError, UnicodeDecodeError):
                            self._cache[i] = raw[1:-1].decode("utf-8", "replace")
                    else:
                        self._cache[i] = f"(string #{i} missing)"
        return {int(i): self._cache[int(i)] for i in indices}

    def __getitem__(self, i: int) -> str:
        return self.get_many([i])[int(i)]


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
    edge_count: np.ndarray
    detachedness: np.ndarray | None
    first_edge: np.ndarray | None = None
    edge_type: np.ndarray | None = None
    edge_name: np.ndarray | None = None
    edge_to: np.ndarray | None = None
    strings: StringTable | None = None
    locations: np.ndarray | None = None
    _classes: tuple | None = field(default=None, repr=False)

    @property
    def node_count(self) -> int:
        return len(self.node_id)

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
            t = np.minimum(self.node_type.astype(np.int64), ntypes)
            key = np.where(named[t], self.node_name.astype(np.int64) + ntypes + 1, t)
            # dense re-numbering of the keys (their range is #strings + #types): O(n), unlike np.unique
            present = np.zeros(int(key.max(initial=0)) + 1, dtype=bool)
            present[key] = True
            uniq = np.flatnonzero(present)
            remap = np.cumsum(present, dtype=np.int64) - 1
            codes = remap[key]
            del present, remap
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
            self._classes = (np.array(names, dtype=object), codes.astype(np.int32))
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


def _col(fields: list, name: str, path, where: str) -> int:
    if name not in fields:
        raise ArtifactError(path, where, f"snapshot.meta lists no {name!r} field ({fields}); not a V8 heap snapshot this workbench understands")
    return fields.index(name)


def _read_ints(reader: ChunkReader, path, what: str, fields: list, expected: int, div=None):
    """Parse the integer array at the cursor into a ``(len(fields), expected)`` table, one row per field.

    Values are stored as ``uint32`` (V8 ids, offsets and sizes fit) and the
    array is re-read as ``int64`` only if one does not fit.
    """
    if reader.take() != 91:
        raise ArtifactError(path, reader.offset, f'"{what}" is not an array')
    start = reader.offset
    nf = len(fields)
    divisors = np.ones(nf, dtype=np.int64) if div is None else np.asarray(div, dtype=np.int64)
    dtype = np.uint32
    while True:
        info = np.iinfo(dtype)
        out = np.empty((nf, expected), dtype=dtype)
        state = np.zeros(5, dtype=np.int64)
        r = _parse_into(reader, path, what, fields, expected, out, divisors, state, int(info.min), int(info.max))
        if r == "wider" and dtype != np.int64:
            del out
            dtype = np.int64
            reader.seek(start)
            continue
        break
    if int(state[4]) != expected or int(state[3]) != 0:
        raise ArtifactError(path, reader.offset, f'"{what}" holds {int(state[4]) * nf + int(state[3]):,} values; '
                            f"snapshot.meta says {expected:,} records of {nf} = {expected * nf:,}")
    return out


def _parse_into(reader, path, what, fields, expected, out, div, state, lo, hi):
    while True:
        if reader.pos >= reader.n and not reader.refill():
            raise ArtifactError(path, reader.offset, f'the file ends inside "{what}" after {int(state[4]):,} of '
                                f"{expected:,} records — truncated snapshot? The object graph cannot be rebuilt from part of it; "
                                "take the snapshot again and let the write finish")
        r = parse_ints(reader.buf, reader.pos, reader.n, out, div, state, lo, hi)
        if r == reader.n:
            reader.pos = reader.n
            continue
        if r >= 0:
            reader.pos = r + 1
            return "ok"
        if r <= -_NODIV:
            at = reader.base + (-(r + _NODIV) - 1)
            raise ArtifactError(path, at, f'{what}[{int(state[4]):,}].{fields[int(state[3])]} is not the offset of a node '
                                f"(not a multiple of {int(div[int(state[3])])})")
        if r <= -_WIDE:
            if out.dtype == np.int64:
                at = reader.base + (-(r + _WIDE) - 1)
                raise ArtifactError(path, at, f'negative value in {what}[{int(state[4]):,}].{fields[int(state[3])]}')
            return "wider"
        if r <= -_FULL:
            raise ArtifactError(path, reader.base + (-(r + _FULL) - 1), f'"{what}" holds more values than snapshot.meta says '
                                f"({expected:,} records of {len(fields)})")
        bad = -r - 1
        ch = bytes(reader.raw[bad:bad + 1])
        raise ArtifactError(path, reader.base + bad, f'unexpected {ch!r} inside the "{what}" number array')


def _read_strings(reader: ChunkReader, prov: Provenance):
    """Offsets of every string in the array at the cursor (warns if the file ends first)."""
    if reader.take() != 91:
        raise ArtifactError(prov.path, reader.offset, '"strings" is not an array')
    starts = np.empty(1 << 16, dtype=np.int64)
    ends = np.empty(1 << 16, dtype=np.int64)
    state = np.zeros(3, dtype=np.int64)
    while True:
        if reader.pos >= reader.n and not reader.refill():
            prov.warn(reader.offset, f'the file ends inside "strings" after {int(state[2]):,} strings — truncated snapshot; '
                      "names past that point show as (string #N missing)")
            return starts[:int(state[2])], ends[:int(state[2])]
        r = scan_strings(reader.buf, reader.pos, reader.n, reader.base, starts, ends, state)
        if r == reader.n:
            reader.pos = reader.n
        elif r >= 0:
            reader.pos = r + 1
            n = int(state[2])
            return starts[:n].copy(), ends[:n].copy()
        elif r <= -_FULL:
            reader.pos = -(r + _FULL) - 1
            starts = np.concatenate([starts, np.empty_like(starts)])
            ends = np.concatenate([ends, np.empty_like(ends)])
        else:
            bad = -r - 1
            raise ArtifactError(prov.path, reader.base + bad, f'unexpected {bytes(reader.raw[bad:bad + 1])!r} in the "strings" array')


_MALLOPT_DONE = False


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


def read_v8(path, prov: Provenance | None = None, *, graph: bool = True) -> V8Snapshot:
    """Parse a V8 heap snapshot into a :class:`V8Snapshot` (``graph=False`` skips the edges)."""
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
                    arrays.update(_node_columns(path, _read_ints(reader, path, key, nf, expected[key]), nf))
                else:  # to_node is an offset into the flat nodes array: divide by the field count while parsing
                    to_col = _col(ef, "to_node", path, "snapshot.meta.edge_fields")
                    div = [len(nf) if k == to_col else 1 for k in range(len(ef))]
                    arrays.update(_edge_columns(path, _read_ints(reader, path, key, ef, expected[key], div),
                                                ef, expected["nodes"]))
                arrays[key] = True
            elif key == "strings":
                string_offsets = _read_strings(reader, prov)
            elif not reader.skip():
                break
    if meta is None or "nodes" not in arrays:
        raise ArtifactError(path, reader.offset, 'no "snapshot" meta or no "nodes" array — not a complete V8 heap snapshot')
    if graph and "edges" not in arrays:
        raise ArtifactError(path, reader.offset, 'no "edges" array — the object graph is missing')
    return _build(path, prov, meta, arrays, string_offsets, nf, ef, graph)


def _node_columns(path, table, nf) -> dict:
    """Contiguous copies of the node fields the workbench uses (the table is then freed)."""
    c = {k: _col(nf, k, path, "snapshot.meta.node_fields") for k in ("type", "name", "id", "self_size", "edge_count")}
    return {"node_type": table[c["type"]].astype(np.uint8),
            "node_name": table[c["name"]].copy(),
            "node_id": table[c["id"]].copy(),
            "self_size": table[c["self_size"]].copy(),
            "edge_count": table[c["edge_count"]].copy(),
            "detachedness": table[nf.index("detachedness")].astype(np.uint8) if "detachedness" in nf else None}


def _edge_columns(path, table, ef, n_nodes) -> dict:
    """Edge fields as rows of the parsed table (views: no copy of the big arrays)."""
    to_node = table[_col(ef, "to_node", path, "snapshot.meta.edge_fields")]
    if len(to_node) and int(to_node.max()) >= n_nodes:
        bad = int(np.argmax(to_node >= n_nodes))
        raise ArtifactError(path, f"edges[{bad:,}]", f"to_node points at node {int(to_node[bad]):,}; there are {n_nodes:,}")
    return {"edge_type": table[_col(ef, "type", path, "snapshot.meta.edge_fields")].astype(np.uint8),
            "edge_name": table[_col(ef, "name_or_index", path, "snapshot.meta.edge_fields")],
            "edge_to": to_node}


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
        snap.strings = StringTable(path, *string_offsets)
    else:
        snap.strings = StringTable(path, np.zeros(0, np.int64), np.zeros(0, np.int64))
    if graph and "edges" in arrays:
        first = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(snap.edge_count, out=first[1:])
        if first[-1] != len(arrays["edge_to"]):
            raise ArtifactError(path, "nodes", f"the nodes' edge_count fields add up to {int(first[-1]):,} "
                                f"but there are {len(arrays['edge_to']):,} edges")
        snap.first_edge = first
        snap.edge_type, snap.edge_name, snap.edge_to = arrays["edge_type"], arrays["edge_name"], arrays["edge_to"]
    prov.details.update({"node_count": n, "edge_count": snap.edge_total, "string_count": len(snap.strings)})
    return snap
