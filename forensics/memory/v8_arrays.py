"""The big integer arrays (``nodes``, ``edges``) and the ``strings`` offsets of a V8 heap snapshot.

Split from :mod:`forensics.memory.v8`: the arrays are parsed chunk by chunk
straight into numpy columns (:func:`read_ints`), and the ``edges`` array can be
parsed on a second thread while the ``nodes`` array is parsed on the first
(:func:`edges_ahead`): the ``nodes`` array holds only numbers, so the first quote
after its start opens the next key.
"""
from __future__ import annotations

import threading

import numpy as np

from ..artifact import Provenance, open_readonly
from ..errors import ArtifactError
from .jsonscan import DROP, MARK_EVERY, SECOND, ChunkReader, count_byte, find_byte, parse_ints, scan_strings

_FULL = 1 << 40
_WIDE = 1 << 41
_NODIV = 1 << 42
_SMALL = 1 << 43


def _col(fields: list, name: str, path, where: str) -> int:
    if name not in fields:
        raise ArtifactError(path, where, f"snapshot.meta lists no {name!r} field ({fields}); not a V8 heap snapshot this workbench understands")
    return fields.index(name)


def _plan(fields: list, small=(), drop=(), second=()):
    """Where each field goes: ``(slot, rows, n_big, n_small, n_second)`` (see :func:`read_ints`)."""
    slot = np.empty(len(fields), dtype=np.int64)
    rows, n_big, n_small, n_second = {}, 0, 0, 0
    for k, name in enumerate(fields):
        if name in drop:
            slot[k] = DROP
        elif name in small:
            slot[k] = -1 - n_small
            n_small += 1
        elif name in second:
            slot[k] = SECOND + n_second
            n_second += 1
        else:
            slot[k] = n_big
            n_big += 1
        rows[name] = int(slot[k])
    return slot, rows, n_big, n_small, n_second


