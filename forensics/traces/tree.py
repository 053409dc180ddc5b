"""Trace trees as Jaeger UI builds them, and clock-skew detection — vectorised.

Rules (jaeger-ui ``model/transform-trace-data``):

* the 2nd, 3rd… span with an id already seen in its trace is renamed ``<id>_1``, ``<id>_2``;
  references to that id resolve to the first one;
* a span's parent is the first of its references (CHILD_OF or FOLLOWS_FROM, in file order)
  whose target exists in the same trace;
* a span with same-trace references none of which resolves is an *orphan*: reported and
  promoted to a root (a trace may have several roots), never dropped. Spans whose references
  all point to other traces (OTel links across traces) are plain roots, not orphans;
* parent cycles are broken at the span listed first (the newer OTLP-native Jaeger UI does so);
* Zipkin-style shared ids (jaeger ``adjuster/spaniduniquifier.go``, zipkin-lens ``span-node.js``): a
  SERVER span whose id is also a CLIENT span's id in its trace becomes its own span ``<id>_server``,
  a child of that client; the id's other children move under the server half — all of them in
  Jaeger's rule, only those with the server's own endpoint (process) in Zipkin's (for Zipkin input).

Clock skew is reported, never corrected: see :func:`clock_skew`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def _rename_duplicates(spans: pd.DataFrame) -> tuple[pd.Series, np.ndarray]:
    n_dup = spans.groupby(["trace_id", "span_id"], sort=False).cumcount().to_numpy()
    ids = spans["span_id"]
    if (n_dup > 0).any():
        ids = ids.where(n_dup == 0, ids + "_" + pd.Series(n_dup, index=spans.index).astype(str))
    return ids, n_dup


def _resolve_parents(spans, refs, first_row):
    """Row of each span's tree parent (-1 = root) and which reference gave it."""
    n = len(spans)
    parent = np.full(n, -1, dtype=np.int64)
    is_parent = np.zeros(len(refs), dtype=bool)
    resolved = np.zeros(len(refs), dtype=bool)
    if not len(refs):
        return parent, is_parent, resolved, np.zeros(n, dtype=bool)
    span_trace = spans["trace_id"].to_numpy()[refs["span"].to_numpy()]
    same_trace = refs["ref_trace_id"].to_numpy() == span_trace
    key = pd.MultiIndex.from_arrays([pd.Series(span_trace, dtype="str"), refs["ref_span_id"]])
    target = first_row.reindex(key).to_numpy()
    found = ~np.isnan(target)
    target = np.where(found, target, -1).astype(np.int64)
    resolved = found & same_trace & (target != refs["span"].to_numpy())
    cand = pd.DataFrame({"span": refs["span"].to_numpy(), "i": np.arange(len(refs))})[resolved]
    first = cand.groupby("span", sort=False)["i"].min()
    is_parent[first.to_numpy()] = True
    parent[first.index.to_numpy()] = target[first.to_numpy()]
    has_same_trace_ref = np.zeros(n, dtype=bool)
    has_same_trace_ref[refs["span"].to_numpy()[same_trace]] = True
    orphan = has_same_trace_ref & (parent < 0)
    return parent, is_parent, resolved, orphan


def _depths(parent: np.ndarray):
    """Depth of every span by pointer jumping; spans on a parent cycle get -1."""
    n = len(parent)
    idx = np.arange(n)
    anc = np.where(parent >= 0, parent, idx)  # roots point at themselves
    dist = (parent >= 0).astype(np.int64)  # distance from each span to anc
    for _ in range(int(np.ceil(np.log2(max(n, 2)))) + 2):
        anc_next = anc[anc]
        dist = dist + dist[anc]
        if np.array_equal(anc_next, anc):
            break
        anc = anc_next
    ok = parent[anc] < 0
    return np.where(ok, dist, -1), ok


def _break_cycles(parent: np.ndarray, on_cycle: np.ndarray) -> list[int]:
    """Make the first-listed span of each cycle a root; returns the rows made roots."""
    broken = []
    todo = set(np.flatnonzero(on_cycle).tolist())
    for start in sorted(todo):
        if parent[start] < 0:
            continue
        seen, node = [], start
        while node >= 0 and node not in seen:  # walk up until a root or a repeat
            seen.append(node)
            node = parent[node]
        if node >= 0:  # closed a loop: cut it at its lowest-numbered member
            loop = seen[seen.index(node):]
            cut = min(loop)
            parent[cut] = -1
            broken.append(cut)
    return broken


