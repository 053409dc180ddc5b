"""Shapes held-out batch 22 found misread: a SIGABRT whose raise() frame the paste does not show is no hang by itself
(SI_TKILL is the process's own tgkill; Zig's panic handler's last words), an assertion helper that calls qFatal, the
one thread in abort() of a core whose debugger shows SIGSTOP everywhere, a NULL argument the stopped line stores
through (each test: our own small snippet, not a paste)."""
from forensics.crashes.load import load_text


def _crash(text):
    return load_text(text).crash


# --- a SIGABRT with no raise frame: sent from outside is no evidence of a hang ---------------------------------
ABRT_NO_RAISE = ("Program terminated with signal SIGABRT, Aborted.\n"
                 "#0  0x00007f0000001000 in compute (n=3) at work.c:10\n"
                 "#1  0x0000555500001000 in main () at main.c:5\n")


def test_sigabrt_without_raise_frame_or_lock_waits_is_unknown_not_deadlock():
    r = _crash(ABRT_NO_RAISE)
    assert r["origin"] == "external"
    assert (r["class"], r["subclass"]) == ("unknown", "external-signal")


def test_sigabrt_from_outside_while_blocked_in_poll_stays_a_watchdog_kill():
    r = _crash(ABRT_NO_RAISE.replace("compute (n=3) at work.c:10", "__GI___poll (fds=0x7ffd0, nfds=1, timeout=1000) "
                                     "at ../sysdeps/unix/sysv/linux/poll.c:29"))
    assert (r["class"], r["subclass"]) == ("deadlock", "external-signal")


def test_si_tkill_without_a_sender_pid_is_the_process_signalling_itself():
    text = ABRT_NO_RAISE + ("(gdb) p $_siginfo\n$1 = {si_signo = 6, si_errno = 0, si_code = -6, _sifields = {}}\n")
    r = _crash(text)
    assert r["origin"] == "self" and r["class"] == "abort"


# --- Zig's panic handler ---------------------------------------------------------------------------------------
ZIG_PANIC = ("Process 900 launched: '/tmp/gen' (aarch64)\n"
             "thread 900 panic: reached unreachable code\n"
             "Panicked during a panic. Aborting.\n"
             "Process 900 stopped\n"
             "* thread #1, name = 'gen', stop reason = signal SIGABRT\n"
             "    frame #0: 0x00000000004213a8 gen`os.linux.arm64.syscall4(number=rt_sigprocmask, arg1=2) at arm64.zig:55:5\n")


def test_zig_panic_then_sigabrt_is_the_runtimes_abort():
    r = _crash(ZIG_PANIC)
    assert r["class"] == "abort" and "Zig panic" in r["reason"]


# --- an own assertion helper that reports through Qt's qFatal --------------------------------------------------
QT_ASSERT = ("Program terminated with signal SIGABRT, Aborted.\n"
             "#0  0x00007f0000001000 in raise () from /lib64/libc.so.6\n"
             "#1  0x00007f0000002000 in abort () from /lib64/libc.so.6\n"
             "#2  0x00007f0000003000 in QMessageLogger::fatal(char const*, ...) const () from /lib64/libQt5Core.so.5\n"
             "#3  0x0000555500001000 in Editor::Assert (c=0x5555 \"x\", line=5) at editor.cpp:20\n"
             "#4  0x0000555500002000 in main () at main.cpp:5\n")


def test_assert_helper_that_calls_qfatal_is_qt_fatal_abort():
    r = _crash(QT_ASSERT)
    assert (r["class"], r["subclass"]) == ("abort", "qt-fatal")


def test_assert_helper_right_under_abort_stays_an_assertion():
    r = _crash(QT_ASSERT.replace("#2  0x00007f0000003000 in QMessageLogger::fatal(char const*, ...) const () from "
                                 "/lib64/libQt5Core.so.5\n", "").replace("#3 ", "#2 ").replace("#4 ", "#3 "))
    assert r["class"] == "assertion-failure"


