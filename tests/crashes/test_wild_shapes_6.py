"""Shapes held-out batch 19 found unread: Crashlytics' iOS export, WinDbg's stop line on a Linux core, Rust's
runtime message quoted in a sentence, Apple reports whose crashed thread's stack is not in the paste, Visual
Studio's call-stack window, QEMU's translated-code buffer (each test: our own small snippet, not a paste)."""
from forensics.crashes.frames import is_system_module
from forensics.crashes.load import load_text
from forensics.crashes.sniff import crash_format


def _crash(text):
    return load_text(text).crash


# --- Firebase Crashlytics' export ------------------------------------------------------------------------------
CRASHLYTICS = ("Crashed: com.apple.main-thread\n"
               "EXC_BAD_ACCESS KERN_INVALID_ADDRESS 0x0000000000000010\n"
               "\n"
               "Crashed: com.apple.main-thread\n"
               "0  libobjc.A.dylib                0x1a2b3c objc_msgSend + 16\n"
               "1  ToyApp                         0x104000a10 ToyModel.reload() + 52 (ToyModel.swift:40)\n"
               "2  UIKitCore                      0x31b2c4 <redacted> + 1964\n"
               "\n"
               "com.apple.uikit.eventfetch-thread\n"
               "0  libsystem_kernel.dylib         0x1504 mach_msg_trap + 8\n"
               "1  CoreFoundation                 0x7688 __CFRunLoopServiceMachPort + 372\n")


def test_crashlytics_export_is_sniffed_and_read_as_a_null_read_in_the_apps_frame():
    assert crash_format(CRASHLYTICS.encode()) == "Crashlytics crash report"
    r = _crash(CRASHLYTICS)
    assert (r["signal"], r["si_code"], r["fault_address"]) == ("SIGSEGV", 1, 0x10)
    assert r["class"] == "null-deref-read" and r["subclass"] == "access-assumed-read"
    assert r["crash_thread"] == 1 and r["top_own_frame"] == "ToyModel.reload"   # libobjc is Apple's


def test_crashlytics_old_export_thread_header_and_at_address():
    r = _crash("Crashed: Thread\nEXC_BAD_ACCESS KERN_INVALID_ADDRESS at 0x0000002c\n\n"
               "Thread : Crashed: Thread\n"
               "0  ToyApp   0x00b353e2 toy::Camera::busy() + 48\n"
               "1  ToyApp   0x00b35719 toy::Camera::open(int) + 120\n")
    assert r["class"] == "null-deref-read" and r["fault_address"] == 0x2c
    assert r["top_own_frame"] == "toy::Camera::busy"


def test_crashlytics_far_address_and_protection_failure_are_wild_and_code_2():
    r = _crash("Crashed: com.apple.main-thread\nEXC_BAD_ACCESS KERN_PROTECTION_FAILURE 0x000000016f607ff8\n\n"
               "Crashed: com.apple.main-thread\n0  ToyApp  0x1000 toy_walk + 8\n1  ToyApp  0x1040 toy_main + 8\n")
    assert r["si_code"] == 2 and r["class"] == "wild-pointer"


def test_crashlytics_fatal_exception_is_an_uncaught_exception():
    r = _crash("Fatal Exception: NSInvalidArgumentException\n"
               "0  CoreFoundation  0x1a0 __exceptionPreprocess + 164\n"
               "1  libobjc.A.dylib 0x2b0 objc_exception_throw + 60\n"
               "2  ToyApp          0x3c0 -[ToyView load] + 40\n")
    assert r["class"] == "uncaught-exception" and r["exception_type"] == "NSInvalidArgumentException"
    assert r["top_own_frame"] == "-[ToyView load]"


def test_a_frame_list_without_crashlytics_header_or_exception_line_is_not_crashlytics():
    assert crash_format(b"0  ToyApp  0x1000 toy_walk + 8\nsome text\n") != "Crashlytics crash report"


def test_apple_system_modules_by_bundle_id_framework_name_and_versioned_dylib():
    for m in ("com.apple.CoreFoundation", "UIKitCore", "libobjc.A.dylib", "libc++.1.dylib", "dyld"):
        assert is_system_module(m), m
    for m in ("ToyApp", "libtoy.1.dylib", "Tracker"):
        assert not is_system_module(m), m


# --- Apple crash reports: the crashed thread named but its stack not pasted ------------------------------------
def test_apple_report_triggered_by_a_thread_whose_stack_is_not_in_the_paste():
    r = _crash("Exception Type:  EXC_BAD_ACCESS (SIGSEGV)\n"
               "Exception Codes: KERN_INVALID_ADDRESS at 0x0000000000000000\n"
               "Triggered by Thread:  7\n\n"
               "Thread 0:\n"
               "0   libsystem_kernel.dylib   0x00000001db25c788 0x1db25b000 + 6024 (mach_msg2_trap + 8)\n"
               "1   CoreFoundation           0x0000000189c01284 0x189b39000 + 819844 (CFRunLoopRunSpecific + 588)\n"
               "3   ToyApp                   0x0000000100001000 0x100000000 + 4096 (main + 20)\n")
    assert r["crash_thread"] == 8 and r["class"] == "null-deref-read"
    assert r["top_own_frame"] is None          # the idle main thread's main is not the crash