def _shared_servers(spans: pd.DataFrame, zipkin: bool) -> tuple[np.ndarray, np.ndarray]:
    """Rows of SERVER spans sharing their id with a CLIENT span of the trace, and that client's row
    (Zipkin: with any span of another kind, e.g. a PRODUCER — span-node.js keys them alike)."""
    kind = spans["kind"].to_numpy()
    client = (kind != "server") if zipkin else (kind == "client")
    server = kind == "server"
    if not (client.any() and server.any()):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    key = (spans["trace_id"] + "\x00" + spans["span_id"]).to_numpy()
    crow = np.flatnonzero(client)
    first_client = pd.Series(crow, index=key[crow])
    first_client = first_client[~first_client.index.duplicated()]
    srow = np.flatnonzero(server)
    hit = first_client.reindex(key[srow])
    ok = hit.notna().to_numpy()
    return srow[ok], hit.to_numpy()[ok].astype(np.int64)


def build_tree(spans: pd.DataFrame, refs: pd.DataFrame, prov, tolerance_us: int = 0, zipkin: bool = False):
    """Add tree columns to ``spans`` (span_id renamed for duplicates, raw_span_id, parent,
    parent_span_id, depth, is_root, orphan, shared) and ``refs`` (resolved, is_parent).
    Returns (spans, refs, orphans, skew)."""
    srv, cli = _shared_servers(spans, zipkin)
    raw = spans["span_id"]
    if len(srv):  # the server half gets its own id before duplicates are counted
        ids = raw.to_numpy().copy()
        ids[srv] = ids[srv] + "_server"
        spans = spans.assign(span_id=pd.Series(ids, index=spans.index, dtype="str"))
    new_ids, n_dup = _rename_duplicates(spans)
    spans = spans.assign(raw_span_id=raw, span_id=new_ids)
    n_renamed = int((n_dup > 0).sum())
    if n_renamed:
        prov.warn("spans", f"{n_renamed} duplicate span id(s) renamed <id>_1, <id>_2… as Jaeger UI does")
    first_mask = n_dup == 0
    first_mask[srv] = False  # references to a shared id go to the client half (then re-pointed below)
    first_row = pd.Series(np.flatnonzero(first_mask).astype(float),
                          index=pd.MultiIndex.from_arrays([spans["trace_id"][first_mask], spans["raw_span_id"][first_mask]]))
    parent, is_parent, resolved, orphan = _resolve_parents(spans, refs, first_row)
    shared = np.zeros(len(spans), dtype=bool)
    if len(srv):
        parent, is_parent, orphan = _split_shared(spans, refs, srv, cli, parent, is_parent, orphan, zipkin)
        shared[srv] = True
    depth, ok = _depths(parent)
    if not ok.all():
        cut = _break_cycles(parent, ~ok)
        prov.warn("spans", f"parent cycle(s) broken at {len(cut)} span(s): "
                           + ", ".join(spans["span_id"].iloc[cut].head(5)))
        if is_parent.any():  # the cut spans no longer use their parent reference
            ref_span = refs["span"].to_numpy()
            is_parent &= ~np.isin(ref_span, cut)
        depth, ok = _depths(parent)
    ids = spans["span_id"].to_numpy()
    spans["parent"] = parent
    spans["parent_span_id"] = pd.Series(np.where(parent >= 0, ids[np.maximum(parent, 0)], None), dtype="str")
    spans["depth"] = depth
    spans["is_root"] = parent < 0
    spans["orphan"] = orphan
    spans["shared"] = shared
    ptype = np.full(len(spans), None, dtype=object)
    ptype[refs["span"].to_numpy()[is_parent]] = refs["ref_type"].to_numpy()[is_parent]
    ptype[srv] = "CHILD_OF"
    spans["parent_ref_type"] = pd.Series(ptype, dtype="str")
    refs = refs.assign(resolved=resolved, is_parent=is_parent)
    spans["otel_parent_span_id"] = _otel_parent(spans, refs, shared)
    orphan_rows = np.flatnonzero(orphan)
    first_ref = refs[refs["span"].isin(orphan_rows)].groupby("span", sort=False)["ref_span_id"].first()
    orphans = pd.DataFrame({"trace_id": spans["trace_id"].to_numpy()[orphan_rows],
                            "span_id": ids[orphan_rows],
                            "missing_parent": first_ref.reindex(orphan_rows).to_numpy(),
                            "service": spans["service"].to_numpy()[orphan_rows],
                            "operation": spans["operation"].to_numpy()[orphan_rows]})
    # Orphans are a property of the evidence, not a load problem: reported, not warned about.
    prov.details["orphans"] = len(orphans)
    skew = clock_skew(spans, tolerance_us)
    return spans, refs, orphans, skew


