"""Write OpenTelemetry SDK spans as OTLP JSON, and OTLP JSON as Jaeger UI JSON, Zipkin v2 and the
other shapes forensics reads. The mappings follow the reference tools:

* OTLP JSON: the OTLP/JSON encoding (hex ids, ns times as decimal strings, int kinds/status codes);
* Jaeger UI JSON: what Jaeger's OTLP translator + query service give (parent -> CHILD_OF first,
  links -> FOLLOWS_FROM, kind -> ``span.kind``, status -> ``otel.status_code`` / ``error=true``,
  scope -> ``otel.scope.name``, events -> logs with an ``event`` field, ns -> µs truncated);
* Zipkin v2: what OTel's Zipkin JSON encoder writes (string tags, ``error`` = status description,
  events -> annotations ``{"name": {attributes}}``, ``peer.service`` -> remoteEndpoint; no links).
"""
from __future__ import annotations

import base64
import datetime as _dt
import json

KIND = {"SpanKind.INTERNAL": 1, "SpanKind.SERVER": 2, "SpanKind.CLIENT": 3, "SpanKind.PRODUCER": 4,
        "SpanKind.CONSUMER": 5}
KIND_NAME = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
STATUS = {"StatusCode.UNSET": 0, "StatusCode.OK": 1, "StatusCode.ERROR": 2}


def _any(v) -> dict:
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, bytes):
        return {"bytesValue": base64.b64encode(v).decode()}
    if isinstance(v, (list, tuple)):
        return {"arrayValue": {"values": [_any(x) for x in v]}}
    return {"stringValue": str(v)}


def _attrs(d) -> list:
    return [{"key": k, "value": _any(v)} for k, v in (d or {}).items()]


def sdk_to_otlp(spans) -> dict:
    """OTLP TracesData from SDK ReadableSpans, grouped by resource and scope."""
    by_res: dict = {}
    for s in spans:
        res_key = json.dumps(dict(s.resource.attributes), sort_keys=True)
        scope = s.instrumentation_scope
        scope_key = (scope.name, scope.version or "")
        by_res.setdefault(res_key, (s.resource, {}))[1].setdefault(scope_key, []).append(s)
    out = []
    for _k, (res, scopes) in by_res.items():
        scope_spans = []
        for (name, version), group in scopes.items():
            js = []
            for s in group:
                ctx = s.get_span_context()
                d = {"traceId": f"{ctx.trace_id:032x}", "spanId": f"{ctx.span_id:016x}",
                     "name": s.name, "kind": KIND[str(s.kind)],
                     "startTimeUnixNano": str(s.start_time), "endTimeUnixNano": str(s.end_time),
                     "attributes": _attrs(s.attributes), "flags": 256 | int(ctx.trace_flags)}
                if s.parent is not None:
                    d["parentSpanId"] = f"{s.parent.span_id:016x}"
                if s.events:
                    d["events"] = [{"timeUnixNano": str(e.timestamp), "name": e.name, "attributes": _attrs(e.attributes)}
                                   for e in s.events]
                if s.links:
                    d["links"] = [{"traceId": f"{ln.context.trace_id:032x}", "spanId": f"{ln.context.span_id:016x}",
                                   "attributes": _attrs(ln.attributes)} for ln in s.links]
                status = {}
                code = STATUS[str(s.status.status_code)]
                if code:
                    status["code"] = code
                if s.status.description:
                    status["message"] = s.status.description
                d["status"] = status
                js.append(d)
            scope_spans.append({"scope": {"name": name, "version": version}, "spans": js})
        out.append({"resource": {"attributes": _attrs(res.attributes)}, "scopeSpans": scope_spans})
    return {"resourceSpans": out}


def _plain(v: dict):
    """Python value of an OTLP AnyValue."""
    if "stringValue" in v:
        return v["stringValue"]
    if "intValue" in v:
        return int(v["intValue"])
    if "doubleValue" in v:
        return float(v["doubleValue"])
    if "boolValue" in v:
        return bool(v["boolValue"])
    if "bytesValue" in v:
        return v["bytesValue"]
    if "arrayValue" in v:
        return [_plain(x) for x in v["arrayValue"].get("values", [])]
    return None