def read_ints(reader: ChunkReader, path, what: str, fields: list, expected: int, div=None, small=(), drop=(),
              second=()):
    """Parse the integer array at the cursor into ``(table, table8, rows, marks, table2)``.

    ``table`` has one contiguous row per kept field (``rows[name]`` is its row):
    ``uint32`` (V8 ids, offsets and sizes fit), re-read as ``int64`` only if a
    value does not fit. Fields in ``small`` (type codes) go to the ``uint8``
    ``table8`` (``rows[name] = -1 - row``); fields in ``second`` to ``table2``
    (``rows[name] = SECOND + row``: rows dropped together, earlier than the others — no copies to free them);
    fields in ``drop`` are checked, not kept. ``marks``: the offset of every ``MARK_EVERY``-th record.
    """
    if reader.take() != 91:
        raise ArtifactError(path, reader.offset, f'"{what}" is not an array')
    start = reader.offset
    nf = len(fields)
    divisors = np.ones(nf, dtype=np.int64) if div is None else np.asarray(div, dtype=np.int64)
    slot, rows, n_big, n_small, n_second = _plan(fields, small, drop, second)
    out8 = np.empty((n_small, expected), dtype=np.uint8)
    marks = np.zeros(max(1, -(-expected // MARK_EVERY)), dtype=np.int64)
    dtype = np.uint32
    while True:
        info = np.iinfo(dtype)
        out = np.empty((n_big, expected), dtype=dtype)
        out2 = np.empty((n_second, expected), dtype=dtype)
        state = np.zeros(5, dtype=np.int64)
        r = _parse_into(reader, path, what, fields, expected, out, divisors, state, int(info.min), int(info.max),
                        slot, out8, marks, out2)
        if r == "wider" and dtype != np.int64:
            del out, out2
            dtype = np.int64
            reader.seek(start)
            continue
        break
    _check_count(reader, path, what, state, expected, nf)
    return out, out8, rows, marks, out2


def _check_count(reader, path, what, state, expected, nf):
    if int(state[4]) != expected or int(state[3]) != 0:
        raise ArtifactError(path, reader.offset, f'"{what}" holds {int(state[4]) * nf + int(state[3]):,} values; '
                            f"snapshot.meta says {expected:,} records of {nf} = {expected * nf:,}")


def _parse_into(reader, path, what, fields, expected, out, div, state, lo, hi, slot, out8, marks, out2, stop=None):
    """Parse to the closing ``]`` ("ok"), or up to the file offset ``stop`` (a separator: "stopped");
    "wider" when a value does not fit the columns' dtype."""
    def truncated():
        return ArtifactError(path, reader.offset, f'the file ends inside "{what}" after {int(state[4]):,} of '
                             f"{expected:,} records — truncated snapshot? The object graph cannot be rebuilt from part of it; "
                             "take the snapshot again and let the write finish")
    while True:
        if reader.pos >= reader.n and not reader.refill():
            raise truncated()
        end = reader.cut()   # numbers never straddle the end handed to the kernel
        stopping = stop is not None and reader.base + max(end, reader.pos) >= stop >= reader.base + reader.pos
        if stopping:
            end = stop - reader.base   # a separator: the kernel stops there
            if end == reader.pos:
                return "stopped"
        elif end <= reader.pos:   # no whole number after the cursor: a chunk's tail, or a number longer than any valid one
            if reader.n - reader.pos > 64:
                raise ArtifactError(path, reader.offset, f'a number of over 64 digits inside the "{what}" array')
            if not reader.refill_keep():
                raise truncated()
            continue
        r = parse_ints(reader.buf, reader.pos, end, out, div, state, lo, hi, slot, out8, marks, reader.base, out2)
        if r == end:
            reader.pos = end
            if stopping:
                return "stopped"
            if end < reader.n and not reader.refill_keep():
                raise truncated()
            continue
        if r >= 0:
            reader.pos = r + 1
            return "ok"
        if r <= -_SMALL:
            at = reader.base + (-(r + _SMALL) - 1)
            raise ArtifactError(path, at, f'{what}[{int(state[4]):,}].{fields[int(state[3])]} is over 255: '
                                "not a type code (snapshot.meta lists fewer types)")
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


def read_strings(reader: ChunkReader, prov: Provenance, every: int = 1):
    """Offsets and lengths of every string (``every`` > 1: the offset of every ``every``-th, no lengths)
    in the array at the cursor (warns if the file ends first). Returns ``(starts, lens, every, count)``."""
    if reader.take() != 91:
        raise ArtifactError(prov.path, reader.offset, '"strings" is not an array')
    wide = np.int64 if prov.size >= 2**32 else np.uint32     # uint32 offsets for files under 4 GiB
    starts = np.empty(1 << 16, dtype=wide)
    lens = np.empty(1 << 16 if every == 1 else 1, dtype=np.uint32)
    state = np.zeros(3, dtype=np.int64)

    def done(n):
        kept = -(-n // every)
        # trim the doubling slack (up to half of the arrays) unless it is small
        out = (starts[:kept].copy(), lens[:kept].copy()) if kept < len(starts) * 3 // 4 else (starts[:kept], lens[:kept])
        return (*out, every, n)
    while True:
        if reader.pos >= reader.n and not reader.refill():
            prov.warn(reader.offset, f'the file ends inside "strings" after {int(state[2]):,} strings — truncated snapshot; '
                      "names past that point show as (string #N missing)")
            return done(int(state[2]))
        r = scan_strings(reader.buf, reader.pos, reader.n, reader.base, starts, lens, state, every)
        if r == reader.n:
            reader.pos = reader.n
        elif r >= 0:
            reader.pos = r + 1
            return done(int(state[2]))
        elif r <= -_FULL:
            reader.pos = -(r + _FULL) - 1
            starts = np.concatenate([starts, np.empty_like(starts)])
            if every == 1:
                lens = np.concatenate([lens, np.empty_like(lens)])
        else:
            bad = -r - 1
            raise ArtifactError(prov.path, reader.base + bad, f'unexpected {bytes(reader.raw[bad:bad + 1])!r} in the "strings" array')


#: node fields parsed into the second table: a diff drops them (names once decoded, counts once first_edge is built)
#: long before the ids and sizes, so the two tables are freed at different times without copying rows out
NODE_SECOND = ("name", "edge_count")


def node_columns(path, table, table8, rows, marks, table2) -> dict:
    """The node fields the workbench uses, as rows of the parsed tables (views: nothing is copied)."""
    for k in ("type", "name", "id", "self_size", "edge_count"):
        if k not in rows:
            _col([], k, path, "snapshot.meta.node_fields")

    def row(name):
        r = rows[name]
        return table2[r - SECOND] if r >= SECOND else table[r]
    return {"node_type": table8[-1 - rows["type"]], "node_name": row("name"), "node_id": row("id"),
            "self_size": row("self_size"), "edge_count": row("edge_count"), "detachedness": None, "node_marks": marks}


def edge_columns(path, table, table8, rows, marks, table2, n_nodes) -> dict:
    """Edge fields as rows of the parsed tables (views: no copy of the big arrays)."""
    to_node = table[rows["to_node"]]
    if len(to_node) and int(to_node.max()) >= n_nodes:
        bad = int(np.argmax(to_node >= n_nodes))
        raise ArtifactError(path, f"edges[{bad:,}]", f"to_node points at node {int(to_node[bad]):,}; there are {n_nodes:,}")
    names = table[rows["name_or_index"]] if rows.get("name_or_index", -100) >= 0 else None
    return {"edge_type": table8[-1 - rows["type"]], "edge_name": names, "edge_to": to_node, "edge_marks": marks}




class EdgeSplit:
    """Where the main thread takes over the ``edges`` array from the helper (see :func:`edges_ahead`)."""

    def __init__(self):
        self.ready = threading.Event()
        self.mid = None        # file offset of the first record the main thread parses (None: no split)
        self.row = 0           # ... and its record number
        self.arrays = None     # (table, table8, marks, table2, slot, divisors, rows)
        self.edges_at = None


def _blocks(f, pos: int, length: int | None = None):
    """``(file offset, bytes read, buffer)`` of the blocks from ``pos`` (``length`` bytes, or to the end), read into one
    reused buffer."""
    buf = np.empty(1 << 22, np.uint8)
    f.seek(pos)
    while length is None or length > 0:
        n = f.readinto(memoryview(buf)[: len(buf) if length is None else min(len(buf), length)])
        if not n:
            return
        yield pos, n, buf
        pos += n
        if length is not None:
            length -= n


def _find_quote(f, pos: int):
    """File offset of the next '"' from ``pos`` (the numbers of an array hold none), or None."""
    for at, n, buf in _blocks(f, pos):
        q = find_byte(buf, n, 34)
        if q >= 0:
            return at + q
    return None


def _split_point(f, start: int, records: int, nf: int, target: int):
    """``(offset, record)`` of a record boundary about ``target`` bytes into the array starting at ``start``, or None.

    V8 writes one record per line (``\\n,`` between records); the record number there is the count of values
    before it, i.e. of commas (each value is followed by one). Both parts are checked afterwards: a file laid out
    otherwise is parsed again in one piece, never guessed."""
    f.seek(start + target)
    window = f.read(1 << 16)
    k = window.find(b"\n,")
    if k < 0 or target <= 0:
        return None
    mid = start + target + k + 2
    if not window[k + 2:k + 3].isdigit():
        return None
    commas = sum(count_byte(buf, n, 44) for _, n, buf in _blocks(f, start, mid - start))
    if commas % nf or not 0 < commas // nf < records:
        return None
    return mid, commas // nf


def edges_ahead(path, nodes_at: int, size: int, ef: list, n_node_fields: int, expected: dict, edge_names: bool, bar=None,
                split: EdgeSplit | None = None):
    """Parse the ``edges`` array that follows the ``nodes`` array starting at ``nodes_at`` (run on a second thread).

    Returns ``(columns, offset after the array)``, or None when the key after ``nodes``
    is not ``edges`` (the caller then reads on in file order). With ``split``, it parses only the first
    ``split.target`` bytes or so and tells the caller (``split.ready``) where to go on; the columns are then
    the caller's to finish (:func:`finish_edges`), and the offset is None."""
    div = None
    try:
        with open_readonly(path) as f:
            q = _find_quote(f, nodes_at)
            if q is None:
                return None
            reader = ChunkReader(f, size, bar=bar)
            reader.seek(q)
            if reader.read_small(64) != b'"edges"' or reader.take() != 58:
                return None
            at = reader.offset
            div = edge_divisors(ef, n_node_fields, path)
            drop = edge_drops(ef, edge_names)
            if split is not None and reader.take() == 91:
                start = reader.offset
                # balance the threads: the caller parses the nodes (start - nodes_at bytes) and the tail of the edges
                f.seek(start)
                sample = f.read(1 << 16)
                length = expected["edges"] * len(sample) / max(1, sample.count(b"\n"))
                target = int(min((start - nodes_at + length) / 2, 0.9 * length))
                where = _split_point(f, start, expected["edges"], len(ef), target) if target > 1 << 20 else None
                if where is not None:
                    nrec = expected["edges"]
                    slot, rows, n_big, n_small, n_second = _plan(ef, ("type",), drop)
                    arrays = (np.empty((n_big, nrec), np.uint32), np.empty((n_small, nrec), np.uint8),
                              np.zeros(max(1, -(-nrec // MARK_EVERY)), np.int64), np.empty((0, nrec), np.uint32),
                              slot, np.asarray(div, np.int64), rows)
                    split.mid, split.row, split.arrays, split.edges_at = where[0], where[1], arrays, at
                    split.ready.set()
                    out, out8, marks, out2 = arrays[:4]
                    state = np.zeros(5, np.int64)
                    reader.seek(start)
                    r = _parse_into(reader, path, "edges", ef, nrec, out, arrays[5], state, 0, (1 << 32) - 1, slot,
                                    out8, marks, out2, stop=where[0] - 1)
                    return ("part", r == "stopped" and int(state[3]) == 0 and int(state[4]) == where[1]), None
            if split is not None:   # no split: the caller waits for the whole array
                split.ready.set()
                split = None
            reader.seek(at)
            cols = edge_columns(path, *read_ints(reader, path, "edges", ef, expected["edges"], div,
                                                 small=("type",), drop=drop), expected["nodes"])
            cols["edges_at"] = at
            return cols, reader.offset
    finally:
        if split is not None:
            split.ready.set()


def finish_edges(reader: ChunkReader, path, ef: list, expected: dict, split: EdgeSplit, part_ok: bool):
    """Parse the rest of a split ``edges`` array from ``split.mid`` on the caller's reader; the columns, or None when
    either part did not end where the split said (the caller then parses the array again in one piece)."""
    out, out8, marks, out2, slot, div, rows = split.arrays
    state = np.zeros(5, np.int64)
    state[4] = split.row
    reader.seek(split.mid)
    try:
        r = _parse_into(reader, path, "edges", ef, expected["edges"], out, div, state, 0, (1 << 32) - 1, slot, out8,
                        marks, out2)
    except ArtifactError:
        r = "error"
    if not part_ok or r != "ok" or int(state[4]) != expected["edges"] or int(state[3]) != 0:
        return None
    cols = edge_columns(path, out, out8, rows, marks, out2, expected["nodes"])
    cols["edges_at"] = split.edges_at
    return cols


def edge_divisors(ef: list, n_node_fields: int, path) -> list:
    """to_node is an offset into the flat nodes array: divide it by the node field count while parsing."""
    to_col = _col(ef, "to_node", path, "snapshot.meta.edge_fields")
    return [n_node_fields if k == to_col else 1 for k in range(len(ef))]


def edge_drops(ef: list, edge_names: bool) -> list:
    drop = [f for f in ef if f not in ("type", "name_or_index", "to_node")]
    return drop + ([] if edge_names else ["name_or_index"])
