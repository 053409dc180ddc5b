"""What language runtimes and shells print when a process dies, as gdb lines and facts.

* the JVM's fatal-error banner and ``hs_err`` file (``#  SIGSEGV (0xb) at pc=…``, ``# Problematic
  frame:``, ``siginfo: si_signo: 11 (SIGSEGV), si_code: 1 (SEGV_MAPERR), si_addr: 0x…``),
* V8/Node's ``FATAL ERROR: …`` with its numbered native stack (``1: 0x95bf28 node::Abort() [node]``),
* Python's faulthandler (``Fatal Python error: Segmentation fault``, ``File "x.py", line 3 in f``),
* and, for a paste that holds nothing else, the last words a shell, cargo or libc printed
  (``Segmentation fault (core dumped)``, ``(signal: 11, SIGSEGV: invalid memory reference)``,
  BSD/macOS ``Assertion failed: (x), function f, file a.c, line 3.``): :func:`last_words`.

Nothing is guessed: a banner that gives no fault address gives none here either.

>>> last_words(["./run.sh: line 7: 23677 Aborted                 ./prog -x"])["signal"]
'SIGABRT'
>>> last_words(["app.service: Main process exited, code=dumped, status=11/SEGV"])["signal"]
'SIGSEGV'
"""
from __future__ import annotations

import re

from .llvmcrash import llvm_looks, llvm_to_gdb

# --- the JVM ------------------------------------------------------------------------------------------
_JVM_SIG = re.compile(r"#\s+(?P<sig>SIG[A-Z]+) \(0x(?P<no>[0-9a-fA-F]+)\) at pc=(?P<pc>0x[0-9a-fA-F]+), pid=(?P<pid>\d+)")
_JVM_SIG_BARE = re.compile(r"^\W*\s*(?P<sig>SIG[A-Z]+) \(0x(?P<no>[0-9a-fA-F]+)\) at pc=(?P<pc>0x[0-9a-fA-F]+), pid=(?P<pid>\d+)")
_JVM_FRAME = re.compile(r"^\W*?\s*(?P<kind>[CVvjJA])\s+(?:\[(?P<mod>[^\]+]+)(?:\+(?P<off>0x[0-9a-fA-F]+))?\]\s*"
                        r"(?P<func>[^\s+][^+]*?)?(?:\+0x[0-9a-fA-F]+)?|(?P<stub>~\S+.*?))\s*$")
# (JDK 7's: "siginfo:si_signo=SIGSEGV: si_errno=0, si_code=1 (SEGV_MAPERR), si_addr=0x00007f0f57fff010")
_JVM_SIGINFO = re.compile(r"siginfo: ?si_signo[:=] ?(?:(?P<no>\d+) \((?P<sig>SIG[A-Z]+)\)|(?P<sig2>SIG[A-Z]+))[:,] "
                          r"(?:si_errno[:=] ?\d+, )?si_code[:=] ?(?P<code>-?\d+)(?: \([^)]*\))?"
                          r"(?:, si_addr[:=] ?(?P<addr>0x[0-9a-fA-F]+))?")


def _jvm_looks(text: str) -> bool:
    return bool(_JVM_SIG.search(text) or any(_JVM_SIG_BARE.match(ln) for ln in text.split("\n")[:200]))


def _jvm(text: str) -> tuple[str, dict]:
    from .foreign import frame_line, signal_lines

    lines, out, facts = text.split("\n"), [], {"foreign": "the JVM's fatal error report"}
    info = next((m for m in map(_JVM_SIGINFO.search, lines) if m), None)
    # the native stack of hs_err ("Native frames:") when present, else the banner's one problematic frame
    native = next((k for k, ln in enumerate(lines) if ln.startswith("Native frames:")), None)
    no, problematic, signalled = 0, False, False
    for k, ln in enumerate(lines):
        m = _JVM_SIG.search(ln) or _JVM_SIG_BARE.match(ln)
        if m and not signalled:
            signalled = True
            sig = m.group("sig")
            if info and (info.group("sig") or info.group("sig2")) == sig:
                code = int(info.group("code"))
                out += signal_lines(sig, code, int(info.group("addr"), 16) if info.group("addr") and code > 0 else None)
            else:
                out += signal_lines(sig)
            out.append(f"pc             {m.group('pc')}          {m.group('pc')}")
            continue
        if "Problematic frame:" in ln:
            problematic = True
            out.append(ln)
            continue
        f = _JVM_FRAME.match(ln) if (problematic and native is None) or (native is not None and k > native) else None
        if f:
            problematic = False
            mod = f.group("mod") or ("libjvm.so" if f.group("stub") else "java" if f.group("kind") in "jJA" else None)
            func = f.group("func") or f.group("stub") or "??"
            off = f.group("off")
            out.append(frame_line(no, func.strip(), int(off, 16) if off else None, module=mod))
            no += 1
            continue
        if native is not None and k > native and not ln.strip():
            native = None                    # the native stack ends at its blank line
        out.append(ln)
    return "\n".join(out), facts


