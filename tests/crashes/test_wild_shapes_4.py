"""Shapes real users paste that held-out batch 17 found unread (each test: our own small snippet, not a paste)."""
from forensics.crashes.load import load_text


def _crash(text):
    return load_text(text).crash


_SERVER_REPORT = """\
09:12:44 UTC - mysqld got signal 11 ;
Most likely, you have hit a bug, but this error can also be caused by malfunctioning hardware.
key_buffer_size=8388608
max_threads=151
Thread pointer: 0x7f00aa001000
Attempting backtrace. You can use the following information to find out
where mysqld died. If you see no messages after this, something went
terribly wrong...
stack_bottom = 7f00bb0fe000 thread_stack 0x49000
{frames}
"""


def test_mysql_family_signal_handler_report_keys_the_frame_under_the_trampoline():
    frames = ("/usr/sbin/mysqld(my_print_stacktrace+0x2e)[0x5600000a1b2e]\n"
              "/usr/sbin/mysqld(handle_fatal_signal+0x2a1)[0x5600000c3d41]\n"
              "/lib/x86_64-linux-gnu/libpthread.so.0(+0x12890)[0x7f00cc012890]\n"
              "/usr/lib/mysql/plugin/ha_toy.so(toy_row_read+0x19)[0x7f00dd001119]\n"
              "/usr/sbin/mysqld(do_command+0x40)[0x5600000e0040]")
    r = _crash(_SERVER_REPORT.format(frames=frames))
    assert r["signal"] == "SIGSEGV"
    assert r["class"] == "unknown"          # no fault address printed: NULL or wild cannot be told
    assert r["top_own_frame"] == "toy_row_read"
    assert "my_print_stacktrace" not in r["bucket"] and "handle_fatal_signal" not in r["bucket"]


def test_two_servers_whose_handler_print_stops_at_the_trampoline_never_share_a_bucket():
    cut = ("/usr/libexec/mysqld(my_print_stacktrace+0x24) [0x842d64]\n"
           "/usr/libexec/mysqld(handle_segfault+0x351) [0x58ad61]\n"
           "/lib64/libpthread.so.0 [0x3315{}0eb10]")
    a = load_text(_SERVER_REPORT.format(frames=cut.format("00"))).crash
    b = load_text(("- " + _SERVER_REPORT).format(frames=cut.format("11"))).crash
    assert a["signal"] == b["signal"] == "SIGSEGV"
    assert a["top_own_frame"] is None and b["top_own_frame"] is None
    assert a["bucket"] != b["bucket"]


def test_libstdcxx_debug_assertion_with_plain_quotes_is_an_assertion():
    msg = ("/usr/include/c++/12/bits/stl_vector.h:1123: reference std::vector<int>::operator[](size_type): "
           "Assertion '__n < this->size()' failed.")
    r = _crash("toy v0.1 starting\n" + msg + "\nAborted (core dumped)\n")
    assert (r["class"], r["subclass"]) == ("assertion-failure", "__n < this->size()")
    # alone, in an inline code span, the shell's last words on the same line
    r = _crash("`" + msg + " Aborted (core dumped)`\n")
    assert (r["class"], r["subclass"]) == ("assertion-failure", "__n < this->size()")


def test_strace_signal_line_gives_signal_code_and_address():
    text = ('openat(AT_FDCWD, "in.dat", O_RDONLY) = 3\n'
            'read(3, "HDR1"..., 4096) = 4096\n'
            "--- SIGBUS {si_signo=SIGBUS, si_code=BUS_ADRALN, si_addr=0xbee01003} ---\n"
            "+++ killed by SIGBUS (core dumped) +++\n")
    r = _crash(text)
    assert (r["signal"], r["si_code"], r["fault_address"]) == ("SIGBUS", 1, 0xbee01003)
    assert (r["class"], r["subclass"]) == ("bus-error", "misaligned")
    r = _crash("write(1, \"ok\\n\", 3) = 3\n--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=NULL} ---\n"
               "+++ killed by SIGSEGV +++\n")
    assert (r["signal"], r["fault_address"]) == ("SIGSEGV", 0)
    assert r["class"].startswith("null-deref")


