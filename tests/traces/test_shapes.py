"""The generated system's spans, exported three ways (and in every other shape), load identically."""
import glob
import json
import os

import pandas as pd
import pandas.testing as pdt
import pytest

from forensics.artifact import sniff
from forensics.registry import load
from forensics.traces import load_traces
from forensics.traces.analysis import dependencies, trace_summary
from forensics.traces.critical_path import critical_path, self_time

SPAN_COLS = ["trace_id", "span_id", "parent_span_id", "service", "operation", "kind", "start_us", "duration_us",
             "end_us", "error", "status_code", "status_message", "peer_service", "scope", "depth", "is_root", "orphan"]
# Tags each exporter adds on its own (Jaeger/Zipkin encode kind, status and scope as tags).
SYNTHETIC = {"span.kind", "error", "otel.status_code", "otel.status_description", "otel.scope.name",
             "otel.scope.version"}
MAIN = ["checkout.jaeger.json", "checkout.otlp.json", "checkout.zipkin.json"]
KIND_OF = {"checkout.jaeger.json": "jaeger-json", "checkout.otlp.json": "otlp-json", "checkout.zipkin.json": "zipkin-json",
           "api_traces_response.json": "jaeger-json", "single_trace.json": "jaeger-json", "bare_spans.json": "jaeger-json",
           "api_v2_proto.json": "jaeger-json", "jaeger.jsonl": "jaeger-json", "api_v3_result.json": "otlp-json",
           "otlp.jsonl": "otlp-json", "zipkin_traces.json": "zipkin-json"}


@pytest.fixture(scope="module")
def loaded(data_dir):
    return {name: load_traces(os.path.join(data_dir, name)) for name in MAIN}


def _spans(ts):
    return ts.spans[SPAN_COLS].sort_values(["trace_id", "span_id"], ignore_index=True)


def _tags(ts):
    s = ts.spans
    t = ts.tags[~ts.tags["key"].isin(SYNTHETIC)]
    out = pd.DataFrame({"trace_id": s["trace_id"].to_numpy()[t["span"]], "span_id": s["span_id"].to_numpy()[t["span"]],
                        "key": t["key"].to_numpy(), "value": t["value"].to_numpy()})
    return out.sort_values(list(out.columns), ignore_index=True)


def _logs(ts):
    s = ts.spans
    lg = ts.logs
    out = pd.DataFrame({"span_id": s["span_id"].to_numpy()[lg["span"]], "time_us": lg["time_us"].to_numpy(),
                        "event": lg["event"].to_numpy(), "fields": lg["fields"].to_numpy()})
    return out.sort_values(list(out.columns), ignore_index=True)


def test_the_system_is_what_the_issue_asks_for(loaded):
    s = loaded["checkout.otlp.json"].spans
    assert set(s["service"]) == {"frontend", "auth", "recommend", "orders", "inventory", "worker"}
    assert {"server", "client", "internal", "producer", "consumer"} <= set(s["kind"])
    assert (s["peer_service"] == "postgres").sum() >= 20  # real psycopg calls
    assert s["error"].any() and (s["status_message"] == "overloaded, retry").any()  # errors and retries
    assert (loaded["checkout.otlp.json"].references["ref_type"] == "FOLLOWS_FROM").any()  # link -> FOLLOWS_FROM
    assert s["trace_id"].nunique() >= 20 and len(loaded["checkout.otlp.json"].orphans) == 0


@pytest.mark.parametrize("other", MAIN[1:])
def test_three_exports_give_identical_tables(loaded, other):
    a, b = loaded[MAIN[0]], loaded[other]
    pdt.assert_frame_equal(_spans(a), _spans(b))
    pdt.assert_frame_equal(_tags(a), _tags(b))
    pdt.assert_frame_equal(_logs(a), _logs(b))
    for rule in ("jaeger", "zipkin"):  # each rule gives the same edges whatever the format
        pdt.assert_frame_equal(dependencies(a, rule=rule), dependencies(b, rule=rule))
    pdt.assert_frame_equal(critical_path(a).sort_values(["trace_id", "start_us"], ignore_index=True),
                           critical_path(b).sort_values(["trace_id", "start_us"], ignore_index=True))
    assert sorted(self_time(a)) == sorted(self_time(b))
    pdt.assert_frame_equal(trace_summary(a), trace_summary(b))


def test_references_agree_except_links_zipkin_cannot_carry(loaded):
    def refs(ts):
        r = ts.references
        return pd.DataFrame({"span_id": ts.spans["span_id"].to_numpy()[r["span"]], "type": r["ref_type"].to_numpy(),
                             "target": r["ref_span_id"].to_numpy()}).sort_values(["span_id", "type"], ignore_index=True)
    j, o, z = (refs(loaded[n]) for n in MAIN)
    pdt.assert_frame_equal(j, o)
    pdt.assert_frame_equal(z, j[j["type"] == "CHILD_OF"].reset_index(drop=True))


def test_process_tags_become_host_column(loaded):
    for name in ("checkout.jaeger.json", "checkout.otlp.json"):
        ts = loaded[name]
        assert ts.spans["host"].notna().all()
        assert {"host.name", "service.instance.id"} <= set(ts.processes["key"])


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "..", "sample_data",
                                                               "traces", "**", "*.json*"), recursive=True)),
                         ids=os.path.basename)
def test_every_shape_is_sniffed_and_matches_the_jaeger_export(loaded, path):
    name = os.path.basename(path)
    assert sniff(path).kind == KIND_OF[name]
    ts = load(path)  # through the registry, as forensics.load does
    assert ts.provenance.kind == KIND_OF[name] and not ts.provenance.warnings
    base = _spans(loaded[MAIN[0]])
    got = _spans(ts)
    pdt.assert_frame_equal(got, base[base["trace_id"].isin(got["trace_id"])].reset_index(drop=True))
    assert ts.spans.attrs["provenance"]["sha256"] == ts.provenance.sha256


@pytest.mark.parametrize("name", MAIN + ["variants/single_trace.json", "variants/bare_spans.json",
                                        "variants/api_v2_proto.json", "variants/zipkin_traces.json"])
def test_streamed_reading_gives_the_same_tables(data_dir, name, monkeypatch):
    import forensics.traces.stream as S

    monkeypatch.setattr(S, "BATCH_BYTES", 2000)  # many small batches
    path = os.path.join(data_dir, name)
    whole = load_traces(path)
    streamed = load_traces(path, stream_min_bytes=0, fast=False)  # the sliced general reader
    assert streamed.provenance.details.get("streamed") or name.endswith("zipkin_traces.json")
    for a, b in ((whole.spans, streamed.spans), (whole.tags, streamed.tags), (whole.logs, streamed.logs),
                 (whole.references, streamed.references)):
        pdt.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))


def test_streamed_reading_falls_back_on_surprises(tmp_path, data_dir):
    doc = json.load(open(os.path.join(data_dir, "variants", "api_traces_response.json")))
    doc["data"][1]["spans"][0].pop("spanID")  # a span without id in the middle
    p = tmp_path / "x.json"
    p.write_text(json.dumps(doc))
    from forensics.errors import ArtifactError

    with pytest.raises(ArtifactError) as e:
        load_traces(str(p), stream_min_bytes=0)  # the compiled scan declines, the general reader locates
    assert e.value.location == "$.data[1].spans[0]"
