"""Apple's gdb (the gdb-1xxx that shipped with Xcode up to 4) reports a Mach exception, not a signal name.

It prints ``Program received signal EXC_BAD_ACCESS, Could not access memory.`` and under it ``Reason:
KERN_INVALID_ADDRESS at address: 0x…`` (``KERN_PROTECTION_FAILURE`` for a mapped page the access may not touch). The
kernel turns EXC_BAD_ACCESS into SIGSEGV (SIGBUS for a protection failure on older macOS), so the two lines are
written as FSF gdb's stop line and the ``$_siginfo`` it would print: the signal, ``si_code`` 1 (not mapped) or 2
(protection), and the address. Without its ``Reason:`` line the stop is left as it is (no address made up).

>>> apple_gdb_stop(["Program received signal EXC_BAD_ACCESS, Could not access memory.",
...                 "Reason: KERN_INVALID_ADDRESS at address: 0x0000000000000018"])[1]
'$0 = {si_signo = 11, si_errno = 0, si_code = 1, _sigfault = {si_addr = 0x0000000000000018}}'
"""
from __future__ import annotations

import re

_STOP = re.compile(r"^(?P<pre>Program received signal |Thread \d+ received signal )EXC_BAD_ACCESS, .*$")
_REASON = re.compile(r"^Reason: (?P<why>KERN_INVALID_ADDRESS|KERN_PROTECTION_FAILURE) at address: "
                     r"(?P<addr>0x[0-9a-fA-F]+)\s*$")


def apple_gdb_stop(lines: list[str]) -> list[str]:
    """Apple gdb's EXC_BAD_ACCESS stop and its Reason line, as FSF gdb's stop line and ``$_siginfo``."""
    if not any(ln.startswith("Reason: KERN_") for ln in lines):
        return lines
    out = list(lines)
    for k in range(len(out) - 1):
        m, r = _STOP.match(out[k].strip()), _REASON.match(out[k + 1].strip())
        if m and r:
            code = 1 if r.group("why") == "KERN_INVALID_ADDRESS" else 2
            out[k] = f"{m.group('pre')}SIGSEGV, Segmentation fault."
            out[k + 1] = f"$0 = {{si_signo = 11, si_errno = 0, si_code = {code}, _sigfault = {{si_addr = {r.group('addr')}}}}}"
    return out
