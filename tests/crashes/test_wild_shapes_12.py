"""Shapes held-out batches 25 and 26 found misread: a crash handler under systemd-coredump (its trampoline unnamed),
glibc's malloc assertion under its own names, GLib's g_assert, a Go signal header that prints no fault address, a NULL
argument of a thread parked in a wait, Qt's sources in a distribution's build tree, Android's logcat columns and
rsyslog's escaped newlines (each test: our own small snippet with our own values, not a paste)."""
from forensics.crashes.load import load_text


def _crash(text):
    return load_text(text).crash


# --- systemd-coredump: a handler re-aborting above glibc's unnamed signal trampoline ---------------------------------
def _journal(below):
    return ("Mar 03 10:00:00 box systemd-coredump[777]: Process 4242 (tiler) of user 1000 dumped core.\n"
            "                                           \n"
            "                                           Stack trace of thread 4242:\n"
            "                                           #0  0x00007f1000091a3c n/a (libc.so.6 + 0x91a3c)\n"
            "                                           #1  0x00007f100003e5b0 raise (libc.so.6 + 0x3e5b0)\n"
            "                                           #2  0x00007f10000254c0 abort (libc.so.6 + 0x254c0)\n"
            "                                           #3  0x000055c0aa012340 _ZN5tiler7onFatalEi (tiler + 0x12340)\n"
            "                                           #4  0x00007f100003e650 n/a (libc.so.6 + 0x3e650)\n"
            + below)


def test_coredump_handler_above_an_unnamed_libc_frame_over_other_code_is_no_abort():
    # the frame under the handler's libc caller is another object's: that libc frame is the signal trampoline (elfutils
    # names only exported symbols of a stripped libc; __restore_rt is local), so the abort is the handler's, not the crash
    r = _crash(_journal("                                           #5  0x000055c0aa013000 _ZN5tiler4drawEv (tiler + 0x13000)\n"
                        "                                           #6  0x000055c0aa014000 main (tiler + 0x14000)\n"))
    assert r["class"] == "unknown"
    assert "crash handler" in r["reason"]
    # an unnamed libc function calling the program's code from libc (start_thread, __libc_start_call_main) stays a call
    r = _crash(_journal("                                           #5  0x00007f100002a1c0 __libc_start_main (libc.so.6 + 0x2a1c0)\n"
                        "                                           #6  0x000055c0aa010100 _start (tiler + 0x10100)\n"))
    assert r["class"] == "abort"


# --- glibc's malloc assertion: __malloc_assert (2.26-2.36), not a program's own assertion helper --------------------
MALLOC_ASSERT = ("Program terminated with signal SIGABRT, Aborted.\n"
                 "#0  0x00007f00c0a3a1b8 in __GI_raise (sig=sig@entry=6) at ../sysdeps/unix/sysv/linux/raise.c:51\n"
                 "#1  0x00007f00c0a3b2c1 in __GI_abort () at abort.c:79\n"
                 "#2  0x00007f00c0a81c0e in __malloc_assert (assertion=assertion@entry=0x7f00c0b1e000 \"chunk_ok\", "
                 "file=file@entry=0x7f00c0b1a111 \"malloc.c\", line=line@entry=4101, function=function@entry=0x7f00c0b1e222 "
                 "<__func__.1> \"_int_malloc\") at malloc.c:298\n"
                 "#3  0x00007f00c0a84d10 in _int_malloc (av=av@entry=0x7f00c0d00c40 <main_arena>, bytes=bytes@entry=40) at malloc.c:4101\n"
                 "#4  0x00007f00c0a86001 in __GI___libc_malloc (bytes=40) at malloc.c:3050\n"
                 "#5  0x000055e0a0001f00 in make_node (key=0x55e0a2000010 \"k\") at tree.c:17\n"
                 "#6  0x000055e0a0002000 in main () at main.c:9\n")


