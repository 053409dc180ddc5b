"""The compiled readers (Jaeger UI: jaeger_scan / jaeger_fast; OTLP: otlp_scan / otlp_fast) give exactly the
general reader's tables."""
import glob
import json
import os
import warnings

import pandas.testing as pdt
import pytest

from forensics.artifact import ArtifactWarning
from forensics.traces import load_traces
from support import wild_files

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# the wild corpus is third-party and not committed: its JSON exports join in when they are on this machine
WILD_RELS = [s["file"] for s in json.load(open(os.path.join(ROOT, "tests", "traces", "wild", "SOURCES.json")))
             if s["file"].endswith((".json", ".jsonl"))]
WILD = wild_files("traces", WILD_RELS)
SAMPLE = sorted(glob.glob(os.path.join(ROOT, "sample_data", "traces", "**", "*.json*"), recursive=True)
                + glob.glob(os.path.join(ROOT, "sample_data", "incidents", "*", "traces.json")))
IDS = {**{p: os.path.relpath(p, ROOT) for p in SAMPLE}, **{str(p): f"tests/traces/wild/{r}" for r, p in WILD.items()}}
FILES = sorted(IDS, key=IDS.get)


def both(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArtifactWarning)
        return load_traces(path), load_traces(path, fast=False)


@pytest.mark.parametrize("path", FILES, ids=[IDS[p] for p in FILES])
def test_same_tables(path):
    fast, general = both(path)
    if fast.provenance.details.get("reader") != "compiled scan":
        pytest.skip("not a document the compiled readers take: the general reader reads it")
    for name in ("spans", "tags", "logs", "references", "processes", "orphans", "skew"):
        pdt.assert_frame_equal(getattr(fast, name), getattr(general, name), obj=name)
    assert fast.provenance.sha256 == general.provenance.sha256 and fast.shapes == general.shapes


def test_the_scan_takes_the_jaeger_exports():
    taken = [p for p in FILES if load_traces(p).provenance.details.get("reader") == "compiled scan"]
    # the sample data holds 6 Jaeger UI documents, the whole wild corpus 19 more
    assert len(taken) >= (20 if len(WILD) == len(WILD_RELS) else 6)
    assert any(p.endswith("checkout.jaeger.json") for p in taken)


def test_odd_values_and_escapes(tmp_path):
    trace = {"traceID": "AB", "spans": [
        {"traceID": "AB", "spanID": "01", "operationName": "caf\u00e9 \"q\" \\ \U0001F600 \\u0041\n/", "startTime": 10,
         "duration": 5, "references": [], "processID": "p1",
         "tags": [{"key": "f", "type": "float64", "value": 1.50}, {"key": "e", "value": 1e3},
                  {"key": "n", "value": None}, {"key": "b", "type": "string", "value": False},
                  {"key": "i", "value": 2 ** 62}, {"key": "error", "value": "true"}, {"key": "t", "type": "", "value": "x"},
                  {"key": "span.kind", "value": "Client"}, {"key": "span.kind", "value": "server"}],
         "logs": [{"timestamp": 12, "fields": [{"key": "event", "value": "boom"}, {"key": "z", "value": 1}]}]},
        {"traceID": "AB", "spanID": "02", "parentSpanID": "01", "startTime": 11, "processID": "nope",
         "operationName": None, "tags": None, "logs": None, "references": None},
        {"traceID": "AB", "spanID": "03", "startTime": 12, "duration": None, "flags": None,
         "references": [{"spanID": "01"}, {"refType": "FOLLOWS_FROM", "traceID": "cd", "spanID": "09"}]}],
        "processes": {"p1": {"serviceName": "s\u00e9rvice", "tags": [{"key": "hostname", "value": "h"}]},
                      "p2": None}}
    for ascii_only in (True, False):  # \u escapes (a surrogate pair too) and raw UTF-8
        p = tmp_path / "odd.json"
        p.write_text(json.dumps({"data": [trace], "total": 0, "errors": None}, ensure_ascii=ascii_only).replace("/", "\\/"),
                     encoding="utf-8")
        fast, general = both(str(p))
        assert fast.provenance.details.get("reader") == "compiled scan"
        for name in ("spans", "tags", "logs", "references", "processes"):
            pdt.assert_frame_equal(getattr(fast, name), getattr(general, name), obj=name)
    assert fast.spans["operation"].iloc[0] == "caf\u00e9 \"q\" \\ \U0001F600 \\u0041\n/"
    assert fast.spans["kind"].iloc[0] == "server" and fast.spans["service"].tolist()[1] == "unknown-service"


