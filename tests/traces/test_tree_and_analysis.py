"""Tree building details, clock-skew report, the service map and the other analyses."""
import json
import os
import warnings

import pytest

from forensics.artifact import ArtifactWarning
from forensics.cli import main
from forensics.traces import load_traces
from forensics.traces import analysis as A

C, F = "CHILD_OF", "FOLLOWS_FROM"


def quiet_load(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArtifactWarning)
        return load_traces(path)


@pytest.fixture(scope="module")
def checkout(data_dir):
    return load_traces(os.path.join(data_dir, "checkout.jaeger.json"))


def test_parent_cycle_is_broken_not_looped(make_trace):
    ts = quiet_load(make_trace([dict(id="r", start=1000, dur=10),
                                dict(id="a", start=1000, dur=10, refs=[(C, "b")]),
                                dict(id="b", start=1000, dur=10, refs=[(C, "a")])]))
    s = ts.spans.set_index("span_id")
    assert s.loc["a", "is_root"] and s.loc["b", "parent_span_id"] == "a"
    assert any("cycle" in w for w in ts.provenance.warnings)


def test_clock_skew_is_reported_not_corrected(make_trace):
    ts = quiet_load(make_trace([
        dict(id="x", start=1000, dur=100, kind="client", service="web", host="h1"),
        dict(id="y", start=990, dur=50, kind="server", service="api", host="h2", refs=[(C, "x")]),  # 10 µs early
        dict(id="p", start=1010, dur=5, kind="producer", service="web", host="h1", refs=[(C, "x")]),
        dict(id="c", start=1050, dur=500, kind="consumer", service="wk", host="h3", refs=[(C, "p")]),  # async: fine
        dict(id="z", start=1060, dur=60, service="web", host="h1", refs=[(C, "x")]),  # same host, ends late
    ]))
    sk = ts.skew.set_index("span_id")
    assert sorted(sk.index) == ["y", "z"]
    assert sk.loc["y", "early_us"] == 10 and sk.loc["y", "cross_host"]
    assert sk.loc["y", "estimated_shift_us"] == 1000 + (100 - 50) // 2 - 990
    assert sk.loc["z", "late_us"] == 20 and not sk.loc["z", "cross_host"]
    assert ts.spans.set_index("span_id").loc["y", "start_us"] == 990  # raw time kept


def test_links_to_other_traces_make_roots_not_orphans(tmp_path):
    doc = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "w"}}]},
                              "scopeSpans": [{"spans": [{"traceId": "ab" * 16, "spanId": "01" * 8, "name": "batch",
                                                         "startTimeUnixNano": "1000", "endTimeUnixNano": "5000",
                                                         "links": [{"traceId": "cd" * 16, "spanId": "02" * 8}]}]}]}]}
    p = tmp_path / "l.json"
    p.write_text(json.dumps(doc))
    ts = load_traces(str(p))
    assert ts.spans["is_root"].all() and len(ts.orphans) == 0
    assert ts.references["ref_type"].tolist() == ["FOLLOWS_FROM"] and not ts.references["resolved"].any()


def test_zipkin_shared_server_span_is_reparented_under_its_client(tmp_path):
    spans = [{"traceId": "a" * 16, "id": "1" * 16, "name": "get", "kind": "CLIENT", "timestamp": 1000, "duration": 50,
              "localEndpoint": {"serviceName": "web"}},
             {"traceId": "a" * 16, "id": "1" * 16, "name": "get", "kind": "SERVER", "shared": True, "timestamp": 1005,
              "duration": 40, "localEndpoint": {"serviceName": "api"}}]
    p = tmp_path / "z.json"
    p.write_text(json.dumps(spans))
    ts = load_traces(str(p))  # not a duplicate: two halves of one RPC (no warning)
    assert ts.spans["span_id"].tolist() == ["1" * 16, "1" * 16 + "_server"]
    assert ts.spans["raw_span_id"].tolist() == ["1" * 16] * 2 and ts.spans["shared"].tolist() == [False, True]
    assert ts.spans["parent_span_id"].tolist()[1] == "1" * 16
    for rule in ("jaeger", "zipkin"):
        assert A.dependencies(ts, rule=rule)[["parent", "child", "calls"]].values.tolist() == [["web", "api", 1]]


