"""What the process died of: signal origin first, then the stack.

The class vocabulary (``CLASSES``) is fixed; ``subclass`` adds detail. The exploitability
hint follows CERT ``exploitable`` / CASR rule names (ReturnAv, SegFaultOnPc, DestAv, ...),
with the first matching rule reported.

>>> facts = {"signal": "SIGFPE", "si_code": 1, "si_addr": None, "pid": 10}
>>> import pandas as pd

>>> fr = pd.DataFrame({"frame": [0], "function": ["average_latency"], "norm_function": ["average_latency"],
...                    "args": ["v=0x1, n=0"], "is_own": [True], "is_library": [False], "repeat": [1], "pc": [0x1000]})
>>> classify(facts, fr, fr)["class"]
'divide-by-zero'
"""
from __future__ import annotations

import re

import pandas as pd

from .evidence import operand_address  # noqa: F401  (API: classify.operand_address)
from .sanitizer import sanitizer_class
from .jemalloc import JEMALLOC_FUNCS
from .libasserts import glib_assert_words, glibc_malloc_assert, library_assert_exit
from .unwindabort import unwinder_abort, unwinder_why
from .stops import EVENT_WAIT as _EVENT_WAIT, glib_trap as _glib_trap

CLASSES = ("null-deref-read", "null-deref-write", "wild-pointer", "bad-pc", "stack-overflow",
           "assertion-failure", "heap-corruption", "stack-buffer-overrun", "uncaught-exception",
           "divide-by-zero", "illegal-instruction", "bus-error", "deadlock", "abort", "unknown")
EXPLOITABILITY = ("exploitable", "probably", "probably not", "unknown")

NULL_LIMIT = 64 << 10          # fault addresses below 64 KiB count as NULL + offset
GUARD_DISTANCE = 64 << 10      # a fault this close to sp is the stack guard page
RECURSION_RUN = 20             # one function repeated this often in a row = runaway recursion

SI_USER, SI_KERNEL, SI_QUEUE, SI_TKILL = 0, 128, -1, -6
_SELF_SIGNAL_FRAMES = re.compile(r"^(?:raise|abort|pthread_kill|tgkill|kill|gsignal)$")
# (macOS: _pthread_mutex_firstfit_lock_wait, __psynch_mutexwait / __psynch_cvwait, __ulock_wait)
_LOCK_WAIT = re.compile(r"(?:mutex_lock|mutex_\w*lock_wait|lll_lock_wait|rwlock_\w*lock|cond_\w*wait|sem_\w*wait|"
                        r"spin_lock|futex_lock_pi|__psynch_(?:mutex|cv)wait|__ulock_wait|"
                        r"runtime_SemacquireR?W?Mutex\w*)")   # Go's sync.Mutex/RWMutex slow path
_HEAP_FUNCS = re.compile(r"^(?:malloc_printerr|_int_free\w*|_int_malloc|_int_realloc|sysmalloc|free|malloc|calloc|"
                         r"realloc|cfree|malloc_consolidate|unlink_chunk|tcache_\w+|_int_memalign|"
                         # macOS libsystem_malloc's zones: small_free_list_add_ptr, free_tiny, szone_memalign, nanov2_free
                         r"(?:tiny|small|medium)_(?:free|malloc)_\w+|free_(?:tiny|small|medium)\w*|szone_\w+|"
                         r"malloc_zone_\w+|nanov2_\w+|posix_memalign|"
                         # the Boehm collector (Crystal's, Mono's allocator): GC_malloc_kind, GC_finish_collection
                         r"GC_(?:\w*malloc\w*|finish_collection|try_to_collect\w*|collect_or_expand|mark_from|free)|"
                         r"_PyObject_(?:Malloc|Calloc|Realloc|Free)|pymalloc_(?:alloc|free|realloc)|"   # (CPython's obmalloc)
                         + JEMALLOC_FUNCS.pattern[1:-1] + r")$")
_HEAP_SUBCLASS = [
    (r"double free", "double-free"), (r"corrupted top size", "corrupted-top-size"),
    (r"invalid pointer", "invalid-pointer"), (r"invalid size", "invalid-size"),
    (r"invalid next size", "invalid-next-size"), (r"corrupted size vs\. prev_size", "corrupted-size"),
    (r"corrupted double-linked list", "corrupted-list"), (r"unaligned", "unaligned-chunk"),
    (r"memory corruption", "memory-corruption"), (r"munmap_chunk", "invalid-pointer"),
    (r"^GSlice: ", "gslice"),        # GLib's slice allocator found its own bookkeeping broken (gslice.c mem_error)
]
_STRING_ARG = re.compile(r'(?:str|assertion|msg)=(?:\w+@entry=)?0x[0-9a-f]+ "((?:[^"\\]|\\.)*)"')