# --- a macOS core in lldb: SIGSTOP on every thread, the aborting one is the crash -------------------------------
LLDB_CORE = ("(lldb) bt all\n"
             "* thread #1: tid = 0x0000, 0x00007fff6a3c1d36 libsystem_kernel.dylib`__psynch_mutexwait + 10, stop reason = signal SIGSTOP\n"
             "  * frame #0: 0x00007fff6a3c1d36 libsystem_kernel.dylib`__psynch_mutexwait + 10\n"
             "    frame #1: 0x00007fff6a4f2c5d libsystem_pthread.dylib`_pthread_mutex_lock + 386\n"
             "    frame #2: 0x000000010a1c2e4d app`Server::Run() + 1197 at Server.cpp:109\n"
             "\n"
             "  thread #2: tid = 0x0001, 0x00007fff6a3c2e0e libsystem_kernel.dylib`__pthread_kill + 10, stop reason = signal SIGSTOP\n"
             "    frame #0: 0x00007fff6a3c2e0e libsystem_kernel.dylib`__pthread_kill + 10\n"
             "    frame #1: 0x00007fff6a4f15bf libsystem_pthread.dylib`pthread_kill + 115\n"
             "    frame #2: 0x00007fff6a2a3a1c libsystem_c.dylib`abort + 120\n"
             "    frame #3: 0x000000010a1d1c82 app`Worker::start(this=0x000000010a31e6a0) + 146 at Worker.cpp:108\n")


def test_lldb_core_with_sigstop_everywhere_takes_the_thread_in_abort():
    r = _crash(LLDB_CORE)
    assert r["crash_thread"] == 2 and r["class"] == "abort"


# --- no signal line: the NULL argument the stopped line stores through ------------------------------------------
GDB_STOP_WRITE = ("0x0000000000700684 in release (n=1, keep=0x0, task=0x0) at sched.c:1541\n"
                  "1541\t            task->cap = tmpcap;\n"
                  "(gdb) bt\n"
                  "#0  0x0000000000700684 in release (n=1, keep=0x0, task=0x0)\n"
                  "    at sched.c:1541\n"
                  "#1  0x0000000000406a67 in resume ()\n")


def test_no_signal_null_argument_the_stopped_line_stores_through_is_a_write():
    r = _crash(GDB_STOP_WRITE)
    assert r["class"] == "null-deref-write" and "task=0x0" in r["reason"]


def test_no_signal_null_argument_the_stopped_line_reads_through_is_a_read():
    r = _crash(GDB_STOP_WRITE.replace("task->cap = tmpcap;", "tmpcap = task->cap;"))
    assert r["class"] == "null-deref-read" and "task=0x0" in r["reason"]


# --- LLDB's "main [inlined] X": the frame is X's ----------------------------------------------------------------
LLDB_INLINED = ("* thread #1, name = 'prog', stop reason = signal SIGBUS\n"
                "  * frame #0: 0x0000000000209ab3 prog`main [inlined] Tree_NEXT(elm=0x5a5a5a5a5a5a5a5a) at prog.c:216:1\n"
                "    frame #1: 0x0000000000209a99 prog`main(argc=1, argv=0x00007fffffb60618) at prog.c:2358\n")


def test_lldb_inlined_frame_names_the_inlined_function():
    r = _crash(LLDB_INLINED)
    assert r["top_own_frame"] == "Tree_NEXT"


# --- OCaml native code: the runtime's caml_* and GC frames are library code --------------------------------------
OCAML_GC = ("Program received signal SIGSEGV, Segmentation fault.\n"
            "#0  0x000000000045a8b5 in mark_slice ()\n"
            "#1  0x000000000045b3e1 in caml_finish_major_cycle ()\n"
            "#2  0x000000000045f2c3 in caml_make_vect ()\n"
            "#3  0x00000000004076c4 in camlMain__loop_1061 () at main.ml:17\n"
            "#4  0x00000000004076e5 in camlMain__entry () at main.ml:20\n")


def test_ocaml_runtime_frames_are_not_the_programs_own():
    assert _crash(OCAML_GC)["top_own_frame"] == "camlMain__loop_1061"


def test_c_functions_named_like_the_gc_stay_own_without_ocaml_code():
    assert _crash(OCAML_GC.replace("camlMain__", "main_"))["top_own_frame"] == "mark_slice"


# --- Swift's demangled closure names keep their types ----------------------------------------------------------
SWIFT_CLOSURE = ("* thread #1, queue = 'com.apple.main-thread', stop reason = EXC_BAD_INSTRUCTION (code=EXC_I386_INVOP, subcode=0x0)\n"
                 "  * frame #0: 0x000000010f1a2b4c CoreFoundation`___forwarding___ + 1347\n"
                 "    frame #1: 0x00000001311b3de6 App`closure #1 (Swift.Int) -> () in App.Sweeper.sweep() -> () + 86\n"
                 "    frame #2: 0x00000001311b3ed6 App`App.Sweeper.run() -> () + 22\n")


