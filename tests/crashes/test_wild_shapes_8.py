"""Shapes held-out batch 21 found unread or misread: a kill -11 reported by glog's failure handler (the siginfo's
SI_USER layout: not a fault), a macOS report whose bad access ended in SIGABRT (a runtime's SEGV handler that
aborts), GLib's slice allocator's own check, a fault inside macOS libsystem_malloc (each test: our own small
snippet, not a paste)."""
from forensics.crashes.load import load_text


def _crash(text):
    return load_text(text).crash


# --- glog's failure handler: si_addr and si_pid share a union, so a kill's "address" is uid:pid -----------------
GLOG_KILL = ("*** Aborted at 1700000000 (unix time) try \"date -d @1700000000\" if you are using GNU date ***\n"
             "PC: @                0x0 (unknown)\n"
             "*** SIGSEGV (@0x3e800001234) received by PID 5000 (TID 0x7f0000001000) from PID 4660; stack trace: ***\n"
             "    @     0x7f0000010000 (unknown)\n"
             "    @     0x7f0000020000 __poll\n"
             "    @     0x560000001000 main\n"
             "    @     0x7f0000030000 __libc_start_main\n")


def test_glog_sigsegv_whose_address_is_the_senders_uid_and_pid_is_no_fault():
    r = _crash(GLOG_KILL)                      # 0x3e8 = uid 1000, 0x1234 = pid 4660, the "from PID"
    assert (r["signal"], r["origin"]) == ("SIGSEGV", "external")
    assert (r["class"], r["subclass"]) == ("unknown", "external-signal")   # neither a wild pointer nor a hang


def test_glog_sigsegv_at_a_real_address_stays_a_fault():
    # a real fault: the "from PID" is the address's low half (the same union), but the high half is no uid
    r = _crash(GLOG_KILL.replace("@0x3e800001234", "@0x7f5600001234"))
    assert r["origin"] == "kernel" and r["class"] == "wild-pointer"


def test_glog_sigsegv_near_null_is_never_read_as_a_sender():
    r = _crash(GLOG_KILL.replace("@0x3e800001234", "@0x10").replace("from PID 4660", "from PID 16"))
    assert r["class"].startswith("null-deref")


# --- macOS crash report: EXC_BAD_ACCESS at an address, ended by SIGABRT ----------------------------------------
MAC_BAD_ACCESS_ABRT = ("Process:               ruby [100]\n"
                       "Crashed Thread:        0  Dispatch queue: com.apple.main-thread\n\n"
                       "Exception Type:        EXC_BAD_ACCESS (SIGABRT)\n"
                       "Exception Codes:       KERN_INVALID_ADDRESS at 0x0000000000000030\n"
                       "Exception Note:        EXC_CORPSE_NOTIFY\n")


def test_macos_bad_access_ended_by_sigabrt_is_the_fault_at_its_address():
    r = _crash(MAC_BAD_ACCESS_ABRT)
    assert (r["signal"], r["fault_address"], r["class"]) == ("SIGSEGV", 0x30, "null-deref-read")


def test_macos_exc_crash_sigabrt_stays_an_abort():
    r = _crash(MAC_BAD_ACCESS_ABRT.replace("EXC_BAD_ACCESS", "EXC_CRASH").replace(
        "Exception Codes:       KERN_INVALID_ADDRESS at 0x0000000000000030", "Exception Codes:       0x0, 0x0"))
    assert r["class"] == "abort"