def _has(frames: pd.DataFrame, pattern) -> pd.DataFrame:
    """Rows whose normalised function matches ``pattern`` (regex search)."""
    rx = re.compile(pattern)
    mask = [isinstance(n, str) and rx.search(n) is not None for n in frames["norm_function"].tolist()]
    return frames[mask] if any(mask) else frames.iloc[0:0]


def _leading_library(crash: pd.DataFrame):
    """The first named function among the library frames on top of the crash stack (None when frame 0 is own code)."""
    for k, (_, fr) in enumerate(crash.head(4).iterrows()):
        name = fr["norm_function"]
        if isinstance(name, str) and _HEAP_FUNCS.match(name):
            return name          # glibc's allocator internals, even when debuginfo makes them look like source
        if not bool(fr["is_library"]) and not bool(fr.get("is_wrapper", False)):
            return None
        if name not in (None, "??") and not pd.isna(name):
            nxt = crash["norm_function"].iloc[k + 1] if k + 1 < len(crash) else None
            # calloc clearing the chunk it hands out (memset), realloc copying it: the fault is the allocator's
            return nxt if re.match(r"^(?:mem|str)\w*$", name) and isinstance(nxt, str) and _HEAP_FUNCS.match(nxt) else name
    return None


def origin_of(facts: dict, crash_frames: pd.DataFrame) -> tuple[str, str]:
    """Where the signal came from: kernel fault, the process itself, another process, or none (attach).

    Decided from ``$_siginfo.si_code``/``si_pid`` when printed, otherwise from the frames.
    """
    sig, code = facts.get("signal"), facts.get("si_code")
    if sig is None or sig == "SIGSTOP" and not facts.get("si_signo"):
        if facts.get("go_deadlock"):
            return "snapshot", "the Go runtime found every goroutine blocked (all goroutines are asleep)"
        if facts.get("attached"):
            return "snapshot", "no signal: gdb attached to a live process (a hang snapshot)"
        if facts.get("core_cmd"):
            return "snapshot", ("a core file without a signal: written from a live process (gcore / "
                                "generate-core-file), i.e. a hang snapshot — a crash core always names its signal")
        if facts.get("interrupted"):
            return "snapshot", "no signal: the user stopped the running process with ^C (a hang snapshot)"
        return "none", "the transcript shows no signal line"
    self_frames = len(_has(crash_frames, _SELF_SIGNAL_FRAMES.pattern)) > 0
    if sig == "SIGTRAP" and len(_has(crash_frames, _GLIB_FATAL)):
        return "self", "SIGTRAP from GLib's fatal log handler (g_error / fatal warnings)"
    if sig == "SIGTRAP" and code in (None, SI_KERNEL) and _glib_trap(crash_frames):   # (128: the kernel's int3 trap)
        return "self", "SIGTRAP with frame 0 unnamed inside libglib: GLib's own breakpoint trap (g_error / fatal warnings)"
    if code is not None:
        if code > 0:
            return "kernel", f"si_code={code} > 0: the kernel raised it for a fault"
        pid, spid = facts.get("pid"), facts.get("si_pid")
        name = {SI_USER: "SI_USER", SI_TKILL: "SI_TKILL", SI_QUEUE: "SI_QUEUE"}.get(code, str(code))
        if spid is not None and pid is not None:
            if spid == pid:
                return "self", f"si_code={name}, si_pid={spid} is the process itself"
            return "external", f"si_code={name}, si_pid={spid} is another process (pid {pid})"
        if self_frames:
            return "self", f"si_code={name} and raise/abort frames on the stack"
        if facts.get("self_signal"):
            return "self", facts["self_signal"]      # a producer that says the process sent it (tombstone.py)
        if code == SI_TKILL and spid is None:
            # tkill/tgkill aim at one thread of a process: how raise()/abort()/pthread_kill signal the process's own
            # thread (another process's kill() arrives as SI_USER); no sender pid is shown to say otherwise
            return "self", "si_code=SI_TKILL (a thread-directed tgkill, as raise()/abort() send) and no other sender pid"
        return "external", f"si_code={name} and no raise/abort frame on the crash thread"
    if sig in ("SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL"):
        return "kernel", f"{sig} without $_siginfo: assumed a hardware fault"
    if self_frames:
        return "self", f"{sig} with raise/abort frames on the crash thread"
    said = facts.get("abort_message") or facts.get("assert_message") or facts.get("glibc_message") or \
        (f"terminate called after throwing {facts['exception_type']}" if facts.get("exception_type") else None)
    named = crash_frames["norm_function"].map(lambda n: isinstance(n, str) and n != "??").any() if len(crash_frames) else False
    # the stack shown ends at the signal trampoline (a handler's own print: nothing below it was kept), so no raise
    # frame could show
    cut = len(crash_frames) and crash_frames.iloc[-1]["norm_function"] == "<signal handler called>"
    if sig == "SIGABRT" and (said or not named or cut):
        # the process's own last words (a runtime's fatal error, an assert, glibc, terminate), or no stack at
        # all or none gdb could name (no raise frame can show): nothing says the signal came from outside
        return "self", (f"the process printed '{said}' and aborted" if said
                        else "SIGABRT whose stack ends at the signal trampoline (the frames below it, where raise() "
                             "would show, were not printed): taken as abort() by the process, its usual source" if cut
                        else "SIGABRT with no stack shown: taken as abort() by the process, its usual source")
    if sig == "SIGABRT" and facts.get("cgo_signal"):
        # Go: "signal arrived during cgo execution" — the thread was in C code, which aborted (C frames are not
        # in Go's dump, so no abort() frame can show)
        return "self", "SIGABRT arrived during cgo execution: taken as abort() in the C code the goroutine called"
    return "external", f"{sig} with no raise/abort frame on the crash thread: sent from outside"


