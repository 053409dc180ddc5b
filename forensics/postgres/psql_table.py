"""psql's aligned table — and the tables people paste that look like it — split on the separators.

Pastes are rarely byte-exact psql output: a header trimmed by hand, a row one character wider than
its header, a header re-spaced so it no longer sits over its dashes, ``\\pset border 2`` or
``linestyle unicode`` boxes, pg-extras/terminal-table frames (``.---.``, ``+---+``, ``|---|``),
indentation from a README. Cutting cells at the header's columns (what psql would do) silently
reads ``322`` for ``3228`` in such a paste, so cells are split on the ``|`` separators; display
width (psql pads by it) is used only to decide which ``|`` is a separator when a text holds one.
Every row whose separators are not where the header's are is reported with its line.

>>> t = parse_table(' calls | query\\n-------+------\\n  3228 | x\\n(1 row)\\n')
>>> t.columns, t.rows
(['calls', 'query'], [['3228', 'x']])
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

#: Box-drawing characters of ``\\pset linestyle unicode`` (and tools imitating it) in ASCII terms.
_BOX = str.maketrans({"│": "|", "┃": "|", "║": "|", "─": "-", "━": "-", "═": "-", "┼": "+", "╋": "+",
                      "╪": "+", "╫": "+", "┬": "+", "┴": "+", "├": "|", "┤": "|", "┌": "+", "┐": "+",
                      "└": "+", "┘": "+", "╞": "|", "╡": "|", "╔": "+", "╗": "+", "╚": "+", "╝": "+",
                      "╦": "+", "╩": "+", "╠": "|", "╣": "|", "↵": "+", "…": " "})
_BOX_LINE = re.compile(r"^\s*[┌├└╞╔╠╚─━═]")
_DASHES = re.compile(r"^[-+|:.'=]*-{3,}[-+|:.'=]*$")
_BORDER = re.compile(r"^[+.'`][-+.'`=]*$")  # +----+, .----., '----' (a frame, not the header rule)
FOOTER = re.compile(r"^\(\d+ [^\W\d_]+\)\s*$")


@dataclass
class Table:
    """Cells as text (``None`` for an empty cell), the line each row starts on, and what looked wrong."""

    columns: list[str]
    rows: list[list[str | None]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    warnings: list[tuple[object, str]] = field(default_factory=list)
    #: rows whose separators sit elsewhere than the header's: (line, [display columns], what a cut would read)
    shifted: list[tuple[int, list[int]]] = field(default_factory=list)
    footer: int | None = None


def char_width(ch: str) -> int:
    if ch < "\u0300":
        return 1
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def display_len(s: str) -> int:
    return len(s) if s.isascii() else sum(char_width(c) for c in s)


def normalize_box(text: str) -> str:
    """Unicode box drawing to psql's ASCII form (only when the text draws boxes; texts are kept otherwise)."""
    if any(_BOX_LINE.match(ln) for ln in text.splitlines()[:200]):
        return text.translate(_BOX)
    return text


_MD_RULE = re.compile(r"^\|(?:\s*:?-+:?\s*\|)+$")  # markdown's minimal |-|-| (Supabase's inspect tables)


def is_rule(line: str) -> bool:
    s = line.strip()
    return bool(s) and (bool(_DASHES.match(s)) or bool(_MD_RULE.match(s))) and "-" in s


def _junctions(rule: str) -> int:
    s = rule.strip().strip("+|.'")
    return len(re.findall(r"[+|]", s))


def _outer(line: str) -> tuple[str, int]:
    """Strip a frame's outer ``|`` (border 2, terminal-table, markdown): the inner line and its display offset."""
    s = line.rstrip()
    lead = len(s) - len(s.lstrip())
    body = s[lead:]
    if body.startswith("|") and body.endswith("|") and len(body) > 1:
        return body[1:-1], lead + 1
    return line, 0


def _rule_junctions(rule: str, framed: bool) -> list[int]:
    s = rule.rstrip()
    lead = len(s) - len(s.lstrip())
    pos = [m.start() for m in re.finditer(r"[+|]", s)]
    if framed:
        pos = [p for p in pos if lead < p < len(s) - 1]
    return pos


