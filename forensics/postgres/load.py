"""Load a pg_stat_statements dump — any form, any extension version — into one canonical DataFrame.

>>> from forensics.postgres.load import load_pgss
>>> dump = load_pgss("sample_data/postgres/after.expanded.txt")
>>> dump.version.version, dump.form, len(dump.statements)
('1.10', 'expanded', 79)

The frame has every column of :data:`forensics.postgres.versions.CANONICAL` (old names renamed:
``total_time`` → ``total_exec_time``, ``blk_read_time`` → ``shared_blk_read_time``); a column the
dump lacks is all-missing (``NaN``/``<NA>``), never zero. Plus ``query_truncated`` (the text was cut
short, e.g. ``left(query, 60)`` in a runbook) and ``source`` (where the row starts in the file).
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..artifact import Provenance, open_readonly, provenance_for
from ..errors import ArtifactError
from ..progress import progress
from .formats import PARSERS, RawTable, detect_form, parse_json
from .pastes import TOOL_MARKERS, TOOL_MEASURES, cross_check, normalize, tool_name
from .versions import (BOOL_COLUMNS, CANONICAL, COUNT_COLUMNS, FLOAT_COLUMNS, ID_COLUMNS, RENAMES,
                       TEXT_COLUMNS, TIME_STAMP_COLUMNS, VersionMatch, canonical_name, detect_version)

FORM_NAMES = {"csv": "csv", "aligned": "psql aligned", "expanded": "psql expanded",
              "unaligned": "psql unaligned", "unaligned-expanded": "psql unaligned expanded", "json": "json"}
#: Largest dump read (pg_stat_statements.max is 5,000 by default; texts can be long).
MAX_BYTES = 1 << 30
_INT64 = 1 << 63
#: Problems listed one by one in the provenance; the rest are counted.
MAX_WARNINGS = 20


@dataclass
class PgssDump:
    """One pg_stat_statements snapshot: ``statements`` (one row per entry) and where it came from."""

    statements: pd.DataFrame
    version: VersionMatch
    form: str
    provenance: Provenance
    info: dict | None = None          # pg_stat_statements_info: {"dealloc": int, "stats_reset": Timestamp}
    extra_columns: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return (f"PgssDump({len(self.statements)} statements, extension {self.version.version} "
                f"(PostgreSQL {self.version.servers}), form={self.form!r}, {os.path.basename(self.provenance.path)})")


def _read_text(path, prov: Provenance) -> str:
    if prov.size > MAX_BYTES:
        raise ArtifactError(path, None, f"{prov.size:,} bytes is more than a pg_stat_statements dump holds "
                            f"(limit {MAX_BYTES:,})")
    with progress(prov.size, "reading pg_stat_statements", size_bytes=prov.size) as bar, open_readonly(path) as f:
        data = f.read()
        bar.update(len(data))
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16").replace("\r\n", "\n")
        except UnicodeDecodeError:
            pass
    if b"\x00" in data[:4096]:
        raise ArtifactError(path, data.index(b"\x00"), "binary data (NUL bytes), not a text dump")
    text = data.decode("utf-8", errors="replace")
    if "\ufffd" in text and b"\xef\xbf\xbd" not in data:
        prov.warn(None, "bytes that are not UTF-8 were replaced by U+FFFD (dump in another encoding?)")
    return text.replace("\r\n", "\n").lstrip("\ufeff")


def read_raw(path, prov: Provenance, form: str | None = None) -> tuple[RawTable, str]:
    """The dump's header and rows as text, and which form it was."""
    text = _read_text(path, prov)
    if not text.strip():
        raise ArtifactError(path, None, "the file is empty")
    form = form or detect_form(text)
    if form not in PARSERS:
        raise ArtifactError(path, None, f"unknown form {form!r}; one of {', '.join(PARSERS)}")
    try:
        raw = PARSERS[form](text)
    except (ValueError, IndexError, KeyError, TypeError, RecursionError, re.error) as e:  # a last net
        raise ArtifactError(path, None, f"cannot read as {FORM_NAMES[form]}: {e}") from None
    if form in ("aligned", "expanded") and len(raw.columns) == 1 and raw.rows:
        cell = "\n".join(r[0] or "" for r in raw.rows).lstrip()
        if cell[:1] in ("[", "{"):  # `select json_agg(s) ...` run in interactive psql: JSON inside a table
            prov.details["json_inside"] = form
            inner = parse_json(cell)
            inner.warnings[:0] = raw.warnings
            raw, form = inner, "json"
    for loc, reason in raw.warnings[:MAX_WARNINGS]:
        prov.warn(loc, reason)
    if len(raw.warnings) > MAX_WARNINGS:
        prov.warn(None, f"{len(raw.warnings) - MAX_WARNINGS:,} more problems like these (not listed)")
    return raw, form


