"""When did it crash? A crash transcript's own clock, read from its text.

gdb does not print the time of a crash, but what people paste around it often does. In order of
how directly the text dates the crash:

1. a dump header: ``coredumpctl info``'s ``Timestamp:`` (or the journal's ``COREDUMP_TIMESTAMP=``
   in µs), a JVM ``hs_err`` file's ``Time:``, an Apple crash report's ``Date/Time:``;
2. a core file name written with ``%t`` in ``core_pattern`` (``core.worker.4242.1764137462``,
   systemd's ``core.<comm>.<uid>.<boot id>.<pid>.<µs>``): the epoch second of the dump;
3. the program's own log lines interleaved before the stop (``Program received signal``,
   ``panic:``, ``fatal error:``, LLDB's ``stop reason``, ``Exception in thread``): the crash came at
   or after the last timestamped line before it.

:func:`crash_clock` returns a :class:`CrashClock` (``None`` when the text dates nothing). Text
only: no file is opened, nothing is guessed from the file's name or modification time (that is
the caller's last resort, flagged as such).

>>> c = crash_clock("2026-11-26 06:11:02,118 INFO fulfil: order 41\\n"
...                 "Program received signal SIGSEGV, Segmentation fault.\\n")
>>> c.time.isoformat(), c.source
('2026-11-26T06:11:02.118000+00:00', 'log line before the stop (line 1), no zone given: read as UTC')
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

#: a time inside this range is a plausible crash (an epoch-looking number outside it is not a time)
EARLIEST = pd.Timestamp("1995-01-01", tz="UTC")
LATEST = pd.Timestamp("2100-01-01", tz="UTC")

#: zone abbreviations as coredumpctl, hs_err and date(1) print them (others are reported, not guessed)
ZONES = {"UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 1, "BST": 1, "IST": 5.5, "CET": 1, "CEST": 2,
         "EET": 2, "EEST": 3, "MSK": 3, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6,
         "PST": -8, "PDT": -7, "AKST": -9, "AKDT": -8, "HST": -10, "JST": 9, "KST": 9, "AEST": 10,
         "AEDT": 11, "NZST": 12, "NZDT": 13}


@dataclass(frozen=True)
class CrashClock:
    """A crash time read from a transcript.

    ``source`` says in words where it came from; ``line`` is the 1-based line it was read on;
    ``exact`` is False when the text only bounds the crash (the last log line before the stop).
    """

    time: pd.Timestamp
    source: str
    line: int
    exact: bool


_STOP = re.compile(
    r"^(?:Thread \d+ \"[^\"]*\" received signal |Program received signal |Program terminated with signal |"
    r"\s*\* thread #\d+.*stop reason = |Process \d+ stopped|panic: |fatal error: |SIGSEGV: |SIGABRT: |"
    r"Exception in thread |# A fatal error has been detected|#\s+SIGSEGV \(0xb\)|\[Inferior \d+ .* killed\])",
    re.M)

_ISO = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<time>\d{2}:\d{2}:\d{2})(?:[.,](?P<frac>\d{1,9}))?"
    r"(?:\s?(?P<zone>Z|[+-]\d{2}:?\d{2}|UTC|GMT)\b)?")
_GO = re.compile(r"(?P<date>\d{4}/\d{2}/\d{2}) (?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d{1,9}))?")
_EPOCH_KEY = re.compile(r"(?:\bts|\btime|\btimestamp|\"ts\"|\"time\"|\"timestamp\")\s*[=:]\s*\"?(?P<num>\d{10}(?:\.\d+)?|\d{13})\b")
#: a log line's timestamp sits near its start (after a bracket, a level or a logger name at most)
_LOG_PREFIX = 48

_COREDUMPCTL = re.compile(r"^\s*Timestamp: (?:\w{3} )?(?P<date>\d{4}-\d{2}-\d{2}) (?P<time>\d{2}:\d{2}:\d{2})"
                          r"(?:\.(?P<frac>\d+))?(?: (?P<zone>[A-Z]{1,5}|[+-]\d{4}))?", re.M)
_JOURNAL_US = re.compile(r"^\s*COREDUMP_TIMESTAMP=(?P<us>\d{16})\b", re.M)
_HS_ERR = re.compile(r"^\s*#?\s*[Tt]ime: (?:\w{3} )?(?P<mon>\w{3}) +(?P<day>\d{1,2}) (?P<time>\d{2}:\d{2}:\d{2}) "
                     r"(?P<year>\d{4})(?: (?P<zone>[A-Z]{1,5}))?", re.M)
_APPLE = re.compile(r"^Date/Time:\s+(?P<date>\d{4}-\d{2}-\d{2}) (?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d+))?"
                    r"(?: (?P<zone>[+-]\d{4}))?", re.M)
_CORE_NAME = re.compile(r"\bcore[._-][\w.@+-]*?[._-](?P<num>\d{16}|\d{10})(?=[._-]|\.zst|\.lz4|\.xz|\b)")


def _zone_offset(zone: str | None) -> tuple[pd.Timedelta | None, str]:
    """The UTC offset a zone text means, and how it was read."""
    if not zone:
        return pd.Timedelta(0), "no zone given: read as UTC"
    z = zone.upper()
    if re.fullmatch(r"[+-]\d{2}:?\d{2}", z):
        sign = -1 if z[0] == "-" else 1
        digits = z[1:].replace(":", "")
        return sign * pd.Timedelta(hours=int(digits[:2]), minutes=int(digits[2:])), f"zone {zone}"
    if z in ZONES:
        return pd.Timedelta(hours=ZONES[z]), f"zone {zone}"
    return None, f"zone {zone} not known"


def _stamp(date: str, time: str, frac: str | None, zone: str | None) -> tuple[pd.Timestamp | None, str]:
    try:
        t = pd.Timestamp(f"{date.replace('/', '-')}T{time}" + (f".{frac}" if frac else ""))
    except (ValueError, OverflowError):
        return None, "not a date"
    offset, how = _zone_offset(zone)
    if offset is None:
        return None, how
    t = (t - offset).tz_localize("UTC")
    return (t, how) if EARLIEST <= t < LATEST else (None, "out of range")


def _epoch(num: str) -> pd.Timestamp | None:
    """Epoch seconds (10 digits, optional fraction), milliseconds (13) or microseconds (16), exactly."""
    whole, _, frac = num.partition(".")
    scale = {10: 1, 13: 1_000, 16: 1_000_000}.get(len(whole))
    if scale is None:
        return None
    ns = int(whole) * (1_000_000_000 // scale) + (int((frac + "000000000")[:9]) if frac and scale == 1 else 0)
    t = pd.Timestamp(ns, unit="ns", tz="UTC")
    return t if EARLIEST <= t < LATEST else None


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _headers(text: str) -> CrashClock | None:
    m = _COREDUMPCTL.search(text)
    if m:
        t, how = _stamp(m["date"], m["time"], m["frac"], m["zone"])
        if t is not None:
            return CrashClock(t, f"coredumpctl Timestamp ({how})", _line_of(text, m.start()), True)
    m = _JOURNAL_US.search(text)
    if m and (t := _epoch(m["us"])) is not None:
        return CrashClock(t, "journal COREDUMP_TIMESTAMP", _line_of(text, m.start()), True)
    m = _HS_ERR.search(text)
    if m and ("fatal error" in text[:4096].lower() or "hs_err" in text[:4096]):
        try:
            month = pd.Timestamp(f"{m['mon']} 1 2000").month
        except ValueError:
            month = None
        if month:
            t, how = _stamp(f"{m['year']}-{month:02d}-{int(m['day']):02d}", m["time"], None, m["zone"])
            if t is not None:
                return CrashClock(t, f"JVM fatal error log Time: ({how})", _line_of(text, m.start()), True)
    m = _APPLE.search(text)
    if m:
        t, how = _stamp(m["date"], m["time"], m["frac"], m["zone"])
        if t is not None:
            return CrashClock(t, f"crash report Date/Time ({how})", _line_of(text, m.start()), True)
    return None


def _core_name(text: str) -> CrashClock | None:
    for m in _CORE_NAME.finditer(text):
        t = _epoch(m["num"])
        if t is not None:
            return CrashClock(t, f"core file name {m.group(0)!r} (%t: the second of the dump)",
                              _line_of(text, m.start()), True)
    return None


def _log_time(line: str) -> tuple[pd.Timestamp | None, str]:
    head = line[:_LOG_PREFIX + 40]
    for rx in (_ISO, _GO):
        m = rx.search(head)
        if m and m.start() <= _LOG_PREFIX:
            zone = m.groupdict().get("zone")
            return _stamp(m["date"], m["time"], m["frac"], zone)
    m = _EPOCH_KEY.search(line)
    if m:
        t = _epoch(m["num"])
        return t, "epoch seconds"
    return None, ""


def _last_log_line(text: str) -> CrashClock | None:
    stop = _STOP.search(text)
    end = stop.start() if stop else len(text)
    lines = text[:end].splitlines()
    for n in range(len(lines), 0, -1):
        line = lines[n - 1]
        if line.startswith(("#", "  ", "\t")) or not line.strip():
            continue  # frames, locals and indented gdb output carry no log time
        t, how = _log_time(line)
        if t is not None:
            where = "log line before the stop" if stop else "last timestamped log line (no stop line found)"
            return CrashClock(t, f"{where} (line {n}), {how}", n, False)
    return None


def crash_clock(text: str) -> CrashClock | None:
    """The crash time a transcript's text gives, from the most direct evidence it holds; None if none."""
    return _headers(text) or _core_name(text) or _last_log_line(text)
