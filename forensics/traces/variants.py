"""The same formats as other tools write them: normalised to the shapes :mod:`formats` reads.

* **Proto field names** — the proto3 JSON mapping lets a writer use the original field names
  (``resource_spans``, ``scope_spans``, ``trace_id``, ``start_time_unix_nano``, ``string_value`` …) and
  tells parsers to accept both them and the lowerCamelCase names; Fluent Bit, Go's ``encoding/json`` of
  generated structs and ``protojson`` with ``UseProtoNames`` write them. :func:`camel_keys` renames them.
  OTLP JSON has no map with keys of the user's (attributes are ``[{key, value}]`` lists), so every key
  of the document may be renamed.
* **Grafana Tempo's trace API** (``/api/traces/<id>``, as saved from Grafana and in Kiali's tests) writes
  ``tempopb.Trace`` with gogo ``jsonpb``: ``{"batches": [ResourceSpans…]}``, ids in base64 (proto ``bytes``),
  enums by name (``SPAN_KIND_CLIENT``, ``STATUS_CODE_ERROR``) — the proto3 mapping, where OTLP/JSON
  proper asks for hex ids and integer enums. :func:`otlp_document` gives ``{"resourceSpans": …}``;
  :func:`formats.read_otlp` already takes base64 ids and enum names.
* **Jaeger's Go model** (``model.Batch``/``model.Span`` through ``encoding/json``: Jaeger's
  ``PostSpansRequest`` ``{"batch": {...}}``, Elastic APM server's and the OpenTelemetry Collector's
  Jaeger test data): snake_case keys, base64 ``trace_id``/``span_id`` (or a ``parent_span_id``
  number), ``start_time`` in RFC 3339, ``duration`` a Go ``time.Duration`` — **integer nanoseconds** —,
  ``v_type``/``ref_type`` enums as integers (0 STRING, 1 BOOL, 2 INT64, 3 FLOAT64, 4 BINARY; 0 CHILD_OF,
  1 FOLLOWS_FROM), the batch's ``process`` shared by its spans. :func:`jaeger_model_spans` gives api_v2
  proto-JSON spans (:func:`formats.read_proto_spans`).
* **Jaeger's Elasticsearch/OpenSearch span documents** (a ``_bulk`` file or an index dump): each span a
  document with inline ``process``, ``startTimeMillis``, and — with ``--es.tags-as-fields`` — tags as a
  ``tag`` map whose keys have their dots replaced by ``@`` (Jaeger's default ``dot-replacement``).
  :func:`es_span` puts them back into the ``tags`` list; bulk action lines (``{"index": {}}``) are
  :func:`is_bulk_action` and carry no span.
"""
from __future__ import annotations

import re

_SNAKE = re.compile(r"_([a-z0-9])")
_VTYPE = {0: "STRING", 1: "BOOL", 2: "INT64", 3: "FLOAT64", 4: "BINARY"}
_REFTYPE = {0: "CHILD_OF", 1: "FOLLOWS_FROM"}
_BULK_ACTIONS = {"index", "create", "update", "delete"}


def camel(key: str) -> str:
    """``start_time_unix_nano`` → ``startTimeUnixNano`` (proto3 JSON's lowerCamelCase name)."""
    return _SNAKE.sub(lambda m: m.group(1).upper(), key) if "_" in key else key


def camel_keys(v):
    """A copy of a parsed JSON value with every object key in lowerCamelCase."""
    if isinstance(v, dict):
        return {camel(k) if isinstance(k, str) else k: camel_keys(x) for k, x in v.items()}
    if isinstance(v, list):
        return [camel_keys(x) for x in v]
    return v


def is_otlp_variant(v: dict) -> bool:
    """OTLP TracesData under its proto field name or Tempo's ``batches`` (a list of resource spans)."""
    for key in ("resource_spans", "batches"):
        rs = v.get(key)
        if isinstance(rs, list) and (not rs or (isinstance(rs[0], dict) and any(
                k in rs[0] for k in ("scopeSpans", "scope_spans", "instrumentationLibrarySpans",
                                     "instrumentation_library_spans", "resource")))):
            return True
    return False


