"""Shapes real users paste that held-out batches 14 and 15 found unread (each test: our own small snippet)."""
import pytest

from forensics.crashes.load import load_text
from forensics.errors import ArtifactError


def _crash(text):
    return load_text(text).crash


def test_go_runtime_throw_pasted_alone():
    r = _crash("```\nfatal error: all goroutines are asleep - deadlock!\n```\n")
    assert (r["class"], r["subclass"]) == ("deadlock", "go-all-goroutines-asleep")
    assert _crash("<pre>\nfatal error: concurrent map writes\n")["class"] == "abort"


def test_go_signal_line_behind_a_shell_prompt():
    r = _crash(" panic: runtime error: invalid memory address or nil pointer dereference\n"
               "/srv/app# [signal SIGSEGV: segmentation violation code=0x1 addr=0x20 pc=0x4b2c10]\n")
    assert (r["signal"], r["fault_address"], r["class"]) == ("SIGSEGV", 0x20, "null-deref-read")


def test_stack_smashing_message_that_lost_a_star():
    assert _crash("the tool quits with:\n\n*** stack smashing detected **\n")["class"] == "stack-buffer-overrun"


def test_qt_assert_reporters_are_not_own_code_and_qt_templates_are_qt():
    r = _crash("Program received signal SIGABRT, Aborted.\n"
               "#0  0x00007ffff5a0e00b in raise () from /lib/x86_64-linux-gnu/libc.so.6\n"
               "#1  0x00007ffff59ed859 in abort () from /lib/x86_64-linux-gnu/libc.so.6\n"
               "#2  0x00007ffff5e01bd4 in QMessageLogger::fatal(char const*, ...) const () from /opt/sdk/lib/libQt6Core.so.6\n"
               "#3  0x00007ffff5e00f0a in qt_assert_x (where=0x1, what=0x2, file=0x3, line=9) at qglobal.cpp:3210\n"
               "#4  0x00005555555a1234 in QList<QString>::at (this=0x7fffffffa1c0, i=1) at /opt/sdk/6.8.0/gcc_64/include/QtCore/qlist.h:450\n"
               "#5  0x00005555555a2345 in Notes::title (this=0x5555557a0000) at notes.cpp:41\n")
    assert (r["class"], r["top_own_frame"]) == ("assertion-failure", "Notes::title")
    q = _crash("#0  0xb537055a in qt_assert (assertion=0x1 \"!name.isEmpty()\", file=0x2 \"w.cpp\", line=8) at qglobal.cpp:1\n"
               "#1  0x08641554 in QVector<int>::first (this=0xffe6a334) at qvector.h:335\n"
               "#2  0x0863e42a in Panel::reload (this=0xffe6a328) at panel.cpp:89\n")
    assert q["top_own_frame"] == "Panel::reload"


def test_qt4_assert_text_and_the_i386_vsyscall_gate():
    r = _crash('ASSERT: "count > 0" in file widgets/qlist.cpp, line 10\n\n'
               "Program received signal SIGABRT, Aborted.\n"
               "0xb7fdd424 in __kernel_vsyscall ()\n"
               "#0  0xb7fdd424 in __kernel_vsyscall ()\n"
               "#1  0xb6a1c3f1 in raise () from /lib/libc.so.6\n"
               "#2  0xb6a1dd7b in abort () from /lib/libc.so.6\n"
               "#3  0xb537055a in qt_message_output (msgType=QtFatalMsg,\n")
    # the wrapped frame's cut argument list leaves no space in the key
    assert (r["class"], r["top_own_frame"]) == ("assertion-failure", None)


def test_android_libc_fatal_signal_line_alone():
    r = _crash(" Fatal signal 11 (SIGSEGV), code 1 (SEGV_MAPERR), fault addr 0x0 in tid 101 (worker), pid 100 (com.x)\n")
    assert (r["signal"], r["fault_address"], r["class"]) == ("SIGSEGV", 0, "null-deref-read")
    r = _crash("11-02 10:00:00.100 100-101/com.x A/libc: Fatal signal 11 (SIGSEGV), code 1, fault addr 0x10 in tid 101 (gl)\n")
    assert r["class"] == "null-deref-read"


