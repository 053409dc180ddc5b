"""Go runtime crash output (``panic:``, ``fatal error:``, ``goroutine N [state]:`` blocks, Delve ``bt``)
as the gdb lines they mean.

A Go crash prints the panic value, for faults ``[signal SIGSEGV: segmentation violation code=0x1
addr=0x0 pc=0x…]``, then one block per goroutine (the panicking one first): a function line
``pkg.(*T).Method(args)`` and a ``\\tfile.go:42 +0x1d`` line per frame. :func:`go_to_gdb` rewrites
that into gdb's shape (``Thread 19 received signal SIGSEGV``, a ``$_siginfo``-style line with the
runtime's own code and addr, the signal's pc as ``info registers`` prints it, ``Thread 19 (LWP 19):`` headers, ``#0  pkg.(*T).Method (args) at
file.go:42``) and keeps the ``fatal error: all goroutines are asleep - deadlock!`` line, which the
parser reads as hang evidence. Goroutine numbers stand in for thread numbers.

>>> print(go_to_gdb("panic: runtime error: invalid memory address or nil pointer dereference\\n"
...                 "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a]\\n\\n"
...                 "goroutine 1 [running]:\\nmain.main()\\n\\t/app/main.go:9 +0x1d"))
panic: runtime error: invalid memory address or nil pointer dereference
Thread 1 received signal SIGSEGV, segmentation violation.
$0 = {si_signo = 11, si_errno = 0, si_code = 1, _sigfault = {si_addr = 0x0}}
pc             0x4a           0x4a
<BLANKLINE>
Thread 1 (LWP 1):
#0  main.main () at /app/main.go:9
"""
from __future__ import annotations

import re

# Go >= 1.21 adds "gp=0x… m=N mp=0x…" to a goroutine header of a fatal signal's dump
_GOROUTINE = re.compile(r"^goroutine (?P<n>\d+)(?: gp=0x[0-9a-fA-F]+ m=\S+(?: mp=0x[0-9a-fA-F]+)?)? \[(?P<state>[^\]]*)\]:\s*$")
# the header of a signal the runtime cannot turn into a panic (in cgo code, SIGABRT): "SIGSEGV: segmentation
# violation" (also glued to the end of a progress line), then "PC=0x… m=0 sigcode=1 addr=0x20"
_SIG_HEADER = re.compile(r"(?:^|\s)(?P<sig>SIG[A-Z0-9]+): (?P<desc>[a-z][\w ./-]*?)\s*$")
_PC_LINE = re.compile(r"^PC=0x[0-9a-fA-F]+ m=\S+(?: sigcode=(?P<code>-?\d+))?(?: addr=(?P<addr>0x[0-9a-fA-F]+))?")
# Windows exception codes the runtime prints as the signal ("[signal 0xc0000005 code=0x0 addr=0x20 pc=…]";
# its code is the access: 0 read, 1 write, 8 execute) -> the Unix signal the same fault raises
_WIN_EXC = {0xc0000005: ("SIGSEGV", "Exception 0xc0000005 (access violation)"),
            0xc0000094: ("SIGFPE", "Exception 0xc0000094 (integer divide by zero)"),
            0xc000001d: ("SIGILL", "Exception 0xc000001d (illegal instruction)"),
            0xc00000fd: ("SIGSEGV", "Exception 0xc00000fd (stack overflow)")}
# VS Code's Go debugger (Delve): 'Exception has occurred: panic "…"' and a "Stack:" of "N  0x… in f" / "at f.go:3"
_VSCODE_PANIC = re.compile(r'^\s*Exception has occurred: (?P<what>panic|fatal error) "?(?P<msg>.*?)"?\s*$')
_DLV_FRAME = re.compile(r"^\s*(?P<no>\d+)\s+(?P<pc>0x[0-9a-fA-F]+) in (?P<func>\S+)\s*$")
_DLV_AT = re.compile(r"^\s+at (?P<file>\S+):(?P<line>\d+)\s*$")
# old runtimes print the number: "[signal 0xb code=0x1 addr=0x1 pc=0x8048f30]"
_SIGNAL = re.compile(r"^\[signal (?P<sig>SIG[A-Z0-9]+|0x[0-9a-fA-F]+|\d+)(?:: (?P<desc>[^\]]*?))?"
                     r"(?: code=(?P<code>0x[0-9a-fA-F]+|-?\d+))?"
                     r"(?: addr=(?P<addr>0x[0-9a-fA-F]+))?(?: pc=(?P<pc>0x[0-9a-fA-F]+))?\]\s*$")
