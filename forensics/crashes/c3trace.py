"""The C3 language runtime's panic and signal report (``std.core.builtin``) as gdb lines.

C3's runtime prints a panic's message and then its own backtrace, one frame a line, innermost first::

    ERROR: 'Out of bounds memory access.'
      in std.core.builtin.print_backtrace (/src/c3/lib/std/core/builtin.c3:68) [./test]
      in std.core.builtin.sig_segmentation_fault (/src/c3/lib/std/core/builtin.c3:686) [./test]
      in __sigaction (source unavailable) [/lib/x86_64-linux-gnu/libc.so.6]
      in main.main (/src/test.c3:6) [./test]

A fatal signal is reported by the runtime's handler for it (``sig_segmentation_fault`` for SIGSEGV,
``sig_bus_error`` for SIGBUS, ``sig_illegal_instruction`` for SIGILL, ``sig_fpe`` for SIGFPE): the handler's
frames (down to it and the libc signal trampoline under it) are the report's, not the crash, so they are written
above gdb's ``<signal handler called>``; C3's standard library (``std.…``, linked into the program) is library code. The handler prints no fault address, so none is written. What the runtime
does afterwards (``Program interrupted by signal 4.``: its own trap once the report is out) is kept as text,
not as the crash's signal.

>>> print(c3trace_to_gdb("  in std.core.builtin.sig_bus_error (/l/builtin.c3:7) [./t]\\n  in main.main (/t.c3:3) [./t]")[0])
Program received signal SIGBUS, Bus error.
#0  std.core.builtin.sig_bus_error () at /l/builtin.c3:7
#1  <signal handler called>
#2  main.main () at /t.c3:3
"""
from __future__ import annotations

import re

_FRAME = re.compile(r"^\s*in (?P<func>\S+) \((?:(?P<file>[^()]*?):(?P<line>\d+)|source unavailable)\) \[(?P<mod>[^\]]+)\]\s*$")
_HANDLER = re.compile(r"^std\.core\.builtin\.sig_(?P<what>segmentation_fault|bus_error|illegal_instruction|fpe)$")
_SIGNAL = {"segmentation_fault": "SIGSEGV", "bus_error": "SIGBUS", "illegal_instruction": "SIGILL", "fpe": "SIGFPE"}
# the libc frame right under a handler: the signal trampoline (glibc's __restore_rt, named after its neighbour)
_TRAMPOLINE = re.compile(r"^(?:__GI___sigaction|__sigaction|__restore_rt|_sigtramp)$")


def looks_like_c3trace(text: str) -> bool:
    """Two or more of the runtime's frame lines, one of them in C3's standard library (``std.``)."""
    frames = [m for m in map(_FRAME.match, text.split("\n")[:2000]) if m]
    return len(frames) >= 2 and any(m.group("func").startswith("std.") for m in frames)


def c3trace_to_gdb(text: str) -> tuple[str, dict]:
    """``(gdb-shaped text, facts)`` for the report (see the module docstring)."""
    from .foreign import frame_line, signal_lines

    out, no, handler_at, facts = [], 0, None, {"foreign": "C3 runtime"}
    lines = text.split("\n")
    frames = [(k, m) for k, m in enumerate(map(_FRAME.match, lines)) if m]
    # C3's standard library (module std::…, printed std.core.…) is linked into the program: library code
    facts["not_own_functions"] = sorted({m.group("func") for _, m in frames if m.group("func").startswith("std.")})
    handler_line, handler = next(((k, m) for k, m in frames if _HANDLER.match(m.group("func"))), (None, None))
    for k, ln in enumerate(lines):
        m = _FRAME.match(ln)
        if not m:
            out.append(ln)
            continue
        if handler is not None and no == 0:
            out += signal_lines(_SIGNAL[_HANDLER.match(handler.group("func")).group("what")])
        func = m.group("func")
        if handler_at is not None and no == handler_at + 1:
            out.append(f"#{no}  <signal handler called>")
            no += 1
            if _TRAMPOLINE.match(func):
                continue
        out.append(frame_line(no, func, None, m.group("file"), m.group("line"), m.group("mod")))
        if k == handler_line:
            handler_at = no
        no += 1
    if handler_at is not None and no == handler_at + 1:
        out.append(f"#{no}  <signal handler called>")      # the report stops at the handler: nothing below it
    return "\n".join(out), facts