def test_xcode_stop_banner_alone():
    assert _crash("ERROR: Thread 1: EXC_BAD_ACCESS (code=1, address=0x0)\n")["class"] == "null-deref-read"
    assert _crash("Thread 3: EXC_BAD_ACCESS (code=1, address=0x7f00deadbee0)\n")["class"] == "wild-pointer"


def test_handler_print_of_only_the_handler_and_an_old_libpthread_trampoline():
    r = _crash("Error: signal 11:\n/usr/bin/srv(_ZN7Handler7onSegvEi+0x26)[0x59a974]\n"
               "/lib64/libpthread.so.0(+0xf5d0)[0x7f61c9b3e5d0]\n")
    assert (r["signal"], r["class"], r["top_own_frame"]) == ("SIGSEGV", "unknown", None)


def test_handler_frames_above_the_trampoline_over_raise_are_not_the_crash():
    r = _crash("terminate called after throwing an instance of 'std::runtime_error'\n  what():  boom\n"
               "Caught stack backtrace:\n"
               "/app/bin/server(_ZN4core11handleCrashEi+0x3b)[0x523773b]\n"
               "/app/bin/server(_Z12crashHandleri+0x13)[0x52376e3]\n"
               "/lib/x86_64-linux-gnu/libc.so.6(+0x43090)[0x7f3e25a4d090]\n"
               "/lib/x86_64-linux-gnu/libc.so.6(gsignal+0xc7)[0x7f3e25a4d00b]\n"
               "/lib/x86_64-linux-gnu/libc.so.6(abort+0x12d)[0x7f3e25a2c85f]\n"
               "/lib/x86_64-linux-gnu/libstdc++.so.6(+0xa3b2e)[0x7f3e25e03b2e]\n"
               "/app/bin/server(_ZNSt22__shared_mutex_pthread4lockEv+0x2f)[0x52300af]\n"
               "/app/bin/server(_ZN5Store4lockEv+0x11)[0x5230111]\n")
    # the handler's two frames are skipped, and a mangled std:: frame is the library's
    assert (r["class"], r["top_own_frame"]) == ("uncaught-exception", "Store::lock")


def test_a_daemons_log_line_naming_the_signal_its_handler_caught():
    r = _crash("2021.0101:120000 mud SIG/CATCH: Caught signal SIGBUS (bus)\n2021.0101:120000 mud BUG/INFO : Command: 'x'\n")
    assert (r["signal"], r["class"]) == ("SIGBUS", "bus-error")
    # a signal that asks the program to stop is no crash
    with pytest.raises(ArtifactError):
        _crash("12:00 Caught signal SIGTERM\n12:00 shutting down\n")


def test_zabbix_style_handler_report_with_fault_address_and_program_counter():
    r = _crash(" 1:20200101:1.1 Got signal [signal:15(SIGTERM),sender_pid:9,sender_uid:0,reason:0]. Exiting ...\n"
               " 1:20200101:1.2 Got signal [signal:11(SIGSEGV),reason:2,refaddr:0x7f4d00001d88]. Crashing ...\n"
               " 1:20200101:1.2 ====== Fatal information: ======\n"
               " 1:20200101:1.2 Program counter: 0x7f4d00001d88\n")
    assert (r["signal"], r["si_code"], r["class"]) == ("SIGSEGV", 2, "bad-pc")   # pc == fault address


def test_stacktrace_h_handler_frames():
    r = _crash("Catching SIGSEGV, please report a bug\nstack trace:\n"
               "  /usr/lib/libQtCore.so.4 : QObject::~QObject()+0x5bb  [0x7f76a27940ab]\n"
               "  /usr/lib/libQtGui.so.4 : QWidget::~QWidget()+0x3a7  [0x7f76a304df97]\n"
               "  mytool : App::notify(QObject*, QEvent*)+0x20  [0x5fb5f0]\n")
    assert (r["signal"], r["class"], r["top_own_frame"]) == ("SIGSEGV", "unknown", "App::notify")


