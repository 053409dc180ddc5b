"""Frame lists that are not gdb's: glibc's ``backtrace_symbols`` print (old glibc's ``======= Backtrace:
=========``, crash handlers that call ``backtrace_symbols_fd``) and an IDE's copied frame list, as the
gdb frames they mean.

Each line names the object, the symbol and offset when known, and the return address:
``/lib/libc.so.6(__fortify_fail+0x45)[0xb76a2bc5]``, ``./libfoo.so(+0x2564)[0xb775a564]`` or
``./prog[0x80489d9]``. :func:`execinfo_to_gdb` numbers a run of such lines as one backtrace
(``#0  0xb76a2bc5 in __fortify_fail () from /lib/libc.so.6``); the program's stderr above it
(``*** stack smashing detected ***``) stays for the parser.

>>> print(execinfo_to_gdb("======= Backtrace: =========\\n/lib/libc.so.6(abort+0x1)[0x10]\\n./prog[0x8048731]"))
======= Backtrace: =========
#0  0x10 in abort () from /lib/libc.so.6
#1  0x8048731 in ?? () from ./prog

An IDE's frames view (CLion's "Copy Stack") gives one ``function 0xPC`` or ``function file.cpp:42`` line
per frame; :func:`ide_frames_to_gdb` numbers such a run:

>>> print(ide_frames_to_gdb("__GI_abort 0x00007ffff4a268b7\\n<unknown> 0x00007ffff4ea4f06\\nTable::~Table table.cpp:15\\n"
...                         "Player::Shutdown player.cpp:804\\nmain main.cpp:13"))
#0  0x00007ffff4a268b7 in __GI_abort ()
#1  0x00007ffff4ea4f06 in ?? ()
#2  Table::~Table () at table.cpp:15
#3  Player::Shutdown () at player.cpp:804
#4  main () at main.cpp:13
"""
from __future__ import annotations

import re

LINE = re.compile(r"^\s*(?P<mod>[^\s()\[\]]+)(?:\((?P<func>[^()+]*)(?:\+(?P<off>0x[0-9a-fA-F]+))?\))?\s*"
                  r"\[(?P<pc>0x[0-9a-fA-F]+)\](?::|\s+(?P<src>[^\s:]+\.\w+:\d+))?\s*$")
# (Dungeon Crawl's crash file ends each line in ":"; Ruby's C-level backtrace adds the frame's "vm_dump.c:684")
_MARK = re.compile(r"^\s*=+ Backtrace: =+\s*$", re.M)
MIN_RUN = 3     # three such lines in a row are a backtrace, not a stray "[0x…]"


def _runs(lines: list[str], marked: bool = False) -> list[tuple[int, int]]:
    """Runs of backtrace_symbols lines; under old glibc's ``======= Backtrace:`` marker a program started by its bare
    name prints as ``halSnps[0x471302]`` (no path, no symbol), elsewhere such a line needs a path or a symbol."""
    out, start = [], None
    for i, ln in enumerate(lines + [""]):
        hit = LINE.match(ln) is not None and ("/" in ln or "(" in ln or marked)
        if hit and start is None:
            start = i
        elif not hit and start is not None:
            out.append((start, i))
            start = None
    return out


def looks_like_execinfo(text: str) -> bool:
    if _MARK.search(text):
        return True
    lines = text.split("\n")[:4000]
    return any(b - a >= MIN_RUN or _handler_run(lines, a, b) for a, b in _runs(lines))


# a crash handler's own message above its backtrace_symbols print ("Error: signal 11:", "Caught signal 6")
_HANDLER_SAYS = re.compile(r"\bsignal #?(?P<no>\d{1,2})\b", re.I)      # (Crawl's "Crash caused by signal #11:")
_LINUX_SIGNO = {11: ("SIGSEGV", "Segmentation fault"), 7: ("SIGBUS", "Bus error"), 6: ("SIGABRT", "Aborted"),
                4: ("SIGILL", "Illegal instruction"), 8: ("SIGFPE", "Arithmetic exception")}


