"""``forensics traces summary|deps|critical-path|services|errors FILE``."""
from __future__ import annotations



def _load(args):
    from .load import load_traces

    return load_traces(args.file)


def cmd_summary(args):
    """{"traces", "spans", "services", "orphans", "skewed", ...} for the whole file."""
    from .analysis import summary

    return summary(_load(args))


def cmd_deps(args):
    """Service-to-service edges with calls, errors and child-duration percentiles."""
    from .analysis import dependencies

    d = dependencies(_load(args), rule=args.rule)
    return d[["parent", "child", "calls", "errors", "p50_us", "p95_us"]
             + (["connection_type"] if "connection_type" in d else [])]


def cmd_critical_path(args):
    """Critical path sections per trace (µs since the epoch)."""
    from .critical_path import critical_path, sections_by_trace

    ts = _load(args)
    cp = critical_path(ts, args.trace)
    if args.trace and cp.empty and not ts.spans["trace_id"].str.startswith(args.trace).any():
        from ..errors import ArtifactError

        raise ArtifactError(args.file, None, f"no trace {args.trace!r} in this file")
    if args.format != "json":  # flat rows read better as a table or csv
        return cp.drop(columns="duration_us")
    return sections_by_trace(cp)


def cmd_services(args):
    """Per service: spans, errors, error rate, self time."""
    from .analysis import service_stats

    return service_stats(_load(args))


def cmd_errors(args):
    """Which service/operation/message explains the failing traces."""
    from .analysis import error_correlation

    return error_correlation(_load(args))


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
    q = leaf("deps", cmd_deps, "service dependency edges: calls, failing calls, p50/p95 of the callee spans")
    q.add_argument("--rule", choices=["auto", "jaeger", "zipkin", "tempo"], default="auto",
                   help="edge rule: Jaeger's (parent/child services), Zipkin's dependency linker or Grafana "
                        "Tempo's service graph (span pairs, databases, virtual nodes); auto = Zipkin's for "
                        "Zipkin files, else Jaeger's")
    q = leaf("critical-path", cmd_critical_path, "critical path of each trace, as Jaeger UI computes it")
    q.add_argument("--trace", metavar="ID", help="only this trace (an id prefix is enough)")
    leaf("services", cmd_services, "per service: spans, errors, error rate, self time")
    leaf("errors", cmd_errors, "error correlation: what explains the failing traces")