# --- V8 / Node ------------------------------------------------------------------------------------------
_V8_FATAL = re.compile(r"^\s*(?:FATAL ERROR: (?P<msg>.+?)|# Fatal error in (?P<where>.+)|(?P<prog>\S+)\[\d+\]: (?P<afile>[^\s:]+):"
                       r"(?P<aline>\d+):\s?(?:(?P<afunc>.+?): )?Assertion `(?P<expr>.+)' failed\.)\s*$")
_V8_FRAME = re.compile(r"^\s*(?P<no>\d+): (?:(?P<pc>0x[0-9a-fA-F]+)\s*)?(?P<func>.*?)\s*(?:\[(?P<mod>[^\]]+)\])?\s*$")


def _v8_looks(text: str) -> bool:
    return any(_V8_FATAL.match(ln) for ln in text.split("\n")[:400])


def _v8(text: str) -> tuple[str, dict]:
    from .foreign import frame_line, signal_lines

    lines, out, facts = text.split("\n"), [], {"foreign": "V8"}
    in_stack, signalled = False, False
    for ln in lines:
        m = _V8_FATAL.match(ln)
        if m:
            if m.group("expr"):
                facts.setdefault("assert_expr", m.group("expr"))
                facts.setdefault("assert_message", ln.strip())
            else:
                facts.setdefault("abort_message", "V8 fatal error: " + (m.group("msg") or m.group("where")))
            if not signalled:
                signalled = True
                out += signal_lines("SIGABRT")           # V8's fatal-error path ends in abort()
            in_stack = True
            out.append(ln)
            continue
        if ln.strip().startswith("----- JavaScript stack trace"):
            in_stack = False
        f = _V8_FRAME.match(ln) if in_stack else None
        if f and int(f.group("no")) >= 1:
            func, pc = f.group("func") or "??", int(f.group("pc"), 16) if f.group("pc") else None
            if re.fullmatch(r"[0-9A-Fa-f]{8,16}", func):          # Windows: a bare address where no symbol was found
                func, pc = "??", int(func, 16)
            out.append(frame_line(int(f.group("no")) - 1, func, pc, module=f.group("mod")))
            continue
        out.append(ln)
    return "\n".join(out), facts


# --- Python's faulthandler -------------------------------------------------------------------------------
_PY_FATAL = re.compile(r"Fatal Python error: (?P<what>.+?)\s*$")
_PY_THREAD = re.compile(r"^\s*(?P<cur>Current thread|Thread) (?P<tid>0x[0-9a-fA-F]+)(?: \[[^\]]*\])? \(most recent call first\):")
_PY_FRAME = re.compile(r"^\s+File \"(?P<file>[^\"]+)\", line (?P<line>\d+) in (?P<func>\S+)\s*$")
_PY_SIG = {"Segmentation fault": "SIGSEGV", "Aborted": "SIGABRT", "Bus error": "SIGBUS", "Illegal instruction": "SIGILL",
           "Floating point exception": "SIGFPE"}


def _py_looks(text: str) -> bool:
    lines = text[:1 << 16].split("\n")
    # also a paste that starts at "Current thread 0x… (most recent call first):" (the header line not copied)
    return any(_PY_FATAL.search(ln) for ln in lines) or \
        any(_PY_THREAD.match(a) and _PY_FRAME.match(b) for a, b in zip(lines, lines[1:]))


