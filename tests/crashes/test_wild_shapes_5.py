"""Shapes real users paste that held-out batch 18 found unread: known producers' lines behind a log's or
syslog's columns, or inside a sentence (each test: our own small snippet, not a paste)."""
import pytest

from forensics import ArtifactError
from forensics.crashes.load import load_text
from forensics.crashes.paste import normalize_paste
from forensics.crashes.signature import cut_signature_prefixes


def _crash(text):
    return load_text(text).crash


def test_rust_stack_overflow_behind_a_syslog_tag_is_read():
    r = _crash("toyd[4242]: thread 'worker-3' (4250) has overflowed its stack\n"
               "toyd[4242]: fatal runtime error: stack overflow, aborting\n")
    assert r["class"] == "stack-overflow"


def test_qt_assert_behind_a_loggers_columns_is_an_assertion():
    r = _crash('[08:01:02.345 UTC] :0 : Fatal: ASSERT failure in QList<T>::at: "index out of range", '
               "file /usr/include/qt5/QtCore/qlist.h, line 99\n")
    assert r["class"] == "assertion-failure"


def test_qt_assert_among_gdb_lines_behind_levelled_columns_is_read():
    text = ("[New LWP 101]\n"
            "10:00:01.001 WARN  toyapp        could not open the settings\n"
            '10:00:02.002 ERROR toyapp        ASSERT failure in QVector<T>::operator[]: "index out of range", '
            "file /usr/include/qt4/QtCore/qvector.h, line 12\n"
            "[New LWP 102]\n")
    assert _crash(text)["class"] == "assertion-failure"


def test_glibc_tcache_message_inside_a_sentence_is_heap_corruption():
    r = _crash("When I ran the tool I got free(): double free detected in tcache 2\nAborted (core dumped) every time.\n")
    assert r["class"] == "heap-corruption"


def test_old_kernel_segfault_line_with_rip_rsp_behind_kernel_tag_is_read():
    r = _crash("kernel: toyd[77]: segfault at 00007ffd00000ff8 rip 00000000004005d6 rsp 00007ffd00001000 error 6\n")
    assert r["signal"] == "SIGSEGV"
    assert r["class"] == "stack-overflow"      # the fault address is next to the stack pointer


def test_logcat_columns_before_a_tombstone_keep_its_tag_for_the_tombstone_reader():
    pre = "2020-01-02 03:04:05.678 100-100/? A/DEBUG: "
    text = "".join(pre + ln + "\n" for ln in (
        "*** *** *** *** *** *** *** *** *** *** *** *** *** *** *** ***",
        "pid: 99, tid: 99, name: toy  >>> com.example.toy <<<",
        "signal 11 (SIGSEGV), code 1 (SEGV_MAPERR), fault addr 0x0",
        "backtrace:",
        "    #00 pc 00001234  /data/app/com.example.toy/lib/arm64/libtoy.so (toy_parse+12)",
        "    #01 pc 00005678  /data/app/com.example.toy/lib/arm64/libtoy.so (toy_main+40)"))
    assert normalize_paste(text).split("\n")[0].startswith("A/DEBUG: ")
    r = _crash(text)
    assert r["signal"] == "SIGSEGV" and r["class"].startswith("null-deref")


def test_a_message_quoted_as_a_frame_argument_or_value_is_left_alone():
    lines = ['#5  0x1 in __libc_message (fmt=0x2 "free(): invalid pointer") at x.c:1',
             '$1 = "terminate called after throwing an instance of \'E\'"',
             'printf("free(): invalid pointer")',
             "the text 'free(): invalid pointer' is a string"]
    assert cut_signature_prefixes(lines) == lines


def test_a_sentence_without_a_producers_line_is_still_refused():
    with pytest.raises(ArtifactError):
        load_text("The program said: it crashed somewhere in free() again, please help\n")


def test_systemctl_status_killed_by_signal_is_a_sigsegv_with_nothing_to_decide_more():
    r = _crash("● toyd.service - Toy daemon\n"
               "     Active: activating (auto-restart) (Result: signal) since Mon 2025-01-06 10:00:00 UTC; 1s ago\n"
               "    Process: 4242 ExecStart=/usr/bin/toyd (code=killed, signal=SEGV)\n"
               "   Main PID: 4242 (code=killed, signal=SEGV)\n")
    assert r["signal"] == "SIGSEGV" and r["class"] == "unknown"


def test_server_signal_banner_without_its_backtrace_is_the_signal():
    r = _crash("250101 10:00:00 [ERROR] mysqld got signal 11 ;\n"
               "This could be because you hit a bug.\n")
    assert r["signal"] == "SIGSEGV" and r["class"] == "unknown"


def test_visual_studio_output_window_access_violation_exit_code_is_a_sigsegv():
    r = _crash("'toy.exe' (Win32): Loaded 'C:\\Windows\\System32\\kernel32.dll'.\n"
               "The thread 0x1a2b has exited with code 3221225477 (0xc0000005).\n"
               "The program '[1234] toy.exe' has exited with code 3221225477 (0xc0000005) 'Access violation'.\n")
    assert r["signal"] == "SIGSEGV" and r["class"] == "unknown"
