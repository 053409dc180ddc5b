"""Evidence of the fault address that a transcript holds besides ``$_siginfo``.

The faulting instruction's memory operand with the printed registers (CERT ``exploitable`` reads
the same from a live gdb), and the pointer arguments/locals of the frame that died.
"""
from __future__ import annotations

import re

import pandas as pd

_PTR_ARG = re.compile(r"(?:^|[,{]\s*)(?P<name>[A-Za-z_]\w*)(?:@entry)?\s*=\s*(?:\([^)]*\)\s*)?(?P<val>0x[0-9a-fA-F]+)")
FAR = 1 << 30   # a pointer more than 1 GiB from every address the transcript shows is wild
#: where x86-64 Linux puts thread stacks, shared libraries and large mallocs: a pointer there is not
#: "far from everything" just because the transcript shows no neighbour
MMAP_ZONE = (0x7f0000000000, 0x800000000000)
_INTEL_OPERAND = re.compile(r"\[(?P<base>[a-z][a-z0-9]*)(?:\s*\+\s*(?P<index>[a-z][a-z0-9]*)(?:\*(?P<scale>[1248]))?)?"
                            r"(?P<disp>\s*[-+]\s*(?:0x[0-9a-fA-F]+|\d+))?\]")
_MEM_OPERAND = re.compile(r"(?P<disp>-?0x[0-9a-fA-F]+|-?\d+)?\(%(?P<base>\w+)(?:,%(?P<index>\w+)(?:,(?P<scale>[1248]))?)?\)")


def operand_address(insn: str | None, regs: dict) -> int | None:
    """The address an AT&T memory operand ``disp(%base,%index,scale)`` (or Intel's ``[base+index*scale+disp]``) of ``insn`` refers to, when the
    transcript printed every register it uses (``info registers``); else None.

    >>> operand_address("vpcmpeqb (%rdi),%ymm0,%ymm1", {"rdi": 0})
    0
    >>> operand_address("mov 0x8(%rax),%rdx", {"rax": 0x1000})
    4104
    >>> operand_address("mov rsi, QWORD PTR [rax+0x78]", {"rax": 0})
    120
    """
    if not insn or not regs:
        return None
    i = _INTEL_OPERAND.search(insn) if "%" not in insn else None
    if i:          # Intel syntax (gef, pwndbg): "QWORD PTR [rax+rbx*8+0x78]"
        if i.group("base") not in regs or (i.group("index") and i.group("index") not in regs):
            return None
        idx = regs[i.group("index")] * int(i.group("scale") or 1) if i.group("index") else 0
        disp = int(i.group("disp").replace(" ", ""), 0) if i.group("disp") else 0
        return (regs[i.group("base")] + idx + disp) & ((1 << 64) - 1)
    m = _MEM_OPERAND.search(insn)
    if not m or m.group("base") not in regs or (m.group("index") and m.group("index") not in regs):
        return None
    disp = int(m.group("disp"), 0) if m.group("disp") else 0
    idx = regs[m.group("index")] * int(m.group("scale") or 1) if m.group("index") else 0
    return (regs[m.group("base")] + idx + disp) & ((1 << 64) - 1)


_UNREADABLE = re.compile(r"\b(?P<name>\w+)=(?P<val>0x[0-9a-fA-F]+) <error: Cannot access memory at address (?P=val)>")


_NULL_HANDLE = re.compile(r"\b(?:threadid|thread|th|pd)=0(?=[,)\s]|$)")


def _pointers(text, top_level: bool = False) -> list[tuple[str, int]]:
    """``(name, value)`` of the pointers in an argument list / locals; ``top_level``: not the fields of a
    struct value (``info = {…, pNext = 0x0}`` is no pointer the frame dereferenced)."""
    if not isinstance(text, str):
        return []
    out = []
    for m in _PTR_ARG.finditer(text):
        if top_level:
            head = text[:m.start("name")]
            if head.count("{") > head.count("}"):
                continue
        out.append((m.group("name"), int(m.group("val"), 16)))
    return out


_PRINT_CMD = re.compile(r"^\s*(?:\(gdb\)\s*)?p(?:rint)?(?:/\w+)?\s+(?P<expr>[A-Za-z_]\w*(?:(?:\.|->)\w+)*)\s*$")
_PRINTED = re.compile(r"^\$\d+ = (?P<val>.*?)\s*$")
# a NULL pointer as gdb prints it, or a smart pointer / iterator whose pointer member is NULL (LLVM's Ptr, libstdc++'s
# _M_ptr/_M_head_impl/_M_node, boost's px)
_NULL_VALUE = re.compile(r"^(?:\([^()]*\*\)\s*)?0x0\b|\b(?:Ptr|_M_ptr|_M_head_impl|_M_node|px|ptr_)\s*=\s*0x0\b")


def printed_values(lines: list[str]) -> dict:
    """``{expression: value}`` for each ``p EXPR`` the transcript shows with gdb's ``$N = …`` answer below it."""
    out: dict = {}
    for k, ln in enumerate(lines[:-1]):
        m = _PRINT_CMD.match(ln)
        v = _PRINTED.match(lines[k + 1]) if m else None
        if v:
            out.setdefault(m.group("expr"), v.group("val"))
    return out


