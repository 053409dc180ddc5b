"""EXPLAIN's text format → plan nodes (one dict per node, in the JSON format's vocabulary).

Reads what psql prints (a ``QUERY PLAN`` header, a rule, one plan line per row, a ``(N rows)``
footer in any language), bare pastes, fragments that start at an indented ``->`` and auto_explain's
tab-indented plans; with or without COSTS, ANALYZE, TIMING (``actual rows=N loops=N``), BUFFERS,
VERBOSE, and PG18's fractional rows (``rows=0.75``). Node lines are names as printed; they are
mapped to the JSON format's fields (``Hash Left Join`` → Node Type ``Hash Join``, Join Type ``Left``)
so text and JSON plans give the same frame.

>>> plan = parse_text_plan("Seq Scan on foo  (cost=0.00..43.90 rows=11 width=4) (actual time=0.010..0.071 rows=5 loops=1)\\n"
...                        "  Filter: (a >= 5)\\n  Rows Removed by Filter: 1019\\nExecution Time: 0.081 ms\\n")
>>> n = plan["nodes"][0]; n["Node Type"], n["Relation Name"], n["Rows Removed by Filter"], plan["Execution Time"]
('Seq Scan', 'foo', 1019.0, 0.081)
"""
from __future__ import annotations

import re

_NUM = r"(-?\d+(?:\.\d+)?)"
_COST = re.compile(r"\(cost=" + _NUM + r"\.\." + _NUM + r" rows=" + _NUM + r" width=(\d+)\)")
_ACTUAL = re.compile(r"\(actual(?: time=" + _NUM + r"\.\." + _NUM + r")? rows=" + _NUM + r" loops=(\d+)\)")
_NEVER = re.compile(r"\(never executed\)")
_LABEL = re.compile(r"^(InitPlan|SubPlan|CTE)\b\s*(.*)$")
_PROP = re.compile(r"^([A-Z][A-Za-z /()-]*?):\s*(.*)$")
_SUMMARY = {"Planning Time", "Execution Time", "Total runtime", "Planning time", "Execution time"}
_HEADER = re.compile(r"^\s*QUERY PLAN\s*$")
_RULE = re.compile(r"^\s*-{5,}\s*$")
_FOOTER = re.compile(r"^\s*\(\d+ [^\W\d_]+\)\s*$")
_RECORD = re.compile(r"^-\[ RECORD \d+ \]")
_EXPANDED = re.compile(r"^QUERY PLAN \| ?(.*)$")

_JOIN = re.compile(r"^(Hash|Merge|Nested Loop)(?: (Left|Right|Full|Semi|Anti|Right Semi|Right Anti))?(?: Join)?$")
_AGG = {"HashAggregate": "Hashed", "GroupAggregate": "Sorted", "MixedAggregate": "Mixed", "Aggregate": "Plain"}
_MODIFY = re.compile(r"^(Insert|Update|Delete|Merge) on (\S+)(?: (\S+))?$")
_INDEXED = re.compile(r"^(.*?Scan)(?: (Backward))? using (\S+) on (\S+)(?: (\S+))?$")
_ON = re.compile(r"^(.*?)(?: (Backward))? on (\S+)(?: (\S+))?$")
_CUSTOM = re.compile(r"^Custom Scan \(([^)]*)\)(.*)$")


def _f(x):
    return None if x is None else float(x)