@pytest.mark.parametrize("doc", [
    {"data": [{"traceID": "a", "spans": [{"traceID": "a", "spanID": "1", "startTime": 1.5}]}]},  # float time
    {"data": [{"traceID": "a", "spans": [{"traceID": "a", "spanID": "1", "startTime": 1, "process": {"serviceName": "x"}}]}]},
    {"data": [{"traceID": "a", "spans": [{"traceID": "a", "spanID": "1", "startTime": 1,
                                          "tags": [{"key": "o", "value": {"a": 1}}]}]}]},
    {"data": [{"traceID": "a", "spans": [{"traceID": "a", "spanID": "1", "startTime": 1}]}], "errors": [{"code": 1}]},
])
def test_the_scan_declines_what_it_does_not_know(tmp_path, doc):
    p = tmp_path / "d.json"
    p.write_text(json.dumps(doc))
    fast, general = both(str(p))
    assert fast.provenance.details.get("reader") is None
    pdt.assert_frame_equal(fast.spans, general.spans)


def _otlp_doc(spans, resource=None, scope_key="scope"):
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [{scope_key: {"name": "lib"}, "spans": spans}]}]}


ODD_OTLP_SPANS = [
    {"traceId": "AB" * 16, "spanId": "01" * 8, "name": "caf\u00e9 \"q\" \\u0041\n", "kind": "SPAN_KIND_CLIENT",
     "startTimeUnixNano": "1000", "endTimeUnixNano": 2500, "flags": 257, "traceState": "x=1",
     "status": {"code": "STATUS_CODE_ERROR", "message": "boom"},
     "attributes": [{"key": "s", "value": {"stringValue": "v\u00e9"}}, {"key": "i", "value": {"intValue": "42"}},
                    {"key": "i2", "value": {"intValue": 7}}, {"key": "i3", "value": {"intValue": "-0012"}},
                    {"key": "d", "value": {"doubleValue": 1}}, {"key": "b", "value": {"boolValue": False}},
                    {"key": "y", "value": {"bytesValue": "AAAwOQ=="}}, {"key": "e", "value": {}},
                    {"key": "n", "value": None}, {"key": "two", "value": {"stringValue": "a", "intValue": "1"}},
                    {"key": "arr", "value": {"arrayValue": {"values": [{"intValue": "1"}, {"stringValue": "x"}]}}},
                    {"key": "kv", "value": {"kvlistValue": {"values": [{"key": "k", "value": {"boolValue": True}}]}}},
                    {"key": "peer.service", "value": {"stringValue": "first"}},
                    {"key": "peer.service", "value": {"stringValue": "db"}}],
     "events": [{"timeUnixNano": "1200", "name": "ev", "attributes": [{"key": "a", "value": {"doubleValue": 0.5}}]},
                {"timeUnixNano": "1300"}],
     "links": [{"traceId": "cd" * 16, "spanId": "02" * 8, "attributes": [
         {"key": "opentracing.ref_type", "value": {"stringValue": "child_of"}}]}, {"spanId": "03" * 8}]},
    {"traceId": "ab" * 16, "spanId": "04" * 8, "parentSpanId": "01" * 8, "kind": 9, "startTimeUnixNano": "1100",
     "endTimeUnixNano": "0", "status": {"code": 1, "message": ""}, "name": None, "attributes": None},
    {"traceId": "ab" * 16, "spanId": "05" * 8, "parentSpanId": "", "kind": "weird", "startTimeUnixNano": 1150,
     "endTimeUnixNano": "", "status": None},
]


