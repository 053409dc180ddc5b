"""Julia's report of a fatal signal: ``[4242] signal (11.1): Segmentation fault``, then the backtrace.

Julia's runtime (``src/signal-handling.c``, ``jl_critical_error``) prints ``[pid] signal (SIGNO.SI_CODE):
strsignal`` (older runtimes: ``[pid] signal (11): Segmentation fault``, no si_code), ``in expression starting at file.jl:8``, then one
line per frame: ``func at file:line`` (``[inlined]`` after an inlined one), ``func at file (unknown line)`` for C
code without line info, ``unknown function (ip: 0x…)`` for a pc it cannot name; last ``Allocations: … GC: …``. It
prints no fault address. The runtime's C frames (``jl_*``/``ijl_*``, its ``src/*.c`` files) and Base's and the
standard library's Julia files (``./boot.jl``, ``…/share/julia/base/``) are the runtime's, not the program's.

>>> looks_like_julia_signal("[7] signal (11.1): Segmentation fault\\nin expression starting at a.jl:1\\nf at /a.jl:3\\n")
True
"""
from __future__ import annotations

import re

_HEAD = re.compile(r"^(?:\[(?P<pid>\d+)\] )?signal \((?P<no>\d+)(?:\.(?P<code>-?\d+))?\): (?P<what>[A-Za-z][\w /-]*)\s*$")
_EXPR = re.compile(r"^in expression starting at \S+")
_FRAME = re.compile(r"^(?P<func>\S(?:.*?\S)?) at (?P<file>\S+?)(?::(?P<line>\d+)| \(unknown line\))(?: \[inlined\])?\s*$")
_UNKNOWN = re.compile(r"^unknown function \(ip: (?P<ip>0x[0-9a-fA-F]+|\(nil\))\)\s*$")
_LINUX_SIG = {11: "SIGSEGV", 7: "SIGBUS", 4: "SIGILL", 8: "SIGFPE", 6: "SIGABRT", 5: "SIGTRAP", 10: "SIGBUS"}
_RUNTIME_FILE = re.compile(r"^\./[\w./-]+\.jl$|/share/julia/(?:base|stdlib)/|/julia[\w.-]*/(?:src|base|stdlib|usr/share)/"
                           r"|/julialang/julia[\w.-]*/|^(?:/usr/include/|\S+/julia\.h$|\S+/julia_internal\.h$)")
_RUNTIME_FUNC = re.compile(r"^(?:_?i?jl_\w+|julia_\w+|true_main|main|__libc_start\w*|_start|start_task|ijl_\w+)$")


def looks_like_julia_signal(text: str) -> bool:
    lines = text[:1 << 16].split("\n")[:400]
    return any(_HEAD.match(a.strip()) and any(_EXPR.match(b.strip()) or _FRAME.match(b.strip()) for b in lines[k + 1:k + 3])
               for k, a in enumerate(lines))


def julia_signal_to_gdb(text: str) -> tuple[str, dict]:
    from .foreign import frame_line, signal_lines

    out, facts, no, library, seen = [], {"foreign": "Julia's signal report"}, 0, [], False
    for ln in text.split("\n"):
        s = ln.strip()
        h = _HEAD.match(s)
        if h and not seen:
            seen = True
            code = int(h.group("code")) if h.group("code") else None
            out += signal_lines(_LINUX_SIG.get(int(h.group("no")), "SIGSEGV"), code)
            out += ["[Current thread is 1 (Thread 1)]", "Thread 1 (Thread 1):"]
            continue
        if seen and _EXPR.match(s):
            facts["julia_expression"] = s    # where the top-level code was: not a frame (read, not passed on)
            continue
        u = _UNKNOWN.match(s) if seen else None
        f = _FRAME.match(s) if seen and not u else None
        if u or f:
            if u:
                ip = int(u.group("ip"), 16) if u.group("ip").startswith("0x") else 0
                out.append(frame_line(no, "??", ip))
            else:
                func, file = f.group("func"), f.group("file")
                if _RUNTIME_FILE.search(file) or _RUNTIME_FUNC.match(func):
                    library.append(func)
                out.append(frame_line(no, func, None, file, f.group("line") if f.group("line") else None))
            no += 1
            continue
        out.append(ln)
    if library:
        facts["not_own_functions"] = sorted(set(library))
    return "\n".join(out), facts
