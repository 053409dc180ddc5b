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
             "#0  __GI_raise (sig=sig@entry=6) at ../sysdeps/unix/sysv/linux/raise.c:50\n"
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
