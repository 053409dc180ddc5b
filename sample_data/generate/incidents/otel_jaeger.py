"""Our own small OpenTelemetry exporter: spans as JSON lines, then one Jaeger UI JSON file.

Each service process calls :func:`setup_tracer`; the real OTel SDK makes the spans and
:class:`JsonLinesExporter` appends each finished span to a per-process ``.jsonl`` file
(flushed at once, so a process that is SIGKILLed keeps what it had finished — like a
real agent that already shipped them). :func:`write_jaeger_ui` groups every line by
trace and writes what the Jaeger UI "Download JSON" button produces:
``{"data": [{"traceID", "spans", "processes", "warnings"}], "total", "limit", "offset", "errors"}``.
"""
from __future__ import annotations

import json
import os
import threading

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind

_KIND = {SpanKind.SERVER: "server", SpanKind.CLIENT: "client", SpanKind.PRODUCER: "producer",
         SpanKind.CONSUMER: "consumer", SpanKind.INTERNAL: "internal"}


class JsonLinesExporter(SpanExporter):
    def __init__(self, path):
        self._f = open(path, "a", buffering=1)
        self._lock = threading.Lock()

    def export(self, spans):
        with self._lock:
            for s in spans:
                ctx = s.context
                rec = {
                    "trace_id": f"{ctx.trace_id:032x}", "span_id": f"{ctx.span_id:016x}",
                    "parent_id": f"{s.parent.span_id:016x}" if s.parent else None,
                    "name": s.name, "kind": _KIND.get(s.kind, "internal"),
                    "start_ns": s.start_time, "end_ns": s.end_time,
                    "attributes": dict(s.attributes or {}),
                    "status": s.status.status_code.name, "status_description": s.status.description,
                    "events": [{"name": e.name, "time_ns": e.timestamp, "attributes": dict(e.attributes or {})}
                               for e in s.events],
                    "resource": dict(s.resource.attributes),
                }
                self._f.write(json.dumps(rec, default=str) + "\n")
        return SpanExportResult.SUCCESS

    def shutdown(self):
        self._f.close()


def setup_tracer(service: str, host: str, ip: str, out_path: str):
    resource = Resource.create({"service.name": service, "host.name": host, "host.ip": ip,
                                "telemetry.sdk.language": "python"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(SimpleSpanProcessor(JsonLinesExporter(out_path)))
    trace.set_tracer_provider(provider)
    return trace.get_tracer(service)


def _tag(key, v):
    if isinstance(v, bool):
        return {"key": key, "type": "bool", "value": v}
    if isinstance(v, int):
        return {"key": key, "type": "int64", "value": v}
    if isinstance(v, float):
        return {"key": key, "type": "float64", "value": v}
    if isinstance(v, (list, tuple)):
        v = json.dumps(list(v))
    return {"key": key, "type": "string", "value": str(v)}


def write_jaeger_ui(jsonl_paths, out_path):
    """Merge span lines into a Jaeger UI JSON download; returns (traces, spans)."""
    traces: dict[str, dict] = {}
    for p in jsonl_paths:
        if not os.path.exists(p):
            continue
        with open(p) as f:
            for line in f:
                if not line.strip():
                    continue
                r = json.loads(line)
                t = traces.setdefault(r["trace_id"], {"traceID": r["trace_id"], "spans": [], "processes": {},
                                                      "_pkeys": {}, "warnings": None})
                res = r["resource"]
                pkey = (res.get("service.name"), res.get("host.name"), res.get("host.ip"))
                if pkey not in t["_pkeys"]:
                    pid = f"p{len(t['_pkeys']) + 1}"
                    t["_pkeys"][pkey] = pid
                    t["processes"][pid] = {"serviceName": pkey[0], "tags": [
                        _tag("hostname", pkey[1]), _tag("ip", pkey[2]),
                        _tag("telemetry.sdk.language", res.get("telemetry.sdk.language", "python")),
                        _tag("telemetry.sdk.name", res.get("telemetry.sdk.name", "opentelemetry")),
                        _tag("telemetry.sdk.version", res.get("telemetry.sdk.version", ""))]}
                tags = [_tag(k, v) for k, v in r["attributes"].items()]
                tags.append(_tag("span.kind", r["kind"]))
                if r["status"] == "ERROR":
                    tags.append(_tag("error", True))
                    tags.append(_tag("otel.status_code", "ERROR"))
                    if r.get("status_description"):
                        tags.append(_tag("otel.status_description", r["status_description"]))
                logs = [{"timestamp": e["time_ns"] // 1000,
                         "fields": [_tag("event", e["name"])] + [_tag(k, v) for k, v in e["attributes"].items()]}
                        for e in r["events"]]
                refs = ([{"refType": "CHILD_OF", "traceID": r["trace_id"], "spanID": r["parent_id"]}]
                        if r["parent_id"] else [])
                t["spans"].append({
                    "traceID": r["trace_id"], "spanID": r["span_id"], "operationName": r["name"],
                    "references": refs, "startTime": r["start_ns"] // 1000,
                    "duration": max(0, (r["end_ns"] - r["start_ns"]) // 1000), "tags": tags, "logs": logs,
                    "processID": t["_pkeys"][pkey], "warnings": None, "flags": 1})
    data = []
    for t in sorted(traces.values(), key=lambda t: min(s["startTime"] for s in t["spans"])):
        t.pop("_pkeys")
        t["spans"].sort(key=lambda s: s["startTime"])
        data.append(t)
    with open(out_path, "w") as f:
        json.dump({"data": data, "total": 0, "limit": 0, "offset": 0, "errors": None}, f, separators=(",", ":"))
    return len(data), sum(len(t["spans"]) for t in data)
