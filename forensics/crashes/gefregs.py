"""gef's register panel as the gdb lines that carry the same facts (``info registers`` rows, ``x/i $pc``).

At a stop gef prints every register as ``$rax   : 0x0`` (a pointer followed by what it points to, ``→``
chains), and the pc's row ends with the instruction there, in gef's Intel syntax::

    $rax   : 0x0
    $rip   : 0x0000000000622043  →  <parse+0> mov rsi, QWORD PTR [rax+0x78]

:func:`gef_register_lines` writes each row as gdb's ``rax  0x0  0x0`` and the pc's instruction as ``x/i $pc``'s
``=> 0x622043 <parse+0>:\\tmov rsi, QWORD PTR [rax+0x78]``, so the faulting instruction and the registers it
uses are read as gdb's own.

>>> gef_register_lines(["$rax   : 0x0", "$rip   : 0x0000000000622043  →  <f+4> mov rsi, QWORD PTR [rax+0x78]"])
['rax            0x0                 0x0', 'rip            0x0000000000622043  <f+4>', '=> 0x0000000000622043 <f+4>:\\tmov rsi, QWORD PTR [rax+0x78]']
"""
from __future__ import annotations

import re

_ROW = re.compile(r"^\$(?P<reg>[a-z][a-z0-9]{1,5})\s*: (?P<hex>0x[0-9a-fA-F]+)(?P<rest>.*)$")
_PC_INSN = re.compile(r"^\s*→\s+<(?P<sym>[^>\n]+)>\s+(?P<insn>[a-z][a-z0-9]*(?:\s.*)?)$")
_PC = ("rip", "eip", "pc")


def gef_register_lines(lines: list[str]) -> list[str]:
    """The lines with gef's register rows rewritten (see the module docstring); other lines unchanged."""
    if sum(1 for ln in lines if ln.startswith("$") and _ROW.match(ln)) < 2:
        return lines          # a "$1 = …" value, not a panel
    out = []
    for ln in lines:
        m = _ROW.match(ln)
        if not m:
            out.append(ln)
            continue
        reg, hx = m.group("reg"), m.group("hex")
        i = _PC_INSN.match(m.group("rest")) if reg in _PC else None
        out.append(f"{reg:<15}{hx:<20}" + (f"<{i.group('sym')}>" if i else hx))
        if i:
            out.append(f"=> {hx} <{i.group('sym')}>:\t{i.group('insn').strip()}")
    return out