def describe(text: str) -> dict:
    """The JSON fields a text node line implies: Node Type, Relation Name, Index Name, Join Type, …"""
    d: dict = {}
    t = text.strip()
    if t.startswith("Parallel "):
        d["Parallel Aware"] = True
        t = t[len("Parallel "):]
    if t.startswith("Async "):
        d["Async Capable"] = True
        t = t[len("Async "):]
    m = _CUSTOM.match(t)
    if m:
        d["Custom Plan Provider"] = m.group(1)
        t = "Custom Scan" + m.group(2)
    for prefix, mode in (("Finalize ", "Finalize"), ("Partial ", "Partial")):
        if t.startswith(prefix) and "Aggregate" in t:
            d["Partial Mode"] = mode
            t = t[len(prefix):]
    if t in _AGG:
        return {**d, "Node Type": "Aggregate", "Strategy": _AGG[t]}
    if t in ("HashSetOp", "SetOp"):
        return {**d, "Node Type": "SetOp", "Strategy": "Hashed" if t == "HashSetOp" else "Sorted"}
    m = _JOIN.match(t)
    if m and (t.endswith("Join") or t == "Nested Loop" or m.group(2)):
        return {**d, "Node Type": m.group(1) + (" Join" if m.group(1) != "Nested Loop" else ""),
                "Join Type": m.group(2) or "Inner"}
    m = _MODIFY.match(t)
    if m:
        return {**d, "Node Type": "ModifyTable", "Operation": m.group(1), "Relation Name": m.group(2),
                **({"Alias": m.group(3)} if m.group(3) else {})}
    m = _INDEXED.match(t)
    if m:
        return {**d, "Node Type": m.group(1), "Index Name": m.group(3), "Relation Name": m.group(4),
                "Scan Direction": m.group(2) or "Forward", **({"Alias": m.group(5)} if m.group(5) else {})}
    m = _ON.match(t)
    if m:
        kind = m.group(1)
        if kind == "Bitmap Index Scan":
            return {**d, "Node Type": kind, "Index Name": m.group(3)}
        target = {"CTE Scan": "CTE Name", "Function Scan": "Function Name", "Subquery Scan": "Alias",
                  "WorkTable Scan": "CTE Name", "Named Tuplestore Scan": "Tuplestore Name"}.get(kind, "Relation Name")
        out = {**d, "Node Type": kind, target: m.group(3)}
        if m.group(4):
            out["Alias"] = m.group(4)
        if m.group(2):
            out["Scan Direction"] = "Backward"
        return out
    return {**d, "Node Type": t}


def _buffers(value: str, into: dict, prefix: str = "") -> None:
    """``shared hit=24 read=3 dirtied=1 written=2, temp read=44905 written=44908, local hit=5``."""
    for part in value.split(","):
        words = part.split()
        if not words:
            continue
        scope = words[0].capitalize()
        for kv in words[1:]:
            if "=" in kv:
                k, v = kv.split("=", 1)
                if v.isdigit():
                    into[f"{prefix}{scope} {k.capitalize()} Blocks"] = int(v)


def _property(name: str, value: str, node: dict) -> None:
    v = value.strip()
    if name == "Buffers":
        _buffers(v, node)
    elif name in ("Rows Removed by Filter", "Rows Removed by Join Filter", "Rows Removed by Index Recheck",
                  "Heap Fetches", "Workers Planned", "Workers Launched"):
        try:
            node[name] = float(v) if name.startswith("Rows") else int(v)
        except ValueError:
            node[name] = v
    elif name == "Sort Method":
        m = re.match(r"(.+?)\s+(Memory|Disk):\s*(\d+)kB", v)
        if m:
            node["Sort Method"], node["Sort Space Type"], node["Sort Space Used"] = m.group(1), m.group(2), int(m.group(3))
        else:
            node["Sort Method"] = v
    elif name in ("Buckets", "Batches"):  # Hash: "Buckets: 1024  Batches: 4 (originally 1)  Memory Usage: 9kB"
        text = f"{name}: {v}"
        for key, pat in (("Hash Buckets", r"Buckets: (\d+)"), ("Hash Batches", r"Batches: (\d+)"),
                         ("Original Hash Batches", r"originally (\d+)"), ("Peak Memory Usage", r"Memory Usage: (\d+)kB"),
                         ("Disk Usage", r"Disk Usage: (\d+)kB")):
            m = re.search(pat, text)
            if m:
                node[key] = int(m.group(1))
        if "Hash Batches" in node and node.get("Node Type") == "Aggregate":
            node["HashAgg Batches"] = node.pop("Hash Batches")
    elif name == "I/O Timings":
        for m in re.finditer(r"(?:(shared|local|temp) )?(read|write)=([\d.]+)", v):
            scope = (m.group(1) or "shared").capitalize()
            node[f"{scope} I/O {m.group(2).capitalize()} Time"] = float(m.group(3))
    else:
        node[name] = v