# MySQL/MariaDB/Percona's handle_fatal_signal (sql/signal_handler.cc; handle_segfault in 5.1): "[HH:MM:SS UTC - ]
# mysqld got signal 11 ;", buffer sizes, "Attempting backtrace…", "stack_bottom = … thread_stack 0x…", then
# my_print_stacktrace's backtrace_symbols print from inside the handler (its own frames above the trampoline)
_SERVER_BANNER = re.compile(r"\bgot signal (?P<no>\d{1,2}) ;\s*$")
_STACK_BOTTOM = re.compile(r"^\s*stack_bottom = (?:0x)?[0-9a-fA-F]+ thread_stack 0x[0-9a-fA-F]+\s*$")


def _server_banner(lines: list[str], a: int) -> re.Match | None:
    """The server handler's ``got signal N ;`` banner above a run whose print follows its ``stack_bottom`` line."""
    if not any(_STACK_BOTTOM.match(ln) for ln in lines[max(0, a - 3):a]):
        return None
    return next((m for m in map(_SERVER_BANNER.search, reversed(lines[max(0, a - 60):a])) if m), None)


_TRAMPOLINE_MOD = re.compile(r"(?:^|/)lib(?:c|pthread)(?:\.so\.\d+|-[\d.]+\.so)$")   # __restore_rt: libpthread before glibc 2.34
_INTERRUPTED = re.compile(r"^(?:gsignal|raise|abort|pthread_kill|__pthread_kill\w*|tgkill)$")


def _trampoline_at(lines: list[str], a: int, b: int) -> int | None:
    """Where the kernel's signal trampoline sits in a run printed from inside a signal handler: an unnamed
    glibc frame (``libc.so.6(+0x…)``, glibc's local ``__restore_rt``) below the handler's own frames, at
    frame 1 with the handler's message above the print, or (no message) at frames 1-4 right above the
    ``raise``/``gsignal`` the signal interrupted."""
    says = next((m for m in map(_HANDLER_SAYS.search, lines[max(0, a - 3):a]) if m), None)
    server = _server_banner(lines, a)
    for k in range(a + 1, min(b, a + 5)):
        f = LINE.match(lines[k])
        above = [LINE.match(lines[j]) for j in range(a, k)]
        if any(re.search(r"(?:^|/)lib(?:c|pthread)\b", x.group("mod") or "") for x in above):
            return None
        if not _TRAMPOLINE_MOD.search(f.group("mod") or "") or (f.group("func") or "").strip():
            continue
        nxt = LINE.match(lines[k + 1]) if k + 1 < b else None
        if _ruby_handler(above[-1]):
            return k          # Ruby's own handler (signal.c's sigsegv) right above the trampoline
        # (a handler that prints through a helper of its own: two frames of the program above the trampoline)
        if (says and k <= a + 2) or (nxt and _INTERRUPTED.match((nxt.group("func") or "").strip())):
            return k
        if server and all((x.group("func") or "").strip() for x in above):   # the handler's named frames above it
            return k
    return None


def _handler_run(lines: list[str], a: int, b: int) -> re.Match | None:
    """The handler's message ("Error: signal 11:") when a run is the classic in-handler ``backtrace()`` print
    (the handler at frame 0, the trampoline at frame 1)."""
    says = next((m for m in map(_HANDLER_SAYS.search, lines[max(0, a - 3):a]) if m), None)
    return says if says and b - a >= 2 and _trampoline_at(lines, a, b) in (a + 1, a + 2) else None


# Ruby's vm_bugreport "C level backtrace": its fatal-signal handlers in signal.c are named after the signal
_RUBY_HANDLER = {"sigsegv": 11, "sigbus": 7, "sigill": 4, "sigfpe": 8}


def _ruby_handler(m: re.Match | None) -> int | None:
    """The signal number when ``m`` is Ruby's handler frame (``libruby.so.2.4(sigsegv+0x5f)``)."""
    if m is None or not re.search(r"(?:^|/)(?:libruby[\w.-]*|ruby[\d.]*)$", m.group("mod") or ""):
        return None
    return _RUBY_HANDLER.get((m.group("func") or "").strip())


