"""Shapes real users paste that held-out batches 12 and 13 found unread (each test: our own small snippet)."""
from forensics.crashes.load import load_text


def _crash(text):
    return load_text(text).crash


def test_go_windows_exception_code_is_an_access_violation_not_a_signal_from_outside():
    r = _crash("panic: runtime error: invalid memory address or nil pointer dereference\n"
               "[signal 0xc0000005 code=0x0 addr=0x18 pc=0x4a1b2c]\n\n"
               "goroutine 7 [running]:\n\n"
               "example.org/shop/cart.(*Cart).Total\n(0xc000010000, 0x1)\n"
               "\tC:/src/example.org/shop/cart/cart.go:41 +0x2c\n")
    assert (r["signal"], r["origin"], r["class"]) == ("SIGSEGV", "kernel", "null-deref-read")
    assert r["top_own_frame"] == "cart.(*Cart).Total"      # the wrapped argument list joined


def test_go_lone_runtime_panic_and_vscode_banner():
    assert _crash("> 2+\npanic: runtime error: index out of range\n")["class"] == "abort"
    r = _crash('Exception has occurred: panic "runtime error: slice bounds out of range [:3] with capacity 2"\n'
               "Stack:\n\t2  0x00000000004a1000 in tally.parse\n\t    at /home/me/go/src/tally/parse.go:12\n"
               "\t3  0x00000000004a2000 in main.main\n\t    at /home/me/go/src/tally/main.go:8\n")
    # a GOPATH package without a dot in its import path is the project's, not the standard library's
    assert (r["class"], r["subclass"], r["top_own_frame"]) == ("abort", "go-panic", "tally.parse")


def test_go_http_panic_serving_nil_dereference_and_throw_without_fatal_line():
    r = _crash("2024/01/02 03:04:05 http: panic serving 127.0.0.1:5000: runtime error: invalid memory address "
               "or nil pointer dereference\ngoroutine 9 [running]:\nnet/http.(*conn).serve.func1(0xc0000a0000)\n"
               "\t/usr/local/go/src/net/http/server.go:1800 +0x139\npanic(0x6d0, 0x9a0)\n"
               "\t/usr/local/go/src/runtime/panic.go:513 +0x1c7\ndatabase/sql.(*DB).Ping(...)\n")
    assert r["class"] == "null-deref-read" and r["top_own_frame"] is None      # database/sql is the standard library
    r = _crash("goroutine 12 [running]:\nruntime.throw(0x10, 0x15)\n\t/go/src/runtime/panic.go:608 +0x72\n"
               "runtime.mapassign_faststr(0x1, 0x2, 0x3)\n\t/go/src/runtime/map_faststr.go:199 +0x3da\n"
               "example.com/kv.Put(0x1)\n\t/src/example.com/kv/kv.go:20 +0x11\n")
    assert (r["class"], r["subclass"], r["top_own_frame"]) == ("abort", "go-fatal", "kv.Put")


def test_go_cgo_signal_header_with_new_goroutine_fields_and_glued_sigabrt():
    r = _crash("SIGSEGV: segmentation violation\nPC=0x7f0012345678 m=0 sigcode=1 addr=0x10\n"
               "signal arrived during cgo execution\n\n"
               "goroutine 1 gp=0xc0000061c0 m=0 mp=0x1034a5e20 [syscall]:\nruntime.cgocall(0x1, 0xc000027a78)\n"
               "\t/usr/local/go/src/runtime/cgocall.go:157 +0x4b\n")
    assert (r["class"], r["fault_address"], r["crash_thread"]) == ("null-deref-read", 0x10, 1)
    r = _crash("rate 12.5 MB/s  SIGABRT: abort\nPC=0x501dd42 m=3\nsignal arrived during cgo execution\n\n"
               "goroutine 4 [syscall, locked to thread]:\nruntime.cgocall(0x4002f60, 0xc8200617b8)\n"
               "\t/go/src/runtime/cgocall.go:120 +0x11b\n")
    assert (r["signal"], r["origin"], r["class"]) == ("SIGABRT", "self", "abort")   # not a deadlock


def test_markdown_bold_stop_line():
    r = _crash("[New LWP 12]\n\n**Thread 3 \"worker\" received signal SIGSEGV, Segmentation fault.**\n"
               "[Switching to LWP 12]\n**0xb6e41a28 in strlen () from /lib/libc.so.6**\n")
    assert (r["signal"], r["crash_thread"], r["class"]) == ("SIGSEGV", 3, "unknown")