def _printed_null(facts: dict, src: str) -> tuple[int | None, str]:
    """A NULL value the user printed for the pointer the crashing line dereferences (``I->second`` and ``p I``)."""
    for expr, val in (facts.get("printed") or {}).items():
        e = re.escape(expr)
        if src and re.search(rf"(?<![\w.>]){e}\s*(?:->|\[)|\*\s*\(?{e}\b", src) and _NULL_VALUE.search(val):
            return 0, f"the crashing line `{src.strip()}` dereferences {expr}, and `p {expr}` printed {val[:80]}"
    return None, ""


_OBJECT_TAKER = re.compile(r"^(?:pthread_(?:mutex|cond|rwlock|spin)_\w+|(?:str|mem|wcs|stp)\w*)$")


def _address_from_args(crash: pd.DataFrame, facts: dict) -> tuple[int | None, str]:
    """Without $_siginfo: the pointer arguments/locals of the frame that died hint at the address.

    A NULL pointer argument (or local) of frame 0 — or of the first own frame when frame 0 is a
    library function — means a NULL dereference; a non-canonical one, or one that the crashing
    source line dereferences and that lies more than 1 GiB from every other address in the
    transcript, a wild pointer.
    """
    if crash.empty:
        return None, ""
    rows = [crash.iloc[0]]
    # a libc string/memory function at frame 0 faults on the pointer its caller passed: that caller's arguments too
    str_caller = crash.iloc[1] if len(crash) > 1 and bool(crash.iloc[0]["is_library"]) and \
        re.match(r"^(?:str|mem|wcs|stp)\w*$", str(crash.iloc[0]["norm_function"])) else None
    if str_caller is not None:
        rows.append(str_caller)
    if bool(crash.iloc[0]["is_library"]):
        own = crash[crash["is_own"]]
        if len(own):
            rows.append(own.iloc[0])
    src = facts.get("crash_source") or ""
    if not re.search(r"[A-Za-z_]", src):
        src = ""      # a line of only braces ("{" at a function's entry) names no pointer: as if none were shown
    addr, why = _printed_null(facts, src)
    if addr is not None:
        return addr, why
    known = [int(p) for p in pd.to_numeric(crash["pc"], errors="coerce").dropna()]
    for a in crash["args"].iloc[1:]:
        known += [v for _, v in _pointers(a) if v >= 1 << 16]
    for r in rows:
        # gdb's own verdict on a pointer it tried to follow: "ptr=0x14 <error: Cannot access memory at address 0x14>"
        for m in _UNREADABLE.finditer(" ".join(str(x) for x in (r.get("args"), r.get("locals")) if isinstance(x, str))):
            v = int(m.group("val"), 16)
            if r is str_caller and v >= 1 << 12:
                return v, (f"frame {int(r['frame'])} passed {m.group('name')}=0x{v:x} to {crash.iloc[0]['norm_function']}, "
                           "and gdb could not read it (no $_siginfo: inferred from arguments)")
            if v < 1 << 12:
                return v, (f"frame {int(r['frame'])} has {m.group('name')}=0x{v:x}, which gdb could not read "
                           "(no $_siginfo: inferred from arguments)")
        h = _NULL_HANDLE.search(str(r.get("args"))) if "pthread_" in str(r.get("norm_function")) else None
        if h:
            # glibc prints a pthread_t in decimal: "pthread_kill (threadid=0, …)" is a NULL thread handle
            return 0, (f"frame {int(r['frame'])} {r['norm_function']} got {h.group(0)}, a NULL pthread_t "
                       "(a pointer printed in decimal; no $_siginfo: inferred from arguments)")
        ptrs = _pointers(r.get("args")) + _pointers(r.get("locals"))
        libc = bool(r.get("is_library")) or str(r.get("function")).startswith("__GI_") or \
            str(r.get("norm_function")).startswith("pthread_")
        if r is rows[0] and libc and _OBJECT_TAKER.match(str(r.get("norm_function"))):
            # a pthread/string function follows the pointer it was handed: one into the zero page (a field of a
            # NULL struct: "pthread_mutex_lock (mutex=0x28)") is where it faulted
            small = [(name, v) for name, v in _pointers(r.get("args")) if 0 < v < 1 << 12]
            if small:
                name, v = small[0]
                return v, (f"frame 0 {r['norm_function']} was handed {name}=0x{v:x}, an address in the zero page "
                           "(no $_siginfo: inferred from arguments)")
        caller = r is not rows[0]       # the first own frame under a library frame 0
        top = _pointers(r.get("args"), True) + _pointers(r.get("locals"), True) if caller else ptrs
        for name, v in ptrs:
            if v == 0 and (name, v) in top and (not src or name in src or caller):
                return 0, f"frame {int(r['frame'])} has {name}=0x0 (no $_siginfo: inferred from arguments/locals)"
        for name, v in ptrs:
            if v >= 1 << 47 and v < (1 << 64) - (1 << 47):
                return v, f"frame {int(r['frame'])} has a non-canonical pointer {name}=0x{v:x}"
            # (not when the line goes on through a pointer loaded from it — "this->d->x": the fault may be there)
            if v >= 1 << 16 and src and re.search(rf"\b{re.escape(name)}\b", src) and known and \
                    not re.search(rf"\b{re.escape(name)}\s*->\s*\w+(?:\s*\.\s*\w+)*\s*->", src) and \
                    min(abs(v - k) for k in known) > FAR and not MMAP_ZONE[0] <= v < MMAP_ZONE[1]:
                return v, (f"frame {int(r['frame'])}: {name}=0x{v:x}, dereferenced on the crashing line, "
                           "is far from every other address in the transcript")
    return None, ""
