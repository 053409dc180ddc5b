"""Tables people can read: humanised units, one missing mark, middle truncation, no maths.

One set of rules for every place a table is shown — the CLI's ``--format table``, notebooks and
the HTML report:

- a column's unit comes from its name (``duration_us``, ``*_ms``, pg_stat_statements' ``*_time``
  in ms, ``*_bytes``/``size``) or its dtype (timedelta, datetime); each column gets **one** scale
  chosen from its values (µs, ms, s, min; B, kB, MB, GB), named in the header — ``duration (ms)``;
- numbers with thousands separators and a few decimals, never ``e+06``;
- epoch columns (``start_us``, ``end_ns``…) shown as UTC times;
- missing values (None, NaN, NaT, NA, empty text) shown as :data:`MISSING`;
- long text cut in the middle (both ends stay: a path keeps its file name) with the full text
  on hover in HTML (``title``);
- HTML escapes everything and marks tables ``mathjax_ignore`` so SQL's ``$1`` or gdb's
  ``$_siginfo`` are never typeset as maths (JupyterLab renders ``$…$`` in HTML outputs).

>>> import pandas as pd
>>> df = pd.DataFrame({"query": ["SELECT * FROM t WHERE id = $1"], "total_exec_time": [1234567.8],
...                    "duration_us": [2500.0], "bytes": [3_400_000], "error": [None]})
>>> readable_frame(df).iloc[0].to_dict()
{'query': 'SELECT * FROM t WHERE id = $1', 'total_exec_time (min)': '20.6', 'duration (ms)': '2.50', 'bytes (MB)': '3.40', 'error': '—'}
>>> duration(0.00042, "s"), size(1536), count(1441), truncate_middle("/a/very/long/path/to/file.pcap", 16)
('420 µs', '1.54 kB', '1,441', '/a/very…ile.pcap')
"""
from __future__ import annotations

import html
import math
import re
import shutil

import numpy as np
import pandas as pd

MISSING = "—"
_NOWRAP_UP_TO = 32  # shorter cells (times, kinds, names) never wrap; longer text wraps between words
ELLIPSIS = "…"
TABLE_CLASS = "forensics-table mathjax_ignore tex2jax_ignore"

# (unit name, factor to seconds) / (name, bytes), smallest first
_TIME_UNITS = [("ns", 1e-9), ("µs", 1e-6), ("ms", 1e-3), ("s", 1.0), ("min", 60.0), ("h", 3600.0)]
_SIZE_UNITS = [("B", 1), ("kB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12)]
_SUFFIX_UNIT = {"_ns": "ns", "_us": "µs", "_usec": "µs", "_ms": "ms", "_s": "s", "_sec": "s", "_seconds": "s"}
_EPOCH_NAME = re.compile(r"^(start|end|time|ts|timestamp|first|last|begin)(_|$)")
_IDENT_NAME = re.compile(r"(^|_)(id|ids|port|sport|dport|stream|frame|pid|tid|lwp|no|num|number|index|idx|rank|"
                         r"line|lineno|level|depth|thread|code|status|version|seq|ack|year|bucket)$|(id|port)$")
_ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]00:?00)$")
_FRACTION_NAME = re.compile(r"(^|_)(share|ratio|rate|coverage|precision|recall|fraction)$")
_EPOCH_MIN_S = 1e8  # ≈ 1973: smaller values in an epoch-named column are offsets, not instants


# --------------------------------------------------------------------------- single values
def is_missing(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, (float, np.floating)):
        return math.isnan(v)
    if isinstance(v, str):
        return not v.strip() or v in ("nan", "NaN", "None", "NaT", "<NA>")
    try:
        return bool(pd.isna(v)) if np.ndim(v) == 0 else False
    except (TypeError, ValueError):
        return False


def _decimals(magnitude: float) -> int:
    if magnitude >= 100:
        return 0
    if magnitude >= 10:
        return 1
    if magnitude >= 1:
        return 2
    return 3


