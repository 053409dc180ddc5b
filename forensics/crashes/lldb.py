"""LLDB transcripts (``bt``, ``thread backtrace all``, the stop banner) as the gdb lines they mean.

LLDB prints ``* thread #1, ..., stop reason = EXC_BAD_ACCESS (code=1, address=0x0)`` and frames as
``frame #0: 0xPC module`function(args) + 12 at file.c:3:5``. :func:`lldb_to_gdb` rewrites each such
line into the gdb line with the same facts (``Thread 1 received signal SIGSEGV``, a ``$_siginfo``-style
line holding LLDB's own code and address, ``#0  0xPC in function (args) at file.c:3`` or
``from module``), so one parser and one classifier serve both debuggers. Lines it does not know are
kept as they are.

>>> print(lldb_to_gdb("* thread #1, stop reason = EXC_BAD_ACCESS (code=1, address=0x0)\\n"
...                   "  * frame #0: 0x0000000100003f8c a.out`main at t.c:3:5"))
Thread 1 received signal SIGSEGV, EXC_BAD_ACCESS (code=1, address=0x0).
$0 = {si_signo = 11, si_errno = 0, si_code = 1, _sigfault = {si_addr = 0x0}}
Thread 1 (LWP 1):
#0  0x0000000100003f8c in main () at t.c:3
"""
from __future__ import annotations

import re

_THREAD = re.compile(r"^[*+]?\s*thread #(?P<n>\d+)(?P<rest>.*)$")
_STOP = re.compile(r"stop reason = (?P<why>.*?)\s*$")
_FRAME = re.compile(r"^[*+]?\s*frame #(?P<no>\d+): (?P<pc>0x[0-9a-fA-F]+) (?P<mod>[^`\s]+)(?:`| )(?P<rest>.*)$")
_SYM = re.compile(r"^[^`\s]+`(?P<sym>[^\s`]+)(?: \+ (?P<off>\d+))?:$")
_BARE_FRAME = re.compile(r"^[*+]?\s*frame #(?P<no>\d+): (?P<pc>0x[0-9a-fA-F]+)\s*$")   # a pc in no module
_OFFSET = re.compile(r"^(?P<func>.*?)(?: \+ \d+)?(?: \[inlined\])?(?: at (?P<file>[^:\s]+):(?P<line>\d+)(?::\d+)?)?\s*$")
# "->  0x1000039e8 <+28>: ldr w9, [x8]"; old LLDB: "-> 0x2a149c:  calll  0x2a14a1   ; rb_vm_dispatch + 17"
_INSN = re.compile(r"^->\s+(?P<addr>0x[0-9a-fA-F]+)(?: <\+(?P<off>\d+)>)?:\s+(?P<insn>.*?)(?:\s+;.*)?\s*$")
_EXC = re.compile(r"EXC_BAD_ACCESS \(code=(?P<code>\d+), address=(?P<addr>0x[0-9a-fA-F]+)\)")
_SIG = re.compile(r"signal (?P<sig>SIG[A-Z0-9]+)(?::.*?fault address: (?P<addr>0x[0-9a-fA-F]+))?")
_EXC_SIGNAL = {"EXC_BAD_ACCESS": ("SIGSEGV", 11), "EXC_BAD_INSTRUCTION": ("SIGILL", 4),
               "EXC_ARITHMETIC": ("SIGFPE", 8), "EXC_BREAKPOINT": ("SIGTRAP", 5), "EXC_CRASH": ("SIGABRT", 6)}
_SIGNO = {"SIGSEGV": 11, "SIGBUS": 7, "SIGILL": 4, "SIGFPE": 8, "SIGABRT": 6, "SIGTRAP": 5}

LLDB_MARKS = re.compile(r"^\s*[*+]?\s*(?:frame #\d+: 0x[0-9a-fA-F]+ |thread #\d+[:,])"
                        r"|(?:^|[^A-Za-z0-9_#])Thread ?\d+ ?: ?(?:EXC_[A-Z_]+ ?\(code=|signal SIG[A-Z]+\s*$)", re.M)
# Xcode's editor banner of the same stop (LLDB's stop reason, also quoted in prose): "Thread 1: EXC_BAD_ACCESS (code=1, address=0x0)"
# (a paste may cut it: "(code=2, address=0" — the code is kept, the cut address is not read; text in front may be
# any script's: "报错误Thread 1: …")
# (retyped in prose without its spaces and closing a sentence: "it shows Thread1:EXC_BAD_ACCESS(code=1,address=0x10).")
_XCODE = re.compile(r"(?:^|[^A-Za-z0-9_#])Thread ?(?P<n>\d+) ?: ?(?P<why>EXC_[A-Z_]+ ?\(code=[^()]*\)|EXC_[A-Z_]+ ?\(code=[^()]*|"
                    r"signal SIG[A-Z]+)[\s.\u3002]*\)?\s*$")      # (or closing the reporter's own bracket)


