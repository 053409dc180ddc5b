"""A Go web framework's panic-recovery log: Martini's ``Recovery`` middleware and the frameworks that copied it
(Macaron, Gitea's and Gogs' forks) print the recovered value and the stack they took.

Their ``stack()`` writes ``/path/file.go:204 (0x4144ac)`` per caller (``runtime.Caller``'s file, line and pc) and,
when it could read that source file, ``\\tfunction: source line`` under it; the log line before it is
``[Macaron] PANIC: <value>`` (``[martini] PANIC:`` …). The middleware *recovered* the panic and answered the
request with a 500: the process went on, so the report is no crash of it — the class is ``unknown`` with that
reason, and the frames are kept (file, line and pc; the function only where printed).

>>> print(go_recovery_to_gdb("[Macaron] PANIC: boom\\n/src/app/h.go:12 (0x4a1b2c)\\n\\tserve: x := m[k]")[0])
[Macaron] PANIC: boom
#0  0x4a1b2c in serve () at /src/app/h.go:12
"""
from __future__ import annotations

import re

from .frames import _GO_STD as GO_STD

_PANIC = re.compile(r"(?:^|\s)\[(?P<fw>[A-Za-z]\w*)\] PANIC: (?P<value>.+?)\s*$")
_ROW = re.compile(r"^\s*(?P<file>/\S+\.go):(?P<line>\d+) \((?P<pc>0x[0-9a-fA-F]+)\)\s*$")
# GOROOT's own packages (/usr/lib/go/src/runtime/map.go, /usr/local/go/src/reflect/value.go): the runtime's and the
# standard library's frames; a GOPATH import path under src/ has a dot in its first element (github.com/…)
_GOROOT_STD = re.compile(r"/go/src/(?:pkg/)?(?P<pkg>[a-z]\w*)/")
_FUNC = re.compile(r"^\t(?P<func>[\w.\-~/%*()·]+): ")


def looks_like_go_recovery(text: str) -> bool:
    lines = text.split("\n")[:4000]
    at = next((k for k, ln in enumerate(lines) if _PANIC.search(ln)), None)
    return at is not None and sum(1 for ln in lines[at + 1:at + 40] if _ROW.match(ln)) >= 2


def go_recovery_to_gdb(text: str) -> tuple[str, dict]:
    lines, out, no, facts = text.split("\n"), [], 0, {"foreign": "a Go web framework's panic-recovery log"}
    for k, ln in enumerate(lines):
        p = _PANIC.search(ln)
        if p and "runtime_verdict" not in facts:
            facts["runtime_verdict"] = ("unknown", "go-panic-recovered", "unknown", "UncategorizedSignal",
                                        f"{p.group('fw')}'s Recovery middleware recovered a Go panic "
                                        f"('{p.group('value')}') and went on serving: no crash of the process")
            facts["verdict_without_signal"] = True
        r = _ROW.match(ln)
        if r:
            f = _FUNC.match(lines[k + 1]) if k + 1 < len(lines) else None
            func = f.group("func").rsplit("/", 1)[-1] if f else "??"
            out.append(f"#{no}  {r.group('pc')} in {func} () at {r.group('file')}:{r.group('line')}")
            std = _GOROOT_STD.search(r.group("file"))
            if std and std.group("pkg") in GO_STD:
                facts.setdefault("not_own_pcs", []).append(int(r.group("pc"), 16))
            no += 1
            continue
        if _FUNC.match(ln) and out and out[-1].startswith("#"):
            continue
        out.append(ln)
    return "\n".join(out), facts
