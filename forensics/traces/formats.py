"""Turn parsed JSON of every trace-export shape into flat column lists.

Each ``read_*`` function walks one shape (Jaeger UI JSON, Jaeger api_v2
proto-JSON, OTLP JSON, Zipkin v2) and appends to a :class:`Columns`
builder — plain Python lists, one per output column, turned into numpy
arrays once at the end. No per-span dicts survive parsing, and no
``pandas.json_normalize`` (several times slower on big exports).

Times are kept as integer nanoseconds since the epoch (``start_ns``,
``duration_ns``); µs formats are multiplied by 1000 so every shape lands in
the same columns.
"""
from __future__ import annotations

import base64
import datetime as _dt
import json
import re

try:
    from orjson import dumps as _dumps
except ImportError:  # pragma: no cover - orjson is a dependency
    _dumps = None

from .columns import N_SPECIAL, Columns  # noqa: F401  (Columns: used by load.py through this module)

KIND_NAMES = {0: "internal", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
_OTLP_KIND_STR = {"SPAN_KIND_UNSPECIFIED": "internal", "SPAN_KIND_INTERNAL": "internal",
                  "SPAN_KIND_SERVER": "server", "SPAN_KIND_CLIENT": "client",
                  "SPAN_KIND_PRODUCER": "producer", "SPAN_KIND_CONSUMER": "consumer"}
_STATUS = {0: "UNSET", 1: "OK", 2: "ERROR", "STATUS_CODE_UNSET": "UNSET", "STATUS_CODE_OK": "OK",
           "STATUS_CODE_ERROR": "ERROR"}
_COMPACT = (",", ":")


class Bad(Exception):
    """A structural problem at a JSON location; load.py turns it into ArtifactError."""

    def __init__(self, location, reason):
        super().__init__(reason)
        self.location = location
        self.reason = reason


# --------------------------------------------------------------------------- values

def _text(value, typ=None) -> tuple[str, str]:
    """(type, text) of a tag value, the way the tags table stores it."""
    if isinstance(value, bool):
        return "bool", "true" if value else "false"
    if isinstance(value, int):
        return typ or "int64", str(value)
    if isinstance(value, float):
        return typ or "float64", repr(value)
    if isinstance(value, str):
        return typ or "string", value
    if value is None:
        return typ or "string", ""
    return typ or "string", json.dumps(value, separators=_COMPACT, sort_keys=True)


def otlp_value(v):
    """(type, text, plain) of an OTLP AnyValue object."""
    if not isinstance(v, dict) or not v:
        return "string", "", None
    if "stringValue" in v:
        s = v["stringValue"]
        return "string", str(s), s
    if "intValue" in v:
        i = int(v["intValue"])
        return "int64", str(i), i
    if "doubleValue" in v:
        f = float(v["doubleValue"])
        return "float64", repr(f), f
    if "boolValue" in v:
        b = bool(v["boolValue"])
        return "bool", "true" if b else "false", b
    if "bytesValue" in v:
        return "binary", str(v["bytesValue"]), v["bytesValue"]
    if "arrayValue" in v:
        items = [otlp_value(x)[2] for x in (v["arrayValue"] or {}).get("values") or []]
        return "string", json.dumps(items, separators=_COMPACT), items
    if "kvlistValue" in v:
        items = {kv["key"]: otlp_value(kv.get("value"))[2] for kv in (v["kvlistValue"] or {}).get("values") or []}
        return "string", json.dumps(items, separators=_COMPACT, sort_keys=True), items
    return "string", "", None


def _fields_json(d: dict) -> str:
    return json.dumps(d, separators=_COMPACT, sort_keys=True) if d else ""


# --------------------------------------------------------------------------- time parsing

_RFC3339 = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|z|[+-]\d\d:?\d\d)?$")
_DURATION = re.compile(r"^(-?\d+(?:\.\d+)?)(ns|us|µs|ms|s)$")
_UNIT_NS = {"ns": 1, "us": 1000, "µs": 1000, "ms": 1_000_000, "s": 1_000_000_000}