def _python(text: str) -> tuple[str, dict]:
    from .foreign import frame_line, signal_lines

    lines, out, facts = text.split("\n"), [], {"foreign": "Python's faulthandler"}
    thread, no, n_threads, signalled = None, 0, 0, False
    for ln in lines:
        m = _PY_FATAL.search(ln)
        if m and not signalled:
            signalled = True
            sig = _PY_SIG.get(m.group("what"))
            if sig in (None, "SIGABRT"):
                # "Fatal Python error: PyThreadState_Get: …" then abort(); "… Aborted": the process aborted
                # itself (its stack here is Python's, so no abort() frame can show it)
                facts["abort_message"] = ln.strip()
            out += signal_lines(sig or "SIGABRT")
            continue
        t = _PY_THREAD.match(ln)
        if t:
            n_threads += 1
            thread, no = n_threads, 0
            if t.group("cur") == "Current thread":
                out.append(f"[Current thread is {thread} (Thread {thread})]")
            out.append(f"Thread {thread} (Thread {thread}):")
            continue
        f = _PY_FRAME.match(ln) if thread else None
        if f:
            file = f.group("file").replace(" ", "-")          # "<frozen importlib._bootstrap>" has a space
            out.append(frame_line(no, f.group("func"), None, file, int(f.group("line"))))
            no += 1
            continue
        out.append(ln)
    return "\n".join(out), facts


# --- Rust's panic message and its own backtrace (RUST_BACKTRACE=1 / full) ---------------------------------
_RS_PANIC = re.compile(r"^\s*thread '(?P<thread>[^']*)'(?: \(\d+\))? panicked at (?:'(?P<msg>.*)', (?P<f1>\S+?):\d+(?::\d+)?"
                       r"|(?P<f2>\S+?):\d+(?::\d+)?:)\s*$")
_RS_OVERFLOW = re.compile(r"^\s*(?:thread '[^']*'(?: \(\d+\))? has overflowed its stack|fatal runtime error: stack overflow)")
_RS_FRAME = re.compile(r"^\s*(?P<no>\d+):\s+(?:(?P<pc>0x[0-9a-fA-F]+) - )?(?P<func>\S.*?)\s*$")
_RS_AT = re.compile(r"^\s+at (?P<file>\S+?):(?P<line>\d+)(?::\d+)?\s*$")


# the backtrace crate's signal hook (as a Rust program installs it): "Received signal: SIGSEGV" and "  0: symbol" lines
_RS_SIGNAL = re.compile(r"^\s*Received signal:? (?P<sig>SIG[A-Z]+)\s*$")


def _rust_looks(text: str) -> bool:
    lines = text.split("\n")[:400]
    return any(_RS_PANIC.match(ln) or _RS_OVERFLOW.match(ln) for ln in lines) or \
        any(_RS_SIGNAL.match(a) and _RS_FRAME.match(b) for a, b in zip(lines, lines[1:]))


def _rust(text: str) -> tuple[str, dict]:
    from .foreign import frame_line

    lines, out, facts = text.split("\n"), [], {"foreign": "Rust's runtime"}
    in_bt, k = False, 0
    while k < len(lines):
        ln = lines[k]
        p = _RS_PANIC.match(ln)
        if p and "runtime_verdict" not in facts:
            msg = p.group("msg") or (lines[k + 1].strip() if p.group("f2") and k + 1 < len(lines) else "")
            facts["runtime_verdict"] = ("abort", "rust-panic", "unknown", "AbortSignal",
                                        f"thread '{p.group('thread')}' panicked" + (f": {msg}" if msg else ""))
        if _RS_OVERFLOW.match(ln):
            facts["runtime_verdict"] = ("stack-overflow", "recursion", "probably", "StackOverflow",
                                        "Rust's runtime says the thread overflowed its stack")
        sg = _RS_SIGNAL.match(ln)
        if sg:
            from .foreign import signal_lines

            out += signal_lines(sg.group("sig"))
        if ln.strip() == "stack backtrace:" or sg:
            in_bt = True
            out.append(ln)
            k += 1
            continue
        f = _RS_FRAME.match(ln) if in_bt else None
        if f:
            at = _RS_AT.match(lines[k + 1]) if k + 1 < len(lines) else None
            out.append(frame_line(int(f.group("no")), f.group("func"), int(f.group("pc"), 16) if f.group("pc") else None,
                                  at.group("file") if at else None, at.group("line") if at else None))
            k += 2 if at else 1
            continue
        if in_bt and not _RS_AT.match(ln):
            in_bt = False
        out.append(ln)
        k += 1
    return "\n".join(out), facts