def test_abrt_truncated_backtrace():
    r = _crash("Truncated backtrace:\nThread no. 1 (4 frames)\n #0 _g_log_abort at gmessages.c:315\n"
               " #8 _XReply at xcb_io.c:364\n #9 XSync at Sync.c:44\n #12 tool_main at tool.c:10\n")
    assert (r["class"], r["subclass"], r["top_own_frame"]) == ("abort", "glib-fatal", "tool_main")


def test_serenity_userspace_crash_line():
    assert _crash("29.0 [a(4:4)]: CRASH: CPU #0 Illegal instruction in userspace\n")["class"] == "illegal-instruction"


def test_core_signal_line_whose_description_was_wrapped_away_and_a_stack_gdb_could_not_name():
    r = _crash("Core was generated by `/usr/bin/python3 tool.py'.\nProgram terminated with signal SIGABRT\n\n"
               ", Aborted.\n#0  0x76ce9f50 in ?? ()\n")
    # no raise frame can show on a stack of ?? frames: nothing says the abort came from outside
    assert (r["signal"], r["class"]) == ("SIGABRT", "abort")


def test_an_excerpt_of_one_idle_worker_in_a_timed_wait_is_no_hang():
    worker = ("Thread 5 (Thread 0x7fffe5184700 (LWP 20503)):\n#0  0x00007ffff29a7d89 in syscall () from /lib/x86_64-linux-gnu/libc.so.6\n"
              "#1  0x00007ffff3753614 in g_cond_wait_until () from /usr/lib/x86_64-linux-gnu/libglib-2.0.so.0\n"
              "#2  0x00007ffff6872519 in start_thread (arg=0x7fffe5184700) at pthread_create.c:333\n")
    assert _crash(worker)["class"] == "unknown"
    assert _crash(worker.replace("g_cond_wait_until", "g_mutex_lock"))["class"] == "deadlock"


def test_a_fault_inside_the_allocator_is_heap_corruption_whatever_the_address():
    # calloc clearing the chunk it hands out
    r = _crash("Thread 1 \"ui\" received signal SIGSEGV, Segmentation fault.\n"
               "#0  0x00007ffff4e2a6d3 in __memset_sse2 () from /usr/lib/libc.so.6\n"
               "#1  0x00007ffff4e21f47 in calloc () from /usr/lib/libc.so.6\n"
               "#2  0x00007ffff53b6a19 in g_malloc0 () from /usr/lib/libglib-2.0.so.0\n")
    assert (r["class"], r["subclass"]) == ("heap-corruption", "segv-in-allocator:calloc")
    # CPython's object allocator popping a corrupt free-list pointer, under LLDB (frames of the python3 binary)
    r = _crash("* thread #1, name = 'python3', stop reason = signal SIGSEGV: invalid address (fault address: 0x2)\n"
               "  * frame #0: 0x00005555556b1e27 python3`_PyObject_Malloc at obmalloc.c:2094:9\n"
               "    frame #1: 0x000055555569c3a4 python3`_PyObject_New(tp=0x0000555555a59f40) at object.c:447:20\n"
               "    frame #2: 0x00005555556b2e81 python3`range_iter(seq=0x00007ffff7412a80) at rangeobject.c:1152:8\n")
    assert (r["class"], r["top_own_frame"]) == ("heap-corruption", None)


def test_extension_init_is_own_code_and_an_unreadable_pointer_handed_to_an_aarch64_strlen():
    r = _crash("Program received signal SIGSEGV, Segmentation fault.\n"
               "__strlen_asimd () at ../sysdeps/aarch64/multiarch/strlen_asimd.S:96\n"
               "#0  __strlen_asimd () at ../sysdeps/aarch64/multiarch/strlen_asimd.S:96\n"
               "#1  0x0000aaaaaae05c4c in PyUnicode_FromString (u=0xffffffffffffffff <error: Cannot access memory at "
               "address 0xffffffffffffffff>) at Objects/unicodeobject.c:2171\n"
               "#2  0x0000fffff7731534 in PyInit_widget () from /home/me/ext/widget.so\n"
               "#3  0x0000aaaaaafc4b18 in _PyImport_RunModInitFunc (p0=0x0) at ./Python/importdl.c:428\n")
    assert (r["class"], r["top_own_frame"]) == ("wild-pointer", "PyInit_widget")


