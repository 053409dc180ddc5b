"""Crash reports that are not a debugger's, written as the gdb lines that carry the same facts.

Users paste what their system printed when a program died, not only gdb: the kernel's log line
(``prog[12]: segfault at 0 ip … sp … error 4 in libc.so.6[…]``, ``traps: prog[12] general protection
ip:…``), Valgrind's ``Process terminating with default action of signal 11``, breakpad's
``minidump_stackwalk`` and macOS crash reports (``Exception Type: EXC_BAD_ACCESS (SIGSEGV)``).
Each translator keeps every line it does not know and replaces the lines it reads with gdb's
signal line, a ``$_siginfo``-shaped line (only the values the report printed) and ``#N`` frame lines,
and returns the facts gdb has no line for (read or write, which thread crashed). Runtimes' reports
(JVM, V8, Python) are in :mod:`.runtimes`.

>>> text, facts = foreign_to_gdb("x[7]: segfault at 0 ip 00000000004005d6 sp 00007ffc error 6 in x[400000+1000]\\n",
...                              "kernel")
>>> print(text.split("\\n")[0]); facts["access"]
Program received signal SIGSEGV, Segmentation fault.
'write'
>>> print(foreign_to_gdb("Crash reason:  SIGSEGV\\nCrash address: 0x194\\n\\nThread 0 (crashed)\\n 0  app + 0x464386\\n",
...                      "minidump")[0])
Program received signal SIGSEGV, Segmentation fault.
$0 = {si_signo = 11, si_errno = 0, si_code = 1, _sigfault = {si_addr = 0x194}}
Crash address: 0x194
<BLANKLINE>
[Current thread is 1 (Thread 1)]
Thread 1 (Thread 1):
#0  0x464386 in ?? () from app
<BLANKLINE>
>>> foreign_dialect("Exception Type:  EXC_BAD_ACCESS (SIGSEGV)\\n"), foreign_dialect("0x1 in f (x=1) at a.c:3\\n")
('macos', 'frames')
"""
from __future__ import annotations

import re

from .crashlytics import crashlytics_to_gdb, looks_like_crashlytics
from .handlers import handler_log_to_gdb, looks_like_handler_log
from .runtimes import RUNTIMES
from .vsstack import looks_like_vs_stack, vs_stack_to_gdb
from .windbg import looks_like_windbg, windbg_to_gdb
from .winreport import looks_like_winreport, winreport_to_gdb
from .armstate import arm_exception
from .c3trace import c3trace_to_gdb, looks_like_c3trace
from .espcore import esp_panic_to_gdb, looks_like_esp_panic
from .crystal import crystal_to_gdb, looks_like_crystal
from .delvelist import delve_list_to_gdb, looks_like_delve_list
from .ipsreport import ips_to_gdb, looks_like_ips
from .nimtrace import looks_like_nim_trace, nim_trace_to_gdb
from .zigtrace import looks_like_zig_trace, zig_trace_to_gdb
from .winedbg import looks_like_winedbg, winedbg_to_gdb
from .crashsummary import crash_summary_to_gdb, looks_like_crash_summary
from .graalvm import graalvm_to_gdb, looks_like_graalvm
from .juliasig import julia_signal_to_gdb, looks_like_julia_signal
from .macbacktrace import looks_like_mac_backtrace, mac_backtrace_to_gdb
from .gtkgcrash import gtkg_crash_to_gdb, looks_like_gtkg_crash
from .gorecovery import go_recovery_to_gdb, looks_like_go_recovery

#: signal numbers as Linux numbers them (Valgrind, Python and cargo print them)
SIGNO = {"SIGSEGV": 11, "SIGBUS": 7, "SIGABRT": 6, "SIGILL": 4, "SIGFPE": 8, "SIGTRAP": 5, "SIGKILL": 9,
         "SIGTERM": 15, "SIGSYS": 31}
DESC = {"SIGSEGV": "Segmentation fault", "SIGBUS": "Bus error", "SIGABRT": "Aborted", "SIGILL": "Illegal instruction",
        "SIGFPE": "Arithmetic exception", "SIGTRAP": "Trace/breakpoint trap", "SIGKILL": "Killed",
        "SIGTERM": "Terminated", "SIGSYS": "Bad system call"}


def signal_lines(sig: str, code: int | None = None, addr: int | None = None, thread: int | None = None) -> list[str]:
    """gdb's stop line, plus a ``$_siginfo`` line when the report gave the signal's code."""
    who = f"Thread {thread}" if thread else "Program"
    out = [f"{who} received signal {sig}, {DESC.get(sig, sig)}."]
    if code is not None:
        fault = f"_sigfault = {{si_addr = 0x{addr:x}}}" if addr is not None else "_sifields = {}"
        out.append(f"$0 = {{si_signo = {SIGNO.get(sig, 0)}, si_errno = 0, si_code = {code}, {fault}}}")
    return out


