"""A crash transcript for an incident timeline: one ``crash`` row, dated by the transcript itself.

The time comes from the text (:func:`forensics.crashes.clock.crash_clock`: a dump header, a core
file name with ``%t``, or the program's last log line before the signal); ``time_source`` says
which. Without any, ``time`` is missing and the incident places the crash at the manifest's
``time`` or, last, at the file's modification time — flagged as unreliable.
"""
from __future__ import annotations

import pandas as pd

from ..artifact import open_readonly
from .clock import crash_clock

COLUMNS = ["time", "end", "kind", "severity", "detail", "ref", "source_rows", "crash_class", "time_source",
           "service_hint"]


def _present(v) -> bool:
    return v is not None and not (isinstance(v, float) and pd.isna(v)) and v is not pd.NA and str(v) != ""


def describe(c: dict) -> str:
    """One line: signal — class (subclass) in top own frame(): reason — assertion."""
    sig = c.get("signal") if _present(c.get("signal")) else "no signal"
    cls = c.get("class") if _present(c.get("class")) else "unclassified"
    detail = f"{sig} — {cls}"
    if _present(c.get("subclass")):
        detail += f" ({c['subclass']})"
    if _present(c.get("top_own_frame")):
        detail += f" in {c['top_own_frame']}()"
    if _present(c.get("reason")):
        detail += f": {c['reason']}"
    if _present(c.get("assertion")) and str(c["assertion"]) not in detail:
        detail += f" — assertion: {c['assertion']}"
    return detail


def events(crash) -> pd.DataFrame:
    """The crash row of a loaded transcript (:class:`forensics.crashes.load.GdbCrash`)."""
    c = crash.crash
    with open_readonly(crash.provenance.path) as f:
        text = f.read().decode("utf-8", "replace")
    clock = crash_clock(text)
    t = clock.time if clock else pd.NaT
    source = None
    if clock:
        source = f"transcript: {clock.source}" + ("" if clock.exact else " — the crash came at or after it")
    return pd.DataFrame([{"time": t, "end": t, "kind": "crash", "severity": "critical", "detail": describe(c),
                          "ref": None, "source_rows": [0], "crash_class": c.get("class") if _present(c.get("class")) else None,
                          "time_source": source, "service_hint": _program(c)}], columns=COLUMNS)


def _program(c: dict) -> str | None:
    """The crashed program's name (``/opt/bin/exporter --x`` → ``exporter``; a process title
    ``nginx: worker process`` → ``nginx``), as a service name of last resort.

    >>> _program({"program": "nginx: worker pr"}), _program({"program": "/opt/bin/exporter --x"})
    ('nginx', 'exporter')
    """
    prog = c.get("program")
    if not _present(prog):
        return None
    return str(prog).split()[0].rstrip("'`\":").replace("\\", "/").rsplit("/", 1)[-1] or None
