"""Parsers for each form a pg_stat_statements dump arrives in, all giving one :class:`RawTable`.

Forms (decided from content by :func:`detect_form`):

- ``csv``       ``\\copy (select ...) to 'f' csv header`` or ``psql --csv``
- ``aligned``   psql's default table (``-[+]-`` separator line, ``+`` marking multi-line cells,
                ``(N rows)`` footer)
- ``expanded``  ``\\x`` output (``-[ RECORD n ]---`` blocks)
- ``unaligned`` ``psql -A -F '|'`` (texts may hold ``|`` and newlines; see :func:`parse_unaligned`)
- ``json``      ``json_agg`` output, a list of objects, or one object per line (``row_to_json``)

Cells stay text here (``None`` for SQL NULL where the form can tell); typing is done by load.py.
"""
from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass, field

from .psql_table import header_cut_reading, is_rule, normalize_box, parse_table
from .versions import (BOOL_COLUMNS, CANONICAL, COUNT_COLUMNS, FLOAT_COLUMNS, ID_COLUMNS, TIME_STAMP_COLUMNS,
                       canonical_name)

_HEADER_HINT = re.compile(r"\b(?:n?calls|queryid|total_(?:exec_)?time|exec_time|plans|dealloc|number[ _]calls)\b", re.I)
_SEPARATOR = re.compile(r"^-+(?:\+-+)*\s*$")
_RECORD = re.compile(r"^-\[ RECORD (\d+) \]")
_FOOTER = re.compile(r"^\(\d+ rows?\)\s*$")
_KNOWN = set(CANONICAL) | {"dealloc", "stats_reset"}


@dataclass
class RawTable:
    """A dump's header and rows as text; ``lines[i]`` is where row i started (1-based) for messages."""

    columns: list[str]
    rows: list[list[str | None]]
    lines: list[int] = field(default_factory=list)
    warnings: list[tuple[object, str]] = field(default_factory=list)


def detect_form(text: str) -> str:
    """``json``, ``expanded``, ``aligned``, ``unaligned``, ``unaligned-expanded`` or ``csv`` — from content only.

    >>> detect_form(' calls | query\\n-------+------\\n     1 | x\\n(1 row)\\n')
    'aligned'
    >>> detect_form('userid|calls|query\\n1|2|a || b\\n')
    'unaligned'
    """
    s = text.lstrip("\ufeff \t\r\n")
    if s[:1] in "[{":
        return "json"
    lines = s.splitlines()
    if len(lines) > 2 and all(_is_field_line(ln) for ln in lines[:3]):
        return "unaligned-expanded"
    if len(lines) > 2 and _SEPARATOR.match(lines[1]) and "+" not in lines[1] and lines[2].lstrip()[:1] in ("[", "{"):
        return "aligned"  # `select json_agg(s) ...` in psql's table: one column holding JSON
    head = lines[:2000]
    if not any(_RECORD.match(ln) for ln in head):
        boxed = normalize_box("\n".join(head)).splitlines()
        for i in range(len(boxed) - 1):  # a header over a dash rule, wherever the table starts in the paste
            if "|" in boxed[i] and _HEADER_HINT.search(boxed[i]) and is_rule(boxed[i + 1]):
                return "aligned"
    for i, line in enumerate(head):
        if _RECORD.match(line):
            return "expanded"
        if _SEPARATOR.match(line) and i > 0 and "|" in lines[i - 1] and _HEADER_HINT.search(lines[i - 1]):
            return "aligned"
        if _HEADER_HINT.search(line):
            if i + 1 < len(lines) and _SEPARATOR.match(lines[i + 1]) and "|" in line:
                return "aligned"
            return "unaligned" if line.count("|") >= 1 and line.count("|") >= line.count(",") else "csv"
    return "csv"


def _header_index(lines: list[str]) -> int:
    for i, line in enumerate(lines[:2000]):
        if _HEADER_HINT.search(line):
            return i
    return 0


# ----------------------------------------------------------------------------- csv

