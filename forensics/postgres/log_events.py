"""What each server-log entry is: a slow statement, an error, a lock wait, a deadlock, a temp file, a
checkpoint, an auto_explain plan, a connection, autovacuum — with its numbers pulled out.

Messages are matched in the server's own (English) wording, PostgreSQL 9.6–18. An error's SQLSTATE
is the logged one (csvlog/jsonlog, ``%e`` in the prefix) or, for a handful of unambiguous messages,
inferred from the text (``sqlstate_source = "inferred from message"``); otherwise it is unknown.
"""
from __future__ import annotations

import re

import pandas as pd

_DURATION = re.compile(r"^duration: ([\d.]+) ms(?:\s+(statement|execute|parse|bind|plan)([^:]*):\s?(.*))?$", re.S)
_STATEMENT = re.compile(r"^(statement|execute [^:]*|parse [^:]*|bind [^:]*):\s?(.*)$", re.S)
_WAIT = re.compile(r"^process (\d+) (still waiting for|acquired|avoided deadlock for|detected deadlock while "
                   r"waiting for) (\w+) on (.+?) after ([\d.]+) ms")
_HOLDERS = re.compile(r"Process(?:es)? holding the lock: ([\d, ]+)\.(?: Wait queue: ([\d, ]*)\.)?")
_DEADLOCK_EDGE = re.compile(r"Process (\d+) waits for (\w+) on (.+?); blocked by process (\d+)\.")
_DEADLOCK_STMT = re.compile(r"^[ \t]*Process (\d+):[ \t]?(.*?)(?=^[ \t]*Process \d+:|\Z)", re.S | re.M)
_TEMP = re.compile(r'^temporary file: path "([^"]+)", size (\d+)')
_CKPT_START = re.compile(r"^(checkpoint|restartpoint) starting: (.*)$")
_CKPT_DONE = re.compile(r"^(checkpoint|restartpoint) complete: wrote (\d+) buffers.*?write=([\d.]+) s, "
                        r"sync=([\d.]+) s, total=([\d.]+) s", re.S)
_CONN_RECV = re.compile(r"^connection received: host=(\S+)(?: port=(\d+))?")
_CONN_AUTH = re.compile(r"^connection authori[sz]ed: user=(\S+)(?: database=(\S+))?")
_DISCONNECT = re.compile(r"^disconnection: session time: (\d+):(\d\d):(\d\d(?:\.\d+)?) user=(\S+) database=(\S+)")
_AUTOVAC = re.compile(r'^automatic (?:aggressive )?(vacuum|analyze)(?: to prevent wraparound)? of table "([^"]+)"(.*?)(?:elapsed: ([\d.]+) s)?', re.S)
_ELAPSED = re.compile(r"elapsed: ([\d.]+) s")
_SERVER = re.compile(r"^(database system is (?:ready to accept (?:read-only )?connections|shut down|starting up)|"
                     r"received (?:fast|smart|immediate) shutdown request|server process \(PID \d+\) .*|"
                     r"all server processes terminated; reinitializing|database system was (?:interrupted|shut down).*|"
                     r"starting PostgreSQL .*)")
#: Unambiguous messages and their SQLSTATE (errcodes.txt).
INFERRED = [
    ("deadlock detected", "40P01"), ("duplicate key value violates unique constraint", "23505"),
    ("division by zero", "22012"), ("syntax error at or near", "42601"),
    ("canceling statement due to statement timeout", "57014"), ("canceling statement due to lock timeout", "55P03"),
    ("canceling statement due to user request", "57014"), ("could not serialize access", "40001"),
    ("violates foreign key constraint", "23503"), ("violates not-null constraint", "23502"),
    ("violates check constraint", "23514"), ("password authentication failed", "28P01"),
    ("sorry, too many clients already", "53300"), ("remaining connection slots are reserved", "53300"),
    ("terminating connection due to administrator command", "57P01"),
    ("terminating connection due to idle-in-transaction timeout", "25P03"),
    ("could not obtain lock on", "55P03"), ("out of shared memory", "53200"),
    ("current transaction is aborted", "25P02"), ("invalid input syntax for", "22P02"),
]
_INFER_RES = [(re.compile(r"(?:^|\W)" + re.escape(t)), code) for t, code in INFERRED]
_REL_MISSING = re.compile(r'^relation "[^"]+" does not exist')
_COL_MISSING = re.compile(r'^column "[^"]+" (?:of relation "[^"]+" )?does not exist')

