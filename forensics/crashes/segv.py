"""Classifying a SIGSEGV: stack overflow, bad pc, non-canonical, allocator faults, NULL vs wild.

The address rules of the class: a runaway recursion or a fault next to ``sp`` is a stack overflow; frame 0 at
a tiny pc or ``pc == si_addr`` is a bad pc; ``si_code=SI_KERNEL`` with address 0 is a #GP on a non-canonical
address; a fault inside the allocator is heap corruption; else the fault address (``$_siginfo``, the faulting
instruction's operand and the registers, or the crashing frame's pointer arguments) decides NULL + offset
(below 64 KiB) vs wild; without one the class is ``unknown``. Called from :func:`.classify.classify`.
"""
from __future__ import annotations

import re

import pandas as pd

from .access import _split_operands, access_of as _access
from .classify import _HEAP_FUNCS, DEEP_STACK, GUARD_DISTANCE, NULL_LIMIT, RECURSION_RUN, SI_KERNEL, _leading_library
from .evidence import _address_from_args, operand_address
from .frames import _TRAMPOLINE

# compilers' stack probes: a function whose frame passes a page calls one first, and it touches each page below sp
# in turn (Apple's ___chkstk_darwin, MSVC/MinGW's __chkstk/_alloca_probe, LLVM's __rust_probestack/__probestack),
# so a fault inside one is the guard page under a stack that ran out
_STACK_PROBE = re.compile(r"^_{0,3}(?:chkstk(?:_darwin|_ms)?|alloca_probe(?:_16|_8)?|rust_probestack|probestack)$")

# an allocator's own library by its file name (a Windows module name has no extension)
_ALLOC_MODULE = re.compile(r"^(?:lib)?(?:mimalloc|tcmalloc\w*|jemalloc)(?:[-_.][\w.-]*)?$", re.I)

# (gdb before 7.x printed the error as the value: "cntxt=Cannot access memory at address 0x7fffff3fecd8")
_SLOT_UNREADABLE = re.compile(r"(?:^|, )(\w+)=(?:<error reading variable: )?Cannot access memory at address 0x[0-9a-fA-F]+>?")


def _below_trampoline(crash: pd.DataFrame) -> pd.DataFrame:
    """The frames from where the fault happened: a stop (or core) inside the process's own signal handler shows the
    handler's frames above the kernel's signal trampoline (``<signal handler called>``, ``__restore_rt``); the
    frame under it is where the signal was raised."""
    names = crash["norm_function"].tolist() if len(crash) else []
    k = next((i for i, n in enumerate(names) if isinstance(n, str) and _TRAMPOLINE.match(n)), None)
    return crash.iloc[k + 1:] if k is not None and k + 1 < len(names) else crash


def _max_run(frames: pd.DataFrame) -> tuple[int, str | None]:
    if frames.empty:
        return 0, None
    f = frames["norm_function"].fillna("?").astype(str)
    run_id = (f != f.shift()).cumsum()
    sums = frames["repeat"].groupby(run_id).sum()
    rid = sums.idxmax()
    return int(sums.max()), f[run_id == rid].iloc[0]


def _stack_write(insn: str | None) -> bool:
    """The instruction pushes or stores relative to the stack/frame pointer (its only possible fault is a
    stack that ran out); AT&T (``mov %rsi,-0x18(%rbp)``) or Intel (``call``) syntax."""
    if not insn:
        return False
    op, _, operands = insn.strip().partition(" ")
    if op.startswith(("push", "call")):
        return True
    ops = _split_operands(operands.strip())
    return bool(ops) and bool(re.search(r"\(%[re]?(?:bp|sp)\)$", ops[-1].strip()))