def otlp_document(v: dict) -> dict:
    """``{"resourceSpans": [...]}`` of an OTLP variant (proto field names, Tempo's ``batches``)."""
    doc = camel_keys(v)
    if "resourceSpans" not in doc:
        doc["resourceSpans"] = doc.pop("batches")
    return doc


def is_jaeger_model(spans: list) -> bool:
    """Spans of Jaeger's Go model JSON (snake_case ids)."""
    first = next((s for s in spans if isinstance(s, dict)), {})
    return "trace_id" in first and "span_id" in first


def _id(v):
    """A base64 id as is (read by :func:`formats.b64_hex`), a number as 16 hex digits."""
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return f"{v & (2**64 - 1):016x}"
    return v


def _kvs(kvs):
    out = []
    for kv in kvs or ():
        kv = dict(kv)
        vt = kv.get("vType")
        if isinstance(vt, int) and not isinstance(vt, bool):
            kv["vType"] = _VTYPE.get(vt, "STRING")
        out.append(kv)
    return out


def jaeger_model_spans(spans: list, process=None) -> list:
    """api_v2 proto-JSON spans from Jaeger's Go model JSON (see the module doc); ``process``: the batch's."""
    out = []
    for s in camel_keys(spans):
        if not isinstance(s, dict):
            out.append(s)
            continue
        s["traceId"], s["spanId"] = _id(s.get("traceId")), _id(s.get("spanId"))
        d = s.get("duration")
        if isinstance(d, (int, float)) and not isinstance(d, bool):
            s["duration"] = f"{int(d)}ns"  # Go time.Duration: nanoseconds
        refs = []
        for r in s.get("references") or ():
            r = dict(r)
            rt = r.get("refType")
            if isinstance(rt, int) and not isinstance(rt, bool):
                r["refType"] = _REFTYPE.get(rt, "CHILD_OF")
            r["traceId"], r["spanId"] = _id(r.get("traceId")) or s["traceId"], _id(r.get("spanId"))
            refs.append(r)
        parent = s.get("parentSpanId")
        if not refs and parent not in (None, "", 0, "0"):
            refs = [{"refType": "CHILD_OF", "traceId": s["traceId"], "spanId": _id(parent)}]
        s["references"] = refs
        s["tags"] = _kvs(s.get("tags"))
        s["logs"] = [dict(log, fields=_kvs(log.get("fields"))) for log in s.get("logs") or ()]
        p = s.get("process") or (camel_keys(process) if isinstance(process, dict) else None)
        if isinstance(p, dict):
            s["process"] = dict(p, tags=_kvs(p.get("tags")))
        out.append(s)
    return out


def is_bulk_action(v) -> bool:
    """An Elasticsearch/OpenSearch ``_bulk`` action line: ``{"index": {...}}`` and the like."""
    return isinstance(v, dict) and len(v) == 1 and next(iter(v)) in _BULK_ACTIONS and isinstance(
        next(iter(v.values())), dict)


def _tag_map(kvs, tag_map) -> list:
    """The ``tags`` list with the ``tag`` map's entries added (``@`` back to ``.`` in their keys)."""
    if not isinstance(tag_map, dict) or not tag_map:
        return kvs
    out = list(kvs or ())
    for k, v in tag_map.items():
        typ = "bool" if isinstance(v, bool) else "int64" if isinstance(v, int) else \
            "float64" if isinstance(v, float) else "string"
        out.append({"key": str(k).replace("@", "."), "type": typ, "value": v})
    return out


def es_span(s: dict) -> dict:
    """A Jaeger Elasticsearch span document as a Jaeger UI span (``tag`` maps merged into ``tags``)."""
    if "tag" not in s and not isinstance((s.get("process") or {}).get("tag"), dict):
        return s
    s = dict(s, tags=_tag_map(s.get("tags"), s.get("tag")))
    s.pop("tag", None)
    p = s.get("process")
    if isinstance(p, dict) and "tag" in p:
        s["process"] = {k: x for k, x in dict(p, tags=_tag_map(p.get("tags"), p.get("tag"))).items() if k != "tag"}
    return s
