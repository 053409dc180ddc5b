"""Shapes held-out batch 20 found unread: Go's cgo signal header pasted alone, an Android tombstone's SIGABRT
sent by bionic's abort() (SI_QUEUE), a Windows program's own crash report (ZDoom's family), the tail of a
systemd-coredump stack without its header, the C3 runtime's signal report (each test: our own small snippet,
not a paste)."""
from forensics.crashes.load import load_text
from forensics.crashes.sniff import crash_format


def _crash(text):
    return load_text(text).crash


# --- Go: the signal header of a fault in cgo code, with no goroutine dump after it -----------------------------
def test_go_cgo_signal_header_alone_is_the_fault_it_names():
    r = _crash("SIGSEGV: segmentation violation\nPC=0x7f00dead m=3 sigcode=1 addr=0x10\n"
               "signal arrived during cgo execution\n")
    assert (r["signal"], r["si_code"], r["fault_address"]) == ("SIGSEGV", 1, 0x10)
    assert r["class"] == "null-deref-read"


# --- Android: bionic's abort() raises SIGABRT with SI_QUEUE on its own thread ----------------------------------
TOMBSTONE_ABORT = ("pid: 100, tid: 101  >>> com.example.toy <<<\n"
                   "signal 6 (SIGABRT), code -1 (SI_QUEUE), fault addr --------\n"
                   "  r0 00000000  r1 00000065  r2 00000006  r3 c0ffee00\n")


def test_tombstone_sigabrt_si_queue_without_a_sender_is_the_process_abort():
    r = _crash(TOMBSTONE_ABORT)
    assert (r["signal"], r["si_code"], r["origin"]) == ("SIGABRT", -1, "self")
    assert r["class"] == "abort"               # not "sent from outside", so no deadlock


def test_tombstone_sigabrt_si_user_stays_external():
    r = _crash(TOMBSTONE_ABORT.replace("code -1 (SI_QUEUE)", "code 0 (SI_USER)"))
    assert r["origin"] == "external"


# --- a Windows program's own crash report (ZDoom, GZDoom, ECWolf: Report.txt) ----------------------------------
WINREPORT = ("Code: C0000005 (Access Violation - tried to write address 00000008)\n"
             "Address: 0040A1B2\nFlags: 00000000\n\n"
             "EAX=00000000  EBX=0063c2d8  ECX=00000000  EDX=00000003\n")


def test_windows_crash_report_access_violation_gives_signal_address_and_access():
    assert crash_format(WINREPORT.encode()) == "Windows crash report"
    r = _crash(WINREPORT)
    assert (r["signal"], r["fault_address"], r["class"]) == ("SIGSEGV", 8, "null-deref-write")


def test_windows_crash_report_code_line_needs_a_known_crash_status():
    # a "Code:" line with a status that is no crash code WinDbg's table knows is not this report
    assert crash_format(b"Code: C0FFEE00 (whatever)\nAddress: 00000000\n") != "Windows crash report"


# --- systemd-coredump: the tail of a stack pasted without "Stack trace of thread N:" ---------------------------
def test_coredumpctl_stack_tail_alone_is_read_with_mangled_names():
    c = load_text("    #2  0x00007f3a93c1d2a8 _ZN3Toy6Stream3runEv (libtoy.so.3 + 0x8dd2a8)\n"
                  "    #3  0x00007f3a91b2c5e3 _ZN14QThreadPrivate5startEPv (libQt5Core.so.5 + 0xec5e3)\n"
                  "    #4  0x00007f3a914a2b43 start_thread (libc.so.6 + 0x94b43)\n"
                  "GNU gdb (GDB) 12.1\n")
    r = c.crash
    assert r["class"] == "unknown" and r["subclass"] == "no-signal"   # no signal line: nothing made up
    assert r["top_own_frame"] == "Toy::Stream::run"


def test_one_elfutils_frame_line_alone_is_not_coredumpctl():
    from forensics.crashes.coredumpctl import looks_like_coredumpctl
    assert not looks_like_coredumpctl("#2  0x00007f3a93c1d2a8 f (libtoy.so.3 + 0x8dd2a8)\nsome prose\n")


# --- the C3 runtime's report of a fatal signal -----------------------------------------------------------------
C3 = ("ERROR: 'Out of bounds memory access.'\n"
      "  in std.core.builtin.print_backtrace (/c3/lib/std/core/builtin.c3:68) [./toy]\n"
      "  in std.core.builtin.sig_segmentation_fault (/c3/lib/std/core/builtin.c3:686) [./toy]\n"
      "  in __sigaction (source unavailable) [/lib/x86_64-linux-gnu/libc.so.6]\n"
      "  in toy.load (/src/toy.c3:12) [./toy]\n"
      "  in main (/src/toy.c3:20) [./toy]\n"
      "Program interrupted by signal 4.\n")