# --- the Swift runtime's backtracer (Swift 5.9+ on Linux: SWIFT_BACKTRACE) ------------------------------------
_SW_SIGNAL = re.compile(r"^\s*\*\*\* Signal (?P<no>\d+): Backtracing from (?P<pc>0x[0-9a-fA-F]+)")
_SW_CRASHED = re.compile(r"^\s*\*\*\* Program crashed: (?P<why>.+?)(?: at (?P<addr>0x[0-9a-fA-F]+))?\s*\*\*\*\s*$")
_SW_THREAD = re.compile(r'^\s*Thread (?P<no>\d+)(?: "[^"]*")?(?P<crashed> crashed)?:\s*$')
_SW_FRAME = re.compile(r"^\s*(?P<no>\d+)\s+(?:\[\w+\]\s+)*(?P<pc>0x[0-9a-fA-F]+)\s+(?P<func>.+?)(?: \+ \d+)?"
                       r"(?: in (?P<mod>\S+))?(?: at (?P<file>\S+?):(?P<line>\d+)(?::\d+)?)?\s*$")
_LINUX_SIG = {11: "SIGSEGV", 7: "SIGBUS", 6: "SIGABRT", 4: "SIGILL", 8: "SIGFPE", 5: "SIGTRAP"}
_SW_WHY = {"Bad pointer dereference": "SIGSEGV", "Illegal instruction": "SIGILL", "Aborted": "SIGABRT",
           "Arithmetic exception": "SIGFPE", "Bus error": "SIGBUS"}


def _swift_looks(text: str) -> bool:
    return any(_SW_CRASHED.match(ln) or _SW_SIGNAL.match(ln) for ln in text.split("\n")[:200])


def _swift(text: str) -> tuple[str, dict]:
    """Swift numbers threads from 0 (shown +1, as gdb numbers them); ``[ra]`` marks a return address."""
    from .foreign import frame_line, signal_lines

    lines, out, facts = text.split("\n"), [], {"foreign": "the Swift runtime's backtracer"}
    sig = addr = None
    for ln in lines:
        m = _SW_SIGNAL.match(ln)
        sig = sig or (_LINUX_SIG.get(int(m.group("no"))) if m else None)
        c = _SW_CRASHED.match(ln)
        if c:
            sig = sig or _SW_WHY.get(c.group("why").strip())
            addr = int(c.group("addr"), 16) if c.group("addr") else None
    in_thread = False
    for ln in lines:
        if _SW_CRASHED.match(ln):
            out += signal_lines(sig or "SIGABRT", 1 if addr is not None else None, addr)
            continue
        t = _SW_THREAD.match(ln)
        if t:
            n = int(t.group("no")) + 1
            if t.group("crashed"):
                out.append(f"[Current thread is {n} (Thread {n})]")
            out.append(f"Thread {n} (Thread {n}):")
            in_thread = True
            continue
        f = _SW_FRAME.match(ln) if in_thread else None
        if f:
            out.append(frame_line(int(f.group("no")), f.group("func"), int(f.group("pc"), 16), f.group("file"),
                                  f.group("line"), f.group("mod")))
            continue
        out.append(ln)
    return "\n".join(out), facts


RUNTIMES = {"jvm": (_jvm_looks, _jvm), "v8": (_v8_looks, _v8), "python": (_py_looks, _python),
            "rust": (_rust_looks, _rust), "swift": (_swift_looks, _swift), "llvm": (llvm_looks, llvm_to_gdb)}


# --- last words: what a shell, cargo or libc printed when the process died ----------------------------------
_SHELL_WORDS = {"segmentation fault": "SIGSEGV", "aborted": "SIGABRT", "abort": "SIGABRT", "abort trap": "SIGABRT",
                "illegal instruction": "SIGILL", "illegal hardware instruction": "SIGILL", "bus error": "SIGBUS",
                "floating point exception": "SIGFPE", "trace/breakpoint trap": "SIGTRAP", "trace/bpt trap": "SIGTRAP"}
