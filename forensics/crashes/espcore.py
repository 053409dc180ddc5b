"""An Espressif chip's panic report (ESP-IDF / Arduino-ESP32 "Guru Meditation", ESP8266's ``Exception (N):``) as gdb lines.

ESP-IDF's panic handler prints the CPU exception it caught, the core's registers and a raw backtrace::

    Guru Meditation Error: Core  0 panic'ed (LoadProhibited). Exception was unhandled.
    Core  0 register dump:
    PC      : 0x400d4f1a  PS      : 0x00060e30  A0      : 0x800d7c31  A1      : 0x3ffb2e80
    ...
    A14     : 0x00000000  A15     : 0x3ffb2e60  SAR     : 0x0000000a  EXCCAUSE: 0x0000001c
    EXCVADDR: 0x00000000  LBEG    : 0x4000c2e0  LEND    : 0x4000c2f6  LCOUNT  : 0xffffffff

    Backtrace:0x400d4f17:0x3ffb2e80 0x400d7c2e:0x3ffb2ea0

The Xtensa exception cause (``EXCCAUSE``, the reason in brackets names it) decides the signal as Linux would raise
it: LoadProhibited (28) / StoreProhibited (29) are a read / a write of the unmapped address in ``EXCVADDR``,
InstFetchProhibited (20) an instruction fetch from it (the pc itself: ``PC`` = ``EXCVADDR``), IllegalInstruction
(0) SIGILL, IntegerDivideByZero (6) SIGFPE, LoadStoreAlignment (9) a misaligned access (SIGBUS). Other panics (a
watchdog, a cache access with the cache disabled, an abort()) name no fault this reader maps: no signal is written.
"Core 0" is a CPU, not a thread. The backtrace is ``pc:sp`` pairs no one decoded (``addr2line`` was not run): each
becomes a frame with its pc only, and none of them counts as anybody's own code (which function is unknown).

>>> text, facts = esp_panic_to_gdb("Guru Meditation Error: Core  1 panic'ed (StoreProhibited). Exception was unhandled.\\n"
...                                "PC      : 0x400d1234  EXCCAUSE: 0x0000001d\\nEXCVADDR: 0x00000010\\n")
>>> print(text.split("\\n")[0]); facts["access"]
Program received signal SIGSEGV, Segmentation fault.
'write'
"""
from __future__ import annotations

import re

_GURU = re.compile(r"Guru Meditation Error: Core\s+(?P<core>\d+) panic'ed \((?P<why>[^)]*)\)")
_ESP8266 = re.compile(r"^\s*Exception \((?P<cause>\d+)\):\s*$")
_REG = re.compile(r"\b(?P<name>PC|PS|A\d{1,2}|SAR|EXCCAUSE|EXCVADDR|LBEG|LEND|LCOUNT|epc1|excvaddr)\s*[:=]\s*"
                  r"(?P<val>0x[0-9a-fA-F]+)")
_BT = re.compile(r"(?P<pc>0x[0-9a-fA-F]{8}):0x[0-9a-fA-F]{8}")
# Xtensa EXCCAUSE -> (signal, si_code, access); the address is EXCVADDR (the pc for an instruction fetch)
_CAUSE = {0: ("SIGILL", None, None), 6: ("SIGFPE", None, None), 9: ("SIGBUS", 1, None),
          20: ("SIGSEGV", 1, "exec"), 28: ("SIGSEGV", 1, "read"), 29: ("SIGSEGV", 1, "write")}
_REASON = {"IllegalInstruction": 0, "IntegerDivideByZero": 6, "LoadStoreAlignment": 9, "InstrFetchProhibited": 20,
           "InstFetchProhibited": 20, "LoadProhibited": 28, "StoreProhibited": 29}


def looks_like_esp_panic(text: str) -> bool:
    """ESP-IDF's ``Guru Meditation Error: Core N panic'ed (…)``, or ESP8266's ``Exception (N):`` over its
    ``epc1=… excvaddr=…`` line."""
    lines = text.split("\n")[:4000]
    if any(_GURU.search(ln) for ln in lines):
        return True
    return any(_ESP8266.match(a) and "epc1=" in b and "excvaddr=" in b for a, b in zip(lines, lines[1:] + [""]))


def esp_panic_to_gdb(text: str) -> tuple[str, dict]:
    """``(gdb-shaped text, facts)`` for the report (see the module docstring)."""
    from .foreign import signal_lines

    lines, facts = text.split("\n"), {"foreign": "the Espressif panic handler"}
    regs: dict[str, int] = {}
    for ln in lines:
        for m in _REG.finditer(ln):
            regs.setdefault(m.group("name").upper(), int(m.group("val"), 16))
    g = next((m for m in map(_GURU.search, lines) if m), None)
    e = next((m for m in map(_ESP8266.match, lines) if m), None)
    cause = regs.get("EXCCAUSE")
    if cause is None and g is not None:
        cause = _REASON.get(g.group("why").strip())
    if cause is None and e is not None:
        cause = int(e.group("cause"))
    sig, code, access = _CAUSE.get(cause, (None, None, None)) if cause is not None else (None, None, None)
    addr = regs.get("EXCVADDR")
    pc = regs.get("PC", regs.get("EPC1"))
    out: list[str] = []
    if sig is not None:
        if access in ("read", "write"):
            facts["access"] = access
        out += signal_lines(sig, code, addr if code is not None else None)
    bt = [int(m.group("pc"), 16) for ln in lines if ln.lstrip().startswith("Backtrace") for m in _BT.finditer(ln)]
    # the backtrace's first pc is the faulting one (the panic handler writes PC there); without one, the PC register
    pcs = bt or ([pc] if pc is not None else [])
    # raw, undecoded addresses: which function (and whose) is unknown
    facts["not_own_pcs"] = sorted(set(pcs))
    frames = [f"#{k}  0x{p:x} in ?? ()" for k, p in enumerate(pcs)]
    for ln in lines:
        out.append(ln)
        if frames and ln.lstrip().startswith(("Backtrace", "no backtrace")):
            out += frames
            frames = []
    out += frames                  # no backtrace line at all: frame 0 at the PC register
    return "\n".join(out), facts