def test_glibc_malloc_assert_is_heap_corruption_and_not_own():
    r = _crash(MALLOC_ASSERT)
    assert r["class"] == "heap-corruption"
    assert r["top_own_frame"] == "make_node"
    # a program's own malloc_assert (asserting that malloc returned memory) stays its assertion
    lines = MALLOC_ASSERT.split("\n")
    own = "\n".join(lines[:3] + ["#2  0x000055e0a0001e00 in malloc_assert (size=40) at util.c:12"] + lines[6:])
    r = _crash(own)
    assert r["class"] == "assertion-failure"


# --- GLib's g_assert: g_assertion_message_expr is its failure path ------------------------------------------------
GLIB_ASSERT = ("Program received signal SIGABRT, Aborted.\n"
               "#0  0x00007f2200a9c1ab in pthread_kill () from /usr/lib/libc.so.6\n"
               "#1  0x00007f2200a44aa1 in raise () from /usr/lib/libc.so.6\n"
               "#2  0x00007f2200a2c4b2 in abort () from /usr/lib/libc.so.6\n"
               "#3  0x00007f2200c1e0aa in ?? () from /usr/lib/libglib-2.0.so.0\n"
               "#4  0x00007f2200cab00b in g_assertion_message_expr () from /usr/lib/libglib-2.0.so.0\n"
               "#5  0x000056100a0012ab in board_flip (b=0x56100b000100) at board.c:88\n"
               "#6  0x000056100a002000 in main () at main.c:5\n")


def test_glib_assertion_message_is_an_assertion_failure():
    r = _crash(GLIB_ASSERT)
    assert r["class"] == "assertion-failure"
    assert r["top_own_frame"] == "board_flip"
    r = _crash(GLIB_ASSERT.replace("g_assertion_message_expr", "g_log"))
    assert r["class"] == "abort"


# --- Go's signal header without addr= (runtimes before it printed one): no fault address is made up ------------------
GO_NO_ADDR = ("SIGSEGV: segmentation violation\n"
              "PC=0x7f5500a01234 m=3 sigcode=1\n"
              "signal arrived during cgo execution\n"
              "\n"
              "goroutine 9 [syscall]:\n"
              "runtime.cgocall(0x4a1b20, 0xc000051f28)\n"
              "\t/usr/lib/go/src/runtime/cgocall.go:157 +0x4b fp=0xc000051ef0 sp=0xc000051eb8 pc=0x404e2b\n"
              "example.org/pix/raster._Cfunc_blit(0x7f55000a0000)\n"
              "\t_cgo_gotypes.go:61 +0x45 fp=0xc000051f28 sp=0xc000051ef0 pc=0x4a0f05\n"
              "example.org/pix/raster.Blit(...)\n"
              "\t/src/raster/blit.go:12\n"
              "main.main()\n"
              "\t/src/cmd/pix/main.go:20 +0x25 fp=0xc000051f80 sp=0xc000051f28 pc=0x4a1025\n")


def test_go_signal_header_without_addr_gives_no_fault_address():
    r = _crash(GO_NO_ADDR)
    assert r["class"] == "unknown"
    # with the address printed (newer runtimes) it decides
    r = _crash(GO_NO_ADDR.replace("sigcode=1\n", "sigcode=1 addr=0x0\n"))
    assert r["class"] == "null-deref-read"


# --- no signal line: a NULL argument of a thread parked in a wait is no fault -------------------------------------
PARKED = ("Thread 1 (Thread 0x7f10aa001740 (LWP 3001)):\n"
          "#0  0x00007f10ab0a11de in __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393,"
          " expected=3002, futex_word=0x7f10a9fff910) at ./nptl/futex-internal.c:57\n"
          "#1  0x00007f10ab0a6624 in __pthread_clockjoin_ex (threadid=139709, thread_return=0x0, clockid=0,"
          " abstime=0x0, block=<optimized out>) at ./nptl/pthread_join_common.c:105\n"
          "#2  0x000055d0c0001234 in pool_stop (p=0x55d0c1000010) at pool.c:44\n"
          "#3  0x000055d0c0002000 in main () at main.c:30\n")


