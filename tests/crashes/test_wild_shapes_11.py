"""Shapes held-out batches 23 and 24 found misread: jemalloc linked into a program, libzmq's assertion exit, the
kernel's int3 trap line in GLib, a NULL pthread_t with no signal line, and the crash reports of GraalVM native
images, Julia, macOS's execinfo backtrace, gtk-gnutella (each test: our own small snippet with our own values, not
a paste)."""
from forensics.crashes.load import load_text


def _crash(text):
    return load_text(text).crash


# --- jemalloc linked into the program (je_ private namespace) ----------------------------------------------------
LLDB_JEMALLOC = ("* thread #1, queue = 'com.apple.main-thread', stop reason = EXC_BAD_ACCESS (code=1, address=0x0)\n"
                 "  * frame #0: 0x0000000100a01c40 shopd`je_arena_dalloc_bin + 52\n"
                 "    frame #1: 0x0000000100a0e010 shopd`je_free + 208\n"
                 "    frame #2: 0x0000000100012345 shopd`shopd::cart::Cart::drop_items::h0123456789abcdef + 77\n"
                 "    frame #3: 0x0000000100013000 shopd`shopd::main::hfedcba9876543210 + 120\n")


def test_fault_inside_linked_jemalloc_is_heap_corruption_and_its_frames_are_not_own():
    r = _crash(LLDB_JEMALLOC)
    assert r["class"] == "heap-corruption"
    assert r["subclass"] == "segv-in-allocator:je_arena_dalloc_bin"
    assert r["top_own_frame"] == "shopd::cart::Cart::drop_items"
    # a program's own function that merely starts with je_ stays its own
    r = _crash(LLDB_JEMALLOC.replace("je_arena_dalloc_bin", "je_render_page").replace("je_free", "je_layout"))
    assert r["class"] == "null-deref-read"
    assert r["top_own_frame"] == "je_render_page"


# --- libzmq's zmq_assert / errno_assert end in zmq::zmq_abort ----------------------------------------------------
ZMQ_ABORT = ("Program terminated with signal SIGABRT, Aborted.\n"
             "#0  0x00007f3a10a2a0c1 in __GI_raise (sig=sig@entry=6) at ../sysdeps/unix/sysv/linux/raise.c:50\n"
             "#1  0x00007f3a10a2b8f1 in __GI_abort () at abort.c:79\n"
             "#2  0x00007f3a1133c0de in zmq::zmq_abort (errmsg_=<optimized out>) at src/err.cpp:88\n"
             "#3  0x00007f3a11361a20 in zmq::mailbox_t::recv (this=0x55d0c0a01230, cmd_=0x7ffd2a3b1c00, timeout_=0)"
             " at src/mailbox.cpp:99\n"
             "#4  0x000055d0bf001234 in relay_loop (ctx=0x55d0c0a00010) at relay.c:41\n")


def test_zmq_abort_under_abort_is_a_failed_libzmq_assertion():
    r = _crash(ZMQ_ABORT)
    assert r["class"] == "assertion-failure"
    # abort() from another libzmq function stays a plain abort
    r = _crash(ZMQ_ABORT.replace("zmq::zmq_abort (errmsg_=<optimized out>) at src/err.cpp:88",
                                 "zmq::ctx_t::shutdown (this=0x55d0c0a00010) at src/ctx.cpp:200"))
    assert r["class"] == "abort"


# --- the kernel's "traps: prog[pid] trap int3" line inside libglib ------------------------------------------------
KERNEL_INT3 = ("[ 4242.000001] traps: trayd[2718] trap int3 ip:7f00aa0b14c5 sp:7ffc00112230 error:0 "
               "in libglib-2.0.so.0.7400.0[7f00aa06a000+90000]\n")


def test_kernel_int3_trap_in_libglib_is_glibs_fatal_log():
    r = _crash(KERNEL_INT3)
    assert r["signal"] == "SIGTRAP"
    assert (r["class"], r["subclass"]) == ("abort", "glib-fatal")
    # an int3 trap in another library is no GLib fatal log
    r = _crash(KERNEL_INT3.replace("libglib-2.0.so.0.7400.0", "libtray.so.1"))
    assert r["signal"] == "SIGTRAP"
    assert r["class"] != "abort"