def test_terminate_without_an_active_exception():
    r = _crash("INFO stopping\npure virtual method called\nterminate called without an active exception\n"
               "[1] 2105 abort (core dumped) ./server\n")
    assert (r["class"], r["subclass"]) == ("uncaught-exception", "(no active exception)")


def test_libc_message_with_malloc_printerrs_format_when_the_malloc_printerr_frame_is_cut():
    r = _crash("\t#1  0x00007f5e1c02a7f3 in __GI_abort () at abort.c:79\n"
               "\t#2  0x00007f5e1c06d9b5 in __libc_message (action=action@entry=(do_abort | do_backtrace), "
               "fmt=fmt@entry=0x7f5e1c1782e0 \"*** Error in `%s': %s: 0x%s ***\\n\") at ../sysdeps/posix/libc_fatal.c:181\n")
    assert r["class"] == "heap-corruption"


def test_frame_0_at_a_pc_no_64_bit_cpu_can_run():
    r = _crash("Program terminated with signal SIGSEGV, Segmentation fault.\n#0  0x0008010a010a0100 in ?? ()\n"
               "[Current thread is 1 (LWP 77)]\n")
    assert (r["class"], r["subclass"]) == ("bad-pc", "non-canonical-pc")


def test_tombstone_pcs_are_module_offsets_not_a_null_call():
    r = _crash("signal 11 (SIGSEGV), code 1 (SEGV_MAPERR), fault addr 0xa9932a70\nbacktrace:\n"
               "    #00 pc 00004836  /data/app/com.x/lib/arm/libtool.so\n"
               "    #01 pc 00065ac7  /system/lib/libc.so (__pthread_start+22)\n")
    assert (r["class"], r["top_own_frame"]) == ("wild-pointer", "libtool.so@0x836")


def test_segfault_handler_address_line_and_a_pc_at_the_fault_address():
    r = _crash("PID 8 received SIGSEGV for address: 0x1fc62c0\n"
               "#0  0x0000000001fc62c0 in loop_state ()\n"
               "#1  0x0000000001429bcc in queue_event (loop=0x1fc6120 <loop_state>) at ../src/queue.c:98\n")
    # frame 0 is the data symbol the pc landed in, not code
    assert (r["class"], r["top_own_frame"]) == ("bad-pc", "queue_event")


def test_glog_trampoline_frames_above_the_faulting_pc_are_not_code():
    r = _crash("*** Aborted at 1541 (unix time) try \"date -d @1541\" if you are using GNU date ***\n"
               "PC: @                0x0 (unknown)\n"
               "*** SIGILL (@0x7fe3a27b7912) received by PID 13 (TID 0x7fe3) from PID 18446744072; stack trace: ***\n"
               "    @       0x318b20f500 (unknown)\n"
               "    @     0x7fe3a27b7912 engine::Kernel<>()\n"
               "    @     0x7fe3a279f84f engine::Run()\n")
    assert (r["class"], r["top_own_frame"]) == ("illegal-instruction", "engine::Kernel")


def test_rust_186_std_symbol_prefix_and_a_bare_program_name_in_old_glibcs_backtrace():
    r = _crash("thread 'main' panicked at src/lib.rs:5:9:\ncalled `Option::unwrap()` on a `None` value\nstack backtrace:\n"
               "   0:     0x55b5b756680d - __rustc[4794b31dd7191200]::rust_begin_unwind\n"
               "   1:     0x55b5b74ae870 - core::panicking::panic_fmt::hc8737e8cca20a7c8\n")
    assert (r["class"], r["top_own_frame"]) == ("abort", None)
    r = _crash("*** glibc detected *** tool: double free or corruption (fasttop): 0x00000000029a5fb0 ***\n"
               "======= Backtrace: =========\n/lib64/libc.so.6[0x3462875f4e]\n/lib64/libc.so.6[0x3462878cad]\n"
               "tool[0x471302]\ntool[0x46defd]\n")
    assert (r["class"], r["top_own_frame"]) == ("heap-corruption", "tool@0x302")