_W = r"(?P<w>[Ss]egmentation fault|Aborted|[Aa]bort(?: trap)?|[Ii]llegal (?:hardware )?instruction|[Bb]us error|" \
     r"[Ff]loating point exception|Trace/(?:breakpoint|BPT) trap)"
_SHELL = [
    re.compile(rf"^\s*\S+: line \d+:\s+\d+\s+{_W}(?:\s+\(core dumped\))?(?:\s+\S.*)?$"),     # bash running a script
    re.compile(rf"^\s*{_W}(?:: \d+)?(?:\s+\(core dumped\))?\s*$"),                                 # a shell; macOS ": 11"
    re.compile(rf"^\s*(?:zsh: |\[\d+\]\s+(?:\+\s+)?\d+ ){_W}(?:\s+\(core dumped\))?\s"),                    # zsh
]
_CARGO = re.compile(r"\(signal: (?P<no>\d+), (?P<sig>SIG[A-Z]+): (?P<desc>[^)]+)\)")
# systemd's journal: "foo.service: Main process exited, code=dumped, status=11/SEGV" (killed: a signal it did not dump)
# systemd's unit status: "(code=dumped, status=11/SEGV)", and "systemctl status"'s "(code=killed, signal=SEGV)"
_SYSTEMD = re.compile(r"code=(?:dumped|killed), (?:status=\d+/|signal=)(?P<sig>[A-Z]+)\b")
# MySQL/MariaDB's fatal-signal banner alone (its backtrace cut off): "[ERROR] mysqld got signal 11 ;"
_SERVER_SIGNAL = re.compile(r"\b(?:mysqld|mariadbd) got signal (?P<no>\d{1,2}) ;")
# Visual Studio's Output window: a process or thread "exited with code 3221225477 (0xc0000005)" (an access violation)
_WIN_EXIT_AV = re.compile(r"\bexited with code (?:3221225477|-1073741819) \(0xc0000005\)", re.I)
# FreeBSD's kernel: "pid 1234 (prog), jid 0, uid 0: exited on signal 11 (core dumped)"
_BSD_EXIT = re.compile(r"\bpid \d+ \((?P<comm>[^)]+)\)(?:, jid \d+)?(?:, uid \d+)?: exited on signal (?P<no>\d+)")
_BSD_SIGNO = {11: "SIGSEGV", 10: "SIGBUS", 6: "SIGABRT", 4: "SIGILL", 8: "SIGFPE", 5: "SIGTRAP", 12: "SIGSYS"}
_BSD_ASSERT = re.compile(r"^\s*Assertion failed: (?P<expr>.+?), (?:function (?P<func>.+?), )?file (?P<file>.+?), line (?P<line>\d+)\.?\s*$")
_ASSERTION_ERROR = re.compile(r"^\s*AssertionError(?::\s*(?P<msg>.+?))?\s*$")
# fish's job report: "fish: “prog” terminated by signal SIGSEGV (Address boundary error)" (fish 2: "Job 1, 'prog' …")
_FISH = re.compile(r"\bterminated by signal (?P<sig>SIG[A-Z]+) \((?P<desc>[^)]+)\)")
# a harness or handler reporting the signal by name and number: "unexpected signal SIGBUS(7) received (pid = 5)"
_SIG_RECEIVED = re.compile(r"\bsignal (?P<sig>SIG[A-Z]+) ?\(\d+\) received\b")
# Windows' access violation (0xC0000005): Visual Studio's "Access violation reading location 0x00000004.", and a
# crash reporter's EXCEPTION_RECORD print ("READ at 0x0…": ExceptionInformation[0] says read/write, [1] the address)
_WIN_AV = re.compile(r"\bAccess violation (?P<rw>reading|writing|executing) location (?P<addr>0x[0-9a-fA-F]+)")
_WIN_AV_CODE = re.compile(r"\b(?:0xC0000005|EXCEPTION_ACCESS_VIOLATION)\b", re.I)
_WIN_AV_RW = re.compile(r"\b(?P<rw>READ|WRITE|EXECUTE|DEP)\b (?:at|of|from|to) (?:address )?(?P<addr>0x[0-9a-fA-F]+)\b", re.I)
# a program's own assertion macro naming the source line ("fatal error: Assertion failed on src/x.c line 499";
# MSVC's "Assertion failed: x, file f.c, line 12"): glibc's "Assertion `x' failed." is read by the parser
# where the exception happened: a crash report's "Address : 0x…", Visual Studio's "exception (thrown )?at 0x…"
_WIN_EXC_AT = re.compile(r"^\s*(?:Exception )?Address\s*:\s*(?P<pc>0x[0-9a-fA-F]+)\s*$|\b[Ee]xception (?:thrown )?at (?P<pc2>0x[0-9a-fA-F]+)")
_RAW_PC = re.compile(r"^\s*#\d+\s+(?P<pc>0x[0-9a-fA-F]+)\s")
_ASSERT_LINE = re.compile(r"\bAssertion failed\b:? (?P<expr>.*?\bline \d+)\b")
# strace's signal line: "--- SIGBUS {si_signo=SIGBUS, si_code=BUS_ADRALN, si_addr=0xbeba3085} ---" (si_code by name)
_STRACE_SIG = re.compile(r"^\s*(?:\[pid\s+\d+\] )?--- (?P<sig>SIG[A-Z]+) \{si_signo=SIG[A-Z]+, si_code=(?P<code>[A-Z_]+|-?\d+)"
                         r"(?:, si_addr=(?P<addr>0x[0-9a-fA-F]+|NULL))?.*\} ---\s*$")
