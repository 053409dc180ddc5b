"""Grafana Tempo's service graph (``dependencies(rule="tempo")``) against Tempo's own test cases.

The traces are Tempo's fixtures (``modules/generator/processor/servicegraphs/testdata/``, listed in
``wild/MANIFEST.tsv``, not committed); the expected edges are what Tempo's
``servicegraphs_test.go`` (grafana/tempo@ad33aa8f) asserts on them with the default configuration:
``traces_service_graph_request_total`` and ``_failed_total`` per (client, server, connection_type).
"""
from __future__ import annotations

import os

import pandas as pd
import pytest

from forensics.traces import load_traces
from forensics.traces.analysis import dependencies
from forensics.traces.tempo_graph import service_graph, service_graph_edges
from support import require_wild

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.join(HERE, "..", "..", "sample_data", "traces")

# (fixture, client, server, connection_type, requests, failed) — the test each row comes from in a comment
TEMPO_CASES = [
    # TestServiceGraphs
    ("trace-with-queue-database", "mythical-requester", "mythical-server", "unknown", 1, 0),
    ("trace-with-queue-database", "mythical-server", "postgres", "database", 1, 0),
    ("trace-with-queue-database", "mythical-requester", "mythical-recorder", "messaging_system", 1, 0),
    # TestServiceGraphs_failedRequests
    ("trace-with-failed-requests", "mythical-requester", "mythical-server", "unknown", 1, 1),
    ("trace-with-failed-requests", "mythical-server", "postgres", "database", 1, 1),
    # TestServiceGraphs_virtualNodes
    ("trace-with-virtual-nodes", "user", "mythical-server", "virtual_node", 1, 0),
    ("trace-with-virtual-nodes", "mythical-requester", "external-payments-platform", "virtual_node", 1, 0),
    ("trace-with-virtual-nodes", "external-producer", "internal-consumer", "virtual_node", 1, 0),
    # TestServiceGraphs_databaseVirtualNodes
    ("trace-with-virtual-nodes", "mythical-server", "mythical-database", "database", 0, 0),
    ("trace-without-database-name", "mythical-server", "mythical-database", "database", 1, 0),
    ("trace-with-queue-database2", "mythical-server", "mythical-database", "database", 1, 0),
    ("trace-with-queue-database3", "mythical-server", "mythical-database", "database", 1, 0),
    ("trace-with-queue-database4", "mythical-server", "mythical-database:5432", "database", 1, 0),
    ("trace-with-queue-database5", "mythical-server", "mythical-database", "database", 1, 0),
    ("trace-with-db-namespace", "mythical-server", "mydb", "database", 1, 0),
    ("trace-with-both-db-attributes", "mythical-server", "priority-db", "database", 1, 0),
    ("trace-with-db-system-name", "mythical-server", "postgresql", "database", 1, 0),
    ("trace-with-db-system-and-system-name", "mythical-server", "mssql", "database", 1, 0),
]


def _fixture(name):
    rel = f"tempo/servicegraphs_{name}.json"
    return require_wild("traces", [rel])[rel]


def _count(graph, client, server, ctype):
    hit = graph[(graph["client"] == client) & (graph["server"] == server) & (graph["connection_type"] == ctype)]
    return (int(hit["requests"].sum()), int(hit["failed"].sum()))


@pytest.mark.parametrize("fixture, client, server, ctype, requests, failed", TEMPO_CASES)
def test_edges_equal_tempo_service_graph(fixture, client, server, ctype, requests, failed):
    graph = service_graph(load_traces(_fixture(fixture)))
    assert _count(graph, client, server, ctype) == (requests, failed)


def test_expired_edges_as_tempo_counts_them():
    """TestServiceGraphs_expiredEdges: a root server (→ `user`), a matched client/server pair, a client
    with a database name, and one unmatched server span that expires (4 edges in all, 1 expired)."""
    edges = service_graph_edges(load_traces(_fixture("trace-with-expired-edges")))
    assert len(edges) + edges.attrs["expired"] == 4
    assert edges.attrs["expired"] == 1
    assert set(edges["connection_type"]) == {"virtual_node", "unknown", "database"}


def test_rule_tempo_in_dependencies_names_the_connection_type():
    d = dependencies(load_traces(_fixture("trace-with-queue-database")), rule="tempo")
    assert d.attrs["rule"] == "tempo"
    assert {"parent", "child", "calls", "errors", "connection_type"} <= set(d.columns)
    row = d[(d["parent"] == "mythical-server") & (d["child"] == "postgres")].iloc[0]
    assert (row["calls"], row["connection_type"]) == (1, "database")


def test_the_same_system_in_three_formats_gives_one_graph():
    graphs = [service_graph(load_traces(os.path.join(SAMPLES, f"checkout.{fmt}.json")))
              for fmt in ("jaeger", "otlp", "zipkin")]
    for g in graphs[1:]:
        pd.testing.assert_frame_equal(graphs[0], g)
    g = graphs[0]
    assert _count(g, "user", "frontend", "virtual_node")[0] > 0    # the roots: requests from outside
    assert (g["connection_type"] == "database").any() and (g["connection_type"] == "messaging_system").any()


def _spans(rows):
    cols = ["trace_id", "span_id", "parent_span_id", "service", "kind", "status_code", "duration_us", "process"]
    return pd.DataFrame(rows, columns=cols)


def test_a_completed_edge_is_removed_and_a_second_server_half_expires():
    """Tempo deletes an edge once both halves are in: a second SERVER span under the same client span
    opens a new edge, which nothing completes (not a root, no peer) — expired, not counted."""
    s = _spans([("t", "c", None, "web", "client", "OK", 10, 0), ("t", "s1", "c", "api", "server", "OK", 5, 1),
                ("t", "s2", "c", "api", "server", "OK", 5, 1)])
    g = service_graph(s)
    assert g[["client", "server", "requests"]].to_dict("records") == [{"client": "web", "server": "api",
                                                                      "requests": 1}]
    assert g.attrs["expired"] == 1


def test_internal_spans_and_unnamed_services_make_no_edge():
    s = _spans([("t", "a", None, "web", "internal", "OK", 10, 0), ("t", "b", "a", "", "server", "OK", 5, 1)])
    g = service_graph(s)
    assert g.empty and g.attrs["expired"] == 0
