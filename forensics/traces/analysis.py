"""Where the time went: service map, per-service/operation statistics, error correlation,
trace comparison and jaeger-analytics' per-trace metrics. Pure functions of the tables
:func:`forensics.traces.load_traces` returns (pass the TraceSet or its ``spans``).
"""
from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from .critical_path import self_time, with_provenance
from .edges import _q, dependencies, parent_rows, same_service_pairs, zipkin_links  # noqa: F401  (re-exported)


def _spans(ts) -> pd.DataFrame:
    return getattr(ts, "spans", ts)


_parent_rows = parent_rows


def summary(ts) -> dict:
    """The whole file in numbers: traces, spans, services, orphans, cross-host skew, error spans,
    duplicate ids, shapes read, first start and last end."""
    s = ts.spans
    skewed = sorted(set(ts.skew.loc[ts.skew["cross_host"], "trace_id"])) if len(ts.skew) else []
    return {
        "traces": int(s["trace_id"].nunique()),
        "spans": int(len(s)),
        "services": sorted(s["service"].unique().tolist()),
        "orphans": int(len(ts.orphans)),
        "orphan_span_ids": ts.orphans["span_id"].head(20).tolist(),
        "skewed": len(skewed),
        "skewed_trace_ids": skewed[:20],
        "children_outside_parent": int(len(ts.skew)),
        "error_spans": int(s["error"].sum()),
        "duplicate_span_ids": int(((s["span_id"] != s["raw_span_id"]) & ~s.get("shared", False)).sum()),
        "shared_rpc_spans": int(s["shared"].sum()) if "shared" in s else 0,
        "shapes": ts.shapes,
        "first_start": s["start"].min(),
        "last_end": (s["start"] + s["duration"]).max(),
    }


@with_provenance
def service_stats(ts) -> pd.DataFrame:
    """Per service: spans, errors, error_rate, total_us, self_us (sum of self times), self_share."""
    spans = _spans(ts)
    df = pd.DataFrame({"service": spans["service"].to_numpy(), "error": spans["error"].to_numpy(),
                       "dur": spans["duration_us"].to_numpy(), "self": self_time(spans).to_numpy()})
    out = df.groupby("service").agg(spans=("dur", "size"), errors=("error", "sum"), total_us=("dur", "sum"),
                                    self_us=("self", "sum")).reset_index()
    out["errors"] = out["errors"].astype(np.int64)
    out["error_rate"] = out["errors"] / out["spans"]
    out["self_share"] = out["self_us"] / max(int(out["self_us"].sum()), 1)
    return out.sort_values("self_us", ascending=False, ignore_index=True)


@with_provenance
def dependency_graph(ts, rule: str = "auto", peers: bool = True) -> nx.DiGraph:
    """The service map as a networkx DiGraph (edges by :func:`forensics.traces.edges.dependencies`).

    Edges carry calls, errors (failing calls), error_rate, p50_us, p95_us, max_us; nodes carry spans,
    errors, error_rate, self_us, and ``internal_calls`` (same-service parent/child pairs);
    ``graph["rule"]`` names the edge rule. Peers that left no spans (a database) are nodes with 0 spans.
    """
    g = nx.DiGraph()
    for row in service_stats(ts).itertuples(index=False):
        g.add_node(row.service, spans=int(row.spans), errors=int(row.errors), error_rate=float(row.error_rate),
                   self_us=int(row.self_us), internal_calls=0)
    for row in same_service_pairs(ts).itertuples(index=False):
        g.nodes[row.service]["internal_calls"] = int(row.calls)
    deps = dependencies(ts, rule=rule, peers=peers)
    g.graph["rule"] = deps.attrs.get("rule")
    for row in deps.itertuples(index=False):
        for node in (row.parent, row.child):
            if node not in g:
                g.add_node(node, spans=0, errors=0, error_rate=0.0, self_us=0, internal_calls=0)
        g.add_edge(row.parent, row.child, calls=int(row.calls), errors=int(row.errors),
                   error_rate=row.errors / row.calls, p50_us=row.p50_us, p95_us=row.p95_us, max_us=int(row.max_us))
    return g


