"""gtk-gnutella's crash log (its ``src/lib/crash.c`` / ``signal.c`` handlers, also used by its test programs).

The handler (``signal.c``'s ``sig_exception_format``) logs the signal with the fault's details, one line: ``got SIGSEGV for VA=0x7f12… {PA=0x7f12…000+4088}
(address not mapped to object) at PC=0x7f34… (func) from /usr/lib/libc.so.12`` — the fault address, psiginfo's
wording of ``si_code`` (``address not mapped to object`` = SEGV_MAPERR, ``invalid permissions for mapped object`` =
SEGV_ACCERR), the pc with its symbol and object — then ``crash_mode(): … from thread "main" (#0)`` (its threads are
numbered from 0, shown +1 as gdb would), ``CRASH (pid=N) for prog`` and ``CRASH (pid=N) by SIGSEGV after 0s -- stack
was:`` over indented ``func+off`` / ``<sym> : lib`` rows. Those rows are the handler's own stack (``crash_handler``,
``signal_trampoline``, the libc trampoline) down to where the signal hit: the rows above the trampoline are not the
crash; the pc of the ``got`` line is frame 0.

>>> looks_like_gtkg_crash("10-01-02 03:04:05.678 (WARNING): got SIGBUS for VA=0x1000 (object specific hardware "
...                       "error) at PC=0x400000 (f) from /bin/x\\n")
True
"""
from __future__ import annotations

import re

# (signal.c's sig_exception_format: "got [recursive ]SIG…", " for VA=%p" for SIGSEGV/SIGBUS only, " (reason)", " at PC=%p",
# then " (routine)" and " from <file>" only when the pc is outside the program's own text)
_GOT = re.compile(r"\bgot (?:recursive )?(?P<sig>SIG[A-Z]+)(?: for VA=(?P<addr>0x[0-9a-fA-F]+)(?: \{[^}]*\})?)?"
                  r"(?: \((?P<why>[^)]*)\))?(?: at PC=(?P<pc>0x[0-9a-fA-F]+)(?: \((?P<func>[^)\s]+)\))?(?: from (?P<mod>\S+))?)?")
_THREAD = re.compile(r'\bfrom thread "[^"]*" \(#(?P<no>\d+)\)')
_STACK = re.compile(r"\bCRASH \(pid=\d+\) by (?P<sig>SIG[A-Z]+)\b.*-- stack was:\s*$")
_ROW = re.compile(r"^\s+(?:(?P<func>[A-Za-z_][\w.]*)\+(?P<off>\d+)|<(?P<sym>[^>]+)>(?: : (?P<mod>\S+))?)\s*$")
_CODES = {"address not mapped to object": 1, "invalid permissions for mapped object": 2,
          "invalid address alignment": 1, "nonexistent physical address": 2, "object specific hardware error": 3}


def looks_like_gtkg_crash(text: str) -> bool:
    return any(m.group("addr") or m.group("pc") for m in _GOT.finditer(text[:1 << 16]))


def gtkg_crash_to_gdb(text: str) -> tuple[str, dict]:
    from .foreign import frame_line, signal_lines

    lines, out, facts = text.split("\n"), [], {"foreign": "gtk-gnutella's crash log"}
    got_at = next((k for k, ln in enumerate(lines) if (g := _GOT.search(ln)) and (g.group("addr") or g.group("pc"))), None)
    got = _GOT.search(lines[got_at]) if got_at is not None else None
    thread = next((int(m.group("no")) + 1 for m in map(_THREAD.search, lines) if m), 1)
    in_stack, rows = False, []
    for k, ln in enumerate(lines):
        if k == got_at:
            code = _CODES.get((got.group("why") or "").strip().lower())
            out += signal_lines(got.group("sig"), code if got.group("addr") else None,
                                int(got.group("addr"), 16) if code and got.group("addr") else None)
            out.append(ln)
            continue
        if _STACK.search(ln):
            in_stack = True
            out.append(ln)
            continue
        r = _ROW.match(ln) if in_stack else None
        if r:
            rows.append(r)
            continue
        in_stack = False if in_stack and ln.strip() else in_stack
        out.append(ln)
    # frame 0 is where the signal hit (the pc the handler logged); the handler's own printed rows, above the kernel's
    # trampoline, are kept as its frames above it (gdb prints a handler's frames above "<signal handler called>")
    frames, no = [], 0
    for r in rows:
        func = r.group("func") or r.group("sym")
        frames.append(frame_line(no, func, None, module=r.group("mod")))
        no += 1
    if got is not None and got.group("pc"):
        frames.append(f"#{no}  <signal handler called>")
        frames.append(frame_line(no + 1, got.group("func") or "??", int(got.group("pc"), 16), module=got.group("mod")))
    if rows:
        # the handler's rows: its own code and the trampoline, not where the signal hit
        facts["not_own_functions"] = sorted({r.group("func") or r.group("sym") for r in rows})
    if frames:
        out += [f"[Current thread is {thread} (Thread {thread})]", f"Thread {thread} (Thread {thread}):"] + frames
    return "\n".join(out), facts