# ----------------------------------------------------------------------------- typing

def _to_ints(values, name, locs, prov) -> pd.arrays.IntegerArray:
    out, bad, wrapped = [], None, 0
    for v, loc in zip(values, locs):
        if v is None:
            out.append(None)
            continue
        try:
            i = int(v)
        except ValueError:
            try:
                f = float(v)
                i = int(f) if math.isfinite(f) and f.is_integer() else None
            except ValueError:
                i = None
            if i is None:
                bad = bad or (loc, v)
                out.append(None)
                continue
        if i >= _INT64:  # an unsigned 64-bit queryid (some tools print it so): back to PostgreSQL's signed int8
            if i < 2 * _INT64:
                i -= 2 * _INT64
                wrapped += 1
            else:
                bad = bad or (loc, v)
                i = None
        elif i < -_INT64:
            bad = bad or (loc, v)
            i = None
        out.append(i)
    if bad:
        prov.warn(_loc(bad[0]), f"{name}: {str(bad[1])[:40]!r} is not an integer; left missing")
    if wrapped:
        prov.warn(None, f"{name}: {wrapped} unsigned 64-bit values converted to PostgreSQL's signed bigint")
    return pd.array(out, dtype="Int64")


def _loc(loc):
    return loc if isinstance(loc, (int, str)) else None


def _to_floats(values, name, locs, prov) -> np.ndarray:
    s = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").astype(float)
    bad = s.isna().to_numpy() & np.array([v is not None for v in values], dtype=bool)
    if bad.any():
        k = int(np.argmax(bad))
        prov.warn(_loc(locs[k]), f"{name}: {str(values[k])[:40]!r} is not a number; left missing")
    return s.to_numpy()


_NULL_SPELLINGS = {"(null)", "null", "NULL", "\\N", "<NULL>", "¤", "None"}
_TRUE = {"t", "true", "1", "yes", "on"}
_FALSE = {"f", "false", "0", "no", "off"}


def _to_bools(values) -> pd.arrays.BooleanArray:
    return pd.array([None if v is None else (True if v.strip().lower() in _TRUE else
                                             False if v.strip().lower() in _FALSE else None) for v in values],
                    dtype="boolean")


def _to_stamps(values) -> pd.Series:
    fixed = [None if v is None else re.sub(r"([+-]\d\d)$", r"\1:00", v.strip()) for v in values]
    return pd.to_datetime(pd.Series(fixed, dtype=object), utc=True, errors="coerce", format="ISO8601")


def _truncation(queries: pd.Series) -> tuple[np.ndarray, int | None]:
    """Texts cut short: a runbook's ``left(query, N)`` leaves many texts of exactly N characters."""
    q = pd.Series(queries.dropna().unique(), dtype="str")
    marked = queries.fillna("").str.endswith(("...", "…")).to_numpy()
    if len(q) < 3:
        return marked, None
    lens = q.str.len()
    n = int(lens.max())
    at_max = int((lens == n).sum())  # distinct texts of exactly the longest length
    if n >= 10 and at_max >= max(3, 0.2 * len(q)):
        return marked | (queries.str.len() == n).fillna(False).to_numpy(), n
    return marked, None