# the numbers the Go runtime uses on every Unix it runs on (SIGBUS/SIGSYS differ between systems: not guessed)
_SIG_BY_NO = {4: ("SIGILL", "illegal instruction"), 5: ("SIGTRAP", "trace trap"), 6: ("SIGABRT", "abort"),
              8: ("SIGFPE", "floating-point exception"), 11: ("SIGSEGV", "segmentation violation")}
# (Go before 1.5 wrote "·" in symbol names: a closure is "pkg.func·007", runtime functions "runtime·panic")
_FUNC = re.compile(r"^(?P<func>[\w.\-~/%·]+?(?:\.\(\*?[\w\[\],. ]+\))?(?:\.[\w\-\[\]~.·]+)*|panic)\((?P<args>.*)\)\s*$")
_FILE = re.compile(r"^\s+(?P<file>\S+\.(?:go|goc|s|c)):(?P<line>\d+)(?: \+0x[0-9a-fA-F]+)?(?: .*)?$")
_SIGNO = {"SIGSEGV": 11, "SIGBUS": 7, "SIGFPE": 8, "SIGILL": 4, "SIGABRT": 6, "SIGTRAP": 5}



def _siginfo(signo, code, addr) -> str:
    """gdb's ``$_siginfo`` for what the runtime printed: runtimes before Go 1.20 print ``PC=… m=N sigcode=N`` with no
    ``addr=``, and a cut ``[signal …]`` line may lose it — no fault address is made up then."""
    fault = f", _sigfault = {{si_addr = {addr}}}" if addr else ", _sifields = {}"
    return f"$0 = {{si_signo = {signo}, si_errno = 0, si_code = {code}{fault}}}"


GO_MARKS = re.compile(r"^\s*(?:goroutine \d+ \[[^\]]*\]:|panic: |fatal error: |\[signal (?:SIG[A-Z]+: |0x[0-9a-f]+ ))", re.M)


GO_LOOKS = re.compile(r"^\s*(?:goroutine \d+(?: gp=0x[0-9a-fA-F]+ m=\S+(?: mp=0x[0-9a-fA-F]+)?)? \[[^\]]*\]:\s*$"
                      r"|\[signal (?:SIG[A-Z0-9]+: [^\]]*|0x[0-9a-fA-F]+|\d+) code="
                      r"|panic:\s*runtime error:\s*\S|Exception has occurred: (?:panic|fatal error) "
                      # the signal header of a fault the runtime cannot turn into a panic (cgo), pasted alone
                      r"|SIG[A-Z0-9]+: [a-z][\w ./-]*\n\s*PC=0x[0-9a-fA-F]+ m=\S+ sigcode="
                      r"|fatal error: (?:all goroutines are asleep|concurrent map (?:writes|read and map write|iteration and map write)"
                      r"|sync: (?:unlock of unlocked|negative WaitGroup)|runtime: out of memory)"
                      # newstack's words before its "fatal error: stack overflow" throw
                      r"|runtime: goroutine stack exceeds \d+-byte limit\s*$"
                      # a goroutine's stack whose header the paste cut: three calls, each over its file.go:N line
                      r"|(?:^[ \t]*[\w.\-~/%*()]+\(.*\)[ \t]*\n[ \t]+/\S+\.go:\d+(?: \+0x[0-9a-fA-F]+)?[ \t]*\n){3})", re.M)
# the runtime's throw messages (runtime/*.go, sync): "fatal error:" alone is any program's wording, these are Go's
# a shell prompt in front of the runtime's line (a paste run back through the shell): "/app# [signal SIGSEGV: …]"
_PROMPT = re.compile(r"^\S*[#$]\s+(?=\[signal )")


def looks_like_go(text: str) -> bool:
    return bool(GO_LOOKS.search(text))


_BARE_FUNC = re.compile(r"^\s*[\w.\-~/%]+(?:\.\(\*?[\w\[\],. ]+\))?(?:\.[\w\-\[\]~.]+)*\s*$")


def _join_wrapped_calls(lines: list[str]) -> list[str]:
    """A function line whose argument list a tracker wrapped onto the next line (``pkg.f`` / ``(0xc0…, 0x1)``)
    joined again; the blank line a paste put after a goroutine header dropped."""
    out = []
    for ln in lines:
        s = ln.strip()
        if out and s.startswith("(") and s.endswith(")") and _BARE_FUNC.match(out[-1]) and "." in out[-1]:
            out[-1] = out[-1].rstrip() + s
            continue
        if not s and out and _GOROUTINE.match(out[-1].strip()):
            continue
        out.append(ln)
    return out


