"""The Crystal runtime's fatal-signal report (``src/crystal/system/unix/signal.cr``) as gdb lines.

Crystal's SIGSEGV/SIGBUS handler prints the fault and then its own backtrace, innermost first::

    Invalid memory access (signal 11) at address 0x28
    [0x1029e3c54] print_backtrace at /…/src/exception/call_stack/libunwind.cr:100:5
    [0x1029e371c] -> at /…/src/crystal/system/unix/signal.cr:171:5
    [0x18e3c2a64] _sigtramp +56 in /usr/lib/system/libsystem_platform.dylib
    [0x1038f1e30] GC_finish_collection +2196 in /…/lib/libgc.1.5.4.dylib
    [0x102a1d4b8] parse_header at /…/src/pointer.cr:519:11

(older releases print the pc in decimal, ``[93871502126381] __crystal_sigfault_handler +61``, and ``???`` where
no symbol was found). The signal number is Crystal's host's (11 SIGSEGV; 10 is SIGBUS on macOS/BSD, 7 on Linux),
the address the handler's ``si_addr``. The handler's frames (``print_backtrace``, the handler block ``->``,
``__crystal_sigfault_handler``) and the signal trampoline under them are the report's, written above gdb's
``<signal handler called>``. A ``???`` frame is a pc no one could name: nobody's own code. Its
``Stack overflow (e.g., infinite or very deep recursion)`` line (a fault next to the stack) is the runtime's
verdict.

>>> print(crystal_to_gdb("Invalid memory access (signal 11) at address 0x0\\n[0x10] f at /a.cr:3:5")[0])
Program received signal SIGSEGV, Segmentation fault.
$0 = {si_signo = 11, si_errno = 0, si_code = 1, _sigfault = {si_addr = 0x0}}
Invalid memory access (signal 11) at address 0x0
#0  0x10 in f () at /a.cr:3
"""
from __future__ import annotations

import re

_HEAD = re.compile(r"Invalid memory access \(signal (?P<signo>\d+)\) at address (?P<addr>0x[0-9a-fA-F]+)")
_FRAME = re.compile(r"^\s*\[(?P<pc>0x[0-9a-fA-F]+|\d+)\] (?P<func>\S.*?)"
                    r"(?: at (?P<file>\S+?):(?P<line>\d+)(?::\d+)?| \+\d+(?: in (?P<mod>\S+))?)?\s*$")
_HANDLER = re.compile(r"^(?:print_backtrace|->|__crystal_sigfault_handler|\*?Exception::CallStack::print_backtrace\w*)$")
_TRAMPOLINE = re.compile(r"^(?:_sigtramp|__restore_rt|\?\?\?)$")
_OVERFLOW = "Stack overflow (e.g., infinite or very deep recursion)"


def looks_like_crystal(text: str) -> bool:
    """Crystal's ``Invalid memory access (signal N) at address 0x…`` line."""
    return _HEAD.search(text) is not None


def crystal_to_gdb(text: str) -> tuple[str, dict]:
    """``(gdb-shaped text, facts)`` for the report (see the module docstring)."""
    from .foreign import signal_lines

    lines, out, facts = text.split("\n"), [], {"foreign": "the Crystal runtime"}
    head = next((m for m in map(_HEAD.search, lines) if m), None)
    signo = int(head.group("signo"))
    sig = {11: "SIGSEGV", 10: "SIGBUS", 7: "SIGBUS"}.get(signo)
    # macOS/BSD number SIGBUS 10 (SIGUSR1 on Linux, which Crystal does not trap): the runtime's own handler says which
    if any(_OVERFLOW in ln for ln in lines):
        facts["runtime_verdict"] = ("stack-overflow", "crystal-stack-overflow", "probably", "StackOverflow",
                                    "the Crystal runtime reports a stack overflow (the fault is next to the stack)")
    unnamed, handler, no, in_handler = [], set(), 0, True
    head_at = next(k for k, ln in enumerate(lines) if _HEAD.search(ln))
    for k, ln in enumerate(lines):
        if k == head_at:
            out += signal_lines(sig, 1, int(head.group("addr"), 16)) if sig else []
            out.append(ln)
            continue
        m = _FRAME.match(ln)
        if not m:
            out.append(ln)
            continue
        pc = int(m.group("pc"), 16) if m.group("pc").startswith("0x") else int(m.group("pc"))
        func = m.group("func").strip()
        if in_handler and _HANDLER.match(func):
            handler.add(func)
        elif in_handler:
            in_handler = False
            if no:                        # the handler's frames above: the signal was delivered here
                out.append(f"#{no}  <signal handler called>")
                no += 1
                if _TRAMPOLINE.match(func):
                    continue
        if func == "???":
            unnamed.append(pc)
            func = "??"
        where = f" at {m.group('file')}:{m.group('line')}" if m.group("file") else \
            f" from {m.group('mod')}" if m.group("mod") else ""
        out.append(f"#{no}  0x{pc:x} in {func} (){where}")
        no += 1
    facts["not_own_pcs"] = sorted(set(unnamed))
    facts["not_own_functions"] = sorted(handler)      # the report's own frames, not where it faulted
    return "\n".join(out), facts