def test_service_map(checkout):
    g = A.dependency_graph(checkout)
    assert g.graph["rule"] == "jaeger"
    # postgres left no spans: its calls come from the psycopg CLIENT spans' peer.service
    assert set(g.edges) == {("frontend", "auth"), ("frontend", "recommend"), ("frontend", "orders"),
                            ("orders", "inventory"), ("orders", "worker"), ("orders", "postgres"),
                            ("inventory", "postgres"), ("worker", "postgres")}
    assert g.nodes["postgres"]["spans"] == 0
    assert set(A.dependency_graph(checkout, peers=False).edges) == {
        ("frontend", "auth"), ("frontend", "recommend"), ("frontend", "orders"), ("orders", "inventory"),
        ("orders", "worker")}  # Jaeger's own rule
    assert g.edges["frontend", "orders"]["calls"] == checkout.spans["trace_id"].nunique()
    inv = g.edges["orders", "inventory"]
    assert inv["calls"] > g.edges["frontend", "orders"]["calls"]  # retries
    assert inv["errors"] > 0 and inv["p95_us"] >= inv["p50_us"]
    assert g.nodes["frontend"]["internal_calls"] > 0
    total_self = sum(d["self_us"] for _, d in g.nodes(data=True))
    assert 0 < total_self <= checkout.spans["duration_us"].sum()


def test_error_correlation_names_the_origin(checkout):
    e = A.error_correlation(checkout)
    top = e.iloc[0]
    assert (top["service"], top["message"]) == ("inventory", "inventory shard unavailable")
    assert top["coverage"] == 1.0 and top["precision"] == 1.0 and len(top["example_traces"]) > 0
    retried = e[e["message"] == "overloaded, retry"].iloc[0]
    assert retried["failing_traces"] == 0 and retried["ok_traces"] > 0  # retried errors do not explain failures


def test_compare_groups_reports_counts_and_durations(checkout):
    s = A.trace_summary(checkout)
    ok = checkout.spans[checkout.spans["trace_id"].isin(s.loc[~s["root_error"], "trace_id"])]
    bad = checkout.spans[checkout.spans["trace_id"].isin(s.loc[s["root_error"], "trace_id"])]
    d = A.compare(ok, bad).set_index("path")
    assert d.loc["frontend/GET /checkout", "change"] == "same"
    assert (d["change"] == "only_a").any()  # failing orders never reach the database
    assert d["delta_mean_us"].notna().any()


def test_jaeger_analytics_metrics(checkout):
    m = A.trace_metrics(checkout)
    assert (m["height"] == m["depth"] + 1).all()
    assert m["service_depth"].max() == 3  # frontend -> orders -> inventory (or worker)
    gaps = A.network_gaps(checkout)
    assert set(zip(gaps["client_service"], gaps["server_service"])) == {
        ("frontend", "auth"), ("frontend", "recommend"), ("frontend", "orders"), ("orders", "inventory")}
    assert (gaps["request_gap_us"] >= 0).all()  # one host, one clock
    n = A.service_neighbours(checkout).set_index("service")
    assert n.loc["frontend", "direct_downstream"] == 3 and n.loc["orders", "direct_upstream"] == 1


def test_operation_stats_like_jaeger_trace_statistics(checkout):
    o = A.operation_stats(checkout)
    assert o["count"].sum() == len(checkout.spans)
    assert (o["self_total_us"] <= o["total_us"]).all()
    # Self times of parallel spans (recommend runs beside orders) add up to more than the trace.
    assert o["pct_of_trace"].sum() > 100


def run_cli(capsys, *argv):
    rc = main(list(argv))
    out = capsys.readouterr()
    assert rc == 0, out.err
    return json.loads(out.out)