def _lock_waiters(all_frames: pd.DataFrame) -> list[int]:
    """Threads with a lock wait among their top 8 frames."""
    if "thread" not in all_frames:
        return []
    top = all_frames[all_frames["frame"] < 8]
    hit = {int(t) for t, n in zip(top["thread"], top["norm_function"]) if isinstance(n, str) and _LOCK_WAIT.search(n)}
    return sorted(hit)


def _string_args(frames: pd.DataFrame, pattern: str) -> str | None:
    for a in _has(frames, pattern)["args"].dropna():
        m = _STRING_ARG.search(a)
        if m:
            return m.group(1)
    return None


def classify(facts: dict, crash: pd.DataFrame, all_frames: pd.DataFrame) -> dict:
    """Class, subclass, exploitability (+ rule), origin and the reason, for one transcript.

    ``crash`` is the crash thread's annotated frames (``norm_function``, ``is_own``, ...),
    ``all_frames`` every thread's.
    """
    origin, origin_why = origin_of(facts, crash)
    out = {"origin": origin, "origin_why": origin_why, "assertion": None, "heap_message": None,
           "exception_type": facts.get("exception_type")}
    sig = facts.get("signal")
    code = facts.get("si_code")
    addr = facts.get("si_addr")
    pc = facts.get("pc")
    top = crash.iloc[0] if len(crash) else None

    def done(cls, sub, expl, rule, reason):
        out.update({"class": cls, "subclass": sub, "exploitability": expl, "exploitability_rule": rule,
                    "reason": reason})
        return out

    if facts.get("sanitizer_kind") and not sig:
        out.update(origin="self", origin_why=f"{facts['sanitizer']} stopped the process at a bad access")
        return done(*sanitizer_class(facts))
    # (a panic unwinds and exits, or aborts: a SIGSEGV after it is another fault; only a stack overflow is a SIGSEGV)
    verdict_sigs = (None,) if facts.get("verdict_without_signal") else (None, "SIGABRT", "SIGSEGV") \
        if (facts.get("runtime_verdict") or ("",))[0] == "stack-overflow" else (None, "SIGABRT")
    if facts.get("runtime_verdict") and sig in verdict_sigs:
        # the runtime said what happened in its own words (Rust: "panicked at …", "has overflowed its stack")
        out.update(origin="self", origin_why=f"{facts.get('foreign') or 'the runtime'} reported it")
        return done(*facts["runtime_verdict"])
    waiters = _lock_waiters(all_frames) if len(all_frames) else []
    if origin == "none":
        from .nosignal import infer_without_signal

        inferred = infer_without_signal(facts, crash, all_frames, waiters)
        if inferred[0] == "snapshot":
            origin = "snapshot"
            out.update(origin="snapshot", origin_why=inferred[1])
        elif inferred[0] == "signal":
            sig = inferred[1]
            out.update(origin="self" if sig == "SIGABRT" else "kernel", origin_why=inferred[2])
        else:
            return done(*inferred[1:])
    if sig == "SIGTRAP" and (len(_has(crash, _GLIB_FATAL)) or (facts.get("si_code") in (None, SI_KERNEL) and _glib_trap(crash))):
        sig = "SIGABRT"   # GLib's g_error/fatal warnings trap instead of abort()
    if origin == "snapshot":
        if facts.get("interrupted") and not waiters and len(crash) and _EVENT_WAIT.match(str(crash.iloc[0]["norm_function"])):
            # ^C caught the process waiting for input (an event loop in poll/select): how every running program
            # idles, so the snapshot shows no hang
            return done("unknown", "interrupted-event-wait", "unknown", "UncategorizedSignal",
                        f"no signal: the user stopped the running process with ^C while it waited for events in "
                        f"{crash.iloc[0]['norm_function']} (no lock wait): no sign of a hang or a crash")
        if len(waiters) >= 2:
            return done("deadlock", "lock-order", "probably not", "Hang",
                        f"no signal; threads {', '.join(map(str, waiters))} wait on locks (a lock cycle is likely)")
        if waiters:
            return done("deadlock", "lock-wait", "probably not", "Hang",
                        f"{out['origin_why']}; thread {waiters[0]} waits on a lock")
        sub = "go-all-goroutines-asleep" if facts.get("go_deadlock") else "hang"
        return done("deadlock", sub, "probably not", "Hang", out["origin_why"])
    if origin == "external" and sig in ("SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL") and not waiters:
        # a fault signal that a process sent (kill -11): no fault happened, and nothing shows a hang either
        return done("unknown", "external-signal", "unknown", "ExternalSignal",
                    f"{sig} sent by another process, not by the kernel for a fault ({origin_why}"
                    + (f"; {facts['si_layout']}" if facts.get("si_layout") else "") + "): no crash class")
    if origin == "external" and len(waiters) >= 2:
        return done("deadlock", "external-signal:lock-wait", "probably not", "ExternalSignal",
                    f"{sig} sent from outside ({origin_why}) while threads {', '.join(map(str, waiters))} wait on locks")
    if origin == "external" and len(crash) and _EVENT_WAIT.match(str(crash.iloc[0]["norm_function"])):
        # the thread sat blocked in the kernel (poll, select, a sleep) when the signal came: it did not abort
        # itself, something outside killed it while it waited — a watchdog's or timeout's kill of a stuck process
        return done("deadlock", "external-signal", "probably not", "ExternalSignal",
                    f"{sig} sent from outside ({origin_why}) while the thread was blocked in "
                    f"{crash.iloc[0]['norm_function']}: a watchdog/timeout killed a waiting process")
    if origin == "external":
        # a signal from outside (or one whose raise() frame the paste does not show) is no evidence of a hang
        return done("unknown", "external-signal", "unknown", "ExternalSignal",
                    f"{sig} sent from outside ({origin_why}): no crash class, and no lock waits showing a hang")

    if sig == "SIGSEGV" or (sig is None and facts.get("si_signo") == 11):
        from .segv import classify_segv

        return classify_segv(facts, crash, pc, done)

    if sig == "SIGABRT" or sig == "SIGIOT":
        assert_fr = _has(crash, _ASSERT_FUNCS)
        own_assert = _own_assert_helper(crash)
        said = facts.get("assert_message") or ""
        if _MALLOC_ASSERT.search(said) or any(map(glibc_malloc_assert, crash.get("function", pd.Series(dtype=object)))):
            # glibc's malloc checks its own invariants with assert(): a failed one means the heap is corrupt
            out["heap_message"] = said or None
            return done("heap-corruption", "malloc-assertion", "exploitable", "HeapError",
                        "an assertion inside glibc's malloc failed (its heap invariants do not hold)"
                        + (f": '{said}'" if said else ""))
        if len(assert_fr) or facts.get("assert_expr") or own_assert:
            text = facts.get("assert_expr") or _string_args(crash, r"assert_fail")
            out["assertion"] = text
            return done("assertion-failure", text or "", "unknown", "AbortSignal",
                        (f"the program's own assertion helper {own_assert} called abort" if own_assert and
                         not len(assert_fr) else glib_assert_words(assert_fr) or "__assert_fail on the stack" if len(assert_fr)
                         else "the assertion message") + (f": `{text}`" if text else ""))
        msg = facts.get("glibc_message") or _string_args(crash, r"^(?:malloc_printerr|__fortify_fail|fortify_fail)$")
        chk = _has(crash, r"^(?:__stack_chk_fail\w*|__fortify_fail\w*|__chk_fail|\w+_chk)$")
        if len(chk) or (msg and ("stack smashing" in msg or "buffer overflow detected" in msg)):
            names = chk["norm_function"].tolist()
            chk_fn = next((n for n in names if n.endswith("_chk") and n != "__chk_fail"), None)
            if chk_fn or (msg and "buffer overflow" in msg) or "__chk_fail" in names:
                sub = f"fortify:{chk_fn}" if chk_fn else "fortify"
                rule = "SafeFunctionCheck"
            else:
                sub, rule = "stack-protector", "StackBufferOverflow"
            return done("stack-buffer-overrun", sub, "exploitable", rule,
                        f"{', '.join(names) or 'glibc'} reported " + (f"'{msg}'" if msg else "a smashed stack"))
        heap_fr = _has(crash, _HEAP_FUNCS.pattern)
        alloc_lib = [m for m in crash["module"].dropna().astype(str) if re.search(r"lib(?:tc|je)malloc", m)] \
            if "module" in crash else []
        # glibc 2.x's malloc_printerr hands __libc_message this format (no other caller uses it): its frame may be cut
        malloc_fmt = any("*** Error in `%s': %s: 0x%s" in str(a) for a in crash["args"].dropna()) if "args" in crash else False
        banner = facts.get("libc_abort") == "heap"        # old glibc's abort banner, no fortify frame (execinfo.py)
        if len(heap_fr) or (msg and _heap_sub(msg)) or alloc_lib or malloc_fmt or banner:
            out["heap_message"] = msg
            sub = _heap_sub(msg) if msg else "message-not-in-transcript"
            where = ", ".join(dict.fromkeys(heap_fr["norm_function"].tolist())) or \
                ("__libc_message with malloc_printerr's format" if malloc_fmt else
                 "old glibc's backtrace and memory map with no fortify frame, which only malloc_printerr prints then"
                 if banner else "glibc")
            return done("heap-corruption", sub, "exploitable", "HeapError",
                        f"abort from the allocator ({where})" + (f": '{msg}'" if msg else
                                                                 "; glibc's message is not in the transcript"))
        cxx = _has(crash, r"(?:terminate|__cxa_throw|__cxa_rethrow|__verbose_terminate_handler|__cxa_call_unexpected|"
                          r"qTerminate|__gxx_personality_v0|_Unwind_Resume)")
        if len(cxx) and not facts.get("exception_type") and unwinder_abort(crash["norm_function"].tolist()):
            return done("abort", "unwinder-abort", "unknown", "AbortSignal", unwinder_why(crash["norm_function"].tolist()))
        if len(cxx) or facts.get("exception_type"):
            et = facts.get("exception_type")
            return done("uncaught-exception", et or "", "unknown", "AbortSignal",
                        ("std::terminate/__cxa_throw on the stack" if len(cxx) else "the runtime's terminate message")
                        + (f"; threw {et}" if et and not et.startswith("(") else f"; {et[1:-1]}" if et else "")
                        + (f" ({facts['exception_what']})" if facts.get("exception_what") else ""))
        if len(_has(crash, _GLIB_FATAL)) or (facts.get("signal") == "SIGTRAP" and _glib_trap(crash)):
            return done("abort", "glib-fatal", "unknown", "AbortSignal",
                        "GLib's fatal log (g_error or a fatal warning) stopped the process")
        if len(_has(crash, r"^(?:rust_begin_unwind|rust_panic\w*|core::panicking::\w+|std::panicking::\w+)$")):
            return done("abort", "rust-panic", "unknown", "AbortSignal",
                        "a Rust panic aborted the process (rust_begin_unwind / core::panicking on the stack)")
        if len(_has(crash, _QT_FATAL)):
            return done("abort", "qt-fatal", "unknown", "AbortSignal", "Qt's qFatal / qt_message_fatal aborted")
        if facts.get("abort_message"):
            return done("abort", "runtime-fatal", "unknown", "AbortSignal", facts["abort_message"])
        return done("abort", "abort-call" if len(_has(crash, r"^abort$")) else "", "unknown", "AbortSignal",
                    "SIGABRT raised by the process with no assert, heap, fortify or C++ runtime frame")

    if sig == "SIGFPE":
        insn = facts.get("instruction") or ""
        soft = _has(crash, r"^__(?:aeabi_[il]div0|divdi3|udivdi3|moddi3|umoddi3|aeabi_[ul]?[il]divmod)$")
        if code is not None and code <= 0 and len(soft):
            # ARM has no divide trap: the EABI helper raises SIGFPE itself (tgkill, si_code SI_TKILL)
            return done("divide-by-zero", "software-helper", "probably not", "FloatingPointException",
                        f"SIGFPE raised by {soft.iloc[0]['norm_function']}, the runtime's division-by-zero handler")
        if code in (1, None) or "div" in insn:
            return done("divide-by-zero", "integer" if code == 1 else "assumed-integer", "probably not",
                        "FloatingPointException", f"SIGFPE si_code={code} (FPE_INTDIV)" if code == 1 else
                        "SIGFPE with no si_code shown: integer division assumed")
        names = {2: "integer-overflow", 3: "float-divide", 4: "float-overflow", 5: "float-underflow",
                 6: "float-inexact", 7: "float-invalid", 8: "subscript-range"}
        return done("divide-by-zero" if code in (2, 3) else "unknown", names.get(code, f"fpe-code-{code}"),
                    "probably not", "FloatingPointException", f"SIGFPE si_code={code}")
    if sig == "SIGILL":
        insn = facts.get("instruction") or ""
        trap = insn.startswith("ud2") or code == 2 and not insn
        if insn.startswith("ud2"):
            return done("illegal-instruction", "trap", "probably not", "DeliberateTrap",
                        "`ud2` at pc: a deliberate trap (__builtin_trap, compiler-inserted check)")
        if top is not None and top["norm_function"] == "??" and not trap:
            return done("illegal-instruction", "garbage-execution", "exploitable", "BadInstruction",
                        "SIGILL in code with no symbol: executing data?")
        return done("illegal-instruction", "illegal-operand" if code == 2 else (f"ill-code-{code}" if code else ""),
                    "exploitable" if insn and not trap else "unknown", "BadInstruction",
                    f"SIGILL si_code={code}" + (f", instruction `{insn}`" if insn else ""))
    if sig == "SIGBUS":
        sub = {1: "misaligned", 2: "truncated-mapping", 3: "hardware-error"}.get(code, "")
        return done("bus-error", sub, "unknown", "AccessViolation",
                    f"SIGBUS si_code={code}" + (" (BUS_ADRERR: the mapped file shrank under the reader)" if code == 2 else ""))
    return done("unknown", (sig or "").lower(), "unknown", "UncategorizedSignal", f"signal {sig} matches no rule")