EVENT_COLUMNS = ["event", "duration_ms", "query", "lock_mode", "lock_target", "wait_ms", "holders", "wait_queue",
                 "deadlock_pids", "deadlock_statements", "temp_bytes", "checkpoint_reason", "buffers_written",
                 "write_s", "sync_s", "total_s", "table", "elapsed_s", "session_ms", "plan_no", "sqlstate_inferred"]


def infer_sqlstate(message: str | None) -> str | None:
    if not message:
        return None
    for rx, code in _INFER_RES:
        if rx.search(message):
            return code
    if _REL_MISSING.match(message):
        return "42P01"
    if _COL_MISSING.match(message):
        return "42703"
    return None


def _auto_explain(body: str, entry) -> dict | None:
    """The plan of an auto_explain message (the text after ``plan:``), with its query text."""
    from .plan_formats import PlanFormatError, detect_plan_format, parse_structured
    from .plan_text import parse_text_plan

    text = body.strip("\n")
    lead = len(body) - len(body.lstrip("\n"))
    fmt = detect_plan_format(text)
    try:
        if fmt != "text":
            plans = parse_structured(text, fmt)
            plan = plans[0] if plans else None
        else:
            lines = text.split("\n")
            query, start = [], 0
            if lines and lines[0].startswith("Query Text:"):
                query.append(lines[0][len("Query Text:"):].strip())
                start = 1
                while start < len(lines) and not re.search(r"\((?:cost|actual)[ =]|\(never executed\)", lines[start]):
                    query.append(lines[start])
                    start += 1
            plan = parse_text_plan("\n".join(lines[start:]))
            plan["Query Text"] = "\n".join(query) or None
            plan["_body_offset"] = lead + start  # lines of the message body before the plan's first node
            if not plan["nodes"]:
                return None
    except (PlanFormatError, RecursionError, ValueError, KeyError, TypeError):
        return None
    return plan


def _file_lines(plan: dict, source, before: int, form: str) -> None:
    """Each text-plan node's ``_line`` (counted within its plan) → its line in the log file: the entry's
    line, plus the message lines before the plan (a jsonlog entry is one line; a structured plan has none)."""
    for n in plan["nodes"]:
        rel = n.get("_line")
        if source is None or pd.isna(source) or rel is None:
            n["_line"] = None
        elif form == "jsonlog":
            n["_line"] = int(source)
        else:
            n["_line"] = int(source) + before + plan.get("_body_offset", 0) + int(rel) - 1


