"""PostgreSQL server logs — stderr with any ``log_line_prefix``, csvlog, jsonlog (PG 15+) — into one frame
of entries, each a report with its DETAIL/HINT/CONTEXT/STATEMENT lines kept together.

The stderr prefix is not assumed: the severity word (``LOG:``, ``ERROR:``, ``DETAIL:`` …, followed by
two spaces) ends it, and what the prefix holds is read from its shape — a timestamp (``%m``/``%t``,
any zone; an unknown zone abbreviation is kept local and warned about), ``[pid]`` or ``[pid-n]``,
``user=``/``db=``/``app=``/``client=``, a ``[line-n]`` session line, a SQLSTATE (``%e``). A container
prefix (``dev-postgres-1  | ``) is stripped. Lines starting with a tab continue the entry above.

>>> log = parse_log_text("2023-10-18 14:53:56.152 UTC [14344] ERROR:  deadlock detected\\n"
...                      "2023-10-18 14:53:56.152 UTC [14344] DETAIL:  Process 14344 waits for ShareLock on "
...                      "transaction 4426; blocked by process 14722.\\n")
>>> e = log.entries.iloc[0]; e["severity"], int(e["pid"]), e["event"], str(e["time"])
('ERROR', 14344, 'deadlock', '2023-10-18 14:53:56.152000+00:00')
"""
from __future__ import annotations

import csv
import io
import json
import re
from functools import lru_cache
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..artifact import Provenance
from .log_events import classify

SEVERITIES = ("DEBUG5", "DEBUG4", "DEBUG3", "DEBUG2", "DEBUG1", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR",
              "LOG", "FATAL", "PANIC", "STATEMENT", "DETAIL", "HINT", "CONTEXT", "QUERY", "LOCATION")
_ATTACHED = {"STATEMENT", "DETAIL", "HINT", "CONTEXT", "QUERY", "LOCATION"}
_SEV = re.compile(r"(?:^|(?<=[\s\]:)>]))(" + "|".join(SEVERITIES) + r"):  ")
_STAMP = re.compile(r"(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?)(?: ?([A-Z]{1,5}\d?|[+-]\d\d(?::?\d\d)?))?")
_EPOCH = re.compile(r"(?<![\d.])(1[0-9]{9}\.\d{3})(?![\d.])")
_PID = re.compile(r"\[(\d{1,7})(?:-\d+)?\]")
_KV = re.compile(r"\b(user|usr|db|database|app|application|client|host|remote)=([^\s,;()\[\]]*)")
_LINE_NUM = re.compile(r"\[(\d+)-\d+\]")
_SQLSTATE = re.compile(r"(?<![\w.:-])((?=[0-9A-Z]*[0-9])[0-9A-Z]{5})(?![\w.:-])")
_CLASSES = {"00", "01", "02", "03", "08", "09", "20", "21", "22", "23", "24", "25", "26", "27", "28", "34", "38",
            "39", "40", "42", "44", "53", "54", "55", "57", "58", "72"}