# glibc: "malloc.c:2379: sysmalloc: Assertion `…' failed." (also arena.c, and the function names alone)
_MALLOC_ASSERT = re.compile(r"\b(?:malloc|arena)\.c:\d+: \w+: Assertion|(?:^|: )(?:sysmalloc|_int_malloc|_int_free|"
                            r"_int_realloc|malloc_consolidate|__libc_malloc|__libc_free|tcache_\w+): Assertion `")
# (Qt's Q_ASSERT / Q_ASSERT_X report through qt_assert / qt_assert_x)
_ASSERT_FUNCS = (r"^(?:_*assert_(?:fail|perror_fail)(?:_base)?|(?:std::)?__glibcxx_assert_fail|qt_assert(?:_x)?|g_assertion_message\w*|"
                 r"(?:std::)?__replacement_assert|__assert_rtn|_wassert|__assert2?)$")
_GLIB_FATAL = r"^(?:g_logv|g_log|g_log_structured\w*|g_log_writer_default|g_error|g_assertion_message\w*|_g_log_abort)$"
_QT_FATAL = r"^(?:qFatal|qt_message_fatal|qAbort|QMessageLogger::fatal|qt_assert\w*)$"
_ABORT_PATH = (r"^(?:rust_begin_unwind|rust_panic\w*|raise|abort|pthread_kill|__pthread_kill_implementation|__pthread_kill_internal|libc_message|"
               r"__libc_message|malloc_printerr|__stack_chk_fail\w*|__fortify_fail\w*|__chk_fail|__assert_fail\w*|"
               r"(?:std::)?__glibcxx_assert_fail|__assert_rtn|"
               r"assert_fail\w*|std::terminate|__cxa_throw|qTerminate|qFatal|qt_message_fatal|qAbort|"
               r"QMessageLogger::fatal|qt_assert\w*|g_logv|g_log|_g_log_abort|g_error|g_log_structured\w*)$")
