"""A compiled reader for Zipkin v2 JSON (a span array, a list of trace arrays as ``/api/v2/traces``
returns, and JSON Lines of either): bytes → offset tables, from the primitives of :mod:`json_bytes`
as :mod:`jaeger_scan` and :mod:`otlp_scan` are.

Whatever :func:`formats.read_zipkin` would read by Python's rules in a way these tables cannot say —
a tag value that is not a string, a key given twice in ``tags`` (a dict keeps the last), an escaped
tag key, a number where a string goes, a float time — makes :func:`scan` return None.

Tables (int matrices, one row per item; -1 = absent):

* docs  ``[start, end]`` of each top-level array (several for JSON Lines)
* spans ``[tid_s, tid_e, sid_s, sid_e, par_s, par_e, name_s, name_e, kind_s, kind_e, timestamp, duration,
  local_s, local_e, remote_service_s, remote_service_e, annotations_s, annotations_e, tag0, ntag, debug]``
  (local: the localEndpoint object's text; annotations: the array's text)
* tags  ``[span, key_s, key_e, val_s, val_e, special]`` (special: the key's index in
  ``jaeger_scan.K_SPECIAL``, -1 for other keys)
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .jaeger_scan import K_SPECIAL, _k
from .json_bytes import (_array, _eq, _i64, _member, _next, _skip, _str_end, _string_or_null, _ws, borrowed,
                         borrowed_f)

K_TRACEID, K_ID, K_PARENT, K_NAME, K_KIND = _k("traceId"), _k("id"), _k("parentId"), _k("name"), _k("kind")
K_TS, K_DUR, K_LOCAL, K_REMOTE, K_ANN = (_k("timestamp"), _k("duration"), _k("localEndpoint"),
                                         _k("remoteEndpoint"), _k("annotations"))
K_TAGS, K_DEBUG, K_SPANID, K_SERVICE = _k("tags"), _k("debug"), _k("spanId"), _k("serviceName")
K_BINANN = _k("binaryAnnotations")  # Zipkin v1: the general reader converts it (zipkin_v1.py)

SPAN_COLS = 21


@njit(cache=True)
def _tags(b, i, owner, tags, nt):
    """A tags object (or null) at i: rows nt.. of ``tags``; (nt, index past), index -1 / -2 (full)."""
    if b[i] == 110:
        return nt, _skip(b, i)
    if b[i] != 123:
        return nt, -1
    first = nt
    i = _ws(b, i + 1)
    while b[i] != 125:
        if nt >= tags.shape[0]:
            return nt, -2
        ks, ke, v = _member(b, i)
        if v < 0 or b[v] != 34:
            return nt, -1  # a value that is not a string: str() of it is Python's business
        for j in range(ks, ke):
            if b[j] == 92:
                return nt, -1  # an escaped key: two spellings of one key cannot be told apart here
        for r in range(first, nt):
            if _eq(b, tags[r, 1], tags[r, 2], b[ks:ke]):
                return nt, -1  # a key given twice: the dict keeps the last value at the first place
        e = _str_end(b, v)
        if e < 0:
            return nt, -1
        tags[nt, 0], tags[nt, 1], tags[nt, 2], tags[nt, 3], tags[nt, 4], tags[nt, 5] = owner, ks, ke, v + 1, e - 1, -1
        for code in range(7):
            if _eq(b, ks, ke, K_SPECIAL[code]):
                tags[nt, 5] = code
        nt += 1
        i = _next(b, e, 125)
        if i < 0:
            return nt, -1
    return nt, i + 1


@njit(cache=True)
def _remote_service(b, i, spans, ns):
    """The serviceName of a remoteEndpoint object (or null) at i into spans[ns, 14:16]; index past, -1."""
    if b[i] == 110:
        return _skip(b, i)
    if b[i] != 123:
        return -1
    i = _ws(b, i + 1)
    while b[i] != 125:
        ks, ke, v = _member(b, i)
        if v < 0:
            return -1
        if _eq(b, ks, ke, K_SERVICE):
            s_, e_, e = _string_or_null(b, v)
            spans[ns, 14], spans[ns, 15] = (s_, e_) if e_ > s_ else (-1, -1)
        else:
            e = _skip(b, v)
        if e < 0:
            return -1
        i = _next(b, e, 125)
        if i < 0:
            return -1
    return i + 1


@njit(cache=True)
def _span(b, i, spans, ns, tags, nt):
    """One span object at i into row ns; (nt, index past), index -1 to decline, -2 a table is full."""
    if ns >= spans.shape[0]:
        return nt, -2
    for c in range(SPAN_COLS):
        spans[ns, c] = -1
    spans[ns, 10], spans[ns, 11], spans[ns, 18], spans[ns, 19], spans[ns, 20] = 0, 0, nt, 0, 0
    if b[i] != 123:
        return nt, -1
    i = _ws(b, i + 1)
    while b[i] != 125:
        ks, ke, v = _member(b, i)
        if v < 0:
            return nt, -1
        c = b[v]
        e = -1
        if _eq(b, ks, ke, K_TRACEID) or _eq(b, ks, ke, K_ID) or _eq(b, ks, ke, K_PARENT) \
                or _eq(b, ks, ke, K_NAME) or _eq(b, ks, ke, K_KIND):
            col = 0 if _eq(b, ks, ke, K_TRACEID) else 2 if _eq(b, ks, ke, K_ID) else 4 \
                if _eq(b, ks, ke, K_PARENT) else 6 if _eq(b, ks, ke, K_NAME) else 8
            s_, e_, e = _string_or_null(b, v)
            spans[ns, col], spans[ns, col + 1] = (s_, e_) if e_ > s_ else (-1, -1)  # "" is absent
        elif _eq(b, ks, ke, K_TS) or _eq(b, ks, ke, K_DUR):
            col = 10 if _eq(b, ks, ke, K_TS) else 11
            if c == 110:
                e = _skip(b, v)
                spans[ns, col] = 0
            else:
                x, e, ok = _i64(b, v)
                if not ok or b[e] == 46 or b[e] == 101 or b[e] == 69 or x > 9223372036854775:
                    e = -1  # a float, a negative or a time that overflows in ns: the general reader
                spans[ns, col] = x
        elif _eq(b, ks, ke, K_LOCAL) or _eq(b, ks, ke, K_ANN):
            col = 12 if _eq(b, ks, ke, K_LOCAL) else 16
            e = _skip(b, v)
            if c == (123 if col == 12 else 91):
                spans[ns, col], spans[ns, col + 1] = v, e
            elif c == 110:
                spans[ns, col], spans[ns, col + 1] = -1, -1
            else:
                e = -1
        elif _eq(b, ks, ke, K_REMOTE):
            e = _remote_service(b, v, spans, ns)
        elif _eq(b, ks, ke, K_TAGS):
            if spans[ns, 19] > 0:
                return nt, -1  # tags given twice
            nt, e = _tags(b, v, ns, tags, nt)
            if e == -2:
                return nt, -2
            spans[ns, 19] = nt - spans[ns, 18]
        elif _eq(b, ks, ke, K_DEBUG):
            e = _skip(b, v)
            if c == 116:
                spans[ns, 20] = 1
            elif c == 102 or c == 110:
                spans[ns, 20] = 0
            else:
                e = -1
        elif _eq(b, ks, ke, K_SPANID) or _eq(b, ks, ke, K_BINANN):
            e = -1  # not a Zipkin v2 span (the general reader's shape test; v1 is converted there)
        else:
            e = _skip(b, v)
        if e < 0:
            return nt, -1
        i = _next(b, e, 125)
        if i < 0:
            return nt, -1
    if spans[ns, 0] < 0 or spans[ns, 2] < 0:
        return nt, -1  # the general reader says what is wrong
    return nt, i + 1


@njit(cache=True)
def _span_array(b, i, spans, ns, tags, nt):
    """An array of span objects at i (after its '['); (ns, nt, index past), index -1 / -2."""
    while b[i] != 93:
        nt, i = _span(b, i, spans, ns, tags, nt)
        if i < 0:
            return ns, nt, i
        ns += 1
        i = _next(b, i, 93)
        if i < 0:
            return ns, nt, -1
    return ns, nt, i + 1


@njit(cache=True)
def _trace_arrays(b, j, spans, ns, tags, nt):
    """Arrays of span objects at j (after the outer '['); (ns, nt, index past), index -1 / -2."""
    while b[j] != 93:
        k = _array(b, j)
        if k < 0 or (b[k] != 123 and b[k] != 93):
            return ns, nt, -1
        ns, nt, j = _span_array(b, k, spans, ns, tags, nt)
        if j < 0:
            return ns, nt, j
        j = _next(b, j, 93)
        if j < 0:
            return ns, nt, -1
    return ns, nt, j + 1


@njit(cache=True)
def _scan(b_, docs_, spans_, tags_, counts):
    """Every top-level array in b; 1 = done, 0 = not for this reader, 2 = a table was too small."""
    # views without a reference count (json_bytes.borrowed): no atomic increments around each inlined helper
    b, docs, spans, tags = borrowed(b_), borrowed_f(docs_), borrowed_f(spans_), borrowed_f(tags_)
    n = len(b)
    nd = ns = nt = 0
    i = _ws(b, 0)
    while i < n:
        if nd >= docs.shape[0]:
            return 2
        start = i
        j = _array(b, i)
        if j < 0:
            return 0
        if b[j] == 123:  # spans
            ns, nt, j = _span_array(b, j, spans, ns, tags, nt)
        elif b[j] == 91:  # traces: arrays of spans
            ns, nt, j = _trace_arrays(b, j, spans, ns, tags, nt)
        elif b[j] == 93:
            j += 1
        else:
            return 0
        if j == -2:
            return 2
        if j < 0:
            return 0
        docs[nd, 0], docs[nd, 1] = start, j
        nd += 1
        i = _ws(b, j)
    if nd == 0:
        return 0
    counts[0], counts[1], counts[2] = nd, ns, nt
    return 1


def scan(raw: bytes):
    """(docs, spans, tags) of a Zipkin v2 JSON (Lines) document, or None (see the module doc)."""
    b = np.frombuffer(raw, dtype=np.uint8)
    last = len(raw) - 1
    while last >= 0 and raw[last] in b" \t\r\n":
        last -= 1
    if last < 0 or raw[last] != 93:
        return None  # cut off, or not arrays: the general reader
    # (every read below stays inside the buffer: each bracket opened is followed by that final "]")
    head = raw[: 8 << 20]
    scale = len(raw) / max(len(head), 1) * 1.1

    def cap(*names):
        return int(sum(head.count(x) for x in names) * scale) + 64

    caps = [cap(b"\n") + 64, cap(b'"traceId"'), cap(b'":"') + cap(b'": "')]
    widths = (2, SPAN_COLS, 6)
    for _attempt in range(6):
        small = np.int32 if len(raw) < (1 << 31) - 1 else np.int64
        tables = [np.empty((c, w), dtype=d, order="F") for c, w, d in zip(caps, widths, (np.int64, np.int64, small))]
        counts = np.zeros(3, dtype=np.int64)
        status = _scan(b, *tables, counts)
        if status == 1:
            return tuple(t[:k] for t, k in zip(tables, counts))
        if status == 0:
            return None
        caps = [c * 2 for c in caps]
    return None