def test_coredumpctl_excerpts_without_header_and_frames_without_function():
    r = _crash("        Stack trace of thread 901:\n"
               "        #0  0x00007f3c2a1e4d19 g_log_structured_array (libglib-2.0.so.0 + 0x5ed19)\n"
               "        #1  0x00007f3c2a1e6b27 g_log (libglib-2.0.so.0 + 0x60b27)\n"
               "        #2  0x000056108a4c1f3e load_settings (mytool + 0x30f3e)\n"
               "        #3  0x000056108a4ac2d1 main (mytool + 0x1b2d1)\n")
    assert (r["class"], r["top_own_frame"]) == ("abort", "load_settings")
    r = _crash("Signal: 4 (ILL)\n#0  0x000055fef0aeb2ba (mytool + 0x12ca2ba)\n#1  __libc_start_main@@GLIBC_2.34\n")
    assert (r["signal"], r["class"]) == ("SIGILL", "illegal-instruction") and r["top_own_frame"].endswith("@0x2ba")


def test_gfortran_colon_signal_line_and_its_unnamed_library_frame():
    r = _crash("Program received signal SIGFPE: Floating-point exception - erroneous arithmetic operation.\n\n"
               "Backtrace for this error:\n#0  0x14a0dc74a27f in ???\n#1  0x6747b5 in __solver_MOD_step\n"
               "\tat ../src/solver.f90:86\n#2  0x4061c7 in MAIN__\n\tat ../src/main.f90:3\n")
    assert (r["signal"], r["class"], r["top_own_frame"]) == ("SIGFPE", "divide-by-zero", "__solver_MOD_step")


def test_qt_assert_is_an_assertion_failure_and_qt_header_code_is_library():
    r = _crash("Thread 1 \"app\" received signal SIGABRT, Aborted.\n#0  0x1 in raise () from /lib/libc.so.6\n"
               "#1  0x2 in abort () from /lib/libc.so.6\n#2  0x3 in QMessageLogger::fatal(char const*, ...) const () from /lib/libQt5Core.so.5\n"
               "#3  0x4 in qt_assert(char const*, char const*, int) () from /lib/libQt5Core.so.5\n"
               "#4  0x0000555555556000 in QList<int>::first (this=0x5555) at /usr/include/qt5/QtCore/qlist.h:340\n"
               "#5  0x0000555555557000 in Panel::refresh (this=0x5555) at panel.cpp:12\n")
    assert (r["class"], r["top_own_frame"]) == ("assertion-failure", "Panel::refresh")
    r = _crash('ASSERT failure in QList<T>::at: "index out of range", file /usr/include/qt/QtCore/qlist.h, line 571\n'
               "Thread 1 received signal SIGABRT, Aborted.\n#0  0x1 in raise () from /lib/libc.so.6\n"
               "#1  0x2 in abort () from /lib/libc.so.6\n#2  0x3 in qt_message_fatal () from /lib/libQt5Core.so.5\n"
               "#3  0x0000555555557000 in Panel::refresh () at panel.cpp:12\n")
    assert (r["class"], r["assertion"]) == ("assertion-failure", "index out of range")


def test_an_assertion_inside_glibc_malloc_is_heap_corruption():
    r = _crash("worker: malloc.c:2379: sysmalloc: Assertion `(old_top == initial_top (av) && old_size == 0)' failed.\n"
               "Aborted (core dumped)\n")
    assert (r["class"], r["subclass"]) == ("heap-corruption", "malloc-assertion")


def test_faulthandler_thread_without_its_fatal_error_header():
    r = _crash("Current thread 0x00007f0961223000 (most recent call first):\n"
               '  File "/src/app/tests/test_dates.py", line 18 in test_compare\n'
               '  File "/venv/lib/python3.11/site-packages/_pytest/python.py", line 195 in pytest_pyfunc_call\n')
    assert (r["class"], r["top_own_frame"]) == ("unknown", "test_compare")


