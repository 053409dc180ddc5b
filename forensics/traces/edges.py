"""Service-to-service edges, by the rule of the tool that reads each format.

* ``rule="jaeger"`` — Jaeger's dependency rule (in-memory store ``getDependencies``): a call per span
  whose tree parent belongs to another service, ``(parent service, span service)``. Same-service pairs
  are reported apart (:func:`same_service_pairs`). With ``peers=True`` (default) a CLIENT/PRODUCER span
  whose callee left no span of another service counts as a call to its ``peer.service`` (the
  uninstrumented database, or a service that refused the connection): Zipkin's linker and Tempo's
  service graph do the same, Jaeger does not (``peers=False`` gives Jaeger's exact counts).
* ``rule="zipkin"`` — zipkin's ``DependencyLinker`` (zipkin2/internal/DependencyLinker.java, ported
  in zipkin-lens ``src/zipkin/dependency-linker.js``): links only between SERVER spans (the nearest
  remote ancestor's service → this service), CLIENT spans without children to their remote
  endpoint, PRODUCER → broker and broker → CONSUMER; spans without a kind but with both endpoints
  count as clients; self-links are kept. See :func:`zipkin_links`.
* ``rule="tempo"`` — Grafana Tempo's service graph (:mod:`forensics.traces.tempo_graph`): CLIENT/SERVER
  and PRODUCER/CONSUMER span pairs, database calls, ``user`` and peer virtual nodes; the table gets a
  ``connection_type`` column and the server side's latency.
* ``rule="auto"`` (default) — ``zipkin`` for Zipkin input, ``jaeger`` for everything else.

**Errors per edge** count *failing calls*: a call fails when the callee's span or the calling
CLIENT/PRODUCER span is an error — a refused connection leaves an error only on the caller's side
(Zipkin: the server's error, or its direct client parent's).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .critical_path import with_provenance

COLS = ["parent", "child", "calls", "errors", "p50_us", "p95_us", "max_us"]


def _spans(ts) -> pd.DataFrame:
    return getattr(ts, "spans", ts)


def parent_rows(spans: pd.DataFrame) -> np.ndarray:
    """Row number (in ``spans`` as given) of each span's tree parent, -1 for roots."""
    key = (spans["trace_id"] + "\x00" + spans["span_id"]).to_numpy()
    pkey = (spans["trace_id"] + "\x00" + spans["parent_span_id"].fillna("\x01")).to_numpy()
    where = pd.Series(np.arange(len(spans)), index=key)
    where = where[~where.index.duplicated()]
    return where.reindex(pkey).fillna(-1).to_numpy().astype(np.int64)


def _q(values, q):
    return float(np.percentile(values, q)) if len(values) else np.nan


def _aggregate(parent, child, dur, error, sort=True) -> pd.DataFrame:
    df = pd.DataFrame({"parent": parent, "child": child, "dur": dur, "error": error})
    if df.empty:
        return pd.DataFrame(columns=COLS)
    g = df.groupby(["parent", "child"], sort=True)
    out = g.agg(calls=("dur", "size"), errors=("error", "sum"), p50_us=("dur", lambda v: _q(v, 50)),
                p95_us=("dur", lambda v: _q(v, 95)), max_us=("dur", "max")).reset_index()
    out["errors"] = out["errors"].astype(np.int64)
    return out.sort_values(["calls", "parent", "child"], ascending=[False, True, True], ignore_index=True)[COLS]


def rule_for(ts) -> str:
    """``zipkin`` when every span came from Zipkin JSON, else ``jaeger``."""
    shapes = getattr(ts, "shapes", None)
    return "zipkin" if shapes and set(shapes) == {"zipkin"} else "jaeger"


def _text(values) -> np.ndarray:
    v = pd.Series(values, dtype="object")
    return v.where(v.notna() & (v != ""), None).to_numpy().copy()


