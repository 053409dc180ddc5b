"""One DataFrame ↔ Parquet files partitioned by artifact and day, losing nothing.

Layout (Hive-style, so DuckDB, Spark, Dask and pyarrow read it as partitions)::

    DIR/<table>/artifact=<artifact id>/day=<YYYY-MM-DD | undated>/part-<first row>.parquet

The day comes from the table's first timezone-aware time column (``time``, ``start``…).
Rows are cut into runs of consecutive rows of one day, so each file's pandas metadata
keeps the row numbers as a range and reading back restores the original order. Each
file's key-value metadata ``forensics`` holds the artifact's provenance and what pandas
alone would not restore: categories (a file holds only the categories it uses) and
columns of lists/dicts or mixed values, stored as JSON text.
"""
from __future__ import annotations

import json
import os
import re

import numpy as np
import pandas as pd

META_KEY = b"forensics"
UNDATED = "undated"
#: more runs of days than this (rows not in time order): one file per day, row numbers as a column
MAX_RUNS = 64


def safe_name(text: str) -> str:
    """A directory-safe artifact id (Hive partition value) from a file or folder name."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "artifact"
    return s[:120]


def time_column(df: pd.DataFrame) -> str | None:
    """The column that dates a row: the first timezone-aware datetime column."""
    for c in df.columns:
        if isinstance(df[c].dtype, pd.DatetimeTZDtype):
            return c
    return None


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (pd.Timestamp,)):
        return o.isoformat()
    return str(o)


def _prepare(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str], dict]:
    """Columns Parquet cannot hold as they are → JSON text; categorical columns' full categories."""
    json_cols, cats, objects = [], {}, []
    out = None
    for c in df.columns:
        s = df[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            cats[str(c)] = [None if pd.isna(x) else (x if isinstance(x, (str, int, float, bool)) else str(x))
                            for x in s.cat.categories.tolist()]
            continue
        if s.dtype != object:
            continue
        vals = s.dropna().tolist() if len(s) else []
        if all(isinstance(v, str) for v in vals) or all(isinstance(v, bool) for v in vals):
            objects.append(str(c))  # Parquet text/booleans, read back as Python objects (not pandas' str)
            continue
        if out is None:
            out = df.copy()
        out[c] = [None if (v is None or (not isinstance(v, (list, dict, tuple, np.ndarray)) and pd.isna(v)))
                  else json.dumps(v, default=_json_default) for v in s.tolist()]
        json_cols.append(str(c))
    return (out if out is not None else df), json_cols, cats, objects


def _runs(day: np.ndarray) -> list[tuple[int, int]]:
    if not day.shape[0]:
        return [(0, 0)]
    cuts = np.flatnonzero(day[1:] != day[:-1]) + 1
    starts = np.r_[0, cuts]
    ends = np.r_[cuts, day.shape[0]]
    return list(zip(starts.tolist(), ends.tolist()))


def write_frame(df: pd.DataFrame, out_dir: str, table: str, artifact: str, meta: dict) -> list[str]:
    """Write ``df`` as ``out_dir/table/artifact=…/day=…/part-N.parquet``; returns the files written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    base = df.reset_index(drop=True) if not isinstance(df.index, pd.RangeIndex) or df.index.start != 0 \
        or df.index.step != 1 else df
    prepared, json_cols, cats, objects = _prepare(base)
    tcol = time_column(base)
    if tcol is not None:
        t = base[tcol]
        day = np.where(t.isna().to_numpy(), UNDATED, t.dt.strftime("%Y-%m-%d").to_numpy(dtype=object, na_value=UNDATED))
        day = day.astype(str)
    else:
        day = np.full(len(base), UNDATED)
    runs = _runs(day)
    grouped = len(runs) > MAX_RUNS
    if grouped:
        runs = [(d, np.flatnonzero(day == d)) for d in pd.unique(day)]
    info = {"table": table, "artifact": artifact, "json_columns": json_cols, "categories": cats,
            "object_columns": objects,
            "rows": int(len(base)), "time_column": tcol, **meta}
    written = []
    for run in runs:
        if grouped:
            d, rows = run
            part = prepared.iloc[rows]
            first = int(rows[0])
        else:
            s, e = run
            part = prepared.iloc[s:e]
            d = day[s] if e > s else UNDATED
            first = s
        folder = os.path.join(out_dir, table, f"artifact={artifact}", f"day={d}")
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"part-{first:012d}.parquet")
        t = pa.Table.from_pandas(part, preserve_index=grouped or None)
        md = dict(t.schema.metadata or {})
        md[META_KEY] = json.dumps({**info, "first_row": first}, default=_json_default).encode()
        pq.write_table(t.replace_schema_metadata(md), path)
        written.append(path)
    return written


def write_rows(df: pd.DataFrame, rows: np.ndarray, out_dir: str, table: str, artifact: str, meta: dict) -> list[str]:
    """Write some rows of a table that is written in pieces by several processes (a cluster's
    partitions): ``rows`` are their row numbers in the whole table, kept as the files' index, so
    :func:`read_frame` puts every piece back in place. One file per day of this piece."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = np.asarray(rows, np.int64)
    part_df = df.reset_index(drop=True)
    prepared, json_cols, cats, objects = _prepare(part_df)
    prepared = prepared.set_axis(pd.Index(rows, name=None), axis=0)
    tcol = time_column(part_df)
    if tcol is not None and len(part_df):
        t = part_df[tcol]
        day = np.where(t.isna().to_numpy(), UNDATED,
                       t.dt.strftime("%Y-%m-%d").to_numpy(dtype=object, na_value=UNDATED)).astype(str)
    else:
        day = np.full(len(part_df), UNDATED)
    info = {"table": table, "artifact": artifact, "json_columns": json_cols, "categories": cats,
            "object_columns": objects, "rows": int(len(part_df)), "time_column": tcol, "piece": True, **meta}
    written = []
    for d in (pd.unique(day) if len(day) else []):
        sel = np.flatnonzero(day == d)
        first = int(rows[sel[0]])
        folder = os.path.join(out_dir, table, f"artifact={artifact}", f"day={d}")
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"part-{first:012d}.parquet")
        t = pa.Table.from_pandas(prepared.iloc[sel], preserve_index=True)
        md = dict(t.schema.metadata or {})
        md[META_KEY] = json.dumps({**info, "first_row": first}, default=_json_default).encode()
        pq.write_table(t.replace_schema_metadata(md), path)
        written.append(path)
    return written


