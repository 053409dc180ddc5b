"""Producers other than gdb's own text: sanitizer reports (generated), glibc's backtrace print, Go's
older runtime lines, systemd-coredump's journal form and paste shapes met in the wild.

The sanitizer tests read real AddressSanitizer output made by
``sample_data/generate/crashes/sanitizers.py``; the short strings below are our own minimal
examples of each shape (no third-party text)."""
import os
import warnings

import pytest

from forensics.crashes.load import load_gdb, load_text
from forensics.crashes.parse import parse_text

from .conftest import SAMPLES


def _asan(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_gdb(os.path.join(SAMPLES, f"{name}__asan-O0__asan.txt")).crash


@pytest.mark.parametrize("name,cls,sub,top", [
    ("null_read", "null-deref-read", "", "read_record_count"),
    ("null_write", "null-deref-write", "", "store_result"),
    ("use_after_free", "wild-pointer", "heap-use-after-free:read", "count_hit"),
    ("heap_overflow", "heap-corruption", "heap-buffer-overflow:write", "copy_line"),
    ("double_free", "heap-corruption", "double-free", "release_buffer"),
    ("invalid_free", "heap-corruption", "bad-free", "drop_token"),
    ("stack_smash", "stack-buffer-overrun", "stack-buffer-overflow:write", "parse_username"),
    ("stack_overflow", "stack-overflow", "stack-overflow", "walk_tree"),
])
def test_asan_reports(name, cls, sub, top):
    c = _asan(name)
    assert (c["class"], c["subclass"], c["top_own_frame"]) == (cls, sub, top), c["reason"]


def test_asan_interceptor_is_not_the_culprit_and_other_stacks_are_not_the_crash_stack():
    t = parse_text(open(os.path.join(SAMPLES, "use_after_free__asan-O0__asan.txt")).read())
    assert t.facts["sanitizer_kind"] == "heap-use-after-free" and t.facts["access"] == "read"
    # the "freed by" and "previously allocated by" stacks are kept as text, not as frames
    assert list(t.frames["frame"]) == list(range(len(t.frames)))
    assert "logout" not in set(t.frames["function"])
    assert _asan("heap_overflow")["top_own_frame"] == "copy_line"      # not __interceptor_memset


def test_sanitizer_thread_and_seg_fault_thread():
    c = load_text("==9==ERROR: AddressSanitizer: heap-use-after-free on address 0x6020 at pc 0x40 bp 0x1 sp 0x2\n"
                  "WRITE of size 8 at 0x6020 thread T3\n"
                  "    #0 0x401000 in push_job /src/queue.c:75\n"
                  "    #1 0x401100 in worker /src/queue.c:120\n").crash
    assert (c["class"], c["subclass"], c["crash_thread"]) == ("wild-pointer", "heap-use-after-free:write", 4)
    assert c["top_own_frame"] == "push_job"


def test_glibc_backtrace_print():
    c = load_text("*** stack smashing detected ***: ./tool terminated\n"
                  "======= Backtrace: =========\n"
                  "/lib/x86_64-linux-gnu/libc.so.6(__fortify_fail+0x45)[0x7f00000a2bc5]\n"
                  "/lib/x86_64-linux-gnu/libc.so.6(+0x104b7a)[0x7f00000a2b7a]\n"
                  "./libtool.so(+0x2564)[0x7f000075a564]\n"
                  "./libtool.so(parse_args+0x4d8)[0x7f00007591f1]\n"
                  "./tool[0x4009d9]\n").crash
    assert c["class"] == "stack-buffer-overrun"
    assert c["top_own_frame"].endswith("@0x564")


def test_go_numeric_signal_and_runtime_throw():
    c = load_text("panic: runtime error: invalid memory address or nil pointer dereference\n"
                  "[signal 0xb code=0x1 addr=0x8 pc=0x8048f30]\n\n"
                  "goroutine 1 [running]:\nmain.main()\n\t/app/main.go:25 +0x330\n").crash
    assert (c["signal"], c["class"], c["top_own_frame"]) == ("SIGSEGV", "null-deref-read", "main.main")
    c = load_text("fatal error: concurrent map writes\n\ngoroutine 7 [running]:\n"
                  "runtime.throw(0x6df750, 0x15)\n\t/usr/local/go/src/runtime/panic.go:605 +0x95\n"
                  "main.record(0xc420162000)\n\t/app/stats.go:42 +0xdd\n").crash
    assert (c["class"], c["subclass"], c["crash_thread"], c["top_own_frame"]) == ("abort", "go-fatal", 7, "main.record")


def test_coredumpctl_without_stack_and_journal_form():
    c = load_text("           PID: 41 (tool)\n           UID: 1000 (me)\n        Signal: 11 (SEGV)\n"
                  "  Command Line: tool --run\n    Executable: /usr/bin/tool\n").crash
    assert (c["signal"], c["program"], c["class"]) == ("SIGSEGV", "tool", "unknown")
    c = load_text("systemd-coredump[50]: Process 41 (tool) of user 1000 dumped core.\n"
                  "                \n                Stack trace of thread 41:\n"
                  "                #0  0x00007f00000aa81b pthread_kill (libc.so.6 + 0xaa81b)\n"
                  "                #1  0x00007f0000044558 raise (libc.so.6 + 0x44558)\n"
                  "                #2  0x00007f000002560f abort (libc.so.6 + 0x2560f)\n"
                  "                #3  0x0000555555555139 check_config (tool + 0x1139)\n").crash
    assert (c["class"], c["top_own_frame"]) == ("abort", "check_config")


def test_paste_shapes():
    # a space after '#' in the frame numbers, and a hang whose thread the user switched to
    c = load_text("(gdb) thread 5\n[Switching to thread 5 (Thread 0x7f0 (LWP 26936))]\n"
                  "# 0  0x00007f852bf5b1fd in __lll_lock_wait () from /lib/x86_64-linux-gnu/libpthread.so.0\n"
                  "# 1  0x00007f852bf54025 in pthread_mutex_lock () from /lib/x86_64-linux-gnu/libpthread.so.0\n"
                  "# 2  0x0000000000569c14 in cache_lock (c=0x209de50) at cache.c:117\n").crash
    assert (c["class"], c["crash_thread"], c["top_own_frame"]) == ("deadlock", 5, "cache_lock")
    # the stop line with its source line glued on
    c = load_text("Program received signal SIGSEGV, Segmentation fault.\n"
                  "0x08053915 in Node::Finish (this=0x806bb08) at node.cc:193          next->prev = prev;\n").crash
    assert (c["top_own_frame"], c["class"]) == ("Node::Finish", "unknown")     # no address: NULL or wild unknown
    assert parse_text("Program received signal SIGSEGV, Segmentation fault.\n"
                      "0x0805 in f (p=0x1) at n.cc:9     p->next = 0;\n").facts["crash_source"] == "p->next = 0;"
    # libstdc++'s bounds check (_GLIBCXX_ASSERTIONS) is an assertion
    c = load_text("Program terminated with signal SIGABRT, Aborted.\n"
                  "#0  __pthread_kill_implementation (no_tid=0, signo=6, threadid=<optimized out>) at ./nptl/pthread_kill.c:44\n"
                  "#1  0x00007634e42288ff in __GI_abort () at ./stdlib/abort.c:79\n"
                  "#2  0x00007634e46df90d in std::__glibcxx_assert_fail(char const*, int, char const*, char const*) () "
                  "from /lib/x86_64-linux-gnu/libstdc++.so.6\n"
                  "#3  0x00005d956e210ac0 in show_zone (n=659) at zones.cpp:820\n").crash
    assert (c["class"], c["top_own_frame"]) == ("assertion-failure", "show_zone")


def test_lldb_jump_to_a_bad_pc():
    c = load_text("* thread #1, stop reason = EXC_BAD_ACCESS (code=1, address=0x2000000020)\n"
                  "  * frame #0: 0x0000002000000020\n"
                  "    frame #1: 0x000000010003e239 app`Window::Redraw() + 41\n").crash
    assert (c["class"], c["top_own_frame"]) == ("bad-pc", "Window::Redraw")


def test_go_panic_without_signal_and_local_package():
    c = load_text("panic: runtime error: index out of range [1] with length 1\n\ngoroutine 1 [running]:\n"
                  "_/home/me/tool/commands.init.8()\n\t/home/me/tool/commands/root.go:78 +0x7df\n"
                  "main.init()\n\t/home/me/tool/main.go:46 +0x47\n").crash
    assert (c["class"], c["subclass"], c["top_own_frame"]) == ("abort", "go-panic", "commands.init.8")


def test_code_inlined_from_system_headers_is_not_own():
    c = load_text("Program received signal SIGILL, Illegal instruction.\n"
                  "#0  0x0000555555b354bd in YAML::Node::begin (this=0x7fffffffce70) at /usr/include/yaml-cpp/node/impl.h:281\n"
                  "#1  0x0000555555b9cdb3 in Config::load (this=0x7fffffffce70) at src/config.cpp:263\n").crash
    assert (c["class"], c["top_own_frame"]) == ("illegal-instruction", "Config::load")


def test_ide_frame_list():
    c = load_text("pure virtual method called\nterminate called without an active exception\n"
                  "__GI_raise 0x00007ffff4a42866\n__GI_abort 0x00007ffff4a268b7\n<unknown> 0x00007ffff4ea4f06\n"
                  "<unknown> 0x00007ffff4eb6e6c\nstd::terminate() 0x00007ffff4eb6ed7\n__cxa_pure_virtual 0x00007ffff4eb7c05\n"
                  "Board::~Board board.cpp:1575\nGame::Shutdown game.cpp:804\nmain main.cpp:1304\n").crash
    assert (c["class"], c["top_own_frame"]) == ("uncaught-exception", "Board::~Board")


@pytest.mark.parametrize("name,cls,thread", [
    ("assert_fail", "assertion-failure", 1), ("double_free", "heap-corruption", 1),
    ("divide_by_zero", "divide-by-zero", 1),
    ("worker_crash", "unknown", 1),     # SIGSEGV: coredumpctl prints no fault address; the worker is listed first
])
def test_real_coredumpctl_info(name, cls, thread):
    """``coredumpctl info`` printed by systemd 252's own tools (sample_data/generate/crashes/coredumpctl.py)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = load_gdb(os.path.join(SAMPLES, f"{name}__g-O0__coredumpctl.txt")).crash
    assert (c["class"], c["crash_thread"], c["signal"]) == (cls, thread, c["signal"] or "?")
    assert c["program"].endswith(name) and c["signal"].startswith("SIG")


def test_bt_pasted_without_frame_numbers():
    c = load_text("Thread 2 \"server\" received signal SIGSEGV, Segmentation fault.\n"
                  "[Switching to Thread 0x7ffff3d1e700 (LWP 4512)]\n"
                  "__memcpy_avx_unaligned () at ../sysdeps/x86_64/multiarch/memcpy-avx-unaligned.S:238\n"
                  "(gdb) bt\n"
                  "__memcpy_avx_unaligned () at ../sysdeps/x86_64/multiarch/memcpy-avx-unaligned.S:238\n"
                  "0x00007ffff692cb24 in copy_params () from /usr/lib/x86_64-linux-gnu/libavcodec.so.58\n"
                  "0x0000000000401f21 in segment_init (seg=0x7ffff411fe50) at segment.c:138\n").crash
    assert (c["crash_thread"], c["top_own_frame"]) == (2, "segment_init")


def test_wrapped_argument_list_and_a_source_line_that_lost_its_tab():
    # gdb's tab became spaces in the paste; the argument list went to the next line
    c = load_text("Program received signal SIGSEGV, Segmentation fault.\n"
                  "std::_Rb_tree<int, int>::_M_erase (\n    this=0xe52a40, __x=0x100e52b10) at /usr/include/c++/4.8/bits/stl_tree.h:1120\n"
                  "1120      _M_erase(_S_right(__x));\n"
                  "(gdb) bt\n#0  std::_Rb_tree<int, int>::_M_erase\n    (this=0xe52a40, __x=0x100e52b10)\n"
                  "    at /usr/include/c++/4.8/bits/stl_tree.h:1120\n"
                  "#1  0x00000000005c68ef in ~_Rb_tree (this=0xe52a40) at /usr/include/c++/4.8/bits/stl_tree.h:671\n"
                  "#2  0x00000000005c6900 in Translations::~Translations (this=0xe52a30) at translation.cpp:88\n").crash
    assert c["class"] == "wild-pointer"          # __x is read on the line and lies 4 GiB from everything else
    assert c["top_own_frame"] == "Translations::~Translations"      # ~_Rb_tree is libstdc++'s (a reserved name)


@pytest.mark.parametrize("name,cls", [("null_write__g-O0__bt.txt", "null-deref-write"),
                                      ("wild_read__g-O0__bt.txt", "wild-pointer")])
def test_gdb_source_lines_with_a_tab_and_indented_code_still_decide(name, cls):
    """gdb prints ``12\\t    p->x = 1;``: the source line that tells a store from a load (and names the
    dereferenced pointer) must be read whatever follows the tab."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert load_gdb(os.path.join(SAMPLES, name)).crash["class"] == cls


@pytest.mark.parametrize("text,cls,sub", [
    ("terminate called after throwing an instance of 'std::out_of_range'\n  what():  vector::_M_range_check\nAborted\n",
     "uncaught-exception", "std::out_of_range"),
    ("queue::push(item *): Assertion `head < tail' failed.\nAborting on shard 3.\nBacktrace:\n  0x4a9edd6\n",
     "assertion-failure", "head < tail"),
    ("demo: demo.c:12: main: Assertion `n > 0' failed.\n", "assertion-failure", "n > 0"),
])
def test_the_runtimes_last_words_alone(text, cls, sub):
    """No gdb, no frames: the terminate or assert message the runtime prints before abort() is the verdict."""
    c = load_text(text).crash
    assert (c["class"], c["subclass"]) == (cls, sub)
    assert "on the stack" not in c["reason"]


@pytest.mark.parametrize("hint,cls", [
    ("this fault was caused by a dereference of a high value address (see register values below).",
     "wild-pointer"),
    ("address points to the zero page.", "null-deref-read"),
])
def test_asan_segv_without_an_address_uses_its_hint(hint, cls):
    text = ("==9==ERROR: AddressSanitizer: SEGV on unknown address (pc 0x55a37767b09d bp 0x7ffd0 sp 0x7ffd1 T0)\n"
            "==9==The signal is caused by a READ memory access.\n"
            f"==9==Hint: {hint}\n"
            "    #0 0x55a37767b09d in process_cmd /src/app/cmds.c:130\n"
            "    #1 0x55a37767a65d in main /src/app/main.c:18\n")
    t = parse_text(text)
    assert t.facts["sanitizer_addr"] is None          # the pc is not the address accessed
    c = load_text(text).crash
    assert c["class"] == cls and c["top_own_frame"] == "process_cmd"


def test_gdb_output_copied_as_html_and_a_fault_inside_free():
    """A terminal's copy-as-HTML (<font color> markup, &quot; entities); SIGSEGV in free() is the heap's,
    even though a local shows a NULL member."""
    text = ('Program received signal SIGSEGV, Segmentation fault.\n'
            '<font color="#0000CD">0x00007ffff7e5a3c0</font> in free () from /usr/lib64/libc.so.6\n'
            '(gdb) bt full\n'
            '<font color="#CDCD00">#0  </font><font color="#0000CD">0x00007ffff7e5a3c0</font> in free () '
            'from /usr/lib64/libc.so.6\n'
            '<font color="#CDCD00">#1  </font><font color="#0000CD">0x000055555555b5fd</font> in run_case '
            '(<font color="#00CDCD">pattern</font>=0x55555555c05b &quot;&quot;) at <font color="#00CD00">t.c</font>:79\n'
            '        <font color="#00CDCD">reg</font> = {impl = <font color="#0000CD">0x0</font>, n = 0}\n')
    c = load_text(text).crash
    assert c["class"] == "heap-corruption" and c["subclass"] == "segv-in-allocator:free"
    assert c["top_own_frame"] == "run_case"


def test_android_tombstone_and_the_arm_division_helper():
    text = ("F DEBUG   : pid: 41, tid: 42, name: worker  >>> org.example <<<\n"
            "F DEBUG   : signal 8 (SIGFPE), code -6 (SI_TKILL), fault addr 0x29\n"
            "F DEBUG   : backtrace:\n"
            "F DEBUG   :     #00 pc 00037b4c  /system/lib/libc.so (tgkill+12)\n"
            "F DEBUG   :     #01 pc 00014beb  /system/lib/libc.so (raise+10)\n"
            "F DEBUG   :     #02 pc 0057d994  /data/app/org.example/lib/arm/libcore.so (__aeabi_idiv0+8)\n"
            "F DEBUG   :     #03 pc 002d99a1  /data/app/org.example/lib/arm/libcore.so (Picker::add(int)+40)\n")
    c = load_text(text).crash
    assert (c["class"], c["subclass"], c["origin"]) == ("divide-by-zero", "software-helper", "self")
    assert c["top_own_frame"] == "Picker::add"


@pytest.mark.parametrize("line,sig,addr", [
    ("*** SIGSEGV (@0x0) received by PID 7 (TID 0x7f00) from PID 0; stack trace: ***", "SIGSEGV", 0),
    ("*** Signal 7 (SIGBUS) (0x7f3559c9b000) received by PID 5 (pthread TID 0x7f35) (linux TID 9) "
     "(code: nonexistent physical address), stack trace: ***", "SIGBUS", 0x7f3559c9b000),
])
def test_glog_and_folly_failure_signal_lines(line, sig, addr):
    t = parse_text("*** Aborted at 1623187919 (unix time) try \"date -d @1623187919\" ***\n" + line + "\n")
    assert (t.facts["signal"], t.facts["si_addr"]) == (sig, addr)
    assert load_text(line + "\n").crash["class"] == ("null-deref-read" if sig == "SIGSEGV" else "bus-error")


def test_markdown_heading_ate_the_asan_pid():
    text = ("## ERROR: AddressSanitizer: heap-use-after-free on address 0x6200 at pc 0x53 bp 0x7f sp 0x7e\n"
            "#### WRITE of size 8 at 0x6200 thread T0\n"
            "    #0 0x536b82 in fetch_next lib/queue.c:13\n"
            "    #1 0x416e4d in main src/main.c:22\n")
    c = load_text(text).crash
    assert (c["class"], c["subclass"], c["top_own_frame"]) == ("wild-pointer", "heap-use-after-free:write", "fetch_next")


@pytest.mark.parametrize("text", ["*** stack smashing detected ***: terminated\nAborted (core dumped)\n",
                                  "double free or corruption (out)\nAborted\n"])
def test_glibc_fatal_message_alone(text):
    assert load_text(text).crash["class"] in ("stack-buffer-overrun", "heap-corruption")


def test_template_arguments_with_spaces_in_the_stop_line():
    text = ("Program received signal SIGILL, Illegal instruction.\n"
            "0x0000000000ae6c8a in ns::Dist<float, 14u>::make() ()\n")
    c = load_text(text).crash
    assert c["class"] == "illegal-instruction" and c["top_own_frame"].startswith("ns::Dist")


def test_macos_mutex_wait_is_a_lock_wait():
    text = ("#0  0x00007fff7ca51f06 in ?? () from /usr/lib/system/libsystem_kernel.dylib\n"
            "#1  0x00007fff7cb0ed52 in _pthread_mutex_firstfit_lock_wait () from /usr/lib/system/libsystem_pthread.dylib\n"
            "#2  0x0000000100034efb in build_nodes () at tree.c:474\n")
    assert load_text(text).crash["class"] == "deadlock"


def test_ruby_bug_line_and_its_c_backtrace_are_the_interpreters():
    text = ("app.rb:3: [BUG] Segmentation fault at 0x0000000000000028\n"
            "-- C level backtrace information -------------------------------------------\n"
            "/usr/lib/libruby.so.2.7(rb_vm_bugreport+0x562) [0x7ff97fd6db72]\n"
            "/usr/lib/libruby.so.2.7(rb_bug_for_fatal_signal+0xef) [0x7ff97fba129f]\n"
            "/lib/x86_64-linux-gnu/libpthread.so.0(__restore_rt+0x0) [0x7ff97f8b2420]\n"
            "/usr/lib/libruby.so.2.7(st_lookup+0x88) [0x7ff97fba1300]\n")
    c = load_text(text).crash
    assert c["class"] == "null-deref-read"
    assert c["top_own_frame"] is None          # libruby is the interpreter, not the extension's code


def test_no_signal_but_stopped_inside_malloc_is_heap_corruption():
    text = ("#0  0x0000003c1a27a6f3 in _int_malloc () from /lib64/libc.so.6\n"
            "#1  0x0000003c1a27b5e1 in malloc () from /lib64/libc.so.6\n"
            "#2  0x00007ff7408a9c34 in buf_new (init=0x7fff4481c5f0, len=1) at src/buf.c:55\n")
    c = load_text(text).crash
    assert c["class"] == "heap-corruption" and c["top_own_frame"] == "buf_new"


def test_a_pointer_gdb_could_not_read_is_the_fault_address():
    text = ("Thread 1 \"demo\" received signal SIGSEGV, Segmentation fault.\n"
            "import_array (ctx=0x56786158, ptr=0x14 <error: Cannot access memory at address 0x14>, count=4) at draw.c:212\n")
    assert load_text(text).crash["class"] == "null-deref-read"


def test_a_bt_without_numbers_or_command():
    text = ("> 0x00007fffee7c253e in ?? () from /usr/lib/dri/i965_dri.so\n"
            "0x00007fffee7c23ba in ?? () from /usr/lib/dri/i965_dri.so\n"
            "0x0000555555ca080d in PixelRequest::request (this=0x7fffffffd290, x=114, y=80)\n"
            "    at /home/u/src/video/gl/pixel_request.cpp:56\n"
            "0x0000555555c9f613 in Painter::get_pixel (this=0x555556c29f60) at /home/u/src/video/gl/painter.cpp:483\n")
    c = load_text(text).crash
    assert c["top_own_frame"] == "PixelRequest::request"