def test_null_argument_of_a_waiting_thread_is_no_null_deref():
    r = _crash(PARKED)
    assert r["class"] == "unknown"
    # frame 0 a join (old glibc blocks inside pthread_join itself): its NULL thread_return is no fault either, but a
    # NULL pthread_t handed to it is (the handle is read before any wait: test_wild_shapes_11)
    join = "\n".join(PARKED.split("\n")[1:]).replace("#1  0x00007f10ab0a6624 in __pthread_clockjoin_ex", "#0  pthread_join")
    r = _crash(join)
    assert r["class"] == "unknown"
    # the same NULL argument in a frame 0 that is not waiting still decides
    r = _crash(PARKED.replace("__futex_abstimed_wait_common64", "ring_push").replace("./nptl/futex-internal.c", "ring.c"))
    assert r["class"] == "null-deref-read"


# --- Qt's own class in Qt's source tree as a distribution builds it -----------------------------------------------
QT_TREE = ("(gdb) bt\n"
           "#0  QSlider::value() const (this=0x0) at /var/tmp/build/qtbase-everywhere-src-5.15.9/src/widgets/widgets/"
           "qslider.cpp:301\n"
           "#1  0x0000555555601234 in Mixer::level() const (this=0x555556000100) at src/Mixer.cpp:40\n"
           "#2  0x0000555555602000 in main (argc=1, argv=0x7fffffffe000) at src/main.cpp:12\n")


def test_qt_class_in_qts_build_tree_is_library_code():
    r = _crash(QT_TREE)
    assert r["top_own_frame"] == "Mixer::level"
    r = _crash(QT_TREE.replace("/var/tmp/build/qtbase-everywhere-src-5.15.9/src/widgets/widgets/", "/home/me/slider/"))
    assert r["top_own_frame"] == "QSlider::value"


# --- Android logcat's threadtime columns in front of a Go runtime throw ---------------------------------------------
LOGCAT_GO = "03-14 09:26:53.589  4100  4188 E GoLog   : fatal error: concurrent map writes\n"


def test_logcat_columns_before_a_go_throw_load():
    r = _crash(LOGCAT_GO)
    assert r["class"] == "abort"
    assert r["subclass"] == "go-fatal"


# --- rsyslog's escaped newlines (#012) in a forwarded systemd-coredump message, hard-wrapped by the paste -----------
SYSLOG_012 = ("> systemd-coredump[900]: Process 4343 (viewer) of user 1000 dumped core.#012#012Stack trace of thread 4350:#01"
              "2#0  0x00007f4400a9c1ab __pthread_kill_implementation (libc.so.6 + 0x9c1ab)#012#1  0x00007f4400a44aa1 raise (li\n"
              "> bc.so.6 + 0x44aa1)#012#2  0x00007f4400a2c4b2 abort (libc.so.6 + 0x2c4b2)#012#3  0x00007f4401b00abc n/a (libdecode.so.3 +"
              " 0x100abc)#012#4  0x00007f4401b01000 decode_frame (libdecode.so.3 + 0x101000)#012#012Stack trace of thread 4343:#012#0  0x0\n"
              "> 0007f4400b1ea1f __poll (libc.so.6 + 0x11ea1f)\n")


def test_rsyslog_escaped_newlines_and_wrapped_lines_load_as_coredumpctl():
    r = _crash(SYSLOG_012)
    assert r["class"] == "abort"
    assert r["crash_thread"] == 1