def test_ctest_signal_verdict_is_the_last_words():
    r = _crash("      Start  3: parser_roundtrip\n 3/9 Test  #3: parser_roundtrip .........Bus error***Exception:   0.12 sec\n")
    assert (r["signal"], r["class"]) == ("SIGBUS", "bus-error")
    r = _crash(" 4/9 Test  #4: codec ....................***Exception: SegFault  0.20 sec\n")
    assert r["signal"] == "SIGSEGV"
    r = _crash(" 5/9 Test  #5: tree .....................Subprocess aborted***Exception:   0.05 sec\n")
    assert r["signal"] == "SIGABRT"


def test_vscode_copied_call_stack_is_read_as_frames():
    text = ("__pthread_kill_implementation (Unknown Source:0)\nraise (Unknown Source:0)\nabort (Unknown Source:0)\n"
            "Widget::render() (/src/app/widget.cpp:88)\nmain (/src/app/main.cpp:12)\n")
    c = load_text(text)
    assert c.crash["class"] == "abort"
    assert c.crash["top_own_frame"] == "Widget::render"
    assert list(c.frames["function"])[:3] == ["__pthread_kill_implementation", "raise", "abort"]


def test_log_record_level_and_tag_columns_come_off_and_old_go_closure_names_read():
    body = ["panic: runtime error: invalid memory address or nil pointer dereference",
            "[signal 0xb code=0x1 addr=0x0 pc=0x4a1f20]", "", "goroutine 12 [running]:",
            "example.com/toy/feed.func·003(0x4)", "\t/home/dev/go/src/example.com/toy/feed/feed.go:41 +0x1c2",
            "created by example.com/toy/feed.Start", "\t/home/dev/go/src/example.com/toy/feed/feed.go:50 +0x90"]
    text = "".join(f"10:20:3{i % 10} {101.5 + i:.6f} T:140001  ERROR: [toy.addon] {ln}\n" for i, ln in enumerate(body))
    r = _crash(text)
    assert (r["class"], r["crash_thread"]) == ("null-deref-read", 12)
    assert r["top_own_frame"] == "example.com/toy/feed.func·003"


def test_x86_general_protection_fault_from_macos_is_a_non_canonical_access():
    lldb = ("Process 77 stopped\n"
            "* thread #1: tid = 0x1d2, 0x0000000100001f40 toy`walk + 16 at walk.c:9, queue = 'com.apple.main-thread', "
            "stop reason = EXC_BAD_ACCESS (code=EXC_I386_GPFLT)\n"
            "    frame #0: 0x0000000100001f40 toy`walk + 16 at walk.c:9\n")
    r = _crash(lldb)
    assert (r["class"], r["subclass"], r["si_code"]) == ("wild-pointer", "non-canonical", 128)
    report = ("Process:               toy [501]\nCrashed Thread:        0  Dispatch queue: com.apple.main-thread\n\n"
              "Exception Type:        EXC_BAD_ACCESS (SIGSEGV)\nException Codes:       EXC_I386_GPFLT\n\n"
              "Thread 0 Crashed:: Dispatch queue: com.apple.main-thread\n"
              "0   toy                           0x0000000100001f40 walk + 16 (walk.c:9)\n")
    r = _crash(report)
    assert (r["class"], r["subclass"]) == ("wild-pointer", "non-canonical")


_VG_HEAD = "==41== Memcheck, a memory error detector\n==41== Command: ./toy\n==41==\n"


def test_valgrind_heap_overflow_and_use_after_free_with_the_termination_cut():
    over = (_VG_HEAD + "==41== Invalid write of size 4\n==41==    at 0x401136: fill (fill.c:7)\n"
            "==41==    by 0x401170: main (fill.c:15)\n"
            "==41==  Address 0x4a4b068 is 0 bytes after a block of size 40 alloc'd\n"
            "==41==    at 0x483B7F3: malloc (in /usr/lib/valgrind/vgpreload_memcheck-amd64-linux.so)\n"
            "==41==    by 0x401160: main (fill.c:13)\n")
    r = _crash(over)
    assert (r["class"], r["top_own_frame"]) == ("heap-corruption", "fill")
    freed = over.replace("0 bytes after a block of size 40 alloc'd", "8 bytes inside a block of size 40 free'd")
    assert _crash(freed)["class"] == "wild-pointer"
    # an error elsewhere (a global, the stack) says nothing more
    other = over.replace("0 bytes after a block of size 40 alloc'd", "on thread 1's stack")
    assert _crash(other)["class"] == "unknown"