def frame_line(no: int, func: str | None, pc: int | None = None, file: str | None = None, line=None,
               module: str | None = None) -> str:
    """One gdb frame line; a C++ parameter list is dropped from the name (gdb prints arguments apart)."""
    from .blocks import split_function_args

    name = (func or "").strip() or "??"
    if name.endswith(")") and "(" in name and not name.startswith("("):
        name = split_function_args(name)[0] or name
    where = f" at {file}:{line}" if file and line is not None and " " not in file else \
        f" from {module}" if module and " " not in module else ""
    return f"#{no}  " + (f"0x{pc:x} in " if pc is not None else "") + f"{name} (){where}"


# --- the Linux kernel's log lines (dmesg, journalctl -k, /var/log/messages) ---------------------------
_KSEGV = re.compile(r"(?P<comm>[^\s\[\]:]+(?: [^\s\[\]:]+)?)\[(?P<pid>\d+)\]: segfault at (?P<addr>[0-9a-fA-F]+) "
                    r"r?ip (?P<ip>[0-9a-fA-F]+) r?sp (?P<sp>[0-9a-fA-F]+) error (?P<err>[0-9a-fA-F]+)"
                    r"(?: cpu \d+)?(?: in (?P<mod>[^\s\[]+)\[(?:[0-9a-fA-F]+,)?(?P<base>[0-9a-fA-F]+)\+[0-9a-fA-F]+\])?")
_KTRAP = re.compile(r"traps: (?P<comm>[^\s\[\]]+(?: [^\s\[\]]+)?)\[(?P<pid>\d+)\] (?P<what>general protection|trap [a-z0-9 ]+?)"
                    r"(?: fault)? ip:(?P<ip>[0-9a-fA-F]+) sp:(?P<sp>[0-9a-fA-F]+) error:(?P<err>[0-9a-fA-F]+)"
                    r"(?: in (?P<mod>[^\s\[]+)\[(?:[0-9a-fA-F]+,)?(?P<base>[0-9a-fA-F]+)\+[0-9a-fA-F]+\])?")
# x86 trap names -> (signal, si_code): a #GP is SI_KERNEL (128) with address 0, as the kernel sends it
_TRAPS = {"general protection": ("SIGSEGV", 128), "trap invalid opcode": ("SIGILL", 2),
          "trap divide error": ("SIGFPE", 1), "trap int3": ("SIGTRAP", 128), "trap stack segment": ("SIGBUS", 128),
          "trap alignment check": ("SIGBUS", 1), "trap bounds": ("SIGSEGV", 128), "trap overflow": ("SIGSEGV", 128)}


# MIPS (OpenWrt …): "do_page_fault(): sending SIGSEGV to dawn for invalid read access from 00000068", then
# "epc = 00408709 in dawn[400000+c000]" (the faulting pc) and "ra = …" (the return address)
_KMIPS = re.compile(r"do_page_fault\(\): sending (?P<sig>SIG[A-Z]+) to (?P<comm>\S+) for invalid (?P<rw>read|write) access "
                    r"from (?P<addr>[0-9a-fA-F]+)")
_KEPC = re.compile(r"\b(?P<reg>epc|ra)\s*= (?P<pc>[0-9a-fA-F]+) in (?P<mod>[^\s\[]+)\[")


def _kernel_mips(lines: list[str], k: int, m: re.Match) -> tuple[str, dict]:
    facts = {"comm": m.group("comm"), "foreign": "the kernel's log line", "access": m.group("rw")}
    out = signal_lines(m.group("sig"), 1, int(m.group("addr"), 16))
    regs = {}
    for j in range(k + 1, min(k + 4, len(lines))):
        e = _KEPC.search(lines[j])
        if e:
            regs.setdefault(e.group("reg"), (int(e.group("pc"), 16), e.group("mod"), j))
    used = {v[2] for v in regs.values()}
    if "epc" in regs:
        pc, mod, _ = regs["epc"]
        out += [f"pc             0x{pc:x}          0x{pc:x}", frame_line(0, "??", pc, module=mod)]
    rest = [ln for j, ln in enumerate(lines[k + 1:], k + 1) if j not in used]
    return "\n".join(lines[:k] + out + rest), facts


