"""Parsing the transcript styles: frames, threads, locals, recursion, and refusal of non-gdb text."""
import os
import warnings

import pandas as pd
import pytest

from forensics.artifact import sniff
from forensics.crashes.load import load_gdb
from forensics.crashes.parse import parse_text, split_function_args
from forensics.errors import ArtifactError

from .conftest import ROOT, SAMPLES


def _load(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_gdb(os.path.join(SAMPLES, name))


def test_sniff_recognises_every_style(manifest):
    styles = set()
    for name, m in manifest.items():
        d = sniff(os.path.join(SAMPLES, name))
        assert d.kind == "gdb-output", (name, d)
        styles.add(m["style"])
    assert styles == {"live", "cmds", "bt", "allbtfull", "attach", "kcore",
                      "lldb", "pretty", "sigint", "go", "gdb", "dlv", "asan", "coredumpctl",
                      "valgrind", "kernel", "python", "v8", "jvm", "rust", "ubsan"}


@pytest.mark.parametrize("content", [
    b"just some notes\n#1 Introduction (draft)\n",
    b"# README\n\nNothing to see.\n",
    b'{"traceId": 1}\n',
    b"\x00\x01\x02binary",
    b"",
])
def test_non_gdb_text_is_refused(tmp_path, content):
    p = tmp_path / "x.txt"
    p.write_bytes(content)
    with pytest.raises(ArtifactError):
        load_gdb(p)


def test_project_files_are_refused():
    with pytest.raises(ArtifactError):
        load_gdb(os.path.join(ROOT, "CONTRIBUTING.md"))


def test_recursion_collapsed_with_count():
    c = _load("stack_overflow__g-O0__bt.txt")
    r = c.crash
    assert r["n_frames"] >= 10_000                       # tens of thousands of frames in the file
    assert len(c.frames) < 20                            # ... a handful of rows after collapsing
    assert c.frames["repeat"].max() >= 10_000
    assert r["recursion"].startswith("walk_tree x")
    assert int(r["recursion"].split("x")[1]) == r["n_frames"] - 1   # all but main
    assert r["class"] == "stack-overflow"


def test_bt_full_locals_and_entry_args():
    c = _load("double_free__g-O0__cmds.txt")
    fr = c.crash_stack()
    top = fr.iloc[0]
    assert top["function"] == "__pthread_kill_implementation"
    assert "signo=signo@entry=6" in top["args"]
    assert "tid = <optimized out>" in top["locals"]
    assert top["optimized_out"]
    main = fr[fr["function"] == "main"].iloc[0]
    assert "b = {data = " in main["locals"]                # nested braces kept on the local
    assert main["line"] == 14 and main["source_file"].endswith("double_free.c")


def test_from_library_and_stripped_frames():
    c = _load("double_free__nog-O2__bt.txt")
    fr = c.crash_stack()
    assert fr.iloc[0]["function"] == "??" and fr.iloc[0]["module"] == "/lib/x86_64-linux-gnu/libc.so.6"
    assert not fr.iloc[0]["is_own"]
    s = _load("null_read__strip-O2__live.txt").crash_stack()
    assert s.iloc[0]["function"] == "??" and s.iloc[0]["is_own"]


def test_thread_apply_all_highest_first():
    c = _load("deadlock__g-O0__allbtfull.txt")
    fr = c.frames
    assert sorted(fr["thread"].unique()) == [1, 2, 3]
    waiting = fr[fr["norm_function"] == "pthread_mutex_lock"]["thread"].unique()
    assert sorted(waiting) == [2, 3]
    assert fr["lwp"].notna().all()


def test_error_reading_variable_marker():
    c = _load("stack_overflow__g-O2__live.txt")
    assert c.frames["error_reading"].any()


def test_signal_line_and_interleaved_lines():
    text = ("[New LWP 7]\nwarning: something odd\n[Thread debugging using libthread_db enabled]\n"
            "Program terminated with signal SIGSEGV, Segmentation fault.\n"
            "#0  0x0000555555555139 in f (p=0x0) at t.c:3\n[New LWP 8]\n#1  0x0000555555555150 in main () at t.c:9\n")
    t = parse_text(text)
    assert t.facts["signal"] == "SIGSEGV"
    assert t.frames["function"].tolist() == ["f", "main"]


@pytest.mark.parametrize("body,expect", [
    ("main ()", ("main", "")),
    ("f (s=0x1 \"a (b) c\", n=2)", ("f", "s=0x1 \"a (b) c\", n=2")),
    ("std::terminate() ()", ("std::terminate()", "")),
    ("<signal handler called>", ("<signal handler called>", None)),
])
def test_split_function_args(body, expect):
    assert split_function_args(body) == expect


def test_provenance_attached():
    c = _load("null_read__g-O0__cmds.txt")
    p = c.crashes.attrs["provenance"]
    assert p["kind"] == "gdb-output" and len(p["sha256"]) == 64
    assert c.frames.attrs["provenance"]["sha256"] == p["sha256"]


def test_truncated_transcript_warns(tmp_path):
    src = open(os.path.join(SAMPLES, "double_free__g-O0__live.txt"), "rb").read()
    cut = src[: src.index(b"#8 ") + 20]
    p = tmp_path / "cut.txt"
    p.write_bytes(cut)
    with pytest.warns(Warning):
        c = load_gdb(p)
    assert c.crash["class"] == "heap-corruption"
    assert c.provenance.warnings


def test_registry_dispatches_to_load_gdb():
    from forensics.registry import load

    c = load(os.path.join(SAMPLES, "bad_pc__nog-O0__live.txt"))
    assert c.crash["class"] == "bad-pc" and c.crash["bucket"] == "bad-pc:dispatch_event"


def test_frame0_pc_from_registers():
    c = _load("uncaught_exception__g-O2__cmds.txt")
    top = c.crash_stack().iloc[0]
    assert top["pc"] == c.crash["pc"] and top["module"].endswith("libc.so.6")


def test_pretty_printed_locals(tmp_path):
    text = ("Program terminated with signal SIGSEGV, Segmentation fault.\n"
            "#0  0x0000555555555139 in f (p=0x0) at t.c:3\n"
            "        cfg = {\n          host = 0x0,\n          opts = {a = 1, b = {c = 2}}\n        }\n"
            "        n = 3\n"
            "#1  0x0000555555555150 in main () at t.c:9\nNo locals.\n")
    p = tmp_path / "pretty.txt"
    p.write_text(text)
    c = load_gdb(p)
    loc = c.frames.iloc[0]["locals"]
    assert "opts = {a = 1, b = {c = 2}}" in loc and loc.endswith("n = 3")
    assert pd.isna(c.frames.iloc[1]["locals"])
    assert c.crash["class"] == "null-deref-read"


def test_older_glibc_bare_source_names_are_not_own_code(tmp_path):
    """Ubuntu 18/20-style debug info prints glibc frames as "abort.c:79" with no ./ prefix."""
    text = ("Program terminated with signal SIGABRT, Aborted.\n"
            "#0  __GI_raise (sig=sig@entry=6) at ../sysdeps/unix/sysv/linux/raise.c:50\n"
            "#1  0x00007f0e1c1e8859 in __GI_abort () at abort.c:79\n"
            "#2  0x00007f0e1c1e8729 in __assert_fail_base (fmt=0x7f0e1c37e588 \"%s%s%s:%u: %s%sAssertion `%s' failed.\\n%n\", "
            "assertion=0x55d1c0e0a004 \"n > 0\", file=0x55d1c0e0a00a \"app.c\", line=7, function=<optimized out>) at assert.c:92\n"
            "#3  0x00007f0e1c1f9f36 in __GI___assert_fail (assertion=0x55d1c0e0a004 \"n > 0\", file=0x55d1c0e0a00a \"app.c\", "
            "line=7, function=0x55d1c0e0a018 <__PRETTY_FUNCTION__.0> \"check\") at assert.c:101\n"
            "#4  0x000055d1c0e09169 in check (n=0) at app.c:7\n"
            "#5  0x000055d1c0e09185 in main () at app.c:12\n")
    p = tmp_path / "old.txt"
    p.write_text(text)
    c = load_gdb(p)
    assert c.crash["class"] == "assertion-failure" and c.crash["assertion"] == "n > 0"
    assert c.crash["bucket"] == "assertion-failure:check"


def _paste(text):
    import tempfile

    from forensics.crashes.load import load_text

    return load_text(text)


def test_gef_and_pwndbg_backtrace_panels():
    gef = ("Program received signal SIGSEGV, Segmentation fault.\n"
           "\x1b[1m[#0] 0x555555555139 → parse_record(rec=0x0)\x1b[0m\n[#1] 0x5555555551a0 → main()\n")
    c = _paste(gef).crash
    assert c["top_own_frame"] == "parse_record" and c["signal"] == "SIGSEGV"
    pwn = ("Program received signal SIGSEGV, Segmentation fault.\n"
           " ► 0   0x555555555139 parse_record+16\n   1   0x5555555551a0 main+41\n")
    assert _paste(pwn).crash["top_own_frame"] == "parse_record"


def test_rust_panic_and_python_frames_are_not_own():
    rust = ("Thread 1 \"tool\" received signal SIGABRT, Aborted.\n"
            "#0  0x00007ffff7e2ae2c in __pthread_kill_implementation () from /lib/x86_64-linux-gnu/libc.so.6\n"
            "#1  0x00007ffff7ddbfb2 in raise () from /lib/x86_64-linux-gnu/libc.so.6\n"
            "#2  0x00007ffff7dc6472 in abort () from /lib/x86_64-linux-gnu/libc.so.6\n"
            "#3  0x000055555556a1c7 in std::sys::unix::abort_internal () at library/std/src/sys/unix/mod.rs:292\n"
            "#4  0x0000555555566ab7 in rust_panic () at library/std/src/panicking.rs:744\n"
            "#5  0x0000555555566a32 in rust_begin_unwind () at library/std/src/panicking.rs:595\n"
            "#6  0x000055555555b0a3 in core::panicking::panic_fmt () at library/core/src/panicking.rs:67\n"
            "#7  0x000055555555c1e5 in tool::config::load::h0123456789abcdef () at src/config.rs:12\n")
    c = _paste(rust).crash
    assert (c["class"], c["subclass"], c["top_own_frame"]) == ("abort", "rust-panic", "tool::config::load")
    py = ("Program received signal SIGSEGV, Segmentation fault.\n"
          "#0  0x00007ffff6a1b2c3 in fast_sum (v=0x0) at ext/fastsum.c:31\n"
          "#1  0x00005555556a0f10 in _PyEval_EvalFrameDefault () at Python/ceval.c:4181\n"
          "#2  0x00005555556b1234 in PyEval_EvalCode () at Python/ceval.c:1130\n")
    c = _paste(py).crash
    assert c["top_own_frame"] == "fast_sum" and c["class"] == "null-deref-read"
    frames = _paste(py).frames
    assert not frames[frames["norm_function"] == "_PyEval_EvalFrameDefault"]["is_own"].any()


def test_utf16_transcript_reads_like_the_original(tmp_path):
    """Windows PowerShell's `>` writes UTF-16LE with a BOM: the same transcript, the same verdict, and a warning."""
    import warnings

    src = os.path.join(SAMPLES, "null_read__g-O0__cmds.txt")
    wide = tmp_path / "null_read_utf16.txt"
    wide.write_bytes(b"\xff\xfe" + open(src, encoding="utf-8").read().encode("utf-16-le"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = load_gdb(src).crash, load_gdb(str(wide)).crash
    assert (b["class"], b["top_own_frame"], b["bucket"]) == (a["class"], a["top_own_frame"], a["bucket"])
    assert any("UTF-16" in w for w in b["warnings"])
