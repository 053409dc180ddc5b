"""A GraalVM native image's segfault handler: ``[ [ SegfaultHandler caught a segfault in thread 0x… ] ]``.

Substrate VM (``SubstrateSegfaultHandler``) installs its own SIGSEGV/SIGBUS handler in every native image. It
prints that banner (older images: ``[ [ SubstrateSegfaultHandler caught signal 11 ] ]``), then the ``siginfo_t`` it got — ``siginfo: si_signo: 11, si_code: 1, si_addr: 0x…`` (numbers
only, unlike HotSpot's ``si_signo: 11 (SIGSEGV)``) — the general purpose registers (``RAX 0x… is …`` on amd64,
``R0 0x… is …`` on aarch64), the top of the stack, and a stack trace of the failing thread whose rows are
``SP 0x… IP 0x… [size=…] [image code] pkg.Class.method(File.java:12)``. The handler runs only for a signal the
kernel delivered, so the siginfo is the fault's; the VM's own code (``com.oracle.svm.``, ``org.graalvm.``, the JDK's
``java.``/``jdk.``/``sun.``) is library code.

>>> looks_like_graalvm("[ [ SegfaultHandler caught a segfault in thread 0x00007f0000001000 ] ]\\n")
True
"""
from __future__ import annotations

import re

# (older images: "[ [ SubstrateSegfaultHandler caught signal 11 ] ]" or "… caught a segfault. ] ]", no thread, no siginfo)
_HEAD = re.compile(r"\[ \[ (?:Substrate)?SegfaultHandler caught (?:a segfault|signal (?P<no>\d+))"
                   r"(?: in thread (?P<thread>0x[0-9a-fA-F]+))?\.? \] \]")
_SIGINFO = re.compile(r"^\s*siginfo: si_signo: (?P<no>\d+), si_code: (?P<code>-?\d+)(?:, si_addr: (?P<addr>0x[0-9a-fA-F]+))?")
_FRAME = re.compile(r"^\s*(?:[AJDi]+\s+)?SP (?P<sp>0x[0-9a-fA-F]+) IP (?P<ip>0x[0-9a-fA-F]+)(?:\s+size=\d+)?\s+"
                    r"(?:\[image code\]|\[JIT code\]|\[deopt stub\])?\s*(?P<func>[\w$.<>]+)\((?P<file>[^():]+)(?::(?P<line>\d+))?\)")
_LINUX_SIG = {11: "SIGSEGV", 7: "SIGBUS", 10: "SIGBUS", 4: "SIGILL", 8: "SIGFPE", 6: "SIGABRT", 5: "SIGTRAP"}
_VM_CODE = re.compile(r"^(?:com\.oracle\.svm\.|org\.graalvm\.|java\.|javax\.|jdk\.|sun\.)")


def looks_like_graalvm(text: str) -> bool:
    return bool(_HEAD.search(text[:1 << 16]))


def graalvm_to_gdb(text: str) -> tuple[str, dict]:
    from .foreign import frame_line, signal_lines

    out, facts, no, library, signalled = [], {"foreign": "a GraalVM native image's segfault handler"}, 0, [], False
    for ln in text.split("\n"):
        s = _SIGINFO.match(ln)
        if s and not signalled:
            signalled = True
            sig = _LINUX_SIG.get(int(s.group("no")), "SIGSEGV")
            addr = int(s.group("addr"), 16) if s.group("addr") else None
            out += signal_lines(sig, int(s.group("code")), addr)
            out += ["[Current thread is 1 (Thread 1)]", "Thread 1 (Thread 1):"]
            continue
        h = _HEAD.search(ln)
        if h and h.group("no") and not signalled:
            signalled = True        # (older images: "caught signal 11", no siginfo line)
            out += signal_lines(_LINUX_SIG.get(int(h.group("no")), "SIGSEGV"))
            out += ["[Current thread is 1 (Thread 1)]", "Thread 1 (Thread 1):"]
            continue
        f = _FRAME.match(ln)
        if f:
            if _VM_CODE.match(f.group("func")):
                library.append(f.group("func"))
            out.append(frame_line(no, f.group("func"), int(f.group("ip"), 16), f.group("file"), f.group("line")))
            no += 1
            continue
        out.append(ln)
    if library:
        facts["not_own_functions"] = sorted(set(library))
    return "\n".join(out), facts
