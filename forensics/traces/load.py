"""Load trace exports — Jaeger UI JSON, api_v2 proto-JSON, OTLP JSON (and api_v3), Zipkin v2, JSON Lines.

    >>> ts = load_traces("sample_data/traces/checkout.jaeger.json")
    >>> ts.spans[["service", "operation"]].iloc[0].tolist()
    ['frontend', 'GET /checkout']

Every shape gives the same tables (see :class:`TraceSet`). The shape is
decided from the parsed content, never the file name. The garbage collector
is paused while the JSON is parsed and flattened (a 6–9× win on big files).
"""
from __future__ import annotations

import gc
import io
import json
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

try:
    import orjson
except ImportError:  # a dependency, but the stdlib parser gives the same values, only slower
    orjson = None

from ..artifact import Provenance
from ..errors import ArtifactError
from ..progress import progress
from . import compiled
from . import formats as F
from .columns import arrow_str
from .shapes import read_value
from .source import as_bytes, read_source
from .stream import stream_documents
from .tree import build_tree, untimed_spans as _untimed

PARSER = "forensics.traces"
STREAM_MIN_BYTES = 64 << 20
FLUSH_SPANS = 4096  # JSON Lines: spans kept as Python lists before they become arrays


@dataclass
class TraceSet:
    """Spans of one or more traces, flattened.

    * ``spans`` — one row per span: trace_id, span_id (duplicates renamed ``<id>_1``…),
      raw_span_id, parent_span_id (tree parent as Jaeger UI picks it; NA for roots), service,
      operation, kind, start (UTC), duration, start_us/end_us/duration_us (µs, as Jaeger shows
      them), error, status_code, status_message, peer_service, scope (instrumentation library), host,
      process, depth, is_root, orphan.
    * ``tags`` — long: span (row number in ``spans``), key, type, value (text; int64 > 2^53 and
      base64 binaries kept as given).
    * ``logs`` — span, time, time_us, event, fields (compact JSON of the other fields).
    * ``references`` — span, ref_type (CHILD_OF / FOLLOWS_FROM), ref_trace_id, ref_span_id,
      resolved (target found in the same trace), is_parent (the reference the tree uses).
    * ``processes`` — process, service, key, type, value (resource attributes / process tags).
    * ``orphans`` — spans whose parent is not in the export (promoted to roots, never dropped).
    * ``skew`` — children starting before / ending after their parent (see :func:`tree.clock_skew`).
    """

    spans: pd.DataFrame
    tags: pd.DataFrame
    logs: pd.DataFrame
    references: pd.DataFrame
    processes: pd.DataFrame
    orphans: pd.DataFrame
    skew: pd.DataFrame
    provenance: Provenance
    shapes: list = field(default_factory=list)

    def trace(self, trace_id: str) -> pd.DataFrame:
        """The spans of one trace (prefix of the id is enough)."""
        ids = self.spans["trace_id"]
        m = ids == trace_id
        if not m.any():
            m = ids.str.startswith(trace_id)
        return self.spans[m]

    @property
    def trace_ids(self) -> list[str]:
        return list(pd.unique(self.spans["trace_id"]))


# --------------------------------------------------------------------------- JSON reading

def _decode_error(path, text: str, e: json.JSONDecodeError, what="malformed JSON"):
    return ArtifactError(path, f"line {e.lineno} column {e.colno}", f"{what}: {e.msg}")


_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)


_SPANLIKE = re.compile(r'"(?:startTime|startTimeUnixNano|traceId)"\s*:')


def _salvage(text: str, upto: int):
    """Parse the longest prefix of a cut-off JSON document that ends after a complete span.

    Returns (value, cut position) or None. Scans brackets outside strings and remembers the
    last point where an array element that looks like a span (has a start time) closed, then
    closes every still-open bracket there.
    """
    stack, best = [], None
    for m in _TOKENS.finditer(text, 0, upto):
        tok = m.group()
        if tok[0] == '"':
            continue
        if tok in "[{":
            stack.append((tok, m.start()))
            continue
        if not stack:
            return None
        _open, begin = stack.pop()
        if tok == "}" and stack and stack[-1][0] == "[" and _SPANLIKE.search(text, begin, m.end()):
            best = (m.end(), "".join("]" if c == "[" else "}" for c, _ in reversed(stack)))
    if best is None:
        return None
    cut, closers = best
    try:
        return json.loads(text[:cut] + closers), cut
    except (json.JSONDecodeError, RecursionError):
        return None


def _line_value(line: bytes):
    try:
        return orjson.loads(line) if orjson is not None else json.loads(line)
    except ValueError:
        return json.loads(line)  # NaN, huge integers — and the stdlib's error message