def test_apple_report_tail_with_crashed_thread_state_is_read_and_says_unknown():
    text = ("Thread 2:\n"
            "0   libsystem_kernel.dylib   0x00007fff83891192 __workq_kernreturn + 10\n"
            "1   libsystem_c.dylib        0x00007fff892dab85 start_wqthread + 13\n\n"
            "Thread 1 crashed with X86 Thread State (64-bit):\n"
            "  rax: 0x0000000000000800  rbx: 0x0000000000000800  rip: 0x00000001062eb375\n")
    assert crash_format(text.encode()) == "macOS crash report"
    r = _crash(text)
    assert r["crash_thread"] == 2 and r["class"] == "unknown" and r["top_own_frame"] is None


# --- WinDbg's stop lines ----------------------------------------------------------------------------------------
def test_windbg_signal_line_on_a_linux_core_is_read_with_code_and_address():
    text = ("Generic Unix Version 0 UP Free ARM (NT) Thumb-2\n"
            "(1f2e.1f2e): Signal SIGBUS (Bus error) code BUS_ADRALN (Invalid address alignment) at 0x40001003"
            "*** WARNING: Unable to verify timestamp for toyd\n")
    assert crash_format(text.encode()) == "WinDbg stop line"
    r = _crash(text)
    assert (r["signal"], r["si_code"], r["fault_address"]) == ("SIGBUS", 1, 0x40001003)
    assert r["class"] == "bus-error" and r["subclass"] == "misaligned"


def test_windbg_second_chance_access_violation_with_exr_address_and_access():
    r = _crash("(1a2c.3b4): Access violation - code c0000005 (!!! second chance !!!)\n"
               "ExceptionAddress: 00007ff6a1b21014 (toy!toy_store+0x0000000000000014)\n"
               "   ExceptionCode: c0000005 (Access violation)\n"
               "Attempt to write to address 00000000`00000008\n")
    assert r["signal"] == "SIGSEGV" and r["fault_address"] == 8
    assert r["class"] == "null-deref-write"


def test_windbg_dump_stored_exception_without_address_is_a_segv_of_unknown_address():
    r = _crash("(2a0.1b8): Access violation - code c0000005 (first/second chance not available)\n")
    assert r["signal"] == "SIGSEGV" and r["class"] == "unknown"


def test_windbg_first_chance_exception_is_no_crash_verdict():
    r = _crash("(1a2c.3b4): C++ EH exception - code e06d7363 (first chance)\n")
    assert r["signal"] is None and r["class"] == "unknown" and r["subclass"] == "first-chance-exception"


def test_windbg_stack_overflow_status_is_a_stack_overflow():
    r = _crash("(1a2c.3b4): Stack overflow - code c00000fd (!!! second chance !!!)\n")
    assert r["class"] == "stack-overflow"


# --- Rust's runtime message quoted in a sentence's code span ----------------------------------------------------
def test_rust_stack_overflow_quoted_in_an_inline_code_span_is_read():
    assert _crash("Output: `thread '<unknown>' has overflowed its stack`\n")["class"] == "stack-overflow"


def test_glibc_old_heap_message_keeps_its_own_backtick_quoting():
    r = _crash("*** Error in `./toy': free(): invalid pointer: 0x00007ffeb548f5a0 ***\n")
    assert r["class"] == "heap-corruption"


# --- Visual Studio's Call Stack window ---------------------------------------------------------------------------
def test_visual_studio_call_stack_rows_are_frames_and_qt_dlls_are_the_toolkits():
    r = _crash('ASSERT failure in QList<T>::at: "index out of range", file C:\\Qt\\include\\QtCore/qlist.h, line 510\n'
               ">   toycore.dll!Toy::Log::output(QtMsgType type, const QString & msg) Line 69 C++\n"
               "    Qt5Cored.dll!66156cf6() Unknown\n"
               "    toywidgets.dll!Toy::Bar::setText(int index) Line 113   C++\n"
               "    [External Code]\n")
    assert r["class"] == "assertion-failure" and r["top_own_frame"] == "Toy::Log::output"
    assert is_system_module("Qt5Cored.dll") and is_system_module("Qt6Widgets.dll")
    assert not is_system_module("toycore.dll")


# --- Go names whose receiver lost its "*" to markdown, QEMU's translated code ------------------------------------
def test_go_value_receiver_name_normalises_idempotently_without_its_import_path():
    from forensics.crashes.frames import normalize_function

    assert normalize_function("toy/db.(_DB).run1") == "db.(_DB).run1"
    assert normalize_function(normalize_function("toy/db.(_DB).run1")) == "db.(_DB).run1"
    assert normalize_function("toy::Db::run(int)") == "toy::Db::run"


def test_qemu_translated_code_buffer_is_nobodys_function():
    r = _crash('Thread 1 "qemu-arm" received signal SIGSEGV, Segmentation fault.\n'
               "0x0000000008a13c5e in code_gen_buffer ()\n")
    assert r["signal"] == "SIGSEGV" and r["top_own_frame"] is None


# --- no signal line: the user printed the NULL pointer the stopped line dereferences ------------------------------
def test_no_signal_frame0_source_line_dereferencing_a_printed_null_is_a_null_read():
    r = _crash("(gdb) f 0\n#0  toy_exec (data=0x7fffffffa600, ret=1) at /src/toy.c:1708\n\n"
               "1708        int v = op->result;\n(gdb) print op\n$1 = (toy_op *) 0x0\n")
    assert r["signal"] is None and r["class"] == "null-deref-read"
    assert "dereferences op" in r["reason"]


def test_no_signal_printed_null_that_the_line_does_not_dereference_decides_nothing():
    r = _crash("(gdb) f 0\n#0  toy_exec (data=0x7fffffffa600, ret=1) at /src/toy.c:1708\n\n"
               "1708        int v = data->result;\n(gdb) print op\n$1 = (toy_op *) 0x0\n")
    assert r["class"] == "unknown"
