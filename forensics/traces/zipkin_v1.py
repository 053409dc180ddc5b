"""Zipkin v1 JSON (``/api/v1/spans``, Brave/finagle/zipkin-js of the v1 era, Zipkin thrift as JSON)
turned into Zipkin v2 spans, the way zipkin's own ``V1SpanConverter`` reads them.

A v1 span has no kind and no endpoint of its own: each *annotation* carries the endpoint that logged it,
and the core annotations say which side that was — ``cs``/``cr`` client send/receive, ``sr``/``ss``
server receive/send, ``ms``/``mr`` message send/receive. One v1 span holding both ``cs`` and ``sr`` is
an RPC seen from both hosts: two v2 spans with the same id, the client's and the server's (``shared``).
*Binary annotations* are tags, except the addresses — ``sa`` (server address: the client's remote
endpoint), ``ca`` (client address: the server's), ``ma`` (message broker) — and ``lc`` (local
component: its endpoint is a local span's). Other annotations and tags go to the side whose endpoint
logged them. The explicit ``timestamp``/``duration`` belong to whoever started the span (the client
side when there is one); a server side takes ``sr``..``ss``.

Zipkin's thrift structures written as JSON (Telegraf's and others' test data: ``trace_id``/``id``/
``parent_id`` as signed 64-bit integers, ``trace_id_high``, ``binary_annotations`` whose ``value`` is
base64 with an ``annotation_type``, endpoints as ``host`` with an integer ``ipv4`` and
``service_name``) are first renamed into v1 JSON (:func:`from_thrift`).
"""
from __future__ import annotations

import base64
import binascii
import ipaddress
import struct

_CORE = ("cs", "cr", "sr", "ss", "ms", "mr", "ws", "wr")
_ADDRESS = {"sa", "ca", "ma"}


def is_v1(span) -> bool:
    """A Zipkin span in v1 form: binary annotations, or annotations that carry their endpoint."""
    if not isinstance(span, dict):
        return False
    if "binaryAnnotations" in span or "binary_annotations" in span or "trace_id" in span:
        return True
    if "localEndpoint" in span or "kind" in span:
        return False
    return any(isinstance(a, dict) and ("endpoint" in a or "host" in a) for a in span.get("annotations") or ())


def is_thrift(span) -> bool:
    return isinstance(span, dict) and "trace_id" in span and "id" in span


def _hex64(v) -> str | None:
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, int):
        return f"{v & (2**64 - 1):016x}"
    return str(v).lower().rjust(16, "0")


def _thrift_endpoint(h):
    if not isinstance(h, dict):
        return None
    ep = {}
    if h.get("service_name") is not None:
        ep["serviceName"] = h["service_name"]
    ip = h.get("ipv4")
    if isinstance(ip, int) and not isinstance(ip, bool):
        ep["ipv4"] = str(ipaddress.IPv4Address(ip & 0xFFFFFFFF))
    elif ip:
        ep["ipv4"] = str(ip)
    if h.get("ipv6"):
        ep["ipv6"] = h["ipv6"]
    if h.get("port"):
        ep["port"] = h["port"] & 0xFFFF if isinstance(h["port"], int) else h["port"]
    return ep


def _thrift_value(value, typ):
    """A thrift binary annotation's value (base64 bytes, as thrift's JSON writes ``binary``)."""
    if not isinstance(value, str) or typ in (None, "STRING") and not value:
        return value
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return value
    typ = typ or "STRING"
    try:
        if typ == "BOOL":
            return raw[:1] == b"\x01"
        if typ in ("I16", "I32", "I64") and len(raw) in (2, 4, 8):
            return struct.unpack(">" + {2: "h", 4: "i", 8: "q"}[len(raw)], raw)[0]
        if typ == "DOUBLE" and len(raw) == 8:
            return struct.unpack(">d", raw)[0]
        if typ == "BYTES":
            return value
        return raw.decode("utf-8")
    except (UnicodeDecodeError, struct.error):
        return value


def from_thrift(s: dict) -> dict:
    """A v1 JSON span from Zipkin's thrift ``Span`` written as JSON (see the module doc)."""
    tid = _hex64(s.get("trace_id"))
    if s.get("trace_id_high"):
        tid = _hex64(s["trace_id_high"]) + tid
    out = {"traceId": tid, "id": _hex64(s.get("id")), "name": s.get("name") or ""}
    if s.get("parent_id") not in (None, 0):
        out["parentId"] = _hex64(s["parent_id"])
    for k in ("timestamp", "duration", "debug"):
        if s.get(k) is not None:
            out[k] = s[k]
    out["annotations"] = [{"timestamp": a.get("timestamp"), "value": a.get("value"),
                           "endpoint": _thrift_endpoint(a.get("host"))} for a in s.get("annotations") or ()]
    out["binaryAnnotations"] = [{"key": b.get("key"), "value": _thrift_value(b.get("value"), b.get("annotation_type")),
                                 "endpoint": _thrift_endpoint(b.get("host"))} for b in s.get("binary_annotations") or ()]
    return out