def _json_lines(path, raw: bytes, prov: Provenance):
    """(value, "line N") for each non-blank line, parsed lazily; bad lines are warned about and skipped."""
    bad = 0
    for n, line in enumerate(io.BytesIO(raw), 1):
        if not line.strip():
            continue
        try:
            yield _line_value(line), f"line {n}"
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:
            bad += 1
            if bad <= 20:
                prov.warn(f"line {n}", f"not valid JSON ({getattr(e, 'msg', e)}); line skipped")
            prov.details["skipped_lines"] = bad


def _looks_like_json_lines(raw: bytes) -> bool:
    """At least two of the first non-blank lines, and most of them, are JSON values on their own."""
    good = total = 0
    for line in io.BytesIO(raw[: 64 << 20]):
        if not line.strip():
            continue
        total += 1
        try:
            _line_value(line)
            good += 1
        except (ValueError, RecursionError):
            pass
        if total >= 50:
            break
    return total > 1 and good >= 2 and good * 2 >= total


def _parse(path, raw: bytes, prov: Provenance, stream_min_bytes: int):
    """(iterable of (JSON value, location prefix), several independent records?)."""
    if raw[:3] == b"\xef\xbb\xbf":
        raw = raw[3:]
    if re.match(rb"[ \t\r\n]*\Z", raw):  # (no strip(): that would copy a 1 GB file)
        raise ArtifactError(path, None, "the file is empty")
    if len(raw) >= stream_min_bytes:
        streamed = stream_documents(raw)
        if streamed is not None:
            prov.details["streamed"] = True
            return _streamed(*streamed), False
    if orjson is not None:
        try:
            return [(orjson.loads(raw), "$")], False
        except (orjson.JSONDecodeError, RecursionError):
            pass  # the stdlib parser also takes NaN and huge integers, and says where it broke
    # JSON Lines (OTel Collector file exporter, jaeger-ui .jsonl): one value per line, read lazily.
    if b"\n" in raw[:64 << 20] and _looks_like_json_lines(raw):
        return _json_lines(path, raw, prov), True
    try:  # decoded only now: a 1 GB export would otherwise be held twice
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ArtifactError(path, e.start, "not UTF-8 text, so not a JSON trace export") from None
    try:
        return [(json.loads(text), "$")], False
    except json.JSONDecodeError as e:
        first_err = e
    except RecursionError:
        raise ArtifactError(path, None, "JSON nested too deeply") from None
    if first_err.msg == "Extra data":  # several documents one after another (concatenated JSON)
        docs = _concatenated(text)
        if docs is not None:
            return docs, True
    # A single document cut short: keep every complete span before the cut.
    got = _salvage(text, first_err.pos)
    if got is None:
        raise _decode_error(path, text, first_err)
    prov.details["_decode_error"] = _decode_error(path, text, first_err)
    value, cut = got
    prov.warn(cut, f"JSON ends early ({first_err.msg} at line {first_err.lineno}); "
                   "kept the spans before this point — truncated file?")
    prov.details["truncated_at"] = cut
    return [(value, "$")], False


def _concatenated(text: str):
    """[(value, "value N at line L")] when the text is JSON values one after another and nothing else."""
    dec, i, out = json.JSONDecoder(), 0, []
    ws = re.compile(r"[ \t\r\n]*")
    while True:
        i = ws.match(text, i).end()
        if i >= len(text):
            return out if len(out) > 1 else None
        try:
            value, j = dec.raw_decode(text, i)
        except (json.JSONDecodeError, RecursionError):
            return None
        out.append((value, f"value {len(out) + 1} (line {text.count(chr(10), 0, i) + 1})"))
        i = j


def _streamed(envelope, batches):
    """Documents equivalent to the whole file, one batch of main-array elements at a time."""
    if isinstance(envelope, list):
        for batch in batches:
            yield batch, "$"
        return
    (key,) = [k for k, v in envelope.items() if v == []]
    first = True
    for batch in batches:
        doc = dict(envelope)
        doc[key] = batch
        if not first:
            doc.pop("errors", None)  # report the envelope's errors once
        first = False
        yield doc, "$"


# --------------------------------------------------------------------------- frames

def _str_col(values) -> pd.Series:
    """A pandas ``str`` column from an Arrow ``large_string`` array (no copy) or a list."""
    if not isinstance(values, pa.Array):
        values = arrow_str(values.tolist() if isinstance(values, np.ndarray) else values)
    return values.to_pandas().astype("str")


def _hex_ids(values) -> pd.Series:
    """Lower-case hex ids; a 128-bit id whose high half is zero printed on 16 digits, as Jaeger does."""
    ids = _str_col(pc.utf8_lower(values))
    short = (ids.str.len() == 32) & ids.str.startswith("0" * 16)
    return ids.where(~short, ids.str.slice(16)) if short.any() else ids


