"""Shapes real users paste that held-out batch 16 found unread (each test: our own small snippet, not a paste)."""
from forensics.crashes.load import load_text
from forensics.crashes.paste import normalize_paste


def _crash(text):
    return load_text(text).crash


def test_log_time_stamp_columns_come_off_every_line():
    text = ("2024-05-01 10:00:00 - Thread 3 \"worker\" received signal SIGSEGV, Segmentation fault.\n"
            "2024-05-01 10:00:00 - [Switching to Thread 0x7ffff0000700 (LWP 4242)]\n"
            "2024-05-01 10:00:00 - 0x0000555555555123 in parse_item (p=0x0) at item.c:12\n"
            "2024-05-01 10:00:00 - \n"
            "2024-05-01 10:00:01 - #1  0x0000555555555200 in main () at main.c:5\n")
    assert normalize_paste(text).split("\n")[0].startswith("Thread 3 \"worker\" received signal SIGSEGV")
    r = _crash(text)
    assert (r["signal"], r["crash_thread"], r["top_own_frame"]) == ("SIGSEGV", 3, "parse_item")
    # one time-stamped line among gdb's lines is left as it is
    mixed = "12:00:01 started\n#0  0x0000555555555123 in f () at a.c:1\n#1  0x0000555555555200 in main () at a.c:9\n"
    assert normalize_paste(mixed).startswith("12:00:01 started")


def test_asan_tail_in_a_numbered_log_loads_as_a_report_without_kind():
    rows = ["  0x60200000ef00: fa fa fd fd fa fa 00 00", "Shadow byte legend (one shadow byte represents 8 application bytes):",
            "  Addressable:           00", "  Heap left redzone:       fa", "  Freed heap region:       fd", "==777==ABORTING"]
    text = "".join(f"{i:08d}\t09:15:0{i % 10}\t[777] {row}\t\n" for i, row in enumerate(rows, 40))
    r = _crash(text)
    assert (r["class"], r["subclass"]) == ("unknown", "kind-not-shown")
    assert "tail" in r["reason"]


def test_glibc_malloc_printerr_before_2_26_in_a_log():
    r = _crash("[1234] session opened\n*** Error in `/usr/bin/mydaemon': double free or corruption (out): 0x00000000017c2010 ***\n")
    assert (r["class"], r["subclass"]) == ("heap-corruption", "double-free")
    # glibc < 2.18, glued to the last output line, asterisks escaped by markdown
    r = _crash("0000ffff 1024\nabcdef 2048**\\* glibc detected **\\* ./tool: double free or corruption (!prev): 0x09a4e008 ***\n")
    assert r["class"] == "heap-corruption"


def test_fish_and_a_harness_report_the_signal():
    r = _crash("fish: Job 1, './viewer' terminated by signal SIGSEGV (Address boundary error)\n")
    assert (r["signal"], r["class"]) == ("SIGSEGV", "unknown")      # no address: NULL or wild is not decided
    r = _crash("case07    1  TBROK  :  sig.c:12: unexpected signal SIGBUS(7) received (pid = 99).\n")
    assert (r["signal"], r["class"]) == ("SIGBUS", "bus-error")
    assert _crash("worker: terminated by signal SIGTERM (Polite quit request)\n"
                  "Segmentation fault\n")["signal"] == "SIGSEGV"    # TERM is no crash; the shell's line is


def test_windows_access_violation_messages():
    r = _crash("Exception thrown at 0x00007FFA12345678 in game.exe: 0xC0000005: Access violation writing location 0x0000000000000010.\n")
    assert (r["class"], r["fault_address"]) == ("null-deref-write", 0x10)
    r = _crash("Access violation reading location 0xFFFFFFFFFFFFFFFF.\n")
    assert r["class"].startswith("wild-pointer")
    assert "crash message" in _crash("Access violation reading location 0x00000008.\n")["reason"]


