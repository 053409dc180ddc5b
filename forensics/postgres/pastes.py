"""pg_stat_statements as tools print it: heroku/rails/python pg-extras, Supabase/Neon ``inspect db``, pghero.

Those tools rename and reformat the view's columns — ``interval '1 millisecond' * total_exec_time``
(``00:00:00.237361``, ``183:15:01.46537``, ``3 days 04:11:52``, ``007 millis``), ``to_char(calls,
'FM999G999G990')`` (``40,315``), ``prop_exec_time`` (``0.1%``), ``ncalls``, ``qry``, ``exec_time``,
pghero's ``total_minutes``/``average_time``. :func:`normalize` turns such cells back into the view's
units (ms, plain integers) and records every conversion; :func:`cross_check` then tests each row's
numbers against each other and their column (a mean that is not total/calls, a share that disagrees
with the others, a value with fewer decimals than the rest of its column) and warns with the line —
a cut or shifted cell is never read silently.

>>> interval_ms("183:15:01.46537"), interval_ms("3 days 04:11:52"), interval_ms("007 millis")
(659701465.37, 274312000.0, 7.0)
>>> plain_int("40,315"), plain_int("1 098"), plain_int("12,34")
('40315', '1098', None)
"""
from __future__ import annotations

import re

#: Tool column names -> (canonical name, scale to the view's unit). Names are lower-cased, spaces → '_'.
TOOL_COLUMNS = {
    "ncalls": ("calls", 1), "number_calls": ("calls", 1), "qry": ("query", 1),
    "exec_time": ("total_exec_time", 1), "execution_time": ("total_exec_time", 1),
    "total_minutes": ("total_exec_time", 60_000), "average_time": ("mean_exec_time", 1),
    "avg_ms": ("mean_exec_time", 1), "query_hash": ("queryid", 1), "query_id": ("queryid", 1),
    "proportion_of_exec_time": ("prop_exec_time", 1), "total_percent": ("prop_exec_time", 1),
}
#: Columns that only tools print (kept as typed extras): a share of all execution time, I/O time.
TOOL_MEASURES = {"prop_exec_time": "percent", "sync_io_time": "time", "all_queries_total_minutes": "minutes"}
#: A shape that tells the extension version nothing (pg-extras aliases total_time AS total_exec_time on ≤12).
TOOL_MARKERS = {"prop_exec_time", "sync_io_time", "ncalls", "qry", "total_minutes", "number_calls"}

_INTERVAL = re.compile(r"^(?:(-?\d+) days? ?)?(-?\d+):(\d{2}):(\d{2}(?:\.\d+)?)$")
_UNIT = re.compile(r"^(-?\d+(?:\.\d+)?)\s*(ms|msec|millis|milliseconds?|s|sec|seconds?|min|minutes?|h|hours?|us|µs)$",
                   re.I)
_UNIT_MS = {"ms": 1, "msec": 1, "millis": 1, "millisecond": 1, "milliseconds": 1, "s": 1000, "sec": 1000,
            "second": 1000, "seconds": 1000, "min": 60_000, "minute": 60_000, "minutes": 60_000,
            "h": 3_600_000, "hour": 3_600_000, "hours": 3_600_000, "us": 0.001, "µs": 0.001}
_GROUPED = re.compile(r"^-?\d{1,3}(?:([,\u202f\u00a0 '_])\d{3})(?:\1\d{3})*$")
_NUMBER = re.compile(r"^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")


def interval_ms(v: str) -> float | None:
    """A PostgreSQL interval (``HH:MM:SS.ffffff``, hours past 24, ``N days``) or ``N unit`` in ms."""
    s = v.strip().strip("`")
    m = _INTERVAL.match(s)
    if m:
        days, h, mi, sec = m.groups()
        sign = -1 if h.startswith("-") else 1
        total = (abs(int(h)) * 3600 + int(mi) * 60 + float(sec)) * sign + int(days or 0) * 86400
        return round(total * 1000, 6)
    m = _UNIT.match(s)
    if m:
        return float(m.group(1)) * _UNIT_MS[m.group(2).lower()]
    return None