def number(v, decimals: int | None = None) -> str:
    """A number with thousands separators and no exponent: ``1,234,568``, ``0.25``, ``0.000123``."""
    if is_missing(v):
        return MISSING
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    v = float(v)
    if v == 0:
        return "0"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if decimals is None:
        a = abs(v)
        if a and a < 0.001:  # keep three significant digits of tiny values, still without an exponent
            decimals = min(12, 2 - math.floor(math.log10(a)))
        else:
            decimals = 0 if v == int(v) and a >= 1 else _decimals(a)
    return f"{v:,.{decimals}f}"


def _scaled(v, dec: int) -> str:
    """A value of a scaled column: ``dec`` decimals, more when that would show a non-zero value as 0."""
    if not is_missing(v) and v and abs(float(v)) < 0.5 * 10 ** -dec:
        return number(float(v))
    return number(v, dec)


def _pick_unit(magnitude_base: float, units) -> tuple[str, float]:
    """The largest unit in which ``magnitude_base`` (in base units) is at least 1."""
    best = units[0]
    for name, factor in units:
        if magnitude_base >= factor:
            best = (name, factor)
    return best


def duration(v, unit: str = "s") -> str:
    """A duration given in ``unit`` (ns, µs/us, ms, s) humanised: ``420 µs``, ``2.50 s``, ``3.2 min``."""
    if is_missing(v):
        return MISSING
    if isinstance(v, pd.Timedelta):
        v, unit = v.total_seconds(), "s"
    seconds = float(v) * dict(_TIME_UNITS)[_norm_unit(unit)]
    name, factor = _pick_unit(abs(seconds), _TIME_UNITS)
    return f"{number(seconds / factor, _decimals(abs(seconds / factor)))} {name}"


def size(v) -> str:
    """Bytes humanised (decimal units): ``512 B``, ``1.54 kB``, ``3.40 MB``."""
    if is_missing(v):
        return MISSING
    name, factor = _pick_unit(abs(float(v)), _SIZE_UNITS)
    return f"{number(float(v) / factor, 0 if factor == 1 else _decimals(abs(float(v) / factor)))} {name}"


def count(v) -> str:
    """A count: ``1,441``."""
    return MISSING if is_missing(v) else f"{int(v):,}"


def timestamp(v) -> str:
    """An instant as ``2026-11-26 05:00:01.234`` (UTC)."""
    if is_missing(v):
        return MISSING
    t = pd.Timestamp(v)
    if t.tzinfo is not None:
        t = t.tz_convert("UTC")
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def truncate_middle(text, width: int = 60) -> str:
    """``text`` cut in the middle to at most ``width`` characters (both ends kept)."""
    text = str(text)
    if width <= 1 or len(text) <= width:
        return text
    head = (width - 1) // 2
    tail = width - 1 - head
    return text[:head] + ELLIPSIS + (text[-tail:] if tail else "")


def _norm_unit(unit: str) -> str:
    return {"us": "µs", "usec": "µs", "sec": "s", "seconds": "s"}.get(unit, unit)


# --------------------------------------------------------------------------- columns
def column_kind(name: str, series: pd.Series) -> tuple[str, str | None]:
    """What a column holds: ``("duration", unit)``, ``("size", None)``, ``("epoch", unit)``,
    ``("datetime", None)``, ``("fraction", None)`` (a share/ratio/rate in 0–1), ``("int", None)``, ``("ident", None)`` (a port, an id: no separators),
    ``("float", None)`` or ``("text", None)``."""
    n = str(name).lower()
    if pd.api.types.is_timedelta64_dtype(series):
        return "timedelta", None
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime", None
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        return "text", None
    unit = next((u for suf, u in _SUFFIX_UNIT.items() if n.endswith(suf)), None)
    if unit is None and (n.endswith("_time") or n in ("total_time", "mean_time", "min_time", "max_time")):
        unit = "ms"  # pg_stat_statements times are milliseconds
    if unit is not None:
        vals = series.dropna().abs()
        seconds = vals * dict(_TIME_UNITS)[unit]
        if _EPOCH_NAME.match(n) and len(vals) and seconds.median() > _EPOCH_MIN_S:
            return "epoch", unit
        return "duration", unit
    if re.search(r"(^|_)(bytes|retained)(_|$)", n) or n.endswith("_size") or n in ("size", "self_size", "retained_size"):
        return "size", None
    vals = series.dropna()
    if _FRACTION_NAME.search(n) and len(vals) and pd.api.types.is_float_dtype(series) and vals.between(0, 1).all():
        return "fraction", None
    if pd.api.types.is_integer_dtype(series) or (series.dropna() == series.dropna().round()).all():
        return ("ident" if _IDENT_NAME.search(n) else "int"), None
    return "float", None


