import json

import pytest

from support import SAMPLE, run_cli

PCAP = SAMPLE / "basic" / "loopback_http.pcap"
PCAPNG = SAMPLE / "basic" / "loopback_http.pcapng"


def test_info_json_gives_kind_format_size_and_hash():
    r = run_cli("info", "--quick", PCAP, PCAPNG, "--format", "json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [x["kind"] for x in rows] == ["pcap", "pcapng"]
    assert rows[0]["size"] == PCAP.stat().st_size and len(rows[0]["sha256"]) == 64
    assert rows[0]["format"] == "pcap (µs, little-endian)" and rows[0]["warnings"] == []


@pytest.mark.parametrize("fmt, first", [("csv", "file,kind,format,size,sha256,warnings"), ("table", "file")])
def test_info_csv_and_table(fmt, first):
    r = run_cli("info", "--quick", PCAP, "--format", fmt)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[0].split()[0].startswith(first.split()[0])
    assert "pcap" in r.stdout


def test_bad_input_is_one_line_error_without_traceback(tmp_path):
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(b"")
    r = run_cli("info", empty)
    assert r.returncode == 2
    assert r.stderr.strip() == "forensics: error: empty.pcap: not a known artifact: the file is empty"
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_debug_shows_the_traceback(tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    r = run_cli("info", empty, "--debug")
    assert r.returncode != 0 and "Traceback" in r.stderr and "ArtifactError" in r.stderr


def test_one_bad_file_does_not_hide_the_others(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("just some notes\n")
    r = run_cli("info", "--quick", PCAP, text, "--format", "json")
    assert r.returncode == 2
    assert [x["kind"] for x in json.loads(r.stdout)] == ["pcap"]
    assert "notes.txt: not a known artifact" in r.stderr


def test_missing_file():
    r = run_cli("info", "/nonexistent/capture.pcap")
    assert r.returncode == 2 and "no such file" in r.stderr


def test_help_lists_commands():
    r = run_cli("--help")
    assert r.returncode == 0 and "info" in r.stdout


def test_info_loads_and_reports_the_loaders_warnings_and_hash():
    import hashlib
    cut = SAMPLE / "network" / "truncated.pcap"
    r = run_cli("info", cut, "--format", "json")
    assert r.returncode == 0, r.stderr
    (row,) = json.loads(r.stdout)
    assert row["sha256"] == hashlib.sha256(cut.read_bytes()).hexdigest() and row["size"] == cut.stat().st_size
    assert len(row["warnings"]) == 1 and "byte 21,729" in row["warnings"][0]
    assert "truncated capture?" in r.stderr  # also said on stderr
    assert run_cli("info", cut, "--strict").returncode == 1
