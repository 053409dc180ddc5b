"""What an Apple crash report's ARM thread state says about the exception when its ``Exception Type`` lines are
not in the paste.

The register block of the crashed thread (``Thread 0 crashed with ARM Thread State (64-bit):``) ends with the
exception syndrome the CPU wrote: ``far:`` (the faulting address) and ``esr:`` (the Exception Syndrome Register,
which Apple also spells out: ``esr: 0x92000006 (Data Abort) byte read Translation fault``). The syndrome is read
by the ARMv8 architecture's fields, not by Apple's words:

* EC (bits 31:26) 0x24/0x25 — a **data abort**: the fault address is ``far``, bit 6 (WnR) says write or read,
  DFSC (bits 5:0) a translation fault (0b0001xx: nothing mapped, SEGV_MAPERR), an access-flag or permission fault
  (0b0010xx, 0b0011xx: SEGV_ACCERR) or an alignment fault (0x21: SIGBUS BUS_ADRALN);
  0x20/0x21 — an **instruction abort** (the pc itself could not be fetched: the address is the pc);
* EC 0x15 — an **SVC**: the thread was in a system call, no fault; when that call (x16 on Darwin) is
  ``__pthread_kill`` (328) the thread was signalling itself, which is how Darwin's ``abort()`` raises SIGABRT.

>>> arm_exception(["far: 0x0000000000000030  esr: 0x92000006 (Data Abort) byte read Translation fault"])
{'signal': 'SIGSEGV', 'si_code': 1, 'si_addr': 48, 'access': 'read', 'why': 'ESR 0x92000006: data abort, translation fault, read at far 0x30'}
"""
from __future__ import annotations

import re

_FAR_ESR = re.compile(r"\bfar: (?P<far>0x[0-9a-fA-F]+)\s+esr: (?P<esr>0x[0-9a-fA-F]+)\b")
_X16 = re.compile(r"\bx16: (?P<v>0x[0-9a-fA-F]+)\b")
_DARWIN_PTHREAD_KILL = 328      # SYS___pthread_kill (xnu bsd/kern/syscalls.master)


def arm_exception(lines) -> dict | None:
    """The signal, si_code, address and access the syndrome gives (see the module docstring), or None."""
    lines = list(lines)
    m = next((m for m in map(_FAR_ESR.search, lines) if m), None)
    if not m:
        return None
    far, esr = int(m.group("far"), 16), int(m.group("esr"), 16)
    ec, iss = esr >> 26 & 0x3F, esr & 0x1FFFFFF
    if ec in (0x24, 0x25):
        dfsc, rw = iss & 0x3F, "write" if iss >> 6 & 1 else "read"
        kind = {1: "translation fault", 2: "access flag fault", 3: "permission fault"}.get(dfsc >> 2)
        if dfsc == 0x21:
            return {"signal": "SIGBUS", "si_code": 1, "si_addr": far,
                    "why": f"ESR {m.group('esr')}: data abort, alignment fault at far 0x{far:x}"}
        if kind is None:
            return None
        return {"signal": "SIGSEGV", "si_code": 1 if dfsc >> 2 == 1 else 2, "si_addr": far, "access": rw,
                "why": f"ESR {m.group('esr')}: data abort, {kind}, {rw} at far 0x{far:x}"}
    if ec in (0x20, 0x21):
        return {"signal": "SIGSEGV", "si_code": 1, "si_addr": far,
                "why": f"ESR {m.group('esr')}: instruction abort at far 0x{far:x} (the pc could not be fetched)"}
    if ec == 0x15:
        x16 = next((int(x.group("v"), 16) for x in map(_X16.search, lines) if x), None)
        if x16 == _DARWIN_PTHREAD_KILL:
            return {"signal": "SIGABRT", "self": True,
                    "why": f"ESR {m.group('esr')}: the crashed thread was in the __pthread_kill system call (x16 = "
                           f"{x16}), signalling itself as abort() does"}
    return None
