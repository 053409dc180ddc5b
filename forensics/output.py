"""Render results for the CLI: ``table`` for people, ``csv`` and ``json`` for tools.

``table`` goes through :mod:`forensics.display`: units in the headers, humanised values, one
missing mark, long text cut in the middle, fitted to the terminal's width (``COLUMNS``).

Subcommands return a DataFrame, a list of dicts or a dict; :func:`render`
turns any of them into text in the chosen format. JSON is strict (no NaN:
missing values become ``null``; times are ISO 8601 UTC).
"""
from __future__ import annotations

import datetime as _dt
import io
import json
import math
import sys

FORMATS = ("table", "csv", "json")


def _pandas():
    """pandas, imported only when rendering needs it: the CLI imports this module before it
    starts its work, and pandas' import alone costs ~0.4 s."""
    import numpy as np
    import pandas as pd

    return np, pd


def _is_missing(v) -> bool:
    """NA/NaT without importing pandas (a value of theirs exists only if pandas is loaded)."""
    pd = sys.modules.get("pandas")
    return pd is not None and (v is pd.NA or v is pd.NaT)


def _json_default(o):
    np = sys.modules.get("numpy")  # a numpy or pandas value exists only if its module is loaded
    pd = sys.modules.get("pandas")
    if np is not None:
        if isinstance(o, (np.integer,)):
            return int(o)
        if isinstance(o, (np.floating,)):
            f = float(o)
            return None if math.isnan(f) or math.isinf(f) else f
        if isinstance(o, np.bool_):
            return bool(o)
        if isinstance(o, np.ndarray):
            return [_clean(x) for x in o.tolist()]
    if pd is not None and isinstance(o, pd.Timestamp) and o.tzinfo is None:
        o = o.tz_localize("UTC")
    if isinstance(o, (_dt.datetime, _dt.date)):  # pd.Timestamp is a datetime
        return o.isoformat()
    if pd is not None and isinstance(o, pd.Timedelta):
        return o.total_seconds()
    if isinstance(o, (set, frozenset, tuple)):
        return [_clean(x) for x in o]
    if _is_missing(o):
        return None
    return str(o)


def _clean(v):
    """Replace NaN/NA by None recursively so that json.dumps emits valid JSON."""
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if v is None or _is_missing(v):
        return None
    np = sys.modules.get("numpy")
    if np is not None and isinstance(v, np.floating):
        return _clean(float(v))
    return v


def records(df: pd.DataFrame) -> list[dict]:
    """DataFrame rows as plain dicts (NaN → None)."""
    out = []
    cols = list(df.columns)
    for row in df.itertuples(index=False, name=None):
        out.append({c: _clean(v) for c, v in zip(cols, row)})
    return out


def _is_frame(data) -> bool:
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(data, pd.DataFrame)


def to_json(data) -> str:
    if _is_frame(data):
        data = records(data)
    return json.dumps(_clean(data), default=_json_default, indent=2, ensure_ascii=False)


def _flatten(row: dict, for_table: bool) -> dict:
    """Nested values in one cell: JSON text for csv, readable text for tables."""
    def cell(v):
        if not isinstance(v, (list, dict, tuple)):
            return v
        return _table_value(v) if for_table else json.dumps(_clean(v), default=_json_default)
    return {k: cell(v) for k, v in row.items()}


def _as_frame(data, for_table: bool = False) -> pd.DataFrame:
    if _is_frame(data):
        return data
    _, pd = _pandas()
    if isinstance(data, dict):
        return pd.DataFrame([_flatten(data, for_table)])
    if isinstance(data, list):
        return pd.DataFrame([_flatten(r, for_table) if isinstance(r, dict) else {"value": r} for r in data])
    return pd.DataFrame({"value": [data]})


def render(data, fmt: str = "table") -> str:
    """Text of ``data`` (DataFrame, list of dicts or dict) in ``fmt``."""
    if fmt == "json":
        return to_json(data)
    df = _as_frame(data, for_table=(fmt == "table"))
    if fmt == "csv":
        buf = io.StringIO()
        df.to_csv(buf, index=False, lineterminator="\n")
        return buf.getvalue().rstrip("\n")
    if fmt == "table":
        if isinstance(data, dict):
            width = max((len(str(k)) for k in data), default=0)
            return "\n".join(f"{k:<{width}}  {_table_value(v)}" for k, v in data.items())
        from .display import text_table  # units in headers, humanised values, fitted to the terminal

        return text_table(df, max_colwidth=80)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def _table_value(v) -> str:
    from .display import cell_text

    return cell_text(v)