def test_windows_crash_report_raw_stack_skips_the_handler_frames():
    text = ("  Exception: 0xC0000005  (EXCEPTION_ACCESS_VIOLATION)\n"
            "  Address  : 0x00007FF8AAAA1111\n"
            "  Access   : WRITE at 0x0000000000000018\n\n"
            "  #0   0x00007FF7BBBB0100  myapp.exe\n"
            "  #1   0x00007FF8CCCC0200  KERNELBASE.dll\n"
            "  #2   0x00007FF8DDDD0300  ntdll.dll\n"
            "  #3   0x00007FF8DDDD0400  ntdll.dll\n"
            "  #4   0x00007FF8AAAA1111  VCRUNTIME140.dll\n"
            "  #5   0x00007FF7BBBB2222  myapp.exe\n"
            "  #6   0x00007FF7BBBB3333  myapp.exe\n")
    c = load_text(text)
    assert (c.crash["class"], c.crash["fault_address"]) == ("null-deref-write", 0x18)
    assert c.crash["top_own_frame"].endswith("@0x222")
    assert len(c.crash_stack()) == 7          # unnamed frames of different modules are no recursion


def test_go_panic_that_lost_its_blanks_or_got_bold():
    r = _crash("panic:runtime error:invalid memory address or nil pointer dereference\ngoroutine 1 [running]:\n")
    assert r["class"] == "null-deref-read"
    r = _crash("panic: runtime error: invalid memory address or **nil pointer** dereference\n"
               "[signal SIGSEGV: segmentation violation code=0x1 **addr=0x8** pc=0x4a1b2c]\n\n"
               "goroutine 7 [running]:\nmain.load(0x0)\n\t/src/app/load.go:14 +0x2c\n")
    assert (r["class"], r["fault_address"], r["top_own_frame"]) == ("null-deref-read", 8, "main.load")


def test_assertion_macro_naming_its_line_in_an_inline_code_span():
    r = _crash("```tool: fatal error: Assertion failed on src/table.c line 77```\n")
    assert r["class"] == "assertion-failure"
    assert "src/table.c line 77" in r["reason"]


def test_addr2line_output_of_a_printed_stack():
    text = ("addr: 0x0000000000401a2b\n"
            "dump_stack at /build/app/src/crash.cc:40\n"
            " (inlined by) on_fatal at /build/app/src/crash.cc:55\n"
            "------\n"
            "addr: 0x00007f0000012345\n"
            "?? ??:0\n"
            "------\n"
            "addr: 0x0000000000402b3c\n"
            "Store::flush at /build/app/src/store.cc:120\n")
    c = load_text(text)
    stack = c.crash_stack()
    assert list(stack["function"]) == ["dump_stack", "on_fatal", "??", "Store::flush"]
    assert stack["pc"].iloc[0] == 0x401a2b and stack["line"].iloc[3] == 120
    assert c.crash["class"] == "unknown"       # no signal and no abort path: nothing is made up


def test_valgrind_invalid_read_in_the_zero_page_without_the_termination_lines():
    r = _crash("==41== Invalid read of size 4\n"
               "==41==    at 0x401136: get_count (list.c:22)\n"
               "==41==    by 0x401180: main (main.c:9)\n"
               "==41==  Address 0x8 is not stack'd, malloc'd or (recently) free'd\n")
    assert (r["class"], r["fault_address"], r["top_own_frame"]) == ("null-deref-read", 8, "get_count")
    # a bad heap address is no zero page: nothing is made up
    assert _crash("==41== Invalid write of size 4\n==41==    at 0x401136: put (list.c:22)\n"
                  "==41==    by 0x401180: main (main.c:9)\n"
                  "==41==  Address 0x5204044 is 4 bytes after a block of size 4 alloc'd\n")["signal"] is None


def test_a_sigsegv_after_a_rust_panic_is_not_the_panic():
    r = _crash("thread 'main' panicked at 'boom', src/main.rs:3:5\nSegmentation fault (core dumped)\n")
    assert (r["signal"], r["class"]) == ("SIGSEGV", "unknown")
    assert _crash("thread 'main' panicked at 'boom', src/main.rs:3:5\nAborted (core dumped)\n")["class"] == "abort"