def test_swift_closure_frame_is_named_whole():
    assert _crash(SWIFT_CLOSURE)["top_own_frame"] == "closure #1 (Swift.Int) -> () in App.Sweeper.sweep() -> ()"


# --- Zig's segfault handler report (zigtrace.py) -----------------------------------------------------------------
ZIG_SEGV = ("Segmentation fault at address 0x11f7c20\n"
            "/usr/lib/zig/compiler_rt/memcpy.zig:19:21: 0x11f4a3b in memcpy (compiler_rt)\n"
            "            d[0] = s[0];\n"
            "                    ^\n"
            "/home/u/app/src/parse.zig:530:25: 0x106d23b in parseAtom (app)\n"
            "                    atom.tok = tok;\n"
            "                        ^\n"
            "/home/u/app/src/main.zig:25:34: 0x10744a1 in main (app)\n")


def test_zig_segfault_trace_loads_with_its_address_and_own_frame():
    r = _crash(ZIG_SEGV)
    assert (r["signal"], r["class"], r["top_own_frame"]) == ("SIGSEGV", "wild-pointer", "parseAtom")


# --- Nim's traceback (nimtrace.py) ---------------------------------------------------------------------------------
NIM_SEGV = ("$ ./app\n"
            "Traceback (most recent call last)\n"
            "app.nim(4)               app\n"
            "loader.nim(142)          parseNode\n"
            "system.nim(1529)         add\n"
            "SIGSEGV: Illegal storage access. (Attempt to read from nil?)\n")


def test_nim_traceback_most_recent_last_with_system_frames_as_runtime():
    r = _crash(NIM_SEGV)
    assert r["signal"] == "SIGSEGV" and r["top_own_frame"] == "parseNode"
    assert r["class"] == "unknown"            # Nim's "(Attempt to read from nil?)" is a guess, no address is shown


# --- Delve's goroutines list (delvelist.py): goroutines parked on sync.Mutex are lock waits -----------------------
DELVE_LIST = ("(dlv) goroutines\n"
              "  Goroutine 1 - User: /usr/local/go/src/runtime/sema.go:77 sync.runtime_SemacquireMutex (0x4476e5)\n"
              "  Goroutine 7 - User: /usr/local/go/src/runtime/sema.go:77 sync.runtime_SemacquireMutex (0x4476e5)\n"
              "  Goroutine 9 - User: /src/app/worker.go:40 main.work (0x4a1b2c)\n")


def test_delve_goroutines_blocked_on_mutexes_are_a_deadlock():
    r = _crash(DELVE_LIST)
    assert r["class"] == "deadlock" and "wait on locks" in r["reason"]


def test_delve_one_goroutine_on_a_mutex_and_no_signal_is_no_deadlock_by_two_waiters():
    r = _crash(DELVE_LIST.replace("Goroutine 7 - User: /usr/local/go/src/runtime/sema.go:77 sync.runtime_SemacquireMutex",
                                  "Goroutine 7 - User: /src/app/main.go:9 main.main"))
    assert r["subclass"] != "lock-order"


# --- macOS .ips JSON report (ipsreport.py) ---------------------------------------------------------------------
IPS_MALLOC = ('  "exception" : {"codes":"0x1, 0x18753e9f8","rawCodes":[1,6565390840],"type":"EXC_BREAKPOINT","signal":"SIGTRAP"},\n'
              '  "asi" : {"libsystem_malloc.dylib":["BUG IN CLIENT OF LIBMALLOC: memory corruption of free block"]},\n'
              '  "faultingThread" : 4,\n')


def test_ips_report_with_libmallocs_verdict_is_heap_corruption():
    r = _crash(IPS_MALLOC)
    assert r["class"] == "heap-corruption" and "memory corruption of free block" in r["reason"]


def test_ips_report_without_a_verdict_gives_its_signal():
    r = _crash(IPS_MALLOC.replace("BUG IN CLIENT OF LIBMALLOC: memory corruption of free block", "something else"))
    assert r["signal"] == "SIGTRAP"


# --- breakpad frames pasted without the crash reason or thread header --------------------------------------------
MD_FRAMES = (" 0  libc.so.6 + 0xa06e6\n"
             "     rip = 0x00007907faaa06e7\n"
             "    Found by: given as instruction pointer in context\n"
             " 1  app-bin + 0x391b1d8\n"
             "     rip = 0x00005fc9549e01d9\n"
             "    Found by: previous frame's frame pointer\n")


def test_breakpad_frames_alone_load_as_unknown():
    r = _crash(MD_FRAMES)
    assert r["class"] == "unknown" and r["n_frames"] >= 2
