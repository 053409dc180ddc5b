"""LLVM's own crash handler print (clang, lld, rustc's LLVM, Mesa's shader compiler) as gdb lines.

On a fatal signal LLVM's handler prints ``PLEASE submit a bug report to … and include the crash backtrace``,
then ``Stack dump:`` with the program's arguments and its frames (``0  libLLVM.so.19 0x00007f… llvm::sys::
PrintStackTrace(llvm::raw_ostream&, int) + 57``), but not which signal it was: the verdict is ``unknown``
unless a signal line elsewhere in the paste decides. The handler's own frames (``PrintStackTrace``,
``RunSignalHandlers``, ``SignalHandler``) are dropped: they are the print, not the crash.

>>> text, facts = llvm_to_gdb("PLEASE submit a bug report to https://x/ and include the crash backtrace.\\n"
...                           "Stack dump:\\n1  libLLVM.so 0x00007f0000001000 llvm::sys::RunSignalHandlers() + 8\\n"
...                           "2  clang 0x0000560000002000 clang::Sema::Check(int) + 16\\n")
>>> print(text.split("\\n")[-2])
#2  0x0000560000002000 in clang::Sema::Check(int) () from clang
>>> facts["runtime_verdict"][0]
'unknown'
"""
from __future__ import annotations

import re

_PLEASE = re.compile(r"^\s*PLEASE submit a bug report to \S+ and include the crash backtrace")
_STACK_DUMP = re.compile(r"^\s*Stack dump(?: without symbol names.*)?:\s*$")
_FRAME = re.compile(r"^\s*(?P<no>\d{1,4})\s+(?P<mod>\S+)\s+(?P<pc>0x[0-9a-fA-F]+)(?:\s+(?P<func>.+?)(?: \+ \d+)?)?\s*$")
_HANDLER = re.compile(r"^(?:llvm::sys::(?:PrintStackTrace|RunSignalHandlers|CleanupOnSignal)|SignalHandler)\b")


def llvm_looks(text: str) -> bool:
    lines = text.split("\n")[:400]
    return any(_PLEASE.match(ln) for ln in lines) and any(_STACK_DUMP.match(ln) for ln in lines)


def llvm_to_gdb(text: str) -> tuple[str, dict]:
    out, facts, in_dump = [], {"foreign": "LLVM's crash handler"}, False
    facts["runtime_verdict"] = ("unknown", "llvm-crash-handler", "unknown", "UncategorizedSignal",
                                "LLVM's crash handler printed its stack dump ('PLEASE submit a bug report') but not "
                                "which signal killed the process")
    facts["verdict_without_signal"] = True
    for ln in text.split("\n"):
        if _STACK_DUMP.match(ln):
            in_dump = True
            out.append(ln)
            continue
        m = _FRAME.match(ln) if in_dump else None
        if m:
            func = (m.group("func") or "??").strip()
            if _HANDLER.match(func):
                continue
            out.append(f"#{m.group('no')}  {m.group('pc')} in {func} () from {m.group('mod')}")
            continue
        out.append(ln)
    return "\n".join(out), facts
