"""Which reader takes a parsed JSON value: the shape dispatch of the general reader.

The shapes and where they come from are in ``docs/traces.md``; the variants other tools write (proto
field names, Tempo's ``batches``, Jaeger's Go model, Elasticsearch span documents, Zipkin v1) are
normalised by :mod:`variants` and :mod:`zipkin_v1` first.
"""
from __future__ import annotations

from . import formats as F
from . import variants as V
from . import zipkin_v1


def is_zipkin_span(o) -> bool:
    return isinstance(o, dict) and (("traceId" in o and "id" in o and "spanId" not in o) or zipkin_v1.is_thrift(o))


def _zipkin(spans: list, cols, where: str, shapes: list) -> None:
    shapes.append("zipkin")
    if any(zipkin_v1.is_v1(s) for s in spans):
        spans = zipkin_v1.spans_v2(spans)
    F.read_zipkin(spans, cols, where)


def _spans_object(v: dict, spans: list, cols, where: str, shapes: list) -> None:
    """``{"spans": [...]}``: a Jaeger trace, api_v2 proto-JSON or a Jaeger Go-model batch."""
    process = v.get("process")
    if V.is_jaeger_model(spans):
        shapes.append("jaeger model")
        return F.read_proto_spans(V.jaeger_model_spans(spans, process), cols, where + ".spans")
    first = next((s for s in spans if isinstance(s, dict)), {})
    if "spanId" in first or "traceId" in first:
        if isinstance(process, dict):  # a batch: its process is every span's without one
            spans = [dict(s, process=process) if isinstance(s, dict) and not s.get("process") else s for s in spans]
        shapes.append("jaeger api_v2")
        return F.read_proto_spans(spans, cols, where + ".spans")
    shapes.append("jaeger ui")
    return F.read_jaeger_trace(v, cols, where)


def _other_json(v: dict) -> str:
    """Why a JSON object is not a trace export — naming the near misses people hand over."""
    traces = v.get("traces")
    if isinstance(traces, list) and traces and isinstance(traces[0], dict) and "traceID" in traces[0] and (
            "spanSet" in traces[0] or "spanSets" in traces[0] or "rootServiceName" in traces[0]):
        return (f"a Grafana Tempo search response: summaries of {len(traces):,} trace(s) whose matched spans carry "
                "no parents, not a trace export — save each trace from Tempo's /api/traces/<traceID> instead")
    if "Spans" in v and "Node" in v:
        return "an OpenCensus span batch (Node, Spans): not a trace export format this loader reads"
    return "JSON object with none of the trace keys (resourceSpans, data, spans, traceID)"


def read_value(v, cols, where: str, shapes: list) -> None:
    """Route one JSON value to the reader for its shape."""
    if isinstance(v, dict):
        if "resourceSpans" in v:
            shapes.append("otlp"); return F.read_otlp(v, cols, where)
        if V.is_otlp_variant(v):
            shapes.append("otlp"); return F.read_otlp(V.otlp_document(v), cols, where)
        if isinstance(v.get("result"), dict):
            return read_value(v["result"], cols, where + ".result", shapes)
        if isinstance(v.get("traces"), dict) and "meta" in v:
            # a Grafana Faro payload (web SDK → Agent/Alloy receiver): {meta, logs, …, traces: TracesData}
            return read_value(v["traces"], cols, where + ".traces", shapes)
        if "data" in v and isinstance(v["data"], (list, dict)):
            data = v["data"]
            if isinstance(data, dict):
                data = [data]
            shapes.append("jaeger ui")
            for i, t in enumerate(data):
                if not isinstance(t, dict):
                    raise F.Bad(f"{where}.data[{i}]", "trace is not a JSON object")
                F.read_jaeger_trace(t, cols, f"{where}.data[{i}]")
            errors = v.get("errors")
            if errors:
                cols.envelope_errors.extend(errors if isinstance(errors, list) else [errors])
            return
        if isinstance(v.get("batch"), dict):  # Jaeger's PostSpansRequest {"batch": {process, spans}}
            return read_value(v["batch"], cols, where + ".batch", shapes)
        batches = v.get("batches")
        if isinstance(batches, list) and batches and all(isinstance(b, dict) and "spans" in b for b in batches):
            for i, b in enumerate(batches):  # several Jaeger batches, each with its process
                read_value(b, cols, f"{where}.batches[{i}]", shapes)
            return
        spans = v.get("spans")
        if isinstance(spans, list):
            return _spans_object(v, spans, cols, where, shapes)
        if "spanID" in v and "traceID" in v:
            shapes.append("jaeger span"); return F.read_jaeger_spans([V.es_span(v)], cols, where)
        if is_zipkin_span(v):
            return _zipkin([v], cols, where, shapes)
        if V.is_bulk_action(v):  # an Elasticsearch _bulk action line: no span in it
            return
        raise F.Bad(where, _other_json(v))
    if isinstance(v, list):
        if not v:
            return
        first = v[0]
        if isinstance(first, list):  # Zipkin /api/v2/traces: a list of traces
            for i, t in enumerate(v):
                read_value(t, cols, f"{where}[{i}]", shapes)
            return
        if is_zipkin_span(first):
            return _zipkin(v, cols, where, shapes)
        if isinstance(first, dict) and "spanID" in first and "spans" not in first:
            shapes.append("jaeger span list")
            return F.read_jaeger_spans([V.es_span(s) if isinstance(s, dict) else s for s in v], cols, where)
        for i, t in enumerate(v):
            read_value(t, cols, f"{where}[{i}]", shapes)
        return
    raise F.Bad(where, f"a JSON {type(v).__name__}, not a trace export")
