"""tracemalloc text from a real leaking Python program, and refusing Snapshot.dump() pickles."""
import re
import warnings

import pytest

from forensics import ArtifactError
from forensics.memory.diff import heap_diff
from forensics.memory.load import load_heap
from forensics.memory.tracemalloc_text import parse_size

from support import SAMPLE, REPO

MEM = SAMPLE / "memory"
GEN = REPO / "sample_data" / "generate" / "memory" / "leaky_tracemalloc.py"


def _line_of(marker: str) -> int:
    for no, line in enumerate(GEN.read_text().splitlines(), 1):
        if marker in line:
            return no
    raise AssertionError(marker)


LEAK_LINE = _line_of("# the leaking allocation site")
MAIN_CALL_LINE = max(no for no, line in enumerate(GEN.read_text().splitlines(), 1) if line.strip() == "main()")


@pytest.mark.parametrize("files", [["py_compare_lineno.txt"], ["py_compare_traceback.txt"],
                                   ["py_stats_t0.txt", "py_stats_t1.txt"]])
def test_planted_leak_site_ranks_first(files):
    d = heap_diff([MEM / f for f in files], top=0)
    top = d.table.iloc[0]
    assert top["name"].endswith(f"leaky_tracemalloc.py:{LEAK_LINE}")
    assert top["count_delta"] == 6000
    assert top["bytes_delta"] == pytest.approx(1667 * 1024, rel=0.01)


def test_traceback_mode_attributes_to_the_innermost_frame_not_the_header():
    heap = load_heap(MEM / "py_compare_traceback.txt")
    stats = heap.raw
    assert heap.info["mode"] == "traceback"
    # every header names the outermost frame (main()), the trap the reader avoids
    assert stats["header_site"].str.endswith(f":{MAIN_CALL_LINE}").all()
    assert stats.iloc[0]["site"].endswith(f":{LEAK_LINE}")
    assert not stats["site"].str.endswith(f":{MAIN_CALL_LINE}").any()


def test_headers_only_traceback_output_warns(tmp_path):
    text = (MEM / "py_compare_traceback.txt").read_text().splitlines()
    headers = tmp_path / "headers.txt"
    headers.write_text("\n".join(ln for ln in text if "size=" in ln) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        heap = load_heap(headers)
    assert heap.info["mode"] == "traceback (headers only)"
    assert any("OUTERMOST" in w for w in heap.provenance.warnings)


def test_control_shows_no_growth():
    d = heap_diff([MEM / "py_control_lineno.txt"], top=0)
    assert d.verdict.startswith("no type grew")
    assert d.table["bytes_delta"].abs().max() <= 64


def test_sizes():
    assert parse_size("175 KiB") == 175 * 1024 and parse_size("-2016 B") == -2016
    assert parse_size("1.5 MiB") == 1572864


def test_pickle_is_refused_with_advice():
    with pytest.raises(ArtifactError) as e:
        load_heap(MEM / "py_snapshot_t1.tracemalloc")
    assert e.value.location == 0
    assert "pickle" in e.value.reason and "compare_to" in e.value.reason and "never unpickles" in e.value.reason


def test_pickle_in_a_diff_is_refused():
    with pytest.raises(ArtifactError, match="pickle"):
        heap_diff([MEM / "py_snapshot_t1.tracemalloc", MEM / "py_stats_t1.txt"])


def test_one_point_in_time_is_not_a_diff():
    with pytest.raises(ArtifactError, match="not a diff"):
        heap_diff([MEM / "py_stats_t0.txt"])


def test_garbage_lines_warn_but_load(tmp_path):
    text = (MEM / "py_compare_lineno.txt").read_text()
    p = tmp_path / "mixed.txt"
    p.write_text("[ Top 10 differences ]\n" + text + "this line is noise\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        heap = load_heap(p)
    assert len(heap.provenance.warnings) == 1 and "line" in heap.provenance.warnings[0]
    assert re.search(r":\d+$", heap.classes.iloc[0]["name"])