def _kernel(text: str) -> tuple[str, dict]:
    lines = text.split("\n")
    mips = [(k, _KMIPS.search(ln)) for k, ln in enumerate(lines)]
    mips = [(k, m) for k, m in mips if m]
    if mips and not any(_KSEGV.search(ln) or _KTRAP.search(ln) for ln in lines):
        return _kernel_mips(lines, *mips[-1])
    hits = [(k, _KSEGV.search(ln) or _KTRAP.search(ln)) for k, ln in enumerate(lines)]
    hits = [(k, m) for k, m in hits if m]
    k, m = hits[-1]                     # several lines: the last one is the crash shown (they are usually repeats)
    ip, sp, err = int(m.group("ip"), 16), int(m.group("sp"), 16), int(m.group("err"), 16)
    facts = {"comm": m.group("comm"), "pid": int(m.group("pid")), "foreign": "the kernel's log line"}
    if "segfault at" in m.group(0):
        # x86 page-fault error code: bit 1 = write, bit 4 = instruction fetch (the pc itself was bad)
        addr = int(m.group("addr"), 16)
        code = 2 if err & 1 else 1          # present-but-protected = SEGV_ACCERR, not present = SEGV_MAPERR
        out = signal_lines("SIGSEGV", code, addr)
        if not err & 16:
            facts["access"] = "write" if err & 2 else "read"
    else:
        sig, code = _TRAPS.get(m.group("what"), ("SIGSEGV", 128))
        out = signal_lines(sig, code, 0 if code == 128 else ip)
    out += [f"pc             0x{ip:x}          0x{ip:x}", f"sp             0x{sp:x}          0x{sp:x}",
            frame_line(0, "??", ip, module=m.group("mod") or m.group("comm"))]
    return "\n".join(lines[:k] + out + lines[k + 1:]), facts


# --- Valgrind (memcheck and the other tools): "==N== Process terminating with default action of signal" ----
_VG = r"^(?:==\d+==|--\d+--)?\s*"
_VG_FATAL = re.compile(_VG + r"Process terminating with default action of signal (?P<no>\d+) \((?P<sig>SIG[A-Z]+)\)")
_VG_WHY = re.compile(_VG + r"(?P<why>Access not within mapped region|Bad permissions for mapped region|General Protection Fault"
                     r"|Non-existent physical address|Invalid address alignment|Bad memory \(SIGSEGV or SIGBUS\))"
                     r"(?: at address (?P<addr>0x[0-9A-Fa-f]+))?")
_VG_FRAME = re.compile(_VG + r"(?:at|by) (?P<pc>0x[0-9A-Fa-f]+|0x\.+): (?P<func>.+?)"
                       r"(?: \((?:(?P<file>[^():\s]+):(?P<line>\d+)|(?:in|within) (?P<mod>[^)]+))\))?\s*$")
_VG_ERROR = re.compile(_VG + r"(?P<what>Invalid (?P<rw>read|write) of size \d+|Jump to the invalid address stated on the next line)")
_VG_ADDR = re.compile(_VG + r"Address (?P<addr>0x[0-9A-Fa-f]+) is (?P<where>.*?)\s*$")
# memcheck's description of a heap address: past either end of a live block, or inside a freed one
_VG_HEAP_OUT = re.compile(r"^\d+ bytes (?:after|before) a block of size \d+ alloc'd$")
_VG_HEAP_FREED = re.compile(r"^\d+ bytes inside a block of size \d+ free'd$")
# "Warning: client switching stacks?  SP change: 0x1fff0009a0 --> 0x1ffe85f7a0": SP moved by more than --max-stackframe
_VG_SP_CHANGE = re.compile(_VG + r"Warning: client switching stacks\?\s+SP change: (?P<old>0x[0-9A-Fa-f]+) --> (?P<new>0x[0-9A-Fa-f]+)")
_VG_CODE = {"Access not within mapped region": 1, "Bad permissions for mapped region": 2, "General Protection Fault": 128,
            "Non-existent physical address": 3, "Invalid address alignment": 1}


