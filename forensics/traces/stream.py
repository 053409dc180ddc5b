"""Read a big trace export one slice at a time instead of as one giant dict tree.

A 1 GB ``{"data": [trace, …]}`` parsed in one go needs ~8 GB of Python objects. Instead, a compiled
scan (numba) finds where each element of the main array starts and ends — the array that is the
whole document (Zipkin, bare span lists) or the first array value of the top-level object
(``data``, ``resourceSpans``) — honouring strings and escapes. The elements are then parsed in
batches of a few MB, flattened and dropped, so memory stays near the size of the output tables.

Anything unexpected (no such array, a batch that does not parse) returns ``None`` and the caller
falls back to parsing the whole document, which also knows how to salvage a cut-off file.
"""
from __future__ import annotations

import json

import numpy as np

try:
    import orjson

    _loads = orjson.loads
except ImportError:  # pragma: no cover - orjson is a dependency
    _loads = json.loads

from numba import njit

BATCH_BYTES = 4 << 20


@njit(cache=True)
def _scan(buf):
    """(array start, array end, element starts, element ends, ok) of the main array in ``buf``."""
    n = len(buf)
    cap = 1024
    starts = np.empty(cap, dtype=np.int64)
    ends = np.empty(cap, dtype=np.int64)
    count = 0
    depth = 0
    in_str = False
    esc = False
    target = -1  # depth inside the main array
    arr_start = -1
    elem_start = -1
    for i in range(n):
        c = buf[i]
        if in_str:
            if esc:
                esc = False
            elif c == 92:  # backslash
                esc = True
            elif c == 34:  # quote
                in_str = False
            continue
        if c == 34:
            if depth == target and elem_start < 0:
                return arr_start, -1, starts[:0], ends[:0], False  # a bare string element: not for us
            in_str = True
            continue
        if depth == target and elem_start < 0 and not (c == 32 or c == 9 or c == 10 or c == 13 or c == 44
                                                        or c == 123 or c == 91 or c == 93):
            return arr_start, -1, starts[:0], ends[:0], False  # a scalar element
        if c == 123 or c == 91:  # { [
            if target < 0 and c == 91 and depth <= 1:
                target = depth + 1
                arr_start = i
            elif depth == target and elem_start < 0:
                elem_start = i
            depth += 1
        elif c == 125 or c == 93:  # } ]
            depth -= 1
            if depth < 0:
                return arr_start, -1, starts[:0], ends[:0], False
            if depth == target and elem_start >= 0:
                if count == cap:
                    cap *= 2
                    s2 = np.empty(cap, dtype=np.int64)
                    e2 = np.empty(cap, dtype=np.int64)
                    s2[:count] = starts[:count]
                    e2[:count] = ends[:count]
                    starts, ends = s2, e2
                starts[count] = elem_start
                ends[count] = i + 1
                count += 1
                elem_start = -1
            elif target > 0 and depth == target - 1 and c == 93:
                return arr_start, i + 1, starts[:count], ends[:count], True
    return arr_start, -1, starts[:count], ends[:count], False


def stream_documents(raw: bytes):
    """``(envelope, batches)`` for a big export, or ``None`` when it is not a plain main array.

    ``envelope`` is the document with the main array emptied (e.g. ``{"data": [], "errors": …}``,
    or ``[]``); ``batches`` yields lists of parsed elements (a few MB of text at a time).
    """
    buf = np.frombuffer(raw, dtype=np.uint8)
    arr_start, arr_end, starts, ends, ok = _scan(buf)
    if not ok or len(starts) == 0:
        return None
    try:
        envelope = _loads(raw[:arr_start + 1] + raw[arr_end - 1:])
    except ValueError:
        return None
    if isinstance(envelope, dict):
        keys = [k for k, v in envelope.items() if v == []]
        if len(keys) != 1 or keys[0] not in ("data", "resourceSpans", "spans"):
            return None
    elif envelope != []:
        return None
    view = memoryview(raw)

    def batches():
        i, n = 0, len(starts)
        while i < n:
            j = i
            limit = starts[i] + BATCH_BYTES
            while j + 1 < n and ends[j + 1] <= limit:
                j += 1
            # the slice holds elements i..j and the commas between them
            yield _loads(b"[" + view[starts[i]:ends[j]].tobytes() + b"]")
            i = j + 1

    return envelope, batches()