def explain_command(lines: list[str]) -> str | None:
    """The statement of an ``EXPLAIN …`` typed above the plan (psql prompts ``db=#``/``db->`` dropped)."""
    out, on = [], False
    for ln in lines:
        s = ln
        if not on:
            m = re.search(r"\bEXPLAIN\b", ln, re.I)  # after a prompt, or after "SET …;" on the same line
            if m:
                on, s = True, ln[m.start():]
        if on:
            if out and (not s.strip() or re.match(r"^[A-Z]+(?: \d+)*$", s.strip())):
                break  # a blank line or psql's command tag ("SET", "INSERT 0 1") printed after the command
            out.append(s)
            if s.rstrip().endswith(";"):
                break
    if not out:
        return None
    text = "\n".join(out).strip().rstrip(";")
    return re.sub(r"^\s*EXPLAIN\s*(?:\([^)]*\)|(?:ANALY[SZ]E|VERBOSE|\s)+)?\s*", "", text, count=1, flags=re.I) or None


def strip_psql(text: str) -> tuple[str, int]:
    """The plan lines of a psql paste (header, rule, footer, prompt and the EXPLAIN command dropped), and
    how many lines came before them."""
    lines = text.splitlines()
    expanded = [i for i, ln in enumerate(lines) if _EXPANDED.match(ln)]
    if expanded:  # \x on: one "QUERY PLAN | line" record per plan line (the value keeps its indentation);
        # other lines become blank so that the body's line numbers stay the file's
        body = []
        for ln in lines:
            m = _EXPANDED.match(ln)
            v = m.group(1) if m else ""
            body.append(v[:-1].rstrip() if v.endswith("+") else v)
        return "\n".join(body), 0
    start = 0
    for i, ln in enumerate(lines[:200]):
        if _HEADER.match(ln) and i + 1 < len(lines) and _RULE.match(lines[i + 1]):
            start = i + 2
            break
    body = []
    for ln in lines[start:]:
        if _FOOTER.match(ln):
            break
        body.append(ln[:-1].rstrip() if ln.endswith("+") and start else ln)
    return "\n".join(body), start


