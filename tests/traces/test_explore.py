"""Trace picking, structural trace compare, span detail; failing calls per edge (issue 14)."""
import json
import os
import warnings

import pytest

from forensics.artifact import ArtifactWarning
from forensics.traces import load_traces
from forensics.traces.analysis import dependencies, findings
from forensics.traces.explore import pick_traces, span_detail, trace_diff

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
C = "CHILD_OF"


def load(p):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArtifactWarning)
        return load_traces(p)


@pytest.fixture(scope="module")
def catalog():
    return load(os.path.join(ROOT, "sample_data", "incidents", "catalog-leak", "traces.json"))


def test_a_refused_call_counts_as_a_failing_call(make_trace):
    # the callee never answered: the error is only on the caller's CLIENT span, and no SERVER span exists
    p = make_trace([dict(id="r", start=1000, dur=100, kind="server", service="gw", error=True),
                    dict(id="c1", start=1010, dur=20, kind="client", service="gw", refs=[(C, "r")]),
                    dict(id="s1", start=1012, dur=15, kind="server", service="cat", refs=[(C, "c1")]),
                    dict(id="c2", start=1040, dur=5, kind="client", service="gw", error=True, refs=[(C, "r")])])
    doc = json.load(open(p))
    for s in doc["data"][0]["spans"]:
        if s["spanID"] in ("c1", "c2"):
            s["tags"].append({"key": "peer.service", "type": "string", "value": "cat"})
    with open(p, "w") as f:
        json.dump(doc, f)
    d = dependencies(load(p))
    assert d[["parent", "child", "calls", "errors"]].values.tolist() == [["gw", "cat", 2, 1]]
    assert dependencies(load(p), peers=False)[["calls", "errors"]].values.tolist() == [[1, 0]]  # Jaeger's own rule


def test_catalog_leak_failing_calls_are_counted(catalog):
    # issue 14: 67 of 69 failing traces fail on gateway -> catalog; the summary said "0/459 calls failed"
    d = dependencies(catalog).set_index(["parent", "child"])
    edge = d.loc[("gateway", "catalog")]
    failing_clients = catalog.spans[(catalog.spans["service"] == "gateway") & (catalog.spans["kind"] == "client")
                                    & catalog.spans["error"]]
    assert edge["errors"] == len(failing_clients) == 69
    assert edge["calls"] == (catalog.spans["kind"] == "client").groupby(catalog.spans["service"]).sum()["gateway"]
    line = next(x for x in findings(catalog) if "Most failing call" in x)
    assert "gateway → catalog (69/528 calls failed)" in line


def test_pick_traces_puts_failing_first_and_filters(catalog):
    p = pick_traces(catalog)
    assert p["failing"].iloc[: p["failing"].sum()].all() and not p["failing"].iloc[p["failing"].sum():].any()
    first = p.iloc[0]
    assert first["label"].startswith("FAIL") and first["trace_id"][:8] in first["label"]
    assert first["first_error"].startswith("gateway: GET /product/")  # the client call that failed, not the root
    assert set(pick_traces(catalog, error=False)["failing"]) == {False}
    assert len(pick_traces(catalog, service="catalog-db")) == 0  # a peer, not a service with spans
    slow = pick_traces(catalog, min_duration_us=100_000)
    assert (slow["duration_us"] >= 100_000).all() and len(slow) < len(p)
    assert len(pick_traces(catalog, limit=5)) == 5


def test_trace_diff_folds_client_into_server_and_reports_changes(catalog):
    p = pick_traces(catalog)
    ok, bad = p.loc[~p["failing"], "trace_id"].iloc[0], p["trace_id"].iloc[0]
    d = trace_diff(catalog.trace(ok), catalog.trace(bad)).set_index("path")
    assert "gateway: GET /shop/product > catalog: GET /product" in d.index  # CLIENT folded into its SERVER
    assert d.loc["gateway: GET /shop/product > catalog: GET /product", "change"] == "removed"
    added = d[d["change"] == "added"]
    assert len(added) == 1 and added.index[0].startswith("gateway: GET /shop/product > gateway: GET /product/")
    same = trace_diff(catalog.trace(ok), catalog.trace(ok))
    assert set(same["change"]) == {"same"}


def test_trace_diff_slower(make_trace):
    a = load(make_trace([dict(id="x", start=1000, dur=10_000), dict(id="y", start=1100, dur=2_000, refs=[(C, "x")])]))
    b = load(make_trace([dict(id="x", start=1000, dur=10_000), dict(id="y", start=1100, dur=8_000, refs=[(C, "x")])]))
    d = trace_diff(a, b).set_index("path")
    assert d.loc["svc: x > svc: y", "change"] == "slower" and d.loc["svc: x", "change"] == "same"


def test_span_detail(catalog):
    p = pick_traces(catalog)
    spans = catalog.trace(p["trace_id"].iloc[0])
    sid = spans.loc[spans["kind"] == "client", "span_id"].iloc[0]
    d = span_detail(catalog, sid)
    assert d["span"]["span_id"] == sid and d["span"]["error"]
    assert list(d["tags"]["key"]) == sorted(d["tags"]["key"]) and "peer.service" in set(d["tags"]["key"])
    assert (d["logs"]["event"] == "exception").any() and (d["logs"]["offset_us"] >= 0).all()
    assert len(d["process"]) > 0 and d["offset_us"] >= 0
    with pytest.raises(KeyError):
        span_detail(catalog, "nope")
