"""``forensics pgss rank|load FILE``: which statements hurt, from a pg_stat_statements dump.

    forensics pgss rank after.csv --baseline before.csv                 # the interval, by total time
    forensics pgss rank after.txt --baseline before.txt --by calls --top 5 --format json
    forensics pgss rank after.json --by hit_ratio --min-blocks 1000
    forensics pgss rank after.csv --group fingerprint                   # same shape, different queryids
    forensics pgss load dump.txt                                        # form, version, rows, warnings
"""
from __future__ import annotations

from .measures import METRICS

#: Columns of `rank` output, in order (JSON has all; the table keeps it narrow).
RANK_COLUMNS = ["rank", "queryid", "query", "calls", "total_exec_time", "mean_exec_time", "total_plan_time",
                "shared_blks_hit", "shared_blks_read", "temp_blks_written", "hit_ratio", "value", "share",
                "cum_share", "findings"]
ROW_COLUMNS = ["userid", "dbid", "toplevel", "datname", "rolname"]


def _dump(path, info=None):
    from .load import load_pgss

    return load_pgss(path, info=info)


def rank_table(args):
    from .analysis import delta, rank, rankable

    after = _dump(args.file, args.info)
    frame = after
    if args.baseline:
        frame = delta(_dump(args.baseline, args.baseline_info), after)
    can = rankable(frame)
    if can.get(args.by):  # a partial projection ranks by what it has and says what it lacks
        from ..errors import ArtifactError

        raise ArtifactError(args.file, None, f"cannot rank by {args.by}: {can[args.by]}; this dump ranks by "
                            f"{', '.join(m for m, why in can.items() if why is None) or 'nothing'}")
    r = rank(frame, by=args.by, group=args.group, min_blocks=args.min_blocks, top=args.top)
    cols = list(RANK_COLUMNS)
    if args.group == "row":
        cols[1:1] = ROW_COLUMNS
    else:
        cols[1:1] = ["toplevel", "entries"] + (["fingerprint", "queryids"] if args.group == "fingerprint" else [])
    out = r[[c for c in cols if c in r]].copy()
    if args.baseline and "is_new" in r:
        out["is_new"] = r["is_new"].astype(bool)
    return out


def cmd_rank(args):
    out = rank_table(args)
    if args.format == "table":  # one line per statement: short text, finding codes only
        out["query"] = out["query"].fillna("").str.replace(r"\s+", " ", regex=True).str.slice(0, 50)
        out["findings"] = out["findings"].map(lambda fs: ",".join(f.split(":", 1)[0] for f in fs) or "-")
        for c in ("total_exec_time", "mean_exec_time", "total_plan_time", "value"):
            out[c] = out[c].round(3)
        for c in ("hit_ratio", "share", "cum_share"):
            out[c] = out[c].round(4)
        out = out.drop(columns=[c for c in ("userid", "dbid", "queryids") if c in out])
    return out


def cmd_load(args):
    from .analysis import rankable

    d = _dump(args.file, args.info)
    s = d.statements
    return {"file": args.file, "form": d.form, "extension_version": d.version.version,
            "postgresql": d.version.servers, "version_evidence": d.version.evidence, "statements": int(len(s)),
            "toplevel_false": int(s["toplevel"].eq(False).sum()), "calls": int(s["calls"].fillna(0).sum()),
            "total_exec_time_ms": float(s["total_exec_time"].fillna(0).sum()),
            "columns_missing": d.provenance.details.get("columns_missing", []),
            "query_cut_at": d.provenance.details.get("query_cut_at"),
            "conversions": d.provenance.details.get("conversions", {}),
            "cannot_rank_by": {m: why for m, why in rankable(d).items() if why},
            "warnings": list(d.provenance.warnings)}


def register(sub, common) -> None:
    p = sub.add_parser("pgss", help="pg_stat_statements dumps: rank statements, load summary")
    g = p.add_subparsers(dest="pgss_command", metavar="ACTION")
    g.required = True

    r = g.add_parser("rank", parents=[common], help="statements ranked by a measure (interval with --baseline)")
    r.add_argument("file", metavar="FILE", help="pg_stat_statements dump (csv, psql aligned/expanded/unaligned, json)")
    r.add_argument("--baseline", metavar="FILE", help="an earlier dump of the same server: rank the interval")
    r.add_argument("--by", default="total_exec_time", metavar="COLUMN",
                   help=f"measure: {', '.join(METRICS)} or a numeric column (default total_exec_time)")
    r.add_argument("--group", choices=("row", "queryid", "fingerprint"), default="row",
                   help="one line per entry (row), per queryid, or per pglast fingerprint")
    r.add_argument("--min-blocks", type=int, default=100, dest="min_blocks",
                   help="hit_ratio: only statements touching at least N shared blocks (default 100)")
    r.add_argument("--top", type=int, default=20, help="show the first N (default 20; 0 = all)")
    r.add_argument("--info", metavar="FILE", help="pg_stat_statements_info dump taken with FILE")
    r.add_argument("--baseline-info", metavar="FILE", dest="baseline_info",
                   help="pg_stat_statements_info dump taken with the baseline")
    r.set_defaults(func=cmd_rank)

    ld = g.add_parser("load", parents=[common], help="what a dump is: form, extension version, rows, warnings")
    ld.add_argument("file", metavar="FILE")
    ld.add_argument("--info", metavar="FILE", help="pg_stat_statements_info dump taken with FILE")
    ld.set_defaults(func=cmd_load)

    from .pg_cli import register_pg

    register_pg(sub, common)  # forensics pg plan|log|locks