# --- GLib's GSlice: "***MEMORY-ERROR***: prog[pid]: GSlice: …" then abort() -----------------------------------
def test_gslice_memory_error_is_heap_corruption():
    r = _crash("***MEMORY-ERROR***: toy[77]: GSlice: assertion failed: sinfo->n_allocated > 0\n\n"
               "Program received signal SIGABRT, Aborted.\n"
               "#0  0xb7f1c430 in __kernel_vsyscall ()\n#1  0xb7306a53 in raise (sig=6) at raise.c:64\n"
               "#2  0xb7309c81 in abort () at abort.c:92\n#3  0xb75c1e27 in ?? () from /lib/libglib-2.0.so.0\n"
               "#4  0xb77a52e3 in __nptl_deallocate_tsd () at pthread_create.c:155\n"
               "#5  0xb77a5a91 in start_thread (arg=0x8051c40) at pthread_create.c:311\n")
    assert (r["class"], r["subclass"]) == ("heap-corruption", "gslice")
    assert r["top_own_frame"] in (None, "")     # glibc's thread exit is nobody's own code


# --- LLDB: a fault inside macOS libsystem_malloc's zone code ---------------------------------------------------
def test_lldb_fault_in_libsystem_malloc_is_heap_corruption():
    r = _crash("* thread #1, queue = 'com.apple.main-thread', stop reason = EXC_BAD_ACCESS (code=2, address=0x102800408)\n"
               "  * frame #0: 0x00007fff6c21a4f2 libsystem_malloc.dylib`small_free_list_add_ptr + 298\n"
               "    frame #1: 0x00007fff6c2261a7 libsystem_malloc.dylib`free_small + 877\n"
               "    frame #2: 0x00007fff6c21bc3e libsystem_malloc.dylib`szone_memalign + 1043\n"
               "    frame #3: 0x0000000100001000 toy`main + 20\n")
    assert (r["class"], r["subclass"]) == ("heap-corruption", "segv-in-allocator:small_free_list_add_ptr")


# --- an Espressif chip's panic handler: "Guru Meditation Error: Core N panic'ed (…)" (espcore.py) -------------
GURU = ("Guru Meditation Error: Core  0 panic'ed (LoadProhibited). Exception was unhandled.\n"
        "Core  0 register dump:\n"
        "PC      : 0x400d1234  PS      : 0x00060f30  A0      : 0x800d2222  A1      : 0x3ffb0000  \n"
        "A14     : 0x00000000  A15     : 0x3ffb1f40  SAR     : 0x0000000a  EXCCAUSE: 0x0000001c  \n"
        "EXCVADDR: 0x00000008  LBEG    : 0x4000c46c  LEND    : 0x4000c477  LCOUNT  : 0xffffffff  \n\n"
        "Backtrace:0x400d1231:0x3ffb0000 0x400d2222:0x3ffb0020\n")


def test_esp_load_prohibited_is_a_read_at_excvaddr():
    from forensics.crashes.sniff import crash_format

    assert crash_format(GURU.encode()) == "Espressif panic report"
    c = load_text(GURU)
    r = c.crash
    assert (r["signal"], r["fault_address"], r["class"]) == ("SIGSEGV", 8, "null-deref-read")
    assert not c.frames["is_own"].any()          # undecoded pcs: whose code is unknown
    assert r["crash_thread"] == 1                 # "Core 0" is a CPU, not a thread


def test_esp_store_prohibited_at_a_high_address_is_a_wild_write():
    r = _crash(GURU.replace("LoadProhibited", "StoreProhibited").replace("0x0000001c", "0x0000001d")
               .replace("EXCVADDR: 0x00000008", "EXCVADDR: 0x801105f4"))
    assert (r["class"], r["fault_address"]) == ("wild-pointer", 0x801105f4)
    assert "write" in r["subclass"]


def test_esp_instruction_fetch_at_the_pc_is_a_bad_pc():
    r = _crash("Guru Meditation Error: Core 1 panic'ed (InstrFetchProhibited). Exception was unhandled.\n"
               "PC : 0x2a4b7c10 PS : 0x00060e30 A0 : 0x800e31a8 A1 : 0x3ffe9200\n"
               "A14 : 0x00000000 A15 : 0x3ffe91d0 SAR : 0x00000019 EXCCAUSE: 0x00000014\n"
               "EXCVADDR: 0x2a4b7c10 LBEG : 0x4000c2e0 LEND : 0x4000c2f6 LCOUNT : 0x00000000\n\nno backtrace\n")
    assert r["class"] == "bad-pc"