def classify_segv(facts: dict, crash: pd.DataFrame, pc, done) -> dict:
    """The class of a SIGSEGV (``done(class, subclass, exploitability, rule, reason)`` makes the answer)."""
    code = facts.get("si_code")
    addr = facts.get("si_addr")
    crash = _below_trampoline(crash)
    top = crash.iloc[0] if len(crash) else None
    run, run_fn = _max_run(crash)
    near_sp = addr is not None and facts.get("sp") is not None and abs(addr - facts["sp"]) < GUARD_DISTANCE \
        and addr >= NULL_LIMIT
    # gdb could not read frame 0's own argument slot ("this=<error reading variable: Cannot access memory at
    # address 0x7ffd…>"): the frame itself lies in unmapped stack, as a runaway recursion leaves it
    slot = _SLOT_UNREADABLE.search(str(crash.iloc[0]["args"])) if len(crash) else None
    # a mutual recursion (f -> g -> f …) has no run of one name: frame 0's function seen again below it is a cycle
    cycle = slot is not None and len(crash) >= 3 and top["norm_function"] in set(crash["norm_function"].iloc[2:])
    if cycle and run < 3:
        return done("stack-overflow", "recursion", "probably", "StackOverflow",
                    f"frame 0's {top['norm_function']} recurs below it (a call cycle) and its {slot.group(1)} cannot be "
                    "read from its own stack slot")
    if run >= RECURSION_RUN or ((near_sp or slot) and run >= 3):
        why = f"{run_fn} repeats {run} times in a row" + (f"; fault address is {abs(addr - facts['sp'])} bytes from sp"
                                                         if near_sp else f"; frame 0's {slot.group(1)} cannot be read "
                                                         "from its own stack slot" if slot else "")
        return done("stack-overflow", "recursion", "probably", "StackOverflow", why)
    if addr is not None and addr >= NULL_LIMIT and _stack_write(facts.get("instruction")):
        return done("stack-overflow", "guard-page", "probably", "StackOverflow",
                    f"the faulting instruction `{facts['instruction']}` writes to the stack frame and the fault "
                    f"address 0x{addr:x} is not near NULL: the stack ran out")
    if near_sp:
        return done("stack-overflow", "guard-page", "probably", "StackOverflow",
                    f"fault address 0x{addr:x} is next to sp 0x{facts['sp']:x} (stack guard page)")
    if top is not None and _STACK_PROBE.match(str(top["norm_function"])) and int(top["frame"]) == 0:
        return done("stack-overflow", "guard-page", "probably", "StackOverflow",
                    f"frame 0 is the stack probe {top['norm_function']}, which touches each new page of a large frame "
                    "below sp: the stack ran out")
    deepest = max([int(pd.to_numeric(crash["frame"]).max()) if len(crash) else 0, facts.get("deepest_frame") or 0])
    if deepest >= DEEP_STACK:
        # a debugger numbers a thread's frames from 0 up, one per call: #N this deep is a runaway recursion
        return done("stack-overflow", "recursion", "probably", "StackOverflow",
                    f"the crash thread is at least {deepest + 1} frames deep (frame #{deepest} shown)")
    top_pc = top["pc"] if top is not None else None
    top_pc = None if top_pc is None or pd.isna(top_pc) else int(top_pc)
    in_module = top is not None and isinstance(top.get("module"), str) and str(top.get("module"))[:1] not in ("", "<")
    # (a "??" inside a named module is code there — an Android tombstone prints module-relative pcs)
    if top is not None and top["norm_function"] == "??" and top_pc is not None and top_pc < NULL_LIMIT and not in_module \
            and int(top["frame"]) == 0:      # (a paste that starts at "#9" lost frame 0: #9's pc is a return address)
        return done("bad-pc", "null-call", "probably", "SegFaultOnPcNearNull",
                    f"frame 0 is at pc 0x{int(top_pc):x}: a call through a NULL function pointer")
    if top is not None and top["norm_function"] == "??" and top_pc is not None and 1 << 48 <= top_pc < 0xffff << 48:
        return done("bad-pc", "non-canonical-pc", "exploitable", "SegFaultOnPc",   # no 64-bit CPU runs code there
                    f"frame 0 is at pc 0x{top_pc:x}, outside any 64-bit address space: a jump through a garbage pointer")
    if pc is None and top_pc is not None and top is not None and (top["norm_function"] == "??" or top_pc == addr):
        pc = top_pc      # frame 0 in no function (or at the fault address itself): its pc is where the thread stopped
    if pc is not None and addr is not None and pc == addr:
        near = addr < NULL_LIMIT
        return done("bad-pc", "null-call" if near else "corrupt-pointer", "probably" if near else "exploitable",
                    "SegFaultOnPcNearNull" if near else "SegFaultOnPc", f"pc == fault address 0x{addr:x}")
    in_libc = None
    if top is not None and top["is_library"] and re.match(r"^(?:str|mem|wcs|stp)\w*$", str(top["norm_function"])):
        in_libc = f"in-libc:{top['norm_function']}"
    access, access_why = _access(facts)
    if code == SI_KERNEL and (addr in (None, 0)):
        sub = "non-canonical" + (f":{access}" if access else "")
        return done("wild-pointer", sub, "exploitable" if access == "write" else "unknown",
                    "DestAv" if access == "write" else "SourceAv",
                    "si_code=SI_KERNEL (128) with si_addr 0: a general-protection fault on a non-canonical "
                    "address, not a NULL dereference; " + access_why)
    heap_top = _leading_library(crash)
    in_alloc = heap_top is not None and bool(_HEAP_FUNCS.match(str(heap_top)))
    if not in_alloc and top is not None and top["norm_function"] == "??" and isinstance(top.get("module"), str) \
            and _ALLOC_MODULE.match(str(top["module"]).replace("\\", "/").rsplit("/", 1)[-1]):
        # frame 0 unnamed inside an allocator's own library (Wine's "in mimalloc (+0x31ac)", libtcmalloc.so.4)
        heap_top, in_alloc = str(top["module"]).replace("\\", "/").rsplit("/", 1)[-1], True
    if addr is not None and in_alloc and not facts.get("sanitizer"):
        return done("heap-corruption", f"segv-in-allocator:{heap_top}", "exploitable", "HeapError",
                    f"SIGSEGV inside the allocator ({heap_top}) at 0x{addr:x}: the allocator followed a pointer "
                    "from its own free lists or chunk headers (or the one passed to it), so heap memory is corrupt")
    computed = addr is None and bool(facts.get("instruction") and facts.get("registers"))
    if computed:
        addr = operand_address(facts["instruction"], facts["registers"])
        addr_why = (f"fault address 0x{addr:x} computed from `{facts['instruction']}` and the registers"
                    if addr is not None else "")
    if addr is None:
        if in_alloc:
            # a fault inside malloc/free itself: the allocator walked a corrupt chunk or was handed a
            # pointer it never returned (!exploitable's HeapCorruption)
            return done("heap-corruption", f"segv-in-allocator:{heap_top}", "exploitable", "HeapError",
                        f"SIGSEGV inside the allocator ({heap_top}) and no fault address shown (free(NULL) "
                        "never faults, so a NULL argument or local is no evidence here): heap metadata or the "
                        "pointer passed to it is bad")
        addr, addr_why = _address_from_args(crash, facts)
        if addr is not None and top is not None and bool(top["is_library"]) and not in_libc:
            in_libc = "in-libc"
    elif not computed:
        addr_why = f"fault address 0x{addr:x} from " + (f"the {facts['sanitizer']} report" if facts.get("sanitizer")
                                                         else "$_siginfo" if facts.get("si_signo") is not None
                                                         else "the crash message")
    if addr is None and facts.get("sanitizer_hint"):
        # ASan printed no address ("SEGV on unknown address (pc …)") but its Hint line says which side
        if facts["sanitizer_hint"] == "high-address":
            return done("wild-pointer", ":".join(x for x in ("high-address", access) if x),
                        "exploitable" if access == "write" else "unknown",
                        "DestAv" if access == "write" else "SourceAv",
                        f"{facts['sanitizer']} gives no address but says the fault was a dereference of a high "
                        f"value address; {access_why}")
        rw = access or "read"
        return done(f"null-deref-{rw}", "" if access else "access-assumed-read",
                    "probably" if rw == "write" else "probably not",
                    "DestAvNearNull" if rw == "write" else "SourceAvNearNull",
                    f"{facts['sanitizer']} gives no address but says it points to the zero page; {access_why}")
    if addr is None:
        if True:  # a libc string function with no address shown is not assumed NULL either
            return done("unknown", "segv-address-unknown", "unknown", "AccessViolation",
                        "SIGSEGV, but the transcript shows no fault address ($_siginfo), instruction or "
                        "pointer argument to decide NULL vs wild")
    if in_libc and access is None:
        access = "read"
    if addr < NULL_LIMIT:
        rw = access or "read"
        sub = in_libc or ("" if access else "access-assumed-read")
        return done(f"null-deref-{rw}", sub, "probably" if rw == "write" else "probably not",
                    "DestAvNearNull" if rw == "write" else "SourceAvNearNull",
                    f"{addr_why} is near NULL; {access_why}")
    canon = "non-canonical" if addr >= 1 << 47 else None
    sub = ":".join(x for x in (canon, in_libc, access) if x)
    return done("wild-pointer", sub, "exploitable" if access == "write" else "unknown",
                "DestAv" if access == "write" else "SourceAv", f"{addr_why} is far from NULL; {access_why}")