@with_provenance
def operation_stats(ts, by=("service", "operation")) -> pd.DataFrame:
    """Jaeger UI's trace-statistics table over all loaded traces.

    Per group: count, total_us, avg_us, p95_us, min_us, max_us, self_total_us, self_avg_us and
    pct_of_trace = Σ self time / Σ trace durations × 100 (Jaeger's "% of trace").
    """
    spans = _spans(ts)
    by = [by] if isinstance(by, str) else list(by)
    df = spans[by].copy()
    df["dur"] = spans["duration_us"].to_numpy()
    df["self"] = self_time(spans).to_numpy()
    total_trace = trace_summary(spans)["duration_us"].sum()
    out = df.groupby(by).agg(count=("dur", "size"), total_us=("dur", "sum"), avg_us=("dur", "mean"),
                             p95_us=("dur", lambda v: _q(v, 95)), min_us=("dur", "min"), max_us=("dur", "max"),
                             self_total_us=("self", "sum"), self_avg_us=("self", "mean")).reset_index()
    out["pct_of_trace"] = (out["self_total_us"] / max(int(total_trace), 1) * 100).round(2)
    return out.sort_values("self_total_us", ascending=False, ignore_index=True)


@with_provenance
def trace_summary(ts) -> pd.DataFrame:
    """One row per trace: root service/operation, start, duration_us (first start to last end),
    spans, services, errors, roots, orphans, skewed (a child outside its parent across hosts)."""
    spans = _spans(ts)
    g = spans.groupby("trace_id", sort=False)
    out = g.agg(start_us=("start_us", "min"), end_us=("end_us", "max"), spans=("span_id", "size"),
                services=("service", "nunique"), errors=("error", "sum"), roots=("is_root", "sum"),
                orphans=("orphan", "sum"))
    untimed = spans["start_us"] == 0  # no start time (Zipkin: no 'timestamp'): such a span does not date its trace
    if untimed.any():
        timed = spans[~untimed].groupby("trace_id", sort=False).agg(start_us=("start_us", "min"), end_us=("end_us", "max"))
        out["start_us"] = timed["start_us"].reindex(out.index).fillna(out["start_us"]).astype(np.int64)
        out["end_us"] = timed["end_us"].reindex(out.index).fillna(out["end_us"]).astype(np.int64)
    roots = spans[spans["is_root"]].sort_values("start_us", kind="stable").drop_duplicates("trace_id")
    roots = roots.set_index("trace_id")
    out["root_service"] = roots["service"].reindex(out.index)
    out["root_operation"] = roots["operation"].reindex(out.index)
    out["root_error"] = roots["error"].reindex(out.index).fillna(False).astype(bool)
    out["duration_us"] = out["end_us"] - out["start_us"]
    skew = ts.skew if hasattr(ts, "spans") else None
    # Skewed: a child outside its parent across hosts (unknown hosts count as different, as in Jaeger).
    out["skewed"] = out.index.isin(skew.loc[skew["cross_host"], "trace_id"]) if skew is not None else False
    out["start"] = pd.to_datetime(out["start_us"], unit="us", utc=True)
    out = out.reset_index()
    for c in ("errors", "roots", "orphans"):
        out[c] = out[c].astype(np.int64)
    cols = ["trace_id", "root_service", "root_operation", "start", "duration_us", "spans", "services", "errors",
            "root_error", "roots", "orphans", "skewed", "start_us", "end_us"]
    return out[cols].sort_values("duration_us", ascending=False, ignore_index=True)


def _error_reasons(ts) -> pd.Series:
    """Per span: status message, else the exception type from its events, else ''."""
    spans = _spans(ts)
    msg = spans["status_message"].fillna("")
    logs = ts.logs if hasattr(ts, "spans") else None
    if logs is not None and len(logs):
        exc = logs[logs["event"] == "exception"]
        if len(exc):
            et = exc["fields"].str.extract(r'"exception\.type":"([^"]*)"')[0]
            first = pd.Series(et.to_numpy(), index=exc["span"].to_numpy()).groupby(level=0).first()
            fill = first.reindex(np.arange(len(spans))).fillna("").to_numpy()
            msg = msg.where(msg != "", pd.Series(fill, index=spans.index))
    return msg