@with_provenance
def dependencies(ts, rule: str = "auto", peers: bool = True) -> pd.DataFrame:
    """Service-to-service calls: one row per (parent service, child service) — see the module doc.

    ``calls``; ``errors`` (failing calls); p50/p95/max of the callee spans' durations (µs; for a call
    to a peer, or under the Zipkin rule, the span the call was counted on). ``attrs["rule"]`` says
    which rule made the table.

    >>> import pandas as pd
    >>> s = pd.DataFrame({"trace_id": "t", "span_id": ["a", "b", "c"], "parent_span_id": [None, "a", "b"],
    ...     "service": ["web", "db", "db"], "kind": "internal", "peer_service": None,
    ...     "duration_us": [10, 4, 2], "error": [False, True, False]})
    >>> dependencies(s).to_dict("records")
    [{'parent': 'web', 'child': 'db', 'calls': 1, 'errors': 1, 'p50_us': 4.0, 'p95_us': 4.0, 'max_us': 4}]
    """
    rule = rule_for(ts) if rule == "auto" else rule
    if rule == "zipkin":
        out = zipkin_links(ts)
    elif rule == "jaeger":
        out = _jaeger(_spans(ts), peers)
    elif rule == "tempo":
        from .tempo_graph import service_graph

        g = service_graph(ts)
        out = g.rename(columns={"client": "parent", "server": "child", "requests": "calls", "failed": "errors",
                                "server_p50_us": "p50_us", "server_p95_us": "p95_us", "server_max_us": "max_us"})
        out = out[COLS + ["connection_type"]]
    else:
        raise ValueError(f"rule must be auto, jaeger, zipkin or tempo, not {rule!r}")
    out.attrs["rule"] = rule
    return out


def _jaeger(spans: pd.DataFrame, peers: bool) -> pd.DataFrame:
    prow = parent_rows(spans)
    svc = spans["service"].to_numpy()
    kind = spans["kind"].to_numpy() if "kind" in spans else np.full(len(spans), "internal", dtype=object)
    err = spans["error"].to_numpy().astype(bool)
    dur = spans["duration_us"].to_numpy()
    has = np.flatnonzero(prow >= 0)
    p = prow[has]
    cross = svc[p] != svc[has]
    c, p = has[cross], p[cross]
    calling = np.isin(kind[p], ("client", "producer"))
    parent, child, d, e = [svc[p]], [svc[c]], [dur[c]], [err[c] | (calling & err[p])]
    if peers and "peer_service" in spans:
        peer = _text(spans["peer_service"].to_numpy())
        called = np.zeros(len(spans), dtype=bool)
        called[p] = True  # has a child span in another service
        leaf = np.flatnonzero(np.isin(kind, ("client", "producer")) & ~called & (peer != None))  # noqa: E711
        leaf = leaf[peer[leaf] != svc[leaf]]
        parent.append(svc[leaf]); child.append(peer[leaf]); d.append(dur[leaf]); e.append(err[leaf])
    return _aggregate(np.concatenate(parent), np.concatenate(child), np.concatenate(d), np.concatenate(e))


@with_provenance
def same_service_pairs(ts) -> pd.DataFrame:
    """Parent/child spans inside one service (internal spans, self-calls): service, calls, errors."""
    spans = _spans(ts)
    prow = parent_rows(spans)
    has = prow >= 0
    svc = spans["service"].to_numpy()
    same = has.copy()
    same[has] = svc[prow[has]] == svc[has]
    df = pd.DataFrame({"service": svc[same], "error": spans["error"].to_numpy()[same]})
    return (df.groupby("service").agg(calls=("error", "size"), errors=("error", "sum")).reset_index()
            .astype({"errors": np.int64}))


