"""A mobile crash-reporting service's issue summary (signal, cause, crashed thread) as gdb lines.

Such a summary, copied from the service's web page, names the signal, then the cause as the kernel's si_code
name with the address, and the crashed thread (counted from 0, as Apple and Android do)::

    Exception type: SIGSEGV
    Crash at: 0x1a0507000 + 23018744
    Exception Cause:  SEGV_ACCERR at 0x14a
    Crashed Thread: 2

(a web copy may glue the last two: ``SEGV_ACCERR at 0x14aCrashed Thread: 2``). :func:`crash_summary_to_gdb` writes
the stop line, a ``$_siginfo``-shaped line when the cause gives the code, and gdb's current-thread line (thread
N + 1) in front of the summary's lines, which are kept; a stack list under it is read by the other readers.

>>> print(crash_summary_to_gdb("Exception type: SIGBUS\\nException Cause: BUS_ADRALN at 0x1001\\n")[0])
[Current thread is 1 (Thread 1)]
Program received signal SIGBUS, Bus error.
$0 = {si_signo = 7, si_errno = 0, si_code = 1, _sigfault = {si_addr = 0x1001}}
Exception type: SIGBUS
Exception Cause: BUS_ADRALN at 0x1001
<BLANKLINE>
"""
from __future__ import annotations

import re

_TYPE = re.compile(r"^\s*Exception type:\s*(?P<sig>SIG[A-Z]+)\s*$", re.I)
_CAUSE = re.compile(r"^\s*Exception Cause:\s*(?P<code>(?:SEGV|BUS|ILL|FPE|TRAP)_[A-Z]+|SI_[A-Z]+)"
                    r"(?: at (?P<addr>0x[0-9a-fA-F]+?)(?=Crashed Thread\b|\s|$))?")
_THREAD = re.compile(r"Crashed Thread:\s*(?P<no>\d+)\s*$")


def looks_like_crash_summary(text: str) -> bool:
    lines = text.split("\n")[:200]
    return any(map(_TYPE.match, lines)) and any(map(_CAUSE.match, lines))


def crash_summary_to_gdb(text: str) -> tuple[str, dict]:
    """``(gdb-shaped text, facts)`` for the summary (see the module docstring)."""
    from .foreign import signal_lines
    from .runtimes import _SI_CODES

    lines = text.split("\n")
    sig = next(m for m in map(_TYPE.match, lines) if m).group("sig").upper()
    cause = next(m for m in map(_CAUSE.match, lines) if m)
    code = _SI_CODES.get(cause.group("code"))
    addr = int(cause.group("addr"), 16) if cause.group("addr") and (code or 0) > 0 else None
    thread = next((int(m.group("no")) + 1 for m in map(_THREAD.search, lines) if m), 1)
    head = [f"[Current thread is {thread} (Thread {thread})]"] + signal_lines(sig, code, addr)
    return "\n".join(head + lines), {"foreign": "the crash-reporting service's summary"}
