"""A compiled reader for OTLP JSON (``{"resourceSpans": [...]}``, the api_v3 ``{"result": ...}`` wrapper,
and JSON Lines of them as the Collector's file exporter writes): bytes → offset tables, as
:mod:`jaeger_scan` does for Jaeger UI JSON, from the same primitives (:mod:`json_bytes`).

Anything the general reader (:func:`formats.read_otlp`) would treat in a way these tables cannot say —
an id that is not hex, a float where an integer goes, a status code that is a bool, two values in one
``AnyValue``, a key given twice — makes :func:`scan` return None, and the general reader takes the file.
Values that need Python's rules (doubles, arrays, key-value lists, odd integers) are marked ``A_PY``
with the value object's byte range, and decoded one by one afterwards (rare in real exports).

Tables (int matrices, one row per item; -1 = absent):

* docs   ``[start, end]`` of each top-level document (several for JSON Lines)
* res    ``[resource_s, resource_e]`` per ``resourceSpans`` element (the resource object's text)
* scopes ``[name_s, name_e]`` per ``scopeSpans`` element
* spans  ``[res, scope, tid_s, tid_e, sid_s, sid_e, par_s, par_e, name_s, name_e, kind, kind_s, kind_e,
  start, end, end_given, flags, status, msg_s, msg_e, events_s, events_e, links_s, links_e, attr0, nattr]``
  (kind: the OTLP number, 6 for another number, -1 absent, 7 a string at kind_s:kind_e; status: 0 UNSET,
  1 OK, 2 ERROR; events/links: the arrays' text)
* attrs  ``[span, key_s, key_e, vkind, val_s, val_e, special]`` (vkind: A_* below; special: the key's
  index in ``jaeger_scan.K_SPECIAL``, -1 for other keys)
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .jaeger_scan import K_SPECIAL, _k
from .json_bytes import (_array, _eq, _hex_only, _i64, _member, _next, _skip, _str_end, _string_or_null, _ws,
                         borrowed, borrowed_f)

A_STR, A_INT, A_PY, A_TRUE, A_FALSE, A_EMPTY, A_BYTES = range(7)

K_RS, K_RESULT, K_RESOURCE, K_SCOPESPANS, K_ILSPANS = (_k("resourceSpans"), _k("result"), _k("resource"),
                                                       _k("scopeSpans"), _k("instrumentationLibrarySpans"))
K_SCOPE, K_IL, K_NAME, K_SPANS = _k("scope"), _k("instrumentationLibrary"), _k("name"), _k("spans")
K_TRACEID, K_SPANID, K_PARENT, K_KIND = _k("traceId"), _k("spanId"), _k("parentSpanId"), _k("kind")
K_START, K_END, K_FLAGS, K_STATUS = _k("startTimeUnixNano"), _k("endTimeUnixNano"), _k("flags"), _k("status")
K_EVENTS, K_LINKS, K_ATTRS, K_CODE, K_MESSAGE = _k("events"), _k("links"), _k("attributes"), _k("code"), _k("message")
K_KEY, K_VALUE = _k("key"), _k("value")
K_SV, K_IV, K_BV, K_YV = _k("stringValue"), _k("intValue"), _k("boolValue"), _k("bytesValue")
K_ST_UNSET, K_ST_OK, K_ST_ERROR = _k("STATUS_CODE_UNSET"), _k("STATUS_CODE_OK"), _k("STATUS_CODE_ERROR")

SPAN_COLS = 26


@njit(cache=True)
def _any_value(b, i, attrs, row):
    """An AnyValue object (or null) at i into attrs[row, 3:6]; index past it, -1 to decline."""
    attrs[row, 3], attrs[row, 4], attrs[row, 5] = A_EMPTY, -1, -1
    if b[i] == 110:
        return _skip(b, i)
    if b[i] != 123:
        return -1
    start = i
    i = _ws(b, i + 1)
    members = 0
    while b[i] != 125:
        ks, ke, v = _member(b, i)
        if v < 0:
            return -1
        members += 1
        e = _skip(b, v)
        if e < 0:
            return -1
        c = b[v]
        if _eq(b, ks, ke, K_SV) and c == 34:
            attrs[row, 3], attrs[row, 4], attrs[row, 5] = A_STR, v + 1, e - 1
        elif _eq(b, ks, ke, K_YV) and c == 34:
            attrs[row, 3], attrs[row, 4], attrs[row, 5] = A_BYTES, v + 1, e - 1
        elif _eq(b, ks, ke, K_BV) and (c == 116 or c == 102):
            attrs[row, 3] = A_TRUE if c == 116 else A_FALSE
        elif _eq(b, ks, ke, K_IV) and (c == 34 or 48 <= c <= 57):
            s0 = v + 1 if c == 34 else v
            _, past, ok = _i64(b, s0)
            if ok and (past == e - 1 if c == 34 else past == e):
                attrs[row, 3], attrs[row, 4], attrs[row, 5] = A_INT, s0, past
            else:
                attrs[row, 3] = A_PY
        else:
            attrs[row, 3] = A_PY  # a double, array, kvlist, null, or a key otlp_value does not know
        i = _next(b, e, 125)
        if i < 0:
            return -1
    if members > 1 or attrs[row, 3] == A_PY:
        attrs[row, 3], attrs[row, 4], attrs[row, 5] = A_PY, start, i + 1
    return i + 1


@njit(cache=True)
def _attributes(b, i, owner, attrs, na):
    """An attributes array (or null) at i: rows na.. of ``attrs``; (na, index past), index -1 / -2 (full)."""
    if b[i] == 110:
        return na, _skip(b, i)
    i = _array(b, i)
    if i < 0:
        return na, -1
    while b[i] != 93:
        if na >= attrs.shape[0]:
            return na, -2
        for c in range(7):
            attrs[na, c] = -1
        attrs[na, 0] = owner
        attrs[na, 3] = A_EMPTY
        if b[i] != 123:
            return na, -1
        i = _ws(b, i + 1)
        while b[i] != 125:
            ks, ke, v = _member(b, i)
            if v < 0:
                return na, -1
            if _eq(b, ks, ke, K_KEY):
                if b[v] != 34 or attrs[na, 1] >= 0:
                    return na, -1
                e = _str_end(b, v)
                attrs[na, 1], attrs[na, 2] = v + 1, e - 1
                for code in range(7):
                    if _eq(b, v + 1, e - 1, K_SPECIAL[code]):
                        attrs[na, 6] = code
            elif _eq(b, ks, ke, K_VALUE):
                e = _any_value(b, v, attrs, na)
            else:
                e = _skip(b, v)
            if e < 0:
                return na, -1
            i = _next(b, e, 125)
            if i < 0:
                return na, -1
        if attrs[na, 1] < 0:
            return na, -1  # a key-value without a key
        na += 1
        i = _next(b, i + 1, 93)
        if i < 0:
            return na, -1
    return na, i + 1


@njit(cache=True)
def _time(b, v, spans, ns, col):
    """A time in ns (decimal string, integer, "" or null) at v into spans[ns, col]; returns (index past,
    truthy as Python sees it); index -1 to decline."""
    c = b[v]
    if c == 110:
        spans[ns, col] = 0
        return _skip(b, v), False
    if c == 34:
        if b[v + 1] == 34:
            spans[ns, col] = 0
            return v + 2, False
        x, past, ok = _i64(b, v + 1)
        if not ok or b[past] != 34:
            return -1, False
        spans[ns, col] = x
        return past + 1, True
    x, past, ok = _i64(b, v)
    if not ok or b[past] == 46 or b[past] == 101 or b[past] == 69:
        return -1, False
    spans[ns, col] = x
    return past, x != 0


@njit(cache=True)
def _status(b, i, spans, ns):
    """A status object (or null) at i: spans[ns, 17:20]; index past it, -1 to decline."""
    spans[ns, 17], spans[ns, 18], spans[ns, 19] = 0, -1, -1
    if b[i] == 110:
        return _skip(b, i)
    if b[i] != 123:
        return -1
    i = _ws(b, i + 1)
    while b[i] != 125:
        ks, ke, v = _member(b, i)
        if v < 0:
            return -1
        c = b[v]
        if _eq(b, ks, ke, K_CODE):
            if c == 34:
                e = _str_end(b, v)
                spans[ns, 17] = 1 if _eq(b, v + 1, e - 1, K_ST_OK) else 2 if _eq(b, v + 1, e - 1, K_ST_ERROR) else 0
            elif 48 <= c <= 57:
                x, e, ok = _i64(b, v)
                if not ok or b[e] == 46 or b[e] == 101 or b[e] == 69:
                    return -1
                spans[ns, 17] = x if x <= 2 else 0
            elif c == 110 or c == 45:
                e = _skip(b, v)  # null, a negative number: UNSET
            else:
                return -1  # a bool (True == 1 in Python's lookup) or an object
        elif _eq(b, ks, ke, K_MESSAGE):
            s_, e_, e = _string_or_null(b, v)
            if e < 0:
                return -1
            if e_ > s_:  # "" is no message
                spans[ns, 18], spans[ns, 19] = s_, e_
            else:
                spans[ns, 18], spans[ns, 19] = -1, -1
        else:
            e = _skip(b, v)
        if e < 0:
            return -1
        i = _next(b, e, 125)
        if i < 0:
            return -1
    return i + 1


@njit(cache=True)
def _span(b, i, rs, sc, spans, ns, attrs, na):
    """One span object at i into row ns; (na, index past), index -1 to decline, -2 a table is full."""
    if ns >= spans.shape[0]:
        return na, -2
    for c in range(SPAN_COLS):
        spans[ns, c] = -1
    spans[ns, 0], spans[ns, 1] = rs, sc
    spans[ns, 13], spans[ns, 14], spans[ns, 15], spans[ns, 16], spans[ns, 17] = 0, 0, 0, 0, 0
    spans[ns, 24], spans[ns, 25] = na, 0
    if b[i] != 123:
        return na, -1
    i = _ws(b, i + 1)
    while b[i] != 125:
        ks, ke, v = _member(b, i)
        if v < 0:
            return na, -1
        c = b[v]
        e = -1
        if _eq(b, ks, ke, K_TRACEID) or _eq(b, ks, ke, K_SPANID) or _eq(b, ks, ke, K_PARENT) \
                or _eq(b, ks, ke, K_NAME):
            col = 2 if _eq(b, ks, ke, K_TRACEID) else 4 if _eq(b, ks, ke, K_SPANID) else 6 \
                if _eq(b, ks, ke, K_PARENT) else 8
            s_, e_, e = _string_or_null(b, v)
            if e >= 0 and e_ > s_ and col <= 6 and not _hex_only(b, s_, e_):
                e = -1  # a base64 id: the general reader decodes it
            if e_ == s_:
                s_, e_ = -1, -1  # "" is absent
            spans[ns, col], spans[ns, col + 1] = s_, e_
        elif _eq(b, ks, ke, K_KIND):
            if c == 34:
                e = _str_end(b, v)
                spans[ns, 10], spans[ns, 11], spans[ns, 12] = 7, v + 1, e - 1
            elif 48 <= c <= 57:
                x, e, ok = _i64(b, v)
                if not ok or b[e] == 46 or b[e] == 101 or b[e] == 69:
                    e = -1
                spans[ns, 10] = x if x <= 5 else 6
            elif c == 45:
                e = _skip(b, v)
                spans[ns, 10] = 6
        elif _eq(b, ks, ke, K_START):
            e, _truthy = _time(b, v, spans, ns, 13)
        elif _eq(b, ks, ke, K_END):
            e, truthy = _time(b, v, spans, ns, 14)
            spans[ns, 15] = 1 if truthy else 0
        elif _eq(b, ks, ke, K_FLAGS):
            if c == 110:
                e = _skip(b, v)
                spans[ns, 16] = 0
            else:
                x, e, ok = _i64(b, v)
                if not ok or b[e] == 46 or b[e] == 101 or b[e] == 69:
                    e = -1
                spans[ns, 16] = x
        elif _eq(b, ks, ke, K_STATUS):
            e = _status(b, v, spans, ns)
        elif _eq(b, ks, ke, K_EVENTS) or _eq(b, ks, ke, K_LINKS):
            col = 20 if _eq(b, ks, ke, K_EVENTS) else 22
            e = _skip(b, v)
            if c == 91:
                spans[ns, col], spans[ns, col + 1] = v, e
            elif c != 110:
                e = -1
        elif _eq(b, ks, ke, K_ATTRS):
            if spans[ns, 25] > 0:
                return na, -1  # attributes given twice
            na, e = _attributes(b, v, ns, attrs, na)
            if e == -2:
                return na, -2
            spans[ns, 25] = na - spans[ns, 24]
        else:
            e = _skip(b, v)
        if e < 0:
            return na, -1
        i = _next(b, e, 125)
        if i < 0:
            return na, -1
    if spans[ns, 2] < 0 or spans[ns, 4] < 0:
        return na, -1  # the general reader says what is wrong
    return na, i + 1


@njit(cache=True)
def _scope_spans(b, i, rs, scopes, nsc, spans, ns, attrs, na):
    """A scopeSpans array at i; (nsc, ns, na, index past), index -1 / -2 as :func:`_span`."""
    i = _array(b, i)
    if i < 0:
        return nsc, ns, na, -1
    while b[i] != 93:
        if nsc >= scopes.shape[0]:
            return nsc, ns, na, -2
        if b[i] != 123:
            return nsc, ns, na, -1
        sc = nsc
        scopes[sc, 0], scopes[sc, 1] = -1, -1
        nsc += 1
        seen_scope = False
        i = _ws(b, i + 1)
        while b[i] != 125:
            ks, ke, v = _member(b, i)
            if v < 0:
                return nsc, ns, na, -1
            if _eq(b, ks, ke, K_SCOPE) or _eq(b, ks, ke, K_IL):
                if seen_scope:
                    return nsc, ns, na, -1  # scope and instrumentationLibrary both: Python's `or` decides
                seen_scope = True
                e = _skip(b, v)
                if b[v] == 123:
                    j = _ws(b, v + 1)
                    while j >= 0 and b[j] != 125:
                        ns_, ne_, w = _member(b, j)
                        if w < 0:
                            return nsc, ns, na, -1
                        if _eq(b, ns_, ne_, K_NAME):
                            s_, e_, we = _string_or_null(b, w)
                            if we < 0:
                                return nsc, ns, na, -1
                            scopes[sc, 0], scopes[sc, 1] = (s_, e_) if e_ > s_ else (-1, -1)
                        else:
                            we = _skip(b, w)
                        j = _next(b, we, 125)
                    if j < 0:
                        return nsc, ns, na, -1
                elif b[v] != 110:
                    return nsc, ns, na, -1
            elif _eq(b, ks, ke, K_SPANS):
                if b[v] == 91:
                    j = _ws(b, v + 1)
                    while b[j] != 93:
                        na, j = _span(b, j, rs, sc, spans, ns, attrs, na)
                        if j < 0:
                            return nsc, ns, na, j
                        ns += 1
                        j = _next(b, j, 93)
                        if j < 0:
                            return nsc, ns, na, -1
                    e = j + 1
                elif b[v] == 110:
                    e = _skip(b, v)
                else:
                    return nsc, ns, na, -1
            else:
                e = _skip(b, v)
            if e < 0:
                return nsc, ns, na, -1
            i = _next(b, e, 125)
            if i < 0:
                return nsc, ns, na, -1
        i = _next(b, i + 1, 93)
        if i < 0:
            return nsc, ns, na, -1
    return nsc, ns, na, i + 1


@njit(cache=True)
def _resource_spans(b, v, res, nr, scopes, nsc, spans, ns, attrs, na):
    """A resourceSpans array at v; (nr, nsc, ns, na, index past), index -1 / -2 as :func:`_span`."""
    j = _array(b, v)
    if j < 0:
        return nr, nsc, ns, na, -1
    while b[j] != 93:
        if nr >= res.shape[0]:
            return nr, nsc, ns, na, -2
        if b[j] != 123:
            return nr, nsc, ns, na, -1
        rs = nr
        res[rs, 0], res[rs, 1] = -1, -1
        nr += 1
        seen_spans = False
        j = _ws(b, j + 1)
        while b[j] != 125:
            rk, rke, w = _member(b, j)
            if w < 0:
                return nr, nsc, ns, na, -1
            if _eq(b, rk, rke, K_RESOURCE):
                we = _skip(b, w)
                if b[w] == 123:
                    res[rs, 0], res[rs, 1] = w, we
                elif b[w] != 110:
                    return nr, nsc, ns, na, -1
            elif _eq(b, rk, rke, K_SCOPESPANS) or _eq(b, rk, rke, K_ILSPANS):
                if seen_spans:
                    return nr, nsc, ns, na, -1  # both: Python's `or` decides
                seen_spans = True
                if b[w] == 110:
                    we = _skip(b, w)
                else:
                    nsc, ns, na, we = _scope_spans(b, w, rs, scopes, nsc, spans, ns, attrs, na)
            else:
                we = _skip(b, w)
            if we < 0:
                return nr, nsc, ns, na, we
            j = _next(b, we, 125)
            if j < 0:
                return nr, nsc, ns, na, -1
        j = _next(b, j + 1, 93)
        if j < 0:
            return nr, nsc, ns, na, -1
    return nr, nsc, ns, na, j + 1


@njit(cache=True)
def _traces_data(b, i, inner, res, nr, scopes, nsc, spans, ns, attrs, na):
    """A TracesData object at i: its ``resourceSpans`` read, and (unless ``inner``) where the value of a
    ``result`` key starts — the api_v3 wrapper, read by the caller with ``inner`` set (compiled code does not
    recurse). Returns (nr, nsc, ns, na, resourceSpans keys seen, result at or -1, index past), index -1 / -2
    as :func:`_span`."""
    found, result_at = 0, -1
    if b[i] != 123:
        return nr, nsc, ns, na, found, result_at, -1
    i = _ws(b, i + 1)
    while b[i] != 125:
        ks, ke, v = _member(b, i)
        if v < 0:
            return nr, nsc, ns, na, found, result_at, -1
        if _eq(b, ks, ke, K_RS):
            found += 1
            nr, nsc, ns, na, e = _resource_spans(b, v, res, nr, scopes, nsc, spans, ns, attrs, na)
        elif _eq(b, ks, ke, K_RESULT) and not inner:
            e = _skip(b, v)
            if b[v] != 123 or result_at >= 0:
                e = -1
            result_at = v
        else:
            e = _skip(b, v)
        if e < 0:
            return nr, nsc, ns, na, found, result_at, e
        i = _next(b, e, 125)
        if i < 0:
            return nr, nsc, ns, na, found, result_at, -1
    return nr, nsc, ns, na, found, result_at, i + 1


@njit(cache=True)
def _scan(b_, docs_, res_, scopes_, spans_, attrs_, counts):
    """Every top-level document in b; 1 = done, 0 = not for this reader, 2 = a table was too small."""
    # views without a reference count (json_bytes.borrowed): no atomic increments around each inlined helper
    b, docs, res, scopes, spans, attrs = (borrowed(b_), borrowed_f(docs_), borrowed_f(res_), borrowed_f(scopes_),
                                          borrowed_f(spans_), borrowed_f(attrs_))
    n = len(b)
    nd = nr = nsc = ns = na = 0
    i = _ws(b, 0)
    while i < n:
        if nd >= docs.shape[0]:
            return 2
        start = i
        nr, nsc, ns, na, found, result_at, i = _traces_data(b, i, False, res, nr, scopes, nsc, spans, ns, attrs, na)
        if i == -2:
            return 2
        if i < 0 or found + (result_at >= 0) != 1:
            return 0  # none, or resourceSpans and result both: the general reader
        if result_at >= 0:
            nr, nsc, ns, na, found, _r, past = _traces_data(b, result_at, True, res, nr, scopes, nsc, spans, ns,
                                                            attrs, na)
            if past == -2:
                return 2
            if past < 0 or found != 1:
                return 0
        docs[nd, 0], docs[nd, 1] = start, i
        nd += 1
        i = _ws(b, i)
    if nd == 0:
        return 0
    counts[0], counts[1], counts[2], counts[3], counts[4] = nd, nr, nsc, ns, na
    return 1


def scan(raw: bytes):
    """(docs, res, scopes, spans, attrs) of an OTLP JSON (Lines) document, or None (see the module doc).
    Table sizes come from counting key names in the first 8 MB, scaled (a retry doubles them)."""
    b = np.frombuffer(raw, dtype=np.uint8)
    last = len(raw) - 1
    while last >= 0 and raw[last] in b" \t\r\n":
        last -= 1
    if last < 0 or raw[last] != 125:
        return None  # cut off (or not JSON objects): the general reader salvages what it can
    # (every read below stays inside the buffer: each bracket opened is followed by that final "}")
    head = raw[: 8 << 20]
    scale = len(raw) / max(len(head), 1) * 1.1

    def cap(*names):
        return int(sum(head.count(x) for x in names) * scale) + 64

    n_span = cap(b'"spanId"')
    caps = [cap(b"\n") + 64, cap(b'"scopeSpans"', b'"instrumentationLibrarySpans"'),
            cap(b'"spans"'), n_span, cap(b'"key"')]
    widths = (2, 2, 2, SPAN_COLS, 7)
    for _attempt in range(6):
        small = np.int32 if len(raw) < (1 << 31) - 1 else np.int64
        dtypes = (np.int64, np.int64, np.int64, np.int64, small)
        tables = [np.empty((c, w), dtype=d, order="F") for c, w, d in zip(caps, widths, dtypes)]
        counts = np.zeros(5, dtype=np.int64)
        status = _scan(b, *tables, counts)
        if status == 1:
            return tuple(t[:k] for t, k in zip(tables, counts))
        if status == 0:
            return None
        caps = [c * 2 for c in caps]
    return None