def _valgrind(text: str) -> tuple[str, dict]:
    lines, facts = text.split("\n"), {"foreign": "Valgrind"}
    fatal = [k for k, ln in enumerate(lines) if _VG_FATAL.match(ln)]
    start = fatal[-1] if fatal else -1
    # the crash stack: the first run of frame lines after the fatal-signal line (or the first run of all)
    first = next((k for k in range(start + 1, len(lines)) if _VG_FRAME.match(lines[k])), None)
    run = []
    while first is not None and first + len(run) < len(lines) and _VG_FRAME.match(lines[first + len(run)]):
        run.append(_VG_FRAME.match(lines[first + len(run)]))
    if start >= 0 and run:
        # the stack at termination is often cut short where the error report before it printed it whole
        pcs = [f.group("pc") for f in run]
        for k in range(start):
            if _VG_FRAME.match(lines[k]) and (k == 0 or not _VG_FRAME.match(lines[k - 1])):
                other = []
                while k + len(other) < start and _VG_FRAME.match(lines[k + len(other)]):
                    other.append(_VG_FRAME.match(lines[k + len(other)]))
                if len(other) > len(run) and [f.group("pc") for f in other[:len(run)]] == pcs:
                    run = run[:0] + other[:len(run)] + other[len(run):]
                    break
    errors = []                      # [read/write/jump, address, line] of each memcheck error before the fatal signal
    for k, ln in enumerate(lines[:start if start >= 0 else len(lines)]):
        e, a = _VG_ERROR.match(ln), _VG_ADDR.match(ln)
        if e:
            errors.append([e.group("rw") or "jump", None, k])
        elif a and errors and errors[-1][1] is None:
            errors[-1][1] = int(a.group("addr"), 16)
            errors[-1].append(a.group("where"))
    head = []
    if start >= 0:
        m = _VG_FATAL.match(lines[start])
        why = next((w for w in map(_VG_WHY.match, lines[start + 1:start + 3]) if w), None)
        addr = int(why.group("addr"), 16) if why and why.group("addr") else None
        code = _VG_CODE.get(why.group("why")) if why else None
        head = signal_lines(m.group("sig"), code, addr if code is not None else None)
        for kind, at, *_ in reversed(errors):
            if kind in ("read", "write") and at is not None and at == addr:
                facts["access"] = kind        # memcheck's "Invalid write of size 4" at the fault address
                break
    frames = []
    # Valgrind names the object of every address inside a mapped one: "???" with no "(in …)" is no code of
    # the program's (an unwinding guess on the stack, JIT code)
    facts["not_own_pcs"] = [int(f.group("pc"), 16) for f in run if f.group("func") == "???" and not f.group("mod")
                            and not f.group("pc").startswith("0x.")]
    for j, f in enumerate(run):
        pc = int(f.group("pc"), 16) if not f.group("pc").startswith("0x.") else None
        nxt = run[j + 1].group("pc") if j + 1 < len(run) else None
        inlined = pc is not None and nxt == f.group("pc")          # gdb shows an inlined frame without a pc
        frames.append(frame_line(j, None if f.group("func") == "???" else f.group("func"), None if inlined else pc,
                                 f.group("file"), f.group("line"), f.group("mod")))
    zero_page = None
    if start < 0 and errors and errors[0][0] in ("read", "write") and errors[0][1] is not None and errors[0][1] < 0x1000:
        # the report was cut before "Process terminating …": an access to the zero page (never mapped, below
        # mmap_min_addr) is the SIGSEGV the process dies of at that address
        zero_page = errors[0]
        facts["access"] = zero_page[0]
    if start < 0 and not zero_page and errors and errors[0][0] in ("read", "write"):
        verdict = _valgrind_verdict(lines, errors[0])
        if verdict:
            facts["runtime_verdict"], facts["verdict_without_signal"] = verdict, True
    out = list(lines)
    if run:
        n_here = 0
        while first + n_here < len(lines) and _VG_FRAME.match(lines[first + n_here]):
            n_here += 1
        out[first:first + n_here] = frames
    if start >= 0:
        out[start:start + 1] = head
    elif zero_page:
        out[zero_page[2]:zero_page[2]] = signal_lines("SIGSEGV", 1, zero_page[1])
    return "\n".join(out), facts


def _valgrind_verdict(lines: list[str], error: list) -> tuple | None:
    """What memcheck's first error says when the report was cut before any termination line: a write or read
    past a heap block's end is a heap overflow, inside a freed block a use after free (as ASan's kinds map), and
    an access right after SP moved down by over a MiB (Valgrind's "client switching stacks?") a frame larger
    than the stack."""
    rw, where, k = error[0], (error[3] if len(error) > 3 else ""), error[2]
    if _VG_HEAP_OUT.match(where):
        return ("heap-corruption", f"heap-buffer-overflow:{rw}", "exploitable", "HeapError",
                f"Valgrind reports an invalid {rw}: the address is {where} (a heap buffer overflow)")
    if _VG_HEAP_FREED.match(where):
        return ("wild-pointer", f"use-after-free:{rw}", "exploitable" if rw == "write" else "probably", "UseAfterFree",
                f"Valgrind reports an invalid {rw}: the address is {where} (a use after free)")
    sp = next((m for m in map(_VG_SP_CHANGE.match, lines[max(0, k - 5):k]) if m), None)
    if sp and 1 << 20 <= int(sp.group("old"), 16) - int(sp.group("new"), 16) <= 1 << 30:
        drop = int(sp.group("old"), 16) - int(sp.group("new"), 16)
        return ("stack-overflow", "large-frame", "probably", "StackOverflow",
                f"Valgrind saw SP move down by {drop:,} bytes in one step (\"client switching stacks?\") and the next "
                f"access was an invalid {rw}: a frame larger than the stack")
    return None


