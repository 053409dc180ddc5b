"""``forensics pg plan|log|locks FILE``: why statements were slow, what the server logged, who blocked whom.

    forensics pg plan plan.txt                       # findings (hot node, misestimate, spills, …)
    forensics pg plan plan.txt --view nodes          # the node frame; --view tree draws it
    forensics pg plan before.txt --compare after.txt # two plans of one statement
    forensics pg log server.log                      # pgBadger-like summary; --view top|errors|locks|deadlocks|temp|checkpoints|events
    forensics pg locks activity.txt                  # the blocking tree; --view idle|long|edges
"""
from __future__ import annotations

# pandas is imported by the commands: every `forensics` command imports this module to build its parser

NODE_COLUMNS = ["plan", "id", "parent", "depth", "node_text", "relation", "index", "plan_rows", "actual_rows", "loops",
                "inclusive_ms", "exclusive_ms", "misestimate", "rows_removed_by_filter", "shared_hit", "shared_read",
                "temp_written", "sort_space_type", "hash_batches", "source"]


def cmd_plan(args):
    from .plan import load_plan
    from .plan_analysis import compare_plans, draw_tree, findings

    dump = load_plan(args.file)
    if args.compare:
        other = load_plan(args.compare)
        c = compare_plans(dump, other)
        if args.format == "table":
            print(f"total: {c['total_ms_a']:,.3f} ms → {c['total_ms_b']:,.3f} ms (×{c['speedup']:.1f} faster)"
                  if c["speedup"] == c["speedup"] else "total: unknown (no timings)")
            for ch in c["access_changed"]:
                print(f"{ch['relation']}: {ch['a']} → {ch['b']}")
        return c["nodes"]
    if args.view == "nodes":
        return dump.nodes[[c for c in NODE_COLUMNS if c in dump.nodes]]
    if args.view == "tree":
        import pandas as pd

        return pd.DataFrame({"tree": "\n".join(draw_tree(dump.nodes, p, width=args.width)
                                               for p in dump.plans["plan"]).splitlines()})
    return [{k: f.get(k) for k in ("plan", "code", "severity", "node", "text")} for f in findings(dump)]


def cmd_log(args):
    from . import log_analysis as la
    from .serverlog import load_log

    log = load_log(args.file)
    views = {"top": lambda: la.top_statements(log, by=args.by, top=args.top),
             "errors": lambda: la.errors_by_sqlstate(log), "locks": lambda: la.lock_waits(log),
             "deadlocks": lambda: la.deadlocks(log), "temp": lambda: la.temp_files_per_hour(log),
             "checkpoints": lambda: la.checkpoints(log), "events": lambda: la.timeline(log)}
    if args.view in views:
        out = views[args.view]()
        if args.format == "table" and "query" in out:
            out = out.assign(query=out["query"].fillna("").str.replace(r"\s+", " ", regex=True).str.slice(0, 60))
        return out
    s = la.summary(log)
    s["file"], s["form"] = args.file, log.form
    s["first"], s["last"] = str(s["first"]), str(s["last"])
    s["warnings"] = list(log.provenance.warnings)
    return s


def cmd_locks(args):
    from .activity import blocking_tree, edges, idle_in_transaction, load_activity, long_running

    snap = load_activity(args.file)
    if args.view == "edges":
        return edges(snap)
    if args.view == "idle":
        return idle_in_transaction(snap)
    if args.view == "long":
        return long_running(snap, args.threshold)
    t = blocking_tree(snap)
    if args.format == "table" and len(t):
        t = t.assign(query=t["query"].fillna("").astype(str).str.replace(r"\s+", " ", regex=True).str.slice(0, 60))
    return t


def register_pg(sub, common) -> None:
    p = sub.add_parser("pg", help="PostgreSQL: EXPLAIN plans, server logs, activity/locks snapshots")
    g = p.add_subparsers(dest="pg_command", metavar="ACTION")
    g.required = True
    pl = g.add_parser("plan", parents=[common], help="findings, nodes or tree of an EXPLAIN plan (any format)")
    pl.add_argument("file", metavar="FILE")
    pl.add_argument("--view", choices=("findings", "nodes", "tree"), default="findings")
    pl.add_argument("--compare", metavar="FILE", help="a second plan of the same statement")
    pl.add_argument("--width", type=int, default=120, help="tree: line width (default 120)")
    pl.set_defaults(func=cmd_plan)
    lg = g.add_parser("log", parents=[common], help="pgBadger-like summary of a server log (stderr, csvlog, jsonlog)")
    lg.add_argument("file", metavar="FILE")
    lg.add_argument("--view", choices=("summary", "top", "errors", "locks", "deadlocks", "temp", "checkpoints",
                                       "events"), default="summary")
    lg.add_argument("--by", choices=("total_ms", "mean_ms", "count", "max_ms"), default="total_ms")
    lg.add_argument("--top", type=int, default=20)
    lg.set_defaults(func=cmd_log)
    lk = g.add_parser("locks", parents=[common], help="blocking tree of a pg_stat_activity / pg_locks snapshot")
    lk.add_argument("file", metavar="FILE")
    lk.add_argument("--view", choices=("tree", "edges", "idle", "long"), default="tree")
    lk.add_argument("--threshold", default="1min", help="long: queries running at least this long (default 1min)")
    lk.set_defaults(func=cmd_locks)
