"""Read or write: what the faulting instruction (AT&T or Intel syntax) or the crashing source line says about the access.

>>> access_of({"instruction": "movl $0x1,(%rax)"})
('write', 'instruction `movl $0x1,(%rax)` stores to memory')
"""
from __future__ import annotations

import re


def access_of(facts: dict) -> tuple[str | None, str]:
    """'read'/'write' from the faulting instruction (AT&T syntax) or the source line."""
    if facts.get("access") in ("read", "write"):
        return facts["access"], f"{facts.get('sanitizer') or facts.get('foreign') or 'the report'} says it was a {facts['access'].upper()} access"
    insn = facts.get("instruction")
    if insn and "Cannot access" not in insn:
        op, _, operands = insn.partition(" ")
        ops = _split_operands(operands.strip())
        if op.startswith(("cmp", "test", "bt", "ucomi", "comi", "vpcmp", "pcmp")):
            return "read", f"instruction `{insn}` compares memory"
        if op.startswith(("push", "call", "stos", "rep stos")):
            return "write", f"instruction `{insn}` writes"
        if "[" in operands and "%" not in operands:
            # Intel syntax (gef, pwndbg, objdump -M intel): the destination comes first
            if ops and "[" in ops[0]:
                return "write", f"instruction `{insn}` stores to memory"
            return "read", f"instruction `{insn}` loads from memory"
        if ops and "(" in ops[-1]:
            return "write", f"instruction `{insn}` stores to memory"
        if any("(" in o for o in ops):
            return "read", f"instruction `{insn}` loads from memory"
    src = facts.get("crash_source")
    if src:
        code = src.split("/*")[0].split("//")[0]
        if re.search(r"(?:->\s*\w+|\]|\*\s*\(?\w+\)?|\.\w+)\s*(?:[-+*/%&|^]|<<|>>)?=(?!=)", code) or \
                re.search(r"(?:\+\+|--)\s*\*|\*\s*\w+\s*(?:\+\+|--)", code):
            return "write", f"source line `{code.strip()}` assigns through a pointer"
        if re.search(r"->|\*\s*\w|\[", code):
            return "read", f"source line `{code.strip()}` reads through a pointer"
    return None, "no faulting instruction or source line in the transcript"


def _split_operands(s: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for c in s:
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        if c == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += c
    if cur:
        out.append(cur)
    return [o.strip() for o in out]
