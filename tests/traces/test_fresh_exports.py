"""Exports other projects made (tests/traces/wild/<owner>+<repo>/, listed in wild/MANIFEST.tsv, not committed):
each file read as our labels say (wild/fresh_labels.json: the independent count of fresh_exports.py, and
Zipkin's links as zipkin's own code gives them — see fresh_exports.ZIPKIN_LINKS), and the
rules those files needed, each on the wild file that showed it. Bad input: tiny hand-written cases."""
import json
import os
import sys
import warnings

import pandas.testing as pdt
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fresh_exports as FE  # noqa: E402  (our counter, beside this file)
from forensics.artifact import ArtifactError, ArtifactWarning  # noqa: E402
from forensics.traces import load_traces  # noqa: E402
from forensics.traces.edges import dependencies  # noqa: E402
from support import missing_wild_reason, wild_file  # noqa: E402

LABELS = FE.labels()


def load(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArtifactWarning)
        return load_traces(path, **kw)


def fresh(rel):
    p = wild_file("traces", rel)
    if p is None:
        pytest.skip(f"{rel}: " + missing_wild_reason("traces", 1, 1))
    return str(p)


def test_every_fresh_file_is_labelled():
    assert sorted(LABELS) == FE.fresh_files() and len(LABELS) >= 25
    assert len({r.split("/")[0] for r in LABELS}) >= 12


@pytest.mark.parametrize("rel", sorted(LABELS))
def test_fresh_export_reads_as_labelled(rel):
    # spans, traces, orphans, kinds, errors and Jaeger's dependency links (Jaeger/OTLP files) or Zipkin's
    # links (Zipkin files) as labelled; a file of no trace format gives a clear ArtifactError
    path = fresh(rel)
    v = FE.verdict(dict(LABELS[rel], file=rel), FE.measure(path))
    assert v.startswith("ok") or (rel in FE.KNOWN_DIFFERENCES and v.startswith("known difference")), v


@pytest.mark.parametrize("rel", sorted(r for r, x in LABELS.items() if not x.get("not_trace")))
def test_fresh_export_same_tables_either_reader(rel):
    fast, general = load(fresh(rel)), load(fresh(rel), fast=False)
    for name in ("spans", "tags", "logs", "references", "processes", "orphans"):
        pdt.assert_frame_equal(getattr(fast, name), getattr(general, name), obj=name)


# ------------------------------------------------------------------ the rules, on the files that showed them

def test_otlp_under_proto_field_names():
    # Fluent Bit's test payloads write resource_spans / scope_spans / trace_id / start_time_unix_nano ...
    # (proto3 JSON: parsers accept the original field names too)
    ts = load(fresh("fluent+fluent-bit/test_traces_002.in.json"))
    sp = ts.spans
    assert ts.shapes == ["otlp"] and list(sp["operation"]) == ["parent-span", "child-span"]
    assert list(sp["kind"]) == ["server", "client"] and list(sp["status_code"]) == ["OK", "ERROR"]
    assert sp.loc[1, "parent_span_id"] == sp.loc[0, "span_id"] == "1111111111111111"
    assert list(sp["duration_us"]) == [1_000_000, 800_000]


def test_tempo_trace_api_response():
    # Grafana Tempo's /api/traces/<id> as Kiali's tests hold it: {"batches": [...]}, base64 ids, enum names
    ts = load(fresh("kiali+kiali/responseTrace.json"))
    sp = ts.spans
    assert ts.shapes == ["otlp"] and len(sp) == 8 and sp["span_id"].str.fullmatch("[0-9a-f]{16}").all()
    assert sp.loc[0, "span_id"] == "49cd77d1f9dcd936"  # "Sc130fnc2TY=" decoded
    assert sorted(sp["kind"].value_counts().items()) == [("client", 4), ("server", 4)]
    got = {(r.parent, r.child) for r in dependencies(ts).itertuples()}
    assert ("istio-ingressgateway.istio-system", "productpage.bookinfo") in got
    assert ("reviews.bookinfo", "ratings.bookinfo") in got


def test_jaeger_go_model_batch():
    # Elastic APM server's HotROD batch: {"batch": {spans, process}}, snake_case, base64 ids, durations in
    # ns (Go time.Duration), v_type as an integer (1 = BOOL), the batch's process for every span
    ts = load(fresh("elastic+apm-server/batch_1.json"))
    sp = ts.spans
    assert ts.shapes == ["jaeger model"] and len(sp) == 14 and set(sp["service"]) == {"redis"}
    row = sp[sp["span_id"] == "333295bfb438ea03"].iloc[0]  # "MzKVv7Q46gM="
    assert row["operation"] == "GetDriver" and row["duration_us"] == 33732 and row["kind"] == "client"
    assert bool(row["error"]) and row["trace_id"] == "7be2fd98d0973be3"
    assert (ts.logs["event"] == "redis timeout").sum() == 3