def _pipes(s: str) -> list[int]:
    """Candidate separators: a ``|`` with a space (or a ``+`` continuation mark) before it and a space after."""
    out = []
    for i, ch in enumerate(s):
        if ch != "|":
            continue
        before = s[i - 1] if i else " "
        after = s[i + 1] if i + 1 < len(s) else " "
        if before in " \t+" and after in " \t":
            out.append(i)
    if not out:  # markdown-ish `a|b|c` without spaces: every '|' not part of '||' and not escaped as '\|'
        out = [i for i, ch in enumerate(s) if ch == "|" and s[i - 1:i] not in ("|", "\\") and s[i + 1:i + 2] != "|"]
    return out


def _display_positions(s: str, idx: list[int]) -> list[int]:
    if s.isascii():
        return list(idx)
    out, col, k = [], 0, 0
    for i, ch in enumerate(s):
        if k < len(idx) and i == idx[k]:
            out.append(col)
            k += 1
        col += char_width(ch)
    return out


def _choose(cands: list[int], disp: list[int], expected: list[int]) -> list[int]:
    """The ``len(expected)`` candidates (in order) closest to the expected display columns (least total distance)."""
    m, n = len(cands), len(expected)
    inf = float("inf")
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    for j in range(m + 1):
        cost[0][j] = 0.0
    for i in range(1, n + 1):
        for j in range(i, m + 1):
            take = cost[i - 1][j - 1] + abs(disp[j - 1] - expected[i - 1])
            cost[i][j] = min(cost[i][j - 1], take)
    chosen, i, j = [], n, m
    while i > 0:
        if cost[i][j] == cost[i][j - 1] and j - 1 >= i:
            j -= 1
            continue
        chosen.append(cands[j - 1])
        i, j = i - 1, j - 1
    return chosen[::-1]


def _find_header(lines: list[str]) -> tuple[int, int] | None:
    """(header index, rule index): a line of names over a dash rule with as many junctions as the names have '|'."""
    fallback = None
    for i in range(1, min(len(lines), 4000)):
        if not is_rule(lines[i]):
            continue
        h = i - 1
        while h >= 0 and _BORDER.match(lines[h].strip() or "x") and not lines[h].strip().startswith("|"):
            h -= 1  # a frame's top border between header and nothing
        if h < 0 or not lines[h].strip() or is_rule(lines[h]):
            continue
        inner, _ = _outer(lines[h])
        j = _junctions(lines[i])
        if inner.count("|") == j and (j or "|" not in lines[i]):
            return h, i
        if fallback is None and "|" in inner:
            fallback = (h, i)
    return fallback


