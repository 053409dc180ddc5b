"""The ``log_line_prefix`` of a stderr log, read from its shape: a timestamp (``%m``/``%t``, any zone; an
unknown zone abbreviation is kept local and warned about), ``[pid]`` or ``[pid-n]``, ``user=``/``db=``/
``app=``/``client=``, ``user@db/app``, ``(app,host)``, a ``[line-n]`` session line, a SQLSTATE (``%e``).
"""
from __future__ import annotations

import re
from functools import lru_cache

import pandas as pd

from ..artifact import Provenance

_STAMP = re.compile(r"(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?)(?: ?([A-Z]{1,5}\d?|[+-]\d\d(?::?\d\d)?))?")
_EPOCH = re.compile(r"(?<![\d.])(1[0-9]{9}\.\d{3})(?![\d.])")
_PID = re.compile(r"\[(\d{1,7})(?:-\d+)?\]")
_KV = re.compile(r"\b(user|usr|db|database|app|application|client|host|remote)=([^\s,;()\[\]]*)")
_LINE_NUM = re.compile(r"\[(\d+)-\d+\]")
_SQLSTATE = re.compile(r"(?<![\w.:-])((?=[0-9A-Z]*[0-9])[0-9A-Z]{5})(?![\w.:-])")
_CLASSES = {"00", "01", "02", "03", "08", "09", "20", "21", "22", "23", "24", "25", "26", "27", "28", "34", "38",
            "39", "40", "42", "44", "53", "54", "55", "57", "58", "72"}
#: Zone abbreviations PostgreSQL prints by default (log_timezone), to UTC offsets in hours.
ZONES = {"UTC": 0, "GMT": 0, "Z": 0, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3, "WET": 0, "WEST": 1, "MSK": 3,
         "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7, "JST": 9,
         "KST": 9, "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13, "HKT": 8, "SGT": 8, "BST": 1}


def _zone_offset(zone: str | None, prov: Provenance | None, warned: set):
    if not zone:
        return None
    if zone[0] in "+-":
        z = zone.replace(":", "")
        h, m = int(z[1:3]), int(z[3:5] or 0) if len(z) >= 5 else 0
        return (1 if zone[0] == "+" else -1) * (h * 60 + m)
    if zone in ZONES:
        return ZONES[zone] * 60
    if prov is not None and zone not in warned:
        warned.add(zone)
        prov.warn(None, f"time zone {zone!r} is not one this reader knows; its times are kept as local times "
                  "(not converted to UTC)")
    return None


def _to_utc(stamps: list, zones: list, prov, warned) -> pd.Series:
    """UTC times; a stamp whose zone is unknown keeps its local clock reading (warned about once)."""
    base = pd.to_datetime(pd.Series(stamps, dtype=object), errors="coerce", format="ISO8601")
    offs = pd.Series([_zone_offset(z, prov, warned) for z in zones], dtype="float")
    return (base - pd.to_timedelta(offs.fillna(0), unit="m")).dt.tz_localize("UTC")


# the usual layouts (%m/%t, then [%p] or [%p-%l] or [%p]: [%l-1]) in one match; the rest is cached by its text
_FAST = re.compile(r"^(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?)(?: ?([A-Z]{1,5}\d?|[+-]\d\d(?::?\d\d)?))? "
                   r"\[(\d{1,7})(?:-(\d+))?\]:?(?: \[(\d+)-\d+\])? ?(.*)$", re.S)
_USER_AT_DB = re.compile(r"(?<![\w.@])([\w$.-]+)@([\w$.-]+)(?:/([^\s]*))?")


@lru_cache(maxsize=4096)
def _rest_fields(rest: str) -> tuple:
    """Fields of the prefix after stamp and pid (user=…, db=…, user@db/app, (app,host), %e) — repeated text."""
    if not rest.strip():
        return ()
    d = {k: v for k, v in _prefix_fields(rest, with_stamp=False, pid_known=True).items()
         if k not in ("pid", "line_num")}
    if "user" not in d:
        m = _USER_AT_DB.search(rest)
        if m and "=" not in m.group(0):
            d["user"], d["db"] = m.group(1), m.group(2)
            if m.group(3) and "app" not in d:
                d["app"] = m.group(3)
    return tuple((k, v) for k, v in d.items() if v != "[unknown]")


def prefix_fields(prefix: str) -> dict:
    """What a log_line_prefix holds (see the module docstring); the usual layouts take a fast path.

    >>> prefix_fields("2026-12-01 09:58:05.045 UTC [7953] postgres@shop/checkout 00000 ")["app"]
    'checkout'
    """
    m = _FAST.match(prefix)
    if m is None:
        d = _prefix_fields(prefix)
        u = _USER_AT_DB.search(prefix) if "user" not in d else None
        if u and "=" not in u.group(0):
            d["user"], d["db"] = u.group(1), u.group(2)
            if u.group(3) and "app" not in d:
                d["app"] = u.group(3)
        return d
    d = {"stamp": m.group(1), "zone": m.group(2), "pid": int(m.group(3))}
    line = m.group(4) or m.group(5)
    if line:
        d["line_num"] = int(line)
    d.update(_rest_fields(m.group(6)))
    return d


def _prefix_fields(prefix: str, with_stamp: bool = True, pid_known: bool = False) -> dict:
    d: dict = {}
    m = _STAMP.search(prefix) if with_stamp else None
    if m:
        d["stamp"], d["zone"] = m.group(1), m.group(2)
        rest = prefix[:m.start()] + " " + prefix[m.end():]
    else:
        rest = prefix
        e = _EPOCH.search(prefix)
        if e:
            d["epoch"] = float(e.group(1))
    m = _PID.search(rest)
    if m:
        d["pid"] = int(m.group(1))
        rest = rest[:m.start()] + rest[m.end():]
    m = _LINE_NUM.search(rest)
    if m:
        d["line_num"] = int(m.group(1))
    for k, v in _KV.findall(rest):
        key = {"usr": "user", "database": "db", "application": "app", "host": "client", "remote": "client"}.get(k, k)
        if v and v != "[unknown]":
            d.setdefault(key, v)
    m = re.search(r"\(([^,()\s]+),([^()\s]*)\)", rest)  # "(psql,[local])": %a,%r in parentheses
    if m and "app" not in d:
        d["app"], d["client"] = m.group(1), m.group(2)
    d = {k: v for k, v in d.items() if v != "[unknown]"}
    rest2 = _KV.sub(" ", _LINE_NUM.sub(" ", rest))
    m = _SQLSTATE.search(rest2)  # %e: 5 characters, a class of digits or letters (00000, 40P01, XX000, P0001)
    if m and (not m.group(1).isdigit() or (("pid" in d or pid_known) and m.group(1)[:2] in _CLASSES)):
        d["sqlstate"] = m.group(1)
    if "pid" not in d:  # "%p" without brackets: a bare number in the prefix
        m2 = re.search(r"(?<![\w.:-])(\d{1,7})(?![\w.:-])", rest2)
        if m2 and m2.group(1) != d.get("sqlstate"):
            d["pid"] = int(m2.group(1))
    return d
