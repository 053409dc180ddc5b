"""A Windows program's own crash report (ZDoom's family: ``Report.txt`` of ZDoom, GZDoom, ECWolf …) as gdb lines.

The report's exception summary names the NTSTATUS code with its meaning and, for an access violation, the
access and the address the CPU tried to reach; then where (``Address:``, the faulting pc) and the registers::

    Code: C0000005 (Access Violation - tried to read address 00000000)
    Address: 0011D333

:func:`winreport_to_gdb` writes the stop line and a ``$_siginfo``-shaped line (the address, SEGV_MAPERR assumed:
the report does not say mapped or not) in front of the report's lines, which are kept; the access goes into the
facts. Other codes map as WinDbg's do (``crashes.windbg``); codes without a Linux equivalent are left as printed.

>>> print(winreport_to_gdb("Code: C0000005 (Access Violation - tried to write address 00000010)")[0])
Program received signal SIGSEGV, Segmentation fault.
$0 = {si_signo = 11, si_errno = 0, si_code = 1, _sigfault = {si_addr = 0x10}}
Code: C0000005 (Access Violation - tried to write address 00000010)
"""
from __future__ import annotations

import re

_CODE = re.compile(r"^\s*Code: (?P<code>[0-9A-Fa-f]{8}) \((?P<desc>[^)]*)\)\s*$")
_AV = re.compile(r"^Access Violation - tried to (?P<rw>read|write|execute) address (?P<addr>[0-9A-Fa-f]{8,16})$", re.I)


def _event(text: str):
    return next((m for m in map(_CODE.match, text.split("\n")[:200]) if m), None)


def looks_like_winreport(text: str) -> bool:
    """The report's ``Code: XXXXXXXX (meaning)`` line with an NTSTATUS crash code WinDbg's reader knows."""
    from .windbg import _NTSTATUS, _VERDICT

    m = _event(text)
    return bool(m) and m.group("code").lower() in {c for c in (*_NTSTATUS, *_VERDICT) if c.startswith("c")}


def winreport_to_gdb(text: str) -> tuple[str, dict]:
    """``(gdb-shaped text, facts)`` for the report (see the module docstring)."""
    from .foreign import signal_lines
    from .windbg import _NTSTATUS, _VERDICT

    m, facts = _event(text), {"foreign": "Windows crash report"}
    status = m.group("code").lower()
    if status in _VERDICT:
        facts["runtime_verdict"] = _VERDICT[status]
        return text, facts
    sig, code = _NTSTATUS.get(status, (None, None))
    av = _AV.match(m.group("desc").strip())
    addr = int(av.group("addr"), 16) if av and sig == "SIGSEGV" else None
    if av and av.group("rw").lower() != "execute":
        facts["access"] = av.group("rw").lower()
    if sig == "SIGSEGV" and addr is not None:
        code = 1            # the address is given; mapped or not is not printed (SEGV_MAPERR assumed)
    head = signal_lines(sig, code, addr) if sig else []
    return "\n".join(head + [text]), facts