def rfc3339_ns(s: str) -> int:
    """Nanoseconds since the epoch of an RFC 3339 time ("2017-01-26T16:46:31.639875-05:00")."""
    m = _RFC3339.match(s.strip())
    if not m:
        raise ValueError(f"not an RFC 3339 time: {s[:40]!r}")
    y, mo, d, h, mi, se, frac, tz = m.groups()
    base = _dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(se), tzinfo=_dt.timezone.utc)
    secs = int(base.timestamp())
    if tz and tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        tz = tz[1:].replace(":", "")
        secs -= sign * (int(tz[:2]) * 3600 + int(tz[2:]) * 60)
    return secs * 1_000_000_000 + int((frac or "0").ljust(9, "0"))


def duration_ns(v) -> int:
    """protobuf Duration JSON ("0.022938s", "22938000ns") or a number of µs."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return int(v) * 1000
    m = _DURATION.match(str(v).strip())
    if not m:
        raise ValueError(f"not a duration: {str(v)[:40]!r}")
    num, unit = m.groups()
    if "." in num:  # exact decimal arithmetic, no float rounding
        whole, frac = num.split(".")
        neg = whole.startswith("-")
        frac9 = int(frac[:9].ljust(9, "0"))
        val = abs(int(whole)) * 1_000_000_000 + frac9
        ns = val * _UNIT_NS[unit] // 1_000_000_000
        return -ns if neg else ns
    return int(num) * _UNIT_NS[unit]


def b64_hex(s: str) -> str:
    """Hex of a base64 id (api_v2 proto-JSON), or the text itself if it already is hex."""
    if re.fullmatch(r"[0-9a-fA-F]{16}|[0-9a-fA-F]{32}", s):
        return s.lower()
    return base64.b64decode(s + "=" * (-len(s) % 4), validate=True).hex()


# --------------------------------------------------------------------------- Jaeger UI JSON

def _jaeger_kv(kvs, where):
    for kv in kvs or ():
        if not isinstance(kv, dict) or "key" not in kv:
            raise Bad(where, "tag without a key")
        typ, text = _text(kv.get("value"), kv.get("type"))
        yield kv["key"], typ, text


def read_jaeger_trace(trace: dict, cols: Columns, where: str) -> None:
    """One Jaeger UI trace object ({traceID, spans, processes})."""
    spans = trace.get("spans")
    if not isinstance(spans, list):
        raise Bad(where, "trace without a 'spans' list")
    procs = {}
    # Every trace repeats its processes: when the JSON came from orjson (no NaN, so the text is
    # exact), the serialized object is a cheap cache key in front of the tag-by-tag comparison.
    seen = cols.raw_proc_cache if cols.exact_json and _dumps is not None else None
    for pkey, p in (trace.get("processes") or {}).items():
        if isinstance(p, dict):
            ck = pid = None
            if seen is not None:
                try:
                    ck = _dumps(p)
                    pid = seen.get(ck)
                except TypeError:
                    ck = None
            if pid is None:
                pid = cols.add_process(p.get("serviceName") or "unknown-service",
                                       _jaeger_kv(p.get("tags"), f"{where}.processes.{pkey}"))
                if ck is not None:
                    seen[ck] = pid
            procs[pkey] = pid
    read_jaeger_spans(spans, cols, where + ".spans", procs)


def read_jaeger_spans(spans: list, cols: Columns, where: str, procs: dict | None = None) -> None:
    """Jaeger UI spans (with processID into ``procs`` or an inline ``process``)."""
    procs = procs if procs is not None else {}
    inline = {}
    a_trace, a_span, a_svc, a_op, a_kind = (cols.trace_id.append, cols.span_id.append, cols.service.append,
                                            cols.operation.append, cols.kind.append)
    a_start, a_dur, a_err, a_sc, a_sm = (cols.start_ns.append, cols.duration_ns.append, cols.error.append,
                                         cols.status_code.append, cols.status_message.append)
    a_proc, a_peer, a_flags = cols.process.append, cols.peer_service.append, cols.flags.append
    t_spans, t_key, t_type, t_val = cols.tag_span.extend, cols.tag_key.append, cols.tag_type.append, cols.tag_value.append
    key_get, key_code, type_get, type_code = cols.keys.index.get, cols.keys.code, cols.types.index.get, cols.types.code
    for i, s in enumerate(spans):
        if not isinstance(s, dict):
            raise Bad(f"{where}[{i}]", "span is not a JSON object")
        try:
            tid, sid = s["traceID"], s["spanID"]
        except KeyError as e:
            raise Bad(f"{where}[{i}]", f"span without {e.args[0]}") from None
        if not isinstance(tid, str) or not isinstance(sid, str) or not tid or not sid:
            raise Bad(f"{where}[{i}]", "traceID/spanID must be non-empty strings")
        row = len(cols.span_id)
        pid = s.get("processID")
        if pid in procs:
            proc = procs[pid]
        elif isinstance(s.get("process"), dict):
            p = s["process"]
            key = json.dumps(p, sort_keys=True)
            proc = inline.get(key)
            if proc is None:
                proc = inline[key] = cols.add_process(p.get("serviceName") or "unknown-service",
                                                      _jaeger_kv(p.get("tags"), f"{where}[{i}].process"))
        else:  # Jaeger UI: missing process -> "unknown-service"
            proc = procs.get(None)
            if proc is None:
                proc = procs[None] = cols.add_process("unknown-service", ())
        kind, err, status, msg, peer, scope = "internal", False, None, None, None, None
        tags = s.get("tags") or ()
        if tags:
            t_spans([row] * len(tags))
        for kv in tags:  # the hottest loop: ~8 tags per span; keys and types stored as codes
            key = kv["key"]
            value = kv.get("value")
            vt = type(value)
            if vt is str:
                typ, text = kv.get("type") or "string", value
            elif vt is int:
                typ, text = kv.get("type") or "int64", str(value)
            else:
                typ, text = _text(value, kv.get("type"))
            kc = key_get(key)  # (an unhashable key raises TypeError, as the set lookup did)
            if kc is None:
                kc = key_code(key)
            tc = type_get(typ) if type(typ) is str else None
            t_key(kc); t_type(type_code(typ) if tc is None else tc); t_val(text)
            if kc < N_SPECIAL:  # codes of columns.SPECIAL_KEYS
                if kc == 0:
                    kind = text.lower()
                elif kc == 1:
                    err = value is True or value == "true"
                elif kc == 2:
                    status = text.upper()
                elif kc == 3:
                    msg = text
                elif kc == 4:
                    peer = text
                else:
                    scope = text
        for log in s.get("logs") or ():
            fields, event = {}, None
            for kv in log.get("fields") or ():
                if kv["key"] == "event" and event is None:
                    event = str(kv.get("value"))
                else:
                    fields[kv["key"]] = kv.get("value")
            cols.log_span.append(row)
            cols.log_ns.append(int(log["timestamp"]) * 1000)
            cols.log_event.append(event)
            cols.log_fields.append(_fields_json(fields))
        refs = s.get("references") or ()
        if not refs and s.get("parentSpanID"):
            refs = [{"refType": "CHILD_OF", "traceID": tid, "spanID": s["parentSpanID"]}]
        for ref in refs:
            cols.ref_span.append(row)
            cols.ref_type.append(ref.get("refType") or "CHILD_OF")
            cols.ref_trace.append(ref.get("traceID") or tid)
            cols.ref_id.append(ref["spanID"])
        a_trace(tid); a_span(sid); a_svc(cols.proc_service[proc]); a_op(s.get("operationName") or "")
        a_kind(kind); a_start(int(s["startTime"]) * 1000); a_dur(int(s.get("duration") or 0) * 1000)
        a_err(err); a_sc(status or ("ERROR" if err else "UNSET")); a_sm(msg)
        a_proc(proc); a_peer(peer); a_flags(int(s.get("flags") or 0)); cols.scope.append(scope)


# --------------------------------------------------------------------------- Jaeger api_v2 proto-JSON

_VKEYS = {"STRING": ("vStr", "string"), "BOOL": ("vBool", "bool"), "INT64": ("vInt64", "int64"),
          "FLOAT64": ("vFloat64", "float64"), "BINARY": ("vBinary", "binary")}


def _proto_kv(kvs):
    for kv in kvs or ():
        field, typ = _VKEYS.get(kv.get("vType") or "STRING", ("vStr", "string"))
        raw = kv.get(field)
        if typ == "int64":
            raw = int(raw or 0)
        elif typ == "float64":
            raw = float(raw or 0.0)
        elif typ == "bool":
            raw = bool(raw)
        elif raw is None:
            raw = ""
        t, text = _text(raw, typ)
        yield kv["key"], t, text, raw


def read_proto_spans(spans: list, cols: Columns, where: str) -> None:
    """api_v2 proto-JSON spans: base64 ids, RFC 3339 starts, Duration strings, vType tags."""
    procs = {}
    for i, s in enumerate(spans):
        if not isinstance(s, dict):
            raise Bad(f"{where}[{i}]", "span is not a JSON object")
        if not s.get("traceId") or not s.get("spanId"):
            raise Bad(f"{where}[{i}]", "span without traceId/spanId")
        tid, sid = b64_hex(s["traceId"]), b64_hex(s["spanId"])
        p = s.get("process") or {}
        pkey = json.dumps(p, sort_keys=True)
        proc = procs.get(pkey)
        if proc is None:
            proc = procs[pkey] = cols.add_process(p.get("serviceName") or "unknown-service",
                                                  ((k, t, x) for k, t, x, _ in _proto_kv(p.get("tags"))))
        row = len(cols.span_id)
        kind, err, status, msg, peer, scope = "internal", False, None, None, None, None
        for key, typ, text, raw in _proto_kv(s.get("tags")):
            cols.add_tag(row, key, typ, text)
            if key == "span.kind":
                kind = text.lower()
            elif key == "error":
                err = raw is True or raw == "true"
            elif key == "otel.status_code":
                status = text.upper()
            elif key == "otel.status_description":
                msg = text
            elif key == "peer.service":
                peer = text
            elif key in ("otel.scope.name", "otel.library.name"):
                scope = text
        for log in s.get("logs") or ():
            fields, event = {}, None
            for key, _t, text, raw in _proto_kv(log.get("fields")):
                if key == "event" and event is None:
                    event = text
                else:
                    fields[key] = raw
            cols.log_span.append(row)
            cols.log_ns.append(rfc3339_ns(log["timestamp"]))
            cols.log_event.append(event)
            cols.log_fields.append(_fields_json(fields))
        for ref in s.get("references") or ():
            cols.ref_span.append(row)
            cols.ref_type.append(ref.get("refType") or "CHILD_OF")  # proto3 omits the 0 enum
            cols.ref_trace.append(b64_hex(ref["traceId"]) if ref.get("traceId") else tid)
            cols.ref_id.append(b64_hex(ref["spanId"]))
        start = rfc3339_ns(s["startTime"]) if s.get("startTime") else 0
        cols.trace_id.append(tid); cols.span_id.append(sid); cols.service.append(cols.proc_service[proc])
        cols.operation.append(s.get("operationName") or ""); cols.kind.append(kind)
        cols.start_ns.append(start); cols.duration_ns.append(duration_ns(s.get("duration") or "0s"))
        cols.error.append(err); cols.status_code.append(status or ("ERROR" if err else "UNSET"))
        cols.status_message.append(msg); cols.process.append(proc); cols.peer_service.append(peer)
        cols.flags.append(int(s.get("flags") or 0)); cols.scope.append(scope)


# --------------------------------------------------------------------------- OTLP JSON

def _otlp_hex(s) -> str:
    s = str(s or "")
    return s.lower() if re.fullmatch(r"[0-9a-fA-F]+", s) else (b64_hex(s) if s else "")


def link_ref_type(link: dict) -> str:
    """A link's reference type as Jaeger's OTLP translation gives it: its ``opentracing.ref_type``
    attribute ``child_of`` → CHILD_OF, anything else FOLLOWS_FROM (links written by Jaeger v2 carry it)."""
    for kv in link.get("attributes") or ():
        if kv.get("key") == "opentracing.ref_type":
            return "CHILD_OF" if otlp_value(kv.get("value"))[1] == "child_of" else "FOLLOWS_FROM"
    return "FOLLOWS_FROM"


def otlp_resource(resource) -> tuple:
    """(service, [(key, type, text)]) of an OTLP resource object (or None)."""
    attrs = [(kv["key"],) + otlp_value(kv.get("value"))[:2] for kv in ((resource or {}).get("attributes") or ())]
    return next((text for k, _t, text in attrs if k == "service.name"), None) or "unknown-service", attrs


def otlp_event(ev: dict) -> tuple:
    """(time ns, name, fields JSON) of an OTLP span event."""
    fields = {kv["key"]: otlp_value(kv.get("value"))[2] for kv in ev.get("attributes") or ()}
    return int(ev.get("timeUnixNano") or 0), ev.get("name"), _fields_json(fields)


def otlp_link(link: dict, tid: str) -> tuple:
    """(ref type, trace id, span id) of an OTLP span link (``tid``: the span's own trace)."""
    return link_ref_type(link), _otlp_hex(link.get("traceId")) or tid, _otlp_hex(link["spanId"])


def read_otlp(doc: dict, cols: Columns, where: str) -> None:
    """An OTLP TracesData object ({resourceSpans: [...]})."""
    rss = doc.get("resourceSpans")
    if not isinstance(rss, list):
        raise Bad(where, "'resourceSpans' is not a list")
    for r, rs in enumerate(rss):
        rwhere = f"{where}.resourceSpans[{r}]"
        service, attrs = otlp_resource(rs.get("resource"))
        proc = cols.add_process(service, attrs)
        for sc_i, ss in enumerate(rs.get("scopeSpans") or rs.get("instrumentationLibrarySpans") or ()):
            scope = (ss.get("scope") or ss.get("instrumentationLibrary") or {}).get("name") or None
            for i, s in enumerate(ss.get("spans") or ()):
                swhere = f"{rwhere}.scopeSpans[{sc_i}].spans[{i}]"
                if not isinstance(s, dict) or not s.get("traceId") or not s.get("spanId"):
                    raise Bad(swhere, "span without traceId/spanId")
                tid, sid = _otlp_hex(s["traceId"]), _otlp_hex(s["spanId"])
                row = len(cols.span_id)
                peer = None
                for kv in s.get("attributes") or ():
                    typ, text, _ = otlp_value(kv.get("value"))
                    cols.add_tag(row, kv["key"], typ, text)
                    if kv["key"] == "peer.service":
                        peer = text
                for ev in s.get("events") or ():
                    ns, name, fields = otlp_event(ev)
                    cols.log_span.append(row); cols.log_ns.append(ns)
                    cols.log_event.append(name); cols.log_fields.append(fields)
                if s.get("parentSpanId"):
                    cols.ref_span.append(row); cols.ref_type.append("CHILD_OF")
                    cols.ref_trace.append(tid); cols.ref_id.append(_otlp_hex(s["parentSpanId"]))
                for link in s.get("links") or ():
                    rtype, rtrace, rid = otlp_link(link, tid)
                    cols.ref_span.append(row); cols.ref_type.append(rtype)
                    cols.ref_trace.append(rtrace); cols.ref_id.append(rid)
                kind = s.get("kind", 1)
                kind = KIND_NAMES.get(kind) if isinstance(kind, int) else _OTLP_KIND_STR.get(str(kind), str(kind).lower())
                st = s.get("status") or {}
                code = _STATUS.get(st.get("code", 0), "UNSET")
                start = int(s.get("startTimeUnixNano") or 0)
                end = int(s.get("endTimeUnixNano") or start)
                cols.trace_id.append(tid); cols.span_id.append(sid); cols.service.append(service)
                cols.operation.append(s.get("name") or ""); cols.kind.append(kind or "internal")
                cols.start_ns.append(start); cols.duration_ns.append(end - start)
                cols.error.append(code == "ERROR"); cols.status_code.append(code)
                cols.status_message.append(st.get("message") or None)
                cols.process.append(proc); cols.peer_service.append(peer); cols.flags.append(int(s.get("flags") or 0))
                cols.scope.append(scope)


# --------------------------------------------------------------------------- Zipkin v2

def zipkin_process(ep: dict) -> tuple:
    """(service, [(key, type, text)]) of a Zipkin localEndpoint object."""
    kvs = [(k, "string" if k != "port" else "int64", str(v)) for k, v in
           (("ip", ep.get("ipv4") or ep.get("ipv6")), ("port", ep.get("port"))) if v is not None]
    return ep.get("serviceName") or "unknown-service", kvs


def zipkin_annotation(ann: dict) -> tuple:
    """(time ns, event, fields JSON) of a Zipkin annotation; OTel's Zipkin encoder writes an event with
    attributes as ``{"name": {attributes}}``."""
    value = str(ann.get("value", ""))
    event, fields = value, ""
    if value.startswith("{"):
        try:
            obj = json.loads(value)
            if isinstance(obj, dict) and len(obj) == 1:
                (event, attrs), = obj.items()
                fields = _fields_json(attrs) if isinstance(attrs, dict) else value
        except ValueError:
            pass
    return int(ann.get("timestamp") or 0) * 1000, event, fields


def read_zipkin(spans: list, cols: Columns, where: str) -> None:
    """Zipkin v2 spans. A server span re-using its client's id (``shared``) is split off and put under
    the client when the tree is built (:func:`forensics.traces.tree.build_tree`)."""
    procs = {}
    for i, s in enumerate(spans):
        if not isinstance(s, dict) or not s.get("traceId") or not s.get("id"):
            raise Bad(f"{where}[{i}]", "span without traceId/id")
        tid, sid = str(s["traceId"]).lower(), str(s["id"]).lower().rjust(16, "0")
        ep = s.get("localEndpoint") or {}
        service = ep.get("serviceName") or "unknown-service"
        pkey = (service, ep.get("ipv4"), ep.get("ipv6"), ep.get("port"))
        proc = procs.get(pkey)
        if proc is None:
            proc = procs[pkey] = cols.add_process(*zipkin_process(ep))
        row = len(cols.span_id)
        tags = s.get("tags") or {}
        err = "error" in tags
        status = str(tags["otel.status_code"]).upper() if "otel.status_code" in tags else ("ERROR" if err else "UNSET")
        msg = tags.get("otel.status_description")
        if msg is None and err and tags["error"] not in ("", "true"):
            msg = str(tags["error"])
        for k, v in tags.items():
            cols.add_tag(row, k, "string", str(v))
        for ann in s.get("annotations") or ():
            ns, event, fields = zipkin_annotation(ann)
            cols.log_span.append(row); cols.log_ns.append(ns)
            cols.log_event.append(event); cols.log_fields.append(fields)
        parent = s.get("parentId")  # a shared server half is put under its client in tree.py
        if parent:
            cols.ref_span.append(row); cols.ref_type.append("CHILD_OF")
            cols.ref_trace.append(tid); cols.ref_id.append(str(parent).lower().rjust(16, "0"))
        remote = s.get("remoteEndpoint") or {}
        cols.trace_id.append(tid); cols.span_id.append(sid); cols.service.append(service)
        cols.operation.append(s.get("name") or ""); cols.kind.append(str(s.get("kind") or "internal").lower())
        cols.start_ns.append(int(s.get("timestamp") or 0) * 1000)
        cols.duration_ns.append(int(s.get("duration") or 0) * 1000)
        cols.error.append(err); cols.status_code.append(status); cols.status_message.append(msg)
        cols.process.append(proc); cols.peer_service.append(remote.get("serviceName") or tags.get("peer.service"))
        cols.flags.append(1 if s.get("debug") else 0)
        cols.scope.append(tags.get("otel.scope.name") or tags.get("otel.library.name"))