_SI_CODES = {"SEGV_MAPERR": 1, "SEGV_ACCERR": 2, "SEGV_BNDERR": 3, "SEGV_PKUERR": 4, "BUS_ADRALN": 1, "BUS_ADRERR": 2,
             "BUS_OBJERR": 3, "ILL_ILLOPC": 1, "ILL_ILLOPN": 2, "ILL_ILLADR": 3, "ILL_ILLTRP": 4, "ILL_PRVOPC": 5,
             "FPE_INTDIV": 1, "FPE_INTOVF": 2, "FPE_FLTDIV": 3, "SI_USER": 0, "SI_KERNEL": 128, "SI_TKILL": -6}
# CTest's verdict on a test killed by a signal: "Test #10: name ....Bus error***Exception:" (kwsys' signal description
# before "***Exception"), older ctest "***Exception: SegFault" / "Illegal" / "Numerical"
_CTEST = re.compile(r"(?:\.|\s)(?P<desc>Segmentation fault|SegFault|Bus error|Illegal instruction|Child aborted|Subprocess aborted|"
                    r"Floating-point exception)\s*\*\*\*Exception:|\*\*\*Exception: (?P<old>SegFault|Illegal|Numerical)\b")
_CTEST_SIG = {"segmentation fault": "SIGSEGV", "segfault": "SIGSEGV", "bus error": "SIGBUS", "illegal instruction": "SIGILL",
              "illegal": "SIGILL", "child aborted": "SIGABRT", "subprocess aborted": "SIGABRT",
              "floating-point exception": "SIGFPE", "numerical": "SIGFPE"}
# a program's own handler announcing the signal in its own voice: "<prog> has encountered a segmentation fault!"
_ENCOUNTERED = re.compile(r"\bhas encountered an? (?P<w>segmentation fault|bus error|illegal instruction|floating point exception)"
                          r"\s*[!.]?\s*$", re.I)
# glibc's psiginfo(): "Segmentation fault (Address not mapped to object [(nil)])" - strsignal, si_code's wording, si_addr
_PSIGINFO = re.compile(r"^\s*(?:.*: )?(?P<w>Segmentation fault|Bus error|Illegal instruction|Floating point exception) "
                       r"\((?P<desc>[A-Z][a-z][^\[\]()]*?) \[(?P<addr>0x[0-9a-fA-F]+|\(nil\))\]\)\s*$")
_PSIGINFO_CODE = {"address not mapped to object": 1, "invalid permissions for mapped object": 2, "invalid address alignment": 1,
                  "nonexisting physical address": 2, "object specific hardware error": 3}
