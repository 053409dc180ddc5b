"""WinDbg's (and cdb's, dbgeng's) stop lines, written as the gdb lines that carry the same facts.

When WinDbg stops on an event it prints one line naming the process and thread in hex and the event:

* on Windows, an exception with its NTSTATUS code and which chance the debugger gets —
  ``(1a2c.3b4): Access violation - code c0000005 (!!! second chance !!!)``; a dump's stored exception says
  ``(first/second chance not available)``; ``.exr`` prints the record (``ExceptionCode: c0000005 (Access
  violation)``, then ``Attempt to read from address 0000000000000000``);
* on a Linux core (WinDbg opens ELF cores too), the signal with its si_code and address —
  ``(5e5e.5e5e): Signal SIGBUS (Bus error) code BUS_ADRALN (Invalid address alignment) at 0xf75dae5b``.

A **first-chance** exception is not read as the crash: it is reported before the program's own handlers run
and is often handled (a C++ throw, a managed runtime's NULL check), so only second-chance events, a dump's
stored exception and a core's signal become a stop line. NTSTATUS codes map to the signal Linux would send
where the meaning is the same (access violation → SIGSEGV, illegal or privileged instruction → SIGILL,
integer divide by zero → SIGFPE FPE_INTDIV, breakpoint → SIGTRAP); a stack overflow (c00000fd) and heap
corruption (c0000374) are the runtime's own verdicts; other codes are left as printed. The call stack (``k``)
is not read here.

>>> print(windbg_to_gdb("(5e.5e): Signal SIGBUS (Bus error) code BUS_ADRALN (Invalid address alignment) at 0xf75dae5b")[0])
Program received signal SIGBUS, Bus error.
$0 = {si_signo = 7, si_errno = 0, si_code = 1, _sigfault = {si_addr = 0xf75dae5b}}
"""
from __future__ import annotations

import re

_PT = r"^\s*\((?P<pid>[0-9a-fA-F]+)\.(?P<tid>[0-9a-fA-F]+)\): "
_LINUX_SIGNAL = re.compile(_PT + r"Signal (?P<sig>SIG[A-Z0-9]+)(?: \([^)]*\))?(?: code (?P<code>[A-Z_]+|-?\d+)(?: \([^)]*\))?)?"
                           r"(?: at (?P<addr>0x[0-9a-fA-F]+))?")
_EVENT = re.compile(_PT + r"(?P<desc>[A-Za-z][^()\n]*?) - code (?P<code>[0-9a-fA-F]{8}) \((?P<chance>[^)\n]*)\)")
_EXR_CODE = re.compile(r"^\s*ExceptionCode: (?P<code>[0-9a-fA-F]{8}) \(")
_ATTEMPT = re.compile(r"^\s*Attempt to (?P<rw>read from|write to|execute) address (?P<addr>[0-9a-fA-F`]+)\s*$")
#: NTSTATUS -> (signal, si_code) where Linux sends that signal for the same event
_NTSTATUS = {"c0000005": ("SIGSEGV", None), "c000001d": ("SIGILL", 1), "c0000096": ("SIGILL", 5),
             "c0000094": ("SIGFPE", 1), "80000003": ("SIGTRAP", None)}
_VERDICT = {"c00000fd": ("stack-overflow", "guard-page", "probably", "StackOverflow",
                         "WinDbg: STATUS_STACK_OVERFLOW (c00000fd), the thread ran out of stack"),
            "c0000374": ("heap-corruption", "heap-corruption-status", "exploitable", "HeapError",
                         "WinDbg: STATUS_HEAP_CORRUPTION (c0000374), the heap manager found its structures corrupt")}


def _crash_event(ln: str):
    """The event of a line when it is a crash (a core's signal, a second-chance or a dump's stored exception)."""
    s = _LINUX_SIGNAL.match(ln)
    if s:
        return s
    e = _EVENT.match(ln)
    return e if e and "first chance" not in e.group("chance") else None


def looks_like_windbg(text: str) -> bool:
    """A WinDbg event line (``(pid.tid): …``) or ``.exr``'s exception record."""
    lines = text.split("\n")[:4000]
    return any(_LINUX_SIGNAL.match(ln) or _EVENT.match(ln) or _EXR_CODE.match(ln) for ln in lines)


def windbg_to_gdb(text: str) -> tuple[str, dict]:
    """``(gdb-shaped text, facts)`` for WinDbg output (see the module docstring)."""
    from .foreign import signal_lines
    from .runtimes import _SI_CODES

    lines, out, facts = text.split("\n"), [], {"foreign": "WinDbg"}
    attempt = next((m for m in map(_ATTEMPT.match, lines) if m), None)
    addr = int(attempt.group("addr").replace("`", ""), 16) if attempt else None
    if attempt and attempt.group("rw") != "execute":
        facts["access"] = "read" if attempt.group("rw") == "read from" else "write"
    done = False
    for ln in lines:
        ev = None if done else _crash_event(ln) or _EXR_CODE.match(ln)
        if ev is None:
            out.append(ln)
            continue
        done = True
        if "sig" in ev.groupdict():
            code = ev.group("code")
            code = int(code) if code and code.lstrip("-").isdigit() else _SI_CODES.get(code or "")
            at = int(ev.group("addr"), 16) if ev.group("addr") else None
            out += signal_lines(ev.group("sig"), code, at)      # (no si_code printed: no $_siginfo line)
            continue
        status = ev.group("code").lower()
        if status in _VERDICT:
            facts["runtime_verdict"] = _VERDICT[status]
            out.append(ln)
            continue
        sig, code = _NTSTATUS.get(status, (None, None))
        if sig == "SIGSEGV" and addr is not None:
            code = 1            # the record gives the address; mapped or not is not printed (SEGV_MAPERR assumed)
        out += (signal_lines(sig, code, addr if sig == "SIGSEGV" else None) if sig else []) + [ln]
    first = next((m for m in map(_EVENT.match, lines) if m and "first chance" in m.group("chance")), None)
    if not done and first:
        facts["runtime_verdict"] = ("unknown", "first-chance-exception", "unknown", "UncategorizedSignal",
                                    f"WinDbg stopped at a first-chance {first.group('desc')} (code {first.group('code')}): "
                                    "reported before the program's handlers ran, so it may have been handled")
        facts["verdict_without_signal"] = True
    return "\n".join(out), facts