@with_provenance
def error_correlation(ts, examples: int = 3) -> pd.DataFrame:
    """Which (service, operation, error message) explains the failing traces.

    A trace fails when a root span is an error (when no root failed anywhere, any error span
    marks its trace failing). For each error signature: failing_traces (failing traces holding it),
    ok_traces (succeeding traces holding it — e.g. retried errors), coverage (share of all
    failing traces) and precision (share of the traces holding it that failed); sorted by
    coverage × precision (deepest error span first on ties: the origin), with example trace ids.
    """
    spans = _spans(ts)
    summary = trace_summary(ts)
    failing = set(summary.loc[summary["root_error"], "trace_id"])
    if not failing:
        failing = set(summary.loc[summary["errors"] > 0, "trace_id"])
    err = spans[spans["error"]]
    cols = ["service", "operation", "message", "failing_traces", "ok_traces", "coverage", "precision", "depth",
            "example_traces"]
    if err.empty:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame({"service": err["service"], "operation": err["operation"],
                       "message": _error_reasons(ts)[spans["error"]], "trace_id": err["trace_id"],
                       "depth": err["depth"] if "depth" in err else 0})
    df = df.drop_duplicates(["service", "operation", "message", "trace_id"])
    df["failing"] = df["trace_id"].isin(failing)
    g = df.groupby(["service", "operation", "message"], sort=False)
    out = g.agg(failing_traces=("failing", "sum"), traces=("trace_id", "size"), depth=("depth", "max")).reset_index()
    out["ok_traces"] = out["traces"] - out["failing_traces"]
    out["coverage"] = out["failing_traces"] / max(len(failing), 1)
    out["precision"] = out["failing_traces"] / out["traces"]
    ex = df.sort_values(["failing", "trace_id"], ascending=[False, True]).groupby(
        ["service", "operation", "message"], sort=False)["trace_id"].agg(lambda v: [str(x) for x in v[:examples]])
    out["example_traces"] = ex.reindex(pd.MultiIndex.from_frame(out[["service", "operation", "message"]])).to_numpy()
    out["rank"] = out["coverage"] * out["precision"]
    # Ties: the deepest error first — it is where the failure started, the rest propagate it.
    out = out.sort_values(["rank", "failing_traces", "depth", "service", "operation", "message"],
                          ascending=[False, False, False, True, True, True])
    return out[cols].reset_index(drop=True).astype({"failing_traces": np.int64, "ok_traces": np.int64})


def span_paths(ts) -> pd.Series:
    """Each span's ancestral path of ``service/operation`` pairs from its root, joined by " > "
    (the key Jaeger's trace comparison groups spans by)."""
    spans = _spans(ts)
    prow = _parent_rows(spans)
    label = (spans["service"] + "/" + spans["operation"]).to_numpy().astype(object)
    path = np.empty(len(spans), dtype=object)
    depth = _depth_from(prow)
    for d in range(int(depth.max()) + 1 if len(depth) else 0):
        rows = np.flatnonzero(depth == d)
        if d == 0:
            path[rows] = label[rows]
        else:
            path[rows] = path[prow[rows]] + " > " + label[rows]
    return pd.Series(path, index=spans.index, name="path", dtype="str")


def _depth_from(prow: np.ndarray) -> np.ndarray:
    depth = np.zeros(len(prow), dtype=np.int64)
    cur = prow.copy()
    while (cur >= 0).any():  # one step per tree level
        m = cur >= 0
        depth[m] += 1
        cur[m] = prow[cur[m]]
    return depth