def test_esp_panic_that_is_no_cpu_fault_gives_no_signal():
    from forensics.crashes.espcore import esp_panic_to_gdb

    text, _ = esp_panic_to_gdb("Guru Meditation Error: Core  0 panic'ed (Interrupt wdt timeout on CPU0)\n"
                               "PC      : 0x400d1234  EXCCAUSE: 0x00000005\n")
    assert "received signal" not in text


# --- the Crystal runtime's handler: "Invalid memory access (signal 11) at address 0x…" (crystal.py) ----------
CRYSTAL = ("Invalid memory access (signal 11) at address 0x28\n"
           "[0x102c94bd0] print_backtrace at /usr/share/crystal/src/exception/call_stack/libunwind.cr:100:5\n"
           "[0x102c94698] -> at /usr/share/crystal/src/crystal/system/unix/signal.cr:171:5\n"
           "[0x18e3c2a64] _sigtramp +56 in /usr/lib/system/libsystem_platform.dylib\n"
           "[0x102cca2fc] Toy#parse at /home/u/toy/src/toy.cr:19:11\n"
           "[0x102cca400] main +40 in /home/u/toy/bin/toy\n")


def test_crystal_invalid_memory_access_is_the_fault_below_its_handler():
    from forensics.crashes.sniff import crash_format

    assert crash_format(CRYSTAL.encode()) == "Crystal runtime crash report"
    r = _crash(CRYSTAL)
    assert (r["signal"], r["fault_address"], r["class"]) == ("SIGSEGV", 0x28, "null-deref-read")
    assert r["top_own_frame"] == "Toy#parse"      # print_backtrace and the handler block are the report's


def test_crystal_fault_inside_the_boehm_collector_is_heap_corruption():
    r = _crash(CRYSTAL.replace("[0x102cca2fc] Toy#parse",
                               "[0x103b0ac10] GC_finish_collection +2228 in /opt/lib/libgc.1.5.4.dylib\n"
                               "[0x102cca2fc] Toy#parse"))
    assert (r["class"], r["top_own_frame"]) == ("heap-corruption", "Toy#parse")


def test_crystal_old_decimal_pcs_and_unnamed_frames():
    c = load_text("Invalid memory access (signal 11) at address 0x0\n"
                  "[93871502126381] __crystal_sigfault_handler +61\n[139872044211584] ???\n"
                  "[139872022093910] strlen +38\n[93871517854910] ???\n")
    r = c.crash
    assert (r["class"], r["fault_address"]) == ("null-deref-read", 0)
    assert not c.frames["is_own"].any()          # the handler's, libc's and "???" (no symbol)


def test_crystal_report_with_no_backtrace():
    r = _crash("> Invalid memory access (signal 11) at address 0x7f41e56e4000\n> [Info] server is ready.\n")
    assert r["class"] == "wild-pointer"


# --- Wine's crash report: winedbg's backtrace of an unhandled exception (winedbg.py) -------------------------
WINE = ("wine: Unhandled page fault on read access to 00000000 at address 0045B7E2 (thread 0031), starting debugger...\n"
        "Unhandled exception: page fault on read access to 0x00000000 in 32-bit code (0x0045b7e2).\n"
        "Register dump:\n EIP:0045b7e2 ESP:0033fd40 EBP:0033fd88 EFLAGS:00010246(  R- --  I  Z- -P- )\n"
        "Backtrace:\n"
        "=>0 0x0045b7e2 Toy_Run+0x3f() in toy (0x0033fd88)\n"
        "  1 0x6ed9e6f3 call_window_proc+0x63(hwnd=0002003A, msg=0x1) [Z:\\src\\dlls\\user32\\winproc.c:246] in user32 (0x0033fe04)\n"
        "  2 0x7c15e2a1 in mfc71 (+0x1e2a0) (0x0033fe60)\n")