@pytest.mark.parametrize("variant", ["plain", "result", "jsonl", "ascii", "instrumentationLibrary"])
def test_otlp_odd_values_and_shapes(tmp_path, variant):
    res = {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}},
                          {"key": "host.name", "value": {"stringValue": "h1"}}]}
    doc = _otlp_doc(ODD_OTLP_SPANS, res, "instrumentationLibrary" if variant == "instrumentationLibrary" else "scope")
    p = tmp_path / "o.json"
    if variant == "result":
        p.write_text(json.dumps({"result": doc}))
    elif variant == "jsonl":  # the file exporter: one TracesData a line, a resource repeated, one without
        p.write_text(json.dumps(doc) + "\n" + json.dumps(_otlp_doc(ODD_OTLP_SPANS[1:], None)) + "\n\n"
                     + json.dumps(doc) + "\n")
    else:
        p.write_text(json.dumps(doc, ensure_ascii=variant == "ascii"), encoding="utf-8")
    fast, general = both(str(p))
    assert fast.provenance.details.get("reader") == "compiled scan"
    for name in ("spans", "tags", "logs", "references", "processes", "orphans", "skew"):
        pdt.assert_frame_equal(getattr(fast, name), getattr(general, name), obj=name)
    assert fast.shapes == general.shapes == ["otlp"]
    assert fast.spans["peer_service"].iloc[0] == "db" and fast.spans["kind"].tolist()[:3] == ["client", "internal", "weird"]


@pytest.mark.parametrize("doc", [
    _otlp_doc([{"traceId": "q83vEjRWeJA=", "spanId": "01" * 8}]),  # base64 id: the general reader decodes it
    _otlp_doc([{"traceId": "ab", "spanId": "01", "startTimeUnixNano": 1.5}]),  # a float time
    _otlp_doc([{"traceId": "ab", "spanId": "01", "status": {"code": True}}]),  # True == 1 for Python's lookup
    _otlp_doc([{"traceId": "ab", "spanId": "01", "kind": None}]),
    {"resourceSpans": [{"scopeSpans": [], "instrumentationLibrarySpans": [{"spans": [{"traceId": "ab", "spanId": "01"}]}]}]},
    dict(_otlp_doc([{"traceId": "ab", "spanId": "01"}]), result=_otlp_doc([{"traceId": "ab", "spanId": "02"}])),
])
def test_the_otlp_scan_declines_what_it_does_not_know(tmp_path, doc):
    p = tmp_path / "d.json"
    p.write_text(json.dumps(doc))
    fast, general = both(str(p))
    assert fast.provenance.details.get("reader") is None
    pdt.assert_frame_equal(fast.spans, general.spans)


ODD_ZIPKIN = [
    {"traceId": "AB" * 16, "id": "1", "name": "caf\u00e9 \"q\"\n", "kind": "CLIENT", "timestamp": 10, "duration": 5,
     "localEndpoint": {"serviceName": "s\u00e9rvice", "ipv4": "10.0.0.1", "port": 80}, "debug": True, "shared": False,
     "remoteEndpoint": {"serviceName": "db", "ipv6": "::1"},
     "annotations": [{"timestamp": 12, "value": "ws"}, {"timestamp": 13, "value": "{\"boom\": {\"a\": 1}}"}],
     "tags": {"error": "t\u0072ue", "otel.scope.name": "", "otel.library.name": "lib", "peer.service": "ignored"}},
    {"traceId": "ab" * 16, "id": "02", "parentId": "1", "timestamp": None, "localEndpoint": None, "name": None,
     "tags": {"error": "bad thing", "otel.status_code": "error", "otel.scope.name": "sc", "peer.service": "p"}},
    {"traceId": "ab" * 16, "id": "03", "parentId": "", "kind": "", "localEndpoint": {"ipv6": "::2"},
     "remoteEndpoint": {"serviceName": ""}, "tags": {"error": "", "otel.status_description": ""}, "debug": None},
    {"traceId": "ab" * 16, "id": "04", "parentId": "02", "localEndpoint": {"serviceName": "s\u00e9rvice", "ipv4": "10.0.0.1",
                                                                            "port": 80}, "tags": None},
]