def parse_csv(text: str) -> RawTable:
    lines = text.splitlines(keepends=True)
    start = _header_index(lines)
    body = "".join(lines[start:]).lstrip("\ufeff")
    sep = "\t" if body.split("\n", 1)[0].count("\t") > body.split("\n", 1)[0].count(",") else ","
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=sep)
    table = RawTable([], [])
    try:
        table.columns = next(reader)
    except (StopIteration, csv.Error):
        return table
    n = len(table.columns)
    try:
        for row in reader:
            line = start + reader.line_num
            if not row or row == [""]:
                continue
            if len(row) != n:
                table.warnings.append((f"line {line}", f"{len(row)} fields where the header has {n}; row skipped"))
                continue
            table.rows.append([None if v == "" else v for v in row])
            table.lines.append(line)
    except csv.Error as e:  # an unterminated quote: the file was cut inside a query text
        table.warnings.append((f"line {start + reader.line_num}", f"CSV cut short ({e}); rows after it are lost"))
    return table


# ----------------------------------------------------------------------------- psql aligned

def _char_width(ch: str) -> int:
    if ch < "\u0300":
        return 1
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def _display_index(line: str):
    """A function mapping a display column to a char index (psql pads by display width)."""
    if line.isascii():
        return lambda col: col
    starts = []  # starts[k] = display column where char k begins
    col = 0
    for ch in line:
        starts.append(col)
        col += _char_width(ch)
    starts.append(col)
    return lambda c: bisect_left(starts, c)


def _display_len(line: str) -> int:
    return len(line) if line.isascii() else sum(_char_width(c) for c in line)


def parse_aligned(text: str) -> RawTable:
    """psql's aligned table and look-alikes (pg-extras, borders, boxes), split on separators (see
    :mod:`.psql_table`); a row whose separators sit elsewhere than the header's is warned about."""
    t = parse_table(text, is_text=_is_text)
    table = RawTable(t.columns, t.rows, t.lines, list(t.warnings))
    if t.shifted:
        first, cols = t.shifted[0]
        where = ", ".join(str(ln) for ln, _ in t.shifted[:5]) + (" …" if len(t.shifted) > 5 else "")
        msg = (f"{len(t.shifted)} row(s) (lines {where}) have their '|' separators at other columns than the "
               "header's (a hand-trimmed or re-spaced paste); their cells were split on '|', not cut at the "
               "header's columns")
        k = t.lines.index(first) if first in t.lines else None
        if k is not None:
            cut = header_cut_reading(text, first, t.columns)
            diff = [(c, cut.get(c), t.rows[k][i]) for i, c in enumerate(t.columns)
                    if not _is_text(c) and cut.get(c) and t.rows[k][i] and cut.get(c) != t.rows[k][i].strip()]
            if diff:
                c, was, now = diff[0]
                msg += f" — at the header's columns line {first} would read {c} = {was!r}, not {now.strip()!r}"
        table.warnings.insert(0, (f"line {first}", msg))
    return table


def _check_footer(table: RawTable, line: str | None, no: int) -> None:
    """psql ends aligned and unaligned output with '(N rows)': its absence or a wrong N means a cut."""
    if line is None:
        table.warnings.append((f"line {no}", "no '(N rows)' footer at the end: output cut short (or printed "
                               "with \\pset footer off); the last row may be incomplete"))
        return
    n = int(re.match(r"\((\d+)", line).group(1))
    if n != len(table.rows):
        table.warnings.append((f"line {no}", f"the footer says {n} rows, {len(table.rows)} were read"))


def _is_text(name: str) -> bool:
    return canonical_name(name) in ("query", "datname", "rolname")


# ----------------------------------------------------------------------------- psql expanded

def parse_expanded(text: str) -> RawTable:
    lines = text.splitlines()
    table = RawTable([], [])
    columns: dict[str, int] = {}
    records: list[dict[str, str | None]] = []
    rec: dict | None = None
    name_w = None
    last_key = None
    for no, line in enumerate(lines, start=1):
        m = _RECORD.match(line)
        if m:
            rec = {}
            records.append(rec)
            table.lines.append(no)
            last_key = None
            continue
        if rec is None or _FOOTER.match(line):
            continue
        if name_w is None or line.find("|") != name_w:
            bar = line.find("|")
            if bar < 0:
                continue
            if line[:bar].strip():
                name_w = _display_len(line[:bar])
        if name_w is None:  # a value line before any field name: nothing to attach it to
            continue
        at = _display_index(line)
        bar = at(name_w)
        if bar >= len(line) or line[bar] != "|":
            continue
        name = line[:bar].strip()
        value = line[bar + 1:]
        value = value[1:] if value.startswith(" ") else value
        if not name and last_key is not None:  # continuation of a multi-line value
            prev = rec[last_key] or ""
            if prev.endswith("+"):
                prev = prev[:-1].rstrip(" ")
            rec[last_key] = prev + "\n" + value
            continue
        if name not in columns:
            columns[name] = len(columns)
        rec[name] = value if value != "" else None
        last_key = name
    for r in records:  # values padded before a '+' marker on a line that did not continue
        for k, v in r.items():
            if v is not None and not _is_text(k):
                r[k] = v.strip()
    return _finish_records(table, columns, records)