def to_frame(raw: RawTable, path, prov: Provenance) -> tuple[pd.DataFrame, VersionMatch, list[str]]:
    """Typed canonical frame from a :class:`RawTable`; raises :class:`ArtifactError` when it is not pgss."""
    found = [c for c in raw.columns]
    printed = [list(r) for r in raw.rows]  # cells as printed, for the cross-checks' messages
    renamed, conversions, _ = normalize(found, raw.rows, _cell_kind)
    names = [canonical_name(c) for c in renamed]
    if {"dealloc", "stats_reset"} >= set(names) and names:
        raise ArtifactError(path, None, "this is pg_stat_statements_info (dealloc, stats_reset), not "
                            "pg_stat_statements; pass it as info= to load_pgss")
    have = set(names)
    if not ({"calls", "plans"} & have and {"queryid", "query"} & have):
        shown = ", ".join(found[:30]) + (" …" if len(found) > 30 else "") if found else "none"
        raise ArtifactError(path, None, "not a pg_stat_statements dump: need a calls column and a queryid or "
                            f"query column; columns found: {shown}")
    version = detect_version(renamed)
    if TOOL_MARKERS & {tool_name(c) for c in found}:
        version = VersionMatch("unknown", "unknown", False, "a tool's projection (pg-extras, pghero, inspect db): "
                               "it prints total_exec_time on every server version, so the columns say nothing "
                               "of the extension version")
    for loc, reason in cross_check(names, raw.rows, raw.lines, printed)[:MAX_WARNINGS]:
        prov.warn(loc, reason)
    if conversions:
        prov.details["conversions"] = conversions
    cols: dict[str, int] = {}
    for k, n in enumerate(names):
        if n in cols:
            prov.warn(None, f"column {found[k]!r} repeats {found[cols[n]]!r} (both mean {n}); the first is used")
        else:
            cols[n] = k
    locs = raw.lines if len(raw.lines) == len(raw.rows) else [None] * len(raw.rows)
    column_values = list(zip(*raw.rows)) if raw.rows else [()] * len(found)
    data: dict[str, object] = {}
    n_rows = len(raw.rows)
    for name in CANONICAL:
        if name not in cols:
            if name in ID_COLUMNS or name in COUNT_COLUMNS:
                data[name] = pd.array([None] * n_rows, dtype="Int64")
            elif name in BOOL_COLUMNS:
                data[name] = pd.array([None] * n_rows, dtype="boolean")
            elif name in TIME_STAMP_COLUMNS:
                data[name] = pd.Series([pd.NaT] * n_rows, dtype="datetime64[us, UTC]")
            elif name in TEXT_COLUMNS:
                data[name] = pd.Series([None] * n_rows, dtype="str")
            else:
                data[name] = np.full(n_rows, np.nan)
            continue
        vals = list(column_values[cols[name]])
        if name not in TEXT_COLUMNS:  # NULL as shown by \pset null, COPY's text format or a client
            vals = [None if v is not None and v.strip() in _NULL_SPELLINGS else v for v in vals]
        if name in ID_COLUMNS or name in COUNT_COLUMNS:
            data[name] = _to_ints(vals, name, locs, prov)
        elif name in FLOAT_COLUMNS:
            data[name] = _to_floats(vals, name, locs, prov)
        elif name in BOOL_COLUMNS:
            data[name] = _to_bools(vals)
        elif name in TIME_STAMP_COLUMNS:
            data[name] = _to_stamps(vals).to_numpy()
        else:
            data[name] = pd.Series(vals, dtype="str")
    df = pd.DataFrame({k: (v.reset_index(drop=True) if isinstance(v, pd.Series) else v) for k, v in data.items()})
    extras = [found[k] for k, n in enumerate(names) if n not in CANONICAL and cols.get(n) == k]
    for name in extras:
        values = list(column_values[found.index(name)])
        if tool_name(canonical_name(renamed[found.index(name)])) in TOOL_MEASURES:
            df[canonical_name(renamed[found.index(name)])] = _to_floats(values, name, locs, prov)
        else:
            df[name] = pd.Series(values, dtype="str")
    df["query_truncated"], cut_at = _truncation(df["query"])
    df["source"] = pd.Series([str(x) if x is not None else "" for x in locs], dtype="str")
    _check_keys(df, prov)
    details = {
        "form": None, "extension_version": version.as_dict(), "columns_found": found,
        "renamed": {c: RENAMES[c.strip().lower()] for c in renamed if c.strip().lower() in RENAMES},
        "columns_missing": [c for c in CANONICAL if c not in cols], "extra_columns": extras,
        "query_cut_at": cut_at,
    }
    if cut_at:
        prov.warn(None, f"query texts are cut at {cut_at} characters (e.g. left(query, {cut_at}) in a runbook); "
                  "fingerprints of cut texts are not comparable")
    prov.details.update(details)
    return df, version, extras