# --- breakpad's minidump_stackwalk ---------------------------------------------------------------------
_MD_REASON = re.compile(r"^\s*Crash reason:\s+(?P<reason>[A-Z_]+)(?:\s*/\s*(?P<code>\S+))?")
_MD_ADDR = re.compile(r"^\s*Crash address:\s+(?P<addr>0x[0-9a-fA-F]+)")
_MD_THREAD = re.compile(r"^\s*Thread (?P<no>\d+)(?P<crashed> \(crashed\))?\s*$")
_MD_FRAME = re.compile(r"^\s*(?P<no>\d+)\s+(?:(?P<mod>[^\s!+]+)(?:!(?P<func>.+?)(?: \[(?P<file>\S+) : (?P<line>\d+) \+ 0x[0-9a-f]+\])?"
                       r"(?: \+ (?P<off>0x[0-9a-fA-F]+))?| \+ (?P<off2>0x[0-9a-fA-F]+))?|(?P<pc>0x[0-9a-fA-F]+))\s*$")
_MD_SIG = {"EXCEPTION_ACCESS_VIOLATION_READ": ("SIGSEGV", "read"), "EXCEPTION_ACCESS_VIOLATION_WRITE": ("SIGSEGV", "write"),
           "EXCEPTION_ACCESS_VIOLATION_EXEC": ("SIGSEGV", None), "EXCEPTION_ACCESS_VIOLATION": ("SIGSEGV", None),
           "EXCEPTION_ILLEGAL_INSTRUCTION": ("SIGILL", None), "EXCEPTION_INT_DIVIDE_BY_ZERO": ("SIGFPE", None),
           "EXC_BAD_ACCESS": ("SIGSEGV", None), "EXC_BAD_INSTRUCTION": ("SIGILL", None), "EXC_ARITHMETIC": ("SIGFPE", None)}


def _md_frames_alone(text: str) -> bool:
    """Breakpad frames pasted without their header: ``Found by:`` lines under ``N  module + 0xOFF`` frames."""
    lines = text[:1 << 16].split("\n")
    return sum(ln.strip().startswith("Found by: ") for ln in lines) >= 2 and any(_MD_FRAME.match(ln) for ln in lines)


def _minidump(text: str) -> tuple[str, dict]:
    lines, out, facts = text.split("\n"), [], {"foreign": "minidump_stackwalk"}
    reason = addr = None
    for ln in lines:
        reason = reason or _MD_REASON.match(ln)
        addr = addr or _MD_ADDR.match(ln)
    r = reason.group("reason") if reason else ""       # (a thread list cut from its header: no crash reason shown)
    sig, access = (r, None) if r.startswith("SIG") else _MD_SIG.get(r, (None, None))
    if access:
        facts["access"] = access
    at = int(addr.group("addr"), 16) if addr else None
    in_thread = None if reason or any(_MD_THREAD.match(ln) for ln in lines) else 1
    for ln in lines:
        if _MD_REASON.match(ln) and sig:
            code = 1 if sig in ("SIGSEGV", "SIGBUS") and at is not None else None
            out += signal_lines(sig, code, at) if code else signal_lines(sig)
            continue
        t = _MD_THREAD.match(ln)
        if t:
            in_thread = int(t.group("no")) + 1            # breakpad counts from 0, gdb from 1
            if t.group("crashed"):
                out.append(f"[Current thread is {in_thread} (Thread {in_thread})]")
            out.append(f"Thread {in_thread} (Thread {in_thread}):")
            continue
        f = _MD_FRAME.match(ln) if in_thread else None
        if f:
            off = f.group("off") or f.group("off2") or f.group("pc")
            out.append(frame_line(int(f.group("no")), f.group("func") or "??", int(off, 16) if off else None,
                                  f.group("file"), f.group("line"), f.group("mod")))
            continue
        out.append(ln)
    return "\n".join(out), facts