def plain_int(v: str) -> str | None:
    """``40,315`` → ``40315`` (only a well-formed grouping of threes; ``12,34`` is not a number)."""
    s = v.strip().strip("`")
    if _GROUPED.match(s):
        return re.sub(r"[,\u202f\u00a0 '_]", "", s)
    return None


def tool_name(name: str) -> str:
    return re.sub(r"\s+", "_", name.strip().strip('"`').strip().lower())


def normalize(columns: list[str], rows: list[list], kind_of) -> tuple[list[str], dict, list]:
    """Rename tool columns and convert their cells to the view's units, in place.

    ``kind_of(name)`` says whether a (renamed) column holds ``int``, ``float`` or other cells. Returns the new column names, the
    conversions made (``{column: "how"}``, for the provenance) and ``(column index, row index, cell)``
    of cells no rule could read (left as they are; typing warns about them).
    """
    names, conversions = [], {}
    for k, c in enumerate(columns):
        key = tool_name(c)
        target, scale = TOOL_COLUMNS.get(key, (None, 1))
        names.append(target or c)
        if target:
            conversions[c] = f"renamed to {target}" + (f", × {scale:,} (minutes → ms)" if scale != 1 else "")
    for k, name in enumerate(names):
        key = tool_name(name)
        kind = TOOL_MEASURES.get(key) or kind_of(name)
        scale = TOOL_COLUMNS.get(tool_name(columns[k]), (None, 1))[1]
        if kind in ("float", "time", "minutes"):
            hows = set()
            for row in rows:
                v = row[k]
                if v is None:
                    continue
                s = v.strip().strip("`")
                if _NUMBER.match(s):
                    if scale != 1 or kind == "minutes":
                        row[k] = repr(float(s) * (scale if scale != 1 else 60_000))
                    elif s != v:
                        row[k] = s
                    continue
                ms = interval_ms(s)
                if ms is not None:
                    row[k] = repr(ms)
                    hows.add("interval → ms" if ":" in s else "unit → ms")
                    continue
                g = plain_int(s)
                if g is not None:
                    row[k] = g
                    hows.add("thousands separators removed")
            if hows:
                conversions[columns[k]] = (conversions.get(columns[k], "") + "; " if columns[k] in conversions
                                           else "") + ", ".join(sorted(hows))
        elif kind == "int":
            grouped = False
            for row in rows:
                v = row[k]
                if v is None:
                    continue
                g = plain_int(v)
                if g is not None and g != v.strip():
                    row[k] = g
                    grouped = True
                elif v.strip("` ") != v:
                    row[k] = v.strip("` ")
            if grouped:
                conversions[columns[k]] = (conversions.get(columns[k], "") + "; " if columns[k] in conversions
                                           else "") + "thousands separators removed"
        elif kind == "percent":
            for row in rows:
                v = row[k]
                if v is not None and v.strip().strip("`").endswith("%"):
                    row[k] = v.strip().strip("`")[:-1].strip()
            conversions[columns[k]] = "percent sign dropped (value in %)"
        elif key == "query":
            for row in rows:
                v = row[k]
                if v is not None and len(v) > 1 and v.startswith("`") and v.endswith("`"):
                    row[k] = v[1:-1]  # Supabase's markdown table quotes each cell in backticks
    return names, conversions, []


def _decimals(v: str) -> int | None:
    s = v.strip()
    if not _NUMBER.match(s) or "e" in s.lower():
        return None
    return len(s.split(".", 1)[1]) if "." in s else 0