def _merged_info(infos: list) -> dict:
    """The metadata of a table written in pieces: every piece's categories (in row order of first use),
    JSON and text columns together, so no value of a later piece is lost."""
    info = dict(infos[0])
    if len(infos) == 1:
        return info
    cats: dict = {}
    for one in infos:
        for c, values in one.get("categories", {}).items():
            seen = cats.setdefault(c, [])
            have = set(seen)
            seen += [v for v in values if v not in have]
    info["categories"] = cats
    for key in ("json_columns", "object_columns"):
        info[key] = sorted({c for one in infos for c in one.get(key, [])})
    return info


def file_info(path: str) -> dict:
    """The ``forensics`` metadata of one exported Parquet file."""
    import pyarrow.parquet as pq

    md = pq.read_schema(path).metadata or {}
    return json.loads(md[META_KEY]) if META_KEY in md else {}


def read_frame(out_dir: str, table: str, artifact: str) -> pd.DataFrame:
    """One artifact's table read back: the frame that was exported (dtypes, order, categories, attrs)."""
    import pyarrow.parquet as pq

    root = os.path.join(out_dir, table, f"artifact={artifact}")
    if not os.path.isdir(root):
        raise FileNotFoundError(f"no table {table!r} for artifact {artifact!r} in {out_dir}")
    files = []
    for d in sorted(os.listdir(root)):
        for f in sorted(os.listdir(os.path.join(root, d))):
            if f.endswith(".parquet"):
                p = os.path.join(root, d, f)
                one = file_info(p)
                files.append((one.get("first_row", 0), p, one))
    files.sort()
    info = _merged_info([one for _, _, one in files])
    parts = []
    for _, p, _ in files:
        t = pq.read_table(p)
        part = t.to_pandas()
        for c in info.get("object_columns", []):
            if c in part:
                part[c] = pd.Series(t.column(c).to_pylist(), index=part.index, dtype=object)
        parts.append(part)
    df = pd.concat(parts) if len(parts) > 1 else parts[0]
    if not df.index.is_monotonic_increasing:
        df = df.sort_index()
    if not isinstance(df.index, pd.RangeIndex):
        df.index = pd.RangeIndex(len(df)) if (df.index == np.arange(len(df))).all() else df.index
    for c, cats in info.get("categories", {}).items():
        if c in df:
            df[c] = pd.Categorical(df[c].astype(object), categories=pd.Index(cats, dtype=_cat_dtype(df[c], cats)))
    for c in info.get("json_columns", []):
        if c in df:
            df[c] = [None if v is None else json.loads(v) for v in df[c].tolist()]
            df[c] = df[c].astype(object)
    if "provenance" in info:
        df.attrs["provenance"] = info["provenance"]
    return df


def _cat_dtype(col, cats):
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.cat.categories.dtype if len(col.cat.categories) else None
    return None