def test_cli_summary_deps_critical_path(capsys, data_dir):
    f = os.path.join(data_dir, "checkout.zipkin.json")
    s = run_cli(capsys, "traces", "summary", f, "--format", "json")
    assert {"traces", "spans", "services", "orphans", "skewed"} <= set(s)
    assert s["traces"] == 24 and s["orphans"] == 0 and s["skewed"] == 0
    d = run_cli(capsys, "traces", "deps", f, "--format", "json")
    assert set(d[0]) == {"parent", "child", "calls", "errors", "p50_us", "p95_us"}
    assert len(d) == 7 and d[0]["calls"] >= d[-1]["calls"]  # Zipkin file: Zipkin's linker (no broker: no orders→worker)
    assert len(run_cli(capsys, "traces", "deps", f, "--rule", "jaeger", "--format", "json")) == 8
    cp = run_cli(capsys, "traces", "critical-path", f, "--format", "json")
    assert len(cp) == 24 and set(cp[0]["sections"][0]) == {"span_id", "service", "operation", "start_us", "end_us"}
    one = run_cli(capsys, "traces", "critical-path", f, "--trace", cp[3]["trace_id"][:10], "--format", "json")
    assert one == [cp[3]]


def test_cli_bad_file_exits_2(capsys, tmp_path):
    p = tmp_path / "bad.json"
    p.write_text("[1, 2")
    assert main(["traces", "summary", str(p)]) == 2
    assert "bad.json" in capsys.readouterr().err


def test_tag_value_gotchas(tmp_path):
    # As in jaeger's uimodel fixtures: int64 beyond 2^53 as a string, base64 binary, untyped values,
    # and error given as the string "true".
    span = {"traceID": "0000000000000000000000000000abcd", "spanID": "00000000000000ff", "operationName": "op",
            "startTime": 1_600_000_000_000_000, "duration": 5, "processID": "p1",
            "tags": [{"key": "big", "type": "int64", "value": "9223372036854775222"},
                     {"key": "blob", "type": "binary", "value": "AAAwOQ=="},
                     {"key": "ratio", "value": 0.5}, {"key": "ok", "type": "bool", "value": False},
                     {"key": "error", "type": "string", "value": "true"}],
            "logs": [{"timestamp": 1_600_000_000_000_001, "fields": [{"key": "event", "value": "retry"},
                                                                    {"key": "n", "type": "int64", "value": 2}]}]}
    doc = {"data": [{"traceID": span["traceID"], "spans": [span],
                     "processes": {"p1": {"serviceName": "svc", "tags": [{"key": "hostname", "value": "h"}]}}}]}
    p = tmp_path / "g.json"
    p.write_text(json.dumps(doc))
    ts = load_traces(str(p))
    tags = dict(zip(ts.tags["key"], zip(ts.tags["type"], ts.tags["value"])))
    assert tags["big"] == ("int64", "9223372036854775222")
    assert tags["blob"] == ("binary", "AAAwOQ==")
    assert tags["ratio"] == ("float64", "0.5") and tags["ok"] == ("bool", "false")
    s = ts.spans.iloc[0]
    assert s["error"] and s["status_code"] == "ERROR" and s["host"] == "h"
    assert s["trace_id"] == "000000000000abcd"  # 64-bit id printed on 16 hex digits, as Jaeger does
    assert str(s["start"]) == "2020-09-13 12:26:40+00:00"
    assert ts.logs[["event", "fields", "time_us"]].values.tolist() == [["retry", '{"n":2}', 1_600_000_000_000_001]]


def test_results_carry_the_file_provenance(checkout):
    sha = checkout.provenance.sha256
    assert A.dependency_graph(checkout).graph["provenance"]["sha256"] == sha
    for df in (A.dependencies(checkout), A.trace_summary(checkout), A.error_correlation(checkout),
               A.compare(checkout.spans, checkout.spans)):
        assert df.attrs["provenance"]["sha256"] == sha