def test_backtrace_crate_signal_hook_and_the_hook_frames_above_the_trampoline():
    r = _crash("Received signal: SIGSEGV\n   0: backtrace::backtrace::trace\n   1: backtrace::capture::Backtrace::new\n"
               "   2: mytool::crash_hook::handler\n   3: __sigtramp\n   4: mytool::index::lookup\n   5: main\n")
    assert (r["signal"], r["class"], r["top_own_frame"]) == ("SIGSEGV", "unknown", "mytool::index::lookup")


def test_open_mpi_signal_report_and_log_records_carrying_backtrace_symbols():
    r = _crash("[node7:4242] *** Process received signal ***\n[node7:4242] Signal: Aborted (6)\n"
               "[node7:4242] Signal code:  (-6)\n[node7:4242] [ 0] /lib/x86_64-linux-gnu/libc.so.6(+0x354b0)[0x7f1f0ee0c4b0]\n"
               "[node7:4242] [ 1] /lib/x86_64-linux-gnu/libc.so.6(abort+0x16a)[0x7f1f0ee0e02a]\n"
               "[node7:4242] [ 2] /lib/x86_64-linux-gnu/libc.so.6(__libc_malloc+0x54)[0x7f1f0ee5b184]\n"
               "[node7:4242] [ 3] ./solver(_ZN6solver4Grid6refineEv+0x18)[0x4011a8]\n")
    assert (r["signal"], r["si_code"], r["class"], r["top_own_frame"]) == ("SIGABRT", -6, "heap-corruption", "solver::Grid::refine")
    r = _crash("[12:00:01.5] [critical] [77/77] [signal.cpp:9#on_signal] bus error\n"
               "[12:00:01.6] [critical] [77/77] [trace.cpp:3#dump] /opt/x/libstore.so(_ZN5store4Page4loadEi+0x9c) [0x7f31d872b5e2]\n"
               "[12:00:01.6] [critical] [77/77] [trace.cpp:3#dump] /opt/x/libstore.so(_ZN5store6Reader4seekEl+0x3d) [0x7f31d872b453]\n"
               "[12:00:01.6] [critical] [77/77] [trace.cpp:3#dump] /opt/x/app(main+0x1ee) [0x401f72]\n")
    assert (r["signal"], r["class"], r["top_own_frame"]) == ("SIGBUS", "bus-error", "store::Page::load")


def test_mips_kernel_page_fault_lines():
    r = _crash("kernel: [93374.82] do_page_fault(): sending SIGSEGV to probe for invalid write access from 00000010\n"
               "kernel: [93374.83] epc = 00401234 in probe[400000+c000]\n"
               "kernel: [93374.84] ra  = 00401200 in probe[400000+c000]\n")
    assert (r["signal"], r["fault_address"], r["class"]) == ("SIGSEGV", 0x10, "null-deref-write")
    assert r["top_own_frame"].endswith("@0x234")


def test_swift_backtracer_report():
    r = _crash("*** Signal 11: Backtracing from 0x55d0c0de1240... done ***\n\n"
               "*** Program crashed: Bad pointer dereference at 0x0000000000000008 ***\n\n"
               'Thread 0 "tool":\n\n  0      0x00007f21b0a3c6f4 sigsuspend + 84 in libc.so.6\n...\n\n'
               "Thread 1 crashed:\n\n  0  0x000055d0c0de1240 Model.load(from:) + 1104 in tool at /src/Model.swift:31:9\n"
               "  1 [ra] 0x000055d0c0de2000 main + 23 in tool at /src/main.swift:4\n")
    assert (r["signal"], r["fault_address"], r["class"], r["crash_thread"]) == ("SIGSEGV", 8, "null-deref-read", 2)
    assert r["top_own_frame"] == "Model.load"


def test_a_stop_frame_no_listed_thread_has_means_the_thread_list_was_cut():
    r = _crash("Core was generated by `chatd'.\nProgram terminated with signal SIGABRT, Aborted.\n"
               "#0  0x0000003f8a2358e5 in __GI_raise (sig=sig@entry=6) at ../sysdeps/unix/sysv/linux/raise.c:55\n\n"
               "Thread 3 (Thread 0x7f22b2fd2700 (LWP 311)):\n#0  0x0000003f8a2f5e1b in poll () from /lib64/libc.so.6\n"
               "#1  0x0000003f89e4a0c6 in g_main_context_iterate () from /lib64/libglib-2.0.so.0\n")
    assert (r["crash_thread"], r["origin"], r["class"]) == (1, "self", "abort")      # not a deadlock