# ----------------------------------------------------------------------------- psql unaligned

_VALUE_PATTERNS = {
    "int": r"-?\d*", "float": r"(?:-?[\d.]+(?:[eE][-+]?\d+)?|NaN|-?Infinity)?", "bool": r"(?:t|f|true|false)?",
    "stamp": r"[\d:. +-]*", "simple": r"[^|\n]*",
}


def _kind_of(name: str) -> str:
    c = canonical_name(name)
    if c == "query":
        return "query"
    if c in ID_COLUMNS or c in COUNT_COLUMNS:
        return "int"
    if c in FLOAT_COLUMNS:
        return "float"
    if c in BOOL_COLUMNS:
        return "bool"
    if c in TIME_STAMP_COLUMNS:
        return "stamp"
    return "simple"


#: Longest query text the unaligned parser will look through for the end of a record.
_MAX_TEXT = 1_000_000


def parse_unaligned(text: str, sep: str = "|") -> RawTable:
    """``psql -A -F '|'``: only the query text may hold the separator or newlines.

    Each record is matched by one regular expression built from the header, with a strict
    pattern for every non-text column and a lazy match for the query, so ``a || b`` and
    multi-line texts come out whole.
    """
    lines = text.splitlines(keepends=True)
    start = _header_index(lines)
    header = lines[start].rstrip("\r\n").lstrip("\ufeff")
    table = RawTable(header.split(sep), [])
    kinds = [_kind_of(c) for c in table.columns]
    s = re.escape(sep)
    parts = [r"(.{0,%d}?)" % _MAX_TEXT if k == "query" else "(" + _VALUE_PATTERNS[k] + ")" for k in kinds]
    # The first two fields of a record (non-capturing): where the next record starts.
    lead = s.join(r"[^\n]*?" if k == "query" else "(?:" + _VALUE_PATTERNS[k] + ")" for k in kinds[:2])
    lead += s if len(kinds) > 2 else ""
    lead_re = re.compile(lead)
    if kinds and kinds[-1] == "query":
        end = r"(?=\r?\n(?:" + lead + r"|\(\d+ rows?\)[ \t\r]*$|\s*\Z)|\r?\n?\Z)"
    else:
        end = r"(?=\r?\n|\Z)"
    record = re.compile(r"^" + s.join(parts) + end, re.M | re.S)
    body = "".join(lines[start + 1:])
    base_line = start + 2
    pos = 0
    footer = False
    line_no, counted_to = base_line, 0  # line numbers counted incrementally (not from the start each time)
    while pos < len(body):
        if body.startswith("\n", pos) or body.startswith("\r\n", pos):
            pos = body.index("\n", pos) + 1
            continue
        m = record.match(body, pos) if lead_re.match(body, pos) else None
        line_no += body.count("\n", counted_to, pos)
        counted_to = pos
        if m is None:
            eol = body.find("\n", pos)
            eol = len(body) if eol < 0 else eol
            chunk = body[pos:eol]
            if _FOOTER.match(chunk):
                _check_footer(table, chunk, line_no)
                footer = True
                break
            table.warnings.append((f"line {line_no}", f"not a row of {len(kinds)} '{sep}'-separated fields; skipped"))
            pos = eol + 1
            continue
        table.rows.append([None if v == "" else v for v in m.groups()])
        table.lines.append(line_no)
        pos = m.end()
        nl = body.find("\n", pos)
        pos = len(body) if nl < 0 else nl + 1
    if not footer:
        _check_footer(table, None, base_line + body.count("\n"))
    return table


# ----------------------------------------------------------------------------- JSON

def _cell(v) -> str | None:
    if v is None:
        return None
    if v is True:
        return "t"
    if v is False:
        return "f"
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    return str(v)


