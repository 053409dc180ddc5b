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
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..artifact import Provenance
from .log_events import classify
from .log_prefix import _PID, _STAMP, ZONES, _to_utc, prefix_fields  # noqa: F401  (ZONES, prefix_fields: the API)

SEVERITIES = ("DEBUG5", "DEBUG4", "DEBUG3", "DEBUG2", "DEBUG1", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR",
              "LOG", "FATAL", "PANIC", "STATEMENT", "DETAIL", "HINT", "CONTEXT", "QUERY", "LOCATION")
_ATTACHED = {"STATEMENT", "DETAIL", "HINT", "CONTEXT", "QUERY", "LOCATION"}
_SEV = re.compile(r"(?:^|(?<=[\s\]:)>]))(" + "|".join(SEVERITIES) + r"):  ")
_CONTAINER = re.compile(r"^[\w.-]+\s+\|(?: |$)")
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


_ATTACHED_KEY = {"STATEMENT": "statement", "DETAIL": "detail", "HINT": "hint", "CONTEXT": "context",
                 "QUERY": "internal_query", "LOCATION": "location"}


class StderrParser:
    """A stderr log read line by line, in as many pieces as one likes: :meth:`feed` takes the next lines
    and returns the entries that are complete (a later line can still attach to the last one, so it is
    held back); :meth:`finish` returns the rest. Each entry is ``{"fields", "severity", "message",
    "source", attached...}``."""

    def __init__(self):
        self.container = None
        self.started = False
        self.entries: list[dict] = []
        self.last_primary: dict | None = None
        self.current: dict | None = None   # the entry (or attached part) continuation lines belong to
        self.current_key = "message"

    def feed(self, lines: list[str], first_no: int) -> list[dict]:
        if not self.started:
            self.started = True
            sample = [ln for ln in lines[:50] if ln.strip()]
            if sample and all(_CONTAINER.match(ln) for ln in sample):
                self.container = re.compile(r"^[\w.-]+\s+\| ?")  # docker compose: "service-1  | "
        container, entries = self.container, self.entries
        last_primary, current, current_key = self.last_primary, self.current, self.current_key
        for no, raw in enumerate(lines, start=first_no):
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
                if sev in _ATTACHED and last_primary is not None and (
                        f.get("pid") is None or f.get("pid") == last_primary["fields"].get("pid")):
                    key = _ATTACHED_KEY[sev]
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
            # text before the first entry (a banner, a paste's command line) is not an entry
        self.last_primary, self.current, self.current_key = last_primary, current, current_key
        done, self.entries = entries[:-1], entries[-1:]
        return _trimmed(done)

    def finish(self) -> list[dict]:
        done, self.entries = self.entries, []
        return _trimmed(done)


def _trimmed(entries: list[dict]) -> list[dict]:
    for e in entries:
        for k in ("message", "statement", "detail", "context", "internal_query"):
            if isinstance(e.get(k), str):
                e[k] = e[k].rstrip("\n")
    return entries


def parse_stderr(text: str, prov: Provenance | None = None) -> tuple[list[dict], list]:
    """Entries of a stderr log (each ``{"fields": ..., "severity", "message", attached...}``)."""
    parser = StderrParser()
    return parser.feed(text.split("\n"), 1) + parser.finish(), []


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


def csv_rows(reader, prov: Provenance | None, rows: list, lines: list, batch: int | None = None):
    """Read csvlog records from ``reader`` into ``rows``/``lines`` (their first line); with ``batch``, yield
    after every ``batch`` records (the caller empties the lists). A cut record is a located warning."""
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
            if batch and len(rows) >= batch:
                yield
    except csv.Error as e:
        if prov is not None:
            prov.warn(f"line {reader.line_num}", f"csvlog cut short ({e}); entries after it are lost")


def csv_frame(rows: list, lines: list) -> pd.DataFrame:
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
        "statement": nul(raw["query"]), "internal_query": nul(raw["internal_query"]), "source": list(lines),
    })


def parse_csvlog(text: str, prov: Provenance | None = None) -> pd.DataFrame:
    rows, lines = [], []
    for _ in csv_rows(csv.reader(io.StringIO(text, newline="")), prov, rows, lines):
        pass
    return csv_frame(rows, lines)


def json_objects(lines, first_no: int, prov: Provenance | None, objs: list, nos: list) -> None:
    """jsonlog lines (numbered from ``first_no``) into ``objs``/``nos``; a line that is not JSON is warned."""
    for no, line in enumerate(lines, start=first_no):
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
            nos.append(no)


def json_frame(objs: list, lines: list, prov: Provenance | None, warned: set) -> pd.DataFrame:
    g = lambda k: pd.Series([o.get(k) for o in objs], dtype="str")  # noqa: E731
    stamps = [o.get("timestamp") for o in objs]
    return pd.DataFrame({
        "time": _to_utc([re.sub(r" [A-Z]{2,5}$", "", s) if isinstance(s, str) else None for s in stamps],
                        [(_STAMP.search(s).group(2) if isinstance(s, str) and _STAMP.search(s) else None)
                         for s in stamps], prov, warned),
        "pid": pd.array([o.get("pid") for o in objs], dtype="Int64"), "user": g("user"), "database": g("dbname"),
        "application": g("application_name"), "client": g("remote_host"), "session_id": g("session_id"),
        "line_num": pd.array([o.get("line_num") for o in objs], dtype="Int64"),
        "severity": [o.get("error_severity") for o in objs], "sqlstate": g("state_code"), "message": g("message"),
        "detail": g("detail"), "hint": g("hint"), "context": g("context"), "statement": g("statement"),
        "internal_query": g("internal_query"), "source": list(lines),
    })


