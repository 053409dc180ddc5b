"""What a program's own crash handler, or a crash reporter that is not a debugger, prints — as gdb lines.

Each reader keeps every line it does not know and says only what the report printed:

* a daemon's log line naming the signal its handler caught (``SIG/CATCH: Caught signal SIGBUS (bus)``,
  ``Catching SIGSEGV, please report …``; signals that ask a program to stop — TERM, INT, HUP — are no
  crash) and the Zabbix family's ``Got signal [signal:11(SIGSEGV),reason:2,refaddr:0x…]`` with its
  ``Program counter: 0x…`` line (reason is the si_code, refaddr the fault address);
* the box86/box64 emulators' ``PID|SIGSEGV @pc … for accessing ADDR (code=N/prot=P)`` report, and the reicast
  family's (reicast, flycast) ``SIGSEGV @ PC … ADDR -> was not in vram`` (pc and si_addr; its die() trap after it
  is not the crash);
* node-segfault-handler's ``PID 8 received SIGSEGV for address: 0x…`` (the address only: it prints no si_code);
* the ``module : function+0xoff  [0xaddr]`` frames of the widely copied ``stacktrace.h`` handler;
* ABRT/satyr's text backtrace (``Truncated backtrace:`` / ``Thread no. 1 (7 frames)`` and
  ``#0 func at file.c:315`` rows with no address or argument list; numbered on where satyr skipped frames);
* a SerenityOS kernel's ``CRASH: CPU #0 Illegal instruction in userspace`` line.

>>> print(handler_log_to_gdb(" 1:20140127:1.4 Got signal [signal:11(SIGSEGV),reason:1,refaddr:0x8]. Crashing ...")[0])
Program received signal SIGSEGV, Segmentation fault.
$0 = {si_signo = 11, si_errno = 0, si_code = 1, _sigfault = {si_addr = 0x8}}
 1:20140127:1.4 Got signal [signal:11(SIGSEGV),reason:1,refaddr:0x8]. Crashing ...
"""
from __future__ import annotations

import re

_CRASH_SIGNALS = {"SIGSEGV": "Segmentation fault", "SIGBUS": "Bus error", "SIGILL": "Illegal instruction",
                  "SIGFPE": "Arithmetic exception", "SIGABRT": "Aborted", "SIGSYS": "Bad system call",
                  "SIGTRAP": "Trace/breakpoint trap"}
_SIGNO = {"SIGSEGV": 11, "SIGBUS": 7, "SIGILL": 4, "SIGFPE": 8, "SIGABRT": 6, "SIGSYS": 31, "SIGTRAP": 5}
_CAUGHT = re.compile(r"\b(?:[Cc]aught|[Cc]atching|[Tt]rapped|[Gg]ot) signal:? (?P<sig>SIG[A-Z]+)\b"
                     r"|\b[Cc]atching (?P<sig2>SIG[A-Z]+)\b")
# a handler printing the siginfo it caught: "SIGSEGV in core thread caught:" then "address = 0xFFFFFFFF" and the
# si_code's description (glibc's psiginfo wording, any case) on the lines below
_CAUGHT_AFTER = re.compile(r"\b(?P<sig>SIG(?:SEGV|BUS|ILL|FPE))\b.{0,40}?\bcaught\b")
_SI_ADDR_LINE = re.compile(r"^\s*(?:fault(?:ing)? )?addr(?:ess)?\s*[=:]\s*(?P<addr>0x[0-9a-fA-F]+|\(nil\))\s*$", re.I)
_SI_DESC = {"address not mapped to object": 1, "invalid permissions for mapped object": 2, "invalid address alignment": 1,
            "nonexisting physical address": 2, "non-existent physical address": 2, "object specific hardware error": 3}
_ZABBIX = re.compile(r"Got signal \[signal:(?P<no>\d+)\((?P<sig>SIG[A-Z]+)\),reason:(?P<code>-?\d+),refaddr:(?P<addr>0x[0-9a-fA-F]+|\(nil\))\]")
# node-segfault-handler's (and its ports') "PID 8 received SIGSEGV for address: 0x1fc62c0": the handler's si_addr
_RECEIVED_FOR = re.compile(r"\bPID \d+ received (?P<sig>SIG[A-Z]+) for address: (?P<addr>0x[0-9a-fA-F]+)")
# the box86/box64 emulators' own report: "26706|SIGSEGV @0x749e6aa450 (…) …, for accessing (nil) (code=1/prot=0), …"
_BOX = re.compile(r"^\s*\d+\|(?P<sig>SIG[A-Z]+) @(?P<pc>0x[0-9a-fA-F]+) .*?\bfor accessing (?P<addr>0x[0-9a-fA-F]+|\(nil\)) "
                  r"\(code=(?P<code>-?\d+)")