DEEP_STACK = 1000   # a thread this many frames deep is a runaway recursion


def _own_assert_helper(crash: pd.DataFrame) -> str | None:
    """A program's own assertion helper (``Assert_failure``, ``my_assert``) right under abort()."""
    seen_abort = False
    srcs = crash["source_file"].tolist() if "source_file" in crash else [None] * len(crash)
    for fn, own, src in zip(crash["norm_function"].tolist(), crash["is_own"].tolist(), srcs):
        if isinstance(fn, str) and re.match(r"^(?:raise|abort|pthread_kill)$", fn):
            seen_abort = True
            continue
        if seen_abort and isinstance(fn, str) and re.match(r"^(?:qFatal|qt_message_fatal|QMessageLogger::fatal|g_logv?|g_error)$", fn):
            return None          # Qt's/GLib's fatal-log function aborted: the helper called it, not abort()
        if seen_abort and library_assert_exit(fn):
            return fn            # a library's assertion macros' one exit (libasserts.py: libzmq's zmq_abort)
        if seen_abort and own:
            # by its name (Assert_failure) or by the file it lives in (PostgreSQL's assert.c)
            named = isinstance(fn, str) and re.search(r"assert", fn, re.I)
            filed = isinstance(src, str) and re.search(r"assert\w*\.(?:c|cc|cpp|cxx)$", src.rsplit("/", 1)[-1], re.I)
            return fn if named or filed else None
    return None