_CONTAINER = re.compile(r"^[\w.-]+\s+\|(?: |$)")
#: Zone abbreviations PostgreSQL prints by default (log_timezone), to UTC offsets in hours.
ZONES = {"UTC": 0, "GMT": 0, "Z": 0, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3, "WET": 0, "WEST": 1, "MSK": 3,
         "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7, "JST": 9,
         "KST": 9, "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13, "HKT": 8, "SGT": 8, "BST": 1}

#: Largest log read whole (the text is held in memory while parsed).
MAX_LOG_BYTES = 2 << 30

CSV_COLUMNS = ["log_time", "user_name", "database_name", "process_id", "connection_from", "session_id",
               "session_line_num", "command_tag", "session_start_time", "virtual_transaction_id", "transaction_id",
               "error_severity", "sql_state_code", "message", "detail", "hint", "internal_query",
               "internal_query_pos", "context", "query", "query_pos", "location", "application_name",
               "backend_type", "leader_pid", "query_id"]
ENTRY_COLUMNS = ["time", "pid", "user", "database", "application", "client", "session_id", "line_num",
                 "severity", "sqlstate", "message", "detail", "hint", "context", "statement", "internal_query",
                 "source"]


@dataclass
class ServerLog:
    """``entries``: one row per report (message + attached lines), classified into ``event`` with fields."""

    entries: pd.DataFrame
    plans: list = field(default_factory=list)   # auto_explain plans (parsed node dicts, with _time/_pid)
    form: str = "stderr"
    prefix_fields: list = field(default_factory=list)


def looks_like_log(text: str) -> bool:
    head = text[:65536]
    if head.lstrip().startswith("{") and '"error_severity"' in head[:4096]:
        return True
    if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[.\d]* \w+,", head.lstrip()):
        return True  # csvlog
    return len(_SEV.findall(head)) >= 1 and bool(_STAMP.search(head) or _PID.search(head)) and \
        not re.search(r"^\s*QUERY PLAN\s*$", head, re.M)


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


def parse_stderr(text: str, prov: Provenance | None = None) -> tuple[list[dict], list]:
    """Entries of a stderr log (each ``{"fields": ..., "severity", "message", attached...}``)."""
    lines = text.split("\n")
    container = None
    sample = [ln for ln in lines[:50] if ln.strip()]
    if sample and all(_CONTAINER.match(ln) for ln in sample):
        container = re.compile(r"^[\w.-]+\s+\| ?")  # docker compose: "service-1  | "
    entries: list[dict] = []
    last_primary: dict | None = None
    current: dict | None = None   # the entry (or attached part) continuation lines belong to
    current_key = "message"
    for no, raw in enumerate(lines, start=1):
        line = container.sub("", raw, count=1) if container else raw
        if not line.strip():
            if current is not None and current_key in ("message", "statement", "detail", "context", "query"):
                current[current_key] = current.get(current_key, "") + "\n"
            continue
        m = _SEV.search(line)
        if m and not line.startswith("\t") and not (current is not None and line.startswith(" ") and
                                                  m.start() > 40):
            prefix, sev, msg = line[:m.start()], m.group(1), line[m.end():]
            f = prefix_fields(prefix)
            if sev in _ATTACHED and last_primary is not None and (f.get("pid") is None or
                                                                  f.get("pid") == last_primary["fields"].get("pid")):
                key = {"STATEMENT": "statement", "DETAIL": "detail", "HINT": "hint", "CONTEXT": "context",
                       "QUERY": "internal_query", "LOCATION": "location"}[sev]
                last_primary[key] = msg if key not in last_primary else last_primary[key] + "\n" + msg
                current, current_key = last_primary, key
                continue
            entry = {"fields": f, "severity": sev, "message": msg, "source": no}
            entries.append(entry)
            last_primary = current = entry
            current_key = "message"
            continue
        if current is not None:  # a continuation (tab-indented, or a wrapped line)
            body = line[1:] if line.startswith("\t") else line
            current[current_key] = current.get(current_key, "") + "\n" + body
        elif prov is not None and not entries:
            continue  # text before the first entry (a banner, a paste's command line)
    for e in entries:
        for k in ("message", "statement", "detail", "context", "internal_query"):
            if isinstance(e.get(k), str):
                e[k] = e[k].rstrip("\n")
    return entries, []


def _entries_frame(entries: list[dict], prov, warned) -> pd.DataFrame:
    n = len(entries)
    f = [e["fields"] for e in entries]
    stamps = [x.get("stamp") for x in f]
    if any(s is not None for s in stamps):
        time = _to_utc(stamps, [x.get("zone") for x in f], prov, warned)
    else:
        ep = [x.get("epoch") for x in f]
        time = pd.to_datetime(pd.Series(ep, dtype="float"), unit="s", utc=True)
    df = pd.DataFrame({
        "time": time.reset_index(drop=True),
        "pid": pd.array([x.get("pid") for x in f], dtype="Int64"),
        "user": pd.Series([x.get("user") for x in f], dtype="str"),
        "database": pd.Series([x.get("db") for x in f], dtype="str"),
        "application": pd.Series([x.get("app") for x in f], dtype="str"),
        "client": pd.Series([x.get("client") for x in f], dtype="str"),
        "session_id": pd.Series([x.get("session_id") for x in f], dtype="str"),
        "line_num": pd.array([x.get("line_num") for x in f], dtype="Int64"),
        "severity": [e["severity"] for e in entries],
        "sqlstate": pd.Series([x.get("sqlstate") for x in f], dtype="str"),
        **{k: pd.Series([e.get(k) for e in entries], dtype="str")
           for k in ("message", "detail", "hint", "context", "statement", "internal_query")},
        "source": [e.get("source") for e in entries],
    }, index=range(n))
    return df


def parse_csvlog(text: str, prov: Provenance | None = None) -> pd.DataFrame:
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, lines = [], []
    end = 0  # the line the previous record ended on: a record (with its multi-line fields) starts after it
    try:
        for row in reader:
            start, end = end + 1, reader.line_num
            if not row:
                continue
            if len(row) < 22:
                if prov is not None:
                    prov.warn(f"line {start}", f"{len(row)} fields where csvlog has 22 to 26; skipped")
                continue
            rows.append(row + [""] * (26 - len(row)))
            lines.append(start)
    except csv.Error as e:
        if prov is not None:
            prov.warn(f"line {reader.line_num}", f"csvlog cut short ({e}); entries after it are lost")
    raw = pd.DataFrame([r[:26] for r in rows], columns=CSV_COLUMNS)
    nul = lambda s: s.replace("", None)  # noqa: E731
    return pd.DataFrame({
        "time": pd.to_datetime(raw["log_time"].str.replace(r" ([A-Z]{2,5})$", "", regex=True), errors="coerce",
                               format="ISO8601").dt.tz_localize("UTC") if len(raw) else pd.Series([], dtype="datetime64[ns, UTC]"),
        "pid": pd.array(pd.to_numeric(raw["process_id"], errors="coerce"), dtype="Int64"),
        "user": nul(raw["user_name"]), "database": nul(raw["database_name"]),
        "application": nul(raw["application_name"]), "client": nul(raw["connection_from"]),
        "session_id": nul(raw["session_id"]),
        "line_num": pd.array(pd.to_numeric(raw["session_line_num"], errors="coerce"), dtype="Int64"),
        "severity": raw["error_severity"], "sqlstate": nul(raw["sql_state_code"]), "message": raw["message"],
        "detail": nul(raw["detail"]), "hint": nul(raw["hint"]), "context": nul(raw["context"]),
        "statement": nul(raw["query"]), "internal_query": nul(raw["internal_query"]), "source": lines,
    })


def parse_jsonlog(text: str, prov: Provenance | None = None) -> pd.DataFrame:
    objs, lines = [], []
    for no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            o = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            if prov is not None:
                prov.warn(f"line {no}", "not a JSON object (jsonlog line cut short?); skipped")
            continue
        if isinstance(o, dict):
            objs.append(o)
            lines.append(no)
    g = lambda k: pd.Series([o.get(k) for o in objs], dtype="str")  # noqa: E731
    stamps = [o.get("timestamp") for o in objs]
    return pd.DataFrame({
        "time": _to_utc([re.sub(r" [A-Z]{2,5}$", "", s) if isinstance(s, str) else None for s in stamps],
                        [(_STAMP.search(s).group(2) if isinstance(s, str) and _STAMP.search(s) else None)
                         for s in stamps], prov, set()),
        "pid": pd.array([o.get("pid") for o in objs], dtype="Int64"), "user": g("user"), "database": g("dbname"),
        "application": g("application_name"), "client": g("remote_host"), "session_id": g("session_id"),
        "line_num": pd.array([o.get("line_num") for o in objs], dtype="Int64"),
        "severity": [o.get("error_severity") for o in objs], "sqlstate": g("state_code"), "message": g("message"),
        "detail": g("detail"), "hint": g("hint"), "context": g("context"), "statement": g("statement"),
        "internal_query": g("internal_query"), "source": lines,
    })


def detect_log_form(text: str) -> str:
    s = text.lstrip()
    if s.startswith("{") and '"error_severity"' in s[:4096]:
        return "jsonlog"
    if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[.\d]* \w+,", s) and s.split("\n", 1)[0].count(",") >= 12:
        return "csvlog"
    return "stderr"


def parse_log_text(text: str, prov: Provenance | None = None) -> ServerLog:
    """Entries (classified, see :mod:`.log_events`) and auto_explain plans of a log in any of the three forms."""
    form = detect_log_form(text)
    warned: set = set()
    if form == "jsonlog":
        df = parse_jsonlog(text, prov)
    elif form == "csvlog":
        df = parse_csvlog(text, prov)
    else:
        entries, _ = parse_stderr(text, prov)
        df = _entries_frame(entries, prov, warned)
    for c in ("message", "detail", "statement", "context", "hint", "internal_query"):
        df[c] = df[c].where(df[c].notna() & (df[c] != "None"), None)
    df["sqlstate_source"] = np.where(df["sqlstate"].notna(), "logged", None)
    events, plans = classify(df, form)
    out = pd.concat([df.reset_index(drop=True), events.reset_index(drop=True)], axis=1)
    if prov is not None:
        prov.details["log_form"] = form
    return ServerLog(out, plans, form)


@dataclass
class LogDump:
    """A loaded server log: ``entries`` (see :data:`ENTRY_COLUMNS` and :mod:`.log_events`), the auto_explain
    plans as a node frame (``plans``, a :class:`~forensics.postgres.plan.PlanDump` or None)."""

    entries: pd.DataFrame
    plans: object
    form: str
    provenance: Provenance

    def __repr__(self) -> str:
        import os

        return (f"LogDump({len(self.entries)} entries, {self.form}, "
                f"{0 if self.plans is None else len(self.plans.plans)} plans, {os.path.basename(self.provenance.path)})")


def load_log(path, **_ignored) -> LogDump:
    """A PostgreSQL server log (stderr with any prefix, csvlog, jsonlog). Raises only ArtifactError."""
    from ..artifact import provenance_for
    from ..errors import ArtifactError
    from ..progress import progress
    from .plan import from_parsed, read_text

    prov = provenance_for(path, parser="forensics.postgres.serverlog")
    with progress(prov.size, "reading server log", size_bytes=prov.size) as bar:
        text = read_text(path, prov, limit=MAX_LOG_BYTES)
        bar.update(prov.size)
    if not looks_like_log(text):
        raise ArtifactError(path, None, "not a PostgreSQL server log: no line with a severity ('LOG:  ', "
                            "'ERROR:  ' …) after a timestamp or [pid] prefix, nor csvlog/jsonlog")
    log = parse_log_text(text, prov)
    e = log.entries
    bad = e[(e["event"] == "auto_explain") & e["plan_no"].isna()]
    for r in bad.head(20).itertuples():
        prov.warn(f"line {r.source}", "an auto_explain plan that cannot be read (cut short?); its duration is kept")
    prov.kind, prov.format = "pg_log", log.form
    plans = None
    if log.plans:
        import dataclasses

        sub = dataclasses.replace(prov, kind="pg_plan", format="auto_explain", parser="forensics.postgres.plan",
                                  warnings=[], details={})  # same file and hash, the plans' own warnings
        plans = from_parsed(log.plans, sub, "auto_explain")
    prov.attach(e)
    return LogDump(e, plans, log.form, prov)