# the reicast family's (reicast, flycast, libswirl) fault handler, for a fault its dynarec does not own: "SIGSEGV @ PC
# (fault_handler+0x…) ... ADDR -> was not in vram" (older), "SIGSEGV @ PC -> ADDR was not in vram, dynacode:0" (newer);
# then die() traps on purpose, which is not the crash
_REICAST = re.compile(r"^\s*(?P<sig>SIG(?:SEGV|BUS|ILL)) @ (?P<pc>(?:0x)?[0-9a-fA-F]+)\b(?:.*? \.\.\. (?P<addr>(?:0x)?[0-9a-fA-F]+)"
                      r" -> was not in vram| -> (?P<addr2>(?:0x)?[0-9a-fA-F]+) was not in vram)")
_PC = re.compile(r"\bProgram counter: (?P<pc>0x[0-9a-fA-F]+)\s*$")
_ST_FRAME = re.compile(r"^\s*(?P<mod>\S+) : (?P<func>.*?)\+(?P<off>0x[0-9a-fA-F]+)\s+\[(?P<pc>0x[0-9a-fA-F]+)\]\s*$")
_SATYR_HEAD = re.compile(r"^\s*(?:Truncated backtrace:|Thread no\. \d+ \(\d+ frames\))\s*$", re.M)
_SATYR_FRAME = re.compile(r"^\s*#(?P<no>\d+) (?P<func>[A-Za-z_~][\w:~<>,.*& ]*?) (?:at (?P<file>\S+?):(?P<line>\d+)|in (?P<mod>\S+))\s*$")
_SERENITY = re.compile(r"CRASH: CPU #\d+ (?P<what>Illegal instruction|Page fault|Division by zero|General protection fault)"
                       r" in userspace")
_SERENITY_SIG = {"Illegal instruction": "SIGILL", "Page fault": "SIGSEGV", "Division by zero": "SIGFPE",
                 "General protection fault": "SIGSEGV"}


# binutils' addr2line -f -p [-i] [-a] over a printed stack's addresses: "func at file.cc:12", " (inlined by) func at …",
# "?? ??:0" (nothing known); with -a (or a loop echoing each address) the address comes first, on its line or before ": "
_A2L = re.compile(r"^\s*(?:(?P<pc>0x[0-9a-fA-F]+): )?(?P<inl>\(inlined by\) )?(?P<func>[A-Za-z_~?][^#\n]*?) at "
                  r"(?P<file>[^\s:]+):(?P<line>\d+|\?)(?: \(discriminator \d+\))?\s*$")
_A2L_UNKNOWN = re.compile(r"^\s*(?:(?P<pc>0x[0-9a-fA-F]+): )?\?\? \?\?:0\s*$")
_GDB_NO = re.compile(r"^\s*#\d+\s")
_A2L_ADDR = re.compile(r"^\s*(?:addr(?:ess)?:?\s*)?(?P<pc>0x[0-9a-fA-F]+):?\s*$")


def _a2l(ln: str):
    m = _A2L.match(ln)
    if m and " in " not in m.group("func") and "(" not in m.group("func").split("<", 1)[0][:1]:
        return m
    return _A2L_UNKNOWN.match(ln)


def _looks_addr2line(lines: list[str]) -> bool:
    hits = [m for m in map(_a2l, lines) if m]
    return len(hits) >= 3 and any(m.group("pc") or "inl" not in m.groupdict() or m.group("inl") for m in hits) \
        or (len(hits) >= 3 and sum(1 for ln in lines if _A2L_ADDR.match(ln)) >= 2)


def _siginfo_below(lines: list[str], k: int) -> tuple | None:
    """``(si_code, address)`` when the handler printed both within the 6 lines under its caught-signal line."""
    near = lines[k + 1:k + 7]
    addr = next((m.group("addr") for m in map(_SI_ADDR_LINE.match, near) if m), None)
    code = next((c for ln in near for d, c in _SI_DESC.items() if ln.strip().lower().rstrip(".") == d), None)
    return (code, "0x0" if addr == "(nil)" else addr) if addr and code else None


def _caught(ln: str) -> str | None:
    m = _CAUGHT.search(ln) or _RECEIVED_FOR.search(ln) or _CAUGHT_AFTER.search(ln)
    sig = m and (m.groupdict().get("sig") or m.groupdict().get("sig2"))
    return sig if sig in _CRASH_SIGNALS else None