# --- no signal line, frame 0 a pthread function handed a NULL pthread_t (printed in decimal) ---------------------
NULL_PTHREAD_NO_SIGNAL = ("Thread 1 (Thread 0x7f1122334400 (LWP 3131)):\n"
                          "#0  pthread_join (threadid=0, thread_return=0x7ffe55667700) at pthread_join.c:24\n"
                          "#1  0x0000000000401a2b in stop_workers (n=4) at pool.c:88\n"
                          "#2  0x0000000000401100 in main (argc=1, argv=0x7ffe55667788) at main.c:12\n")


def test_no_signal_and_pthread_handed_a_decimal_zero_handle_is_null_deref():
    r = _crash(NULL_PTHREAD_NO_SIGNAL)
    assert r["class"] == "null-deref-read"
    assert r["top_own_frame"] == "stop_workers"
    # a nonzero handle decides nothing
    r = _crash(NULL_PTHREAD_NO_SIGNAL.replace("threadid=0,", "threadid=139700000000000,"))
    assert r["class"] == "unknown"


# --- a GraalVM native image's SubstrateSegfaultHandler -----------------------------------------------------------
GRAALVM = ("14:02:11.500 worker-3 WARN  native helper died\n"
           "[ [ SegfaultHandler caught a segfault in thread 0x00007f5a2c001000 ] ]\n"
           "siginfo: si_signo: 11, si_code: 1, si_addr: 0x0000000000000018\n"
           "\n"
           "Stacktrace for the failing thread 0x00007f5a2c001000:\n"
           "  SP 0x00007ffd4b3c2f10 IP 0x0000000000a1b2c4 size=64   [image code] org.example.relay.Codec.decode(Codec.java:88)\n"
           "  SP 0x00007ffd4b3c2f50 IP 0x0000000000a1c000 size=32   [image code] java.lang.Thread.run(Thread.java:833)\n")


def test_graalvm_segfault_handler_report_gives_its_siginfo_and_frames():
    r = _crash(GRAALVM)
    assert (r["signal"], r["si_code"], r["fault_address"]) == ("SIGSEGV", 1, 0x18)
    assert r["class"] == "null-deref-read"
    assert r["top_own_frame"] == "org.example.relay.Codec.decode"
    # an older image's banner names the signal only (10: SIGBUS where a segfault handler gets it, macOS/BSD)
    r = _crash("[ [ SubstrateSegfaultHandler caught signal 10 ] ]\n\n" + GRAALVM.split("Stacktrace", 1)[1].split("\n", 1)[1])
    assert (r["signal"], r["fault_address"]) == ("SIGBUS", None)


# --- Julia's "signal (11.1): Segmentation fault" report ----------------------------------------------------------
JULIA = ("[31337] signal (11.1): Segmentation fault\n"
         "in expression starting at /home/me/proj/test/run.jl:4\n"
         "solve_step at /home/me/proj/src/Solver.jl:120\n"
         "#solve#3 at /home/me/proj/src/Solver.jl:77 [inlined]\n"
         "unknown function (ip: 0x7f00deadb000)\n"
         "ijl_apply_generic at /buildworker/worker/package_linux64/build/src/gf.c:2400\n"
         "eval_body at /cache/build/julialang/julia-release-1-dot-9/src/interpreter.c:600\n"
         "include at ./client.jl:478\n"
         "Allocations: 1000 (Pool: 990; Big: 10); GC: 0\n")


def test_julia_signal_report_reads_signal_code_and_own_frame():
    r = _crash(JULIA)
    assert (r["signal"], r["si_code"]) == ("SIGSEGV", 1)
    assert r["class"] == "unknown"          # Julia prints no fault address
    assert r["top_own_frame"] == "solve_step"


# --- macOS backtrace_symbols() rows printed by a program's own handler ----------------------------------------------
MAC_BT = ("$ ./tool --scan\n"
          "Fatal: signal SIGBUS\n"
          "0   tool                                0x0000000100003f10 on_fatal_signal + 60\n"
          "1   libsystem_platform.dylib            0x00007fff6f1a2b5d _sigtramp + 29\n"
          "2   tool                                0x0000000100002a00 scan_block + 112\n"
          "3   tool                                0x0000000100001e00 main + 48\n"
          "4   libdyld.dylib                       0x00007fff6efb3cc9 start + 1\n")