# a program's own handler printing the siginfo_t it got ("info.si_signo = 11", "info.si_code = 1", "info.si_addr = 00000000",
# an emulator's "INFO: " log) and the context's pc ("PC  = 0x00000000", "PC is NULL.")
_HANDLER_SIGINFO = re.compile(r"\b(?:\w+(?:\.|->))?si_(?P<f>signo|code|addr)\s*[=:]\s*(?P<v>(?:0x)?[0-9a-fA-F]+|\(nil\))\s*$")
_HANDLER_PC = re.compile(r"\b(?:PC|pc|RIP|rip|EIP|eip)\s+=\s+(?P<pc>0x[0-9a-fA-F]+)\s*$|\bPC is (?P<null>NULL)\b")
_HIT = re.compile(r"^Thread (?P<thread>\d+)(?: \"[^\"]*\")? hit (?:Catchpoint|Breakpoint|Hardware watchpoint|Watchpoint) \d+")


def last_words(lines) -> dict:
    """Facts from what was printed around the death of the process: the signal a shell or cargo
    reported, a BSD/macOS/MSVC assertion message, the thread gdb stopped at a catchpoint. The parser
    uses each only when nothing better (a signal line, ``__assert_fail``'s message) was found."""
    out: dict = {}
    lines = list(lines)
    win_av = any(_WIN_AV_CODE.search(ln) for ln in lines[:400])
    for ln in lines:
        if len(ln) > 400:
            continue
        c = _CARGO.search(ln)
        if c and "signal" not in out:
            out.update(signal=c.group("sig"), signal_desc=c.group("desc"), signal_how="terminated",
                       last_words=ln.strip())
            continue
        d = _SYSTEMD.search(ln)
        b = _BSD_EXIT.search(ln) or _SERVER_SIGNAL.search(ln)
        sig = ("SIG" + d.group("sig")) if d else _BSD_SIGNO.get(int(b.group("no"))) if b else None
        if sig and sig != "SIGKILL" and sig != "SIGTERM" and "signal" not in out:
            out.update(signal=sig, signal_desc=sig, signal_how="terminated", last_words=ln.strip())
            if b and "comm" in b.groupdict():
                out["comm"] = b.group("comm")
            continue
        if _WIN_EXIT_AV.search(ln) and "signal" not in out:
            out.update(signal="SIGSEGV", signal_desc="Access violation (0xC0000005)", signal_how="terminated",
                       last_words=ln.strip())
            continue
        st = _STRACE_SIG.match(ln)
        if st and st.group("sig") in ("SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGABRT", "SIGTRAP", "SIGSYS") \
                and "signal" not in out:
            code = st.group("code")
            code = _SI_CODES.get(code) if not code.lstrip("-").isdigit() else int(code)
            addr = st.group("addr")
            out.update(signal=st.group("sig"), signal_desc=st.group("sig"), signal_how="terminated", last_words=ln.strip(),
                       **({"si_code": code} if code is not None else {}),
                       **({"si_addr": 0 if addr == "NULL" else int(addr, 16)} if addr and (code or 0) > 0 else {}))
            continue
        ct = _CTEST.search(ln)
        if ct and "signal" not in out:
            desc = ct.group("desc") or ct.group("old")
            out.update(signal=_CTEST_SIG[desc.lower()], signal_desc=desc, signal_how="terminated", last_words=ln.strip())
            continue
        ps = _PSIGINFO.match(ln)
        if ps and "signal" not in out:
            code, addr = _PSIGINFO_CODE.get(ps.group("desc").lower()), ps.group("addr")
            out.update(signal=_SHELL_WORDS[ps.group("w").lower()], signal_desc=ps.group("w"), signal_how="terminated",
                       last_words=ln.strip(), **({"si_code": code, "si_addr": 0 if addr == "(nil)" else int(addr, 16)}
                                                 if code else {}))
            continue
        en = _ENCOUNTERED.search(ln)
        if en and "signal" not in out:
            out.update(signal=_SHELL_WORDS[en.group("w").lower()], signal_desc=en.group("w"), signal_how="terminated",
                       last_words=ln.strip())
            continue
        f = _FISH.search(ln) or _SIG_RECEIVED.search(ln)
        if f and f.group("sig") not in ("SIGKILL", "SIGTERM", "SIGINT", "SIGHUP") and "signal" not in out:
            out.update(signal=f.group("sig"), signal_desc=f.groupdict().get("desc") or f.group("sig"),
                       signal_how="terminated", last_words=ln.strip())
            continue
        w = _WIN_AV.search(ln) or (_WIN_AV_RW.search(ln) if win_av else None)
        if w and "signal" not in out:
            rw = w.group("rw").lower()
            out.update(signal="SIGSEGV", signal_desc="Access violation (0xC0000005)", signal_how="terminated",
                       last_words=ln.strip(), si_addr=int(w.group("addr"), 16),
                       **({"access": "read" if rw.startswith("read") else "write"} if rw.startswith(("read", "writ")) else {}))
            continue
        g = _ASSERT_LINE.search(ln)
        if g and "assert_expr" not in out and not _BSD_ASSERT.match(ln):
            out.update(assert_expr=g.group("expr"), assert_message=ln.strip())
        for rx in _SHELL:
            s = rx.match(ln)
            if s and "signal" not in out:
                word = s.group("w").lower()
                out.update(signal=_SHELL_WORDS[word], signal_desc=s.group("w"), signal_how="terminated",
                           last_words=ln.strip())
                break
        a = _BSD_ASSERT.match(ln)
        if a and "assert_expr" not in out:
            expr = a.group("expr")
            out.update(assert_expr=expr[1:-1] if expr.startswith("(") and expr.endswith(")") else expr,
                       assert_message=ln.strip())
        h = _HIT.match(ln)
        if h and "hit_thread" not in out:
            out["hit_thread"] = int(h.group("thread"))
        e = _ASSERTION_ERROR.match(ln)
        if e and "assertion_error" not in out:
            out["assertion_error"] = (e.group("msg") or "AssertionError", ln.strip())
    if "signal" not in out:
        out.update(_handler_siginfo(lines))
    # a runtime's "AssertionError: Assert failed (x.py:8)" counts as the assert only when the process then
    # aborted (a Python traceback ending in AssertionError is an exception, not a crash)
    if win_av and "si_addr" in out:
        out.update(_exception_frames(lines))
    ae = out.pop("assertion_error", None)
    if ae and out.get("signal") == "SIGABRT" and "assert_expr" not in out:
        out.update(assert_expr=ae[0], assert_message=ae[1])
    return out


