"""A compiled reader for Jaeger UI JSON (``{"data": [trace, …]}``): bytes → offset tables, no
Python object per span or tag (the V8 heap reader's approach).

One pass over the document records, for every span, tag, log, reference and process, where its
strings start and end in the buffer and the integers it holds; :func:`gather` then copies the
strings (decoding JSON escapes) straight into Arrow string buffers. Anything the schema does not
expect — an inline ``process``, a tag value that is an object, a float start time, a cut-off
file — makes :func:`scan` return ``ok = False`` and the loader reads the file the general way.

Tables (int64 matrices, one row per item; -1 = field absent):

* traces ``[tid_s, tid_e]``
* spans  ``[trace, tid_s, tid_e, sid_s, sid_e, op_s, op_e, pid_s, pid_e, start, dur, flags,
  tag0, ntag, log0, nlog, ref0, nref, par_s, par_e]``
* tags   ``[span, key_s, key_e, type_s, type_e, val_s, val_e, kind, special, key_code, type_code]`` (kind:
  VAL_* below; special: the key's index in ``K_SPECIAL``, -1 for other keys; codes: of the key's and the
  type's text in the intern table :func:`scan` returns last, -1 when it overflowed)
* logs   ``[span, timestamp, fields_s, fields_e]`` (the ``fields`` array's text, parsed later)
* refs   ``[span, type_s, type_e, tid_s, tid_e, sid_s, sid_e]``
* procs  ``[trace, key_s, key_e, obj_s, obj_e]`` (the process object's text)
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .json_bytes import (_array, _eq, _int, _intern, _member, _skip, _str_end, _str_field, _ws,  # noqa: F401
                         borrowed, borrowed_f, gather, intern_table)  # (gather: re-exported)

VAL_STR, VAL_INT, VAL_FLOAT, VAL_TRUE, VAL_FALSE, VAL_NULL = 0, 1, 2, 3, 4, 5


def _k(s: str) -> np.ndarray:
    return np.frombuffer(s.encode(), dtype=np.uint8).copy()


K_DATA, K_TRACEID, K_SPANS, K_PROCESSES = _k("data"), _k("traceID"), _k("spans"), _k("processes")
K_SPANID, K_OP, K_REFS, K_START, K_DUR = _k("spanID"), _k("operationName"), _k("references"), _k("startTime"), _k("duration")
K_TAGS, K_LOGS, K_PID, K_FLAGS, K_PARENT = _k("tags"), _k("logs"), _k("processID"), _k("flags"), _k("parentSpanID")
K_KEY, K_TYPE, K_VALUE, K_REFTYPE, K_TS, K_FIELDS = _k("key"), _k("type"), _k("value"), _k("refType"), _k("timestamp"), _k("fields")
K_PROCESS, K_ERRORS, K_RS, K_RESULT = _k("process"), _k("errors"), _k("resourceSpans"), _k("result")
# tag keys the loader reads (columns.SPECIAL_KEYS, same order): their code goes in tags[:, 8]
K_SPECIAL = (_k("span.kind"), _k("error"), _k("otel.status_code"), _k("otel.status_description"),
             _k("peer.service"), _k("otel.scope.name"), _k("otel.library.name"))
S_KIND, S_ERROR, S_STATUS, S_MSG, S_PEER, S_SCOPE, S_LIBRARY = range(7)


@njit(cache=True)
def _kv(b, i, tags, nt, owner, d):
    """One {"key","type","value"} object at i into row nt of ``tags``; index past it (-1 bad, -2 full)."""
    if nt >= tags.shape[0]:
        return -2
    for c in range(11):
        tags[nt, c] = -1
    tags[nt, 0] = owner
    if b[i] != 123:
        return -1
    i = _ws(b, i + 1)
    if b[i] == 125:
        return -1
    while True:
        ks, ke, i = _member(b, i)
        if i < 0:
            return -1
        c = b[i]
        if _eq(b, ks, ke, K_KEY):
            if c != 34:
                return -1
            e = _str_end(b, i)
            if e < 0:
                return -1
            tags[nt, 1], tags[nt, 2], tags[nt, 9] = i + 1, e - 1, _intern(b, i + 1, e - 1, d)
            for code in range(7):
                if _eq(b, i + 1, e - 1, K_SPECIAL[code]):
                    tags[nt, 8] = code
            i = e
        elif _eq(b, ks, ke, K_TYPE):
            if c == 34:
                e = _str_end(b, i)
                if e < 0:
                    return -1
                if e - i > 2:  # an empty type means none
                    tags[nt, 3], tags[nt, 4], tags[nt, 10] = i + 1, e - 1, _intern(b, i + 1, e - 1, d)
                i = e
            elif c == 110:
                i = _skip(b, i)
            else:
                return -1
        elif _eq(b, ks, ke, K_VALUE):
            if c == 34:
                e = _str_end(b, i)
                if e < 0:
                    return -1
                tags[nt, 5], tags[nt, 6], tags[nt, 7] = i + 1, e - 1, VAL_STR
                i = e
            elif c == 116 or c == 102 or c == 110:
                e = _skip(b, i)
                tags[nt, 7] = VAL_TRUE if c == 116 else (VAL_FALSE if c == 102 else VAL_NULL)
                i = e
            elif c == 45 or 48 <= c <= 57:
                e = _skip(b, i)
                tags[nt, 5], tags[nt, 6] = i, e
                tags[nt, 7] = VAL_INT
                for j in range(i, e):
                    if b[j] == 46 or b[j] == 101 or b[j] == 69:
                        tags[nt, 7] = VAL_FLOAT
                i = e
            else:
                return -1  # an object or array value: the general reader handles it
        else:
            i = _skip(b, i)
        if i < 0:
            return -1
        i = _ws(b, i)
        if b[i] == 44:
            i = _ws(b, i + 1)
            continue
        if b[i] == 125:
            break
        return -1
    if tags[nt, 1] < 0:
        return -1  # a tag without a key
    return i + 1


@njit(cache=True)
def _span(b, i, trace, spans, ns, tags, nt, logs, nl, refs, nr, d):
    if ns >= spans.shape[0]:
        return nt, nl, nr, -2
    for c in range(20):
        spans[ns, c] = -1
    spans[ns, 0] = trace
    spans[ns, 11] = 0
    spans[ns, 10] = 0
    spans[ns, 12], spans[ns, 13], spans[ns, 14], spans[ns, 15], spans[ns, 16], spans[ns, 17] = nt, 0, nl, 0, nr, 0
    have_start = False
    if b[i] != 123:
        return nt, nl, nr, -1
    i = _ws(b, i + 1)
    while b[i] != 125:
        ks, ke, i = _member(b, i)
        if i < 0:
            return nt, nl, nr, -1
        if _eq(b, ks, ke, K_TRACEID) or _eq(b, ks, ke, K_SPANID) or _eq(b, ks, ke, K_OP) or _eq(b, ks, ke, K_PID) \
                or _eq(b, ks, ke, K_PARENT):
            col = 1 if _eq(b, ks, ke, K_TRACEID) else 3 if _eq(b, ks, ke, K_SPANID) else 5 if _eq(b, ks, ke, K_OP) \
                else 7 if _eq(b, ks, ke, K_PID) else 18
            if b[i] == 110 and col >= 5:  # null operation / process / parent: absent
                i = _skip(b, i)
            else:
                s, e, i = _str_field(b, i)
                if i < 0:
                    return nt, nl, nr, -1
                spans[ns, col], spans[ns, col + 1] = s, e
        elif _eq(b, ks, ke, K_START) or _eq(b, ks, ke, K_DUR) or _eq(b, ks, ke, K_FLAGS):
            if b[i] == 110:  # null: duration/flags 0 (a null start fails below)
                i = _skip(b, i)
            else:
                v, i, ok = _int(b, i)
                if not ok:
                    return nt, nl, nr, -1
                if _eq(b, ks, ke, K_START):
                    spans[ns, 9] = v
                    have_start = True
                elif _eq(b, ks, ke, K_DUR):
                    spans[ns, 10] = v
                else:
                    spans[ns, 11] = v
        elif _eq(b, ks, ke, K_TAGS):
            if b[i] == 110:
                i = _skip(b, i)
            else:
                i = _array(b, i)
                if i < 0:
                    return nt, nl, nr, -1
                spans[ns, 12] = nt
                while b[i] != 93:
                    i = _kv(b, i, tags, nt, ns, d)
                    if i < 0:
                        return nt, nl, nr, i
                    nt += 1
                    i = _ws(b, i)
                    if b[i] == 44:
                        i = _ws(b, i + 1)
                spans[ns, 13] = nt - spans[ns, 12]
                i += 1
        elif _eq(b, ks, ke, K_LOGS):
            if b[i] == 110:
                i = _skip(b, i)
            else:
                i = _array(b, i)
                if i < 0:
                    return nt, nl, nr, -1
                spans[ns, 14] = nl
                while b[i] != 93:
                    if nl >= logs.shape[0]:
                        return nt, nl, nr, -2
                    logs[nl, 0], logs[nl, 1], logs[nl, 2], logs[nl, 3] = ns, -1, -1, -1
                    have_ts = False
                    if b[i] != 123:
                        return nt, nl, nr, -1
                    i = _ws(b, i + 1)
                    while b[i] != 125:
                        ls, le, i = _member(b, i)
                        if i < 0:
                            return nt, nl, nr, -1
                        if _eq(b, ls, le, K_TS):
                            v, i, ok = _int(b, i)
                            if not ok:
                                return nt, nl, nr, -1
                            logs[nl, 1] = v
                            have_ts = True
                        elif _eq(b, ls, le, K_FIELDS):
                            e = _skip(b, i)
                            logs[nl, 2], logs[nl, 3] = i, e
                            i = e
                        else:
                            i = _skip(b, i)
                        if i < 0:
                            return nt, nl, nr, -1
                        i = _ws(b, i)
                        if b[i] == 44:
                            i = _ws(b, i + 1)
                    if not have_ts:
                        return nt, nl, nr, -1  # a log without a timestamp
                    nl += 1
                    i = _ws(b, i + 1)
                    if b[i] == 44:
                        i = _ws(b, i + 1)
                spans[ns, 15] = nl - spans[ns, 14]
                i += 1
        elif _eq(b, ks, ke, K_REFS):
            if b[i] == 110:
                i = _skip(b, i)
            else:
                i = _array(b, i)
                if i < 0:
                    return nt, nl, nr, -1
                spans[ns, 16] = nr
                while b[i] != 93:
                    if nr >= refs.shape[0]:
                        return nt, nl, nr, -2
                    for c in range(7):
                        refs[nr, c] = -1
                    refs[nr, 0] = ns
                    if b[i] != 123:
                        return nt, nl, nr, -1
                    i = _ws(b, i + 1)
                    while b[i] != 125:
                        rs, re_, i = _member(b, i)
                        if i < 0:
                            return nt, nl, nr, -1
                        col = 1 if _eq(b, rs, re_, K_REFTYPE) else 3 if _eq(b, rs, re_, K_TRACEID) \
                            else 5 if _eq(b, rs, re_, K_SPANID) else -1
                        if col > 0 and b[i] == 34:
                            s, e, i = _str_field(b, i)
                            if e - s > 0:  # "" counts as absent (the general reader's `or` default)
                                refs[nr, col], refs[nr, col + 1] = s, e
                        elif col == 5:
                            return nt, nl, nr, -1  # spanID must be a string
                        else:
                            i = _skip(b, i)
                        if i < 0:
                            return nt, nl, nr, -1
                        i = _ws(b, i)
                        if b[i] == 44:
                            i = _ws(b, i + 1)
                    if refs[nr, 5] < 0:
                        return nt, nl, nr, -1
                    nr += 1
                    i = _ws(b, i + 1)
                    if b[i] == 44:
                        i = _ws(b, i + 1)
                spans[ns, 17] = nr - spans[ns, 16]
                i += 1
        elif _eq(b, ks, ke, K_PROCESS):
            return nt, nl, nr, -1  # inline process: the general reader
        else:
            i = _skip(b, i)
        if i < 0:
            return nt, nl, nr, -1
        i = _ws(b, i)
        if b[i] == 44:
            i = _ws(b, i + 1)
        elif b[i] != 125:
            return nt, nl, nr, -1
    if not have_start or spans[ns, 1] < 0 or spans[ns, 3] < 0 or spans[ns, 2] == spans[ns, 1] \
            or spans[ns, 4] == spans[ns, 3]:
        return nt, nl, nr, -1  # the general reader says what is wrong
    return nt, nl, nr, i + 1


@njit(cache=True)
def _trace_field(b, i, ks, ke, nT, spans, nS, tags, nt, logs, nl, refs, nr, procs, nP, d):
    """The value of key b[ks:ke] of trace nT at i: spans, processes, or anything else (skipped).
    Returns (nS, nt, nl, nr, nP, index past the value); index -1 = not for us, -2 = a table is full."""
    n = len(b)
    if _eq(b, ks, ke, K_SPANS):
        i = _array(b, i)
        if i < 0:
            return nS, nt, nl, nr, nP, -1
        while i < n and b[i] != 93:
            nt, nl, nr, i = _span(b, i, nT, spans, nS, tags, nt, logs, nl, refs, nr, d)
            if i < 0:
                return nS, nt, nl, nr, nP, i
            nS += 1
            i = _ws(b, i)
            if i < n and b[i] == 44:
                i = _ws(b, i + 1)
        return nS, nt, nl, nr, nP, (i + 1 if i < n else -1)
    if _eq(b, ks, ke, K_PROCESSES):
        if b[i] == 110:
            return nS, nt, nl, nr, nP, _skip(b, i)
        if b[i] != 123:
            return nS, nt, nl, nr, nP, -1
        i = _ws(b, i + 1)
        while i < n and b[i] != 125:
            ps, pe, i = _member(b, i)
            if i < 0:
                return nS, nt, nl, nr, nP, -1
            e = _skip(b, i)
            if e < 0:
                return nS, nt, nl, nr, nP, -1
            if nP >= procs.shape[0]:
                return nS, nt, nl, nr, nP, -2
            procs[nP, 0], procs[nP, 1], procs[nP, 2], procs[nP, 3], procs[nP, 4] = nT, ps, pe, i, e
            nP += 1
            i = _ws(b, e)
            if i < n and b[i] == 44:
                i = _ws(b, i + 1)
        return nS, nt, nl, nr, nP, (i + 1 if i < n else -1)
    return nS, nt, nl, nr, nP, _skip(b, i)


@njit(cache=True)
def _scan(b_, traces_, spans_, tags_, logs_, refs_, procs_, counts, d_):
    """Fill the preallocated tables; 1 = done, 0 = not for this reader, 2 = a table was too small.
    ``counts`` gets the rows used: traces, spans, tags, logs, refs, procs. Takes ``{"data": [trace,
    …], …}`` and a single trace object ``{"traceID", "spans", "processes"}``."""
    # views without a reference count (json_bytes.borrowed): no atomic increments around each inlined helper
    b, traces, spans, tags, logs, refs, procs, d = (borrowed(b_), borrowed_f(traces_), borrowed_f(spans_),
                                                    borrowed_f(tags_), borrowed_f(logs_), borrowed_f(refs_),
                                                    borrowed_f(procs_), borrowed(d_))
    nT = nS = nt = nl = nr = nP = 0
    n = len(b)
    i = _ws(b, 0)
    if i >= n or b[i] != 123:
        return 0
    i = _ws(b, i + 1)
    seen_data = seen_spans = False
    while i < n and b[i] != 125:
        ks, ke, i = _member(b, i)
        if i < 0:
            return 0
        if _eq(b, ks, ke, K_DATA):
            i = _array(b, i)
            if i < 0:
                return 0
            seen_data = True
            while i < n and b[i] != 93:
                if b[i] != 123:
                    return 0
                if nT >= traces.shape[0]:
                    return 2
                traces[nT, 0], traces[nT, 1] = -1, -1
                got_spans = False
                i = _ws(b, i + 1)
                while i < n and b[i] != 125:
                    ts_, te, i = _member(b, i)
                    if i < 0:
                        return 0
                    got_spans |= _eq(b, ts_, te, K_SPANS)
                    nS, nt, nl, nr, nP, i = _trace_field(b, i, ts_, te, nT, spans, nS, tags, nt, logs, nl, refs, nr,
                                                         procs, nP, d)
                    if i < 0:
                        return 2 if i == -2 else 0
                    i = _ws(b, i)
                    if i < n and b[i] == 44:
                        i = _ws(b, i + 1)
                if i >= n or not got_spans:
                    return 0
                nT += 1
                i = _ws(b, i + 1)
                if i < n and b[i] == 44:
                    i = _ws(b, i + 1)
            if i >= n:
                return 0
            i += 1
        elif _eq(b, ks, ke, K_RS) or _eq(b, ks, ke, K_RESULT):
            return 0  # OTLP (the general reader tests for these keys before "data")
        elif _eq(b, ks, ke, K_ERRORS):
            if b[i] != 110:
                return 0  # envelope errors: the general reader reports them
            i = _skip(b, i)
        elif _eq(b, ks, ke, K_SPANS) or _eq(b, ks, ke, K_PROCESSES):  # a single trace object
            seen_spans |= _eq(b, ks, ke, K_SPANS)
            nS, nt, nl, nr, nP, i = _trace_field(b, i, ks, ke, 0, spans, nS, tags, nt, logs, nl, refs, nr, procs, nP, d)
            if i < 0:
                return 2 if i == -2 else 0
        else:
            i = _skip(b, i)
        if i < 0:
            return 0
        i = _ws(b, i)
        if i < n and b[i] == 44:
            i = _ws(b, i + 1)
    if i >= n or seen_data == seen_spans or _ws(b, i + 1) != n:
        return 0
    if seen_spans:
        nT = 1
    counts[0], counts[1], counts[2], counts[3], counts[4], counts[5] = nT, nS, nt, nl, nr, nP
    return 1


def scan(raw: bytes):
    """(traces, spans, tags, logs, refs, procs) tables of a Jaeger UI JSON document, or None when it
    is not one this reader takes (see the module doc). Table sizes are bounded by counting key
    names first (C-speed ``bytes.count``), so the compiled pass never reallocates."""
    b = np.frombuffer(raw, dtype=np.uint8)
    head = raw[: 8 << 20]  # counts in the first 8 MB, scaled to the file (a retry doubles them)
    scale = len(raw) / max(len(head), 1) * 1.1

    def cap(*names):
        return int(sum(head.count(n) for n in names) * scale) + 64

    n_span = cap(b'"spanID"')
    caps = [cap(b'"traceID"'), n_span, cap(b'"key"'), cap(b'"timestamp"'), n_span, cap(b'"serviceName"') + 64]
    widths = (2, 20, 11, 4, 7, 5)
    for _attempt in range(6):
        # columns contiguous; tags, references and processes hold only offsets and row numbers, so
        # int32 halves the largest table when the file is under 2 GB
        small = np.int32 if len(raw) < (1 << 31) - 1 and n_span < (1 << 30) else np.int64
        dtypes = (np.int64, np.int64, small, np.int64, small, small)
        tables = [np.empty((c, w), dtype=d, order="F") for c, w, d in zip(caps, widths, dtypes)]
        counts = np.zeros(6, dtype=np.int64)
        d = intern_table()
        status = _scan(b, *tables, counts, d)
        if status == 1:
            return tuple(t[:k] for t, k in zip(tables, counts)) + (d,)
        if status == 0:
            return None
        caps = [c * 2 for c in caps]  # the head was not typical of the file: bigger tables
    return None