def _strip_suffix(name: str) -> str:
    for suf in sorted(_SUFFIX_UNIT, key=len, reverse=True):
        if name.lower().endswith(suf):
            return name[: -len(suf)]
    return name


def format_column(name: str, series: pd.Series) -> tuple[str, pd.Series, bool]:
    """``(header, text values, numeric?)`` for one column, with one unit for the whole column."""
    kind, unit = column_kind(name, series)
    s = series
    if kind == "timedelta":
        kind, unit, s = "duration", "s", series.dt.total_seconds()
    if kind == "duration":
        seconds = s.astype(float) * dict(_TIME_UNITS)[unit]
        vals = seconds.dropna().abs()
        mid = float(vals[vals > 0].median()) if (vals > 0).any() else 1.0
        uname, factor = _pick_unit(mid, _TIME_UNITS)
        scaled = seconds / factor
        dec = _decimals(float(scaled.dropna().abs().median()) if scaled.notna().any() else 1.0)
        return f"{_strip_suffix(name)} ({uname})", scaled.map(lambda v: _scaled(v, dec)), True
    if kind == "size":
        vals = s.dropna().abs()
        mid = float(vals[vals > 0].median()) if (vals > 0).any() else 1.0
        uname, factor = _pick_unit(mid, _SIZE_UNITS)
        if factor == 1:
            return f"{name} (B)", s.map(count), True
        scaled = s.astype(float) / factor
        dec = _decimals(float(scaled.dropna().abs().median()) if scaled.notna().any() else 1.0)
        return f"{name} ({uname})", scaled.map(lambda v: _scaled(v, dec)), True
    if kind == "epoch":
        t = pd.to_datetime(s, unit={"µs": "us"}.get(unit, unit), utc=True, errors="coerce")
        return f"{_strip_suffix(name)} (UTC)", t.map(timestamp), False
    if kind == "datetime":
        utc = getattr(series.dt, "tz", None) is not None
        return f"{name} (UTC)" if utc else name, series.map(timestamp), False
    if kind == "fraction":  # shares, ratios, rates between 0 and 1: as percentages
        def pct(v):
            if is_missing(v):
                return MISSING
            p = float(v) * 100
            return "0" if p == 0 else ("<0.1" if p < 0.1 else f"{p:.1f}")
        return f"{name} (%)", s.map(pct), True
    if kind == "int":
        return name, s.map(count), True
    if kind == "ident":  # ports, ids, stream and frame numbers: no thousands separators
        return name, s.map(lambda v: MISSING if is_missing(v) else str(int(v))), True
    if kind == "float":
        vals = s.dropna().abs()
        dec = None if not len(vals) else (_decimals(float(vals.median())) if vals.median() >= 0.001 else None)
        return name, s.map(lambda v: number(v, dec)), True
    sample = series.dropna().astype(str).head(50)
    if len(sample) and sample.str.match(_ISO_TIME).all():
        t = pd.to_datetime(series, utc=True, errors="coerce", format="ISO8601")
        if t.notna().sum() == series.notna().sum():
            return f"{name} (UTC)", t.map(timestamp), False
    return name, series.map(cell_text), False