def test_lldb_system_library_frames_with_source_and_platform_start_frames():
    r = _crash("* thread #1, name = 'tool', stop reason = signal SIGABRT\n"
               "  * frame #0: 0x00000008012a7c3a libc.so.7`__sys_thr_kill at thr_kill.S:4\n"
               "    frame #1: 0x000000080121f2d4 libc.so.7`__raise(s=6) at raise.c:52:10\n"
               "    frame #2: 0x00000008012c5b19 libc.so.7`abort at abort.c:67:8\n")
    assert r["class"] == "abort" and r["top_own_frame"] is None
    r = _crash("thread 'main' panicked at 'boom', src/main.rs:3:5\nstack backtrace:\n"
               "   0:        0x10a590533 - _rust_begin_unwind\n   1:        0x10a5d10df - core::panicking::panic_fmt::h2b293e6c03a76160\n"
               "   2:        0x10a43c7ad - tool::render::h736a41a5d4519ff6\n   3:     0x7ff90b707614 - BaseThreadInitThunk\n"
               "   4:     0x7ff90cc226b1 - RtlUserThreadStart\n")
    assert (r["class"], r["top_own_frame"]) == ("abort", "tool::render")


def test_echoed_gdb_attach_command_is_a_hang_snapshot():
    r = _crash('$ sudo gdb -ex "thread apply all bt" --batch -p $(pidof render)\n[New LWP 20417]\n'
               "0x00007fa3c1d0e6a9 in pthread_join () from /usr/lib/libpthread.so.0\n\n"
               "Thread 2 (Thread 0x7fa39e7fc700 (LWP 20417)):\n#0  0x000000000042ca8f in Worker::run () at w.cpp:9\n\n"
               "Thread 1 (Thread 0x7fa3c2100740 (LWP 20413)):\n#0  0x00007fa3c1d0e6a9 in pthread_join () from /usr/lib/libpthread.so.0\n"
               "#1  0x0000000000401000 in main () at main.cpp:3\n")
    assert (r["origin"], r["class"]) == ("snapshot", "deadlock")


def test_a_go_panic_in_markdown_italics_and_an_assertion_error_before_abort():
    r = _crash("_panic: runtime error: index out of range [-1]\n\ngoroutine 1 [running]:\nmain.pick(0x1)\n"
               "\t/src/app/main.go:19 +0x9d1\nmain.main()\n\t/src/app/main.go:11 +0xebe_\n")
    assert (r["class"], r["subclass"], r["top_own_frame"]) == ("abort", "go-panic", "main.pick")
    r = _crash("AssertionError: Assert failed (prog.py:8)\n\nRaised from:\nprog.py:8:5\nAborted (core dumped)\n")
    assert (r["class"], r["assertion"]) == ("assertion-failure", "Assert failed (prog.py:8)")
    # a Python traceback ending in AssertionError, with no abort, is no assertion crash
    assert _crash("Traceback (most recent call last):\nAssertionError: x\nSegmentation fault (core dumped)\n")["class"] != \
        "assertion-failure"


def test_kernel_segfault_line_beside_systemd_coredump_journal_stack():
    r = _crash("Mar 07 08:22:47 host kernel: shell[544]: segfault at 8 ip 00007a1c4e63b2d4 sp 00007ffc91e0a6b8 error 6 "
               "in libwayland-server.so.0.22.0[7a1c4e638000+8000] likely on CPU 4 (core 0, socket 0)\n"
               "Mar 07 08:22:54 host systemd-coredump[480753]: Process 544 (shell) of user 1000 dumped core.\n\n"
               "                Stack trace of thread 544:\n"
               "                #0  0x00007a1c4e63b2d4 wl_list_remove (libwayland-server.so.0 + 0xa2d4)\n"
               "                #1  0x00005e4a90d3a6c2 n/a (shell + 0x4e6c2)\n")
    assert (r["signal"], r["fault_address"], r["class"]) == ("SIGSEGV", 8, "null-deref-write")
    assert r["top_own_frame"].endswith("@0x6c2")


