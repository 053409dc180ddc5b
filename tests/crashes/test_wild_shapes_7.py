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
             "EAX=00000000  EBX=007f1a90  ECX=00000000  EDX=00000001\n")


def test_windows_crash_report_access_violation_gives_signal_address_and_access():
    assert crash_format(WINREPORT.encode()) == "Windows crash report"
    r = _crash(WINREPORT)
    assert (r["signal"], r["fault_address"], r["class"]) == ("SIGSEGV", 8, "null-deref-write")


def test_windows_crash_report_code_line_needs_a_known_crash_status():
    # a "Code:" line with a status that is no crash code WinDbg's table knows is not this report
    assert crash_format(b"Code: C0FFEE00 (whatever)\nAddress: 00000000\n") != "Windows crash report"


# --- systemd-coredump: the tail of a stack pasted without "Stack trace of thread N:" ---------------------------
def test_coredumpctl_stack_tail_alone_is_read_with_mangled_names():
    c = load_text("    #2  0x00007f84efed97ee _ZN3Toy6Stream3runEv (libtoy.so.3 + 0x8d97ee)\n"
                  "    #3  0x00007f84edce84f7 _ZN14QThreadPrivate5startEPv (libQt5Core.so.5 + 0xe84f7)\n"
                  "    #4  0x00007f84ed6ae14d start_thread (libc.so.6 + 0x8b14d)\n"
                  "GNU gdb (GDB) 12.1\n")
    r = c.crash
    assert r["class"] == "unknown" and r["subclass"] == "no-signal"   # no signal line: nothing made up
    assert r["top_own_frame"] == "Toy::Stream::run"


def test_one_elfutils_frame_line_alone_is_not_coredumpctl():
    from forensics.crashes.coredumpctl import looks_like_coredumpctl
    assert not looks_like_coredumpctl("#2  0x00007f84efed97ee f (libtoy.so.3 + 0x8d97ee)\nsome prose\n")


# --- the C3 runtime's report of a fatal signal -----------------------------------------------------------------
C3 = ("ERROR: 'Out of bounds memory access.'\n"
      "  in std.core.builtin.print_backtrace (/c3/lib/std/core/builtin.c3:68) [./toy]\n"
      "  in std.core.builtin.sig_segmentation_fault (/c3/lib/std/core/builtin.c3:686) [./toy]\n"
      "  in __GI___sigaction (source unavailable) [/lib64/libc.so.6]\n"
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