def classify(df: pd.DataFrame, form: str = "stderr") -> tuple[pd.DataFrame, list]:
    """One row of event fields per entry (aligned with ``df``), and the auto_explain plans found."""
    n = len(df)
    cols = {c: [None] * n for c in EVENT_COLUMNS}
    plans = []
    text = lambda c: [x if isinstance(x, str) else None for x in df[c]]  # noqa: E731  (NaN → None)
    msgs, sevs, details, stmts = text("message"), text("severity"), text("detail"), text("statement")
    for i in range(n):
        msg, sev = msgs[i] or "", sevs[i]
        detail, stmt = details[i], stmts[i]
        ev = "other"
        if sev in ("ERROR", "FATAL", "PANIC"):
            ev = "deadlock" if msg.startswith("deadlock detected") else "error"
            cols["sqlstate_inferred"][i] = infer_sqlstate(msg)
            cols["query"][i] = stmt
            if ev == "deadlock" and detail:
                edges = _DEADLOCK_EDGE.findall(detail)
                cols["deadlock_pids"][i] = ",".join(dict.fromkeys(p for e in edges for p in (e[0], e[3])))
                st = {p: s.strip() for p, s in _DEADLOCK_STMT.findall(detail)}
                if st:
                    cols["deadlock_statements"][i] = "\n---\n".join(f"{p}: {s}" for p, s in st.items())
                if edges:
                    cols["lock_mode"][i], cols["lock_target"][i] = edges[0][1], edges[0][2]
        elif (m := _DURATION.match(msg)):
            cols["duration_ms"][i] = float(m.group(1))
            kind, rest = m.group(2), m.group(4)
            if kind == "plan":
                ev = "auto_explain"
                plan = _auto_explain(rest or "", df.iloc[i])
                if plan is not None:
                    plan["_time"], plan["_pid"] = df["time"].iloc[i], df["pid"].iloc[i]
                    plan["_duration_ms"], plan["_source"] = float(m.group(1)), df["source"].iloc[i]
                    _file_lines(plan, plan["_source"], msg[:m.start(4)].count("\n"), form)
                    cols["plan_no"][i] = len(plans)
                    cols["query"][i] = plan.get("Query Text")
                    plans.append(plan)
            else:
                ev = "duration"
                cols["query"][i] = rest.strip() if kind and rest else stmt
        elif (m := _WAIT.match(msg)):
            ev = {"still waiting for": "lock_wait", "acquired": "lock_acquired",
                  "avoided deadlock for": "lock_wait", "detected deadlock while waiting for": "deadlock_wait"}[m.group(2)]
            cols["lock_mode"][i], cols["lock_target"][i], cols["wait_ms"][i] = m.group(3), m.group(4), float(m.group(5))
            h = _HOLDERS.search(detail or "")
            if h:
                cols["holders"][i] = ",".join(x.strip() for x in h.group(1).split(",") if x.strip())
                cols["wait_queue"][i] = ",".join(x.strip() for x in (h.group(2) or "").split(",") if x.strip()) or None
            cols["query"][i] = stmt
        elif (m := _TEMP.match(msg)):
            ev, cols["temp_bytes"][i], cols["query"][i] = "temp_file", int(m.group(2)), stmt
        elif (m := _CKPT_START.match(msg)):
            ev, cols["checkpoint_reason"][i] = f"{m.group(1)}_start", m.group(2).strip()
        elif (m := _CKPT_DONE.match(msg)):
            ev = f"{m.group(1)}_complete"
            cols["buffers_written"][i] = int(m.group(2))
            cols["write_s"][i], cols["sync_s"][i], cols["total_s"][i] = map(float, m.group(3, 4, 5))
        elif (m := _CONN_RECV.match(msg)):
            ev = "connection_received"
        elif (m := _CONN_AUTH.match(msg)):
            ev = "connection_authorized"
        elif (m := _DISCONNECT.match(msg)):
            ev = "disconnection"
            h, mi, s = m.group(1, 2, 3)
            cols["session_ms"][i] = (int(h) * 3600 + int(mi) * 60 + float(s)) * 1000
        elif (m := _AUTOVAC.match(msg)):
            ev, cols["table"][i] = f"auto{m.group(1)}", m.group(2)
            e = _ELAPSED.search(msg)
            cols["elapsed_s"][i] = float(e.group(1)) if e else None
        elif (m := _STATEMENT.match(msg)) and sev == "LOG":
            ev, cols["query"][i] = "statement", m.group(2)
        elif _SERVER.match(msg):
            ev = "server"
        elif sev == "WARNING":
            ev = "warning"
        cols["event"][i] = ev
    out = pd.DataFrame(cols)
    for c in ("duration_ms", "wait_ms", "write_s", "sync_s", "total_s", "elapsed_s", "session_ms"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    for c in ("temp_bytes", "buffers_written", "plan_no"):
        out[c] = pd.array(out[c], dtype="Int64")
    for c in ("query", "lock_mode", "lock_target", "holders", "wait_queue", "deadlock_pids", "deadlock_statements",
              "checkpoint_reason", "table", "sqlstate_inferred"):
        out[c] = pd.Series(out[c], dtype="str")
    return out, plans


def error_code(entries: pd.DataFrame) -> pd.Series:
    """The SQLSTATE of each entry: logged, else inferred from the message, else missing."""
    logged = entries["sqlstate"].where(entries["sqlstate"].notna() & (entries["sqlstate"] != "00000"))
    return logged.fillna(entries["sqlstate_inferred"])