def _zipkin_parents(spans: pd.DataFrame, prow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parents in zipkin's span tree (span-node.js) and the real root of each span's trace (-1: none).

    Zipkin keeps one root per trace — the parentless span with the lowest id (span-cleaner sorts by
    id); every other parentless span (orphans, extra roots) hangs under it. A trace without any parentless span gets a synthetic root.
    """
    zparent = prow.copy()
    codes, _ = pd.factorize(spans["trace_id"].to_numpy())
    orphan = spans["orphan"].to_numpy() if "orphan" in spans else np.zeros(len(spans), bool)
    candidates = np.flatnonzero((prow < 0) & ~orphan)
    ids = spans["raw_span_id" if "raw_span_id" in spans else "span_id"].str.rjust(16, "0").to_numpy()
    order = candidates[np.lexsort((candidates, ids[candidates]))]
    first = pd.Series(order, index=codes[order])
    first = first[~first.index.duplicated()]
    root_of = first.reindex(codes).fillna(-1).to_numpy().astype(np.int64)
    tops = np.flatnonzero(prow < 0)
    tops = tops[root_of[tops] != tops]
    zparent[tops] = root_of[tops]
    return zparent, root_of


def _zipkin_merged(spans: pd.DataFrame):
    """zipkin-lens' mergeV2ById: spans with one id and the same endpoint, of one kind (or without a
    kind), were sent in pieces and are one span — the piece with a kind stands for it.
    Returns (dropped mask, survivor row) or None."""
    ids = spans["raw_span_id" if "raw_span_id" in spans else "span_id"]
    proc = spans["process"].to_numpy() if "process" in spans else np.zeros(len(spans), np.int64)
    df = pd.DataFrame({"t": spans["trace_id"].to_numpy(), "i": ids.to_numpy(), "p": proc,
                       "kind": spans["kind"].to_numpy(), "row": np.arange(len(spans))})
    grp = df.groupby(["t", "i", "p"], sort=False).ngroup().to_numpy()
    size = np.bincount(grp)
    multi = size[grp] > 1
    if not multi.any():
        return None
    m = df[multi].assign(g=grp[multi], kinded=df["kind"][multi] != "internal")
    kinds = m[m["kinded"]].groupby("g")["kind"].nunique()
    ok_groups = set(m["g"].unique()) - set(kinds[kinds > 1].index)  # a client and a server: two spans
    m = m[m["g"].isin(ok_groups)].sort_values(["g", "kinded", "row"], ascending=[True, False, True])
    if m.empty:
        return None
    head = m.groupby("g", sort=False)["row"].first()
    dropped = np.zeros(len(spans), dtype=bool)
    survivor = np.arange(len(spans))
    rows = m["row"].to_numpy()
    survivor[rows] = head.reindex(m["g"]).to_numpy()
    dropped[rows] = survivor[rows] != rows
    return dropped, survivor


def _zipkin_key_collisions(spans: pd.DataFrame, merged=None):
    """zipkin-lens keys non-shared spans by id alone (span-node.js ``_index``): of several with one id
    (a CLIENT and a kind-less span of the callee, say) only the last processed — clients sort first,
    then by service — stays in the tree. Returns (dropped mask, survivor row) or None."""
    shared = spans["shared"].to_numpy() if "shared" in spans else np.zeros(len(spans), bool)
    ids = spans["raw_span_id" if "raw_span_id" in spans else "span_id"]
    key = (spans["trace_id"] + "\x00" + ids).to_numpy()
    rows = np.flatnonzero(~shared & (~merged if merged is not None else True))
    dup = pd.Series(key[rows]).duplicated(keep=False).to_numpy()
    if not dup.any():
        return None
    rows = rows[dup]
    df = pd.DataFrame({"key": key[rows], "not_client": spans["kind"].to_numpy()[rows] != "client",
                       "service": spans["service"].to_numpy()[rows], "row": rows})
    df = df.sort_values(["key", "not_client", "service", "row"])
    last = df.groupby("key", sort=False)["row"].transform("last").to_numpy()
    dropped = np.zeros(len(spans), dtype=bool)
    survivor = np.arange(len(spans))
    r = df["row"].to_numpy()
    dropped[r] = r != last
    survivor[r] = last
    return dropped, survivor


@with_provenance
def zipkin_links(ts) -> pd.DataFrame:
    """zipkin's DependencyLinker over every trace (columns as :func:`dependencies`).

    Per span, breadth-first in the zipkin tree: CLIENT spans with children are skipped (the server
    names the link); a span without a kind counts as a CLIENT when both its service and remote
    service are known; SERVER/CONSUMER link remote → self (the root span only when its remote is
    known), CLIENT/PRODUCER self → remote; messaging links need both ends (the broker). Otherwise the
    nearest ancestor with a kind decides: a SERVER's parent is that ancestor's service, a CLIENT in
    another service than that ancestor also backfills ancestor → client (never an error); a span
    whose direct parent is that CLIENT ancestor (not a shared half) also fails when the client did.
    """
    spans = _spans(ts)
    n = len(spans)
    prow = parent_rows(spans)
    zparent, root_of = _zipkin_parents(spans, prow)
    err = spans["error"].to_numpy().astype(bool).copy()
    merged = _zipkin_merged(spans)
    lost = _zipkin_key_collisions(spans, merged[0] if merged is not None else None)
    for gone in (merged, lost):
        if gone is not None:  # spans zipkin's tree never holds: their children hang under the survivor
            dropped, survivor = gone
            zparent = np.where((zparent >= 0) & dropped[np.maximum(zparent, 0)], survivor[np.maximum(zparent, 0)],
                               zparent)
    if merged is not None:  # a span sent in pieces is one span; an error in any piece is its error
        np.logical_or.at(err, merged[1][merged[0]], err[merged[0]])
    kind = spans["kind"].to_numpy().astype(object)
    svc = _text(spans["service"].to_numpy())
    svc[svc == "unknown-service"] = None  # the loader's stand-in for a missing localEndpoint
    remote = _text(spans["peer_service"].to_numpy()) if "peer_service" in spans else np.full(n, None, object)
    dur = spans["duration_us"].to_numpy()
    shared = spans["shared"].to_numpy() if "shared" in spans else np.zeros(n, bool)
    has_kids = np.zeros(n, dtype=bool)
    has_kids[zparent[zparent >= 0]] = True
    known = (svc != None) & (remote != None)  # noqa: E711
    k = np.where(kind == "internal", np.where(known, "client", ""), kind)
    active = (k != "") & ~((kind == "client") & has_kids)
    for gone in (merged, lost):
        if gone is not None:
            active &= ~gone[0]
    is_root = np.arange(n) == root_of
    to_self = np.isin(k, ("server", "consumer"))
    parent = np.where(to_self, remote, svc)
    child = np.where(to_self, svc, remote)
    active &= ~(to_self & is_root & (remote == None))  # noqa: E711
    messaging = np.isin(k, ("producer", "consumer"))
    # nearest ancestor with a kind (zipkin: span.kind set), climbing one level per pass
    anc = np.full(n, -1, dtype=np.int64)
    cur = zparent.copy()
    pending = active & ~messaging & (cur >= 0)
    while pending.any():
        hit = pending & (kind[np.maximum(cur, 0)] != "internal")
        anc[hit] = cur[hit]
        pending &= ~hit
        cur = np.where(pending, zparent[np.maximum(cur, 0)], -1)
        pending &= cur >= 0
    rpc = active & ~messaging
    a_ok = rpc & (anc >= 0)
    a_ok[a_ok] = svc[anc[a_ok]] != None  # noqa: E711
    a_name = np.full(n, None, dtype=object)
    a_name[a_ok] = svc[anc[a_ok]]
    backfill = a_ok & (k == "client") & (svc != None) & (a_name != svc)  # noqa: E711
    take = a_ok & ((k == "server") | (parent == None))  # noqa: E711
    parent = np.where(take, a_name, parent)
    inherit = a_ok & ~err & (kind[np.maximum(anc, 0)] == "client") & (zparent == anc) & ~shared
    inherit[inherit] = err[anc[inherit]]
    error = err | inherit
    ok = active & (parent != None) & (child != None)  # noqa: E711
    rows = np.flatnonzero(ok)
    bf = np.flatnonzero(backfill)
    out = _aggregate(np.concatenate([parent[rows], a_name[bf]]), np.concatenate([child[rows], svc[bf]]),
                     np.concatenate([dur[rows], dur[bf]]), np.concatenate([error[rows], np.zeros(len(bf), bool)]))
    return out