def test_strace_of_threads_blocked_in_futex_waits_is_hang_evidence():
    r = _crash("strace -fff -p 38190\nProcess 38190 attached with 9 threads\n"
               "[pid 38211] futex(0x1f4c98c, FUTEX_WAIT_PRIVATE, 1, NULL <unfinished ...>\n"
               "[pid 38209] futex(0x1f7e04c, FUTEX_WAIT_PRIVATE, 1, NULL <unfinished ...>\n"
               "(gdb) bt\n#0 0x00007f2e81b47c3a in waitpid () from /lib64/libpthread.so.0\n"
               "#1 0x000000000040a54e in run_child (cmd=0x1f52a40 \"/usr/bin/t\") at t.c:63\n")
    assert (r["origin"], r["class"], r["top_own_frame"]) == ("snapshot", "deadlock", "run_child")
    assert "lock" in r["reason"]


def test_glog_failure_signal_frames():
    r = _crash("malloc(): corrupted top size\n*** Aborted at 1612345678 (unix time) try \"date -d @1612345678\" ***\n"
               "PC: @     0x7f44642e718b gsignal\n"
               "*** SIGABRT (@0x3e800012d5b) received by PID 77147 (TID 0x7f1d0c3b5a40) from PID 77147; stack trace: ***\n"
               "    @     0x7f44654b0631 (unknown)\n    @     0x7f44642e718b gsignal\n    @     0x7f44642c6859 abort\n"
               "    @     0x7f446433e419 __libc_malloc\n    @     0x7f4464fbbeac img::transpose()\n"
               "    @     0x562725110e04 Detector::refine()\n    @     0x5627251141fe main\n")
    # the module-less 0x7f… frames of a PIE program at 0x56… are a library's (img:: is a shared library here)
    assert (r["class"], r["top_own_frame"]) == ("heap-corruption", "Detector::refine")


def test_a_system_library_built_in_a_distribution_build_path_is_library_code():
    r = _crash("(gdb) bt\n#0  0x00007ffff015a87d in  ()\n"
               "#1  0x00007ffff7a41c52 in g_object_unref (_object=0x7d10a0) at /build/glib2.0-Xk3vQa/glib2.0-2.56.4/./gobject/gobject.c:3340\n"
               "#2  0x00000000004231d3 in cache_entry_free (item=0x7d3e10) at ../src/cache.c:53\n")
    assert r["top_own_frame"] == "cache_entry_free"


def test_a_far_pointer_is_not_the_fault_address_when_the_line_goes_on_through_a_pointer_loaded_from_it():
    head = ("Thread 1 \"app\" received signal SIGSEGV, Segmentation fault.\n"
            "0x00007ffff7a0c1b2 in Item::flag (this=0x7250b0) at item.cpp:40\n40\t  return {};\n"
            "#1  0x00007ffff7a0d000 in Scene::draw (this=0x7ffff0001000) at scene.cpp:9\n")
    chained = head.replace("return {};", "return this->impl->flag;")
    direct = head.replace("return {};", "return this->flag;")
    assert _crash(chained)["class"] == "unknown"
    assert _crash(direct)["class"] == "wild-pointer"


def test_a_null_field_of_a_struct_local_in_the_caller_is_no_null_dereference():
    text = ("Thread 1 received signal SIGSEGV, Segmentation fault.\n"
            "#0  0x00007ffff1234567 in ?? () from /usr/lib/libvulkan_radeon.so\n"
            "#1  0x000055555589d75a in acquire_image (vk=0x5555564f8348) at gpu.c:1851\n"
            "        fence_info = {sType = 8, pNext = 0x0, flags = 0}\n")
    assert _crash(text)["class"] == "unknown"
    assert _crash(text.replace("        fence_info", "        fence = 0x0\n        fence_info"))["class"] == "null-deref-read"


def test_a_signal_handler_printing_its_own_backtrace():
    r = _crash("Error: signal 11:\n./tool[0x401005]\n/lib/x86_64-linux-gnu/libc.so.6(+0x3ef20)[0x7fb2c81d1f20]\n"
               "/lib/x86_64-linux-gnu/libc.so.6(__fprintf_chk+0x1a3)[0x7fb2c82a55c3]\n./tool[0x403540]\n"
               "/lib/x86_64-linux-gnu/libc.so.6(__libc_start_main+0xe7)[0x7fb2c81b3b97]\n")
    # the handler (frame 0) and the trampoline are not the crash; the signal is the handler's number
    assert (r["signal"], r["class"]) == ("SIGSEGV", "unknown") and r["top_own_frame"].endswith("@0x540")
