"""Grafana Tempo's service graph (the metrics-generator's ``service-graphs`` processor), offline.

What a Grafana user sees as the service graph of OTLP traces: edges are *pairs of spans*, not
parent/child service changes (Tempo ``modules/generator/processor/servicegraphs/servicegraphs.go``,
``store/store.go``, default configuration):

* a CLIENT (or PRODUCER) span opens an edge keyed by (trace, its span id); a SERVER (or CONSUMER)
  span opens or completes the edge keyed by (trace, its *parent* span id). Once both sides are
  known the edge counts once, ``client service → server service``; PRODUCER/CONSUMER edges are
  ``messaging_system``; a span's ERROR status fails the edge.
* A CLIENT span with ``db.namespace``/``db.name``/``db.system``/``db.system.name`` (resource or span
  attributes, first found wins) is a ``database`` call and completes at once: the server is its
  ``peer.service``, else ``server.address``, else ``network.peer.address[:network.peer.port]``, else
  that database name.
* Edges left open when the trace ends become ``virtual_node`` edges: a root SERVER/CONSUMER span
  (no parent) is called by its span's peer attribute (``peer.service``, ``db.name``, ``db.system``,
  ``db.system.name``) or by ``user``; a CLIENT/PRODUCER span with a peer attribute calls that peer.
  Any other open edge is *expired* and not counted (Tempo's ``traces_service_graph_expired_edges``).
* Spans of a resource without ``service.name`` are skipped; spans are read in file order (an edge
  that completed is removed, so a second server span with the same parent opens a new one).

Offline, "the trace ends" is the end of the file: Tempo expires open edges after ``wait`` (10 s),
so a trace whose halves arrive further apart than that splits differently in a live Tempo.

>>> import pandas as pd
>>> spans = pd.DataFrame({"trace_id": "t", "span_id": ["a", "b"], "parent_span_id": [None, "a"],
...     "service": ["web", "api"], "kind": ["client", "server"], "status_code": ["OK", "ERROR"],
...     "duration_us": [30, 20], "process": [0, 1]})
>>> service_graph(spans)[["client", "server", "connection_type", "requests", "failed"]].to_dict("records")
[{'client': 'web', 'server': 'api', 'connection_type': 'unknown', 'requests': 1, 'failed': 1}]
"""
from __future__ import annotations

import numpy as np
import pandas as pd

#: Tempo's defaults (config.go): the span attributes naming a peer, and those naming a database
PEER_ATTRIBUTES = ("peer.service", "db.name", "db.system", "db.system.name")
DATABASE_NAME_ATTRIBUTES = ("db.namespace", "db.name", "db.system", "db.system.name")
GRAPH_COLUMNS = ["client", "server", "connection_type", "requests", "failed", "client_p50_us", "server_p50_us",
                 "server_p95_us", "server_max_us"]
EDGE_COLUMNS = ["trace_id", "client", "server", "connection_type", "failed", "client_us", "server_us",
                "client_span", "server_span"]
CALLING, CALLED = ("client", "producer"), ("server", "consumer")


def _attributes(frame: pd.DataFrame | None, id_col: str, keys) -> dict:
    """``{row id: {key: value}}`` of the wanted keys (first occurrence wins, as Tempo's lookup)."""
    if frame is None or not len(frame) or not {"key", "value", id_col} <= set(frame.columns):
        return {}
    f = frame[frame["key"].isin(keys)]
    out: dict = {}
    for i, k, v in zip(f[id_col].to_numpy(), f["key"].to_numpy(), f["value"].to_numpy()):
        out.setdefault(int(i), {}).setdefault(k, "" if v is None else str(v))
    return out


def _first(keys, *maps):
    for k in keys:
        for m in maps:
            if k in m:
                return m[k]
    return None


def _database_server(db: str, *attrs) -> str:
    """Tempo's upsertDatabaseRequest: peer.service, server.address, network.peer.address[:port], the name."""
    for key in ("peer.service", "server.address"):
        v = _first((key,), *attrs)
        if v is not None:
            return v
    host = _first(("network.peer.address",), *attrs)
    if host is not None:
        port = _first(("network.peer.port",), *attrs)
        return host if port is None else f"{host}:{port}"
    return db


def _edge() -> dict:
    return {"client": "", "server": "", "type": "unknown", "failed": False, "client_us": 0, "server_us": 0,
            "peer": "", "client_span": None, "server_span": None}


def _emit(out: list, trace: str, e: dict) -> None:
    out.append((trace, e["client"], e["server"], e["type"], e["failed"], e["client_us"], e["server_us"],
                e["client_span"], e["server_span"]))