def parse_table(text: str, is_text=lambda name: name.strip().lower() in ("query", "qry")) -> Table:
    """Split an aligned table on its separators; see the module docstring. ``is_text(column)`` says which
    columns hold free text (kept with their inner spacing; the others are stripped)."""
    text = normalize_box(text)
    lines = text.splitlines()
    found = _find_header(lines)
    if found is None:
        return Table([])
    h, r = found
    header, off = _outer(lines[h])
    framed = off > 0
    head_cuts = _pipes(header) if "|" in header else []
    if len(head_cuts) != header.count("|"):
        head_cuts = [i for i, ch in enumerate(header) if ch == "|"]
    names = [c.strip() for c in _split(header, head_cuts)]
    table = Table(names)
    n = len(names)
    expected = [off + p for p in _display_positions(header, head_cuts)]
    rule = lines[r]
    rule_j = _rule_junctions(rule, framed)
    # a markdown table (|-|-|) not laid out to its rule was never aligned: positions mean nothing there
    positional = not (_MD_RULE.match(rule.strip()) and display_len(rule.strip()) != display_len(lines[h].strip()))
    if positional and n > 1 and len(rule_j) == n - 1 and rule_j != expected:
        table.warnings.append((f"line {h + 1}", "the header's '|' are not over the rule's junctions (re-spaced by "
                               "hand?); column names were split on '|'"))
    texts = [is_text(c) for c in names]
    current: list | None = None
    cont = [False] * n
    for no in range(r + 1, len(lines)):
        raw = lines[no]
        line_no = no + 1
        stripped = raw.strip()
        if FOOTER.match(stripped):
            table.footer = line_no
            if current is not None:
                table.rows.append(current)
                current = None
            _check_footer(table, stripped, line_no)
            break
        if not stripped and not any(cont):
            if current is not None or table.rows:
                break
            continue
        if _BORDER.match(stripped) and "|" not in stripped:
            continue  # a frame line between or after rows
        body, boff = _outer(raw) if framed else (raw, 0)
        if n > 1 and "|" not in body:
            break  # prose after the table
        cands = _pipes(body)
        if len(cands) < n - 1:
            cands = [i for i, ch in enumerate(body) if ch == "|"]
        if len(cands) < n - 1:
            table.warnings.append((f"line {line_no}", f"{len(cands) + 1} cells where the header has {n}; "
                                   "line skipped"))
            continue
        disp = [boff + p for p in _display_positions(body, cands)]
        if len(cands) > n - 1:
            cuts = _choose(cands, disp, expected)
            disp = [boff + p for p in _display_positions(body, cuts)]
        else:
            cuts = cands
        cells = _split(body, cuts)
        if framed and "\\|" in body:
            cells = [c.replace("\\|", "|") for c in cells]  # markdown escapes a '|' inside a cell
        marks = []
        for k, c in enumerate(cells):
            last = k == n - 1
            core = c.rstrip() if last else c
            mark = core.endswith("+") and (not last or core.endswith(" +") or core == "+" or
                                           display_len(body) >= display_len(rule.rstrip()) - off)
            marks.append(mark)
            cells[k] = core[:-1] if mark else c
        if current is not None and any(cont):
            for k, was in enumerate(cont):
                piece = _text_cell(cells[k]) if texts[k] else cells[k].strip()
                if was:
                    current[k] = (current[k] or "") + "\n" + (piece or "")
                elif piece:
                    table.warnings.append((f"line {line_no}", f"column {names[k]!r} has a value on a continuation "
                                           "line; appended to the row's text"))
                    current[k] = (current[k] or "") + " " + piece
        else:
            if current is not None:
                table.rows.append(current)
            current = [(_text_cell(c) if texts[k] else c.strip()) or None for k, c in enumerate(cells)]
            table.lines.append(line_no)
            if positional and n > 1 and disp != expected:
                table.shifted.append((line_no, disp))
        cont = marks
    else:
        if current is not None and any(cont):
            table.warnings.append((f"line {len(lines)}", "the last row's text is cut short (its last line ends "
                                   "with a '+' continuation mark)"))
        if table.footer is None:
            table.warnings.append((f"line {len(lines)}", "no '(N rows)' footer at the end: output cut short (or "
                                   "printed with \\pset footer off, or by a tool that prints none); the last row "
                                   "may be incomplete"))
    if current is not None:
        table.rows.append(current)
    return table


def _split(s: str, cuts: list[int]) -> list[str]:
    edges = [-1, *cuts, len(s)]
    return [s[edges[k] + 1:edges[k + 1]] for k in range(len(edges) - 1)]


def _text_cell(c: str) -> str:
    """A text cell without psql's one-space padding on the left and its fill on the right."""
    c = c.rstrip()
    return c[1:] if c.startswith(" ") else c


def _check_footer(table: Table, line: str, no: int) -> None:
    n = int(re.match(r"\((\d+)", line).group(1))
    got = len(table.rows)
    if n != got:
        table.warnings.append((f"line {no}", f"the footer says {n} rows, {got} were read"))


def header_cut_reading(text: str, line_no: int, columns: list[str]) -> dict[str, str]:
    """What cutting the row at ``line_no`` at the header's columns (psql's own positions) would read —
    for the warning that says what a position-based reader gets wrong."""
    lines = normalize_box(text).splitlines()
    found = _find_header(lines)
    if found is None:
        return {}
    h, _ = found
    header, off = _outer(lines[h])
    cuts = [i + off for i, ch in enumerate(header) if ch == "|"]
    row = lines[line_no - 1]
    at = _display_index(row)
    edges = [-1, *[at(c) for c in cuts], len(row)]
    # psql's own reading: the cell is what lies between the padding characters next to each column edge
    cells = [row[edges[k] + 1:edges[k + 1]][1:-1 if k < len(edges) - 2 else None].strip()
             for k in range(len(edges) - 1)]
    return dict(zip(columns, cells))


def _display_index(line: str):
    if line.isascii():
        return lambda col: col
    starts, col = [], 0
    for ch in line:
        starts.append(col)
        col += char_width(ch)
    starts.append(col)
    from bisect import bisect_left
    return lambda c: bisect_left(starts, c)
