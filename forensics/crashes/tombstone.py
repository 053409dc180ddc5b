"""Android's crash dump (a debuggerd "tombstone", as logcat or the tombstone file prints it) as gdb lines.

debuggerd names the signal with its code and fault address, then numbers the frames with two digits
and a module-relative pc::

    signal 11 (SIGSEGV), code 1 (SEGV_MAPERR), fault addr 0x27
    backtrace:
        #00 pc 00037b4c  /system/lib/libc.so (tgkill+12)
        #01 pc 0001a2b4  /data/app/com.example/lib/arm/libfoo.so

logcat prefixes every line (``I/DEBUG   (  162): ``, ``F DEBUG   : ``); those are dropped.
:func:`tombstone_to_gdb` keeps every other line and writes the signal as gdb's signal line plus a
``$_siginfo``-shaped line (both come from the dump), and each frame as ``#N  0xPC in func () from
module`` — the pc is the module offset debuggerd printed, not an absolute address.

>>> print(tombstone_to_gdb("signal 11 (SIGSEGV), code 1 (SEGV_MAPERR), fault addr 00000027\\n"
...                        "    #00 pc 0001a2b4  /data/app/x/lib/arm/libfoo.so (parse+12)\\n"))
Program received signal SIGSEGV, SEGV_MAPERR.
$0 = {si_signo = 11, si_errno = 0, si_code = 1, _sigfault = {si_addr = 0x00000027}}
#0  0x0001a2b4 in parse () from /data/app/x/lib/arm/libfoo.so
<BLANKLINE>
"""
from __future__ import annotations

import re

# logcat's prefixes: "I/DEBUG   (  162): ", "F DEBUG   : ", Android Studio's "2020-09-24 15:32:44.997 14368-14368/? A/DEBUG: "
# and its newer columns "2023-11-23 19:36:23.817 21182-21182 DEBUG   pid-21182   A  "
_PREFIX = re.compile(r"^\s*(?:(?:\d{2,4}-)?\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d+\s+\d+[-\s]\d+(?:/\S+)?\s+)?"
                     r"(?:[VDIWEFA]/DEBUG\s*(?:\(\s*\d+\))?:\s?|[VDIWEFA] DEBUG\s*:\s?|DEBUG\s*:\s?|DEBUG\s+\S+\s+[VDIWEFA]\s+)")
# libc's own line before debuggerd's dump: "A/libc: Fatal signal 11 (SIGSEGV), code 1 (SEGV_MAPERR), fault addr 0x0 in tid …"
_LIBC_FATAL = re.compile(r"Fatal signal (?P<no>\d+) \((?P<sig>SIG[A-Z0-9]+)\), code (?P<code>-?\d+)(?: \((?P<desc>[^)]*)\))?"
                         r"(?:, fault addr (?P<addr>0x[0-9a-fA-F]+|-+))?")
_ABORT_MSG = re.compile(r"^\s*Abort message: '(?P<msg>.*)'\s*$")
_SIGNAL = re.compile(r"^\s*signal (?P<no>\d+) \((?P<sig>SIG[A-Z0-9]+)\), code (?P<code>-?\d+) \((?P<desc>[^)]*)\)"
                     r"(?:, fault addr (?P<addr>(?:0x)?[0-9a-fA-F]+|-+))?")
_FRAME = re.compile(r"^\s*#(?P<no>\d{2,3}) pc (?P<pc>[0-9a-fA-F]+)\s+(?P<mod>\S+)"
                    r"(?: \((?P<func>.+?)(?:\+\d+)?\))?(?: \(BuildId: [0-9a-fA-F]+\))?\s*$")


def looks_like_tombstone(text: str) -> bool:
    lines = [_PREFIX.sub("", ln) for ln in text.split("\n")[:400]]
    # bionic's "Fatal signal N (SIGx), code C…" (or debuggerd's own signal line with its fault addr) is Android's
    # wording whether or not the dump's backtrace made it into the paste
    return any(_LIBC_FATAL.search(ln) or (_SIGNAL.match(ln) and "fault addr" in ln) for ln in lines) \
        or (any(_SIGNAL.match(ln) for ln in lines) and any(_FRAME.match(ln) for ln in lines))


def tombstone_facts(text: str) -> dict:
    """What the dump says beyond gdb's lines: bionic's ``Abort message:`` (the reason abort() was called), and
    whether a SIGABRT's code is the one bionic's abort() sends itself."""
    facts: dict = {}
    for ln in text.split("\n"):
        ln = _PREFIX.sub("", ln)
        m = _ABORT_MSG.match(ln)
        if m and "abort_message" not in facts:
            facts["abort_message"] = f"Abort message: {m.group('msg')}"
        s = _SIGNAL.match(ln)
        if s and "self_signal" not in facts and s.group("sig") == "SIGABRT" and s.group("desc") == "SI_QUEUE":
            # bionic's abort() (Android 9+) raises SIGABRT on its own thread with rt_tgsigqueueinfo, so si_code is
            # SI_QUEUE; debuggerd appends "from pid N, uid U" when the sender is another process's — absent here
            facts["self_signal"] = ("SIGABRT with si_code SI_QUEUE and no sender named in an Android tombstone: "
                                    "bionic's abort() raises it so on its own thread")
    return facts


def tombstone_to_gdb(text: str) -> str:
    out, signalled = [], False
    lines = [_PREFIX.sub("", raw) for raw in text.split("\n")]
    if not any(_SIGNAL.match(ln) for ln in lines):
        # only libc's "Fatal signal" line names the signal (the dump's own line was cut): read it as one
        lines = [_SIGNAL_FROM_LIBC(ln) for ln in lines]
    for ln in lines:
        m = _SIGNAL.match(ln)
        if m and not signalled:
            signalled = True
            out.append(f"Program received signal {m.group('sig')}, {m.group('desc')}.")
            addr = m.group("addr")
            fault = f", _sigfault = {{si_addr = {addr if addr.startswith('0x') else '0x' + addr}}}" \
                if addr and not addr.startswith("-") and int(m.group("code")) > 0 else ""   # a sent signal has no fault address
            out.append(f"$0 = {{si_signo = {m.group('no')}, si_errno = 0, si_code = {m.group('code')}"
                       f"{fault or ', _sifields = {}'}}}")
            continue
        f = _FRAME.match(ln)
        if f:
            func = (f.group("func") or "??").strip()
            if func.endswith(")") and "(" in func and not func.startswith("("):
                func = func[:func.index("(")]      # "Picker::add(int)": gdb shows the arguments apart
            out.append(f"#{int(f.group('no'))}  0x{f.group('pc')} in {func} () from {f.group('mod')}")
            continue
        out.append(ln)
    return "\n".join(out)


def _SIGNAL_FROM_LIBC(ln: str) -> str:
    m = _LIBC_FATAL.search(ln)
    if not m:
        return ln
    return (f"signal {m.group('no')} ({m.group('sig')}), code {m.group('code')} ({m.group('desc') or m.group('sig')})"
            + (f", fault addr {m.group('addr')}" if m.group("addr") else ""))