def service_graph_edges(ts) -> pd.DataFrame:
    """One row per edge Tempo would count (see the module doc): trace, client, server, connection type,
    failed, both sides' durations (µs) and the spans' row numbers (``None`` for a virtual side).
    ``attrs["expired"]`` counts the open edges Tempo would drop."""
    spans = getattr(ts, "spans", ts)
    n = len(spans)
    kind = spans["kind"].to_numpy() if "kind" in spans else np.full(n, "", dtype=object)
    rows = np.flatnonzero(np.isin(kind, CALLING + CALLED))
    tags = _attributes(getattr(ts, "tags", None), "span",
                       set(PEER_ATTRIBUTES) | set(DATABASE_NAME_ATTRIBUTES)
                       | {"server.address", "network.peer.address", "network.peer.port"})
    processes = getattr(ts, "processes", None)
    resource = _attributes(processes, "process", set(DATABASE_NAME_ATTRIBUTES)
                           | {"service.name", "peer.service", "server.address", "network.peer.address",
                              "network.peer.port"})
    # OTLP names a service by a resource attribute, which Tempo requires; Jaeger and Zipkin always name one
    otlp = set(getattr(ts, "shapes", None) or ()) == {"otlp"} and processes is not None and len(processes)
    named = set(resource_with(processes, "service.name")) if otlp else None
    span_id = (spans["raw_span_id"] if "raw_span_id" in spans else spans["span_id"]).to_numpy()
    parent_col = "otel_parent_span_id" if "otel_parent_span_id" in spans else "parent_span_id"
    parent = spans[parent_col].to_numpy()
    trace = spans["trace_id"].to_numpy()
    service = spans["service"].to_numpy()
    process = spans["process"].to_numpy() if "process" in spans else np.zeros(n, np.int64)
    failed = (spans["status_code"].to_numpy() == "ERROR") if "status_code" in spans \
        else spans["error"].to_numpy().astype(bool)
    dur = spans["duration_us"].to_numpy()

    open_edges: dict = {}
    out: list = []
    for r in rows:
        if (int(process[r]) not in named) if named is not None else not service[r]:
            continue  # Tempo skips a resource without service.name
        span_tags, res_tags = tags.get(int(r), {}), resource.get(int(process[r]), {})
        calling = kind[r] in CALLING
        p = parent[r]
        pid = "" if p is None or (isinstance(p, float) and p != p) else str(p)
        key = (trace[r], str(span_id[r]) if calling else pid, calling)
        e = open_edges.get(key[:2])
        if e is None:
            e = _edge()
            e["root"] = not calling and pid == ""
        e["type"] = "messaging_system" if kind[r] in ("producer", "consumer") else "unknown"
        e["failed"] = e["failed"] or bool(failed[r])
        peer = _first(PEER_ATTRIBUTES, span_tags)
        if peer is not None:
            e["peer"] = peer
        if calling:
            e["client"], e["client_us"], e["client_span"] = service[r], int(dur[r]), int(r)
            db = _first(DATABASE_NAME_ATTRIBUTES, res_tags, span_tags)
            if db is not None:
                e["type"], e["server_us"] = "database", int(dur[r])
                e["server"] = _database_server(db, res_tags, span_tags) or e["server"]
        else:
            e["server"], e["server_us"], e["server_span"] = service[r], int(dur[r]), int(r)
        if e["client"] and e["server"]:
            _emit(out, trace[r], e)
            open_edges.pop(key[:2], None)
        else:
            open_edges[key[:2]] = e
    expired = 0
    for (t, _), e in open_edges.items():  # the end of the file: Tempo's onExpire
        e["type"] = "virtual_node"
        if not e["client"] and e["root"]:
            e["client"] = e["peer"] or "user"
        elif e["client"] and not e["server"] and e["peer"]:
            e["server"] = e["peer"]
        else:
            expired += 1
            continue
        _emit(out, t, e)
    edges = pd.DataFrame(out, columns=EDGE_COLUMNS)
    edges.attrs["expired"] = expired
    return edges


def resource_with(processes: pd.DataFrame, key: str) -> np.ndarray:
    """The resources (process numbers) that carry ``key``."""
    return processes.loc[processes["key"] == key, "process"].astype(np.int64).unique()


def service_graph(ts) -> pd.DataFrame:
    """Tempo's service graph: one row per (client, server, connection type) with ``requests`` and
    ``failed`` (``traces_service_graph_request_total`` / ``_failed_total``) and latency percentiles
    (µs) of both sides, busiest first; ``attrs["expired"]`` as :func:`service_graph_edges`."""
    e = service_graph_edges(ts)
    if e.empty:
        out = pd.DataFrame(columns=GRAPH_COLUMNS)
    else:
        g = e.groupby(["client", "server", "connection_type"], sort=True)
        out = g.agg(requests=("failed", "size"), failed=("failed", "sum"),
                    client_p50_us=("client_us", "median"), server_p50_us=("server_us", "median"),
                    server_p95_us=("server_us", lambda v: float(np.percentile(v, 95))),
                    server_max_us=("server_us", "max")).reset_index()
        out["failed"] = out["failed"].astype(np.int64)
        out = out.sort_values(["requests", "client", "server"], ascending=[False, True, True],
                              ignore_index=True)[GRAPH_COLUMNS]
    out.attrs["expired"] = e.attrs["expired"]
    return out
