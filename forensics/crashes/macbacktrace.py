"""macOS's ``backtrace_symbols()`` print: a program's own stack dump, not a crash report.

libSystem formats each frame as ``%-4d%-35s 0x%016lx %s + %lu`` — the frame number, the image's name, the
address, the symbol (mangled, as the image exports it) and the offset: ``2   libfoo.dylib   0x00000001000a1b2c
foo_parse + 44``; an address in no image prints ``???`` as its image and ``0x0 + <address in decimal>`` as its
symbol. A crash report prints the same rows under ``Thread N:`` headers (read by ``foreign._macos``); a program's
signal handler that calls ``backtrace_symbols_fd`` prints them alone, numbered from 0, usually under one line
naming the signal it caught. With libSystem's signal trampoline (``_sigtramp``) on the stack, the rows above it are
the handler's and the row under it is where the signal hit; without a line naming the signal, none is made up.

>>> looks_like_mac_backtrace("0   app   0x0000000100001000 main + 1\\n1   app   0x0000000100001100 run + 2\\n"
...                          "2   libdyld.dylib   0x00007fff20001000 start + 1\\n")
True
"""
from __future__ import annotations

import re

_ROW = re.compile(r"^\s*(?P<no>\d+)\s+(?P<mod>\S+)\s+(?P<pc>0x[0-9a-fA-F]+) (?:(?P<func>\S.*?) \+ \d+|0x0 \+ \d+)\s*$")
# one line naming the one signal the handler caught ("Error: signal SIGSEGV", "Received signal SIGBUS")
_SIGNAL_LINE = re.compile(r"^\s*(?:[A-Z][\w ]{0,30}: )?(?:[Rr]eceived |[Cc]aught |[Gg]ot )?signal:? (?P<sig>SIG[A-Z]+)\.?\s*$")
MIN_RUN = 3


def _rows(lines):
    return [(k, m) for k, m in ((k, _ROW.match(ln)) for k, ln in enumerate(lines)) if m]


def looks_like_mac_backtrace(text: str) -> bool:
    lines = text[:1 << 16].split("\n")[:2000]
    if any(re.match(r"^\s*Thread \d+(?: Crashed)?:", ln) for ln in lines):
        return False                      # a crash report's thread list: foreign._macos reads it
    rows = _rows(lines)
    # a run numbered from 0 in steps of one, each row an image then an address (backtrace_symbols' columns)
    return len(rows) >= MIN_RUN and int(rows[0][1].group("no")) == 0 and \
        all(int(m.group("no")) == i for i, (_, m) in enumerate(rows[:MIN_RUN]))


def mac_backtrace_to_gdb(text: str) -> tuple[str, dict]:
    from .foreign import frame_line, signal_lines

    lines = text.split("\n")
    rows = dict(_rows(lines))
    first = min(rows)
    sigs = [m.group("sig") for m in map(_SIGNAL_LINE.match, lines[:first]) if m]
    trampoline = any((m.group("func") or "").strip() in ("_sigtramp", "__sigtramp") for m in rows.values())
    facts = {"foreign": "macOS's backtrace_symbols print"}
    out = []
    for k, ln in enumerate(lines):
        if k == first:
            if len(set(sigs)) == 1 and trampoline:
                out += signal_lines(sigs[0])   # the handler's own line names the signal its trampoline frame shows
            out += ["[Current thread is 1 (Thread 1)]", "Thread 1 (Thread 1):"]
        m = rows.get(k)
        if m is None:
            if not (k < first and _SIGNAL_LINE.match(ln) and len(set(sigs)) == 1 and trampoline):
                out.append(ln)
            continue
        func = (m.group("func") or "").strip() or "??"
        mod = None if m.group("mod") == "???" else m.group("mod")
        out.append(frame_line(int(m.group("no")), func, int(m.group("pc"), 16), module=mod))
    return "\n".join(out), facts