def _jaeger_kv(key, v: dict) -> dict:
    if "boolValue" in v:
        return {"key": key, "type": "bool", "value": bool(v["boolValue"])}
    if "intValue" in v:
        i = int(v["intValue"])
        return {"key": key, "type": "int64", "value": i if abs(i) < 2 ** 53 else str(i)}
    if "doubleValue" in v:
        return {"key": key, "type": "float64", "value": float(v["doubleValue"])}
    if "bytesValue" in v:
        return {"key": key, "type": "binary", "value": v["bytesValue"]}
    if "arrayValue" in v:
        return {"key": key, "type": "string", "value": json.dumps(_plain(v), separators=(",", ":"))}
    return {"key": key, "type": "string", "value": v.get("stringValue", "")}


def _walk(otlp):
    for rs in otlp["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for s in ss["spans"]:
                yield rs, ss["scope"], s


def _jaeger_trace_id(t: str) -> str:
    return t[16:] if t.startswith("0" * 16) else t


def otlp_to_jaeger(otlp) -> dict:
    """Jaeger UI JSON ``{"data": [trace, ...]}`` (the shape of the UI's Download Results)."""
    traces: dict = {}
    for rs, scope, s in _walk(otlp):
        tid = _jaeger_trace_id(s["traceId"])
        t = traces.setdefault(tid, {"traceID": tid, "spans": [], "processes": {}, "warnings": None})
        res_key = json.dumps(rs["resource"]["attributes"], sort_keys=True)
        pid = t.setdefault("_pids", {}).get(res_key)
        if pid is None:
            pid = f"p{len(t['_pids']) + 1}"
            t["_pids"][res_key] = pid
            attrs = rs["resource"]["attributes"]
            service = next(_plain(a["value"]) for a in attrs if a["key"] == "service.name")
            t["processes"][pid] = {"serviceName": service,
                                   "tags": [_jaeger_kv(a["key"], a["value"]) for a in attrs if a["key"] != "service.name"]}
        refs = []
        if s.get("parentSpanId"):
            refs.append({"refType": "CHILD_OF", "traceID": tid, "spanID": s["parentSpanId"]})
        for ln in s.get("links", []):
            refs.append({"refType": "FOLLOWS_FROM", "traceID": _jaeger_trace_id(ln["traceId"]), "spanID": ln["spanId"]})
        tags = [_jaeger_kv(a["key"], a["value"]) for a in s["attributes"]]
        tags.append({"key": "otel.scope.name", "type": "string", "value": scope["name"]})
        if scope.get("version"):
            tags.append({"key": "otel.scope.version", "type": "string", "value": scope["version"]})
        tags.append({"key": "span.kind", "type": "string", "value": KIND_NAME[s["kind"]]})
        code = s["status"].get("code", 0)
        if code:
            tags.append({"key": "otel.status_code", "type": "string", "value": "ERROR" if code == 2 else "OK"})
        if code == 2:
            tags.append({"key": "error", "type": "bool", "value": True})
        if s["status"].get("message"):
            tags.append({"key": "otel.status_description", "type": "string", "value": s["status"]["message"]})
        start, end = int(s["startTimeUnixNano"]), int(s["endTimeUnixNano"])
        logs = [{"timestamp": int(e["timeUnixNano"]) // 1000,
                 "fields": [{"key": "event", "type": "string", "value": e["name"]}]
                 + [_jaeger_kv(a["key"], a["value"]) for a in e.get("attributes", [])]}
                for e in s.get("events", [])]
        t["spans"].append({"traceID": tid, "spanID": s["spanId"], "operationName": s["name"], "references": refs,
                           "startTime": start // 1000, "duration": (end - start) // 1000, "tags": tags,
                           "logs": logs, "processID": pid, "warnings": None, "flags": 1})
    for t in traces.values():
        t.pop("_pids")
        t["spans"].sort(key=lambda x: x["startTime"])
    return {"data": sorted(traces.values(), key=lambda t: t["spans"][0]["startTime"])}


def _ztag(v: dict) -> str:
    p = _plain(v)
    if isinstance(p, bool):
        return "true" if p else "false"
    if isinstance(p, list):
        return json.dumps(p, separators=(",", ":"))
    if isinstance(p, float):
        return repr(p)
    return str(p)


def otlp_to_zipkin(otlp) -> list:
    """Zipkin v2 JSON: a bare array of spans."""
    out = []
    for rs, scope, s in _walk(otlp):
        attrs = {a["key"]: a["value"] for a in s["attributes"]}
        service = next(_plain(a["value"]) for a in rs["resource"]["attributes"] if a["key"] == "service.name")
        start, end = int(s["startTimeUnixNano"]), int(s["endTimeUnixNano"])
        tags = {k: _ztag(v) for k, v in attrs.items()}
        tags["otel.scope.name"] = scope["name"]
        if scope.get("version"):
            tags["otel.scope.version"] = scope["version"]
        code = s["status"].get("code", 0)
        if code:
            tags["otel.status_code"] = "ERROR" if code == 2 else "OK"
        if code == 2:
            tags["error"] = s["status"].get("message", "")
        z = {"traceId": s["traceId"], "id": s["spanId"], "name": s["name"], "timestamp": start // 1000,
             "duration": (end - start) // 1000, "localEndpoint": {"serviceName": service, "ipv4": "127.0.0.1"},
             "tags": tags}
        if s.get("parentSpanId"):
            z["parentId"] = s["parentSpanId"]
        if s["kind"] != 1:
            z["kind"] = KIND_NAME[s["kind"]].upper()
        if "peer.service" in attrs:
            z["remoteEndpoint"] = {"serviceName": _plain(attrs["peer.service"])}
        anns = []
        for e in s.get("events", []):
            ea = {a["key"]: _plain(a["value"]) for a in e.get("attributes", [])}
            value = json.dumps({e["name"]: ea}, sort_keys=True) if ea else e["name"]
            anns.append({"timestamp": int(e["timeUnixNano"]) // 1000, "value": value})
        if anns:
            z["annotations"] = anns
        out.append(z)
    out.sort(key=lambda z: (z["traceId"], z["timestamp"]))
    return out


# --------------------------------------------------------------------------- derived shapes

def _b64(hexid: str, nbytes: int) -> str:
    return base64.b64encode(bytes.fromhex(hexid.rjust(nbytes * 2, "0"))).decode()


def _rfc3339(us: int) -> str:
    t = _dt.datetime.fromtimestamp(us // 1_000_000, _dt.timezone(_dt.timedelta(hours=-5)))
    return t.strftime("%Y-%m-%dT%H:%M:%S") + f".{us % 1_000_000:06d}-05:00"


_VTYPE = {"string": ("STRING", "vStr"), "bool": ("BOOL", "vBool"), "int64": ("INT64", "vInt64"),
          "float64": ("FLOAT64", "vFloat64"), "binary": ("BINARY", "vBinary")}


def _proto_kv(kv):
    vtype, field = _VTYPE[kv.get("type", "string")]
    d = {"key": kv["key"]}
    if vtype != "STRING":  # proto3 JSON leaves out the default enum value
        d["vType"] = vtype
    v = kv["value"]
    d[field] = str(v) if vtype == "INT64" else v  # int64 is a string in proto3 JSON
    return d


def jaeger_to_api_v2(ui: dict) -> dict:
    """Jaeger api_v2 proto-JSON ``{"spans": [...]}``: base64 ids, RFC 3339 starts, Duration strings."""
    spans = []
    for t in ui["data"]:
        for s in t["spans"]:
            p = t["processes"][s["processID"]]
            spans.append({
                "traceId": _b64(s["traceID"], 16), "spanId": _b64(s["spanID"], 8), "operationName": s["operationName"],
                "references": [dict({"traceId": _b64(r["traceID"], 16), "spanId": _b64(r["spanID"], 8)},
                                    **({} if r["refType"] == "CHILD_OF" else {"refType": r["refType"]}))
                               for r in s["references"]],
                "flags": s["flags"], "startTime": _rfc3339(s["startTime"]), "duration": f"{s['duration'] / 1e6:.6f}s",
                "tags": [_proto_kv(kv) for kv in s["tags"]],
                "logs": [{"timestamp": _rfc3339(lg["timestamp"]), "fields": [_proto_kv(kv) for kv in lg["fields"]]}
                         for lg in s["logs"]],
                "process": {"serviceName": p["serviceName"], "tags": [_proto_kv(kv) for kv in p["tags"]]},
            })
    return {"spans": spans}


def jaeger_bare_spans(ui: dict) -> list:
    """A bare list of spans each carrying its ``process`` inline (jaeger anonymizer output)."""
    out = []
    for t in ui["data"]:
        for s in t["spans"]:
            s = dict(s)
            s["process"] = t["processes"][s.pop("processID")]
            out.append(s)
    return out


def otlp_subset(otlp: dict, trace_ids: set) -> dict:
    rss = []
    for rs in otlp["resourceSpans"]:
        sss = []
        for ss in rs["scopeSpans"]:
            spans = [s for s in ss["spans"] if s["traceId"] in trace_ids]
            if spans:
                sss.append({"scope": ss["scope"], "spans": spans})
        if sss:
            rss.append({"resource": rs["resource"], "scopeSpans": sss})
    return {"resourceSpans": rss}
