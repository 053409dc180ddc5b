"""Wine's crash report (winedbg's automatic backtrace of an unhandled exception) as gdb lines.

When a Windows program faults under Wine, Wine prints the exception and winedbg dumps registers, stack and backtrace::

    wine: Unhandled page fault on read access to 00000000 at address 0045B7E2 (thread 0031), starting debugger...
    Unhandled exception: page fault on read access to 0x00000000 in 32-bit code (0x0045b7e2).
    Register dump:
     EIP:0045b7e2 ESP:0033fd40 EBP:0033fd88 EFLAGS:00010246(  R- --  I  Z- -P- )
    Backtrace:
    =>0 0x0045b7e2 EntryPoint+0x1a2c0() in app_main (0x0033fd88)
      1 0x6ed9e6f3 call_window_proc+0x63(hwnd=0002003A, msg=0x1) [Z:\\…\\dlls\\user32\\winproc.c:246] in user32 (0x0033fe04)
      2 0x7c15e2a1 in mfc71 (+0x1e2a0) (0x0033fe60)
    =>0 0x7d8c51a0 (0x0033fd10)

A page fault names its access (read / write / execute) and the address (SIGSEGV at it; an execute fault, or a pc
equal to the address, is a jump there); ``divide by zero`` is SIGFPE, ``illegal`` / ``privileged instruction``
SIGILL, ``stack overflow`` the verdict itself. Other exceptions (an unimplemented function, a C++ exception, an
NTSTATUS code) name no signal: none is written. Wine's thread ids are hex TIDs, not gdb thread numbers. Wine prints
modules without their extension: Windows' own DLLs (``user32``, ``ntdll``, ``msvcrt``) get theirs back, so the
system-library rule knows them.

>>> text, facts = winedbg_to_gdb("Unhandled exception: page fault on write access to 0x00000010 in 64-bit code "
...                               "(0x0000000140001000).\\nBacktrace:\\n=>0 0x0000000140001000 f+0x10() in toy (0x1)\\n")
>>> print(text.split("\\n")[0]); facts["access"]
Program received signal SIGSEGV, Segmentation fault.
'write'
"""
from __future__ import annotations

import re

_PAGE_FAULT = re.compile(r"page fault on (?P<rw>read|write|execute) access to (?:0x)?(?P<addr>[0-9a-fA-F]+)"
                         r"(?: in (?:32|64)-bit code \(0x(?P<pc>[0-9a-fA-F]+)\)| at address (?:0x)?(?P<pc2>[0-9a-fA-F]+))")
_OTHER = re.compile(r"Unhandled exception: (?P<what>divide by zero|illegal instruction|privileged instruction|"
                    r"stack overflow) in (?:32|64)-bit code \(0x(?P<pc>[0-9a-fA-F]+)\)")
_SIG = {"divide by zero": "SIGFPE", "illegal instruction": "SIGILL", "privileged instruction": "SIGILL"}
_FRAME = re.compile(r"^\s*(?:=>|#)?(?P<no>\d+) 0x(?P<pc>[0-9a-fA-F]+) (?:(?P<func>[^\s()]+?)(?:\+0x[0-9a-fA-F]+)?\("
                    r"(?P<args>.*)\)(?: \[(?P<file>.+):(?P<line>\d+)\])? in (?P<mod>\S+) |in (?P<mod2>\S+) "
                    r"\(\+0x[0-9a-fA-F]+\) )?\(0x[0-9a-fA-F]+\)\s*$")


def looks_like_winedbg(text: str) -> bool:
    """Wine's ``Unhandled exception:`` / ``Unhandled page fault`` line, or two or more winedbg frames."""
    lines = text.split("\n")[:4000]
    if any("Unhandled exception: " in ln and "-bit code (0x" in ln or "wine: Unhandled page fault on " in ln
           for ln in lines):
        return True
    return sum(1 for ln in lines if _FRAME.match(ln)) >= 2 and any(ln.lstrip().startswith("=>0 0x") for ln in lines)


def winedbg_to_gdb(text: str) -> tuple[str, dict]:
    """``(gdb-shaped text, facts)`` for the report (see the module docstring)."""
    from .foreign import signal_lines
    from .frames import _WINDOWS_DLL

    lines, out, facts = text.split("\n"), [], {"foreign": "Wine's crash report"}
    said = False
    for ln in lines:
        pf = _PAGE_FAULT.search(ln) if not said else None
        ot = _OTHER.search(ln) if not said and not pf else None
        if pf:
            said, addr, rw = True, int(pf.group("addr"), 16), pf.group("rw")
            if rw != "execute":
                facts["access"] = rw
            out += signal_lines("SIGSEGV", 1, addr)
        elif ot:
            said, what = True, ot.group("what")
            if what == "stack overflow":
                facts["runtime_verdict"] = ("stack-overflow", "wine-stack-overflow", "probably", "StackOverflow",
                                            "Wine reports an unhandled stack overflow exception")
            else:
                out += signal_lines(_SIG[what])
        f = _FRAME.match(ln)
        if f:
            mod = f.group("mod") or f.group("mod2")
            if mod and "." not in mod and _WINDOWS_DLL.match(mod + ".dll"):
                mod += ".dll"
            func = f.group("func")
            args = f.group("args") or ""
            # (a Windows DLL's frame is the system's even with Wine's source line: the module decides)
            where = f" from {mod}" if mod and mod.endswith(".dll") else \
                f" at {f.group('file')}:{f.group('line')}" if f.group("file") and " " not in f.group("file") \
                else f" from {mod}" if mod else ""
            out.append(f"#{int(f.group('no'))}  0x{int(f.group('pc'), 16):x} in {func or '??'} ({args}){where}")
            continue
        out.append(ln)
    return "\n".join(out), facts
