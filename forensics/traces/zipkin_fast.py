"""Zipkin v2 JSON (and JSON Lines of it) → the loader's tables through the compiled scan (:mod:`zipkin_scan`).

Gives exactly what :func:`formats.read_zipkin` gives (``tests/traces/test_fast_path.py`` compares the two),
sharing the string gathering and frame building of :mod:`jaeger_fast`; endpoints (a few distinct texts,
parsed once) and annotations (rare) go through the general reader's helpers (``formats.zipkin_process``,
``formats.zipkin_annotation``). Returns None whenever the scan declines.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from . import formats as F
from .jaeger_fast import _Consts, _Decline, _last_per_span, _loads, _strings, _text_codes, coded_strings, frames
from .jaeger_scan import S_ERROR, S_LIBRARY, S_MSG, S_PEER, S_SCOPE, S_STATUS
from .otlp_fast import one_per_line
from .zipkin_scan import scan


def read(raw: bytes, cols: F.Columns):
    """((spans, tags, logs, refs), number of documents) — processes go into ``cols`` — or None."""
    got = scan(raw)
    if got is None:
        return None
    docs, spans, tags = got
    if len(docs) > 1 and not one_per_line(raw, docs):
        return None
    try:
        return _build(raw, cols, spans, tags), len(docs)
    except (_Decline, ValueError, TypeError, KeyError, AttributeError, IndexError, F.Bad):
        return None


def _processes(raw, cols, spans, b):
    """(index of each span's localEndpoint text, process number and service per index): each distinct
    text parsed once, in first-appearance order, as the general reader registers them."""
    codes = _text_codes(b, spans[:, 12], spans[:, 13])
    if codes is None:
        raise _Decline()
    size = int(codes.max()) + 2
    proc_of = np.full(size, -1, dtype=np.int64)
    service_of: list = [None] * size
    for k in np.sort(np.unique(codes, return_index=True)[1]).tolist():
        c = int(codes[k])
        ep = _loads(raw[int(spans[k, 12]):int(spans[k, 13])]) if c >= 0 else {}
        if not isinstance(ep, dict) and ep is not None:
            raise _Decline()
        svc, kvs = F.zipkin_process(ep or {})
        proc_of[c + 1], service_of[c + 1] = cols.add_process(svc, kvs), svc
    return codes + 1, proc_of, service_of


def _build(raw, cols, spans, tags):
    b = np.frombuffer(raw, dtype=np.uint8)
    n = len(spans)
    if n == 0:
        raise _Decline()  # no spans: the general reader says so
    ep_index, proc_of, service_of = _processes(raw, cols, spans, b)
    proc = proc_of[ep_index]
    consts = _Consts()
    tag_span = tags[:, 0].astype(np.int64)
    val_s, val_e = tags[:, 3].astype(np.int64), tags[:, 4].astype(np.int64)
    key, value = _strings(b, tags[:, 1], tags[:, 2]), _strings(b, val_s, val_e)
    typ = coded_strings(np.zeros(len(tags), dtype=np.int32), ["string"])  # Zipkin tags are strings
    special = tags[:, 5]

    def field(code):
        """(start, end) per span of the tag with this key (-1 when absent), and whether it is there."""
        sp, rows = _last_per_span(tag_span, np.flatnonzero(special == code))
        s_, e_ = np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64)
        s_[sp], e_[sp] = val_s[rows], val_e[rows]
        has = np.zeros(n, dtype=bool)
        has[sp] = True
        return s_, e_, has

    e_s, e_e, err = field(S_ERROR)
    st_s, st_e, has_status = field(S_STATUS)
    for flag, text in ((True, "ERROR"), (False, "UNSET")):
        m = ~has_status & (err == flag)
        st_s[m], st_e[m] = consts.ref(text)
    # message: the description tag, else the error tag's text unless it is "" or "true"
    m_s, m_e, has_msg = field(S_MSG)
    w = np.flatnonzero(err & ~has_msg)
    if len(w):
        text = _strings(b, e_s[w], e_e[w]).to_pylist()  # (decoded: an escaped "true" is "true")
        use = w[np.array([t not in ("", "true") for t in text], dtype=bool)]
        m_s[use], m_e[use] = e_s[use], e_e[use]
    # scope: otel.scope.name when not empty, else otel.library.name; peer: the remote service, else the tag
    sc_s, sc_e, _ = field(S_SCOPE)
    lib_s, lib_e, has_lib = field(S_LIBRARY)
    m = (sc_e - sc_s <= 0) & has_lib
    sc_s[m], sc_e[m] = lib_s[m], lib_e[m]
    m = (sc_e - sc_s <= 0) & ~has_lib
    sc_s[m], sc_e[m] = -1, -1
    p_s, p_e, _ = field(S_PEER)
    remote = spans[:, 14] >= 0
    p_s[remote], p_e[remote] = spans[remote, 14], spans[remote, 15]
    del val_s, val_e, special
    op, internal = consts.ref(""), consts.ref("internal")
    span_pairs = [(spans[:, 0], spans[:, 1]), (spans[:, 2], spans[:, 3]),
                  (np.where(spans[:, 6] >= 0, spans[:, 6], op[0]), np.where(spans[:, 6] >= 0, spans[:, 7], op[1])),
                  (np.where(spans[:, 8] >= 0, spans[:, 8], internal[0]),
                   np.where(spans[:, 8] >= 0, spans[:, 9], internal[1])),
                  (st_s, st_e), (m_s, m_e), (p_s, p_e), (sc_s, sc_e)]
    # annotations (logs), by the general reader's helper
    rows = np.flatnonzero(spans[:, 16] >= 0)
    anns = [(r, a) for r in rows.tolist() for a in _loads(raw[int(spans[r, 16]):int(spans[r, 17])]) or ()]
    if any(isinstance(a, dict) and "endpoint" in a for _, a in anns):
        raise _Decline()  # v1 annotations carry their endpoint: zipkin_v1.py reads them
    logs = [(r, F.zipkin_annotation(a)) for r, a in anns]
    log_span = np.array([r for r, _ in logs], dtype=np.int64)
    log_ns = np.array([x[0] for _, x in logs], dtype=np.int64)
    log_ev = pa.array([x[1] for _, x in logs], type=pa.large_string())
    log_fields = pa.array([x[2] for _, x in logs], type=pa.large_string())
    # references: the parent (CHILD_OF) of each span that has one
    par = np.flatnonzero(spans[:, 4] >= 0)
    child_of = consts.ref("CHILD_OF")
    ref_pairs = [(np.full(len(par), child_of[0]), np.full(len(par), child_of[1])), (spans[par, 0], spans[par, 1]),
                 (spans[par, 4], spans[par, 5])]
    return frames(b, consts, span_pairs, cols, spans[:, 10] * 1000, spans[:, 11] * 1000, err, proc, spans[:, 20].copy(),
                  (tag_span, key, typ, value), (log_span, log_ns, log_ev, log_fields), par, ref_pairs, pad_ids=True)