def _handler_siginfo(lines) -> dict:
    """A handler's own print of ``si_signo`` (with ``si_code``/``si_addr`` and the pc when printed) as the signal."""
    got, pc = {}, None
    for ln in lines[:2000]:
        m = _HANDLER_SIGINFO.search(ln) if len(ln) < 400 else None
        if m and m.group("f") not in got:
            v = m.group("v")
            got[m.group("f")] = 0 if v == "(nil)" else int(v, 16) if m.group("f") == "addr" else int(v, 16 if v.startswith("0x") else 10) \
                if v.startswith("0x") or v.isdigit() else None
        p = _HANDLER_PC.search(ln) if len(ln) < 400 else None
        if p and pc is None:
            pc = 0 if p.group("null") else int(p.group("pc"), 16)
    sig = _BSD_SIGNO.get(got.get("signo"))
    if not sig:
        return {}
    out = {"signal": sig, "signal_desc": sig, "signal_how": "received", "last_words": f"the handler's si_signo = {got['signo']}"}
    if got.get("code") is not None:
        out["si_code"] = got["code"]
        if got["code"] > 0 and got.get("addr") is not None:
            out["si_addr"] = got["addr"]
    if pc is not None:
        out["handler_pc"] = pc
    return out


def _exception_frames(lines) -> dict:
    """A raw stack captured inside the exception handler starts with the handler's and the OS dispatcher's
    frames; the frame at the exception address is where the fault was (those above it are not the crash)."""
    at = next((int(m.group("pc") or m.group("pc2"), 16) for m in map(_WIN_EXC_AT.search, lines) if m), None)
    pcs = [int(m.group("pc"), 16) for m in map(_RAW_PC.match, lines) if m]
    if at is None or at not in pcs or pcs.index(at) == 0:
        return {}
    return {"not_own_pcs": pcs[:pcs.index(at)]}


def looks_like_last_words(text: str) -> bool:
    """A paste holding only such a message (sniffing: it is still a crash report)."""
    lines = text.split("\n")[:400]
    w = last_words(lines)
    return "signal" in w or "assert_expr" in w
