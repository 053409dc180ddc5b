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
from .jaeger_scan import VAL_FALSE, VAL_FLOAT, VAL_INT, VAL_NULL, VAL_STR, VAL_TRUE, gather, scan


class _Decline(Exception):
    pass


def _strings(b, starts, ends) -> pa.Array:
    ok, offsets, data, valid = gather(b, np.ascontiguousarray(starts), np.ascontiguousarray(ends))
    if not ok:
        raise _Decline()
    n = len(starts)
    bitmap = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    arr = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data), bitmap)
    try:
        arr.validate(full=True)  # UTF-8 checked once, in C
    except pa.ArrowInvalid:
        raise _Decline() from None
    return arr


def _last_per_span(span_of_row: np.ndarray, rows: np.ndarray):
    """Of ``rows`` (tag rows in file order), the last one of each span: (spans, rows)."""
    if not len(rows):
        return rows, rows
    sp = span_of_row[rows][::-1]
    uniq, first = np.unique(sp, return_index=True)
    return uniq, rows[::-1][first]


def _pick(n, spans_idx, values, fill=None) -> pa.Array:
    out = np.full(n, None, dtype=object)
    if len(spans_idx):
        out[spans_idx] = np.asarray(values.to_pylist() if isinstance(values, pa.Array) else values, dtype=object)
    if fill is not None:
        out[out == None] = fill  # noqa: E711
    return pa.array(out, type=pa.large_string())


def read(raw: bytes, cols: F.Columns):
    """(spans, tags, logs, refs) tables as :func:`load._frames` builds them — processes go into
    ``cols`` — or None when this reader does not take the document."""
    got = scan(raw)
    if got is None:
        return None
    try:
        return _build(raw, cols, *got)
    except (_Decline, ValueError, TypeError, KeyError, AttributeError, F.Bad):
        return None


def _processes(raw, cols, procs, span_trace, pid_s, pid_e, b):
    """Process number of every span (``unknown-service`` when its processID is not in its trace)."""
    n = len(span_trace)
    cache: dict = {}
    proc_no = np.empty(len(procs), dtype=np.int64)
    for k, (_t, _ks, _ke, os_, oe) in enumerate(procs):
        text = raw[os_:oe]
        pid = cache.get(text)
        if pid is None:
            p = _loads(text)
            if not isinstance(p, dict):
                pid = -1
            else:
                pid = cols.add_process(p.get("serviceName") or "unknown-service",
                                       F._jaeger_kv(p.get("tags"), "$.processes"))
            cache[text] = pid
        proc_no[k] = pid
    # (trace, processID text) of spans and of process entries, matched through one dictionary
    keys = pa.concat_arrays([_strings(b, pid_s, pid_e), _strings(b, procs[:, 1], procs[:, 2])]).dictionary_encode()
    codes = keys.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    codes = np.where(pc.is_null(keys).to_numpy(zero_copy_only=False), -1, codes)
    width = len(keys.dictionary) + 2
    span_key = span_trace * width + codes[:n] + 1
    proc_key = procs[:, 0] * width + codes[n:] + 1
    keep = (proc_no >= 0) & (codes[n:] >= 0)
    table = pd.Series(proc_no[keep], index=proc_key[keep])
    table = table[~table.index.duplicated(keep="last")]  # a repeated key: the later entry, as a dict would
    out = table.reindex(span_key).to_numpy(dtype=float).copy()
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