def _heap_sub(msg: str | None) -> str | None:
    if not msg:
        return None
    for pat, name in _HEAP_SUBCLASS:
        if re.search(pat, msg):
            return name
    return None


#: What an analyst does next, per class (shown in the triage notebook).
NEXT_STEPS = {
    "null-deref-read": "Find where the pointer in the top own frame can be NULL (failed lookup, unchecked return); add the check or fix the producer.",
    "null-deref-write": "As for a NULL read, but a store: check the allocation/lookup that should have filled the pointer.",
    "wild-pointer": "Garbage or freed pointer: re-run under ASan/valgrind; for non-canonical addresses look for an overflow that overwrote a pointer.",
    "bad-pc": "A call through a NULL/corrupt function pointer or a smashed return address: inspect the caller's table/vtable; treat as security-relevant.",
    "stack-overflow": "Runaway recursion: find the missing base case or cycle check in the repeated frame; consider an explicit stack.",
    "assertion-failure": "Read the assertion text; find who produced the violating value (often a caller or config), not the asserting function.",
    "heap-corruption": "The stack shows where glibc noticed, not the bug: reproduce under ASan or MALLOC_CHECK_=3 to catch the first bad write/free.",
    "stack-buffer-overrun": "A stack buffer overflowed in the top own frame: check copies into fixed-size locals; treat as security-relevant.",
    "uncaught-exception": "Catch the exception at the right layer or fix its cause; the throwing frame is the top own frame.",
    "divide-by-zero": "Guard the divisor (empty batch, zero count) in the top own frame.",
    "illegal-instruction": "A deliberate trap (ud2/__builtin_trap, UBSan) marks an impossible state; garbage execution means a corrupt jump target.",
    "bus-error": "A mapped file shrank or an access was misaligned: check concurrent truncation of mmapped files, or alignment.",
    "deadlock": "Compare the lock order of the blocked threads (lock-order) or find what the process waited on when it was killed.",
    "abort": "The program called abort() itself: read its last log lines for the fatal condition.",
    "unknown": "Not enough in the transcript: re-run gdb with `p $_siginfo`, `x/i $pc`, `info registers` and `thread apply all bt full`.",
}