def parse_json(text: str) -> RawTable:
    """A ``json_agg`` array, an object wrapping one, or one object per line; cut-short tails keep what parsed.

    Numbers are kept as their exact text (``parse_int=str``), so 64-bit queryids never pass through a float.
    """
    dec = json.JSONDecoder(parse_int=str, parse_float=str, parse_constant=str)
    table = RawTable([], [])
    s = text.lstrip("\ufeff \t\r\n")
    objs: list[dict] = []
    try:
        doc = dec.decode(s)
        if isinstance(doc, dict):
            lists = [v for v in doc.values() if isinstance(v, list)]
            doc = lists[0] if lists and not _HEADER_HINT.search(" ".join(doc.keys())) else [doc]
        if isinstance(doc, list) and len(doc) == 1 and isinstance(doc[0], list):
            doc = doc[0]  # psql -At of `select json_agg(...)` from a client that wrapped rows
        objs = [o for o in doc if isinstance(o, dict)] if isinstance(doc, list) else []
    except (json.JSONDecodeError, RecursionError):
        objs = _salvage_objects(dec, s, table)
    keys: dict[str, int] = {}
    for o in objs:
        for k in o:
            keys.setdefault(k, len(keys))
    table.columns = list(keys)
    table.rows = [[_cell(o.get(k)) for k in table.columns] for o in objs]
    table.lines = [f"$[{i}]" for i in range(len(objs))]
    return table


def _salvage_objects(dec, s: str, table: RawTable) -> list[dict]:
    """Objects one after another (JSON Lines, or an array cut short): decode each until one fails."""
    objs, pos = [], 0
    if s.startswith("["):
        pos = 1
    n = len(s)
    while pos < n:
        while pos < n and s[pos] in " \t\r\n,":
            pos += 1
        if pos >= n or s[pos] == "]":
            return objs
        try:
            o, end = dec.raw_decode(s, pos)
        except (json.JSONDecodeError, RecursionError):
            table.warnings.append((pos, f"JSON cut short or broken after {len(objs)} objects; the rest is lost"))
            return objs
        if isinstance(o, dict):
            objs.append(o)
        pos = end
    return objs


# ----------------------------------------------------------------------------- psql -A -x

_FIELD = re.compile(r"^([A-Za-z_]\w*)\|")


def _is_field_line(line: str, seen=()) -> bool:
    """``name|value`` where name is a pg_stat_statements column (or one already seen in this dump)."""
    m = _FIELD.match(line)
    if not m:
        return False
    name = m.group(1)
    return name in seen or canonical_name(name) in _KNOWN


def parse_unaligned_expanded(text: str, sep: str = "|") -> RawTable:
    """``psql -A -x``: one ``name|value`` line per field, a blank line between records; a query text
    continues on the following lines until the next known field name."""
    table = RawTable([], [])
    columns: dict[str, int] = {}
    records: list[dict] = []
    rec, last, first_name = None, None, None
    lines = text.splitlines()
    for no, line in enumerate(lines, start=1):
        field = _is_field_line(line, columns)
        name = line.split(sep, 1)[0] if field else None
        if not line.strip() and last is not None and (no >= len(lines) or _is_field_line(lines[no], columns)):
            last = None  # the blank line between records
            continue
        if field and (rec is None or name == first_name or name in rec):
            rec = {}
            records.append(rec)
            table.lines.append(no)
            first_name = first_name or name
        if field:
            value = line.split(sep, 1)[1]
            columns.setdefault(name, len(columns))
            rec[name] = value if value != "" else None
            last = name
        elif rec is not None and last is not None and _is_text(last):
            rec[last] = (rec[last] or "") + "\n" + line
        elif line.strip() and not _FOOTER.match(line):
            table.warnings.append((f"line {no}", "not a name|value line of psql -A -x output; skipped"))
    return _finish_records(table, columns, records)


PARSERS = {"csv": parse_csv, "aligned": parse_aligned, "expanded": parse_expanded,
           "unaligned": parse_unaligned, "unaligned-expanded": parse_unaligned_expanded, "json": parse_json}


def _finish_records(table, columns, records):
    """Rows of name→value records (expanded output) in column order; a record missing fields is warned about."""
    table.columns = list(columns)
    table.rows = [[r.get(c) for c in table.columns] for r in records]
    for k, r in enumerate(records):
        if len(r) < len(columns):
            table.warnings.append((f"line {table.lines[k]}", f"record {k + 1} lacks {len(columns) - len(r)} fields "
                                   "(cut short?)"))
    return table