def cross_check(names: list[str], rows: list[list], lines: list, original: list[list] | None = None) -> list:
    """Located warnings for cells that disagree with their row or their column; nothing is changed.

    - ``mean_exec_time`` shown beside ``total_exec_time`` and ``calls`` must be total/calls within the
      rounding of the shown digits (a cut ``3228`` → ``322`` or ``100.756`` → ``100.75`` breaks it);
    - a fixed-scale column (``round(x, 3)``: every value has 3 decimals, trailing zeros kept) flags a
      value with fewer — the tail of the cell is missing;
    - ``prop_exec_time`` shares must imply one common total (share = total / Σ total).
    """
    out = []
    col = {n: k for k, n in enumerate(names)}
    loc = lambda i: f"line {lines[i]}" if i < len(lines) and lines[i] is not None else f"row {i + 1}"  # noqa: E731
    orig = original or rows
    if {"calls", "total_exec_time", "mean_exec_time"} <= set(col):
        c, t, m = col["calls"], col["total_exec_time"], col["mean_exec_time"]
        for i, row in enumerate(rows):
            try:
                calls, total, mean = int(row[c]), float(row[t]), float(row[m])
            except (TypeError, ValueError):
                continue
            if calls <= 0:
                continue
            dm = _decimals(orig[i][m] or "") if orig[i][m] else None
            dt = _decimals(orig[i][t] or "") if orig[i][t] else None
            tol = (0.5 * 10 ** -dm if dm is not None else 1e-9) + (0.5 * 10 ** -dt if dt is not None else 0) / calls
            tol += abs(total / calls) * 1e-6
            if abs(total / calls - mean) > tol:
                out.append((loc(i), f"mean_exec_time {orig[i][m].strip()!r} is not total_exec_time / calls "
                            f"({orig[i][t].strip()} / {orig[i][c].strip()} = {total / calls:.6g}): a cell looks cut "
                            "or shifted; values kept as printed"))
    for name, k in col.items():
        if name in ("query", "queryid", "userid", "dbid", "calls", "rows", "datname", "rolname"):
            continue
        decs = [(i, _decimals(r[k])) for i, r in enumerate(orig) if r[k] is not None and _decimals(r[k]) is not None]
        if len(decs) < 5:
            continue
        counts: dict[int, int] = {}
        for _, d in decs:
            counts[d] = counts.get(d, 0) + 1
        d0, n0 = max(counts.items(), key=lambda kv: kv[1])
        if d0 == 0 or n0 < 0.8 * len(decs) or n0 == len(decs):
            continue
        # only a fixed-scale column (numeric, round(x, d)) keeps trailing zeros; a double drops them, so a
        # shorter value there is no sign of a cut
        if not any(d == d0 and orig[i][k].strip().endswith("0") for i, d in decs):
            continue
        for i, d in decs:
            if d < d0:
                out.append((loc(i), f"{name} {orig[i][k].strip()!r} has {d} decimals where the rest of its column "
                            f"has {d0}: the cell looks cut; value kept as printed"))
    if "prop_exec_time" in col and "total_exec_time" in col:
        p, t = col["prop_exec_time"], col["total_exec_time"]
        spans = []
        for i, row in enumerate(rows):
            try:
                share, total = float(row[p]), float(row[t])
            except (TypeError, ValueError):
                continue
            dp = _decimals(orig[i][p].strip().rstrip("%")) if orig[i][p] else 1
            half = 0.5 * 10 ** -(dp or 0)
            if share - half <= 0 or total <= 0 or share < 1:
                continue
            spans.append((i, total * 100 / (share + half), total * 100 / (share - half)))
        if len(spans) >= 2:
            # the implied grand total covered by the most rows' rounding spans; rows not covering it disagree
            points = sorted([(a, 0) for _, a, _ in spans] + [(b, 1) for _, _, b in spans])
            depth, best, common = 0, -1, None
            for x, end in points:
                depth += -1 if end else 1
                if depth > best:
                    best, common = depth, x
            for i, a, b in spans:
                if not (a * (1 - 1e-9) <= common <= b * (1 + 1e-9)):
                    out.append((loc(i), f"prop_exec_time {orig[i][p].strip()!r} does not fit the other rows' shares "
                                f"of total_exec_time (implied total {a:,.0f}–{b:,.0f} ms, others ≈ {common:,.0f} ms): "
                                "a cell looks cut or shifted; values kept as printed"))
    return out