@pytest.mark.parametrize("variant", ["spans", "traces", "jsonl", "ascii"])
def test_zipkin_odd_values_and_shapes(tmp_path, variant):
    p = tmp_path / "z.json"
    if variant == "traces":  # /api/v2/traces: a list of trace arrays (one empty)
        p.write_text(json.dumps([ODD_ZIPKIN[:2], [], ODD_ZIPKIN[2:]]))
    elif variant == "jsonl":
        p.write_text(json.dumps(ODD_ZIPKIN[:2]) + "\n" + json.dumps(ODD_ZIPKIN[2:]) + "\n")
    else:
        p.write_text(json.dumps(ODD_ZIPKIN, ensure_ascii=variant == "ascii"), encoding="utf-8")
    fast, general = both(str(p))
    assert fast.provenance.details.get("reader") == "compiled scan"
    for name in ("spans", "tags", "logs", "references", "processes", "orphans", "skew"):
        pdt.assert_frame_equal(getattr(fast, name), getattr(general, name), obj=name)
    assert fast.shapes == general.shapes == ["zipkin"]
    assert fast.spans["span_id"].iloc[0] == "0000000000000001" and fast.spans["scope"].iloc[0] == "lib"


@pytest.mark.parametrize("doc", [
    [{"traceId": "a", "id": "1", "tags": {"n": 1}}],  # a number: str() of it is Python's
    None,  # a tag key given twice (json.dumps cannot write it: the text below)
    [{"traceId": "a", "id": "1", "timestamp": 1.5}],
    [{"traceId": "a", "id": "1", "debug": 1}],
    [{"traceId": "a", "spanId": "1", "id": "1"}],
    [[[{"traceId": "a", "id": "1"}]]],
])
def test_the_zipkin_scan_declines_what_it_does_not_know(tmp_path, doc):
    p = tmp_path / "d.json"
    p.write_text(json.dumps(doc) if doc is not None else '[{"traceId": "a", "id": "1", "tags": {"k": "x", "k": "y"}}]')
    try:
        fast, general = both(str(p))
    except Exception as e:  # a shape the general reader refuses too: same error either way
        with pytest.raises(type(e)):
            load_traces(str(p), fast=False)
        return
    assert fast.provenance.details.get("reader") is None
    pdt.assert_frame_equal(fast.spans, general.spans)


def test_resource_spans_beside_data_is_otlp(tmp_path):
    # the general reader tests for "resourceSpans" before "data": the Jaeger scan must not take it
    doc = {"data": [{"traceID": "a", "spans": [{"traceID": "a", "spanID": "1", "startTime": 1}]}],
           "resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "ab", "spanId": "02"}]}]}]}
    p = tmp_path / "both.json"
    p.write_text(json.dumps(doc))
    fast, general = both(str(p))
    assert fast.shapes == general.shapes == ["otlp"]
    pdt.assert_frame_equal(fast.spans, general.spans)


def test_tag_keys_and_types_without_the_intern_table():
    # past INTERN_TEXTS distinct texts the scan's codes are -1: the columns are then gathered byte by byte
    import numpy as np

    from forensics.traces import jaeger_fast, jaeger_scan

    raw = open(os.path.join(ROOT, "sample_data", "traces", "checkout.jaeger.json"), "rb").read()
    got = jaeger_scan.scan(raw)
    tags, interned = got[2], got[6]
    b = np.frombuffer(raw, dtype=np.uint8)
    kind = tags[:, 7]
    has_type = (tags[:, 3] >= 0) & (kind != jaeger_scan.VAL_TRUE) & (kind != jaeger_scan.VAL_FALSE)
    coded = jaeger_fast._key_and_type(b, tags, kind, has_type, interned, jaeger_fast._Consts())
    overflowed = tags.copy()
    overflowed[:, 9] = -1
    gathered = jaeger_fast._key_and_type(b, overflowed, kind, has_type, interned, jaeger_fast._Consts())
    assert [a.to_pylist() for a in coded] == [a.to_pylist() for a in gathered]