def looks_like_lldb(text: str) -> bool:
    return bool(LLDB_MARKS.search(text))


def _frame_line(m: re.Match) -> str:
    rest = _OFFSET.match(m.group("rest"))
    func = rest.group("func") if rest else m.group("rest")
    args = "()"
    # "main(argc=1, argv=0x…)" carries its arguments; a bare C++ signature keeps its parameter list
    if func.endswith(")") and "(" in func and "=" in func[func.rfind("("):]:
        k = func.rfind("(")
        func, args = func[:k], func[k:]
    # "main [inlined] Tree_NEXT": LLDB names the function inlined at the pc after the one it was inlined into
    func = func.rsplit(" [inlined] ", 1)[-1].strip() or "??"
    from .frames import is_system_module

    # gdb's frame line holds a source or a library, not both: a system library's frame keeps its library
    # (libc.so.7`__sys_thr_kill at thr_kill.S:4 is libc's code, whatever its source file)
    from .frames import _INTERPRETER

    # (so is an interpreter binary's: python3`range_iter at rangeobject.c is CPython's code)
    system = bool(m.group("mod")) and (is_system_module(m.group("mod")) or (bool(_INTERPRETER.match(m.group("mod")))
                                                                         and not m.group("mod").startswith("node")))
    where = f" at {rest.group('file')}:{rest.group('line')}" if rest and rest.group("file") and not system else \
        f" from {m.group('mod')}"
    return f"#{m.group('no')}  {m.group('pc')} in {func} {args}{where}"


def lldb_to_gdb(text: str) -> str:
    """Rewrite LLDB stop banners, thread headers and frames into gdb lines (others unchanged)."""
    out, seen_stop, cur_sym, cur_off = [], False, None, None
    for ln in text.split("\n"):
        s = ln.strip()
        x = _XCODE.search(s) if not _THREAD.match(s) else None
        if x:
            why = re.sub(r",\s*", ", ", re.sub(r"^(EXC_[A-Z_]+) ?\(", r"\1 (", x.group("why")))
            s = f"* thread #{x.group('n')}, stop reason = {why}"
        m = _FRAME.match(s)
        if m:
            out.append(_frame_line(m))
            continue
        m = _BARE_FRAME.match(s)
        if m:
            out.append(f"#{m.group('no')}  {m.group('pc')} in ?? ()")
            continue
        m = _THREAD.match(s)
        if m:
            n, rest = m.group("n"), m.group("rest")
            stop = _STOP.search(rest)
            if stop and not seen_stop:
                why = stop.group("why")
                e, sg = _EXC.search(why), _SIG.search(why)
                if "EXC_BAD_ACCESS" in why and "EXC_I386_GPFLT" in why:
                    # x86's general-protection fault (a non-canonical address): what Linux sends as SI_KERNEL, address 0
                    out.append(f"Thread {n} received signal SIGSEGV, {why}.")
                    out.append("$0 = {si_signo = 11, si_errno = 0, si_code = 128, _sigfault = {si_addr = 0x0}}")
                    seen_stop = True
                elif e:
                    sig, signo = _EXC_SIGNAL["EXC_BAD_ACCESS"]
                    out.append(f"Thread {n} received signal {sig}, {why}.")
                    out.append(f"$0 = {{si_signo = {signo}, si_errno = 0, si_code = {e.group('code')}, "
                               f"_sigfault = {{si_addr = {e.group('addr')}}}}}")
                    seen_stop = True
                elif sg:
                    out.append(f"Thread {n} received signal {sg.group('sig')}, {why}.")
                    if sg.group("addr"):
                        out.append(f"$0 = {{si_signo = {_SIGNO.get(sg.group('sig'), 0)}, si_errno = 0, si_code = 2, "
                                   f"_sigfault = {{si_addr = {sg.group('addr')}}}}}")
                    seen_stop = True
                else:
                    for exc, (sig, _) in _EXC_SIGNAL.items():
                        if exc in why:
                            out.append(f"Thread {n} received signal {sig}, {why}.")
                            seen_stop = True
                            break
            out.append(f"Thread {n} (LWP {n}):")
            continue
        m = _SYM.match(s)
        if m:
            # "libc.so.6`raise:" (old LLDB: "HelloWorld`rb_vm_dispatch + 12:") names the disassembly below
            cur_sym, cur_off = m.group("sym"), m.group("off")
            continue
        m = _INSN.match(s)
        if m:
            sym = f" <{cur_sym}+{m.group('off') or cur_off or 0}>" if cur_sym else ""
            out.append(f"=> {m.group('addr')}{sym}:\t{m.group('insn')}")
            continue
        out.append(ln)
    return "\n".join(out)
