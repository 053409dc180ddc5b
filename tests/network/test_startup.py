"""What ``pcap summary`` does to start fast: the evidence hash in its own thread, the reader loaded only
when a capture is read, numba's extension scan spared. (Timings live in benchmarks/network_summary.py.)"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pytest

from forensics.errors import ArtifactError
from forensics.network.hashing import PIECE, FileHash

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
SAMPLE = os.path.join(ROOT, "sample_data", "network", "bulk_loss.pcap")


@pytest.mark.parametrize("size", [0, 1, PIECE - 1, PIECE, 3 * PIECE + 5])
def test_file_hash_is_the_files_sha256(tmp_path, size):
    data = os.urandom(size)
    p = tmp_path / "x.bin"
    p.write_bytes(data)
    assert FileHash(p).result() == hashlib.sha256(data).hexdigest()


def test_file_hash_of_a_capture_and_missing_file(tmp_path):
    assert FileHash(SAMPLE).result() == hashlib.sha256(open(SAMPLE, "rb").read()).hexdigest()
    with pytest.raises(ArtifactError):
        FileHash(tmp_path / "nope.pcap")


def test_cancelled_hash_stops_and_says_so(tmp_path):
    p = tmp_path / "big.bin"
    p.write_bytes(bytes(8 * PIECE))
    h = FileHash(p)
    h.cancel()
    h._thread.join(timeout=10)
    assert not h._thread.is_alive()
    if h._digest is None:  # it may have finished before the cancel arrived
        with pytest.raises(RuntimeError):
            h.result()


def test_summary_with_a_started_hash_equals_one_without():
    from forensics.network.load import capture_summary

    assert capture_summary(SAMPLE, hasher=FileHash(SAMPLE)) == capture_summary(SAMPLE)


def test_refused_capture_does_not_wait_for_its_hash(tmp_path):
    from forensics.network.load import capture_summary

    p = tmp_path / "not.pcap"
    p.write_bytes(b"\xd4\xc3\xb2\xa1" + bytes(10))  # pcap magic, header cut short
    with pytest.raises(ArtifactError):
        capture_summary(p)


def test_cli_parser_does_not_load_the_reader():
    """Building the ``forensics`` parser must not import the numba reader (start-up of every command)."""
    code = ("import sys, forensics.cli as c; c.build_parser(); "
            "print(sorted(m for m in ('forensics.network.load', 'forensics.network.pcap', "
            "'forensics.network.tcp_analysis') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_cli_summary_as_a_command():
    """The path the benchmark times: ``python -m forensics.cli pcap summary`` (gc.freeze and all)."""
    env = dict(os.environ, FORENSICS_PROGRESS="0")
    out = subprocess.run([sys.executable, "-m", "forensics.cli", "pcap", "summary", SAMPLE, "--format", "json"],
                         capture_output=True, text=True, cwd=ROOT, env=env, check=True)
    from forensics.network.analysis import summarize
    from forensics.network.load import load_capture

    want = summarize(load_capture(SAMPLE))
    got = json.loads(out.stdout)
    assert got == {k: want[k] for k in got} and got["packets"] > 0


def test_extension_scan_is_spared_only_without_extensions(tmp_path, monkeypatch):
    from numba.core import entrypoints

    from forensics.network import numba_cache

    monkeypatch.setattr(entrypoints, "_already_initialized", False)
    ext = tmp_path / "fake_ext-1.0.dist-info"
    ext.mkdir()
    (ext / "entry_points.txt").write_text("[numba_extensions]\ninit = fake_ext:init\n")
    monkeypatch.setattr(sys, "path", [str(tmp_path)])
    assert numba_cache.skip_extension_scan() is False and entrypoints._already_initialized is False
    (ext / "entry_points.txt").write_text("[console_scripts]\nx = y:z\n")
    assert numba_cache.skip_extension_scan() is True and entrypoints._already_initialized is True
