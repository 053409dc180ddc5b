"""Bad input: only ArtifactError comes out, with a location; cut-off files keep what is valid."""
import json
import os
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensics.artifact import ArtifactWarning
from forensics.errors import ArtifactError
from forensics.traces import load_traces


def write(tmp_path, text, name="x.json"):
    p = tmp_path / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(p)


def test_malformed_json_has_a_line_and_column(tmp_path):
    p = write(tmp_path, '{"data": [{"traceID": "a", "spans": [}]}')
    with pytest.raises(ArtifactError) as e:
        load_traces(p)
    assert e.value.location == "line 1 column 38"


def test_json_of_another_kind(tmp_path):
    p = write(tmp_path, json.dumps([{"queryid": 1, "calls": 3, "query": "select 1"}]))
    with pytest.raises(ArtifactError) as e:
        load_traces(p)
    assert "$" in str(e.value.location) and "trace" in e.value.reason


@pytest.mark.parametrize("doc, where", [
    ({"data": [{"traceID": "a", "spans": [{"traceID": "a", "operationName": "x", "startTime": 1, "duration": 1}]}]},
     "$.data[0].spans[0]"),
    ({"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": [{"name": "x"}]}]}]},
     "$.resourceSpans[0].scopeSpans[0].spans[0]"),
    ([{"traceId": "ab", "name": "x", "localEndpoint": {}}], None),
    ({"spans": [{"spanId": "AAAAAAAAAAE=", "operationName": "x"}]}, "$.spans[0]"),
])
def test_spans_without_ids(tmp_path, doc, where):
    p = write(tmp_path, json.dumps(doc))
    with pytest.raises(ArtifactError) as e:
        load_traces(p)
    assert e.value.location is not None
    if where:
        assert e.value.location == where


def test_wrong_value_types_are_artifact_errors(tmp_path):
    doc = {"data": [{"traceID": "a", "spans": [{"traceID": "a", "spanID": "b", "startTime": "soon", "duration": 1}]}]}
    with pytest.raises(ArtifactError):
        load_traces(write(tmp_path, json.dumps(doc)))


def test_empty_and_binary(tmp_path):
    for content in (b"", b"   \n", b"\xff\xfe\x00\x01garbage"):
        with pytest.raises(ArtifactError):
            load_traces(write(tmp_path, content))


def test_truncated_export_keeps_the_complete_spans(tmp_path, data_dir):
    raw = open(os.path.join(data_dir, "checkout.jaeger.json"), "rb").read()
    whole = load_traces(os.path.join(data_dir, "checkout.jaeger.json"))
    p = write(tmp_path, raw[: len(raw) // 2])
    with pytest.warns(ArtifactWarning, match="JSON ends early"):
        part = load_traces(p)
    assert 0 < len(part.spans) < len(whole.spans)
    assert part.provenance.details["truncated_at"] > 0
    merged = part.spans.merge(whole.spans, on=["trace_id", "span_id"], suffixes=("", "_w"))
    assert len(merged) == len(part.spans)
    assert (merged["duration_us"] == merged["duration_us_w"]).all()


@pytest.mark.parametrize("name", ["checkout.otlp.json", "checkout.zipkin.json"])
def test_truncated_other_shapes(tmp_path, data_dir, name):
    raw = open(os.path.join(data_dir, name), "rb").read()
    with pytest.warns(ArtifactWarning):
        part = load_traces(write(tmp_path, raw[: len(raw) // 3]))
    assert len(part.spans) > 10


def test_json_lines_with_a_bad_line(tmp_path, data_dir):
    lines = open(os.path.join(data_dir, "variants", "jaeger.jsonl")).read().splitlines()
    lines.insert(1, '{"traceID": "broken", "spans": [')
    with pytest.warns(ArtifactWarning, match="line 2"):
        ts = load_traces(write(tmp_path, "\n".join(lines) + "\n", "x.jsonl"))
    assert ts.spans["trace_id"].nunique() == 3


def test_query_errors_in_the_envelope_are_reported(tmp_path, data_dir):
    doc = json.load(open(os.path.join(data_dir, "variants", "api_traces_response.json")))
    doc["errors"] = [{"code": 404, "msg": "trace not found", "traceID": "abc"}]
    with pytest.warns(ArtifactWarning, match="trace not found"):
        load_traces(write(tmp_path, json.dumps(doc)))


SEED = open(os.path.join(os.path.dirname(__file__), "..", "..", "sample_data", "traces", "variants",
                         "single_trace.json"), "rb").read()[:6000]


def _only_artifact_errors(path, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            load_traces(path, **options)
        except ArtifactError:
            pass


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_random_bytes(tmp_path, data):
    _only_artifact_errors(write(tmp_path, data))
    _only_artifact_errors(write(tmp_path, b"[" + data), stream_min_bytes=0)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, len(SEED) - 1), st.integers(1, 40), st.binary(min_size=1, max_size=8), st.booleans())
def test_mutated_export(tmp_path, at, cut, junk, truncate):
    data = SEED[:at] if truncate else SEED[:at] + junk + SEED[at + cut:]
    _only_artifact_errors(write(tmp_path, data))
    _only_artifact_errors(write(tmp_path, data), stream_min_bytes=0)  # the sliced reader too
    _only_artifact_errors(write(tmp_path, data), fast=False)  # the general reader alone


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(
                        st.sampled_from(["data", "spans", "traceID", "spanID", "traceId", "spanId", "id",
                                         "resourceSpans", "scopeSpans", "result", "startTime", "duration",
                                         "references", "tags", "logs", "processes", "localEndpoint", "kind"]),
                        kids, max_size=4), max_leaves=12))
def test_json_with_trace_keys_but_wrong_structure(tmp_path, doc):
    _only_artifact_errors(write(tmp_path, json.dumps(doc)))


def test_json_lines_record_failing_half_way_leaves_no_debris(tmp_path, data_dir):
    lines = open(os.path.join(data_dir, "variants", "jaeger.jsonl")).read().splitlines()
    broken = json.loads(lines[1])
    broken["spans"][3]["startTime"] = "not a number"  # spans 0-2 (and their tags) were already read
    lines[1] = json.dumps(broken)
    with pytest.warns(ArtifactWarning, match="line 2"):
        ts = load_traces(write(tmp_path, "\n".join(lines) + "\n", "x.jsonl"))
    assert ts.spans["trace_id"].nunique() == 2
    assert (ts.tags["span"] < len(ts.spans)).all() and (ts.logs["span"] < len(ts.spans)).all()
    assert (ts.references["span"] < len(ts.spans)).all()


@pytest.mark.parametrize("field, value", [("startTime", 10 ** 30), ("duration", 2 ** 70), ("flags", -(2 ** 64))])
def test_numbers_beyond_64_bits(tmp_path, field, value):
    span = {"traceID": "a", "spanID": "b", "startTime": 1, "duration": 1, field: value}
    with pytest.raises(ArtifactError) as e:
        load_traces(write(tmp_path, json.dumps({"data": [{"traceID": "a", "spans": [span]}]})))
    assert e.value.location == "span 1" and e.value.path