# --- macOS / iOS crash reports (.crash, Xcode organiser, Crashlytics-style copies) ---------------------
_MAC_EXC = re.compile(r"^\s*Exception Type:\s+(?P<exc>EXC_[A-Z_]+)(?:\s*\((?P<sig>SIG[A-Z]+)\))?", re.I)
_MAC_ADDR = re.compile(r"^\s*Exception (?:Codes|Subtype|codes|subtype):\s+(?P<kern>KERN_[A-Z_]+)(?: at|:)\s*(?P<addr>0x[0-9a-fA-F]+)")
_MAC_CRASHED = re.compile(r"^\s*(?:Crashed Thread|Triggered by Thread|Triggered by thread):\s+(?P<no>\d+)", re.I)
# the register block's header names the crashed thread too: "Thread 3 crashed with X86 Thread State (64-bit):"
_MAC_STATE = re.compile(r"^\s*Thread (?P<no>\d+) crashed with (?:X86|ARM|PPC)\b[^:]* Thread State\b")
_MAC_THREAD = re.compile(r"^\s*Thread (?P<no>\d+)(?P<crashed> Crashed)?:(?::\s*(?P<name>.*))?\s*$")
_MAC_FRAME = re.compile(r"^\s*(?P<no>\d+)\s+(?P<mod>\S+(?: \S+)*?)\s+(?P<pc>0x[0-9a-fA-F]+|0{16,18}) (?P<sym>.+?)\s*$")  # (pc 0: 0{18})
_MAC_SYM = re.compile(r"^(?:(?:0x[0-9a-fA-F]+|0) \+ \d+(?: \((?P<inner>.+?)(?: \+ \d+)?\))?\s*(?://\s*(?P<cmt>\S+))?"
                      r"|(?P<func>.+?) \+ \d+(?: \((?P<file>[^():]+):(?P<line>\d+)\))?)$")
_MAC_SIG = {"EXC_BAD_ACCESS": "SIGSEGV", "EXC_BAD_INSTRUCTION": "SIGILL", "EXC_ARITHMETIC": "SIGFPE",
            "EXC_CRASH": "SIGABRT", "EXC_BREAKPOINT": "SIGTRAP", "EXC_GUARD": "SIGKILL"}


def _mac_thread_list(text: str) -> bool:
    """The thread list of an Apple crash report without its header (two or more ``Thread N:`` each over frames)."""
    lines, n = text.split("\n")[:4000], 0
    for a, b in zip(lines, lines[1:]):
        f = _MAC_THREAD.match(a) and _MAC_FRAME.match(b)
        n += (2 if _MAC_THREAD.match(a).group("crashed") else 1) if f and _MAC_SYM.match(f.group("sym")) else 0
    return n >= 2      # (one "Thread N Crashed:" over its frames is enough: those are the crash reporter's words)


def _macos(text: str) -> tuple[str, dict]:
    lines, out, facts = text.split("\n"), [], {"foreign": "the macOS crash report"}
    addr = next((m for m in map(_MAC_ADDR.match, lines) if m), None)
    crashed = next((int(m.group("no")) + 1 for m in map(_MAC_CRASHED.match, lines) if m), None) or \
        next((int(m.group("no")) + 1 for m in map(_MAC_STATE.match, lines) if m), None)
    # the crashed thread's stack is not in the paste: the report still says which thread it was
    listed = {int(m.group("no")) + 1 for m in map(_MAC_THREAD.match, lines) if m}
    unlisted = crashed is not None and crashed not in listed
    gpflt = any(re.match(r"^\s*Exception (?:Codes|codes|Subtype|subtype):\s+EXC_I386_GPFLT\b", ln) for ln in lines)
    if not any(map(_MAC_EXC.match, lines)) and (arm := arm_exception(lines)):
        # the Exception Type lines are not in the paste: the crashed thread's ARM exception syndrome says it
        facts.update({k: arm[k] for k in ("access",) if k in arm}, **({"self_signal": arm["why"]} if arm.get("self") else {}))
        out += signal_lines(arm["signal"], arm.get("si_code"), arm.get("si_addr"))
    in_thread = last_no = None
    for ln in lines:
        if unlisted and (_MAC_CRASHED.match(ln) or _MAC_STATE.match(ln)):
            out += [f"[Current thread is {crashed} (Thread {crashed})]", ln]
            unlisted = False
            continue
        e = _MAC_EXC.match(ln)
        if e:
            sig = (e.group("sig") or _MAC_SIG.get(e.group("exc").upper(), "SIGSEGV")).upper()
            if e.group("exc").upper() == "EXC_BAD_ACCESS" and addr and sig not in ("SIGSEGV", "SIGBUS"):
                # the bad access is the fault; the signal in brackets is what ended the process after it (a runtime's
                # SEGV handler that aborts, as Ruby's does): the handler's report of the fault is the crash
                sig = "SIGBUS" if addr.group("kern") == "KERN_MEMORY_ERROR" else "SIGSEGV"
            at = int(addr.group("addr"), 16) if addr else None
            code = (2 if addr.group("kern") == "KERN_PROTECTION_FAILURE" else 1) if addr and sig in ("SIGSEGV", "SIGBUS") else None
            if gpflt and sig in ("SIGSEGV", "SIGBUS") and not addr:   # x86's #GP: Linux's SI_KERNEL with address 0
                code, at = 128, 0
            out += signal_lines(sig, code, at) if code else signal_lines(sig)
            continue
        t = _MAC_THREAD.match(ln)
        if t:
            in_thread = int(t.group("no")) + 1            # the report counts threads from 0, gdb from 1
            if t.group("crashed") or in_thread == crashed:
                out.append(f"[Current thread is {in_thread} (Thread {in_thread})]")
            out.append(f"Thread {in_thread} (Thread {in_thread}):")
            last_no = None
            continue
        f = _MAC_FRAME.match(ln) if in_thread else None
        s = _MAC_SYM.match(f.group("sym")) if f else None
        if f and s:
            func = s.group("func") or s.group("inner") or s.group("cmt") or "??"
            no = int(f.group("no"))
            if last_no is not None and no != last_no + 1:     # a line lost from the paste: still this thread's frames
                out.append(f"Thread {in_thread} (Thread {in_thread}):")
            last_no = no
            out.append(frame_line(int(f.group("no")), func, int(f.group("pc"), 16), s.group("file"), s.group("line"),
                                  f.group("mod")))
            continue
        out.append(ln)
    return "\n".join(out), facts


