"""Zig's default panic handler: its last words before abort().

``std.debug.panicImpl`` prints ``thread 9110 panic: reached unreachable code`` (a panic inside the handler adds
``Panicked during a panic. Aborting.``), then the stack trace, then calls abort(): a SIGABRT after it is the
process's own, even when the debugger shows only the syscall frame abort() ended in.

>>> zig_panic(["thread 9110 panic: reached unreachable code", "Panicked during a panic. Aborting."])
{'abort_message': 'Zig panic: reached unreachable code'}
"""
from __future__ import annotations

import re

_PANIC = re.compile(r"^thread (?P<tid>\d+) panic: (?P<msg>\S.*?)\s*$")
_DOUBLE = re.compile(r"^Panicked during a panic\. Aborting\.\s*$")


def zig_panic(lines) -> dict:
    """``{"abort_message": …}`` when Zig's panic handler spoke, else ``{}``."""
    for ln in lines:
        if len(ln) > 400:
            continue
        m = _PANIC.match(ln.strip())
        if m:
            return {"abort_message": f"Zig panic: {m.group('msg')}"}
        if _DOUBLE.match(ln.strip()):
            return {"abort_message": "Zig: Panicked during a panic. Aborting."}
    return {}