def test_pthread_function_handed_a_zero_page_pointer():
    r = _crash("Program received signal SIGSEGV, Segmentation fault.\n"
               "0xb6788862 in __GI___pthread_mutex_lock (mutex=0x30) at pthread_mutex_lock.c:66\n"
               "#1  0x00010a3c in pool_put (p=0x7e0010) at pool.c:40\n")
    assert r["class"] == "null-deref-read" and "mutex=0x30" in r["reason"]


def test_recursion_whose_frame_0_cannot_read_its_own_argument_slot():
    frame = "in Node::path (this=0x601040 <root>) at node.cc:61\n"
    r = _crash("Program received signal SIGSEGV, Segmentation fault.\n"
               "#0  0x0000000000401b29 in Node::path (this=<error reading variable: Cannot access memory at address "
               "0x7ffd7b3aafc0>) at node.cc:57\n"
               f"#1  0x0000000000401be7 {frame}#2  0x0000000000401be7 {frame}#3  0x0000000000401be7 {frame}")
    assert (r["class"], r["subclass"]) == ("stack-overflow", "recursion")
    # two frames of one function are no runaway recursion
    q = _crash("Program received signal SIGSEGV, Segmentation fault.\n"
               "#0  0x0000000000401b29 in Node::path (this=<error reading variable: Cannot access memory at address "
               "0x7ffd7b3aafc0>) at node.cc:57\n"
               f"#1  0x0000000000401be7 {frame}#2  0x0000000000401c00 in main () at main.cc:3\n")
    assert q["class"] != "stack-overflow"


def test_a_stop_inside_the_processs_own_signal_handler_is_judged_below_the_trampoline():
    r = _crash("* thread #1, name = 'app', stop reason = signal SIGSEGV: address not mapped to object\n"
               "    frame #0: 0x00007f0000010813 libc.so.6`__GI___wait4(pid=77, stat_loc=0x00007f00000200fc, options=0, "
               "usage=0x0000000000000000) at wait4.c:30:10\n"
               "    frame #1: 0x00007f0000030931 libruntime.so`crash_dump_helper + 33\n"
               "    frame #2: 0x00007f0000040330 libc.so.6`__restore_rt\n"
               "    frame #3: 0x00007f0000050d55 libc.so.6`__GI___libc_free(mem=0x0000000100000004) at malloc.c:3375:7\n"
               "    frame #4: 0x0000555555554c1d app`release_all(list=0x0000555555760010) at pool.c:80:3\n")
    assert (r["class"], r["subclass"]) == ("heap-corruption", "segv-in-allocator:free")   # not the handler's usage=0x0


def test_valgrinds_libc_replacements_are_library_code():
    r = _crash("==9== Invalid read of size 1\n"
               "==9==    at 0x483B006: strrchr (vg_replace_strmem.c:210)\n"
               "==9==    by 0x10AB71: main (tool.c:16)\n"
               "==9==  Address 0x0 is not stack'd, malloc'd or (recently) free'd\n\n"
               "==9== Process terminating with default action of signal 11 (SIGSEGV)\n"
               "==9==  Access not within mapped region at address 0x0\n"
               "==9==    at 0x483B006: strrchr (vg_replace_strmem.c:210)\n"
               "==9==    by 0x10AB71: main (tool.c:16)\n")
    assert (r["class"], r["top_own_frame"]) == ("null-deref-read", "main")


def test_a_php_fpm_process_title_names_the_interpreter():
    r = _crash("Core was generated by `php-fpm: pool www                '.\n"
               "Program terminated with signal SIGSEGV, Segmentation fault.\n"
               "#0  0x000055d3a1b2c4e7 in zval_ptr_dtor ()\n"
               "#1  0x00007f2c4410a3b1 in tracer::hook_call () from /usr/lib/php/20210902/tracer.so\n"
               "#2  0x000055d3a1b9e218 in execute_ex ()\n")
    assert r["top_own_frame"] == "tracer::hook_call"
