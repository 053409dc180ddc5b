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
import pyarrow as pa
import pyarrow.compute as pc


def _arrow(series) -> pa.Array:
    """The column as one Arrow array (no copy for Arrow-backed ``str`` columns)."""
    try:
        a = series.array.__arrow_array__()
    except AttributeError:
        return pa.array(series.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)
    return a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a


def _take(series, rows: np.ndarray) -> pd.Series:
    """``series[rows]`` as a ``str`` column, null where rows < 0 — without Python strings."""
    rows = np.asarray(rows, dtype=np.int64)
    got = _arrow(series).take(pa.array(np.maximum(rows, 0), mask=rows < 0))
    return got.to_pandas().astype("str").reset_index(drop=True)


def _is(series, text: str) -> np.ndarray:
    a = _arrow(series)
    return pc.fill_null(pc.equal(a, pa.scalar(text, a.type)), False).to_numpy(zero_copy_only=False)


def _codes(*columns) -> tuple[list, int]:
    """Integer codes of the values of several string columns, through one shared dictionary
    (-1 for null), and how many distinct values there are."""
    arrays = [_arrow(c).cast(pa.large_string()) for c in columns]
    enc = pa.concat_arrays(arrays).dictionary_encode()
    idx = enc.indices
    codes = pc.fill_null(idx, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    out, at = [], 0
    for a in arrays:
        out.append(codes[at:at + len(a)])
        at += len(a)
    return out, max(len(enc.dictionary), 1)


def _resolve_parents(n, ref_rows, same_trace, ref_key, first_row):
    """Row of each span's tree parent (-1 = root), which reference gave it, which references
    resolved, and which spans are orphans."""
    parent = np.full(n, -1, dtype=np.int64)
    is_parent = np.zeros(len(ref_rows), dtype=bool)
    if not len(ref_rows):
        return parent, is_parent, np.zeros(0, dtype=bool), np.zeros(n, dtype=bool)
    target = first_row.reindex(ref_key).to_numpy(dtype=float)
    found = ~np.isnan(target)
    target = np.where(found, target, -1).astype(np.int64)
    resolved = found & same_trace & (target != ref_rows)
    cand = np.flatnonzero(resolved)  # in reference order: the first per span is its parent
    spans_with, first = np.unique(ref_rows[cand], return_index=True)
    chosen = cand[first]
    is_parent[chosen] = True
    parent[spans_with] = target[chosen]
    has_same_trace_ref = np.zeros(n, dtype=bool)
    has_same_trace_ref[ref_rows[same_trace]] = True
    return parent, is_parent, resolved, has_same_trace_ref & (parent < 0)


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


def _shared_servers(kind_col, key, zipkin: bool) -> tuple[np.ndarray, np.ndarray]:
    """Rows of SERVER spans sharing their (trace, id) with a CLIENT span, and that client's row
    (Zipkin: with any span of another kind, e.g. a PRODUCER — span-node.js keys them alike)."""
    server = _is(kind_col, "server")
    client = _is(kind_col, "client")
    if zipkin:
        client |= _is(kind_col, "producer") | _is(kind_col, "consumer")
    if not (client.any() and server.any()):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    crow = np.flatnonzero(client)
    ck, first = np.unique(key[crow], return_index=True)
    srow = np.flatnonzero(server)
    pos = np.searchsorted(ck, key[srow])
    pos = np.minimum(pos, len(ck) - 1)
    ok = ck[pos] == key[srow]
    return srow[ok], crow[first[pos[ok]]]


def build_tree(spans: pd.DataFrame, refs: pd.DataFrame, prov, tolerance_us: int = 0, zipkin: bool = False):
    """Add tree columns to ``spans`` (span_id renamed for duplicates, raw_span_id, parent,
    parent_span_id, depth, is_root, orphan, shared, parent_ref_type, otel_parent_span_id) and
    ``refs`` (resolved, is_parent). Returns (spans, refs, orphans, skew).

    Ids are matched as integers (one dictionary for span and reference ids, keyed with the trace),
    so a million spans never become a million Python strings."""
    n = len(spans)
    rows = np.arange(n)
    tcode = pd.factorize(spans["trace_id"])[0].astype(np.int64)
    (sid, rid), n_ids = _codes(spans["span_id"], refs["ref_span_id"])
    key = tcode * n_ids + sid  # (trace, raw span id)
    ref_rows = refs["span"].to_numpy().astype(np.int64)
    ref_key = np.where(rid >= 0, tcode[ref_rows] * n_ids + rid, -1)
    srv, cli = _shared_servers(spans["kind"], key, zipkin)
    is_srv = np.zeros(n, dtype=bool)
    is_srv[srv] = True
    raw = spans["span_id"]
    # duplicates: the 2nd, 3rd… span of a (trace, id) — server halves counted among themselves
    dup_key = key + is_srv * (int(tcode.max() + 1 if n else 1) * n_ids)
    n_dup = pd.Series(dup_key).groupby(dup_key, sort=False).cumcount().to_numpy()
    ids = raw
    if len(srv):  # the server half gets its own id
        r = _arrow(raw)
        suffix = pa.scalar("_server", r.type)
        ids = pd.Series(pc.if_else(pa.array(is_srv), pc.binary_join_element_wise(r, suffix, pa.scalar("", r.type)), r)
                        .to_pandas().astype("str").to_numpy(), index=spans.index, dtype="str")
    if (n_dup > 0).any():
        ids = ids.where(n_dup == 0, ids + "_" + pd.Series(n_dup, index=spans.index).astype(str))
    spans = spans.assign(raw_span_id=raw, span_id=ids)
    n_renamed = int((n_dup > 0).sum())
    if n_renamed:
        prov.warn("spans", f"{n_renamed} duplicate span id(s) renamed <id>_1, <id>_2… as Jaeger UI does")
    first_mask = (n_dup == 0) & ~is_srv  # references to a shared id go to the client half (re-pointed below)
    first_row = pd.Series(rows[first_mask], index=key[first_mask])
    first_row = first_row[~first_row.index.duplicated()]
    same_trace = pc.fill_null(pc.equal(_arrow(refs["ref_trace_id"]), _arrow(spans["trace_id"]).take(pa.array(ref_rows))),
                              False).to_numpy(zero_copy_only=False) if len(refs) else np.zeros(0, bool)
    parent, is_parent, resolved, orphan = _resolve_parents(n, ref_rows, same_trace, ref_key, first_row)
    if len(srv):
        proc = spans["process"].to_numpy()
        parent, is_parent, orphan = _split_shared(proc, key, ref_rows, srv, cli, parent, is_parent, orphan, zipkin)
    depth, ok = _depths(parent)
    if not ok.all():
        cut = _break_cycles(parent, ~ok)
        prov.warn("spans", f"parent cycle(s) broken at {len(cut)} span(s): "
                           + ", ".join(spans["span_id"].iloc[cut].head(5)))
        if is_parent.any():  # the cut spans no longer use their parent reference
            is_parent &= ~np.isin(ref_rows, cut)
        depth, ok = _depths(parent)
    spans["parent"] = parent
    spans["parent_span_id"] = _take(spans["span_id"], parent).set_axis(spans.index)
    spans["depth"] = depth
    spans["is_root"] = parent < 0
    spans["orphan"] = orphan
    spans["shared"] = is_srv
    via = np.full(n, -1, dtype=np.int64)
    via[ref_rows[is_parent]] = np.flatnonzero(is_parent)
    ptype = _arrow(_take(refs["ref_type"], via))
    if len(srv):
        ptype = pc.if_else(pa.array(is_srv), pa.scalar("CHILD_OF", ptype.type), ptype)
    spans["parent_ref_type"] = pd.Series(ptype.to_pandas().astype("str").to_numpy(), index=spans.index, dtype="str")
    refs = refs.assign(resolved=resolved, is_parent=is_parent)
    spans["otel_parent_span_id"] = _otel_parent(spans, refs, ref_rows, same_trace, is_srv).set_axis(spans.index)
    orphan_rows = np.flatnonzero(orphan)
    o_ref = refs[refs["span"].isin(orphan_rows)].groupby("span", sort=False)["ref_span_id"].first()
    orphans = pd.DataFrame({"trace_id": _take(spans["trace_id"], orphan_rows),
                            "span_id": _take(spans["span_id"], orphan_rows),
                            "missing_parent": pd.Series(o_ref.reindex(orphan_rows).to_numpy(), dtype="str"),
                            "service": _take(spans["service"], orphan_rows),
                            "operation": _take(spans["operation"], orphan_rows)})
    # Orphans are a property of the evidence, not a load problem: reported, not warned about.
    prov.details["orphans"] = len(orphans)
    skew = clock_skew(spans, tolerance_us)
    return spans, refs, orphans, skew


def _otel_parent(spans, refs, ref_rows, same_trace, shared) -> pd.Series:
    """The parent jaeger-ui's OTel model (OtelSpanFacade) gives each span: its first same-trace
    CHILD_OF reference, else its first same-trace FOLLOWS_FROM one — even when that span is not in
    the file. Usually the tree parent; it differs for odd reference lists (and matters to the
    critical path, which walks back through it)."""
    out = _arrow(spans["parent_span_id"])
    if not len(refs):
        return out.to_pandas().astype("str")
    cand = np.flatnonzero(same_trace)
    not_child = ~_is(refs["ref_type"], "CHILD_OF")
    order = cand[np.lexsort((cand, not_child[cand], ref_rows[cand]))]
    spans_with, first = np.unique(ref_rows[order], return_index=True)
    chosen = order[first]
    own = ~refs["is_parent"].to_numpy()[chosen] & ~shared[spans_with]  # the tree used another reference
    if own.any():
        mask = np.zeros(len(spans), dtype=bool)
        mask[spans_with[own]] = True
        repl = _arrow(refs["ref_span_id"]).take(pa.array(chosen[own])).cast(out.type)
        out = pc.replace_with_mask(out, pa.array(mask), repl)
    return out.to_pandas().astype("str")


def _split_shared(proc, key, ref_rows, srv, cli, parent, is_parent, orphan, zipkin):
    """Server halves become children of their client; the shared id's children move to the server
    (Zipkin, span-node.js: only children with the server's endpoint; Jaeger: all)."""
    parent = parent.copy()
    to_server = pd.Series(srv, index=key[srv])
    to_server = to_server[~to_server.index.duplicated()]
    kids = np.flatnonzero(parent >= 0)
    kids = kids[~np.isin(kids, srv)]
    s_of = to_server.reindex(key[parent[kids]]).to_numpy(dtype=float)
    hit = ~np.isnan(s_of)
    kids, s_of = kids[hit], s_of[hit].astype(np.int64)
    move = (proc[kids] == proc[s_of]) if zipkin else np.ones(len(kids), dtype=bool)
    parent[kids[move]] = s_of[move]
    parent[srv] = cli
    orphan = orphan.copy()
    orphan[srv] = False
    is_parent = is_parent & ~np.isin(ref_rows, srv)  # the server's own refs are not its parent now
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
    is_async = _is(spans["kind"], "consumer")[child] & _is(spans["kind"], "producer")[p]
    if "parent_ref_type" in spans:
        is_async |= _is(spans["parent_ref_type"], "FOLLOWS_FROM")[child]
    early = np.maximum(ps - cs, 0)
    late = np.where(is_async, 0, np.maximum(ce - pe, 0))
    bad = (early > tolerance_us) | (late > tolerance_us)
    c, pp = child[bad], p[bad]
    hc, hp = _take(spans["host"], c), _take(spans["host"], pp)
    cross = ~(hc.notna().to_numpy() & (hc.to_numpy(dtype=object) == hp.to_numpy(dtype=object)))
    cdur, pdur = (ce - cs)[bad], (pe - ps)[bad]
    shift = np.where(cdur > pdur, np.where(cs[bad] < ps[bad], ps[bad] - cs[bad], 0),
                     ps[bad] + (pdur - cdur) // 2 - cs[bad])
    return pd.DataFrame({"trace_id": _take(spans["trace_id"], c), "span_id": _take(spans["span_id"], c),
                         "parent_span_id": _take(spans["span_id"], pp), "service": _take(spans["service"], c),
                         "parent_service": _take(spans["service"], pp), "host": hc, "parent_host": hp,
                         "cross_host": cross, "early_us": early[bad], "late_us": late[bad],
                         "estimated_shift_us": shift})


def untimed_spans(spans: pd.DataFrame, skew: pd.DataFrame, prov) -> pd.DataFrame:
    """Warn about spans without a start time (Zipkin allows a span with no ``timestamp``; it reads as 0 µs,
    the epoch) and drop them from ``skew``: a child 'outside its parent' by 49 years is not clock skew."""
    untimed = spans["start_us"].to_numpy() == 0
    if not untimed.any():
        return skew
    prov.warn("spans", f"{int(untimed.sum()):,} span(s) carry no start time (no 'timestamp'): they keep 0 µs "
                       "(the epoch) and are left out of trace starts, durations and clock skew")
    if skew is None or not len(skew):
        return skew
    gone = set(zip(spans["trace_id"].to_numpy()[untimed], spans["span_id"].to_numpy()[untimed]))
    keys = list(zip(skew["trace_id"], skew["span_id"]))
    pkeys = list(zip(skew["trace_id"], skew["parent_span_id"]))
    keep = np.array([k not in gone and p not in gone for k, p in zip(keys, pkeys)], dtype=bool)
    return skew[keep].reset_index(drop=True)