def test_valgrind_stack_pointer_jump_then_invalid_write_is_a_frame_larger_than_the_stack():
    text = (_VG_HEAD + "==41== Warning: client switching stacks?  SP change: 0x1ffefffd10 --> 0x1ffe0fdd00\n"
            "==41==          to suppress, use: --max-stackframe=15736848 or greater\n"
            "==41== Invalid write of size 8\n==41==    at 0x401126: main (big.c:5)\n")
    r = _crash(text)
    assert (r["class"], r["top_own_frame"]) == ("stack-overflow", "main")
    # a switch to a stack elsewhere (a green thread's heap-allocated stack) is no such evidence
    far = text.replace("0x1ffe0fdd00", "0x04a4c000")
    assert _crash(far)["class"] == "unknown"


def test_a_handler_announcing_the_signal_in_its_own_voice():
    r = _crash("step 120: sim ok\ntoysim has encountered a segmentation fault!\n\n--- BEGIN BACKTRACE ---\n--- END BACKTRACE ---\n")
    assert (r["signal"], r["class"]) == ("SIGSEGV", "unknown")     # no address: NULL or wild cannot be told


def test_idle_threads_of_a_systemd_coredump_stack_list_are_no_hang():
    waits = "".join(
        f"        Stack trace of thread {tid}:\n"
        f"        #0  0x00007f0000001f32 n/a (libc.so.6 + 0x9ef32)\n"
        f"        #1  0x00007f0000004e5e pthread_cond_wait (libc.so.6 + 0x95e5e)\n"
        f"        #2  0x00007f00a0000100 n/a (libworker.so.1 + 0x100)\n\n" for tid in (501, 502))
    r = _crash(waits)
    assert r["class"] == "unknown"


def test_a_handler_that_re_raises_the_signal_is_not_the_top_own_frame():
    text = ("Core was generated by `toyview'.\nProgram terminated with signal SIGSEGV, Segmentation fault.\n"
            "#0  __GI_raise (sig=sig@entry=11) at ../sysdeps/unix/sysv/linux/raise.c:50\n"
            "#1  0x0000555555556a10 in on_fatal_signal (signal=11) at crash.c:40\n"
            "#2  <signal handler called>\n"
            "#3  0x0000555555557b20 in copy_title (dst=0x0, src=0x55555575a2a0 \"x\") at title.c:12\n"
            "#4  0x0000555555557c00 in main () at main.c:9\n")
    r = _crash(text)
    assert r["top_own_frame"] == "copy_title"
    assert "on_fatal_signal" not in r["bucket"]


def test_a_handler_printing_the_siginfo_it_caught_and_a_backtrace_tail_without_frame_0():
    text = ("#7  0x00000001 in ?? ()\n#8  0x0804a1b2 in ?? () from /usr/lib/libtoy.so.1\n#9  0x00000000 in ?? ()\n"
            "(gdb) continue\nContinuing.\n"
            "SIGSEGV in worker thread caught:\n    errno = 0 (Success)\n    address = 0xdeadbee0\n"
            "        address not mapped to object\n")
    r = _crash(text)
    assert (r["signal"], r["si_code"], r["fault_address"]) == ("SIGSEGV", 1, 0xdeadbee0)
    assert r["class"] == "wild-pointer"       # not bad-pc: "#7  0x00000001" is a return address, frame 0 is cut
    # the same tail with no handler report: frame 7's tiny pc is no bad-pc evidence either
    assert _crash(text.split("(gdb) continue")[0])["class"] == "unknown"


def test_backward_cpp_print_and_glibc_psiginfo_line():
    text = ("$ ./toy\nStack trace (most recent call last):\n"
            '#3    Object "/lib/libc.so.6", at 0x7f1000021b97, in __libc_start_main\n'
            '#2    Source "/src/toy/main.cpp", line 20, in main [0x401190]\n'
            "         18:   int *p = nullptr;\n      >  20:   use(p);\n"
            '#1    Source "/src/toy/use.cpp", line 7, in use(int*) [0x401136]\n'
            '#0    Source "/src/toy/third_party/backward.hpp", line 4270, in handleSignal [0x402000]\n'
            "Segmentation fault (Address not mapped to object [(nil)])\n")
    c = load_text(text)
    r = c.crash
    assert (r["signal"], r["si_code"], r["fault_address"]) == ("SIGSEGV", 1, 0)
    assert r["class"] == "null-deref-read"          # psiginfo does not say read or write: read assumed
    assert r["top_own_frame"] == "use"              # backward-cpp's own handler frame is library code
    assert list(c.frames["frame"]) == [0, 1, 2, 3]
