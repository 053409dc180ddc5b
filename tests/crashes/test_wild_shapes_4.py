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
