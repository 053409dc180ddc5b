"""Go runtime crash output (``panic:``, ``fatal error:``, ``goroutine N [state]:`` blocks, Delve ``bt``)
as the gdb lines they mean.

A Go crash prints the panic value, for faults ``[signal SIGSEGV: segmentation violation code=0x1
addr=0x0 pc=0x…]``, then one block per goroutine (the panicking one first): a function line
``pkg.(*T).Method(args)`` and a ``\\tfile.go:42 +0x1d`` line per frame. :func:`go_to_gdb` rewrites
that into gdb's shape (``Thread 19 received signal SIGSEGV``, a ``$_siginfo``-style line with the
runtime's own code and addr, ``Thread 19 (LWP 19):`` headers, ``#0  pkg.(*T).Method (args) at
file.go:42``) and keeps the ``fatal error: all goroutines are asleep - deadlock!`` line, which the
parser reads as hang evidence. Goroutine numbers stand in for thread numbers.

>>> print(go_to_gdb("panic: runtime error: invalid memory address or nil pointer dereference\\n"
...                 "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a]\\n\\n"
...                 "goroutine 1 [running]:\\nmain.main()\\n\\t/app/main.go:9 +0x1d"))
panic: runtime error: invalid memory address or nil pointer dereference
Thread 1 received signal SIGSEGV, segmentation violation.
$0 = {si_signo = 11, si_errno = 0, si_code = 1, _sigfault = {si_addr = 0x0}}
<BLANKLINE>
Thread 1 (LWP 1):
#0  main.main () at /app/main.go:9
"""
from __future__ import annotations

import re

_GOROUTINE = re.compile(r"^goroutine (?P<n>\d+) \[(?P<state>[^\]]*)\]:\s*$")
# old runtimes print the number: "[signal 0xb code=0x1 addr=0x1 pc=0x8048f30]"
_SIGNAL = re.compile(r"^\[signal (?P<sig>SIG[A-Z0-9]+|0x[0-9a-fA-F]+|\d+)(?:: (?P<desc>[^\]]*?))?"
                     r"(?: code=(?P<code>0x[0-9a-fA-F]+|-?\d+))?"
                     r"(?: addr=(?P<addr>0x[0-9a-fA-F]+))?(?: pc=(?P<pc>0x[0-9a-fA-F]+))?\]\s*$")
# the numbers the Go runtime uses on every Unix it runs on (SIGBUS/SIGSYS differ between systems: not guessed)
_SIG_BY_NO = {4: ("SIGILL", "illegal instruction"), 5: ("SIGTRAP", "trace trap"), 6: ("SIGABRT", "abort"),
              8: ("SIGFPE", "floating-point exception"), 11: ("SIGSEGV", "segmentation violation")}
_FUNC = re.compile(r"^(?P<func>[\w.\-~/%]+?(?:\.\(\*?[\w\[\],. ]+\))?(?:\.[\w\-\[\]~.]+)*|panic)\((?P<args>.*)\)\s*$")
_FILE = re.compile(r"^\s+(?P<file>\S+\.(?:go|s|c)):(?P<line>\d+)(?: \+0x[0-9a-fA-F]+)?(?: .*)?$")
_SIGNO = {"SIGSEGV": 11, "SIGBUS": 7, "SIGFPE": 8, "SIGILL": 4, "SIGABRT": 6, "SIGTRAP": 5}

GO_MARKS = re.compile(r"^\s*(?:goroutine \d+ \[[^\]]*\]:|panic: |fatal error: |\[signal (?:SIG[A-Z]+: |0x[0-9a-f]+ ))", re.M)


def looks_like_go(text: str) -> bool:
    return bool(re.search(r"^\s*goroutine \d+ \[[^\]]*\]:\s*$", text, re.M)) or \
        bool(re.search(r"^\s*\[signal (?:SIG[A-Z0-9]+: [^\]]*|0x[0-9a-fA-F]+|\d+) code=", text, re.M))


def go_to_gdb(text: str) -> str:
    """Rewrite the Go runtime's crash report into gdb lines (other lines unchanged)."""
    lines = text.split("\n")
    first_g = next((int(m.group("n")) for m in map(_GOROUTINE.match, (l.strip() for l in lines)) if m), 1)
    out, in_goroutine, frame_no, pending = [], False, 0, None
    for ln in lines:
        s = ln.strip()
        m = _SIGNAL.match(s)
        if m:
            sig, desc = m.group("sig"), m.group("desc")
            if not sig.startswith("SIG"):
                no = int(sig, 16) if sig.startswith("0x") else int(sig)
                sig, desc = _SIG_BY_NO.get(no, (f"SIG{no}", desc or f"signal {no}"))
            out.append(f"Thread {first_g} received signal {sig}, {desc or sig}.")
            code = m.group("code")
            if code is not None or m.group("addr"):
                c = int(code, 16) if code and code.startswith("0x") else int(code or 0)
                out.append(f"$0 = {{si_signo = {_SIGNO.get(sig, 0)}, si_errno = 0, si_code = {c}, "
                           f"_sigfault = {{si_addr = {m.group('addr') or '0x0'}}}}}")
            continue
        m = _GOROUTINE.match(s)
        if m:
            if pending:
                out.append(pending)
                pending = None
            n = m.group("n")
            if not any(o.startswith("Thread ") and "received signal" in o for o in out) and int(n) == first_g:
                out.append(f"[Current thread is {n} (LWP {n})]")
            out.append(f"Thread {n} (LWP {n}):")
            in_goroutine, frame_no = True, 0
            continue
        if in_goroutine:
            f = _FILE.match(ln)
            if f and pending:
                out.append(f"{pending} at {f.group('file')}:{f.group('line')}")
                pending = None
                continue
            m = _FUNC.match(s)
            if m and not s.startswith("created by "):
                if pending:
                    out.append(pending)
                args = m.group("args")
                pending = f"#{frame_no}  {m.group('func')} ({args})"
                frame_no += 1
                continue
            if s.startswith("created by ") or f:
                continue
            if not s:
                if pending:
                    out.append(pending)
                    pending = None
                in_goroutine = False
        out.append(ln)
    if pending:
        out.append(pending)
    return "\n".join(out)
