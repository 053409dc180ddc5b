"""Content sniffers for the PostgreSQL kinds :func:`forensics.artifact.sniff` does not know by itself
(hooked in through ``forensics/kinds.py``). Each takes the file's first bytes and returns
``(format, evidence)`` or None. Light on purpose: no pandas, nothing but ``re``.

>>> sniff_plan(b" Seq Scan on foo  (cost=0.00..43.90 rows=11 width=4) (actual time=0.010..0.071 rows=5 loops=1)\\n")
('EXPLAIN text', 'plan node lines with (cost=…)/(actual …)')
>>> sniff_log(b"2023-10-18 14:53:56.152 UTC [14344] ERROR:  deadlock detected\\n")[0]
'stderr'
"""
from __future__ import annotations

import re

_NODE = re.compile(rb"(?:^\s*|->\s+)[A-Z][A-Za-z ]+(?: on \S+| using \S+)*\s+\((?:cost=\d|actual (?:time|rows)=)", re.M)
_JSON_PLAN = re.compile(rb'"Plan"\s*:\s*\{[\s+]*"Node Type"')  # psql's table puts '+' at line ends
_YAML_PLAN = re.compile(rb"^\s*-?\s*Plan:\s*\n\s+Node Type:", re.M)
_XML_PLAN = re.compile(rb"<explain xmlns=\"http://www\.postgresql\.org/2009/explain\"")
_SEV = re.compile(rb"(?:^|[\s\]:)>])(LOG|ERROR|WARNING|FATAL|PANIC|DETAIL|STATEMENT|HINT|CONTEXT):  ", re.M)
_STAMP = re.compile(rb"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d")
_PID = re.compile(rb"\[\d{1,7}(?:-\d+)?\]")
_CSVLOG = re.compile(rb'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[.\d]* \w+,[^,\n]*,[^,\n]*,\d+,', re.M)
_JSONLOG = re.compile(rb'^\{"timestamp":"[^"]+","(?:user|pid|dbname)"', re.M)
_ACTIVITY = re.compile(rb"\bpid\b.*\b(?:state|wait_event_type|blocked_by|backend_type|query_start)\b", re.I)
_LOCKS = re.compile(rb"\blocktype\b.*\bmode\b.*\bgranted\b", re.I | re.S)
_PAIRS = re.compile(rb"\bblocked_pid\b.*\bblocking_pid\b|\bblocking_pid\b.*\bblocked_pid\b", re.I)
_CALLS = re.compile(rb"\b(?:ncalls|number[ _]calls)\b", re.I)
_TIME = re.compile(rb"(?:\b|_)exec(?:ution)?[ _]time\b|\btotal_minutes\b", re.I)


def sniff_plan(head: bytes):
    if sniff_log(head):
        return None  # a server log: auto_explain plans inside it are read by the log loader
    if _XML_PLAN.search(head):
        return "EXPLAIN xml", "<explain xmlns=…/2009/explain>"
    if _JSON_PLAN.search(head):
        if re.search(rb"^\s*QUERY PLAN\s*$", head, re.M):
            return "EXPLAIN json (psql)", '"Plan": {"Node Type" … inside psql\'s QUERY PLAN table'
        return "EXPLAIN json", '"Plan": {"Node Type" …'
    if _YAML_PLAN.search(head):
        return "EXPLAIN yaml", "Plan: / Node Type: lines"
    if len(_NODE.findall(head)) >= 1:
        return "EXPLAIN text", "plan node lines with (cost=…)/(actual …)"
    return None


def sniff_log(head: bytes):
    if _JSONLOG.search(head) and b'"error_severity"' in head:
        return "jsonlog", 'one JSON object per line with "timestamp" and "error_severity"'
    if _CSVLOG.search(head):
        return "csvlog", "csvlog rows (log_time, user, database, pid, …)"
    hits = _SEV.findall(head)
    if hits and (_STAMP.search(head) or _PID.search(head)):
        return "stderr", f"{len(hits)} lines with a severity (LOG:/ERROR:/…) after a log_line_prefix"
    return None


def sniff_activity(head: bytes):
    first = head[:8192]
    if re.search(rb"^-\[ RECORD \d+ \]", first, re.M):  # \x on: "name | value" lines
        names = set(re.findall(rb"^([a-z_]+)\s+\|", first, re.M))
        if {b"blocked_pid", b"blocking_pid"} <= names:
            return "blocking pairs (expanded)", "blocked_pid / blocking_pid fields"
        if {b"locktype", b"mode", b"granted"} <= names:
            return "pg_locks (expanded)", "locktype / mode / granted fields"
        if b"pid" in names and names & {b"state", b"wait_event_type", b"query_start", b"blocked_by"}:
            return "pg_stat_activity (expanded)", "pid with state/wait_event/query_start fields"
        return None
    if _PAIRS.search(first):
        return "blocking pairs", "blocked_pid / blocking_pid columns"
    if _LOCKS.search(first):
        return "pg_locks", "locktype / mode / granted columns"
    for line in first.splitlines()[:40]:
        if _ACTIVITY.search(line) and (b"|" in line or b"," in line):
            return "pg_stat_activity", "pid with state/wait_event/query_start columns"
    return None


def looks_like_plan(head: bytes) -> bool:
    """EXPLAIN output (whose Group Key/Filter may name pg_stat_statements columns), not a dump of the view."""
    return bool(_NODE.search(head) or _JSON_PLAN.search(head) or _XML_PLAN.search(head) or _YAML_PLAN.search(head))


def sniff_pgss_paste(head: bytes):
    """pg_stat_statements as tools print it (pg-extras, pghero, inspect db): ncalls/exec_time columns."""
    for line in head[:65536].splitlines()[:400]:
        if _CALLS.search(line) and _TIME.search(line) and (b"|" in line or b"\xe2\x94\x82" in line):
            return "psql aligned (tool output)", "pg-extras/pghero-style columns (ncalls, exec_time, …)"
    return None