def execinfo_to_gdb(text: str) -> str:
    lines = text.split("\n")
    lines_in = list(lines)
    marked = bool(_MARK.search(text))
    for a, b in _runs(lines, marked):
        if b - a < MIN_RUN and not (marked and a > 0 and _MARK.match(lines[a - 1])) and not _handler_run(lines, a, b):
            continue
        hook, tramp = _handler_run(lines, a, b), _trampoline_at(lines, a, b)
        for k in range(a, b):
            m = LINE.match(lines[k])
            func = (m.group("func") or "").strip() or "??"
            if k == tramp:
                func = "<signal handler called>"
            lines[k] = f"#{k - a}  {m.group('pc')} in {func} () from {m.group('mod')}"
        server = _server_banner(lines, a) if tramp is not None else None
        no = int(hook.group("no")) if hook else int(server.group("no")) if server else None
        ruby = _ruby_handler(LINE.match(lines_in[tramp - 1])) if tramp is not None else None
        no = no or ruby
        if no in _LINUX_SIGNO and "received signal" not in text:
            lines[a] = f"Program received signal {_LINUX_SIGNO[no][0]}, {_LINUX_SIGNO[no][1]}.\n" + lines[a]
    return "\n".join(lines)


# glibc before 2.26: __libc_message prints "======= Backtrace:" and "======= Memory map:" only right before it calls
# abort(), and only for its two callers that ask for them (do_abort > 1): malloc_printerr and __fortify_fail (whose
# exported name, or __chk_fail's / __stack_chk_fail's, is on the first lines; malloc_printerr is static: "libc(+0x…)")
_MAP_MARK = re.compile(r"^\s*=+ Memory map: =+\s*$", re.M)
_FORTIFY = re.compile(r"^(?:__fortify_fail|__chk_fail|__stack_chk_fail|__\w+_chk)$")


def libc_message_abort(text: str) -> dict:
    """``{"libc_abort": "heap"|"fortify"}`` for old glibc's abort banner (above) whose first frame is libc's."""
    if not (_MARK.search(text) and _MAP_MARK.search(text)):
        return {}
    lines = text.split("\n")
    k = next(i for i, ln in enumerate(lines) if _MARK.match(ln))
    run = []
    for ln in lines[k + 1:k + 64]:
        m = LINE.match(ln)
        if not m:
            break
        run.append(m)
    if not run or not re.search(r"(?:^|/)libc[.-]", run[0].group("mod")):
        return {}
    fortify = any(_FORTIFY.match((m.group("func") or "").strip()) for m in run[:4])
    return {"libc_abort": "fortify" if fortify else "heap"}


def execinfo_hook_pcs(text: str) -> list[int]:
    """The pcs of the handler frames of an in-handler print (:func:`_handler_run`): not where it faulted."""
    lines, out = text.split("\n"), []
    for a, b in _runs(lines):
        tramp = _trampoline_at(lines, a, b) if b - a >= MIN_RUN or _handler_run(lines, a, b) else None
        if tramp is not None:
            out += [int(LINE.match(lines[k]).group("pc"), 16) for k in range(a, tramp + 1)]
    return out


IDE_LINE = re.compile(r"^\s*(?P<func>[A-Za-z_<~][^\s()]*(?:\([^()]*\))?(?: const)?) (?:(?P<pc>0x[0-9a-fA-F]{6,16})|"
                      r"(?P<file>[\w./\\-]+\.\w+):(?P<line>\d+))\s*$")
IDE_MIN_RUN = 5
# VS Code's "Copy Call Stack" (cppdbg / CodeLLDB): "raise (Unknown Source:0)", "main() (/src/main.cpp:12)"
VSCODE_LINE = re.compile(r"^\s*(?:(?P<mod>[\w.+-]+)!)?(?P<func>[A-Za-z_~][^\s()]*(?:\([^()]*\))?(?: const)?) "
                         r"\((?:Unknown Source:0|(?P<file>[\w./\\:-]*\.\w+):(?P<line>\d+))\)\s*$")