def parse_jsonlog(text: str, prov: Provenance | None = None) -> pd.DataFrame:
    objs, nos = [], []
    json_objects(text.splitlines(), 1, prov, objs, nos)
    return json_frame(objs, nos, prov, set())


def detect_log_form(text: str) -> str:
    s = text.lstrip()
    if s.startswith("{") and '"error_severity"' in s[:4096]:
        return "jsonlog"
    if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[.\d]* \w+,", s) and s.split("\n", 1)[0].count(",") >= 12:
        return "csvlog"
    return "stderr"


def classified(df: pd.DataFrame, form: str, plans_before: int = 0) -> tuple[pd.DataFrame, list]:
    """Entries with their event fields (:mod:`.log_events`); plan numbers count on from ``plans_before``."""
    for c in ("message", "detail", "statement", "context", "hint", "internal_query"):
        df[c] = df[c].where(df[c].notna() & (df[c] != "None"), None)
    df["sqlstate_source"] = pd.Series(np.where(df["sqlstate"].notna(), "logged", None), index=df.index, dtype="str")
    events, plans = classify(df, form)
    if plans_before:
        events["plan_no"] = events["plan_no"] + plans_before
    return pd.concat([df.reset_index(drop=True), events.reset_index(drop=True)], axis=1), plans


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
    out, plans = classified(df, form)
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


#: Entries parsed into one frame at a time while a log is read (bounds the reader's working memory).
BATCH = 20_000
_HEAD = 65536


def read_entries(path, prov: Provenance, form: str, bar=None, batch: int = BATCH, block: int | None = None) -> ServerLog:
    """The classified entries of the log at ``path``, read in blocks of lines and parsed ``batch`` entries
    at a time: the reader holds one block and one batch besides the frames made so far."""
    from .textlines import BLOCK, LineBlocks

    frames: list[pd.DataFrame] = []
    plans: list = []
    warned: set = set()

    def flush(df):
        out, found = classified(df, form, len(plans))
        plans.extend(found)
        frames.append(out)

    blocks = LineBlocks(path, prov, bar, block or BLOCK)
    if form == "csvlog":
        rows, nos = [], []
        text = (ln + "\n" for _, lines in blocks for ln in lines)
        for _ in csv_rows(csv.reader(text), prov, rows, nos, batch=batch):
            flush(csv_frame(rows, nos))
            rows.clear()
            nos.clear()
        if rows or not frames:
            flush(csv_frame(rows, nos))
    elif form == "jsonlog":
        objs, nos = [], []
        for no, lines in blocks:
            json_objects(lines, no, prov, objs, nos)
            if len(objs) >= batch:
                flush(json_frame(objs, nos, prov, warned))
                objs, nos = [], []
        if objs or not frames:
            flush(json_frame(objs, nos, prov, warned))
    else:
        parser, pending = StderrParser(), []
        for no, lines in blocks:
            pending += parser.feed(lines, no)
            if len(pending) >= batch:
                flush(_entries_frame(pending, prov, warned))
                pending = []
        pending += parser.finish()
        if pending or not frames:
            flush(_entries_frame(pending, prov, warned))
        if blocks.cut:
            prov.warn(f"line {blocks.lines}", "the file ends inside this line (cut short?): its entry is kept as "
                      "far as it goes")
    return ServerLog(_concat(frames), plans, form)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """One frame from the batches, column by column, each batch's column released once copied."""
    if len(frames) == 1:
        return frames[0]
    columns = list(frames[0].columns)
    out = {}
    for c in columns:
        out[c] = pd.concat([f.pop(c) for f in frames], ignore_index=True)
    frames.clear()
    return pd.DataFrame(out, copy=False)


def load_log(path, **_ignored) -> LogDump:
    """A PostgreSQL server log (stderr with any prefix, csvlog, jsonlog), read in bounded memory (blocks of
    lines, batches of entries; see :func:`read_entries`). Raises only ArtifactError."""
    from ..artifact import open_readonly, provenance_for
    from ..errors import ArtifactError
    from ..progress import progress
    from .plan import from_parsed
    from .textlines import decode

    prov = provenance_for(path, parser="forensics.postgres.serverlog")
    with open_readonly(path) as f:
        raw = f.read(_HEAD)
    if b"\x00" in raw[:4096]:
        raise ArtifactError(path, raw.index(b"\x00"), "binary data (NUL bytes), not a text file")
    head = decode(raw, None, True, [])
    if not looks_like_log(head):
        raise ArtifactError(path, None, "not a PostgreSQL server log: no line with a severity ('LOG:  ', "
                            "'ERROR:  ' …) after a timestamp or [pid] prefix, nor csvlog/jsonlog")
    form = detect_log_form(head)
    with progress(prov.size, "reading server log", size_bytes=prov.size) as bar:
        log = read_entries(path, prov, form, bar)
    prov.details["log_form"] = form
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
