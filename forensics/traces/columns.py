"""Column builder for the trace readers: Python lists while a slice is read, compact arrays after.

The readers in :mod:`formats` append to plain lists (the cheapest thing CPython can do per value).
Holding 7.7 M tags as Python strings and ints is what used to take ~4.6 GB for a 1M-span export,
so a streamed load calls :meth:`Columns.flush` after every slice: the lists become numpy / Arrow
chunks and are emptied. Tag keys and types — a few dozen distinct strings repeated millions of
times — are interned: the lists hold small integer codes, and the text is rebuilt once at the end
from an Arrow dictionary.

Row numbers stored while reading (``tag_span``, ``log_span``, ``ref_span``) are local to the
current slice (``row = len(cols.span_id)``); :meth:`flush` adds the number of spans already
flushed, so the readers never need to know.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..errors import ArtifactError

# Tag keys the readers look at; they get the codes 0..6 so a reader tests ``code < N_SPECIAL``.
SPECIAL_KEYS = ("span.kind", "error", "otel.status_code", "otel.status_description", "peer.service",
                "otel.scope.name", "otel.library.name")
N_SPECIAL = len(SPECIAL_KEYS)

_SPAN_STR = ("trace_id", "span_id", "service", "operation", "kind", "status_code", "status_message",
             "peer_service", "scope")
_I64 = {"start_ns": "span", "duration_ns": "span", "flags": "span", "log_ns": "log"}
_INT = ("process",)
_BOOL = ("error",)
_ROWS = ("tag_span", "log_span", "ref_span")
_OTHER_STR = ("tag_value", "log_event", "log_fields", "ref_type", "ref_trace", "ref_id")
_CODED = {"tag_key": "keys", "tag_type": "types"}
CHUNKED = _SPAN_STR + tuple(_I64) + _INT + _BOOL + _ROWS + _OTHER_STR + tuple(_CODED)


class Codes:
    """Interns values: ``index[text] -> code`` for strings (the readers' fast path looks there
    directly), a separate table for other JSON values so ``1``, ``1.0`` and ``True`` stay apart."""

    def __init__(self, preset=()):
        self.index: dict = {}
        self.other: dict = {}
        self.values: list = []
        for v in preset:
            self.code(v)

    def code(self, value) -> int:
        if type(value) is str:
            c = self.index.get(value)
            if c is None:
                c = self.index[value] = len(self.values)
                self.values.append(value)
            return c
        k = (type(value), value)
        try:
            c = self.other.get(k)
        except TypeError:  # a list or object: keyed by the text it will show as
            k = (type(value), str(value))
            c = self.other.get(k)
        if c is None:
            c = self.other[k] = len(self.values)
            self.values.append(value)
        return c


def arrow_str(values) -> pa.Array:
    """Arrow ``large_string`` of a list; non-strings become ``str(v)``, ``None`` stays null."""
    try:
        return pa.array(values, type=pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values], type=pa.large_string())


def i64(values, what: str, offset: int = 0) -> np.ndarray:
    """int64 array of ``values``; ArtifactError naming the first value that does not fit."""
    try:
        return np.fromiter(values, dtype=np.int64, count=len(values))
    except OverflowError:
        i = next(k for k, v in enumerate(values) if not -(1 << 63) <= v < (1 << 63))
        raise ArtifactError(None, f"{what} {offset + i + 1:,}",
                            f"{what} value {values[i]} does not fit in 64 bits") from None


class Columns:
    """Column lists for spans, tags, logs, references and processes (see the module docstring)."""

    def __init__(self):
        # spans
        self.trace_id, self.span_id, self.service, self.operation, self.kind = [], [], [], [], []
        self.start_ns, self.duration_ns, self.error, self.status_code, self.status_message = [], [], [], [], []
        self.process, self.peer_service, self.flags, self.scope = [], [], [], []
        # tags (long); key and type as codes into self.keys / self.types
        self.tag_span, self.tag_key, self.tag_type, self.tag_value = [], [], [], []
        self.keys, self.types = Codes(SPECIAL_KEYS), Codes(("string", "int64", "float64", "bool", "binary"))
        # logs / events
        self.log_span, self.log_ns, self.log_event, self.log_fields = [], [], [], []
        # references: order kept, parent first
        self.ref_span, self.ref_type, self.ref_trace, self.ref_id = [], [], [], []
        # processes (deduplicated; never flushed: a few per trace at most)
        self.proc_service, self.proc_host, self.proc_ip = [], [], []
        self.ptag_proc, self.ptag_key, self.ptag_type, self.ptag_value = [], [], [], []
        self.proc_cache: dict = {}
        self.raw_proc_cache: dict = {}  # serialized process object -> number, when exact_json
        self.exact_json = False  # parsed by orjson (no NaN): serialized objects compare exactly
        self.envelope_errors: list = []  # "errors" of an /api/traces response
        self._chunks: dict = {name: [] for name in CHUNKED}
        self._flushed = {"span": 0, "log": 0}

    def n_spans(self) -> int:
        return self._flushed["span"] + len(self.span_id)

    def add_tag(self, row: int, key, typ, text) -> None:
        self.tag_span.append(row)
        self.tag_key.append(self.keys.code(key))
        self.tag_type.append(self.types.code(typ))
        self.tag_value.append(text)

    def mark(self) -> dict:
        """Lengths of every column list, to undo a record that fails half-way (see :meth:`rollback`)."""
        return {k: len(v) for k, v in vars(self).items() if isinstance(v, list)}

    def rollback(self, mark: dict) -> None:
        for k, n in mark.items():
            del getattr(self, k)[n:]
        n_proc = mark["proc_service"]
        self.proc_cache = {key: pid for key, pid in self.proc_cache.items() if pid < n_proc}
        self.raw_proc_cache = {key: pid for key, pid in self.raw_proc_cache.items() if pid < n_proc}

    def add_process(self, service, kvs) -> int:
        """Register a process (service + (key, type, value) triples); returns its number.
        Identical processes (same service and tags, e.g. repeated in every trace) share one."""
        kvs = tuple(kvs)
        pid = self.proc_cache.get((service, kvs))
        if pid is not None:
            return pid
        pid = self.proc_cache[(service, kvs)] = len(self.proc_service)
        host = ip = None
        for key, typ, value in kvs:
            self.ptag_proc.append(pid)
            self.ptag_key.append(key)
            self.ptag_type.append(typ)
            self.ptag_value.append(value)
            if key in ("host.name", "hostname") and host is None:
                host = value
            elif key in ("ip", "host.ip", "net.host.ip") and ip is None:
                ip = value
        self.proc_service.append(service)
        self.proc_host.append(host)
        self.proc_ip.append(ip)
        return pid

    # ------------------------------------------------------------------ compact storage

    def _convert(self, name: str, values: list):
        if name in _SPAN_STR or name in _OTHER_STR:
            return arrow_str(values)
        if name in _I64:
            what = _I64[name]
            return i64(values, what, self._flushed[what] if name == "log_ns" else self._flushed["span"])
        if name in _ROWS:
            return np.array(values, dtype=np.int64) + self._flushed["span"]
        if name in _BOOL:
            return np.fromiter(values, dtype=bool, count=len(values))
        return np.array(values, dtype=np.int64)  # process numbers and key/type codes

    def flush(self) -> None:
        """Move everything read so far into compact chunks and empty the lists (between records only)."""
        n_span, n_log = len(self.span_id), len(self.log_ns)
        for name in CHUNKED:
            values = getattr(self, name)
            if values:
                self._chunks[name].append(self._convert(name, values))
        for name in CHUNKED:
            getattr(self, name).clear()
        self._flushed["span"] += n_span
        self._flushed["log"] += n_log

    def column(self, name: str):
        """The whole column: numpy array, or Arrow ``large_string`` array for text (codes decoded)."""
        tail = getattr(self, name)
        chunks = self._chunks[name] + ([self._convert(name, tail)] if tail or not self._chunks[name] else [])
        self._chunks[name] = []
        tail.clear()
        if name in _CODED:
            codes = np.concatenate(chunks).astype(np.int32) if chunks else np.zeros(0, np.int32)
            dictionary = arrow_str(getattr(self, _CODED[name]).values)
            return pa.DictionaryArray.from_arrays(pa.array(codes), dictionary).cast(pa.large_string())
        if isinstance(chunks[0], pa.Array):
            return chunks[0] if len(chunks) == 1 else pa.concat_arrays(chunks)
        return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
