"""The CLI starts big files' SHA-256 before its imports; every later reader gets that digest."""
import hashlib
import os
import subprocess
import sys

from forensics import artifact
from forensics.network.hashing import FileHash


def test_early_hash_is_handed_to_every_reader(tmp_path, monkeypatch):
    monkeypatch.setattr(artifact, "_EARLY", {})
    monkeypatch.setattr(artifact, "EARLY_HASH_MIN", 1000)
    big = tmp_path / "big.pcap"
    big.write_bytes(os.urandom(300_000))
    small = tmp_path / "small.pcap"
    small.write_bytes(b"x" * 10)
    words = ["pcap", "summary", str(big), str(small), "--format", "json", str(tmp_path / "absent")]
    assert artifact.start_early_hashes(words) == 1  # only the big regular file
    assert artifact.early_hash(small) is None
    want = hashlib.sha256(big.read_bytes()).hexdigest()
    assert artifact.early_hash(big) is not None
    assert artifact.sha256_of(big) == want
    assert FileHash(big).result() == want
    assert artifact.start_early_hashes([str(big)]) == 0  # not twice


def test_a_changed_file_is_hashed_again(tmp_path, monkeypatch):
    monkeypatch.setattr(artifact, "_EARLY", {})
    monkeypatch.setattr(artifact, "EARLY_HASH_MIN", 1000)
    f = tmp_path / "a.pcap"
    f.write_bytes(b"a" * 5000)
    artifact.start_early_hashes([str(f)])
    artifact.early_hash(f).result()
    f.write_bytes(b"b" * 6000)  # another size: another file as far as provenance goes
    assert artifact.early_hash(f) is None
    assert artifact.sha256_of(f) == hashlib.sha256(b"b" * 6000).hexdigest()


def test_the_command_module_loads_no_pandas_before_it_starts():
    code = "import sys, forensics.cli; print('pandas' in sys.modules, 'numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_several_files_hash_one_after_another(tmp_path, monkeypatch):
    monkeypatch.setattr(artifact, "_EARLY", {})
    monkeypatch.setattr(artifact, "EARLY_HASH_MIN", 1000)
    files = []
    for i in range(3):
        f = tmp_path / f"s{i}.heapsnapshot"
        f.write_bytes(bytes([i]) * (200_000 + i))
        files.append(f)
    assert artifact.start_early_hashes([str(f) for f in files]) == 3
    for f in reversed(files):  # asked for in any order
        assert artifact.sha256_of(f) == hashlib.sha256(f.read_bytes()).hexdigest()