def test_mac_backtrace_symbols_rows_load_with_the_handlers_signal():
    r = _crash(MAC_BT)
    assert r["signal"] == "SIGBUS"
    t = load_text(MAC_BT).frames
    assert t["function"].tolist()[:3] == ["on_fatal_signal", "_sigtramp", "scan_block"]
    # no line naming the signal: none is made up
    r = _crash(MAC_BT.replace("Fatal: signal SIGBUS\n", ""))
    assert r["signal"] is None


# --- gtk-gnutella's crash log -------------------------------------------------------------------------------------
GTKG = ("23-04-05 06:07:08.900 (WARNING): got SIGSEGV for VA=0x7e0000001230 {PA=0x7e0000001000+560} "
        "(address not mapped to object) at PC=0x55aa00012345 (route_message) from /usr/bin/gtk-gnutella\n"
        '23-04-05 06:07:08.900 (DEBUG): crash_mode(): initial external call, level=basic from thread "main" (#0)\n'
        "23-04-05 06:07:08.901 CRASH (pid=4321) for gtk-gnutella\n"
        "23-04-05 06:07:08.901 CRASH (pid=4321) by SIGSEGV after 12s -- stack was:\n"
        "        crash_handler+120\n"
        "        signal_trampoline+40\n"
        "        <__restore_rt> : libc.so.6\n")


def test_gtk_gnutella_crash_log_gives_fault_pc_and_thread():
    r = _crash(GTKG)
    assert (r["signal"], r["si_code"], r["fault_address"]) == ("SIGSEGV", 1, 0x7e0000001230)
    assert r["class"] == "wild-pointer"
    assert r["crash_thread"] == 1          # its thread #0, counted from 1 as gdb does
    assert r["top_own_frame"] == "route_message"
    # a SIGILL names no VA, only the pc (inside the program's text: no "from")
    r = _crash("12-03-04 05:06:07.800 (CRITICAL): got SIGILL (illegal opcode) at PC=0x5500aa001234 (tree_walk)\n"
               "12-03-04 05:06:07.801 CRASH (pid=77) by SIGILL after 1s -- stack was:\n        crash_handler+10\n")
    assert (r["signal"], r["class"], r["top_own_frame"]) == ("SIGILL", "illegal-instruction", "tree_walk")


# --- frame #0 under the stop line: an anonymous-namespace C++ name; a stop line wrapped after its "at" -------------
STOP_ANON = ("\n"
             "Program received signal SIGSEGV, Segmentation fault.\n"
             "0xb6a01234 in (anonymous namespace)::Splice(v8::Arguments const&) ()\n")
STOP_WRAPPED = ("Program received signal SIGSEGV, Segmentation fault.\n"
                "[Switching to Thread 0x7fffe1000700 (LWP 4711)]\n"
                "ring_push (ring=0x7fffd8001000, item=0x7fffd8002340) at\n"
                "/build/ringlib/src/ring.c:77\n"
                "77\t  ring->slots[ring->head] = item;\n")


def test_stop_line_frames_in_an_anonymous_namespace_and_wrapped_after_at_are_frame_zero():
    r = _crash(STOP_ANON)
    assert r["top_own_frame"] == "{anon}::Splice"
    c = load_text(STOP_WRAPPED)
    top = c.crash_stack().iloc[0]
    assert (top["function"], top["source_file"], top["line"]) == ("ring_push", "/build/ringlib/src/ring.c", 77)
    assert c.crash["top_own_frame"] == "ring_push"


# --- systemd-coredump's "n/a (n/a + 0x0)": a pc in no module is no one's own code ---------------------------------
COREDUMP_UNMAPPED = ("           Stack trace of thread 5150:\n"
                     "           #0  0x00000000a1b2c3d4 n/a (n/a + 0x0)\n"
                     "           #1  0x00007f11223344e0 widget_apply (libpanelkit.so + 0x344e0)\n"
                     "           #2  0x00007f1122334a10 widget_load (libpanelkit.so + 0x34a10)\n"
                     "           #3  0x000055d0aa001234 main (panelkit + 0x1234)\n")


def test_coredump_frame_in_no_module_is_not_the_top_own_frame():
    r = _crash(COREDUMP_UNMAPPED)
    assert r["top_own_frame"] == "widget_apply"
    # the program's own unsymbolised code ("n/a (prog + 0xoff)") stays its own
    r = _crash(COREDUMP_UNMAPPED.replace("n/a (n/a + 0x0)", "n/a (panelkit + 0x2c3d4)"))
    assert r["top_own_frame"] not in (None, "widget_apply")