def _frames(cols: F.Columns):
    n = cols.n_spans()
    start_ns, dur_ns = cols.column("start_ns"), cols.column("duration_ns")
    start_us = start_ns // 1000
    duration_us = dur_ns // 1000  # Jaeger's OTLP translation: µs = ns // 1000, for start and duration
    proc = cols.column("process")
    proc_host = np.array(cols.proc_host, dtype=object)
    spans = pd.DataFrame({
        "trace_id": _hex_ids(cols.column("trace_id")),
        "span_id": _str_col(pc.utf8_lower(cols.column("span_id"))),
        "service": _str_col(cols.column("service")),
        "operation": _str_col(cols.column("operation")),
        "kind": _str_col(cols.column("kind")),
        "start": pd.to_datetime(start_ns, unit="ns", utc=True),
        "duration": pd.to_timedelta(dur_ns, unit="ns"),
        "start_us": start_us,
        "duration_us": duration_us,
        "end_us": start_us + duration_us,
        "error": cols.column("error"),
        "status_code": _str_col(cols.column("status_code")),
        "status_message": _str_col(cols.column("status_message")),
        "peer_service": _str_col(cols.column("peer_service")),
        "scope": _str_col(cols.column("scope")),
        "host": _str_col(proc_host[proc] if n else []),
        "process": proc,
        "flags": cols.column("flags"),
    })
    tags = pd.DataFrame({"span": cols.column("tag_span"), "key": _str_col(cols.column("tag_key")),
                         "type": _str_col(cols.column("tag_type")), "value": _str_col(cols.column("tag_value"))})
    log_ns = cols.column("log_ns")
    logs = pd.DataFrame({"span": cols.column("log_span"),
                         "time": pd.to_datetime(log_ns, unit="ns", utc=True), "time_us": log_ns // 1000,
                         "event": _str_col(cols.column("log_event")), "fields": _str_col(cols.column("log_fields"))})
    refs = pd.DataFrame({"span": cols.column("ref_span"), "ref_type": _str_col(cols.column("ref_type")),
                         "ref_trace_id": _hex_ids(cols.column("ref_trace")),
                         "ref_span_id": _str_col(pc.utf8_lower(cols.column("ref_id")))})
    return spans, tags, logs, refs, _process_frame(cols)


def _process_frame(cols: F.Columns) -> pd.DataFrame:
    pservice = np.array(cols.proc_service, dtype=object)
    ptag_proc = np.array(cols.ptag_proc, dtype=np.int64)
    return pd.DataFrame({"process": ptag_proc, "service": _str_col(pservice[ptag_proc] if len(ptag_proc) else []),
                         "key": _str_col(cols.ptag_key), "type": _str_col(cols.ptag_type),
                         "value": _str_col(cols.ptag_value)})


class _StreamFailed(Exception):
    pass


def _read_all(path, values, multi, cols, shapes, prov, bar):
    """Flatten every JSON value into ``cols``; a bad record of JSON Lines is skipped with a warning.
    In streamed mode any surprise raises :class:`_StreamFailed` so the caller can start over."""
    streamed = prov.details.get("streamed", False)
    cols.exact_json = streamed  # parsed by orjson slice by slice
    it = iter(values)
    while True:
        try:
            value, where = next(it)
        except StopIteration:
            break
        except (ValueError, RecursionError):  # a streamed batch that does not parse
            if streamed:
                raise _StreamFailed() from None
            raise
        mark = cols.mark() if multi else None
        try:
            read_value(value, cols, where, shapes)
            del value
            # lists -> compact arrays after every slice (JSON Lines: every few thousand spans),
            # between records, so a rollback never reaches flushed rows: what keeps big loads lean
            if streamed or len(cols.span_id) >= FLUSH_SPANS:
                cols.flush()
        except F.Bad as e:
            if streamed:
                raise _StreamFailed() from None
            if multi:
                cols.rollback(mark)  # drop what the bad record had added
                prov.warn(where, f"{e.reason} at {e.location}; record skipped")
                continue
            raise ArtifactError(path, e.location, e.reason) from None
        except ArtifactError as e:  # only cols.flush() raises it (an int64 that does not fit)
            if streamed:
                raise _StreamFailed() from None
            raise ArtifactError(path, e.location, e.reason) from None
        except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as e:
            if streamed:
                raise _StreamFailed() from None
            reason = f"missing field {e}" if isinstance(e, KeyError) else f"unexpected value ({e})"
            if multi:
                cols.rollback(mark)
                prov.warn(where, f"{reason}; record skipped")
                continue
            raise ArtifactError(path, where, f"{reason} in a span") from None
    bar.update(prov.size)