def _vscode(lines: list[str]) -> list[str]:
    """VS Code's panic banner and stack as the runtime's ``panic:`` line and gdb frames."""
    out, k = [], 0
    while k < len(lines):
        m, f = _VSCODE_PANIC.match(lines[k]), _DLV_FRAME.match(lines[k])
        if m:
            out.append(f"{m.group('what')}: {m.group('msg')}")
        elif f:
            at = _DLV_AT.match(lines[k + 1]) if k + 1 < len(lines) else None
            out.append(f"#{f.group('no')}  {f.group('pc')} in {f.group('func')} ()"
                       + (f" at {at.group('file')}:{at.group('line')}" if at else ""))
            k += 1 if at else 0
        else:
            out.append(lines[k])
        k += 1
    return out


_RUNTIME_LINE = re.compile(r"^\s*(?:panic:|\[signal |fatal error:)")
_SPACELESS = re.compile(r"^(\s*)panic:\s*runtime error:\s*")


def _unmark(ln: str) -> str:
    """The runtime's own lines as it printed them: markdown bold (``**nil pointer**``, ``**addr=0x0**``) and
    a paste that lost the blanks after the colons (``panic:runtime error:invalid …``) undone (the runtime
    prints no ``**`` and always ``panic: runtime error: ``)."""
    if not _RUNTIME_LINE.match(ln):
        return ln
    return _SPACELESS.sub(r"\1panic: runtime error: ", ln.replace("**", ""))


def go_to_gdb(text: str) -> str:
    """Rewrite the Go runtime's crash report into gdb lines (other lines unchanged)."""
    lines = [_unmark(ln) for ln in text.split("\n")]
    if any(_VSCODE_PANIC.match(ln) for ln in lines):
        lines = _vscode(lines)
    lines = _join_wrapped_calls(lines)
    first_g = next((int(m.group("n")) for m in map(_GOROUTINE.match, (l.strip() for l in lines)) if m), 1)
    first_g_missing = not any(_GOROUTINE.match(l.strip()) for l in lines)
    out, in_goroutine, frame_no, pending = [], False, 0, None
    for k, ln in enumerate(lines):
        s = _PROMPT.sub("", ln.strip())
        m = _SIGNAL.match(s)
        if m:
            sig, desc = m.group("sig"), m.group("desc")
            windows = False
            if not sig.startswith("SIG"):
                no = int(sig, 16) if sig.startswith("0x") else int(sig)
                windows = no in _WIN_EXC
                sig, desc = _WIN_EXC.get(no) or _SIG_BY_NO.get(no, (f"SIG{no}", desc or f"signal {no}"))
            out.append(f"Thread {first_g} received signal {sig}, {desc or sig}.")
            code = m.group("code")
            if code is not None or m.group("addr"):
                c = int(code, 16) if code and code.startswith("0x") else int(code or 0)
                if windows:      # the exception's access kind, not a si_code: a fault the CPU raised
                    c = 2 if sig == "SIGSEGV" and c == 8 else 1
                out.append(_siginfo(_SIGNO.get(sig, 0), c, m.group("addr")))
            if m.group("pc"):      # the pc the signal stopped at, as gdb's register line (pc == addr: a jump there)
                out.append(f"pc             {m.group('pc')}           {m.group('pc')}")
            continue
        h = _SIG_HEADER.search(s) if not in_goroutine else None
        pcl = _PC_LINE.match(lines[k + 1].strip()) if h and k + 1 < len(lines) else None
        if pcl:
            if h.start() > 0:
                out.append(s[:h.start()])          # the progress line the header was glued to
            out.append(f"Thread {first_g} received signal {h.group('sig')}, {h.group('desc')}.")
            if pcl.group("code") is not None:
                out.append(_siginfo(_SIGNO.get(h.group("sig"), 0), pcl.group("code"), pcl.group("addr")))
            continue
        m = _GOROUTINE.match(s)
        headless = first_g_missing and not in_goroutine and not frame_no and _FUNC.match(s) \
            and k + 1 < len(lines) and _FILE.match(lines[k + 1]) and "runtime stack:" not in lines
        if headless:      # a goroutine's stack whose header the paste cut: its only stack, as for "runtime stack:"
            out.extend([f"[Current thread is {first_g} (LWP {first_g})]", f"Thread {first_g} (LWP {first_g}):"])
            in_goroutine = True
        if s == "runtime stack:" and first_g_missing:
            # a throw's system stack, pasted without the goroutine's: the only stack, the thread that threw
            out.extend([f"[Current thread is {first_g} (LWP {first_g})]", f"Thread {first_g} (LWP {first_g}):"])
            in_goroutine, frame_no = True, 0
            continue
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
            if not s and pending and k + 1 < len(lines) and _FILE.match(lines[k + 1]):
                continue        # the runtime prints no blank line between a call and its file: the paste added it
            if not s:
                if pending:
                    out.append(pending)
                    pending = None
                in_goroutine = False
        out.append(ln)
    if pending:
        out.append(pending)
    return "\n".join(out)