VSCODE_MIN_RUN = 3


def _vscode_runs(lines: list[str]) -> list[tuple[int, int]]:
    out, start = [], None
    for i, ln in enumerate(lines + [""]):
        hit = VSCODE_LINE.match(ln) is not None
        if hit and start is None:
            start = i
        elif not hit and start is not None:
            if i - start >= VSCODE_MIN_RUN:
                out.append((start, i))
            start = None
    return out


def _ide_runs(lines: list[str]) -> list[tuple[int, int]]:
    out, start = [], None
    for i, ln in enumerate(lines + [""]):
        hit = IDE_LINE.match(ln) is not None
        if hit and start is None:
            start = i
        elif not hit and start is not None:
            block = [IDE_LINE.match(x) for x in lines[start:i]]
            # a frame list has addresses and source locations, not only one kind (a log's "key value" lines)
            if i - start >= IDE_MIN_RUN and any(m.group("pc") for m in block) and any(m.group("file") for m in block):
                out.append((start, i))
            start = None
    return out


def looks_like_ide_frames(text: str) -> bool:
    return bool(_ide_runs(text.split("\n")[:4000]) or _vscode_runs(text.split("\n")[:4000]))


def ide_frames_to_gdb(text: str) -> str:
    lines = text.split("\n")
    for a, b in _ide_runs(lines):
        for k in range(a, b):
            m = IDE_LINE.match(lines[k])
            func = m.group("func")
            func = "??" if func == "<unknown>" else func.split("(", 1)[0]
            where = f" at {m.group('file')}:{m.group('line')}" if m.group("file") else ""
            pc = f"{m.group('pc')} in " if m.group("pc") else ""
            lines[k] = f"#{k - a}  {pc}{func} (){where}"
    for a, b in _vscode_runs(lines):
        for k in range(a, b):
            m = VSCODE_LINE.match(lines[k])
            where = f" at {m.group('file')}:{m.group('line')}" if m.group("file") else \
                f" from {m.group('mod')}" if m.group("mod") else ""
            lines[k] = f"#{k - a}  {m.group('func').split('(', 1)[0]} (){where}"
    return "\n".join(lines)


# --- backtrace_symbols lines inside log records, and Open MPI's signal report -------------------------------
# "[03/15 01:31:42.19] [critical] [151/151] [stacktrace.cpp:113#print] ./lib.so(f+0x9c) [0x7f…]" and Open MPI's
# "[host:14237] [ 5] /lib/libc.so.6(__libc_malloc+0x54)[0x7f…]": bracketed record prefixes before each line
_RECORD = re.compile(r"^\s*(?:\[[^\]]*\]\s*)+(?P<rest>[^\s\[].*)$")
_SIGWORDS = {"segmentation fault": "SIGSEGV", "bus error": "SIGBUS", "aborted": "SIGABRT", "illegal instruction": "SIGILL",
             "floating point exception": "SIGFPE", "floating-point exception": "SIGFPE", "trace/breakpoint trap": "SIGTRAP"}
_MPI_SIGNAL = re.compile(r"^Signal: (?P<desc>[A-Za-z /-]+?) \((?P<no>\d+)\)\s*$")
_MPI_CODE = re.compile(r"^Signal code: .*?\((?P<code>-?\d+)\)\s*$")
_MPI_ADDR = re.compile(r"^Failing at address: (?P<addr>(?:0x)?[0-9a-fA-F]+|\(nil\))\s*$")


def _unrecord(ln: str) -> str | None:
    m = _RECORD.match(ln)
    return m.group("rest") if m and m.group("rest") != ln.strip() else None