def parse_text_plan(text: str) -> dict:
    """Nodes (``nodes``: dicts with ``_depth``/``_parent``/``_line``) and the summary of one text plan."""
    plan: dict = {"nodes": [], "warnings": []}
    stack: list[tuple[int, int]] = []  # (indent, node index)
    pending_label = None
    current: dict | None = None
    section = None  # "Planning" / "JIT" / "Triggers" blocks in the summary
    first_indent = None
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.replace("\t", "    ").rstrip()
        if not line.strip():
            continue
        s = line.strip()
        indent = len(line) - len(line.lstrip())
        arrow = s.startswith("->")
        body = s[2:].strip() if arrow else s
        # a node: "->" lines, lines with a (cost=…)/(actual …) group, or the first line of a COSTS OFF plan
        is_node = arrow or bool(_COST.search(body) or _ACTUAL.search(body) or _NEVER.search(body)) or (
            not plan["nodes"] and not _PROP.match(body) and not _LABEL.match(body))
        if is_node:
            pos = indent + (2 if arrow else 0)
            if first_indent is None:
                first_indent = pos
            node = _node_line(body)
            node["_line"] = no
            while stack and stack[-1][0] >= pos:
                stack.pop()
            node["_parent"] = stack[-1][1] if stack else None
            node["_depth"] = len(stack)
            if pending_label:
                kind, name = pending_label
                node["Parent Relationship"] = kind
                node["Subplan Name"] = name
                pending_label = None
            elif node["_parent"] is not None:  # the second plain child of a node is its inner side
                siblings = [x for x in plan["nodes"] if x.get("_parent") == node["_parent"]
                            and x.get("Parent Relationship") in ("Outer", "Inner")]
                node.setdefault("Parent Relationship", "Inner" if siblings else "Outer")
            if not stack and plan["nodes"] and node["_parent"] is None:
                plan["warnings"].append((f"line {no}", "a second top-level node: two plans pasted together? "
                                         "read as siblings"))
            plan["nodes"].append(node)
            stack.append((pos, len(plan["nodes"]) - 1))
            current = node
            section = None
            continue
        m = _LABEL.match(body)
        if m and not body.startswith("CTE Scan"):
            pending_label = ("SubPlan" if m.group(1) == "SubPlan" else "InitPlan",  # CTEs are InitPlans in JSON
                             f"{m.group(1)} {m.group(2)}".strip())
            while stack and stack[-1][0] >= indent + 1:
                stack.pop()
            continue
        m = _PROP.match(body)
        name, value = (m.group(1), m.group(2)) if m else (None, None)
        if name in _SUMMARY or (name and indent <= (first_indent or 0) and name in ("Planning", "JIT", "Settings",
                                                                                   "Query Identifier", "Trigger")):
            key = {"Total runtime": "Execution Time", "Planning time": "Planning Time",
                   "Execution time": "Execution Time"}.get(name, name)
            if key in ("Planning Time", "Execution Time"):
                mm = re.match(r"([\d.]+)\s*ms", value)
                plan[key] = float(mm.group(1)) if mm else value
                section = None
            else:
                section = key
                plan.setdefault(key, value)
            current = None
            continue
        if name and name.startswith("Trigger ") and indent <= (first_indent or 0):
            mm = re.search(r"time=([\d.]+) calls=(\d+)", value)
            plan.setdefault("Triggers", []).append({"Trigger Name": name[len("Trigger "):],
                                                     "Time": float(mm.group(1)) if mm else None,
                                                     "Calls": int(mm.group(2)) if mm else None})
            continue
        if section == "Planning" and name == "Buffers":
            _buffers(value, plan, prefix="Planning ")
            continue
        if section:
            continue
        wm = re.match(r"^Worker (\d+):\s+(.*)$", body)
        if wm and current is not None:
            current.setdefault("Workers", []).append({"Worker Number": int(wm.group(1)), "Text": wm.group(2)})
            continue
        if current is not None and name:
            _property(name, value, current)
        elif current is not None:
            current.setdefault("_extra", []).append(body)  # a wrapped Filter/Output line
        else:
            plan["warnings"].append((f"line {no}", f"not part of a plan node: {s[:60]!r}"))
    if plan["nodes"] and first_indent:
        plan["fragment"] = first_indent > 2 or text.lstrip().startswith("->")
    return plan


def _node_line(body: str) -> dict:
    m_cost, m_act = _COST.search(body), _ACTUAL.search(body)
    cut = min([x.start() for x in (m_cost, m_act, _NEVER.search(body)) if x] or [len(body)])
    node = describe(body[:cut].strip())
    node["_text"] = body[:cut].strip()
    if m_cost:
        node["Startup Cost"], node["Total Cost"] = float(m_cost.group(1)), float(m_cost.group(2))
        node["Plan Rows"], node["Plan Width"] = float(m_cost.group(3)), int(m_cost.group(4))
    if m_act:
        node["Actual Startup Time"], node["Actual Total Time"] = _f(m_act.group(1)), _f(m_act.group(2))
        node["Actual Rows"], node["Actual Loops"] = float(m_act.group(3)), int(m_act.group(4))
    elif _NEVER.search(body):
        node["Actual Loops"] = 0
        node["Actual Rows"] = 0.0
    return node
