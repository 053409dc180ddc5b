"""Classifying a transcript that shows no signal line: from the frames, only where they are evidence.

No signal line is not a hang by itself (issue rule): a Go runtime throw or panic, a runtime's last
words (terminate, assert, glibc), abort()'s path, a fault inside the allocator, Go's sigpanic ->
panicmem, lock waits, a runaway recursion, a NULL pc or a NULL pointer argument decide; otherwise
the class is ``unknown`` and the reason says why. Called from :func:`.classify.classify`.
"""
from __future__ import annotations

import re

import pandas as pd

from .classify import _ABORT_PATH, _HEAP_FUNCS, DEEP_STACK, NULL_LIMIT, _has, _leading_library
from .evidence import _NULL_HANDLE, _pointers, _printed_null
from .godefer import deferred_panic_words

# a thread whose frame 0 is a blocking wait or system call is parked in the kernel, not faulting: a NULL argument there
# (or in the frames under it) is what the call was handed (futex's abstime=NULL is "no timeout"; a syscall given a bad
# pointer returns EFAULT), so it is evidence only in a frame 0 that could have dereferenced it
_PARKED = re.compile(r"^_*(?:futex_\w*wait\w*|futex_abstimed_wait\w*|lll_lock_wait\w*|pthread_cond_\w*wait\w*|"
                     r"pthread_(?:clock|timed)?join\w*|sem_\w*wait\w*|poll|ppoll|select|pselect6?|epoll_p?wait\w*|"
                     r"(?:clock_)?nanosleep\w*|sleep|usleep|read|recv\w*|accept4?|waitpid|wait4|sigwait\w*|sigsuspend)$")
_TIMED_WAIT = r"(?:cond_timedwait|cond_clockwait|g_cond_wait_until|sem_timedwait|sem_clockwait|timedlock)"


def _stores_through(src: str, name: str) -> bool:
    """``task->cap = x`` / ``p->n += 1`` / ``p->n++``: the line writes to memory through ``name``."""
    code = src.split("/*")[0].split("//")[0]
    lhs = rf"\b{re.escape(name)}\s*->\s*\w+(?:\s*(?:->|\.)\s*\w+|\s*\[[^\]]*\])*\s*"
    return bool(re.search(lhs + r"(?:[-+*/%&|^]|<<|>>)?=(?!=)", code) or re.search(lhs + r"(?:\+\+|--)", code)
                or re.search(rf"(?:\+\+|--)\s*{re.escape(name)}\s*->", code))


