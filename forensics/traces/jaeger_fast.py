"""Jaeger UI JSON → the loader's tables through the compiled scan (:mod:`jaeger_scan`).

Gives exactly what :func:`formats.read_jaeger_trace` gives (``tests/traces/test_fast_path.py``
compares the two on every Jaeger file we have), without a Python object per span or tag: strings go
from the file's bytes into Arrow buffers, per-span fields (kind, error, status, peer, scope) are
picked from the tags with numpy. Only processes (a few per trace, deduplicated by their text) and
logs (rare) are parsed one by one. Returns ``None`` whenever the scan declines, and the general
reader takes over.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

try:
    import orjson

    _loads = orjson.loads
except ImportError:  # pragma: no cover - a dependency
    _loads = json.loads

from . import formats as F
from .json_bytes import gather_many, hash_ranges, interned_ranges
from .string_take import take_strings
from .tag_rows import last_rows, spans_and_rows
from .jaeger_scan import (K_SPECIAL, S_ERROR, S_KIND, S_LIBRARY, S_MSG, S_PEER, S_SCOPE, S_STATUS, VAL_FALSE,
                          VAL_FLOAT, VAL_NULL, VAL_STR, VAL_TRUE, gather, scan)


class _Decline(Exception):
    pass


class _Consts:
    """A small buffer of constant strings (type names, defaults, service names) that gathered
    columns point into with negative starts (see :func:`jaeger_scan.gather`)."""

    def __init__(self):
        self.buf = bytearray()
        self.at: dict = {}

    def ref(self, text: str):
        got = self.at.get(text)
        if got is None:
            data = text.encode()
            got = self.at[text] = (-2 - len(self.buf), len(self.buf) + len(data))
            self.buf += data
        return got

    def array(self):
        return np.frombuffer(bytes(self.buf) or b"\0", dtype=np.uint8)


def _strings(b, starts, ends, consts=None) -> pa.Array:
    c = consts.array() if consts is not None else np.zeros(1, np.uint8)
    ok, ascii_only, offsets, data, valid = gather(b, np.ascontiguousarray(starts), np.ascontiguousarray(ends), c)
    if not ok:
        raise _Decline()
    n = len(starts)
    bitmap = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    arr = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data), bitmap)
    if not ascii_only:
        try:
            arr.validate(full=True)  # UTF-8 checked in C (pure ASCII needs no check)
        except pa.ArrowInvalid:
            raise _Decline() from None
    return arr


def coded_strings(codes, names) -> pa.Array:
    """A large_string column of ``names[codes]`` (few distinct texts, many rows), written from the codes
    (:func:`string_take.take_strings`)."""
    dictionary = names if isinstance(names, pa.Array) else pa.array(list(names) or [""], type=pa.large_string())
    return take_strings(codes, dictionary)


def _columns(b, pairs, consts=None) -> list:
    """Several string columns gathered in one row-by-row pass: ``pairs`` = [(starts, ends), …]."""
    c = consts.array() if consts is not None else np.zeros(1, np.uint8)
    S = np.empty((len(pairs[0][0]), len(pairs)), dtype=np.int64, order="F")  # column by column: plain copies
    E = np.empty_like(S)
    for k, (starts, ends) in enumerate(pairs):
        S[:, k], E[:, k] = starts, ends
    ok, ascii_only, offsets, data, valid = gather_many(b, S, E, c)
    if not ok:
        raise _Decline()
    del S, E
    buf, n, out = pa.py_buffer(data), len(pairs[0][0]), []
    for k in range(len(pairs)):
        bitmap = None if valid[k].all() else pa.py_buffer(np.packbits(valid[k], bitorder="little"))
        arr = pa.LargeStringArray.from_buffers(n, pa.py_buffer(np.ascontiguousarray(offsets[k])), buf, bitmap)
        if not ascii_only[k]:
            try:
                arr.validate(full=True)
            except pa.ArrowInvalid:
                raise _Decline() from None
        out.append(arr)
    return out


def _last_per_span(span_of_row: np.ndarray, rows: np.ndarray):
    """Of ``rows`` (tag rows in file order), the last one of each span: (spans, rows)."""
    if not len(rows):
        return rows, rows
    sp = span_of_row[rows][::-1]
    uniq, first = np.unique(sp, return_index=True)
    return uniq, rows[::-1][first]


def read(raw: bytes, cols: F.Columns):
    """(spans, tags, logs, refs) tables as :func:`load._frames` builds them — processes go into
    ``cols`` — or None when this reader does not take the document."""
    got = scan(raw)
    if got is None:
        return None
    tables = list(got)
    del got  # _build lets go of each table when done with it (the tags table is the big one)
    try:
        return _build(raw, cols, tables)
    except (_Decline, ValueError, TypeError, KeyError, AttributeError, F.Bad):
        return None


def _text_codes(b, starts, ends):
    """Codes of equal texts among the byte ranges (-1 where start < 0), by two 64-bit hashes: one to
    group, the other to check every group (a collision would give None)."""
    starts, ends = np.ascontiguousarray(starts), np.ascontiguousarray(ends)
    h1, h2 = hash_ranges(b, np.maximum(starts, 0), np.where(starts < 0, 0, ends))
    codes, _uniq = pd.factorize(h1)
    codes = codes.astype(np.int64)
    if len(codes):
        _, first = np.unique(codes, return_index=True)
        if not (h2 == h2[first[codes]]).all():
            return None
    codes[starts < 0] = -1
    return codes


def _processes(raw, cols, procs, span_trace, pid_s, pid_e, b):
    """Process number of every span (``unknown-service`` when its processID is not in its trace)."""
    n = len(span_trace)
    # the same process object repeats in every trace: parse each distinct text once
    text = _text_codes(b, procs[:, 3], procs[:, 4])
    if text is None:
        raise _Decline()
    n_text = int(text.max()) + 1 if len(text) else 0
    _, first = np.unique(text, return_index=True)  # the first entry of each distinct text (codes are 0..n-1)
    unique_no = np.empty(n_text, dtype=np.int64)
    for u in np.argsort(first, kind="stable").tolist():  # first-appearance order, as the general reader numbers them
        k = int(first[u])
        p = _loads(raw[int(procs[k, 3]):int(procs[k, 4])])
        unique_no[u] = (cols.add_process(p.get("serviceName") or "unknown-service",
                                         F._jaeger_kv(p.get("tags"), "$.processes"))
                        if isinstance(p, dict) else -1)
    proc_no = unique_no[text] if len(procs) else np.zeros(0, np.int64)
    # (trace, processID text) of spans and of process entries, matched through one set of codes
    codes = _text_codes(b, np.concatenate([pid_s, procs[:, 1]]).astype(np.int64),
                        np.concatenate([pid_e, procs[:, 2]]).astype(np.int64))
    if codes is None:
        raise _Decline()
    width = int(codes.max()) + 3 if len(codes) else 2
    span_key = span_trace * width + codes[:n] + 1
    proc_key = procs[:, 0].astype(np.int64) * width + codes[n:] + 1
    keep = (proc_no >= 0) & (codes[n:] >= 0)
    table = pd.Series(proc_no[keep], index=proc_key[keep])
    table = table[~table.index.duplicated(keep="last")]  # a repeated key: the later entry, as a dict would
    out = table.reindex(span_key).to_numpy(dtype=float).copy()
    out[codes[:n] < 0] = np.nan  # no processID
    missing = np.isnan(out)
    if missing.any():
        out[missing] = cols.add_process("unknown-service", ())
    return out.astype(np.int64)


def _logs(raw, logs):
    cache: dict = {}
    events, fields = [], []
    for _s, _ts, fs, fe in logs:
        text = raw[fs:fe] if fs >= 0 else b"[]"
        hit = cache.get(text)
        if hit is None:
            ev, fl = None, {}
            for kv in _loads(text) or ():
                if kv["key"] == "event" and ev is None:
                    ev = str(kv.get("value"))
                else:
                    fl[kv["key"]] = kv.get("value")
            hit = cache[text] = (ev, F._fields_json(fl))
        events.append(hit[0])
        fields.append(hit[1])
    return pa.array(events, type=pa.large_string()), pa.array(fields, type=pa.large_string())


_INFERRED = ("string", "int64", "float64", "bool", "bool", "string")  # a tag's type by its value's kind (VAL_*)


def _key_and_type(b, tags, kind, has_type, interned, consts):
    """The tags' key and type columns: decoded from the codes the scan interned them under (one copy of
    each distinct text), or gathered byte by byte when the intern table overflowed."""
    key_code, type_code = tags[:, 9], tags[:, 10]
    starts, ends = interned_ranges(interned)
    if (key_code >= 0).all() and (type_code[has_type] >= 0).all():
        texts = _strings(b, starts, ends)
        dictionary = pa.concat_arrays([texts, pa.array(_INFERRED, type=pa.large_string())])
        typ = np.where(has_type, type_code, len(texts) + kind)
        return coded_strings(key_code, dictionary), coded_strings(typ, dictionary)
    names = [consts.ref(t) for t in _INFERRED]
    inf_s = np.array([x[0] for x in names], dtype=tags.dtype)[kind]
    inf_e = np.array([x[1] for x in names], dtype=tags.dtype)[kind]
    typ_s, typ_e = np.where(has_type, tags[:, 3], inf_s), np.where(has_type, tags[:, 4], inf_e)
    return _strings(b, tags[:, 1], tags[:, 2]), _strings(b, typ_s, typ_e, consts)


def _build(raw, cols, tables):
    traces, spans, tags, logs, refs, procs, interned = tables
    tables.clear()
    b = np.frombuffer(raw, dtype=np.uint8)
    n = len(spans)
    span_trace = spans[:, 0]
    proc = _processes(raw, cols, procs, span_trace, spans[:, 7], spans[:, 8], b)
    consts = _Consts()
    # tags: key, type (given, else from the value; booleans are always "bool"), value as text
    tag_span, kind, special = tags[:, 0].astype(np.int64), tags[:, 7], tags[:, 8]
    if ((special >= 0) & (kind == VAL_FLOAT)).any():
        raise _Decline()  # a float where the loader reads a name: the general reader's repr() decides
    has_type = (tags[:, 3] >= 0) & (kind != VAL_TRUE) & (kind != VAL_FALSE)
    val_s, val_e = tags[:, 5].copy(), tags[:, 6].copy()
    for k, text in ((VAL_TRUE, "true"), (VAL_FALSE, "false"), (VAL_NULL, "")):
        m = kind == k
        val_s[m], val_e[m] = consts.ref(text)
    fl = np.flatnonzero(kind == VAL_FLOAT)
    if len(fl):  # as the general reader writes floats: repr(float)
        for r in fl:
            val_s[r], val_e[r] = consts.ref(repr(float(raw[tags[r, 5]:tags[r, 6]])))
    key, typ = _key_and_type(b, tags, kind, has_type, interned, consts)
    value = _strings(b, val_s, val_e, consts)
    del has_type

    last = last_rows(tag_span, special, n, len(K_SPECIAL))

    def field(*codes, default=None):
        """(start, end) per span of the last tag with one of these keys, else ``default``."""
        sp, rows = spans_and_rows(last, *codes)
        d = consts.ref(default) if default is not None else (-1, -1)
        s_, e_ = np.full(n, d[0], dtype=np.int64), np.full(n, d[1], dtype=np.int64)
        s_[sp], e_[sp] = val_s[rows], val_e[rows]
        return s_, e_, sp, rows

    k_s, k_e, _, _ = field(S_KIND, default="internal")
    _, _, e_sp, e_rows = field(S_ERROR)
    err = np.zeros(n, dtype=bool)
    if len(e_rows):
        es, ee = val_s[e_rows], val_e[e_rows]
        word = (kind[e_rows] == VAL_STR) & (ee - es == 4)
        w = np.flatnonzero(word)
        word[w] = ((b[es[w]] == 116) & (b[es[w] + 1] == 114) & (b[es[w] + 2] == 117) & (b[es[w] + 3] == 101))
        err[e_sp] = (kind[e_rows] == VAL_TRUE) | word
    st_s, st_e, st_sp, _ = field(S_STATUS)
    no_status = st_s == -1
    for flag, text in ((True, "ERROR"), (False, "UNSET")):
        m = no_status & (err == flag)
        st_s[m], st_e[m] = consts.ref(text)
    m_s, m_e, _, _ = field(S_MSG)
    p_s, p_e, _, _ = field(S_PEER)
    sc_s, sc_e, _, _ = field(S_SCOPE, S_LIBRARY)
    del tags, val_s, val_e, special, kind, last  # the biggest table: gone before the span columns are gathered
    # service and host from the processes
    # logs
    log_ev, log_fields = _logs(raw, logs)
    # references; a span without any but with parentSpanID gets a CHILD_OF to it
    no_refs = np.flatnonzero((spans[:, 17] == 0) & (spans[:, 18] >= 0) & (spans[:, 19] > spans[:, 18]))
    r_span = np.concatenate([refs[:, 0].astype(np.int64), no_refs])
    order = np.argsort(r_span, kind="stable")
    child_of = consts.ref("CHILD_OF")
    rt_s = np.concatenate([np.where(refs[:, 1] >= 0, refs[:, 1], child_of[0]), np.full(len(no_refs), child_of[0])])
    rt_e = np.concatenate([np.where(refs[:, 1] >= 0, refs[:, 2], child_of[1]), np.full(len(no_refs), child_of[1])])
    own_s, own_e = spans[r_span, 1], spans[r_span, 2]
    given_s = np.concatenate([refs[:, 3], np.full(len(no_refs), -1)])
    given_e = np.concatenate([refs[:, 4], np.full(len(no_refs), -1)])
    rtr_s, rtr_e = np.where(given_s >= 0, given_s, own_s), np.where(given_s >= 0, given_e, own_e)
    rid_s = np.concatenate([refs[:, 5], spans[no_refs, 18]])
    rid_e = np.concatenate([refs[:, 6], spans[no_refs, 19]])
    start_ns, dur_ns = spans[:, 9] * 1000, spans[:, 10] * 1000
    op = consts.ref("")
    span_pairs = [(spans[:, 1], spans[:, 2]), (spans[:, 3], spans[:, 4]),
                  (np.where(spans[:, 5] >= 0, spans[:, 5], op[0]), np.where(spans[:, 5] >= 0, spans[:, 6], op[1])),
                  (k_s, k_e), (st_s, st_e), (m_s, m_e), (p_s, p_e), (sc_s, sc_e)]
    ref_pairs = [(rt_s[order], rt_e[order]), (rtr_s[order], rtr_e[order]), (rid_s[order], rid_e[order])]
    return frames(b, consts, span_pairs, cols, start_ns, dur_ns, err, proc, spans[:, 11].copy(), (tag_span, key, typ, value),
                  (logs[:, 0].copy(), logs[:, 1] * 1000, log_ev, log_fields), r_span[order], ref_pairs)


def frames(b, consts, span_pairs, cols, start_ns, dur_ns, err, proc, flags, tags, logs, ref_span, ref_pairs,
           pad_ids=False):
    """The loader's (spans, tags, logs, references) tables, as :func:`load._frames` builds them, from byte
    ranges of the compiled readers: ``span_pairs`` = (starts, ends) of trace id, span id, operation, kind,
    status code, status message, peer service, scope; service and host come from the span's process
    (``proc`` into ``cols``' process lists, decoded as a dictionary); ``tags`` = (span, key, type,
    value); ``logs`` = (span, time ns, event, fields); ``ref_pairs`` = ranges of type, trace id, span id;
    ``pad_ids``: span ids zero-padded to 16 digits (Zipkin's rule)."""
    from .load import _hex_ids, _str_col  # (load imports this module lazily)

    start_us, duration_us = start_ns // 1000, dur_ns // 1000
    tid, sid, operation, span_kind, status, msg, peer, scope = _columns(b, span_pairs, consts)
    service, host = coded_strings(proc, cols.proc_service), coded_strings(proc, cols.proc_host)
    r_type, r_trace, r_id = _columns(b, ref_pairs, consts)
    sid, r_id = pc.utf8_lower(sid), pc.utf8_lower(r_id)
    if pad_ids:
        sid, r_id = pc.utf8_lpad(sid, width=16, padding="0"), pc.utf8_lpad(r_id, width=16, padding="0")
    sp = pd.DataFrame({
        "trace_id": _hex_ids(tid),
        "span_id": _str_col(sid),
        "service": _str_col(service),
        "operation": _str_col(operation),
        "kind": _str_col(pc.utf8_lower(span_kind)),
        "start": pd.to_datetime(start_ns, unit="ns", utc=True),
        "duration": pd.to_timedelta(dur_ns, unit="ns"),
        "start_us": start_us,
        "duration_us": duration_us,
        "end_us": start_us + duration_us,
        "error": err,
        "status_code": _str_col(pc.utf8_upper(status)),
        "status_message": _str_col(msg),
        "peer_service": _str_col(peer),
        "scope": _str_col(scope),
        "host": _str_col(host),
        "process": proc,
        "flags": flags,
    })
    tag_span, key, typ, value = tags
    tg = pd.DataFrame({"span": tag_span, "key": _str_col(key), "type": _str_col(typ), "value": _str_col(value)})
    log_span, log_ns, log_ev, log_fields = logs
    lg = pd.DataFrame({"span": log_span, "time": pd.to_datetime(log_ns, unit="ns", utc=True),
                       "time_us": log_ns // 1000, "event": _str_col(log_ev), "fields": _str_col(log_fields)})
    rf = pd.DataFrame({"span": ref_span,
                       "ref_type": _str_col(r_type), "ref_trace_id": _hex_ids(r_trace),
                       "ref_span_id": _str_col(r_id)})
    return sp, tg, lg, rf
