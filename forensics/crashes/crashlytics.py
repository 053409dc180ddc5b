"""Firebase Crashlytics' (and Fabric's) iOS crash export, written as the gdb lines that carry the same facts.

What the Crashlytics console shows (and users copy into trackers) for an iOS crash is not Apple's crash
report: there is no ``Exception Type:`` header and no thread numbers. Its shape:

* the issue's title, ``Crashed: <queue or thread name>`` (``com.apple.main-thread``, ``Thread``), and under it
  the exception as one line: the Mach exception, its code and the address —
  ``EXC_BAD_ACCESS KERN_INVALID_ADDRESS 0x0000000000000010`` (older exports: ``… KERN_INVALID_ADDRESS at 0x…``),
  ``EXC_BREAKPOINT 0x…``, ``SIGABRT ABORT 0x…``; or ``Fatal Exception: NSInvalidArgumentException``;
* one block per thread: a header line naming the thread — the crashed one ``Crashed: com.apple.main-thread``
  (``Thread : Crashed: …`` in Fabric's export, ``#0. Crashed: …`` in the text download), the others by their
  queue or thread name alone — over frames ``0  Module  0x104f57a9c symbol + 32`` (``+ 22 (File.swift:22)``,
  ``<redacted> + 40`` for a system symbol Apple withholds, ``(Missing)`` for an unsymbolicated one).

Threads are numbered in the order the blocks appear (the export numbers none); the crashed block is the current
thread. Only the values the export printed become facts: the address only for a bad access, whose code
(KERN_INVALID_ADDRESS: not mapped; KERN_PROTECTION_FAILURE: not permitted) becomes the ``si_code``.

>>> text, facts = crashlytics_to_gdb("Crashed: com.apple.main-thread\\nEXC_BAD_ACCESS KERN_INVALID_ADDRESS 0x0\\n\\n"
...                                  "Crashed: com.apple.main-thread\\n0  App  0x104f57a9c App.f() + 32\\n")
>>> print(text)
Crashed: com.apple.main-thread
Program received signal SIGSEGV, Segmentation fault.
$0 = {si_signo = 11, si_errno = 0, si_code = 1, _sigfault = {si_addr = 0x0}}
<BLANKLINE>
[Current thread is 1 (Thread 1)]
Thread 1 (Thread 1):
#0  0x104f57a9c in App.f () from App
<BLANKLINE>
"""
from __future__ import annotations

import re

#: the exception line: Mach exception (or a signal), its code, the address ("at" in older exports)
_EXC = re.compile(r"^\s*(?P<exc>EXC_[A-Z_]+|SIG[A-Z]+)(?: (?P<code>[A-Z][A-Z0-9_]+))?(?: at)? (?P<addr>0x[0-9a-fA-F]+)\s*$")
_FATAL_EXC = re.compile(r"^\s*Fatal Exception: (?P<type>[A-Za-z_][\w.]*)\s*$")
_CRASHED = re.compile(r"^\s*(?:#\d+\. |\d+\. |Thread : )?Crashed: (?P<name>\S.*?)\s*$")
_FRAME = re.compile(r"^\s*(?P<no>\d+)\s+(?P<mod>\S+(?: \S+)*?)\s+(?P<pc>0x[0-9a-fA-F]+) (?P<sym>.+?)\s*$")
_SYM = re.compile(r"^(?:(?P<func>.+?) \+ \d+(?: \((?P<file>[^():]+):(?P<line>\d+)\))?|\((?P<missing>[^()]+)\))$")
_SIG = {"EXC_BAD_ACCESS": "SIGSEGV", "EXC_BAD_INSTRUCTION": "SIGILL", "EXC_ARITHMETIC": "SIGFPE",
        "EXC_BREAKPOINT": "SIGTRAP", "EXC_CRASH": "SIGABRT"}
_ACCESS_CODE = {"KERN_INVALID_ADDRESS": 1, "KERN_PROTECTION_FAILURE": 2}


def _frame(ln: str):
    f = _FRAME.match(ln)
    return f if f and _SYM.match(f.group("sym")) else None


def looks_like_crashlytics(text: str) -> bool:
    """A ``Crashed: name`` (or ``Fatal Exception: T``) header over a frame line, or the one-line exception above
    frame lines (and no Apple ``Exception Type:`` header: that is the crash report :mod:`.foreign` reads)."""
    lines = text.split("\n")[:4000]
    if any(ln.lstrip().startswith("Exception Type:") for ln in lines):
        return False
    headed = any((_CRASHED.match(a) or _FATAL_EXC.match(a)) and _frame(b) for a, b in zip(lines, lines[1:]))
    exc = any(_EXC.match(ln) and _SIG.get(_EXC.match(ln).group("exc"), _EXC.match(ln).group("exc")).startswith("SIG")
              for ln in lines)
    return headed or (exc and sum(1 for ln in lines if _frame(ln)) >= 2)


def crashlytics_to_gdb(text: str) -> tuple[str, dict]:
    """``(gdb-shaped text, facts)`` for a Crashlytics export (see the module docstring)."""
    from .foreign import frame_line, signal_lines

    lines, out, facts = text.split("\n"), [], {"foreign": "the Crashlytics report"}
    thread, signalled = 0, False
    for k, ln in enumerate(lines):
        e = _EXC.match(ln)
        if e and not signalled:
            exc, code = e.group("exc"), e.group("code")
            sig = exc if exc.startswith("SIG") else _SIG.get(exc)
            if sig:
                signalled = True
                si_code = _ACCESS_CODE.get(code or "") if sig == "SIGSEGV" else None
                out += signal_lines(sig, si_code, int(e.group("addr"), 16) if si_code else None)
                continue
        x = _FATAL_EXC.match(ln)
        if x and not signalled:
            signalled = True
            facts["exception_type"] = x.group("type")      # an uncaught Objective-C exception: the runtime aborts
            out += [ln] + signal_lines("SIGABRT")
            if k + 1 < len(lines) and _frame(lines[k + 1]):  # the crashed thread's frames right under it
                thread += 1
                out += [f"[Current thread is {thread} (Thread {thread})]", f"Thread {thread} (Thread {thread}):"]
            continue
        nxt = _frame(lines[k + 1]) if k + 1 < len(lines) else None
        if nxt and not _frame(ln) and ln.strip():
            thread += 1                                    # a thread block's header: its name over frames
            if _CRASHED.match(ln):
                out.append(f"[Current thread is {thread} (Thread {thread})]")
            out.append(f"Thread {thread} (Thread {thread}):")
            continue
        f = _frame(ln) if thread else None
        if f:
            s = _SYM.match(f.group("sym"))
            func = s.group("func")
            func = "??" if not func or func == "<redacted>" else func
            out.append(frame_line(int(f.group("no")), func, int(f.group("pc"), 16), s.group("file"), s.group("line"),
                                  f.group("mod")))
            continue
        out.append(ln)
    return "\n".join(out), facts
