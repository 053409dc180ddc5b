"""``forensics export PATH... -o DIR`` and ``forensics query DIR "SELECT …"``.

    forensics export sample_data/incidents/checkout-latency -o out/
    forensics export rotated/ -o out/ --workers 2          # a capture set, decoded on 2 processes
    forensics query out/ "SELECT artifact, count(*) FROM packets WHERE retransmission GROUP BY 1"
    forensics query out/ --tables                           # the tables the export holds
"""
from __future__ import annotations


def cmd_export(args):
    from .writer import export

    out = export(args.paths, args.output, workers=args.workers, scheduler=args.scheduler)
    for err in out.loc[out["error"].notna(), "error"]:
        args.errors.append(err)
    return out.loc[out["error"].isna()].drop(columns="error").reset_index(drop=True)


def cmd_query(args):
    from .sql import query, tables

    if args.tables or not args.sql:
        return [{"table": t} for t in tables(args.export_dir)]
    try:
        return query(args.export_dir, args.sql, memory_limit=args.memory_limit)
    except Exception as e:  # duckdb's errors (syntax, unknown column) are the user's, not a defect
        if type(e).__module__.startswith("duckdb") or type(e).__module__.startswith("_duckdb"):
            raise ValueError(f"query failed: {e}") from None
        raise


def register(sub, common):
    p = sub.add_parser("export", parents=[common], help="every artifact's frames as Parquet (by artifact and day)",
                       description="Write every loaded artifact's frames as Parquet, partitioned by artifact "
                                   "and day, with the provenance in the Parquet metadata.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files, sets (a folder of one kind) or incident folders")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="the export folder (created)")
    p.add_argument("--workers", type=int, default=None, metavar="N", help="worker processes for capture sets")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="capture sets on a Dask cluster: tcp://host:8786 or 'local'")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("query", parents=[common], help="SQL (DuckDB) over an export, without loading it all",
                       description="Run SQL over an export folder with DuckDB; each table is a view with "
                                   "the partition columns artifact and day.")
    p.add_argument("export_dir", metavar="DIR")
    p.add_argument("sql", nargs="?", metavar="SQL")
    p.add_argument("--tables", action="store_true", help="list the tables instead")
    p.add_argument("--memory-limit", default=None, metavar="SIZE", help="DuckDB memory limit, e.g. 2GB")
    p.set_defaults(func=cmd_query)