def test_c3_signal_report_is_the_handlers_signal_and_the_frame_under_it():
    assert crash_format(C3.encode()) == "C3 runtime backtrace"
    r = _crash(C3)
    assert r["signal"] == "SIGSEGV"                        # the handler's signal, not its own trap afterwards
    assert r["class"] == "unknown" and r["subclass"] == "segv-address-unknown"   # the handler prints no address
    assert r["top_own_frame"] == "toy.load"                # the runtime's frames and the trampoline are not it


def test_c3_report_cut_at_the_handler_names_no_own_frame():
    r = _crash("\n".join(C3.split("\n")[:4]) + "\n")
    assert r["signal"] == "SIGSEGV" and r["top_own_frame"] is None


# --- an Apple report's ARM thread state without its Exception Type lines: the exception syndrome --------------
ARM_STATE = ("Thread 0 crashed with ARM Thread State (64-bit):\n"
             "    x0: 0x0000000000000000   x1: 0x000000016b3fe310   x2: 0x0000000000000001   x3: 0x0000000000000020\n"
             "   x16: 0x0000000000000000  x17: 0x0000000000000000  x18: 0x0000000000000000  x19: 0x0000000000000000\n"
             "    sp: 0x000000016b3fe2a0   pc: 0x0000000102a4c1d8 cpsr: 0x80001000\n"
             "   far: 0x0000000000000018  esr: 0x92000046 (Data Abort) byte write Translation fault\n\n"
             "Thread 1:\n"
             "0   libsystem_kernel.dylib        \t       0x18ed2a1f0 __workq_kernreturn + 8\n"
             "1   libsystem_pthread.dylib       \t       0x18ed5eb80 start_wqthread + 8\n")


def test_arm_thread_state_data_abort_gives_address_access_and_code():
    r = _crash(ARM_STATE)
    assert (r["signal"], r["si_code"], r["fault_address"]) == ("SIGSEGV", 1, 0x18)
    assert r["class"] == "null-deref-write" and r["crash_thread"] == 1     # WnR set; Thread 0 is gdb's 1


def test_arm_thread_state_permission_fault_and_alignment_fault():
    from forensics.crashes.armstate import arm_exception
    assert arm_exception(["far: 0x0000000104000000  esr: 0x9200004f"])["si_code"] == 2        # permission fault
    assert arm_exception(["far: 0x0000000104000001  esr: 0x92000021"])["signal"] == "SIGBUS"   # alignment fault


def test_arm_thread_state_svc_in_pthread_kill_is_the_thread_signalling_itself():
    r = _crash(ARM_STATE.replace("x16: 0x0000000000000000", "x16: 0x0000000000000148")
               .replace("esr: 0x92000046 (Data Abort) byte write Translation fault", "esr: 0x56000080  Address size fault"))
    assert (r["signal"], r["origin"], r["class"]) == ("SIGABRT", "self", "abort")


def test_arm_thread_state_svc_in_another_call_says_nothing():
    r = _crash(ARM_STATE.replace("x16: 0x0000000000000000", "x16: 0x0000000000000003")
               .replace("esr: 0x92000046 (Data Abort) byte write Translation fault", "esr: 0x56000080"))
    assert r["signal"] is None and r["class"] == "unknown"


# --- old glibc's abort banner (Backtrace + Memory map) without its "*** Error in" line -------------------------
BANNER = ("======= Backtrace: =========\n"
          "/lib64/libc.so.6(+0x7d1f4)[0x7f8c3e27e1f4]\n"
          "./toy[0x4015b2]\n"
          "./toy[0x405b60]\n"
          "/lib64/libc.so.6(__libc_start_main+0xf5)[0x7f8c3e221c05]\n"
          "======= Memory map: ========\n"
          "00400000-00450000 r-xp 00000000 00:2d 3096                   /src/toy\n")


def test_old_glibc_abort_banner_without_fortify_frame_is_malloc_printerr():
    r = _crash(BANNER)
    assert r["class"] == "heap-corruption" and r["subclass"] == "message-not-in-transcript"
    assert r["top_own_frame"] == "toy@0x5b2"


def test_old_glibc_abort_banner_with_fortify_frame_is_stack_buffer_overrun():
    r = _crash(BANNER.replace("/lib64/libc.so.6(+0x7d1f4)", "/lib64/libc.so.6(__fortify_fail+0x37)"))
    assert r["class"] == "stack-buffer-overrun"


def test_backtrace_marker_without_the_memory_map_decides_nothing():
    r = _crash(BANNER.split("======= Memory map")[0])
    assert r["class"] == "unknown"


# --- gdb before 7.x printed an unreadable argument as its value; a mutual recursion has no run of one name -----
def test_old_gdb_unreadable_argument_slot_in_a_call_cycle_is_a_stack_overflow():
    r = _crash("Program received signal SIGSEGV, Segmentation fault.\n"
               "#0  0x00007ffff7ced319 in eval_node (ctx=Cannot access memory at address 0x7fffff3fecd8\n"
               ") at interp.c:415\n"
               "#1  0x00007ffff7cec7fc in eval_call (ctx=0x6047e0, env=0x7fffff3ffdf0) at interp.c:308\n"
               "#2  0x00007ffff7cf97bd in eval_node (ctx=0x6047e0, stk=0x7fffff3ffdf0) at interp.c:1770\n")
    assert r["class"] == "stack-overflow" and r["subclass"] == "recursion"
    assert r["top_own_frame"] == "eval_node"


