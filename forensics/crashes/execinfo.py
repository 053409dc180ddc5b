"""Frame lists that are not gdb's: glibc's ``backtrace_symbols`` print (old glibc's ``======= Backtrace:
=========``, crash handlers that call ``backtrace_symbols_fd``) and an IDE's copied frame list, as the
gdb frames they mean.

Each line names the object, the symbol and offset when known, and the return address:
``/lib/libc.so.6(__fortify_fail+0x45)[0xb76a2bc5]``, ``./libfoo.so(+0x2564)[0xb775a564]`` or
``./prog[0x80489d9]``. :func:`execinfo_to_gdb` numbers a run of such lines as one backtrace
(``#0  0xb76a2bc5 in __fortify_fail () from /lib/libc.so.6``); the program's stderr above it
(``*** stack smashing detected ***``) stays for the parser.

>>> print(execinfo_to_gdb("======= Backtrace: =========\\n/lib/libc.so.6(abort+0x1)[0x10]\\n./prog[0x8048731]"))
======= Backtrace: =========
#0  0x10 in abort () from /lib/libc.so.6
#1  0x8048731 in ?? () from ./prog

An IDE's frames view (CLion's "Copy Stack") gives one ``function 0xPC`` or ``function file.cpp:42`` line
per frame; :func:`ide_frames_to_gdb` numbers such a run:

>>> print(ide_frames_to_gdb("__GI_abort 0x00007ffff4a268b7\\n<unknown> 0x00007ffff4ea4f06\\nTable::~Table table.cpp:15\\n"
...                         "Player::Shutdown player.cpp:804\\nmain main.cpp:13"))
#0  0x00007ffff4a268b7 in __GI_abort ()
#1  0x00007ffff4ea4f06 in ?? ()
#2  Table::~Table () at table.cpp:15
#3  Player::Shutdown () at player.cpp:804
#4  main () at main.cpp:13
"""
from __future__ import annotations

import re

LINE = re.compile(r"^\s*(?P<mod>[^\s()\[\]]+)(?:\((?P<func>[^()+]*)(?:\+(?P<off>0x[0-9a-fA-F]+))?\))?\s*"
                  r"\[(?P<pc>0x[0-9a-fA-F]+)\]\s*$")
_MARK = re.compile(r"^\s*=+ Backtrace: =+\s*$", re.M)
MIN_RUN = 3     # three such lines in a row are a backtrace, not a stray "[0x…]"


def _runs(lines: list[str]) -> list[tuple[int, int]]:
    out, start = [], None
    for i, ln in enumerate(lines + [""]):
        hit = LINE.match(ln) is not None and ("/" in ln or "(" in ln)
        if hit and start is None:
            start = i
        elif not hit and start is not None:
            out.append((start, i))
            start = None
    return out


def looks_like_execinfo(text: str) -> bool:
    if _MARK.search(text):
        return True
    return any(b - a >= MIN_RUN for a, b in _runs(text.split("\n")[:4000]))


def execinfo_to_gdb(text: str) -> str:
    lines = text.split("\n")
    marked = bool(_MARK.search(text))
    for a, b in _runs(lines):
        if b - a < MIN_RUN and not (marked and a > 0 and _MARK.match(lines[a - 1])):
            continue
        for k in range(a, b):
            m = LINE.match(lines[k])
            func = (m.group("func") or "").strip() or "??"
            lines[k] = f"#{k - a}  {m.group('pc')} in {func} () from {m.group('mod')}"
    return "\n".join(lines)


IDE_LINE = re.compile(r"^(?P<func>[A-Za-z_<~][^\s()]*(?:\([^()]*\))?(?: const)?) (?:(?P<pc>0x[0-9a-fA-F]{6,16})|"
                      r"(?P<file>[\w./\\-]+\.\w+):(?P<line>\d+))\s*$")
IDE_MIN_RUN = 5


def _ide_runs(lines: list[str]) -> list[tuple[int, int]]:
    out, start = [], None
    for i, ln in enumerate(lines + [""]):
        hit = IDE_LINE.match(ln) is not None
        if hit and start is None:
            start = i
        elif not hit and start is not None:
            block = [IDE_LINE.match(x) for x in lines[start:i]]
            # a frame list has addresses and source locations, not only one kind (a log's "key value" lines)
            if i - start >= IDE_MIN_RUN and any(m.group("pc") for m in block) and any(m.group("file") for m in block):
                out.append((start, i))
            start = None
    return out


def looks_like_ide_frames(text: str) -> bool:
    return bool(_ide_runs(text.split("\n")[:4000]))


def ide_frames_to_gdb(text: str) -> str:
    lines = text.split("\n")
    for a, b in _ide_runs(lines):
        for k in range(a, b):
            m = IDE_LINE.match(lines[k])
            func = m.group("func")
            func = "??" if func == "<unknown>" else func.split("(", 1)[0]
            where = f" at {m.group('file')}:{m.group('line')}" if m.group("file") else ""
            pc = f"{m.group('pc')} in " if m.group("pc") else ""
            lines[k] = f"#{k - a}  {pc}{func} (){where}"
    return "\n".join(lines)