def _cell_kind(name: str) -> str:
    c = canonical_name(name)
    if c in ID_COLUMNS or c in COUNT_COLUMNS:
        return "int"
    if c in FLOAT_COLUMNS:
        return "float"
    return "query" if c == "query" else "other"


def _check_keys(df: pd.DataFrame, prov: Provenance) -> None:
    key = [c for c in ("userid", "dbid", "rolname", "datname", "toplevel", "queryid") if df[c].notna().any()]
    if "queryid" not in key:
        return
    dup = int(df.duplicated(key, keep="first").sum())
    if dup:
        why = (" — a view from before extension 1.9 on a PostgreSQL 14+ server with track=all lists top-level and "
               "nested entries of a statement without the toplevel column" if "toplevel" not in key else "")
        prov.warn(None, f"{dup} rows repeat the key ({', '.join(key)}) of an earlier row{why}; analysis sums them")


def load_pgss_info(path) -> dict:
    """``pg_stat_statements_info`` (PostgreSQL 14+) in any form: ``{"dealloc": int, "stats_reset": Timestamp}``."""
    prov = provenance_for(path, parser="forensics.postgres")
    raw, _ = read_raw(path, prov)
    names = [canonical_name(c) for c in raw.columns]
    if "dealloc" not in names or not raw.rows:
        raise ArtifactError(path, None, "not pg_stat_statements_info: need a dealloc column and one row; "
                            f"columns found: {', '.join(raw.columns) or 'none'}")
    row = dict(zip(names, raw.rows[0]))
    out = {"dealloc": _to_ints([row.get("dealloc")], "dealloc", [None], prov)[0],
           "stats_reset": _to_stamps([row.get("stats_reset")])[0], "path": prov.path}
    out["dealloc"] = None if pd.isna(out["dealloc"]) else int(out["dealloc"])
    return out


def load_pgss(path, *, form: str | None = None, info=None, **_ignored) -> PgssDump:
    """Load any pg_stat_statements dump into a :class:`PgssDump`.

    ``form`` forces a parser (``csv``, ``aligned``, ``expanded``, ``unaligned``, ``json``) instead of
    sniffing; ``info`` is an optional ``pg_stat_statements_info`` dump taken at the same time
    (its ``stats_reset`` and ``dealloc`` let :func:`~forensics.postgres.analysis.delta` see resets
    and evictions). Raises only :class:`~forensics.errors.ArtifactError`.
    """
    prov = provenance_for(path, parser="forensics.postgres")
    raw, form = read_raw(path, prov, form)
    df, version, extras = to_frame(raw, path, prov)
    prov.kind = "pg_stat_statements"
    prov.format = FORM_NAMES[form]
    prov.details["form"] = form
    info_d = load_pgss_info(info) if info is not None else None
    if info_d is not None:
        prov.details["info"] = {"dealloc": info_d["dealloc"], "stats_reset": str(info_d["stats_reset"])}
    prov.attach(df)
    return PgssDump(df, version, form, prov, info_d, extras)
