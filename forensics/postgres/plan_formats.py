"""EXPLAIN's JSON, YAML and XML formats → the same node dicts as :mod:`.plan_text`.

YAML is read with ``yaml.safe_load`` only (no tags, no objects); XML with a parser that refuses
DTDs and entities (a plan never has one; a billion-laughs file is refused, not expanded).

>>> p = parse_structured('[{"Plan": {"Node Type": "Seq Scan", "Relation Name": "t", "Plans": []}, "Execution Time": 1.5}]')
>>> [n["Node Type"] for n in p[0]["nodes"]], p[0]["Execution Time"]
(['Seq Scan'], 1.5)
"""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

_XML_NS = re.compile(r"^\{[^}]*\}")


class PlanFormatError(ValueError):
    """The text is not a plan of the format it claims."""


def detect_plan_format(text: str) -> str:
    s = text.lstrip("\ufeff \t\r\n")
    if s[:1] in "[{":
        return "json"
    if s.startswith("<"):
        return "xml"
    if re.match(r"^-\s+Plan:\s*$", s, re.M) or s.startswith("- Plan:") or s.startswith("Plan:"):
        return "yaml"
    return "text"


def _walk(plan: dict, out: list, parent: int | None, depth: int) -> None:
    node = {k: v for k, v in plan.items() if k != "Plans"}
    node["_parent"], node["_depth"] = parent, depth
    out.append(node)
    me = len(out) - 1
    for child in plan.get("Plans") or []:
        if isinstance(child, dict):
            _walk(child, out, me, depth + 1)


def _plans_of(doc) -> list[dict]:
    """Each ``{"Plan": ...}`` of an EXPLAIN document (a list of them, one, or auto_explain's object)."""
    if isinstance(doc, dict):
        doc = [doc]
    if not isinstance(doc, list):
        raise PlanFormatError("neither a list nor an object")
    out = []
    for item in doc:
        if isinstance(item, list):  # psql -At of several EXPLAINs
            out.extend(_plans_of(item))
        elif isinstance(item, dict) and isinstance(item.get("Plan"), dict):
            top = {k: v for k, v in item.items() if k != "Plan"}
            nodes: list = []
            _walk(item["Plan"], nodes, None, 0)
            top["nodes"], top["warnings"] = nodes, []
            out.append(top)
    if not out:
        raise PlanFormatError('no "Plan" object')
    return out


def _xml_value(el):
    kids = list(el)
    if not kids:
        t = (el.text or "").strip()
        for conv in (int, float):
            try:
                return conv(t)
            except ValueError:
                pass
        return {"true": True, "false": False}.get(t, t)
    tag = lambda e: _XML_NS.sub("", e.tag).replace("-", " ")  # noqa: E731
    if tag(el) == "Plans":
        return [_xml_value(k) for k in kids]
    if all(tag(k) == "Item" for k in kids):  # Output / Group Key lists
        return [(_xml_value(k)) for k in kids]
    return {tag(k): _xml_value(k) for k in kids}


def parse_structured(text: str, fmt: str | None = None) -> list[dict]:
    """Plans of a JSON, YAML or XML EXPLAIN document; :class:`PlanFormatError` when it is not one."""
    fmt = fmt or detect_plan_format(text)
    if fmt == "json":
        try:
            doc = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as e:
            raise PlanFormatError(f"JSON: {e}") from None
    elif fmt == "yaml":
        import yaml

        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise PlanFormatError(f"YAML: {str(e).splitlines()[0]}") from None
    elif fmt == "xml":
        if re.search(r"<!(?:DOCTYPE|ENTITY)", text[:4096], re.I):
            raise PlanFormatError("XML with a DTD or entity declarations; EXPLAIN never writes one (refused)")
        try:
            root = ET.fromstring(text)
        except ET.ParseError as e:
            raise PlanFormatError(f"XML: {e}") from None
        queries = [q for q in root.iter() if _XML_NS.sub("", q.tag) == "Query"] or [root]
        doc = [_xml_value(q) for q in queries]
    else:
        raise PlanFormatError(f"not a structured format: {fmt}")
    return _plans_of(doc)