def cell_text(v) -> str:
    """One value as text: missing → :data:`MISSING`, lists joined with ``; ``, times in UTC, numbers grouped."""
    if is_missing(v):
        return MISSING
    if isinstance(v, (list, tuple, set, frozenset)):
        return "; ".join(cell_text(x) for x in v) if v else MISSING
    if isinstance(v, dict):
        return ", ".join(f"{k}={cell_text(x)}" for k, x in v.items()) if v else MISSING
    if isinstance(v, (pd.Timestamp, np.datetime64)):
        return timestamp(v)
    if isinstance(v, (float, np.floating, int, np.integer)) and not isinstance(v, (bool, np.bool_)):
        return number(v)
    return " ".join(str(v).split()) if "\n" in str(v) else str(v)


def readable_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` as text, column by column (headers carry the units)."""
    out = {}
    for col in df.columns:
        header, values, _ = format_column(str(col), df[col])
        while header in out:
            header += " "
        out[header] = values.tolist()
    return pd.DataFrame(out, index=df.index, dtype=object)


def _numeric_columns(df: pd.DataFrame) -> list[bool]:
    return [format_column(str(c), df[c])[2] for c in df.columns]


# --------------------------------------------------------------------------- tables
def text_table(df: pd.DataFrame, width: int | None = None, max_colwidth: int = 60, min_colwidth: int = 20) -> str:
    """A plain-text table fitted to ``width`` characters (default: the terminal's, ``COLUMNS``).

    A table too wide is split into blocks of columns, one under the other, each repeating the
    first column so a row can be followed (as pandas' ``to_string`` does). Text longer than
    ``max_colwidth`` (or than the width beside the first column) is cut in the middle; numbers are
    right-aligned and never cut.
    """
    if df.empty:
        return "(no rows)"
    width = width or shutil.get_terminal_size((200, 24)).columns
    text = readable_frame(df.reset_index(drop=True))
    numeric = _numeric_columns(df)
    headers = [h.strip() for h in text.columns]
    cols = [[str(v) for v in text[c]] for c in text.columns]
    widths = [max([len(h)] + [len(v) for v in col]) for h, col in zip(headers, cols)]
    widths = [w if num else min(w, max_colwidth) for w, num in zip(widths, numeric)]

    def total(ws):
        return sum(ws) + 2 * (len(ws) - 1)

    # text is cut only where one column beside the first would not fit; otherwise columns go to blocks
    widths[0] = min(widths[0], max(min_colwidth, width // 3)) if not numeric[0] else widths[0]
    for i in range(1, len(widths)):
        if not numeric[i]:
            widths[i] = max(min(min_colwidth, widths[i]), min(widths[i], width - widths[0] - 2))
    blocks, current = [], [0]
    for i in range(1, len(headers)):
        if current and total([widths[j] for j in current + [i]]) > width and len(current) > 1:
            blocks.append(current)
            current = [0, i]
        else:
            current.append(i)
    blocks.append(current)
    out = []
    for block in blocks:
        lines = []
        for row in [headers] + [list(r) for r in zip(*cols)]:
            cells = []
            for j in block:
                v = truncate_middle(row[j], widths[j])
                cells.append(v.rjust(widths[j]) if numeric[j] else v.ljust(widths[j]))
            lines.append("  ".join(cells).rstrip())
        out.append("\n".join(lines))
    return "\n\n".join(out)


def html_table(df: pd.DataFrame, max_rows: int | None = 50, max_colwidth: int = 60, caption: str | None = None,
               index: bool = False) -> str:
    """An escaped HTML table: units in headers, numbers right-aligned, long text cut in the middle with
    the full text in ``title`` (hover), maths typesetting off, and a note of the rows left out."""
    frame = df.reset_index() if index else df
    total = len(frame)
    shown = frame.head(max_rows) if max_rows is not None else frame
    text = readable_frame(shown)
    numeric = _numeric_columns(shown) if len(shown) else [False] * len(text.columns)
    # inline alignment too: JupyterLab's sanitizer drops <style> from outputs it does not trust
    num_attr = {True: ' class="num" style="text-align:right;white-space:nowrap"', False: ' style="text-align:left"'}
    head = "".join(f"<th{num_attr[num]}>{_esc(h.strip())}</th>" for h, num in zip(text.columns, numeric))
    rows = []
    for r in text.itertuples(index=False, name=None):
        cells = []
        for v, num in zip(r, numeric):
            v = str(v)
            short = truncate_middle(v, max_colwidth)
            title = f' title="{_esc(v)}"' if short != v else ""
            attr = num_attr[num] if num or len(short) > _NOWRAP_UP_TO else ' style="text-align:left;white-space:nowrap"'
            cells.append(f"<td{attr}{title}>{_esc(short)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = (f"<p class='forensics-more'>{total - len(shown):,} more rows not shown ({total:,} in all).</p>"
            if total > len(shown) else "")
    cap = f"<caption>{_esc(caption)}</caption>" if caption else ""
    if not total:
        return f"<p class='forensics-empty'>{_esc(caption + ': ' if caption else '')}no rows.</p>"
    return (f"<div class='{TABLE_CLASS}'><table class='{TABLE_CLASS}'>{cap}<thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>{more}</div>")


def _esc(s: str) -> str:
    """HTML-escaped text; ``$`` as an entity too (a second guard for renderers that typeset maths)."""
    return html.escape(str(s), quote=True).replace("$", "&#36;")


TABLE_CSS = """
.forensics-table table { border-collapse: collapse; font-family: inherit; font-size: 0.9em; margin: 0.5em 0; }
.forensics-table th, .forensics-table td { border-bottom: 1px solid #ddd; padding: 2px 8px; text-align: left;
  vertical-align: top; white-space: normal; overflow-wrap: normal; word-break: normal; }
.forensics-table th { white-space: nowrap; }
.forensics-table th { background: #f3f3f3; }
.forensics-table td.num, .forensics-table th.num { text-align: right; font-variant-numeric: tabular-nums;
  white-space: nowrap; }
.forensics-table td[title] { cursor: help; text-decoration: underline dotted #999; }
.forensics-more, .forensics-empty { color: #666; font-size: 0.9em; }
"""


class Readable:
    """A DataFrame shown readably: HTML in notebooks, a fitted text table elsewhere."""

    def __init__(self, df: pd.DataFrame, max_rows: int | None = 50, max_colwidth: int = 120,
                 caption: str | None = None, index: bool = False):
        self.df, self.max_rows, self.max_colwidth, self.caption, self.index = df, max_rows, max_colwidth, caption, index

    def _repr_html_(self) -> str:
        return f"<style>{TABLE_CSS}</style>" + html_table(self.df, self.max_rows, self.max_colwidth, self.caption,
                                                          self.index)

    def __repr__(self) -> str:
        frame = self.df.reset_index() if self.index else self.df
        shown = frame.head(self.max_rows) if self.max_rows is not None else frame
        more = f"\n({len(frame) - len(shown):,} more rows)" if len(frame) > len(shown) else ""
        return text_table(shown, max_colwidth=self.max_colwidth) + more


def readable(df: pd.DataFrame, max_rows: int | None = 50, max_colwidth: int = 120, caption: str | None = None,
             index: bool = False) -> Readable:
    """``df`` for display (the last expression of a notebook cell, or ``display(readable(df))``)."""
    return Readable(df, max_rows, max_colwidth, caption, index)


def notebook_tables(max_rows: int = 50) -> None:
    """In a notebook: show every DataFrame readably (HTML formatter) and never typeset ``$`` in tables."""
    pd.set_option("display.html.use_mathjax", False)
    try:
        from IPython import get_ipython
    except ImportError:
        return
    ip = get_ipython()
    if ip is None:
        return
    fmt = ip.display_formatter.formatters["text/html"]
    fmt.for_type(pd.DataFrame, lambda df: Readable(df, max_rows, index=not isinstance(df.index, pd.RangeIndex))
                 ._repr_html_())


def readable_axes(fig) -> None:
    """Plain tick labels on a matplotlib figure's numeric axes: ``2,000,000`` instead of ``2`` and ``1e6``."""
    from matplotlib.ticker import FuncFormatter, ScalarFormatter

    for ax in fig.get_axes():
        for axis in (ax.xaxis, ax.yaxis):
            if type(axis.get_major_formatter()) is ScalarFormatter:
                axis.set_major_formatter(FuncFormatter(lambda v, _pos: number(v)))
