"""The signal trampoline in a systemd-coredump stack, which elfutils cannot name.

systemd-coredump names each frame with elfutils (``dwfl_module_addrname``): in a distribution's stripped libc only
the exported symbols are left, so glibc's signal-return trampoline ``__restore_rt`` — a local symbol — shows as
``n/a (libc.so.6 + 0x3e650)``, where gdb would print ``<signal handler called>``. Such a frame is recognised by
where it sits: an unnamed libc frame whose caller (the frame below it) and callee (above it) are both outside libc,
the callee being a handler that aborts or re-raises (raise/abort at the top of the thread). libc's own unexported
functions that call into a program (``start_thread``, ``__libc_start_call_main``, qsort's ``msort_with_tmp``) are
called from libc itself, so they never sit over another object's frame.

>>> trampoline_frames([("raise", "libc.so.6"), ("abort", "libc.so.6"), ("on_fatal", "prog"), ("n/a", "libc.so.6"),
...                    ("draw", "prog")])
{3}
>>> trampoline_frames([("abort", "libc.so.6"), ("on_fatal", "prog"), ("n/a", "libc.so.6"), ("__libc_start_main", "libc.so.6")])
set()
"""
from __future__ import annotations

import re

_LIBC = re.compile(r"^(?:.*/)?lib(?:c|pthread)(?:\.so\.\d+|-[\d.]+\.so)$")
_ABORT_CHAIN = re.compile(r"^(?:__GI_)?(?:raise|gsignal|abort|__GI_abort|pthread_kill|__pthread_kill\w*|tgkill|kill|n/a)$")


def trampoline_frames(frames: list[tuple[str, str]]) -> set[int]:
    """Indexes (in one thread's ``(function, module)`` list, frame 0 first) of unnamed libc frames that are the
    signal trampoline under a handler that aborts."""
    out = set()
    for k in range(2, len(frames) - 1):
        func, mod = frames[k]
        if func != "n/a" or not _LIBC.match(mod):
            continue
        handler, below = frames[k - 1], frames[k + 1]
        if _LIBC.match(handler[1]) or _LIBC.match(below[1]):
            continue
        top = frames[:k - 1]
        # raise/abort (libc's, some unnamed) right above the handler, at least one of them named
        if top and all(_LIBC.match(m) and _ABORT_CHAIN.match(f) for f, m in top) and any(f != "n/a" for f, _ in top):
            out.add(k)
    return out


def trampoline_lines(lines: list[str], frame_re: re.Pattern, thread_re: re.Pattern) -> set[int]:
    """Line numbers of the trampoline frames in coredumpctl's text (frames grouped by ``Stack trace of thread``)."""
    out, group = set(), []

    def flush():
        hits = trampoline_frames([(f, m) for _, f, m in group])
        out.update(group[k][0] for k in hits)

    for i, ln in enumerate(lines):
        if thread_re.match(ln):
            flush()
            group = []
            continue
        m = frame_re.match(ln)
        if m:
            group.append((i, m.group("func").strip() or "n/a", m.group("mod").strip()))
    flush()
    return out
