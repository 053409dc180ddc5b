"""Delve's ``goroutines`` list: one line per goroutine, ``Goroutine 7 - User: /src/app.go:42 main.work (0x4a1b2c)``.

Each goroutine becomes a thread with the one frame Delve shows (its user, runtime, go or start location), so the lock
waits of a hung Go program (``sync.runtime_SemacquireMutex`` on thousands of goroutines) are read as any thread list's.

>>> looks_like_delve_list("  Goroutine 1 - User: /go/src/runtime/sema.go:71 sync.runtime_SemacquireMutex (0x446677)")
True
"""
from __future__ import annotations

import re

_G = re.compile(r"^\s*\*?\s*Goroutine (?P<g>\d+) - (?:User|Runtime|Go|Start): (?P<file>\S+):(?P<line>\d+) "
                r"(?P<func>\S+) \((?P<pc>0x[0-9a-fA-F]+)\)")


def looks_like_delve_list(text: str) -> bool:
    return any(_G.match(ln) for ln in text[:1 << 16].split("\n"))


def delve_list_to_gdb(text: str) -> tuple[str, dict]:
    from .foreign import frame_line

    out, facts, seen = [], {"foreign": "Delve's goroutines list"}, set()
    for ln in text.split("\n"):
        m = _G.match(ln)
        if not m:
            out.append(ln)
            continue
        g = int(m.group("g"))
        if g in seen:         # a goroutine quoted twice in the paste (before and after) is one thread
            continue
        seen.add(g)
        out.append(f"Thread {g} (LWP {g}):")
        out.append(frame_line(0, m.group("func"), int(m.group("pc"), 16), m.group("file"), int(m.group("line"))))
    return "\n".join(out), facts
