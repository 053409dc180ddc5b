"""Nim's traceback: ``Traceback (most recent call last)`` (no colon), ``file.nim(line)  proc`` lines with the most
recent call last, then the signal handler's words (``SIGSEGV: Illegal storage access. (Attempt to read from nil?)``).

Frames in Nim's standard library (``system.nim``, ``lib/system/``, ``lib/pure/``) are the runtime's.

>>> looks_like_nim_trace("Traceback (most recent call last)\\nmain.nim(4) main\\nSIGSEGV: Illegal storage access.\\n")
True
"""
from __future__ import annotations

import re

_HEAD = re.compile(r"^Traceback \(most recent call last\)\s*$")
_FRAME = re.compile(r"^(?P<file>\S+\.nim)\((?P<line>\d+)\)\s+(?P<func>\S+)\s*$")
_SIG = re.compile(r"^(?P<sig>SIGSEGV|SIGBUS|SIGFPE|SIGILL|SIGABRT): \S")
_NIM_LIB = re.compile(r"(?:^|/)(?:system|excpt|gc\w*|alloc|seqs\w*|strs\w*|arc|orc)\.nim$|/lib/(?:system|pure|core)/")


def looks_like_nim_trace(text: str) -> bool:
    lines = text[:1 << 16].split("\n")
    return any(_HEAD.match(a.strip()) and _FRAME.match(b.strip()) for a, b in zip(lines, lines[1:]))


def nim_trace_to_gdb(text: str) -> tuple[str, dict]:
    from .foreign import frame_line, signal_lines

    lines, facts = text.split("\n"), {"foreign": "Nim's traceback"}
    frames, rest, sig = [], [], None
    for ln in lines:
        s = ln.strip()
        f = _FRAME.match(s)
        if f:
            frames.append(f)
            continue
        m = _SIG.match(s)
        if m and sig is None:
            sig = m.group("sig")
            continue
        rest.append(ln)
    out = rest + (signal_lines(sig) if sig else [])
    library = []
    for no, f in enumerate(reversed(frames)):            # the most recent call is printed last
        if _NIM_LIB.search(f.group("file")):
            library.append(f.group("func"))
        out.append(frame_line(no, f.group("func"), None, f.group("file"), int(f.group("line"))))
    if library:
        facts["not_own_functions"] = sorted(set(library))
    return "\n".join(out), facts
