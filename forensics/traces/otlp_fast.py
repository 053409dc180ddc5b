"""OTLP JSON (and JSON Lines of it) → the loader's tables through the compiled scan (:mod:`otlp_scan`).

Gives exactly what :func:`formats.read_otlp` gives (``tests/traces/test_fast_path.py`` compares the two
on every OTLP file we have), sharing the Jaeger reader's string gathering and frame building
(:mod:`jaeger_fast`). Resources (one per ``resourceSpans``, repeated texts parsed once), events, links and
the rare values that need Python's rules (doubles, arrays, key-value lists) go through the same helpers
as the general reader (``formats.otlp_resource`` / ``otlp_event`` / ``otlp_link`` / ``otlp_value``).
Returns None whenever the scan declines, and the general reader takes over.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from . import formats as F
from .jaeger_fast import _Consts, _Decline, _last_per_span, _loads, _strings, _text_codes, coded_strings, frames
from .jaeger_scan import S_PEER
from .otlp_scan import A_EMPTY, A_FALSE, A_PY, A_TRUE, scan
from .source import count_newlines

_KINDS = ("internal", "internal", "server", "client", "producer", "consumer", "internal")
_STATUS = ("UNSET", "OK", "ERROR")


def read(raw: bytes, cols: F.Columns):
    """((spans, tags, logs, refs), number of documents) — processes go into ``cols`` — or None."""
    got = scan(raw)
    if got is None:
        return None
    docs = got[0]
    if len(docs) > 1 and not one_per_line(raw, docs):
        return None
    try:
        return _build(raw, cols, *got[1:]), len(docs)
    except (_Decline, ValueError, TypeError, KeyError, AttributeError, IndexError, F.Bad):
        return None


def one_per_line(raw: bytes, docs) -> bool:
    """JSON Lines as the general reader reads them, a line at a time: each document on a line of its own —
    every newline of the file lies between documents, and one at least between two (one C pass, plus the
    short gaps)."""
    gaps = [(int(docs[k, 1]), int(docs[k + 1, 0])) for k in range(len(docs) - 1)]
    between = count_newlines(raw, 0, int(docs[0, 0])) + count_newlines(raw, int(docs[-1, 1]))
    counts = [count_newlines(raw, s, e) for s, e in gaps]
    return count_newlines(raw) == between + sum(counts) and all(counts)


def _resources(raw, cols, res, b):
    """Process number and service name of every resourceSpans element, in file order."""
    codes = _text_codes(b, res[:, 0], res[:, 1])
    if codes is None:
        raise _Decline()
    known: dict = {}
    proc = np.empty(len(res), dtype=np.int64)
    service = []
    for k in range(len(res)):  # (one per resourceSpans: a few per trace at most)
        c = int(codes[k])
        hit = known.get(c)
        if hit is None:
            resource = _loads(raw[int(res[k, 0]):int(res[k, 1])]) if c >= 0 else None
            svc, attrs = F.otlp_resource(resource)
            hit = known[c] = (cols.add_process(svc, attrs), svc)
        proc[k] = hit[0]
        service.append(hit[1])
    return proc, service


def _python_rows(raw, spans, col, convert):
    """Parse the JSON text at spans[:, col:col+2] of the spans having it; (span, item) pairs in order."""
    rows = np.flatnonzero(spans[:, col] >= 0)
    out = []
    for r in rows.tolist():
        for item in _loads(raw[int(spans[r, col]):int(spans[r, col + 1])]) or ():
            out.append((r, convert(item, r)))
    return out


def _build(raw, cols, res, scopes, spans, attrs):
    b = np.frombuffer(raw, dtype=np.uint8)
    n = len(spans)
    if n == 0:
        raise _Decline()  # no spans: the general reader says so
    proc_of_res, _services = _resources(raw, cols, res, b)
    consts = _Consts()
    # attributes → tags: type by value kind, text from the bytes (or from otlp_value for A_PY)
    vkind = attrs[:, 3].astype(np.int64)
    type_names = ["string", "int64", "float64", "bool", "binary"]
    of_kind = np.array([0, 1, -1, 3, 3, 0, 4], dtype=np.int32)  # A_STR, A_INT, A_PY, A_TRUE, A_FALSE, A_EMPTY, A_BYTES
    typ_code = of_kind[vkind]
    val_s, val_e = attrs[:, 4].astype(np.int64), attrs[:, 5].astype(np.int64)
    for k, text in ((A_TRUE, "true"), (A_FALSE, "false"), (A_EMPTY, "")):
        m = vkind == k
        val_s[m], val_e[m] = consts.ref(text)
    for r in np.flatnonzero(vkind == A_PY).tolist():
        typ, text, _ = F.otlp_value(_loads(raw[int(attrs[r, 4]):int(attrs[r, 5])]))
        if typ not in type_names:
            type_names.append(typ)
        typ_code[r] = type_names.index(typ)
        val_s[r], val_e[r] = consts.ref(text)
    tag_span = attrs[:, 0].astype(np.int64)
    key, typ, value = (_strings(b, attrs[:, 1], attrs[:, 2]), coded_strings(typ_code, type_names),
                       _strings(b, val_s, val_e, consts))
    # peer.service: the last such attribute of the span
    p_sp, p_rows = _last_per_span(tag_span, np.flatnonzero(attrs[:, 6] == S_PEER))
    p_s, p_e = np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64)
    p_s[p_sp], p_e[p_sp] = val_s[p_rows], val_e[p_rows]
    del val_s, val_e, vkind, typ_code
    # kind: the OTLP number, or a name as the general reader maps it
    kind_code = spans[:, 10]
    k_s, k_e = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    for code, name in enumerate(_KINDS):
        m = kind_code == code
        k_s[m], k_e[m] = consts.ref(name)
    m = kind_code == -1
    k_s[m], k_e[m] = consts.ref("internal")
    named = np.flatnonzero(kind_code == 7)
    if len(named):
        texts = _strings(b, spans[named, 11], spans[named, 12]).to_pylist()
        for r, t in zip(named.tolist(), texts):
            k_s[r], k_e[r] = consts.ref(F._OTLP_KIND_STR.get(t, t.lower()) or "internal")
    status = spans[:, 17]
    st_s, st_e = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    for code, name in enumerate(_STATUS):
        m = status == code
        st_s[m], st_e[m] = consts.ref(name)
    err = status == 2
    # times: end = the given end when truthy, else the start
    start_ns = spans[:, 13].copy()
    dur_ns = np.where(spans[:, 15] == 1, spans[:, 14], start_ns) - start_ns
    # service, host, scope, operation
    proc = proc_of_res[spans[:, 0]]
    sc = spans[:, 1]
    op = consts.ref("")
    span_pairs = [(spans[:, 2], spans[:, 3]), (spans[:, 4], spans[:, 5]),
                  (np.where(spans[:, 8] >= 0, spans[:, 8], op[0]), np.where(spans[:, 8] >= 0, spans[:, 9], op[1])),
                  (k_s, k_e), (st_s, st_e), (spans[:, 18], spans[:, 19]), (p_s, p_e),
                  (scopes[sc, 0], scopes[sc, 1])]
    # events (logs) and links, parsed by the general reader's helpers
    events = _python_rows(raw, spans, 20, lambda ev, r: F.otlp_event(ev))
    log_span = np.array([r for r, _ in events], dtype=np.int64)
    log_ns = np.array([e[0] for _, e in events], dtype=np.int64)
    log_ev = pa.array([e[1] for _, e in events], type=pa.large_string())
    log_fields = pa.array([e[2] for _, e in events], type=pa.large_string())
    tids = {}

    def link(ln, r):
        if r not in tids:
            tids[r] = F._otlp_hex(raw[int(spans[r, 2]):int(spans[r, 3])].decode())
        return F.otlp_link(ln, tids[r])

    links = _python_rows(raw, spans, 22, link)
    # references: the parent (CHILD_OF) first, then the links, per span
    par = np.flatnonzero(spans[:, 6] >= 0)
    child_of = consts.ref("CHILD_OF")
    l_span = np.array([r for r, _ in links], dtype=np.int64)
    l_refs = np.array([consts.ref(x) for _, t in links for x in t], dtype=np.int64).reshape(-1, 6)
    r_span = np.concatenate([par, l_span])
    order = np.argsort(r_span, kind="stable")
    pairs = [(np.concatenate([np.full(len(par), child_of[0]), l_refs[:, 0]]),
              np.concatenate([np.full(len(par), child_of[1]), l_refs[:, 1]])),
             (np.concatenate([spans[par, 2], l_refs[:, 2]]), np.concatenate([spans[par, 3], l_refs[:, 3]])),
             (np.concatenate([spans[par, 6], l_refs[:, 4]]), np.concatenate([spans[par, 7], l_refs[:, 5]]))]
    ref_pairs = [(s_[order], e_[order]) for s_, e_ in pairs]
    return frames(b, consts, span_pairs, cols, start_ns, dur_ns, err, proc, spans[:, 16].copy(),
                  (tag_span, key, typ, value), (log_span, log_ns, log_ev, log_fields), r_span[order], ref_pairs)
