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