# --- the fallback: frame-shaped lines without gdb's "#N" (a copy from an IDE, a log, a reworded paste) ------
_LOOSE_FRAME = re.compile(r"^\s*(?:(?P<pc>0x[0-9a-fA-F]+) in )?(?P<func>[A-Za-z_~?][^\s(]*(?:<[^()]*>)?(?:::[^\s(]+)*) "
                          r"\((?P<args>[^()]*(?:\([^()]*\)[^()]*)*)\)(?: at (?P<file>[^\s:]+):(?P<line>\d+)| from (?P<mod>\S+))\s*$")
_HASH_FRAME = re.compile(r"^#\d+\s")


def _loose_looks(text: str) -> bool:
    lines = text.split("\n")[:2000]
    if any(_HASH_FRAME.match(ln) for ln in lines):
        return False
    hits = [m for m in map(_LOOSE_FRAME.match, lines) if m]
    return len(hits) >= 2 or any(m.group("pc") and m.group("file") for m in hits)


def _loose(text: str) -> tuple[str, dict]:
    lines, out, no, at = text.split("\n"), [], 0, []
    for k, ln in enumerate(lines):
        m = _LOOSE_FRAME.match(ln)
        if m:
            pc = int(m.group("pc"), 16) if m.group("pc") else None
            out.append(f"#{no}  " + (f"0x{pc:x} in " if pc is not None else "") + f"{m.group('func')} ({m.group('args')})"
                       + (f" at {m.group('file')}:{m.group('line')}" if m.group("file") else f" from {m.group('mod')}"))
            no += 1
            at.append(k + 1)
            continue
        out.append(ln)
    span = f"lines {at[0]}-{at[-1]}" if len(at) > 1 else f"line {at[0]}"
    return "\n".join(out), {"notes": [(span, f"{len(at)} frame-shaped lines without gdb's #N, numbered in the order "
                                             "they appear (frame 0 first); the other lines were read only for signal "
                                             "and runtime messages")]}


# --- UndefinedBehaviorSanitizer's "file:line:col: runtime error: …" (a check, not a signal) ----------------
_UB_ERROR = re.compile(r"^\s*(?P<file>[^\s:]+):(?P<line>\d+):(?:\d+:)? runtime error: (?P<msg>.+?)\s*$")
_UB_CLASS = [(r"^(?:load of|member access within|member call on|reference binding to|applying (?:non-)?zero offset to)"
              r" (?:misaligned address 0x0+\b|null pointer)|^(?:load|member access)\b.*\bnull pointer", "null-deref-read"),
             (r"^store to (?:misaligned address 0x0+\b|null pointer)", "null-deref-write"),
             (r"^division by zero|^integer divide by zero", "divide-by-zero")]


def _ubsan_looks(text: str) -> bool:
    return any(_UB_ERROR.match(ln) for ln in text.split("\n")[:400])