def test_jaeger_go_model_parent_as_a_number():
    # the OpenTelemetry Collector's Jaeger proto test batch: parent_span_id 6866147 (a number), v_type ints
    ts = load(fresh("open-telemetry+opentelemetry-collector/jaegerproto_batch_01.json"))
    refs = ts.references
    assert list(refs["ref_span_id"]) == ["000000000068c4e3"] and list(refs["ref_type"]) == ["CHILD_OF"]
    tags = dict(zip(ts.tags["key"], ts.tags["value"]))
    assert tags["peer.port"] == "53931" and tags["someDouble"] == "129.8" and tags["someBool"] == "true"
    assert ts.spans.loc[0, "duration_us"] == 22938 and ts.spans.loc[0, "service"] == "api"


def test_elasticsearch_span_documents():
    # OpenSearch dashboards' HotROD index dump: _bulk action lines carry no span (no warning for them),
    # tags as a "tag" map with '@' for '.'
    ts = load(fresh("opensearch-project+dashboards-observability/jaeger-span-2023-01-24.json"))
    assert ts.provenance.warnings == [] and len(ts.spans) == 379
    assert dict(ts.spans["kind"].value_counts()) == {"client": 192, "server": 104, "internal": 83}
    assert {"http.method", "span.kind", "http.status_code"} <= set(ts.tags["key"])
    assert not ts.tags["key"].str.contains("@").any()


def test_zipkin_v1_core_annotations():
    # the OpenCensus service's Zipkin v1 batch: one span id logged by front-proxy (cs/cr) and service1
    # (sr/ss) is a client and a server span; the links follow
    ts = load(fresh("census-instrumentation+opencensus-service/zipkin_v1_single_batch.json"))
    sp = ts.spans.set_index("span_id")
    assert sp.loc["0ed2e63cbe71f5a8", ["service", "kind"]].tolist() == ["front-proxy", "client"]
    assert sp.loc["0ed2e63cbe71f5a8_server", ["service", "kind"]].tolist() == ["service1", "server"]
    assert sp.loc["f9ebb6e64880612a_server", "service"] == "service2"
    assert {(r.parent, r.child) for r in dependencies(ts).itertuples()} == {("front-proxy", "service1"),
                                                                           ("service1", "service2")}


def test_zipkin_v1_local_component_and_address():
    # Telegraf's fixtures: Zipkin thrift as JSON (integer ids, base64 binary annotation values, "host"
    # endpoints), two documents one after another; 'lc' names a local span's service, 'sa' the callee
    ts = load(fresh("influxdata+telegraf/cli_microservice.json"))
    sp = ts.spans
    assert sorted(set(sp["service"])) == ["cli", "svc2"] and sp["trace_id"].nunique() == 1
    root = sp[sp["parent_span_id"].isna()].iloc[0]
    assert root["operation"] == "Run" and root["service"] == "cli" and root["kind"] == "internal"
    query = sp[sp["operation"] == "myComplexQuery"].iloc[0]
    assert query["peer_service"] == "PostgreSQL" and query["kind"] == "client"
    tags = ts.tags[ts.tags["span"] == query.name]
    assert "SELECT" in tags.loc[tags["key"] == "query", "value"].iloc[0]  # the base64 value decoded


def test_zipkin_v1_brave_binary_annotations_are_tags():
    ts = load(fresh("influxdata+telegraf/brave-tracer-example.json"))
    server = ts.spans[ts.spans["span_id"] == "7312f822d43d0fd8"].iloc[0]
    tags = ts.tags[ts.tags["span"] == server.name]
    assert server["kind"] == "server" and "mvc.controller.class" in set(tags["key"])


def test_not_a_trace_export_is_a_clear_error():
    for rel in ("kubeshop+tracetest/big-trace-json.json", "kiali+kiali/response.json",
                "fluent+fluent-bit/traces.json"):
        with pytest.raises(ArtifactError) as e:
            load(fresh(rel))
        assert "trace" in e.value.reason


# ------------------------------------------------------------------ bad input (hand-written)

