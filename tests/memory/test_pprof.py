"""Go pprof heap profiles from a real leaking Go program, checked against `go tool pprof -top -base`."""
import gzip
import re

import pandas as pd

import pytest

from forensics import ArtifactError
from forensics.memory.diff import heap_diff
from forensics.memory.load import load_heap
from forensics.memory.pprof import _fields

from support import SAMPLE

MEM = SAMPLE / "memory"
T0, T1, T2 = (MEM / f"go_heap_t{i}.pb.gz" for i in range(3))


def _pprof_flat(name: str) -> dict:
    """flat bytes per function from the reference `go tool pprof -top -base` output."""
    out = {}
    for line in (MEM / "reference" / name).read_text().splitlines():
        m = re.match(r"\s*(-?\d+)B\s+\S+\s+\S+\s+-?\d+B\s+\S+\s+(.+?)(?: \(inline\))?$", line)
        if m:
            out[m[2]] = int(m[1])
        elif re.match(r"\s*0\s", line):
            out[line.split()[-1] if not line.endswith("(inline)") else line.split()[-2]] = 0
    return out


@pytest.mark.parametrize("base, new, ref", [(T0, T2, "pprof_top_inuse_space_base_t0_t2.txt"),
                                            (T0, T1, "pprof_top_inuse_space_base_t0_t1.txt")])
def test_diff_matches_pprof_base(base, new, ref):
    d = heap_diff([base, new], top=0)
    ours = d.table.set_index("name")["bytes_delta"]
    theirs = _pprof_flat(ref)
    assert theirs, "reference output not parsed"
    for fn, flat in theirs.items():
        assert ours.get(fn, 0) == flat, fn
    assert d.table.iloc[0]["name"] == "main.remember"


def test_churn_stays_small():
    t = heap_diff([T0, T1, T2], top=0).table.set_index("name")
    assert bool(t.loc["main.remember", "leak_candidate"])
    assert t.loc["main.remember", "bytes_delta"] > 100 * abs(t.loc["main.churn", "bytes_delta"])


def test_profile_metadata():
    heap = load_heap(T2)
    types = [t for t, _ in heap.info["sample_types"]]
    assert types == ["alloc_objects", "alloc_space", "inuse_objects", "inuse_space"]
    assert heap.info["value"] == "inuse_space" and "sampled" in heap.notes[0]
    assert heap.raw["stack"].str.contains("main.main").any()


def test_varint_reader():
    assert list(_fields(bytes([0x08, 0x96, 0x01]))) == [(1, 0, 150)]


def test_corrupt_profile_is_an_error_with_location(tmp_path):
    raw = gzip.decompress(T2.read_bytes())
    bad = tmp_path / "bad.pb.gz"
    bad.write_bytes(gzip.compress(raw[:40] + b"\x0f" + raw[41:]))
    with pytest.raises(ArtifactError) as e:
        load_heap(bad)
    assert "profile.proto" in str(e.value.location)


def test_cut_short_gzip(tmp_path):
    data = T2.read_bytes()
    cut = tmp_path / "cut.pb.gz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ArtifactError):
        with pytest.warns(Warning):
            load_heap(cut)


def test_pprof_report_alone_is_a_diff():
    report = heap_diff([MEM / "reference" / "pprof_top_inuse_space_base_t0_t2.txt"], top=0)
    ours = heap_diff([T0, T2], top=0).table.set_index("name")["bytes_delta"]
    top = report.table.iloc[0]
    assert top["name"] == "main.remember" and top["bytes_delta"] == ours["main.remember"]
    assert top["bytes_before"] is pd.NA and "main.remember grew by" in report.verdict


def test_pprof_report_cannot_be_paired():
    with pytest.raises(ArtifactError, match="already a diff"):
        heap_diff([MEM / "reference" / "pprof_top_inuse_space_base_t0_t1.txt",
                   MEM / "reference" / "pprof_top_inuse_space_base_t0_t2.txt"])


def test_mangled_report_row(tmp_path):
    lines = (MEM / "reference" / "pprof_top_inuse_space_base_t0_t2.txt").read_text().splitlines()
    lines[6] = "  12 what is this"
    bad = tmp_path / "bad.txt"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(ArtifactError) as e:
        load_heap(bad)
    assert e.value.location == "line 7"