def strip_record_prefixes(lines: list[str]) -> list[str]:
    """A run of 3+ log records each carrying a ``backtrace_symbols`` line loses the record prefixes; the
    record just above it that says only a signal's name (a crash handler logging ``bus error``), and Open
    MPI's ``*** Process received signal ***`` report, become gdb's signal line (and ``$_siginfo`` when
    the report gives the code)."""
    rest = [_unrecord(ln) for ln in lines]
    hit = [r is not None and LINE.match(r) is not None and ("/" in r or "(" in r) for r in rest]
    runs, k = [], 0
    while k < len(lines):
        if hit[k]:
            j = k
            while j < len(lines) and hit[j]:
                j += 1
            if j - k >= MIN_RUN:
                runs.append((k, j))
            k = j
        else:
            k += 1
    if not runs:
        return lines
    out = list(lines)
    for a, b in reversed(runs):         # (a $_siginfo line inserted below a run moves only what follows)
        for i in range(a, b):
            out[i] = rest[i]
        # the lines of the same report just above the stack
        head, i = [], a - 1
        while i >= 0 and rest[i] is not None and a - i <= 6:
            head.insert(0, (i, rest[i].strip()))
            i -= 1
        sig = code = addr = None
        for i, r in head:
            m = _MPI_SIGNAL.match(r)
            if m:
                sig = _SIGWORDS.get(m.group("desc").lower())
                out[i] = f"Program received signal {sig}, {m.group('desc')}." if sig else out[i]
            elif _MPI_CODE.match(r):
                code = int(_MPI_CODE.match(r).group("code"))
            elif _MPI_ADDR.match(r):
                v = _MPI_ADDR.match(r).group("addr")
                addr = 0 if v == "(nil)" else int(v, 16)
        if sig and code is not None:
            from .foreign import SIGNO

            fault = f"_sigfault = {{si_addr = 0x{addr:x}}}" if code > 0 and addr is not None else "_sifields = {}"
            out.insert(b, f"$0 = {{si_signo = {SIGNO.get(sig, 0)}, si_errno = 0, si_code = {code}, {fault}}}")
        elif not sig and head and head[-1][1].lower().rstrip(".") in _SIGWORDS:
            i, r = head[-1]
            out[i] = f"Program received signal {_SIGWORDS[r.lower().rstrip('.')]}, {r}."
    return out


# --- glog's / folly's failure-signal handler: "    @     0x7f44642c6859 abort" frame lines --------------------
GLOG_LINE = re.compile(r"^\s*@\s+(?P<pc>0x[0-9a-fA-F]+)\s+(?P<func>\S.*?)\s*$")


def looks_like_glog_frames(text: str) -> bool:
    return " received by PID " in text and sum(1 for ln in text.split("\n")[:4000] if GLOG_LINE.match(ln)) >= 2


def glog_frames_to_gdb(text: str) -> str:
    """Number the ``@ 0x… symbol`` lines (``(unknown)`` is gdb's ``??``; the symbol may carry ``()``). When the
    handler's header names the faulting address (``*** SIGILL (@0x7fe3…) received by PID``) and a later frame sits
    at it, the unnamed frames above that one are the signal trampoline's, not code that ran."""
    lines = text.split("\n")
    hdr = next((re.search(r"\(@(0x[0-9a-fA-F]+)\) received by PID", ln) for ln in lines if " received by PID " in ln), None)
    pcs = [(i, m) for i, m in ((i, GLOG_LINE.match(ln)) for i, ln in enumerate(lines))
           if m and not lines[i].lstrip().startswith("PC:")]
    at = next((k for k, (_, m) in enumerate(pcs) if hdr and k > 0 and int(m.group("pc"), 16) == int(hdr.group(1), 16)), None)
    trampoline = {i for i, m in pcs[:at]} if at and all(m.group("func") == "(unknown)" for _, m in pcs[:at]) else set()
    out, no = [], 0
    for i, ln in enumerate(lines):
        m = GLOG_LINE.match(ln)
        if m and not ln.lstrip().startswith("PC:"):
            func = m.group("func")
            func = "<signal handler called>" if i in trampoline else \
                "??" if func == "(unknown)" else func[:-2] if func.endswith("()") else func
            out.append(f"#{no}  {m.group('pc')} in {func} ()")
            no += 1
            continue
        out.append(ln)
    return "\n".join(out)