@with_provenance
def compare(a, b) -> pd.DataFrame:
    """Compare two traces or two groups of traces, matched by the ancestral service/operation path.

    ``a`` and ``b`` are span tables (e.g. ``ts.trace(id)`` or ``ts.spans[ts.spans.trace_id.isin(ids)]``).
    Per path: count_a/count_b (spans), traces_a/traces_b, mean_us_a/mean_us_b, total_us_a/total_us_b,
    delta_mean_us, and change: only_a, only_b, more, fewer, same (count per trace) — Jaeger UI's
    diff compares counts only; durations are added here.
    """
    def side(x):
        x = _spans(x)
        df = pd.DataFrame({"path": span_paths(x).to_numpy(), "dur": x["duration_us"].to_numpy(),
                           "trace_id": x["trace_id"].to_numpy()})
        n = max(df["trace_id"].nunique(), 1)
        g = df.groupby("path").agg(count=("dur", "size"), total_us=("dur", "sum"), mean_us=("dur", "mean"),
                                   traces=("trace_id", "nunique"))
        g["per_trace"] = g["count"] / n
        return g

    sa, sb = side(a), side(b)
    out = sa.merge(sb, how="outer", left_index=True, right_index=True, suffixes=("_a", "_b"))
    for c in ("count_a", "count_b", "total_us_a", "total_us_b", "traces_a", "traces_b"):
        out[c] = out[c].fillna(0).astype(np.int64)
    pa, pb = out["per_trace_a"].fillna(0), out["per_trace_b"].fillna(0)
    out["change"] = np.select([out["count_b"] == 0, out["count_a"] == 0, pb > pa, pb < pa],
                              ["only_a", "only_b", "more", "fewer"], "same")
    out["delta_mean_us"] = out["mean_us_b"] - out["mean_us_a"]
    out = out.reset_index()
    out["depth"] = out["path"].str.count(" > ")
    cols = ["path", "depth", "count_a", "count_b", "traces_a", "traces_b", "mean_us_a", "mean_us_b", "delta_mean_us",
            "total_us_a", "total_us_b", "change"]
    return out[cols].sort_values(["depth", "path"], ignore_index=True)


@with_provenance
def trace_metrics(ts) -> pd.DataFrame:
    """jaeger-analytics' per-trace metrics: height (spans on the longest root-to-leaf chain),
    depth (its edges), service_depth (most services met along one chain, counting each change),
    errors (error spans)."""
    spans = _spans(ts)
    prow = _parent_rows(spans)
    depth = _depth_from(prow)
    svc = spans["service"].to_numpy()
    changes = np.zeros(len(spans), dtype=np.int64)
    for d in range(1, int(depth.max()) + 1 if len(depth) else 0):
        rows = np.flatnonzero(depth == d)
        changes[rows] = changes[prow[rows]] + (svc[rows] != svc[prow[rows]])
    df = pd.DataFrame({"trace_id": spans["trace_id"].to_numpy(), "depth": depth, "svc": changes + 1,
                       "error": spans["error"].to_numpy()})
    out = df.groupby("trace_id", sort=False).agg(depth=("depth", "max"), service_depth=("svc", "max"),
                                                 errors=("error", "sum")).reset_index()
    out["height"] = out["depth"] + 1
    return out[["trace_id", "height", "depth", "service_depth", "errors"]].astype({"errors": np.int64})


@with_provenance
def service_neighbours(ts) -> pd.DataFrame:
    """Per service: direct_downstream (distinct services it calls) and direct_upstream (callers)."""
    g = dependency_graph(ts)
    return pd.DataFrame([{"service": n, "direct_downstream": g.out_degree(n), "direct_upstream": g.in_degree(n)}
                         for n in sorted(g.nodes)])


@with_provenance
def network_gaps(ts) -> pd.DataFrame:
    """Client→server gaps where both sides are instrumented (jaeger-analytics' network latency).

    For each CLIENT span and each nearest SERVER descendant (its first SERVER span on every path
    down): request_gap_us = server.start − client.start, response_gap_us = client.end − server.end,
    network_us = their sum. Negative values mean the clocks of the two hosts disagree.
    """
    spans = _spans(ts)
    prow = _parent_rows(spans)
    kind = spans["kind"].to_numpy()
    server = np.flatnonzero(kind == "server")
    client_of = np.full(len(server), -1, dtype=np.int64)
    cur = prow[server].copy()
    pending = np.ones(len(server), dtype=bool)
    while pending.any():  # climb to the nearest client ancestor, stop at a server ancestor
        cur_ok = pending & (cur >= 0)
        pending &= cur_ok
        k = np.where(cur_ok, kind[np.maximum(cur, 0)], "")
        hit = pending & (k == "client")
        client_of[hit] = cur[hit]
        pending &= ~hit & (k != "server")
        cur = np.where(pending, prow[np.maximum(cur, 0)], -1)
    m = client_of >= 0
    c, s = client_of[m], server[m]
    st, en, svc = spans["start_us"].to_numpy(), spans["end_us"].to_numpy(), spans["service"].to_numpy()
    out = pd.DataFrame({"trace_id": spans["trace_id"].to_numpy()[c], "client_span_id": spans["span_id"].to_numpy()[c],
                        "server_span_id": spans["span_id"].to_numpy()[s], "client_service": svc[c],
                        "server_service": svc[s], "request_gap_us": st[s] - st[c], "response_gap_us": en[c] - en[s]})
    out["network_us"] = out["request_gap_us"] + out["response_gap_us"]
    return out


