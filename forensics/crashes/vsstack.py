"""Visual Studio's Call Stack window as users copy it ("Copy All"), written as gdb frame lines.

One row per frame, innermost first: ``module!function(parameters) Line N`` and the language column, the
current frame marked with ``>``; a module without symbols shows its address instead (``Qt5Cored.dll!66156cf6()
Unknown``), and the debugger adds rows that are no frame (``[External Code]``, ``[Frames below may be incorrect
and/or missing, …]``). The parameter list holds declarations (types and names), not values, so it is not kept.
The window names no file, only the line.

>>> print(vs_stack_to_gdb(">   toy.dll!Toy::run(int n) Line 12   C++\\n    toy.exe!main() Line 3 C++\\n")[0])
#0  Toy::run () from toy.dll
#1  main () from toy.exe
<BLANKLINE>
"""
from __future__ import annotations

import re

_ROW = re.compile(r"^\s*(?:>\s*)?(?P<mod>[\w.+-]+\.(?:dll|exe|pyd|node|so))!(?P<func>.+?)"
                  r"(?: Line (?P<line>\d+))?(?: \+ 0x[0-9a-fA-F]+ bytes)?\s+"
                  r"(?P<lang>C\+\+|C|C#|F#|Basic|Unknown|Native|Managed|Script|JavaScript)\s*$", re.I)
_ADDRESS_ONLY = re.compile(r"^(?P<pc>[0-9a-fA-F]{6,16})\(\)$")


def looks_like_vs_stack(text: str) -> bool:
    """Two or more Call Stack rows (``module!function … C++``)."""
    return sum(1 for ln in text.split("\n")[:4000] if _ROW.match(ln)) >= 2


def vs_stack_to_gdb(text: str) -> tuple[str, dict]:
    """``(gdb-shaped text, facts)``: the rows as ``#N`` frames, numbered in order (other lines kept)."""
    from .foreign import frame_line

    out, no = [], 0
    for ln in text.split("\n"):
        r = _ROW.match(ln)
        if not r:
            out.append(ln)
            continue
        func, pc = r.group("func").strip(), None
        a = _ADDRESS_ONLY.match(func)
        if a:
            func, pc = "??", int(a.group("pc"), 16)
        out.append(frame_line(no, func, pc, None, None, r.group("mod")))
        no += 1
    return "\n".join(out), {"foreign": "Visual Studio's call stack"}
