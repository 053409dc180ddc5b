"""backward-cpp's stack print (its ``SignalHandling`` handler or ``Printer``), as the gdb frames it means.

``Stack trace (most recent call last):`` (or ``… first``) heads frames numbered from the most recent call, #0,
printed in either order: ``#3    Source "src/a.cpp", line 42, in f [0x4011d3]`` (with a source line, then its
snippet indented under it) or ``#5    Object "/lib/libc.so.6", at 0x7f…, in __libc_start_main`` (no source). The
handler prints glibc's ``psiginfo`` line after it (``Segmentation fault (Address not mapped to object [(nil)])``),
read by :func:`.runtimes.last_words`. backward-cpp's own frames (its one header, ``backward.hpp``: the handler and
the unwinder it calls) are the reporter's, not the crash's: library code.

>>> print(backward_to_gdb('Stack trace (most recent call last):\\n#1    Object "/lib/libc.so.6", at 0x7f10, in abort\\n'
...                       '#0    Source "a.cpp", line 3, in f [0x401136]'))
Stack trace (most recent call last):
#0  0x401136 in f () at a.cpp:3
#1  0x7f10 in abort () from /lib/libc.so.6
"""
from __future__ import annotations

import re

_HEAD = re.compile(r"^\s*Stack trace \(most recent call (?:last|first)\):\s*$", re.M)
_FRAME = re.compile(r'^\s*#(?P<no>\d+)\s+(?:Source "(?P<file>[^"]*)", line (?P<line>\d+), in (?P<func>.*?)(?: \[(?P<pc>0x[0-9a-fA-F]+)\])?'
                    r'|Object "(?P<obj>[^"]*)", at (?P<at>0x[0-9a-fA-F]+), in(?: (?P<ofunc>.*?))?)\s*$')
LIBRARY_FILE = re.compile(r"(?:^|/)backward\.hpp$")


def looks_like_backward(text: str) -> bool:
    return bool(_HEAD.search(text)) and sum(1 for ln in text.split("\n")[:4000] if _FRAME.match(ln)) >= 2


def backward_to_gdb(text: str) -> str:
    """Frames in gdb's order (#0 first: "most recent call last" prints it last); the snippet lines under them go."""
    lines = text.split("\n")
    at = [k for k, ln in enumerate(lines) if _FRAME.match(ln)]
    frames = sorted((_frame(_FRAME.match(lines[k])) for k in at), key=lambda x: x[0])
    out = []
    for k, ln in enumerate(lines):
        if at and k == at[0]:
            out += [f for _, f in frames]
        elif not (at and at[0] < k <= at[-1]) or not (ln.startswith((" ", "\t", ">")) or _FRAME.match(ln)):
            out.append(ln)
    return "\n".join(out)


def _frame(m: re.Match) -> tuple[int, str]:
    func = (m.group("func") or m.group("ofunc") or "").strip() or "??"
    func = func.split("(", 1)[0] if not func.startswith("(") else func
    pc = m.group("pc") or m.group("at")
    where = f" at {m.group('file')}:{m.group('line')}" if m.group("file") else \
        f" from {m.group('obj')}" if m.group("obj") else ""
    return int(m.group("no")), f"#{m.group('no')}  " + (f"{pc} in " if pc else "") + f"{func} (){where}"