def _otel_parent(spans, refs, shared) -> pd.Series:
    """The parent jaeger-ui's OTel model (OtelSpanFacade) gives each span: its first same-trace
    CHILD_OF reference, else its first same-trace FOLLOWS_FROM one — even when that span is not in
    the file. Usually the tree parent; it differs for odd reference lists (and matters to the
    critical path, which walks back through it)."""
    out = spans["parent_span_id"].to_numpy().astype(object)
    if not len(refs):
        return pd.Series(out, dtype="str")
    r = refs.assign(i=np.arange(len(refs)))
    r = r[r["ref_trace_id"].to_numpy() == spans["trace_id"].to_numpy()[r["span"].to_numpy()]]
    r = r.sort_values(["span", "ref_type", "i"], key=lambda c: c.map({"CHILD_OF": 0}).fillna(1) if c.name == "ref_type" else c)
    first = r.drop_duplicates("span")
    own = ~first["is_parent"].to_numpy() & ~shared[first["span"].to_numpy()]  # the tree used another reference
    rows = first["span"].to_numpy()[own]
    out[rows] = first["ref_span_id"].to_numpy()[own]
    return pd.Series(out, dtype="str")


def _split_shared(spans, refs, srv, cli, parent, is_parent, orphan, zipkin):
    """Server halves become children of their client; the shared id's children move to the server
    (Zipkin, span-node.js: only children with the server's endpoint; Jaeger: all)."""
    parent = parent.copy()
    proc = spans["process"].to_numpy()
    key = (spans["trace_id"] + "\x00" + spans["raw_span_id"]).to_numpy()
    to_server = pd.Series(srv, index=key[srv])
    to_server = to_server[~to_server.index.duplicated()]
    kids = np.flatnonzero(parent >= 0)
    kids = kids[~np.isin(kids, srv)]
    s_of = to_server.reindex(key[parent[kids]]).to_numpy()
    hit = ~np.isnan(s_of)
    kids, s_of = kids[hit], s_of[hit].astype(np.int64)
    move = (proc[kids] == proc[s_of]) if zipkin else np.ones(len(kids), dtype=bool)
    parent[kids[move]] = s_of[move]
    parent[srv] = cli
    orphan = orphan.copy()
    orphan[srv] = False
    is_parent = is_parent & ~np.isin(refs["span"].to_numpy(), srv)  # the server's own refs are not its parent now
    return parent, is_parent, orphan


def clock_skew(spans: pd.DataFrame, tolerance_us: int = 0) -> pd.DataFrame:
    """Children that start before their parent, or (synchronous children) end after it.

    One row per such child: trace_id, span_id, parent_span_id, service, parent_service,
    host, parent_host, cross_host (host differs or is unknown — Jaeger treats empty as
    different), early_us (how much earlier it starts), late_us (how much later it ends),
    estimated_shift_us (the shift Jaeger's clock-skew adjuster would compute: align starts
    when the child is longer, otherwise centre it in its parent). Asynchronous children
    (CONSUMER under PRODUCER, or FOLLOWS_FROM) may legitimately end later; only starting
    early counts for them. Nothing is adjusted.

    >>> import pandas as pd
    >>> s = pd.DataFrame({"trace_id": ["t", "t"], "span_id": ["a", "b"], "parent": [-1, 0],
    ...     "start_us": [100, 90], "end_us": [200, 150], "kind": ["server", "server"],
    ...     "service": ["x", "y"], "host": ["h1", "h2"]})
    >>> clock_skew(s)[["span_id", "early_us", "late_us", "estimated_shift_us"]].to_dict("records")
    [{'span_id': 'b', 'early_us': 10, 'late_us': 0, 'estimated_shift_us': 30}]
    """
    parent = spans["parent"].to_numpy()
    child = np.flatnonzero(parent >= 0)
    p = parent[child]
    cs, ce = spans["start_us"].to_numpy()[child], spans["end_us"].to_numpy()[child]
    ps, pe = spans["start_us"].to_numpy()[p], spans["end_us"].to_numpy()[p]
    kind = spans["kind"].to_numpy()
    is_async = (kind[child] == "consumer") & (kind[p] == "producer")
    if "parent_ref_type" in spans:
        is_async |= spans["parent_ref_type"].to_numpy()[child] == "FOLLOWS_FROM"
    early = np.maximum(ps - cs, 0)
    late = np.where(is_async, 0, np.maximum(ce - pe, 0))
    bad = (early > tolerance_us) | (late > tolerance_us)
    c, pp = child[bad], p[bad]
    host = spans["host"].to_numpy()
    hc, hp = host[c], host[pp]
    cross = ~((pd.notna(hc)) & (hc == hp))
    cdur, pdur = (ce - cs)[bad], (pe - ps)[bad]
    shift = np.where(cdur > pdur, np.where(cs[bad] < ps[bad], ps[bad] - cs[bad], 0),
                     ps[bad] + (pdur - cdur) // 2 - cs[bad])
    ids = spans["span_id"].to_numpy()
    svc = spans["service"].to_numpy()
    return pd.DataFrame({"trace_id": spans["trace_id"].to_numpy()[c], "span_id": ids[c], "parent_span_id": ids[pp],
                         "service": svc[c], "parent_service": svc[pp], "host": hc, "parent_host": hp,
                         "cross_host": cross, "early_us": early[bad], "late_us": late[bad],
                         "estimated_shift_us": shift})
