"""The big integer arrays (``nodes``, ``edges``) and the ``strings`` offsets of a V8 heap snapshot.

Split from :mod:`forensics.memory.v8`: the arrays are parsed chunk by chunk
straight into numpy columns (:func:`read_ints`), and the ``edges`` array can be
parsed on a second thread while the ``nodes`` array is parsed on the first
(:func:`edges_ahead`): the ``nodes`` array holds only numbers, so the first quote
after its start opens the next key.
"""
from __future__ import annotations

import numpy as np

from ..artifact import Provenance, open_readonly
from ..errors import ArtifactError
from .jsonscan import DROP, MARK_EVERY, SECOND, ChunkReader, parse_ints, scan_strings

_FULL = 1 << 40
_WIDE = 1 << 41
_NODIV = 1 << 42
_SMALL = 1 << 43


def _col(fields: list, name: str, path, where: str) -> int:
    if name not in fields:
        raise ArtifactError(path, where, f"snapshot.meta lists no {name!r} field ({fields}); not a V8 heap snapshot this workbench understands")
    return fields.index(name)


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
    slot = np.empty(nf, dtype=np.int64)
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
    if int(state[4]) != expected or int(state[3]) != 0:
        raise ArtifactError(path, reader.offset, f'"{what}" holds {int(state[4]) * nf + int(state[3]):,} values; '
                            f"snapshot.meta says {expected:,} records of {nf} = {expected * nf:,}")
    return out, out8, rows, marks, out2


def _parse_into(reader, path, what, fields, expected, out, div, state, lo, hi, slot, out8, marks, out2):
    def truncated():
        return ArtifactError(path, reader.offset, f'the file ends inside "{what}" after {int(state[4]):,} of '
                             f"{expected:,} records — truncated snapshot? The object graph cannot be rebuilt from part of it; "
                             "take the snapshot again and let the write finish")
    while True:
        if reader.pos >= reader.n and not reader.refill():
            raise truncated()
        end = reader.cut()   # numbers never straddle the end handed to the kernel
        if end <= reader.pos:   # no whole number after the cursor: a chunk's tail, or a number longer than any valid one
            if reader.n - reader.pos > 64:
                raise ArtifactError(path, reader.offset, f'a number of over 64 digits inside the "{what}" array')
            if not reader.refill_keep():
                raise truncated()
            continue
        r = parse_ints(reader.buf, reader.pos, end, out, div, state, lo, hi, slot, out8, marks, reader.base, out2)
        if r == end:
            reader.pos = end
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




def edges_ahead(path, nodes_at: int, size: int, ef: list, n_node_fields: int, expected: dict, edge_names: bool, bar=None):
    """Parse the ``edges`` array that follows the ``nodes`` array starting at ``nodes_at`` (run on a second thread).

    Returns ``(columns, offset after the array)``, or None when the key after ``nodes``
    is not ``edges`` (the caller then reads on in file order)."""
    with open_readonly(path) as f:
        f.seek(nodes_at)
        pos = nodes_at
        while True:   # only digits, commas and blanks until the next key's opening quote
            block = f.read(1 << 22)
            if not block:
                return None
            q = block.find(b'"')
            if q >= 0:
                break
            pos += len(block)
        reader = ChunkReader(f, size, bar=bar)
        reader.seek(pos + q)
        if reader.read_small(64) != b'"edges"' or reader.take() != 58:
            return None
        at = reader.offset
        cols = edge_columns(path, *read_ints(reader, path, "edges", ef, expected["edges"], edge_divisors(ef, n_node_fields, path),
                                             small=("type",), drop=edge_drops(ef, edge_names)), expected["nodes"])
        cols["edges_at"] = at
        return cols, reader.offset


def edge_divisors(ef: list, n_node_fields: int, path) -> list:
    """to_node is an offset into the flat nodes array: divide it by the node field count while parsing."""
    to_col = _col(ef, "to_node", path, "snapshot.meta.edge_fields")
    return [n_node_fields if k == to_col else 1 for k in range(len(ef))]


def edge_drops(ef: list, edge_names: bool) -> list:
    drop = [f for f in ef if f not in ("type", "name_or_index", "to_node")]
    return drop + ([] if edge_names else ["name_or_index"])