def _same(a, b) -> bool:
    return bool(a) and bool(b) and (a.get("serviceName"), a.get("ipv4"), a.get("ipv6"), a.get("port")) == \
        (b.get("serviceName"), b.get("ipv4"), b.get("ipv6"), b.get("port"))


def _tag_text(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return v if isinstance(v, str) else str(v)


def to_v2(s: dict) -> list[dict]:
    """The v2 spans of one v1 span (two for an RPC seen by client and server)."""
    if is_thrift(s):
        s = from_thrift(s)
    anns = [a for a in s.get("annotations") or () if isinstance(a, dict)]
    bins = [b for b in s.get("binaryAnnotations") or () if isinstance(b, dict)]
    core = {}
    for a in anns:  # core annotations need an endpoint (without one they are plain annotations)
        if a.get("value") in _CORE and a.get("endpoint") and a["value"] not in core:
            core[a["value"]] = a
    base = {k: s[k] for k in ("traceId", "id", "parentId", "name", "debug") if s.get(k) is not None}

    def part(kind, begin, end, ep):
        p = dict(base, kind=kind, localEndpoint=ep or None)
        if begin is not None and begin.get("timestamp") is not None:
            p["timestamp"] = begin["timestamp"]
            if end is not None and end.get("timestamp") is not None:
                p["duration"] = end["timestamp"] - begin["timestamp"]
        return p

    parts = []
    cs, cr, sr, ss = core.get("cs"), core.get("cr"), core.get("sr"), core.get("ss")
    if cs or cr:
        parts.append(part("CLIENT", cs, cr, (cs or cr).get("endpoint")))
    if sr or ss:
        server = part("SERVER", sr, ss, (sr or ss).get("endpoint"))
        # v1 had no shared flag: the client side in the same span, or (server side only) an absent
        # timestamp — or an absent duration despite ss — meant the server joined a span someone else began
        if parts or (sr and (not s.get("timestamp") or (ss and not s.get("duration")))):
            server["shared"] = True
        parts.append(server)
    if core.get("ms"):
        parts.append(part("PRODUCER", core["ms"], core.get("ws"), core["ms"].get("endpoint")))
    if core.get("mr"):
        consumer = part("CONSUMER", core.get("wr") or core["mr"], core["mr"] if core.get("wr") else None,
                        core["mr"].get("endpoint"))
        if core.get("ms"):
            consumer["shared"] = True
        parts.append(consumer)
    if not parts:  # a local span: the endpoint of its local component, else of whatever it logged
        lc = next((b for b in bins if b.get("key") == "lc"), None)
        ep = (lc or {}).get("endpoint") or next((x.get("endpoint") for x in anns + bins if x.get("endpoint")), None)
        parts.append(dict(base, localEndpoint=ep or None))
    owner = parts[0]  # the explicit timestamp/duration are the starter's: the client, else the only side
    if s.get("timestamp") is not None:
        owner["timestamp"] = s["timestamp"]
        if s.get("duration") is not None:
            owner["duration"] = s["duration"]

    def side(ep):
        return next((p for p in parts if _same(p.get("localEndpoint"), ep)), parts[0])

    for a in anns:
        if a.get("value") not in _CORE:
            side(a.get("endpoint")).setdefault("annotations", []).append(
                {"timestamp": a.get("timestamp"), "value": a.get("value")})
    address = {}
    for b in bins:
        key = b.get("key")
        if key in _ADDRESS:
            address[key] = b.get("endpoint")
            continue
        if key is None or (key == "lc" and b.get("value") in ("", None)):  # (an empty lc is a marker)
            continue
        side(b.get("endpoint")).setdefault("tags", {})[str(key)] = _tag_text(b.get("value"))
    ca, sa, ma = address.get("ca"), address.get("sa"), address.get("ma")
    if not (cs or cr or sr or ss) and (ca or sa):  # addresses without core annotations
        if ca and sa:
            side(ca)["remoteEndpoint"] = sa
        elif sa:
            parts[0]["remoteEndpoint"] = sa  # a remote address by default: not a client span
        else:
            parts[0].update(kind="SERVER", remoteEndpoint=ca)
        return parts
    for p in parts:
        if p.get("kind") == "SERVER" and ca and not _same(ca, p.get("localEndpoint")):
            same_name = ca.get("serviceName") and ca.get("serviceName") == (p.get("localEndpoint") or {}).get("serviceName")
            # Finagle's "ca" carries the server's own service name: dropped, so no loopback link appears
            p["remoteEndpoint"] = {k: v for k, v in ca.items() if k != "serviceName"} if same_name else ca
        elif p.get("kind") == "CLIENT" and sa:
            p["remoteEndpoint"] = sa
        elif p.get("kind") in ("PRODUCER", "CONSUMER") and ma:
            p["remoteEndpoint"] = ma
    return parts


def spans_v2(spans: list) -> list:
    """Every span of a Zipkin list in v2 form (v2 spans pass as they are)."""
    out = []
    for s in spans:
        out.extend(to_v2(s) if is_v1(s) else [s])
    return out