def test_wine_page_fault_gives_signal_address_access_and_frames():
    c = load_text(WINE)
    r = c.crash
    assert (r["signal"], r["fault_address"], r["class"]) == ("SIGSEGV", 0, "null-deref-read")
    assert r["top_own_frame"] == "Toy_Run"
    assert c.frames.loc[c.frames["frame"] == 1, "module"].item() == "user32.dll"    # Windows' own DLL: library


def test_wine_fault_at_the_pc_is_a_bad_pc():
    r = _crash("Unhandled exception: page fault on read access to 0x7d8c51a0 in 32-bit code (0x7d8c51a0).\n"
               "Backtrace:\n=>0 0x7d8c51a0 (0x0033fd10)\n"
               "  1 0x7e8b9d8b CallWindowProcA+0x5a(func=0x7d8c51a0) [winproc.c:955] in user32 (0x0033fdac)\n")
    assert r["class"] == "bad-pc"


def test_wine_fault_unnamed_inside_an_allocators_library_is_heap_corruption():
    r = _crash("Unhandled exception: page fault on read access to 0x00007ffffe9a3ff0 in 64-bit code (0x006fffff1c52e8).\n"
               "Backtrace:\n=>0 0x006fffff1c52e8 in mimalloc (+0x452e8) (0x006fffffa3f1d0)\n"
               "  1 0x00000140698c1b in toy (+0x698c1b) (0x006fffffa3f1d0)\n")
    assert (r["class"], r["subclass"]) == ("heap-corruption", "segv-in-allocator:mimalloc")


def test_wine_divide_by_zero():
    r = _crash("Unhandled exception: divide by zero in 32-bit code (0x00401000).\nBacktrace:\n"
               "=>0 0x00401000 Toy_Div+0x10() in toy (0x0021ee1c)\n")
    assert r["class"] == "divide-by-zero"


# --- markdown: an opening fence with the first line glued to it -----------------------------------------------
def test_opening_fence_glued_to_the_signal_line_keeps_the_line():
    r = _crash('```Thread 1 "toy" received signal SIGFPE, Arithmetic exception.\n'
               "0x0000555555589239 in to_minutes (rate=0, i=0) at toy.c:19\n19\t    m = i / (rate * 60)\n```\n")
    assert (r["signal"], r["class"]) == ("SIGFPE", "divide-by-zero")


def test_fence_with_a_language_tag_is_still_only_a_fence():
    from forensics.crashes.paste import normalize_paste

    assert "gdb" not in normalize_paste("```gdb\n#0  f () at a.c:1\n```\n")


# --- JDK 7's hs_err siginfo line: "siginfo:si_signo=SIGSEGV: si_errno=0, si_code=1 (SEGV_MAPERR), si_addr=…" -----
def test_jdk7_hs_err_siginfo_gives_the_fault_address():
    r = _crash("#\n# A fatal error has been detected by the Java Runtime Environment:\n#\n"
               "#  SIGSEGV (0xb) at pc=0x00007f3b4e21c6b8, pid=24817, tid=139893012358912\n#\n"
               "# Problematic frame:\n# C  [libtoy.so+0x1c6b8]  toy_destroy+0x4a8\n#\n\n"
               "siginfo:si_signo=SIGSEGV: si_errno=0, si_code=1 (SEGV_MAPERR), si_addr=0x00007f3b2c1ff008\n")
    assert (r["si_code"], r["fault_address"], r["class"]) == (1, 0x7f3b2c1ff008, "wild-pointer")