def infer_without_signal(facts: dict, crash: pd.DataFrame, all_frames: pd.DataFrame, waiters: list):
    """No signal line: decide from the frames only where they are evidence (issue rules), else unknown.

    Returns ("snapshot", why) for a hang, ("signal", SIG, why) to classify as that signal, or
    ("done", class, subclass, exploitability, rule, reason).
    """
    if (facts.get("go_fatal") or "").startswith("stack overflow"):
        # runtime.newstack throws this when a goroutine's stack would pass its limit (runaway recursion)
        return ("done", "stack-overflow", "recursion", "probably", "StackOverflow",
                "the Go runtime threw 'stack overflow': a goroutine's stack passed its size limit")
    if facts.get("go_fatal"):
        return ("done", "abort", "go-fatal", "unknown", "AbortSignal",
                f"the Go runtime threw a fatal error ('{facts['go_fatal']}') and exited")
    if not facts.get("go_panic") and len(crash) and len(_has(crash.iloc[:3], r"^runtime\.(?:throw|fatalthrow|fatal)$")):
        # the running goroutine is in runtime.throw (its "fatal error:" line not in the paste): the runtime exits
        return ("done", "abort", "go-fatal", "unknown", "AbortSignal",
                "no signal line; the crash goroutine is in runtime.throw: the Go runtime threw a fatal error and exited")
    if facts.get("go_panic") and "invalid memory address or nil pointer dereference" in facts["go_panic"]:
        # the runtime's sigpanic calls panicmem, whose message this is, only for a fault below 0x1000
        return ("done", "null-deref-read", "access-assumed-read", "probably not", "SourceAvNearNull",
                f"no signal line; the Go panic '{facts['go_panic']}' is the runtime's message for a fault address "
                "below 0x1000 (nil pointer dereference)")
    if facts.get("go_panic"):
        # no signal: a panic nothing recovered (as a Rust panic, it ends the process: exit status 2)
        return ("done", "abort", "go-panic", "unknown", "AbortSignal",
                f"an unrecovered Go panic ('{facts['go_panic']}') ended the process")
    if facts.get("exception_type") or facts.get("assert_expr") or facts.get("glibc_message"):
        said = (f"terminate called after throwing {facts['exception_type']}" if facts.get("exception_type")
                else f"Assertion `{facts['assert_expr']}' failed" if facts.get("assert_expr")
                else facts["glibc_message"])
        return ("signal", "SIGABRT", f"no signal line; the runtime printed '{said}', which it follows with abort()")
    if facts.get("libc_abort"):
        return ("signal", "SIGABRT", "no signal line; old glibc's __libc_message printed its backtrace and memory map, "
                                     "which it does only right before abort()")
    heap_top = _leading_library(crash)
    if heap_top is not None and _HEAP_FUNCS.match(str(heap_top)):
        return ("done", "heap-corruption", f"segv-in-allocator:{heap_top}", "exploitable", "HeapError",
                f"no signal line; the crash thread stopped inside the allocator ({heap_top}), not on abort()'s path: "
                "heap metadata or the pointer passed to it is bad")
    # raise/abort above a "<signal handler called>" frame are a crash handler re-raising a signal it caught: only the
    # frames below it (the code the signal interrupted) say which signal that was
    handler = [k for k, n in enumerate(crash["norm_function"].tolist()) if n == "<signal handler called>"] if len(crash) else []
    interrupted = crash.iloc[handler[-1] + 1:] if handler else crash
    if len(interrupted) and len(_has(interrupted, _ABORT_PATH)):
        return ("signal", "SIGABRT", "no signal line; the crash thread is in abort()'s path "
                                     f"({', '.join(dict.fromkeys(_has(interrupted, _ABORT_PATH)['norm_function']))})")
    if len(crash) and len(_has(crash, r"^runtime\.panicmem$")) and len(_has(crash, r"^runtime\.sigpanic$")):
        # Go's sigpanic calls panicmem only for a fault below 0x1000 (a nil pointer plus a small offset)
        return ("done", "null-deref-read", "access-assumed-read", "probably not", "SourceAvNearNull",
                "no signal line; the Go runtime's sigpanic -> panicmem frames mean a fault address below 0x1000 "
                "(nil pointer dereference)")
    if facts.get("strace_waits", 0) >= 2:
        return ("snapshot", f"no signal line; strace attached to the running process shows {facts['strace_waits']} "
                            "threads blocked in futex lock waits (FUTEX_WAIT … <unfinished ...>)")
    # systemd-coredump writes its "Stack trace of thread N:" list only for a process a core-dumping signal killed:
    # threads waiting in it are the idle ones of a crash whose Signal line the excerpt lost, not a hang
    dumped = facts.get("dialect") == "coredumpctl"
    if len(waiters) >= 2 and not dumped:
        return ("snapshot", f"no signal line; threads {', '.join(map(str, waiters))} are blocked in lock waits")
    # one thread alone: a *timed* wait (g_cond_wait_until, pthread_cond_timedwait) returns at its deadline — how an
    # idle pool worker sleeps — so an excerpt showing just that worker says nothing about a hang
    if waiters and not dumped and len(crash) and crash.iloc[0]["thread"] in waiters and not len(_has(crash.head(8), _TIMED_WAIT)):
        return ("snapshot", "no signal line; the thread shown is blocked in a lock wait")
    if len(crash) and int(pd.to_numeric(crash["frame"]).max()) >= DEEP_STACK:
        return ("done", "stack-overflow", "recursion", "probably", "StackOverflow",
                f"no signal line, but the stack is {int(pd.to_numeric(crash['frame']).max()) + 1}+ frames deep")
    if len(crash):
        top = crash.iloc[0]
        pc = top["pc"]
        # (frame 0 itself: a paste starting at "#9" lost the frames above, and frame 9's pc is only a return address)
        if top["norm_function"] == "??" and pc is not None and not pd.isna(pc) and int(pc) < NULL_LIMIT \
                and int(top["frame"]) == 0:
            return ("done", "bad-pc", "null-call", "probably", "SegFaultOnPcNearNull",
                    f"no signal line; frame 0 is at pc 0x{int(pc):x}: a call through a NULL function pointer")
        # a NULL pointer argument of the faulting frame, or of a library frame between it and the first own
        # frame (``this=0x0`` in inlined std::unique_ptr code, ``stream=0x0`` handed to an interceptor)
        parked = bool(_PARKED.match(str(top["norm_function"])))
        # pointer names some frame of the run down to the first own frame holds non-NULL: the same handle passed
        # along the calls ("net=0x0" in a library frame whose callee got net=0x55…), so a NULL of that name in another
        # frame of the run is an optimised frame's reused register, not the value (no evidence)
        run_end = next((k for k, own in enumerate(crash["is_own"].tolist()) if own), len(crash) - 1)
        valid = {n for args in crash["args"].iloc[:run_end + 1].tolist() for n, v in _pointers(args) if v}
        for _, fr in crash.iterrows():
            if not _HEAP_FUNCS.match(str(fr["norm_function"])):
                at_top = fr is top or fr["frame"] == top["frame"]
                nulls = [n for n, v in _pointers(fr.get("args")) if v == 0 and (at_top or n not in valid)] \
                    if not parked else []
                # (a NULL pthread_t in frame 0 itself still counts: glibc reads the thread's descriptor through the
                # handle before any wait, so a join or cancel handed 0 faults there instead of blocking)
                handle = _NULL_HANDLE.search(str(fr.get("args"))) if "pthread_" in str(fr["norm_function"]) \
                    and (at_top or not parked) else None
                if handle:      # glibc prints a pthread_t (a pointer to the thread's struct) in decimal: th=0 is NULL
                    nulls.append(handle.group(0).split("=")[0])
                src = (facts.get("crash_source") or "") if at_top else ""
                # the NULL argument the stopped line dereferences, and whether it stores through it
                named = next((n for n in nulls if re.search(rf"\b{re.escape(n)}\s*->", src)), None)
                name = named or (nulls[0] if nulls else None)
                if name:
                    where = "the faulting frame's" if at_top else f"frame {int(fr['frame'])} ({fr['norm_function']})'s"
                    if named and _stores_through(src, named):
                        return ("done", "null-deref-write", "", "probably", "DestAvNearNull",
                                f"no signal line; {where} pointer argument {name}=0x0, and the stopped line "
                                f"`{src.strip()}` stores through it")
                    return ("done", "null-deref-read", "" if named else "access-assumed-read", "probably not",
                            "SourceAvNearNull", f"no signal line; {where} pointer argument {name}=0x0"
                            + (f", which the stopped line `{src.strip()}` reads through" if named else ""))
            if bool(fr["is_own"]):
                break
    # the user printed the pointer the stopped line dereferences, and it is NULL (``p opline`` = ``(zend_op *) 0x0``
    # under ``retvar = &EX_T(opline->result.var)``): the same evidence as a NULL argument of the faulting frame
    null_at, why = _printed_null(facts, facts.get("crash_source") or "")
    if null_at == 0:
        return ("done", "null-deref-read", "access-assumed-read", "probably not", "SourceAvNearNull",
                f"no signal line; {why}")
    if not len(crash) and facts.get("started"):
        return ("done", "unknown", "no-stop", "unknown", "UncategorizedSignal",
                "gdb started the program, but the transcript ends before it stopped: no signal and no frame shown")
    parked = str(crash.iloc[0]["norm_function"]) if len(crash) and _PARKED.match(str(crash.iloc[0]["norm_function"])) \
        and any(v == 0 for a in crash["args"].tolist() for _, v in _pointers(a)) else None
    return ("done", "unknown", "no-signal", "unknown", "UncategorizedSignal",
            "the transcript shows no signal line, and its frames show no abort path, lock wait, "
            "deep recursion or NULL argument to decide from"
            + (f" (frame 0 is parked in {parked}: a waiting thread did not fault, its NULL arguments are no evidence)"
               if parked else "")
            + ("; the abort above the signal trampoline is a crash handler's, and the signal it caught is not shown"
               if handler and len(_has(crash.iloc[:handler[-1]], _ABORT_PATH)) else "") + deferred_panic_words(crash))
