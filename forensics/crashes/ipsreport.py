"""macOS 12+'s JSON crash report (``.ips``): ``"exception" : {"type":"EXC_BREAKPOINT","signal":"SIGTRAP"}``,
``"faultingThread" : 4`` and the ``"asi"`` (application-specific information) messages.

The allocator states its verdict in ``asi``: libmalloc's ``BUG IN CLIENT OF LIBMALLOC: memory corruption of free
block`` (then its trap) is heap corruption, as glibc's ``malloc(): corrupted …`` is. Other reports give the signal only.

>>> looks_like_ips('  "exception" : {"codes":"0x1","type":"EXC_BREAKPOINT","signal":"SIGTRAP"},')
True
"""
from __future__ import annotations

import re

_EXC = re.compile(r'^\s*"exception"\s*:\s*\{.*?"type"\s*:\s*"(?P<type>EXC_\w+)".*?"signal"\s*:\s*"(?P<sig>SIG[A-Z]+)"')
_FAULTING = re.compile(r'^\s*"faultingThread"\s*:\s*(?P<n>\d+)')
_MALLOC_BUG = re.compile(r'"BUG IN CLIENT OF LIBMALLOC: (?P<what>[^"]+)"')


def looks_like_ips(text: str) -> bool:
    return any(_EXC.match(ln) for ln in text[:1 << 16].split("\n"))


def ips_to_gdb(text: str) -> tuple[str, dict]:
    from .foreign import signal_lines

    out, facts = [], {"foreign": "the macOS crash report (.ips)"}
    for ln in text.split("\n"):
        e = _EXC.match(ln)
        m = _MALLOC_BUG.search(ln)
        if m and "runtime_verdict" not in facts:
            what = m.group("what").strip()
            # the allocator's own check found its metadata broken, and trapped (EXC_BREAKPOINT) right after saying so
            facts["runtime_verdict"] = ("heap-corruption", "libmalloc:" + re.sub(r"\W+", "-", what.lower()).strip("-"),
                                        "exploitable", "HeapError", f"libmalloc reported '{what}' and trapped")
            facts["verdict_without_signal"] = True
        if e and "exc" not in facts:
            facts["exc"] = (e.group("type"), e.group("sig"))
        f = _FAULTING.match(ln)
        if f:
            facts.setdefault("current_thread", int(f.group("n")) + 1)    # the report numbers threads from 0
        out.append(ln)
    exc = facts.pop("exc", None)
    if exc and "runtime_verdict" not in facts:
        out = signal_lines(exc[1]) + out
    return "\n".join(out), facts