# --- a blank line a paste put between a Go call and its file line ---------------------------------------------------
GO_BLANK = ("fatal error: sync: unlock of unlocked mutex\n"
            "\n"
            "goroutine 31 [running]:\n"
            "runtime.throw({0x8a1f00?, 0x5c1e22?})\n"
            "\t/usr/lib/go/src/runtime/panic.go:1047 +0x5d fp=0xc000123e48 sp=0xc000123e18 pc=0x437a1d\n"
            "sync.throw({0x8a1f00?, 0x0?})\n"
            "\n"
            "\t/usr/lib/go/src/runtime/panic.go:1030 +0x1e fp=0xc000123e68 sp=0xc000123e48 pc=0x467e9e\n"
            "sync.(*Mutex).unlockSlow(0xc0000a4010, 0xffffffff)\n"
            "\t/usr/lib/go/src/sync/mutex.go:229 +0x3c fp=0xc000123e90 sp=0xc000123e68 pc=0x47d2bc\n"
            "example.org/bell/ring.(*Hub).Close(0xc0000a4000)\n"
            "\t/src/bell/ring/hub.go:51 +0x9a fp=0xc000123ec8 sp=0xc000123e90 pc=0x61a0da\n")


def test_go_call_and_its_file_line_apart_by_a_blank_line_stay_one_frame():
    r = _crash(GO_BLANK)
    assert r["class"] == "abort"
    assert r["top_own_frame"] == "ring.(*Hub).Close"


# --- one "Thread N Crashed::" section of a macOS crash report, pasted alone ---------------------------------------
MAC_ONE_THREAD = ("Thread 2 Crashed:: Dispatch queue: org.example.render\n"
                  "0   libsystem_kernel.dylib        \t0x00007ff80a1b2c3e __pthread_kill + 10\n"
                  "1   libsystem_pthread.dylib       \t0x00007ff80a1e41f0 pthread_kill + 263\n"
                  "2   libsystem_c.dylib             \t0x00007ff80a0f5d10 abort + 123\n"
                  "3   Sketcher                      \t0x000000010a2b3c4d Canvas::commit() + 61\n"
                  "4   Sketcher                      \t0x000000010a2b4000 main + 40\n")


def test_one_crashed_thread_section_of_a_mac_crash_report_loads():
    r = _crash(MAC_ONE_THREAD)
    assert r["class"] == "abort"
    assert r["top_own_frame"] == "Canvas::commit"
    assert r["crash_thread"] == 3


# --- Xcode's stop banner quoted inside the reporter's own brackets --------------------------------------------------
XCODE_BRACKETED = ("(lldb) \n"
                   "Inkpad`-[Stroke flatten]:\n"
                   "0x1a2b3c40:  ldr    r0, [r4, #8]        (crashes here: Thread 1: EXC_BAD_ACCESS (code=1, address=0x5eed0008))\n")


def test_xcode_banner_in_the_reporters_brackets_is_the_stop_reason():
    r = _crash(XCODE_BRACKETED)
    assert r["signal"] == "SIGSEGV"
    assert r["class"] == "wild-pointer"


# --- Qt's inline code from its installed module headers; a bt whose "#" a quote ate ------------------------------
QT_HEADER_BT = ("> Program received signal SIGSEGV, Segmentation fault.\n"
                "> (gdb) bt\n"
                "> 0  QByteArray (a=..., this=0x7fffffffc010) at /usr/include/qt4/QtCore/qbytearray.h:420\n"
                "> 1  QMenu::title (this=0x7fffffffc200) at /build/qt-everywhere-opensource-src-4.8.7/src/gui/widgets/qmenu.cpp:99\n"
                "> 2  0x0000000000412abc in Tray::rebuild() ()\n"
                "> 3  0x0000000000413000 in main ()\n")


def test_qt_header_frame_and_frames_numbered_without_hash():
    c = load_text(QT_HEADER_BT)
    assert list(c.frames["frame"][:4]) == [0, 1, 2, 3]
    assert c.crash["top_own_frame"] == "Tray::rebuild"