def test_call_cycle_without_an_unreadable_slot_decides_nothing():
    r = _crash("Program received signal SIGSEGV, Segmentation fault.\n"
               "#0  0x00007ffff7ced319 in eval_node (ctx=0x6047e0) at interp.c:415\n"
               "#1  0x00007ffff7cec7fc in eval_call (ctx=0x6047e0) at interp.c:308\n"
               "#2  0x00007ffff7cf97bd in eval_node (ctx=0x6047e0) at interp.c:1770\n")
    assert r["class"] == "unknown"


# --- CLion's copied frames, indented under an unindented first frame -------------------------------------------
def test_ide_frames_indented_below_the_first_are_one_stack():
    r = _crash("__pthread_kill_implementation 0x00007ffff76969bc\n"
               "   Reader::open Reader.cpp:125\n"
               "   Archive::open Archive.cpp:63\n"
               "   Script::load Script.cpp:265\n"
               "    main main.cpp:577\n\n"
               "malloc(): corrupted top size\n")
    assert r["class"] == "heap-corruption" and r["top_own_frame"] == "Reader::open"


# --- gef's register panel: the pc's instruction (Intel syntax) and the registers it uses -----------------------
GEF = ("Program received signal SIGSEGV, Segmentation fault.\n"
       "$rax   : 0x0\n"
       "$rbx   : 0x000000000238d5f8  →  0x0000000002287ca0  →  [loop detected]\n"
       "$rip   : 0x0000000000622043  →  <toy::parse+12> mov rsi, QWORD PTR [rax+0x78]\n"
       "$r8    : 0x263\n")


def test_gef_register_panel_gives_the_fault_address_and_the_read():
    r = _crash(GEF)
    assert r["class"] == "null-deref-read" and r["subclass"] == ""        # read from the instruction, not assumed
    assert "computed from `mov rsi, QWORD PTR [rax+0x78]`" in r["reason"]


def test_intel_store_is_a_write():
    r = _crash(GEF.replace("mov rsi, QWORD PTR [rax+0x78]", "mov QWORD PTR [rax+0x8], rsi"))
    assert r["class"] == "null-deref-write"


def test_intel_operand_with_an_unprinted_register_gives_no_address():
    from forensics.crashes.evidence import operand_address
    assert operand_address("mov rsi, QWORD PTR [rcx+0x78]", {"rax": 0}) is None
    assert operand_address("mov rsi, QWORD PTR [rax+rbx*8-0x8]", {"rax": 0x1000, "rbx": 2}) == 0x1008


# --- Xcode's banner cut mid-address, behind text of any script --------------------------------------------------
def test_xcode_banner_cut_mid_address_is_a_sigsegv_with_no_address():
    r = _crash("报错误Thread 1: EXC_BAD_ACCESS (code=2, address=0\n谢谢\n")
    assert (r["signal"], r["fault_address"], r["class"]) == ("SIGSEGV", None, "unknown")


# --- a crash-reporting service's summary ----------------------------------------------------------------------
def test_crash_summary_gives_signal_code_address_and_crashed_thread():
    text = ("Exception type: SIGSEGV\nCrash at: 0x1b2f04000 + 18725372\n\n"
            "Exception Cause:  SEGV_ACCERR at 0x1d8Crashed Thread: 2\nStack Trace:\n")
    assert crash_format(text.encode()) == "crash-reporting service summary"
    r = _crash(text)
    assert (r["signal"], r["si_code"], r["fault_address"], r["crash_thread"]) == ("SIGSEGV", 2, 0x1d8, 3)
    assert r["class"] == "null-deref-read"


# --- the reicast family's fault handler (reicast, flycast): a fault its dynarec does not own, then die()'s trap -
def test_reicast_fault_handler_line_gives_pc_and_address_not_the_trap_after_it():
    r = _crash("Linux paging: 00001000 00001000 00000FFF\n"
               "SIGSEGV @ 0x6f001234 ... 0x6f001234 -> was not in vram (dyna code 0)\n"
               "DEBUGBREAK!\nIllegal instruction\n")
    assert (r["signal"], r["fault_address"], r["class"]) == ("SIGSEGV", 0x6f001234, "bad-pc")   # pc == si_addr


def test_reicast_newer_wording_and_a_data_fault():
    r = _crash("SIGSEGV @ 0x7f00001000 -> 0x10 was not in vram, dynacode:0\n")
    assert (r["signal"], r["fault_address"], r["class"]) == ("SIGSEGV", 0x10, "null-deref-read")
