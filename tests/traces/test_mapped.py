"""Big exports are memory-mapped (forensics/traces/source.py) rather than copied: the tables, the hash and
the warnings are the same either way — every sample and wild file is loaded both ways."""
import mmap
import os
import sys
import warnings

import pandas.testing as pdt
import pytest

from forensics.artifact import ArtifactWarning
from forensics.traces import load_traces
from forensics.traces import source

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_fast_path import FILES, IDS  # noqa: E402  (the same files as the fast-path comparison)

TABLES = ("spans", "tags", "logs", "references", "processes", "orphans", "skew")


def _load(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArtifactWarning)
        return load_traces(path, **kw)


@pytest.mark.parametrize("path", FILES, ids=[IDS[p] for p in FILES])
def test_mapped_equals_read(path, monkeypatch):
    read = _load(path)
    monkeypatch.setattr(source, "MAP_MIN_BYTES", 0)
    mapped = _load(path)
    for name in TABLES:
        pdt.assert_frame_equal(getattr(mapped, name), getattr(read, name), obj=name)
    assert mapped.provenance.sha256 == read.provenance.sha256
    assert mapped.provenance.size == read.provenance.size
    assert mapped.provenance.details.get("reader") == read.provenance.details.get("reader")
    assert mapped.provenance.warnings == read.provenance.warnings


def test_a_big_file_is_mapped(tmp_path, monkeypatch):
    p = tmp_path / "t.json"
    p.write_text('{"data":[{"traceID":"ab","spans":[{"traceID":"ab","spanID":"01","startTime":1,"duration":2}]}]}')
    monkeypatch.setattr(source, "MAP_MIN_BYTES", 0)
    prov, raw, hashing = source.read_source(str(p), "test")
    hashing.join()
    assert isinstance(raw, mmap.mmap) == bool(source._POPULATE)
    assert source.as_bytes(raw) == p.read_bytes() and prov.size == p.stat().st_size


def test_count_newlines_on_a_map(tmp_path, monkeypatch):
    data = b"a\nbb\n\nccc\n" * 1000 + b"tail"
    p = tmp_path / "n.jsonl"
    p.write_bytes(data)
    monkeypatch.setattr(source, "MAP_MIN_BYTES", 0)
    _prov, raw, hashing = source.read_source(str(p), "test")
    hashing.join()
    for start, end in ((0, None), (3, 17), (0, 1), (len(data) - 10, len(data) + 5)):
        assert source.count_newlines(raw, start, end) == data.count(b"\n", start, end)
    monkeypatch.setattr(source, "count_newlines", source.count_newlines)
    small = 0
    for at in range(0, len(data), 7):
        small += source.count_newlines(raw, at, at + 7)
    assert small == data.count(b"\n")


def test_a_cut_off_mapped_file_loads_like_a_read_one(tmp_path, monkeypatch):
    # the compiled reader declines a truncated file: the general reader salvages it from a copy of the map
    whole = open(os.path.join(os.path.dirname(__file__), "..", "..", "sample_data", "traces", "checkout.jaeger.json"),
                 "rb").read()
    p = tmp_path / "cut.json"
    p.write_bytes(whole[: len(whole) * 2 // 3])
    read = _load(str(p))
    monkeypatch.setattr(source, "MAP_MIN_BYTES", 0)
    mapped = _load(str(p))
    assert mapped.provenance.details.get("truncated_at") == read.provenance.details.get("truncated_at") is not None
    for name in TABLES:
        pdt.assert_frame_equal(getattr(mapped, name), getattr(read, name), obj=name)
    assert mapped.provenance.warnings == read.provenance.warnings and len(read.spans) > 0