# --- backtrace_symbols prints: a crash file's lines ending in ":" (Dungeon Crawl), Ruby's C-level backtrace -------
def test_crash_file_backtrace_lines_ending_in_a_colon_with_the_handlers_signal():
    r = _crash("Crash caused by signal #11: Segmentation fault\n\nObtained 5 stack frames.\n"
               "toy(+0x7a0cfb) [0x5bfa92d2ecfb]: \ntoy(+0x7cbd12) [0x5bfa92d59d12]: \n"
               "/lib/x86_64-linux-gnu/libc.so.6(+0x42520) [0x7c1a3e842520]: \n"
               "/lib/x86_64-linux-gnu/libSDL2-2.0.so.0(+0xf1a7e) [0x7c1a3f0f1a7e]: \n"
               "toy(+0x2b94c0) [0x5bfa928474c0]: \n")
    assert (r["signal"], r["class"]) == ("SIGSEGV", "unknown")    # no fault address in the file


def test_ruby_c_level_backtrace_names_its_signal_by_the_handler():
    r = _crash("-- C level backtrace information -------------------------------------------\n"
               "/usr/lib/libruby.so.2.4(rb_vm_bugreport+0x5b8) [0x7ff513d8f188] vm_dump.c:684\n"
               "/usr/lib/libruby.so.2.4(rb_bug_context+0x155) [0x7ff513c2fce5] error.c:506\n"
               "/usr/lib/libruby.so.2.4(sigsegv+0x5f) [0x7ff513d0b2af] signal.c:907\n"
               "/lib64/libpthread.so.0 [0x3ebf20f7e0]\n"
               "/gems/toy-1.0/lib/toy.so(toy_open+0x6a) [0x7ff50967258a] toy.c:288\n"
               "/usr/lib/libruby.so.2.4(dln_load+0x10a) [0x7ff513bca85a] dln.c:1357\n")
    assert (r["signal"], r["class"], r["top_own_frame"]) == ("SIGSEGV", "unknown", "toy_open")


# --- own-code rules: glibc's bits/ headers (fortify wrappers inlined), Apple's AudioToolboxCore --------------
def test_fortify_wrapper_inlined_from_glibcs_bits_header_is_not_own_code():
    r = _crash("Program received signal SIGABRT, Aborted.\n"
               "#0  0x00007ffff6ff0c37 in raise () from /lib64/libc.so.6\n#1  0x00007ffff6ff4028 in abort () from /lib64/libc.so.6\n"
               "#2  0x00007ffff70a98f0 in __chk_fail () from /lib64/libc.so.6\n"
               "#3  0x00007ffff70a9ec4 in __realpath_chk () from /lib64/libc.so.6\n"
               "#4  0x0000000000402ea9 in realpath (__resolved=0x61a648 \"\", __name=<optimized out>)\n"
               "    at /usr/include/bits/stdlib.h:43\n#5  main (argc=3, argv=0x7fffffffda08) at toy.c:676\n")
    assert (r["class"], r["top_own_frame"]) == ("stack-buffer-overrun", "main")


def test_lldb_frame_in_apples_audiotoolboxcore_is_system_code():
    r = _crash("* thread #2, stop reason = EXC_BAD_ACCESS (code=1, address=0x2)\n"
               "  * frame #0: 0x00000001087a21c4 CoreAudio`___lldb_unnamed_symbol2754$$CoreAudio + 212\n"
               "    frame #1: 0x00007ff81a2c51d9 AudioToolboxCore`AudioComponentInstanceDispose + 64\n"
               "    frame #2: 0x00000001000e3108 toy`toy::Unit::drop(self=0x1) at utils.rs:82:12\n")
    assert r["top_own_frame"] == "toy::Unit::drop"


# --- Xcode's stop banner retyped in prose without its spaces ---------------------------------------------------
def test_xcode_banner_retyped_without_spaces_at_the_end_of_a_sentence():
    r = _crash("after that it stopped in 0x7fff5fc011ec <+374>: cmpq   $0x0, (%rbx),it shows "
               "Thread1:EXC_BAD_ACCESS(code=1,address=0x10).\n")
    assert (r["signal"], r["fault_address"], r["class"]) == ("SIGSEGV", 0x10, "null-deref-read")