def test_a_crash_handler_re_raising_is_no_evidence_of_abort():
    r = _crash("#0  0x00007f0f53e1a9df in raise () from /usr/lib/libpthread.so.0\n"
               "#1  <signal handler called>\n"
               "#2  0x00007f0f4c9bd3c7 in Panel::~Panel (this=0x5585) at panel.cpp:12\n"
               "#3  0x00007f0f4c9bd400 in Window::close (this=0x5590) at window.cpp:40\n")
    assert r["class"] == "unknown"


def test_a_null_value_the_user_printed_for_the_pointer_the_crashing_line_dereferences():
    text = ("Program received signal SIGSEGV, Segmentation fault.\n"
            "Table::lookup (this=0x1d7aeb0, key=0x1e014d0) at table.cpp:56\n"
            "56\t  unsigned n = It->second;\n"
            "(gdb) p It\n$1 = {<Base> = {<No data fields>}, Ptr = 0x0, End = <optimized out>}\n")
    assert _crash(text)["class"] == "null-deref-read"
    assert _crash(text.replace("Ptr = 0x0", "Ptr = 0x5500aa0"))["class"] == "unknown"
    assert _crash(text.replace("(gdb) p It", "(gdb) p key"))["class"] == "unknown"   # not the dereferenced pointer


def test_box64_emulator_signal_report():
    r = _crash("4242|SIGSEGV @0x7f00aa0450 (???(/lib/aarch64-linux-gnu/libc.so.6+0x7f00aa0450)) (x64pc=(nil)/???:\"???\", "
               "rsp=0x102000000), for accessing (nil) (code=1/prot=0), db=(nil) handler=(nil)\n")
    assert (r["signal"], r["si_code"], r["class"]) == ("SIGSEGV", 1, "null-deref-read")


def test_qt_classes_in_qts_own_source_files_and_python_qt_bindings_are_library_code():
    r = _crash("#0  0x00007f63382f050f in QWidget::~QWidget() (this=0x2cc8370) at kernel/qwidget.cpp:1602\n"
               "#1  0x00007f634329b881 in QObjectPrivate::deleteChildren() (this=0x2be37d0) at kernel/qobject.cpp:1970\n"
               "#2  0x00007f6338d1ce7c in sipQTabWidget::~sipQTabWidget() (this=0x2be3550) at sipQtWidgetsQTabWidget.cpp:318\n"
               "#3  0x00007f6338d1d000 in ?? () from /home/me/venv/lib/python3.11/site-packages/PySide6/QtWidgets.abi3.so\n"
               "#4  0x000055555560a000 in Viewer::closeAll (this=0x2be3000) at viewer.cpp:77\n")
    assert r["top_own_frame"] == "Viewer::closeAll"


def test_glib_gdk_xlib_names_without_their_library_are_library_code_but_a_gtk_prefixed_widget_is_not():
    r = _crash(" #0 _g_log_abort at gmessages.c:315\n #1 _XEventsQueued at xcb_io.c:364\n #2 XPending at Pending.c:55\n"
               " #3 gdk_check_xpending at gdkeventsource.c:266\n #4 g_main_context_check at gmain.c:3649\n"
               " #5 gtk_main at gtkmain.c:1219\n")
    assert (r["class"], r["top_own_frame"]) == ("abort", None)
    r = _crash("Program received signal SIGSEGV, Segmentation fault.\n"
               "#0  0x00007ffff7a0c1b2 in g_object_ref () from /usr/lib/x86_64-linux-gnu/libgobject-2.0.so.0\n"
               "#1  0x0000555555561234 in gtk_radar_view_update (view=0x5555558f0000) at gtk-radar-view.c:812\n")
    assert r["top_own_frame"] == "gtk_radar_view_update"