def looks_like_handler_log(text: str) -> bool:
    if "received signal" in text or "terminated with signal" in text:
        return False          # gdb's own stop line says it better
    lines = text.split("\n")[:4000]
    return any(_caught(ln) or _BOX.match(ln) or _REICAST.match(ln) or (_ZABBIX.search(ln) and _ZABBIX.search(ln).group("sig") in _CRASH_SIGNALS)
               or _SERENITY.search(ln) for ln in lines) \
        or sum(1 for ln in lines if _ST_FRAME.match(ln)) >= 3 \
        or (bool(_SATYR_HEAD.search(text)) and any(_SATYR_FRAME.match(ln) for ln in lines)) \
        or sum(1 for ln in lines if _SATYR_FRAME.match(ln)) >= 3 \
        or (not any(_GDB_NO.match(ln) for ln in lines) and _looks_addr2line(lines))


def handler_log_to_gdb(text: str) -> tuple[str, dict]:
    out, signalled, frame_no, pc, satyr_no, facts = [], False, 0, None, 0, {}
    lines = text.split("\n")
    for ln in lines:
        p = _PC.search(ln)
        if p:
            pc = p.group("pc")
    a2l = not any(_GDB_NO.match(ln) for ln in lines) and _looks_addr2line(lines)
    addr = None
    for ln in lines:
        a = _a2l(ln) if a2l else None
        if a:
            g = a.groupdict()
            func, inlined = g.get("func") or "??", bool(g.get("inl"))
            at = None if inlined else (g.get("pc") or addr)
            loc = f" at {g['file']}:{g['line']}" if g.get("line") not in (None, "?") else ""
            out.append(f"#{frame_no}  " + (f"{at} in " if at else "") + f"{func} (){loc}")
            frame_no += 1
            continue
        if a2l and _A2L_ADDR.match(ln):
            addr = _A2L_ADDR.match(ln).group("pc")
            continue
        z = _ZABBIX.search(ln) or _BOX.match(ln)
        rc = _REICAST.match(ln)
        sig = z.group("sig") if z and z.group("sig") in _CRASH_SIGNALS else rc.group("sig") if rc else _caught(ln)
        k = _SERENITY.search(ln)
        if k:
            sig = _SERENITY_SIG[k.group("what")]
        if sig and not signalled:
            signalled = True
            out.append(f"Program received signal {sig}, {_CRASH_SIGNALS[sig]}.")
            if z and z.group("sig") == sig and int(z.group("code")) > 0:
                addr = "0x0" if z.group("addr") == "(nil)" else z.group("addr")
                out.append(f"$0 = {{si_signo = {_SIGNO[sig]}, si_errno = 0, si_code = {z.group('code')}, "
                           f"_sigfault = {{si_addr = {addr}}}}}")
                if pc:          # the handler's own report of where the process was: frame 0's pc
                    out.append(f"#0  {pc} in ?? ()")
                    frame_no = 1
            info = _siginfo_below(lines, lines.index(ln)) if _CAUGHT_AFTER.search(ln) and not z else None
            if info:
                out.append(f"$0 = {{si_signo = {_SIGNO[sig]}, si_errno = 0, si_code = {info[0]}, "
                           f"_sigfault = {{si_addr = {info[1]}}}}}")
            if rc:               # the pc and si_addr the handler printed (no si_code: none is made up)
                facts["si_addr"] = int(rc.group("addr") or rc.group("addr2"), 16)
                out += [ln, f"#0  0x{int(rc.group('pc'), 16):x} in ?? ()"]
                frame_no = 1
                continue
            r = _RECEIVED_FOR.search(ln)
            if r and r.group("sig") == sig:
                facts["si_addr"] = int(r.group("addr"), 16)   # (the handler printed no si_code: none is made up)
            out.append(ln)
            continue
        f = _ST_FRAME.match(ln)
        if f:
            func = f.group("func").strip()
            func = func[:func.index("(")] if "(" in func and not func.startswith("(") else func
            out.append(f"#{frame_no}  {f.group('pc')} in {func or '??'} () from {f.group('mod')}")
            frame_no += 1
            continue
        s = _SATYR_FRAME.match(ln)
        if s:
            where = f" at {s.group('file')}:{s.group('line')}" if s.group("file") else f" from {s.group('mod')}"
            satyr_no = 0 if s.group("no") == "0" else satyr_no + 1     # numbered on (satyr's gaps would read as cut lines)
            out.append(f"#{satyr_no}  {s.group('func').strip()} (){where}")
            continue
        out.append(ln)
    return "\n".join(out), facts