def _general(path, raw, prov, cols, shapes, bar, stream_min_bytes):
    """Every shape, through orjson (slice by slice for big files) and the readers in formats.py."""
    values, multi = _parse(path, raw, prov, stream_min_bytes)
    try:
        _read_all(path, values, multi, cols, shapes, prov, bar)
    except _StreamFailed:  # something unusual inside a big file: read it the plain way
        prov.details.pop("streamed", None)
        cols.__init__()
        shapes.clear()
        values, multi = _parse(path, raw, prov, stream_min_bytes=1 << 62)
        _read_all(path, values, multi, cols, shapes, prov, bar)


def _zipkin_tree(rule: str, shapes) -> bool:
    if rule not in ("auto", "zipkin", "jaeger"):
        raise ValueError(f"shared_rule must be auto, zipkin or jaeger, not {rule!r}")
    return rule == "zipkin" or (rule == "auto" and set(shapes) == {"zipkin"})


def load_traces(path, **options) -> TraceSet:
    """Load any Jaeger / OTLP / Zipkin JSON (or JSON Lines) trace export.

    Options: ``skew_tolerance_us`` (default 0) — slack before a child outside its parent
    counts as clock skew; ``stream_min_bytes`` (default 64 MB) — files at least this big are
    read one slice of traces at a time (see :mod:`forensics.traces.stream`); ``fast`` (default
    True) — Jaeger UI and OTLP JSON go through the compiled scans (:mod:`forensics.traces.compiled`);
    ``shared_rule`` (``auto``/``zipkin``/``jaeger``) — where the children of a shared client/server
    span id go: only those of the server's endpoint (zipkin-lens, the default for Zipkin files) or
    all of them (Jaeger's span-id deduplicator, the default otherwise).

    Raises :class:`ArtifactError` (with a JSON path or line as location) for malformed JSON,
    JSON of another kind, and spans without ids.
    """
    fast_wanted = options.get("fast", True)
    prov, raw, hashing = read_source(path, PARSER, map_big=fast_wanted)
    cols = F.Columns()
    shapes: list[str] = []
    gc_was_enabled = gc.isenabled()
    gc.disable()  # millions of small dicts and lists: the cyclic GC would rescan them over and over
    fast = None
    try:
        got = compiled.read(raw, F.Columns) if fast_wanted else None
        if got is not None:  # Jaeger UI / OTLP JSON: a compiled reader took the file
            fast, shapes, cols = got
            prov.details["reader"] = "compiled scan"
        with progress(prov.size, "reading trace JSON", size_bytes=prov.size) as bar:
            if fast is None:
                raw = as_bytes(raw)  # (a mapped file: orjson and the regexes want bytes)
                _general(path, raw, prov, cols, shapes, bar, int(options.get("stream_min_bytes", STREAM_MIN_BYTES)))
            else:
                bar.update(prov.size)
        del raw
    except RecursionError:
        raise ArtifactError(path, None, "JSON nested too deeply") from None
    finally:
        if gc_was_enabled:
            gc.enable()
    for err in cols.envelope_errors[:20]:
        prov.warn("$.errors", f"the exporting query reported: {err}")
    decode_error = prov.details.pop("_decode_error", None)
    if fast is not None:
        spans, tags, logs, refs = fast
        processes = _process_frame(cols)
    else:
        if cols.n_spans() == 0:
            hashing.join()
            skipped = [w for w in prov.warnings if w.endswith("record skipped")]
            if skipped and decode_error is None:  # JSON Lines none of whose records is a trace export
                raise ArtifactError(path, None, f"none of its {len(skipped):,} JSON records holds spans of a trace "
                                                f"export (first: {skipped[0]})")
            raise decode_error or ArtifactError(path, None, "no spans in this trace export")
        try:
            spans, tags, logs, refs, processes = _frames(cols)
        except ArtifactError as e:
            hashing.join()
            raise ArtifactError(path, e.location, e.reason) from None
    spans, refs, orphans, skew = build_tree(spans, refs, prov, tolerance_us=int(options.get("skew_tolerance_us", 0)),
                                            zipkin=_zipkin_tree(options.get("shared_rule", "auto"), shapes))
    skew = _untimed(spans, skew, prov)
    prov.details.update({"shapes": sorted(set(shapes)), "spans": len(spans),
                         "traces": int(spans["trace_id"].nunique())})
    if prov.format is None:
        prov.format = ", ".join(sorted(set(shapes)))
    hashing.join()  # the SHA-256 of the bytes read, computed on another thread meanwhile
    prov.sha256 = hashing.hexdigest
    for df in (spans, tags, logs, refs, processes, orphans, skew):
        prov.attach(df)
    return TraceSet(spans, tags, logs, refs, processes, orphans, skew, prov, sorted(set(shapes)))