def _ubsan(text: str) -> tuple[str, dict]:
    from .sanitizer import _FRAME as SAN_FRAME, _frame

    lines, out, facts, first = text.split("\n"), [], {"foreign": "UndefinedBehaviorSanitizer"}, None
    for ln in lines:
        m = _UB_ERROR.match(ln)
        if m and first is None:
            first = m
            msg = m.group("msg")
            cls = next((c for rx, c in _UB_CLASS if re.search(rx, msg)), None)
            ambiguous = cls == "null-deref-read" and not msg.startswith("load of")   # a member access may be a store
            sub = "access-assumed-read" if ambiguous else f"ubsan:{msg.split(' of type')[0][:60]}"
            facts["runtime_verdict"] = (cls or "unknown", sub, "unknown",
                                        "UndefinedBehavior", f"UBSan reports '{msg}' at {m.group('file')}:{m.group('line')}"
                                        + ("" if cls else ": undefined behaviour the class vocabulary has no name for"))
            facts["verdict_without_signal"] = True      # a signal the transcript shows (a later fault) decides instead
            out.append(ln)
            continue
        f = SAN_FRAME.match(ln) if first is not None else None
        out.append(_frame(f) if f else ln)
    return "\n".join(out), facts


_LOOKS = [
    ("ubsan", _ubsan_looks),
    ("kernel", lambda t: bool(_KSEGV.search(t) or _KTRAP.search(t) or _KMIPS.search(t))),
    ("valgrind", lambda t: any(_VG_FATAL.match(ln) or _VG_ERROR.match(ln) for ln in t.split("\n"))
     or sum(1 for ln in t.split("\n") if ln.startswith("==") and _VG_FRAME.match(ln)) >= 2),
    ("minidump", lambda t: any(_MD_REASON.match(ln) for ln in t.split("\n")) or _md_frames_alone(t)),
    ("crashlytics", looks_like_crashlytics), ("graalvm", looks_like_graalvm), ("julia", looks_like_julia_signal),
    ("macbt", looks_like_mac_backtrace), ("gtkg", looks_like_gtkg_crash), ("gorecover", looks_like_go_recovery),
    ("macos", lambda t: any(_MAC_EXC.match(ln) or _MAC_STATE.match(ln) for ln in t.split("\n")) or _mac_thread_list(t)),
    ("wine", looks_like_winedbg),
    ("windbg", looks_like_windbg),
    ("winreport", looks_like_winreport),
    ("c3", looks_like_c3trace),
    ("esp", looks_like_esp_panic),
    ("crystal", looks_like_crystal), ("zig", looks_like_zig_trace), ("nim", looks_like_nim_trace),
    ("delve", looks_like_delve_list), ("ips", looks_like_ips),
    ("summary", looks_like_crash_summary),
    ("vsstack", looks_like_vs_stack),
    ("handler", looks_like_handler_log),
]
_TRANSLATE = {"crashlytics": crashlytics_to_gdb, "windbg": windbg_to_gdb, "winreport": winreport_to_gdb, "c3": c3trace_to_gdb, "esp": esp_panic_to_gdb, "crystal": crystal_to_gdb, "wine": winedbg_to_gdb, "summary": crash_summary_to_gdb, "vsstack": vs_stack_to_gdb, "ubsan": _ubsan, "kernel": _kernel, "valgrind": _valgrind, "minidump": _minidump, "macos": _macos, "frames": _loose,
              "handler": handler_log_to_gdb, "zig": zig_trace_to_gdb, "nim": nim_trace_to_gdb, "delve": delve_list_to_gdb, "ips": ips_to_gdb,
              "graalvm": graalvm_to_gdb, "julia": julia_signal_to_gdb, "macbt": mac_backtrace_to_gdb, "gtkg": gtkg_crash_to_gdb, "gorecover": go_recovery_to_gdb}


def foreign_dialect(text: str) -> str | None:
    """Which non-debugger report ``text`` holds (``kernel``, ``valgrind``, ``jvm``, ``v8``, …), or None."""
    head = text[:1 << 16]
    for name, looks in _LOOKS + [(n, r[0]) for n, r in RUNTIMES.items()] + [("frames", _loose_looks)]:
        if looks(head):
            return name
    return None


def foreign_to_gdb(text: str, dialect: str) -> tuple[str, dict]:
    """``(gdb-shaped text, facts)`` for a report of ``dialect`` (see :func:`foreign_dialect`)."""
    fn = _TRANSLATE.get(dialect) or RUNTIMES[dialect][1]
    return fn(text)