# --- gdb's own wrapping at its screen width: after "in", and before the argument list -----------------------------
WRAPPED_IN = ("Thread 1 \"vw\" received signal SIGSEGV, Segmentation fault.\n"
              "0x0000000000000000 in ?? ()\n"
              "(gdb) bt\n"
              "#0  0x0000000000000000 in ?? ()\n"
              "#1  0x0000555555a01234 in\n"
              "Geo::Mesh::upload(std::vector<double, std::allocator<double> > const&)\n"
              "()\n"
              "#2  0x0000555555a02000 in main ()\n")


def test_frame_wrapped_after_in_and_before_its_arguments_is_one_frame():
    c = load_text(WRAPPED_IN)
    assert c.crash["class"] == "bad-pc"
    assert c.crash["top_own_frame"] == "Geo::Mesh::upload"
    assert len(c.frames) == 3


# --- a panic logger's debug.Stack() dump, its goroutine header cut: the deferred frames above panic() -------------
GO_HEADLESS_DEFERRED = ("    runtime/debug.Stack(0xc000010000, 0x6b2f10, 0x9)\n"
                        "            /usr/lib/go/src/runtime/debug/stack.go:24 +0x9f\n"
                        "    main.reportPanic(0xc0000a2000)\n"
                        "            /src/kiln/kiln/report.go:40 +0x11c\n"
                        "    panic(0x6a1c20, 0x7b3e50)\n"
                        "            /usr/lib/go/src/runtime/panic.go:513 +0x1b9\n"
                        "    main.(*Oven).Heat(...)\n"
                        "            /src/kiln/kiln/oven.go:77\n"
                        "    main.(*Oven).Run(0xc0000a2000, 0x5)\n"
                        "            /src/kiln/kiln/oven.go:120 +0x2a4\n")


def test_headless_go_stack_loads_and_deferred_frames_above_panic_are_not_own():
    r = _crash(GO_HEADLESS_DEFERRED)
    assert r["top_own_frame"] == "main.(*Oven).Heat"
    assert r["class"] == "unknown"
    assert "deferred call" in r["reason"]


# --- a Go web framework's Recovery middleware log (Martini's stack(): "file.go:N (0xpc)" rows) ---------------------
GO_RECOVERY = ("Jun 02 08:00:01 web kilnd[4100]: [Macaron] PANIC: runtime error: index out of range\n"
               "Jun 02 08:00:01 web kilnd[4100]: /usr/local/go/src/runtime/panic.go:44 (0x42f1a0)\n"
               "Jun 02 08:00:01 web kilnd[4100]: /build/src/example.org/kiln/api/jobs.go:88 (0x9a0b1c)\n"
               "Jun 02 08:00:01 web kilnd[4100]: /build/src/example.org/kiln/api/router.go:31 (0x9a1000)\n")


def test_go_recovery_middleware_log_loads_as_a_recovered_panic():
    c = load_text(GO_RECOVERY)
    assert c.crash["class"] == "unknown"
    assert "Recovery middleware" in c.crash["reason"]
    assert len(c.frames) == 3
    assert not c.frames["is_own"].iloc[0]        # GOROOT's runtime
    assert c.frames["is_own"].iloc[1]


# --- Mesa's drivers named bare by systemd-coredump ("radeonsi_dri.so", "libgallium-24.1.so") -----------------------
MESA_BARE = ("           Signal: 11 (SEGV)\n"
             "Stack trace of thread 5100:\n"
             "#0  0x00007f1200a45b9a n/a (iris_dri.so + 0x445b9a)\n"
             "#1  0x00007f1200b0000c n/a (libgallium-24.1.4.so + 0x30000c)\n"
             "#2  0x000055d000012345 blur_pass (glowd + 0x12345)\n"
             "#3  0x000055d000013000 main (glowd + 0x13000)\n")


def test_mesa_drivers_named_bare_are_system_libraries():
    assert _crash(MESA_BARE)["top_own_frame"] == "blur_pass"
