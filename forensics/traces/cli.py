"""``forensics traces summary|deps|critical-path|services|errors FILE``."""
from __future__ import annotations

import numpy as np


def _load(args):
    from .load import load_traces

    return load_traces(args.file)


def cmd_summary(args):
    """{"traces", "spans", "services", "orphans", "skewed", ...} for the whole file."""
    ts = _load(args)
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
        "duplicate_span_ids": int((s["span_id"] != s["raw_span_id"]).sum()),
        "shapes": ts.shapes,
        "first_start": s["start"].min(),
        "last_end": (s["start"] + s["duration"]).max(),
    }


def cmd_deps(args):
    """Service-to-service edges with calls, errors and child-duration percentiles."""
    from .analysis import dependencies

    d = dependencies(_load(args))
    return d[["parent", "child", "calls", "errors", "p50_us", "p95_us"]]


def cmd_critical_path(args):
    """Critical path sections per trace (µs since the epoch)."""
    from .critical_path import critical_path

    ts = _load(args)
    cp = critical_path(ts, args.trace)
    if args.trace and cp.empty and not ts.spans["trace_id"].str.startswith(args.trace).any():
        from ..errors import ArtifactError

        raise ArtifactError(args.file, None, f"no trace {args.trace!r} in this file")
    out = []
    for tid, g in cp.groupby("trace_id", sort=False):
        out.append({"trace_id": tid, "sections": [
            {"span_id": r.span_id, "service": r.service, "operation": r.operation,
             "start_us": int(r.start_us), "end_us": int(r.end_us)} for r in g.itertuples(index=False)]})
    if args.format != "json":  # flat rows read better as a table or csv
        return [dict(trace_id=t["trace_id"], **sec) for t in out for sec in t["sections"]]
    return out


def cmd_services(args):
    """Per service: spans, errors, error rate, self time."""
    from .analysis import service_stats

    return service_stats(_load(args))


def cmd_errors(args):
    """Which service/operation/message explains the failing traces."""
    from .analysis import error_correlation

    e = error_correlation(_load(args))
    e["example_traces"] = e["example_traces"].map(lambda v: list(v) if isinstance(v, (list, np.ndarray)) else v)
    return e


def register(sub, common):
    p = sub.add_parser("traces", help="Jaeger / OTLP / Zipkin trace exports")
    tsub = p.add_subparsers(dest="traces_command", metavar="COMMAND")
    tsub.required = True

    def leaf(name, func, help_):
        q = tsub.add_parser(name, parents=[common], help=help_)
        q.add_argument("file", metavar="FILE")
        q.set_defaults(func=func)
        return q

    leaf("summary", cmd_summary, "traces, spans, services, orphans, clock-skewed traces")
    leaf("deps", cmd_deps, "service dependency edges: calls, errors, p50/p95 of the callee spans")
    q = leaf("critical-path", cmd_critical_path, "critical path of each trace, as Jaeger UI computes it")
    q.add_argument("--trace", metavar="ID", help="only this trace (an id prefix is enough)")
    leaf("services", cmd_services, "per service: spans, errors, error rate, self time")
    leaf("errors", cmd_errors, "error correlation: what explains the failing traces")
