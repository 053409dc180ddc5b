"""Zig's segfault handler report: ``Segmentation fault at address 0x11eb9f0``, then its stack trace.

Each frame is ``/path/src/ast.zig:530:25: 0x106d23b in parse (bio)`` (file:line:column, pc, function, the module
in brackets), followed by the source line and a caret. The handler also words ``Illegal instruction at address``,
``Bus error at address`` and ``Arithmetic exception at address``. Frames of Zig's own library (``…/lib/zig/std/…``,
``compiler_rt``) are the runtime's, not the program's.

>>> looks_like_zig_trace("Segmentation fault at address 0x10\\n/a/b.zig:3:5: 0x1000 in f (p)\\n")
True
"""
from __future__ import annotations

import re

_HEAD = re.compile(r"^(?P<what>Segmentation fault|Illegal instruction|Bus error|Arithmetic exception) at address "
                   r"(?P<addr>0x[0-9a-fA-F]+)\s*$")
_FRAME = re.compile(r"^(?P<file>\S+\.zig):(?P<line>\d+):\d+: (?P<pc>0x[0-9a-fA-F]+) in (?P<func>\S+) \((?P<mod>[^)]*)\)\s*$")
_SIG = {"Segmentation fault": "SIGSEGV", "Illegal instruction": "SIGILL", "Bus error": "SIGBUS",
        "Arithmetic exception": "SIGFPE"}
_ZIG_LIB = re.compile(r"/(?:lib/zig|zig/lib)/|^(?:compiler_rt|std)$")


def looks_like_zig_trace(text: str) -> bool:
    lines = text[:1 << 16].split("\n")
    return any(_HEAD.match(a.strip()) for a in lines[:200]) and any(_FRAME.match(b.strip()) for b in lines[:400])


def zig_trace_to_gdb(text: str) -> tuple[str, dict]:
    from .foreign import frame_line, signal_lines

    out, facts, no, library = [], {"foreign": "Zig's segfault handler"}, 0, []
    for ln in text.split("\n"):
        s = ln.strip()
        h = _HEAD.match(s)
        if h and not facts.get("signal_seen"):
            facts["signal_seen"] = True
            sig, addr = _SIG[h.group("what")], int(h.group("addr"), 16)
            # the kernel's fault (the handler runs only for a fault it was sent): si_code 1, its address
            out += signal_lines(sig, code=1, addr=addr)
            continue
        f = _FRAME.match(s)
        if f:
            if _ZIG_LIB.search(f.group("file")) or _ZIG_LIB.search(f.group("mod")):
                library.append(f.group("func"))
            out.append(frame_line(no, f.group("func"), int(f.group("pc"), 16), f.group("file"), int(f.group("line"))))
            no += 1
            continue
        out.append(ln)
    facts.pop("signal_seen", None)
    if library:
        facts["not_own_functions"] = sorted(set(library))
    return "\n".join(out), facts
