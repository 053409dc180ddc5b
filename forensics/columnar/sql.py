"""SQL over an export, with DuckDB embedded: weeks of evidence without loading them into memory.

>>> import forensics
>>> forensics.query("out/", "SELECT artifact, count(*) AS n FROM packets WHERE retransmission GROUP BY 1")  # doctest: +SKIP

Every table folder of the export (``packets``, ``flows``, ``flags``, ``spans``, ``statements``,
``frames``, ``classes``, ``timeline``, ``links``, ``artifacts``, …) is a view over its Parquet
files, with the partition columns ``artifact`` and ``day`` added. DuckDB reads only the
columns and row groups a query needs and streams the rest; filters on ``artifact`` and
``day`` skip whole folders.
"""
from __future__ import annotations

import os

import pandas as pd


def tables(export_dir) -> list[str]:
    """The table names of an export (its sub-folders holding Parquet files)."""
    d = os.fspath(export_dir)
    if not os.path.isdir(d):
        raise FileNotFoundError(f"no export folder {d}")
    out = []
    for name in sorted(os.listdir(d)):
        p = os.path.join(d, name)
        if os.path.isdir(p) and any(f.endswith(".parquet") for _, _, fs in os.walk(p) for f in fs):
            out.append(name)
    return out


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def connect(export_dir, memory_limit: str | None = None):
    """A DuckDB connection with one view per table of the export (see the module docstring)."""
    import duckdb

    con = duckdb.connect(database=":memory:")
    if memory_limit:
        con.execute(f"SET memory_limit = {_quote_text(memory_limit)}")
    root = os.path.abspath(os.fspath(export_dir))
    for t in tables(root):
        glob = os.path.join(root, t, "**", "*.parquet")
        con.execute(f"CREATE VIEW {_quote_ident(t)} AS SELECT * FROM read_parquet({_quote_text(glob)}, "
                    "hive_partitioning = true, union_by_name = true)")
    return con


def query(export_dir, sql: str, memory_limit: str | None = None) -> pd.DataFrame:
    """Run ``sql`` over the export in ``export_dir``; the result as a DataFrame."""
    con = connect(export_dir, memory_limit)
    try:
        return con.sql(sql).df()
    finally:
        con.close()