def test_go_model_span_without_span_id(tmp_path):
    p = tmp_path / "b.json"
    p.write_text(json.dumps({"batch": {"process": {"service_name": "s"},
                                       "spans": [{"trace_id": "AAAAAAAAAAE=", "span_id": "AAAAAAAAAAE=",
                                                  "start_time": "2019-12-20T07:41:44Z", "duration": 5},
                                                 {"trace_id": "AAAAAAAAAAE="}]}}))
    with pytest.raises(ArtifactError) as e:
        load(str(p))
    assert e.value.location == "$.batch.spans[1]"


def test_tempo_batches_with_a_bad_id(tmp_path):
    p = tmp_path / "t.json"
    p.write_text(json.dumps({"batches": [{"resource": {}, "scopeSpans": [{"spans": [
        {"traceId": "not base64!", "spanId": "AAAAAAAAAAE=", "name": "x"}]}]}]}))
    with pytest.raises(ArtifactError):
        load(str(p))


def test_zipkin_v1_annotation_time_not_a_number(tmp_path):
    p = tmp_path / "z.json"
    p.write_text(json.dumps([{"traceId": "a", "id": "b", "annotations": [
        {"timestamp": "soon", "value": "cs", "endpoint": {"serviceName": "x"}},
        {"timestamp": 5, "value": "cr", "endpoint": {"serviceName": "x"}}]}]))
    with pytest.raises(ArtifactError):
        load(str(p))


def test_only_bulk_action_lines(tmp_path):
    p = tmp_path / "bulk.json"
    p.write_text('{"index":{}}\n{"index":{"_id":"1"}}\n')
    with pytest.raises(ArtifactError) as e:
        load(str(p))
    assert "no spans" in e.value.reason


def test_concatenated_documents_with_a_broken_second_one(tmp_path):
    p = tmp_path / "c.json"
    good = [{"traceId": "a", "id": "b", "name": "n", "timestamp": 1, "duration": 2,
             "localEndpoint": {"serviceName": "s"}}]
    p.write_text(json.dumps(good, indent=1) + "\n\n" + json.dumps(good, indent=1)[:-9])
    ts = load(str(p))  # the complete document is kept, the cut one reported
    assert len(ts.spans) == 1 and ts.provenance.warnings


def test_json_lines_of_other_records_say_so(tmp_path):
    # SigNoz's and Elastic APM's NDJSON test data are JSON Lines of their own records: the error says that
    # none of the records is a trace export, and why the first is not
    p = tmp_path / "other.jsonl"
    p.write_text('{"metadata": {"service": {"name": "x"}}}\n{"span": {"id": "1"}}\n')
    with pytest.raises(ArtifactError) as e:
        load(str(p))
    assert "none of its 2 JSON records" in e.value.reason and "line 1" in e.value.reason


def test_near_misses_are_named():
    # a Tempo search response (Kiali's response.json) and an OpenCensus batch are refused by name
    with pytest.raises(ArtifactError) as e:
        load(fresh("kiali+kiali/response.json"))
    assert "Tempo search response" in e.value.reason and "/api/traces/" in e.value.reason
    with pytest.raises(ArtifactError) as e:
        load(fresh("census-instrumentation+opencensus-service/ocproto_batch_01.json"))
    assert "OpenCensus" in e.value.reason


def test_grafana_faro_payload():
    # the Grafana Agent's Faro receiver fixtures: browser SDK payloads whose "traces" is OTLP TracesData
    ts = load(fresh("grafana+agent/faro_payload_2.json"))
    assert ts.shapes == ["otlp"] and len(ts.spans) == 1 and ts.spans.loc[0, "span_id"] == "50e64e3fac969cbb"
    with pytest.raises(ArtifactError) as e:  # the other one's spans have empty ids: no valid span
        load(fresh("grafana+agent/faro_payload.json"))
    assert e.value.location == "$.traces.resourceSpans[0].scopeSpans[0].spans[0]"


def test_jaeger_batches_each_with_its_process(tmp_path):
    # the two Elastic APM HotROD batches (driver, redis) of one trace in one {"batches": [...]} document: the
    # 14 redis spans that are orphans in their own file find their driver parent
    docs = [json.load(open(fresh(f"elastic+apm-server/batch_{i}.json")))["batch"] for i in (0, 1)]
    p = tmp_path / "batches.json"
    p.write_text(json.dumps({"batches": docs}))
    ts = load(str(p))
    assert len(ts.spans) == 15 and set(ts.spans["service"]) == {"driver", "redis"} and len(ts.orphans) == 0
    assert {(r.parent, r.child) for r in dependencies(ts).itertuples()} == {("driver", "redis")}
