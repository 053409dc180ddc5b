import json
import os

from forensics.cli import main

from .conftest import SAMPLES


def test_classify_json(capsys):
    files = [os.path.join(SAMPLES, n) for n in ("double_free__g-O0__cmds.txt", "strlen_greet__g-O2__live.txt")]
    assert main(["crash", "classify", *files, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["class"] for r in out] == ["heap-corruption", "null-deref-read"]
    assert set(out[0]) == {"file", "signal", "si_code", "origin", "class", "subclass", "crash_thread",
                           "top_own_frame", "bucket", "exploitability", "reason"}


def test_buckets_groups(capsys):
    files = [os.path.join(SAMPLES, f"double_free__{b}__cmds.txt") for b in ("g-O0", "g-O2", "nog-O0", "nog-O2")]
    assert main(["crash", "buckets", *files, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out) == 1 and out[0]["n_files"] == 4


def test_stack_table(capsys):
    assert main(["crash", "stack", os.path.join(SAMPLES, "deadlock__g-O0__attach.txt"), "--all-threads"]) == 0
    assert "write_audit_log" in capsys.readouterr().out


def test_bad_file_exits_2(tmp_path, capsys):
    p = tmp_path / "notes.txt"
    p.write_text("hello\n")
    assert main(["crash", "classify", str(p)]) == 2
    assert "error" in capsys.readouterr().err


def test_classify_reads_stdin(monkeypatch, capsys):
    import io
    import sys

    paste = (b"    (gdb) where\n    #0  0x00007f in __GI_raise (sig=sig@entry=6) at raise.c:56\n"
             b"    #1  0x00007f in __GI_abort () at abort.c:89\n    #2  0x00007f in __stack_chk_fail () at s.c:28\n"
             b"    #3  0x0000000000401a2c in parse_request () at server.c:214\n")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(paste)))
    assert main(["crash", "classify", "-", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out[0]["class"] == "stack-buffer-overrun" and out[0]["top_own_frame"] == "parse_request"
    assert out[0]["file"] == "<stdin>"


def test_classify_paste_logic():
    from forensics.crashes.pastebox import classify_paste

    # a core's bt with no $_siginfo: NULL read from the pointer argument in frame 0 (gdb's own output, generated)
    r = classify_paste(open(os.path.join(SAMPLES, "worker_crash__g-O0__bt.txt")).read())
    assert r["class"] == "null-deref-read" and r["top_own_frame"] == "process_job"
    assert "j=0x0" in r["reason"] and "no $_siginfo" in r["reason"]
    assert "error" in classify_paste("   ") and "error" in classify_paste("just words")