@with_provenance
def critical_share(ts) -> pd.DataFrame:
    """How much of the critical paths each service owns: service, critical_us, share (of all
    critical time in the loaded traces), traces (in which it is on the critical path)."""
    from .critical_path import critical_path

    cp = critical_path(ts)
    out = cp.groupby("service").agg(critical_us=("duration_us", "sum"), traces=("trace_id", "nunique")).reset_index()
    out["share"] = out["critical_us"] / max(int(out["critical_us"].sum()), 1)
    return out.sort_values("critical_us", ascending=False, ignore_index=True)


def _line(text, width: int = 100) -> str:
    first = str(text).splitlines()[0] if str(text) else ""
    return first if len(first) <= width else first[: width - 1] + "…"


def findings(ts) -> list[str]:
    """A few sentences a person can act on: slowest trace, who owns the critical path, the busiest
    and the most failing calls, what explains the failures, skew and orphans."""
    out = []
    summ = trace_summary(ts)
    slow = summ.iloc[0]
    out.append(f"{len(summ)} traces, {int(summ['spans'].sum())} spans; the slowest, {slow['trace_id'][:16]}…, "
               f"took {slow['duration_us'] / 1000:.1f} ms ({slow['root_service']}: {slow['root_operation']}); "
               f"median trace {summ['duration_us'].median() / 1000:.1f} ms.")
    cs = critical_share(ts)
    top = cs.head(2)
    out.append("On the critical paths, " + " and ".join(
        f"{r.service} owns {r.share:.0%}" for r in top.itertuples()) + " of the waiting time.")
    deps = dependencies(ts)
    if len(deps):
        busiest = deps.iloc[0]
        text = (f"Busiest call: {busiest['parent']} → {busiest['child']} ({busiest['calls']} calls, "
                f"p95 {busiest['p95_us'] / 1000:.1f} ms).")
        failing = deps[deps["errors"] > 0]
        if len(failing):
            worst = failing.assign(rate=failing["errors"] / failing["calls"]).sort_values(
                ["rate", "errors"], ascending=False).iloc[0]
            text += (f" Most failing call: {worst['parent']} → {worst['child']} "
                     f"({worst['errors']}/{worst['calls']} calls failed).")
        else:
            text += " No call between services failed."
        out.append(text)
    ec = error_correlation(ts)
    roots_failed = bool(trace_summary(ts)["root_error"].any())
    if len(ec) and ec.iloc[0]["failing_traces"] > 0:
        e = ec.iloc[0]
        msg = f"\"{_line(e['message'])}\"" if _line(e["message"]) else "no error message"
        if roots_failed:
            out.append(f"Failures: {e['service']} '{e['operation']}' with {msg} is in {e['coverage']:.0%} of failing "
                       f"traces and only in failing traces ({e['precision']:.0%}).")
        else:  # error_correlation then counts a trace with any error span as failing; say what was seen
            n, traces = int(e["failing_traces"] + e["ok_traces"]), int(_spans(ts)["trace_id"].nunique())
            out.append(f"No request failed at its root span; the most common error span is {e['service']} "
                       f"'{e['operation']}' with {msg}, in {n:,} of {traces:,} trace(s).")
        benign = ec[(ec["failing_traces"] == 0) & (ec["ok_traces"] > 0)]
        if len(benign):
            b = benign.iloc[0]
            out.append(f"Errors that did not fail their trace (retried or asynchronous): {b['service']} "
                       f"'{b['operation']}' \"{_line(b['message'])}\" in {b['ok_traces']} successful traces.")
    skew = ts.skew if hasattr(ts, "spans") else None
    orphans = ts.orphans if hasattr(ts, "spans") else None
    n_skewed = 0 if skew is None else skew.loc[skew["cross_host"], "trace_id"].nunique()
    n_outside = 0 if skew is None else len(skew)
    out.append(f"Clock skew: {n_skewed} trace(s) with a child outside its parent across hosts "
               f"({n_outside} child span(s) outside their parent in all); orphan spans: "
               f"{0 if orphans is None else len(orphans)}.")
    return out
