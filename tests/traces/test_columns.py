"""The compact column builder: interned tag keys/types and slice-by-slice flushing give the same tables."""
import json

import pandas.testing as pdt
import pytest

from forensics.errors import ArtifactError
from forensics.traces import load_traces
from forensics.traces.columns import Codes


def test_codes_keep_equal_looking_values_apart():
    c = Codes(("a",))
    assert [c.code(v) for v in ("a", 1, True, 1.0, "1", None, [1], [1], {"x": 1})] == [0, 1, 2, 3, 4, 5, 6, 6, 7]
    assert c.values[:6] == ["a", 1, True, 1.0, "1", None]


def _odd_doc(n_traces=30):
    """Jaeger UI JSON with unusual tag keys, types and values (hand-written: a bad-input case)."""
    data = []
    for t in range(n_traces):
        tid = f"{t + 1:016x}"
        tags = [{"key": "span.kind", "type": "string", "value": "SERVER"},
                {"key": 7, "type": "int64", "value": 7}, {"key": True, "value": True},
                {"key": "1", "type": ["odd"], "value": 1.5}, {"key": "n", "value": None},
                {"key": "o", "type": "string", "value": {"b": 1, "a": [1, 2]}},
                {"key": "error", "type": "string", "value": "true"},
                {"key": f"k{t % 5}", "type": "", "value": 2 ** 60}]
        span = {"traceID": tid, "spanID": f"{t + 100:016x}", "operationName": "op", "references": [],
                "startTime": 1_700_000_000_000_000 + t, "duration": 5, "tags": tags, "logs": [], "processID": "p1"}
        data.append({"traceID": tid, "spans": [span],
                     "processes": {"p1": {"serviceName": "svc", "tags": [{"key": "hostname", "type": "string",
                                                                        "value": f"h{t % 2}"}]}}})
    return {"data": data}


def test_odd_tags_are_the_same_whole_and_sliced(tmp_path, monkeypatch):
    import forensics.traces.stream as S

    monkeypatch.setattr(S, "BATCH_BYTES", 1500)  # many slices, many flushes
    p = tmp_path / "odd.json"
    p.write_text(json.dumps(_odd_doc()))
    whole = load_traces(str(p))
    sliced = load_traces(str(p), stream_min_bytes=0, fast=False)
    assert sliced.provenance.details.get("streamed")
    for a, b in ((whole.spans, sliced.spans), (whole.tags, sliced.tags), (whole.processes, sliced.processes)):
        pdt.assert_frame_equal(a, b)
    first = whole.tags[whole.tags["span"] == 0]
    assert first["key"].tolist() == ["span.kind", "7", "True", "1", "n", "o", "error", "k0"]
    assert first["type"].tolist() == ["string", "int64", "bool", "['odd']", "string", "string", "string", "int64"]
    assert first["value"].tolist() == ["SERVER", "7", "true", "1.5", "", '{"a":[1,2],"b":1}', "true", str(2 ** 60)]
    assert whole.spans["kind"].eq("server").all() and whole.spans["error"].all()
    assert whole.tags["span"].max() == len(whole.spans) - 1
    assert whole.spans["host"].tolist()[:2] == ["h0", "h1"]


def test_int64_overflow_gives_the_same_error_whole_and_sliced(tmp_path, monkeypatch):
    import forensics.traces.stream as S

    monkeypatch.setattr(S, "BATCH_BYTES", 1500)
    doc = _odd_doc()
    doc["data"][20]["spans"][0]["flags"] = 2 ** 63  # parses (orjson takes u64), but not int64
    p = tmp_path / "big.json"
    p.write_text(json.dumps(doc))
    errors = []
    for opts in ({}, {"stream_min_bytes": 0, "fast": False}, {"fast": False}):
        with pytest.raises(ArtifactError) as e:
            load_traces(str(p), **opts)
        errors.append((e.value.location, e.value.reason))
    assert errors[0] == errors[1] == errors[2] and errors[0][0] == "span 21"


@pytest.mark.filterwarnings("ignore::forensics.artifact.ArtifactWarning")
def test_json_lines_flushed_often_give_the_same_tables(data_dir, tmp_path, monkeypatch):
    import forensics.traces.load as L

    lines = open(f"{data_dir}/variants/jaeger.jsonl").read().splitlines()
    lines.insert(2, "{not json")  # skipped records between flushed ones: bad JSON, another kind,
    lines.insert(3, '{"foo": 1}')  # and one that fails half-way (its first span must be rolled back)
    lines.insert(4, json.dumps({"data": [{"traceID": "ab", "spans": [
        {"traceID": "ab", "spanID": "01", "startTime": 1, "tags": [{"key": "a", "value": "b"}]}, {"traceID": "ab"}]}]}))
    p = tmp_path / "x.jsonl"
    p.write_text("\n".join(lines) + "\n")
    for name in (str(p), f"{data_dir}/variants/otlp.jsonl"):
        whole = load_traces(name)
        monkeypatch.setattr(L, "FLUSH_SPANS", 1)  # flush after every record
        flushed = load_traces(name)
        monkeypatch.setattr(L, "FLUSH_SPANS", 4096)
        assert flushed.provenance.warnings == whole.provenance.warnings
        assert len(whole.provenance.warnings) == (3 if name == str(p) else 0)
        assert not (whole.spans["trace_id"] == "ab").any()
        for a, b in ((whole.spans, flushed.spans), (whole.tags, flushed.tags), (whole.logs, flushed.logs),
                     (whole.references, flushed.references), (whole.processes, flushed.processes)):
            pdt.assert_frame_equal(a, b)