def _build(raw, cols, traces, spans, tags, logs, refs, procs):
    b = np.frombuffer(raw, dtype=np.uint8)
    n = len(spans)
    span_trace = spans[:, 0]
    proc = _processes(raw, cols, procs, span_trace, spans[:, 7], spans[:, 8], b)
    # tags: key, type (given, else from the value; booleans are always "bool"), value as text
    tag_span = tags[:, 0]
    kind = tags[:, 7]
    key = _strings(b, tags[:, 1], tags[:, 2]).dictionary_encode()
    given = _strings(b, tags[:, 3], tags[:, 4])
    inferred = pa.array(np.array(["string", "int64", "float64", "bool", "bool", "string"], dtype=object)[kind],
                        type=pa.large_string())
    is_bool = pa.array((kind == VAL_TRUE) | (kind == VAL_FALSE))
    typ = pc.if_else(is_bool, pa.scalar("bool", pa.large_string()), pc.coalesce(given, inferred))
    vs = np.where((kind == VAL_STR) | (kind == VAL_INT), tags[:, 5], -1)
    value = _strings(b, vs, tags[:, 6])
    fixed = np.full(len(tags), None, dtype=object)
    fixed[kind == VAL_TRUE], fixed[kind == VAL_FALSE], fixed[kind == VAL_NULL] = "true", "false", ""
    fl = np.flatnonzero(kind == VAL_FLOAT)
    fixed[fl] = [repr(float(raw[s:e])) for s, e in zip(tags[fl, 5], tags[fl, 6])]
    if len(fl) or (kind >= VAL_TRUE).any():
        value = pc.coalesce(value, pa.array(fixed, type=pa.large_string()))
    # per-span fields from the special tags (the last one wins, as in the general reader)
    kcode = {k: i for i, k in enumerate(key.dictionary.to_pylist())}
    kcodes = key.indices.to_numpy(zero_copy_only=False)

    def rows_of(*names):
        wanted = [kcode[k] for k in names if k in kcode]
        return np.flatnonzero(np.isin(kcodes, wanted)) if wanted else np.zeros(0, np.int64)

    def take(names, fn=None):
        sp, rows = _last_per_span(tag_span, rows_of(*names))
        vals = value.take(pa.array(rows)) if len(rows) else pa.array([], pa.large_string())
        return sp, (fn(vals) if fn else vals), rows

    k_sp, k_val, _ = take(["span.kind"], pc.utf8_lower)
    span_kind = _pick(n, k_sp, k_val, fill="internal")
    e_sp, e_val, e_rows = take(["error"])
    err = np.zeros(n, dtype=bool)
    if len(e_rows):
        err[e_sp] = (kind[e_rows] == VAL_TRUE) | ((kind[e_rows] == VAL_STR) & (np.asarray(e_val.to_pylist(), dtype=object) == "true"))
    st_sp, st_val, _ = take(["otel.status_code"], pc.utf8_upper)
    status = _pick(n, st_sp, st_val)
    status = pc.coalesce(status, pc.if_else(pa.array(err), pa.scalar("ERROR", pa.large_string()),
                                            pa.scalar("UNSET", pa.large_string())))
    m_sp, m_val, _ = take(["otel.status_description"])
    p_sp, p_val, _ = take(["peer.service"])
    s_sp, s_val, _ = take(["otel.scope.name", "otel.library.name"])
    # logs
    log_ev, log_fields = _logs(raw, logs)
    # references; a span without any but with parentSpanID gets a CHILD_OF to it
    tid = _strings(b, spans[:, 1], spans[:, 2])
    sid = _strings(b, spans[:, 3], spans[:, 4])
    no_refs = np.flatnonzero((spans[:, 17] == 0) & (spans[:, 18] >= 0) & (spans[:, 19] > spans[:, 18]))
    r_span = np.concatenate([refs[:, 0], no_refs])
    order = np.argsort(r_span, kind="stable")
    r_type = pc.fill_null(pa.concat_arrays([_strings(b, refs[:, 1], refs[:, 2]),
                                            pa.nulls(len(no_refs), pa.large_string())]), "CHILD_OF").take(pa.array(order))
    r_trace = pc.coalesce(pa.concat_arrays([_strings(b, refs[:, 3], refs[:, 4]), pa.nulls(len(no_refs), pa.large_string())]),
                          tid.take(pa.array(r_span))).take(pa.array(order))
    r_id = pa.concat_arrays([_strings(b, refs[:, 5], refs[:, 6]), _strings(b, spans[no_refs, 18], spans[no_refs, 19])]
                            ).take(pa.array(order))
    r_span = r_span[order]
    from .load import _hex_ids, _str_col  # (load imports this module lazily)

    start_ns, dur_ns = spans[:, 9] * 1000, spans[:, 10] * 1000
    start_us, duration_us = start_ns // 1000, dur_ns // 1000
    service = pa.DictionaryArray.from_arrays(pa.array(proc), pa.array(cols.proc_service, pa.large_string()))
    host = pa.DictionaryArray.from_arrays(pa.array(proc), pa.array(cols.proc_host, pa.large_string()))
    sp = pd.DataFrame({
        "trace_id": _hex_ids(tid),
        "span_id": _str_col(pc.utf8_lower(sid)),
        "service": _str_col(service.cast(pa.large_string())),
        "operation": _str_col(pc.fill_null(_strings(b, spans[:, 5], spans[:, 6]), "")),
        "kind": _str_col(span_kind),
        "start": pd.to_datetime(start_ns, unit="ns", utc=True),
        "duration": pd.to_timedelta(dur_ns, unit="ns"),
        "start_us": start_us,
        "duration_us": duration_us,
        "end_us": start_us + duration_us,
        "error": err,
        "status_code": _str_col(status),
        "status_message": _str_col(_pick(n, m_sp, m_val)),
        "peer_service": _str_col(_pick(n, p_sp, p_val)),
        "scope": _str_col(_pick(n, s_sp, s_val)),
        "host": _str_col(host.cast(pa.large_string())),
        "process": proc,
        "flags": spans[:, 11].copy(),
    })
    tg = pd.DataFrame({"span": tag_span.copy(), "key": _str_col(key.cast(pa.large_string())),
                       "type": _str_col(typ), "value": _str_col(value)})
    log_ns = logs[:, 1] * 1000
    lg = pd.DataFrame({"span": logs[:, 0].copy(), "time": pd.to_datetime(log_ns, unit="ns", utc=True),
                       "time_us": log_ns // 1000, "event": _str_col(log_ev), "fields": _str_col(log_fields)})
    rf = pd.DataFrame({"span": r_span, "ref_type": _str_col(r_type), "ref_trace_id": _hex_ids(r_trace),
                       "ref_span_id": _str_col(pc.utf8_lower(r_id))})
    return sp, tg, lg, rf
