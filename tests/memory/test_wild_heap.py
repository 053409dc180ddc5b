"""Heap artifacts other people posted or committed (tests/memory/wild/SOURCES.md): each loads, and says what its
source says grew or dominates."""
import re

import numpy as np
import pytest

import forensics
from forensics.memory.diff import heap_diff

from support import require_wild


def _wild(*rels):
    """The corpus files (skips, saying why, when any is not on this machine: they are not committed)."""
    found = require_wild("memory", rels)
    return [found[r] for r in rels]


def _pprof_expected(path) -> list[list[int]]:
    """The sample values pprof itself decoded (google/pprof's ``*.heap.string`` golden file)."""
    text = path.read_text()
    block = text.split("Samples:\n", 1)[1].split("Locations", 1)[0]
    return [[int(x) for x in m[1].split()] for m in re.finditer(r"^\s+([\d ]+):", block, re.M)]


@pytest.mark.parametrize("name, types", [
    ("gobench.heap", ["alloc_objects", "alloc_space", "inuse_objects", "inuse_space"]),
    ("cppbench.heap", ["objects", "space"]),
])
def test_legacy_pprof_heap_profiles_equal_pprofs_own_decoding(name, types):
    profile, golden = _wild(f"google-pprof_{name}", f"google-pprof_{name}.string")
    heap = forensics.load(profile)
    assert heap.kind == "pprof" and heap.provenance.format == "pprof legacy text heap profile"
    assert [t for t, _ in heap.info["sample_types"]] == types and heap.info["period"] == 524288
    want = _pprof_expected(golden)
    assert heap.raw[types].to_numpy().tolist() == want


def test_graylog_histogram_as_posted():
    """graylog2-server#4708 ("Possible memory leak"): the poster's jmap -histo:live, cut after row 11."""
    heap = forensics.load(*_wild("graylog-4708_jmap_histo_live.txt"))
    assert len(heap.classes) == 11 and heap.classes.iloc[0]["name"] == "[B"
    assert heap.classes.iloc[0]["bytes"] == 165611968 and heap.classes["module"].iloc[0] == "java.base@10"
    (w,) = heap.provenance.warnings
    assert "no 'Total' row" in w                      # the paste is cut, and the loader says so


def test_jdk7_histogram_with_permgen_rows():
    """hazelcast#13291: a JDK 6/7 class histogram (PermGen <methodKlass> rows, pid line), as printed on a test failure."""
    heap = forensics.load(*_wild("hazelcast-13291_class_histogram.txt"))
    assert heap.info["pid"] == 16158 and len(heap.classes) == 15
    top = heap.classes.iloc[0]
    assert (top["name"], top["count"], top["bytes"]) == ("<methodKlass>", 12369, 1688872)
    assert heap.classes.set_index("name").loc["[[I", "readable"] == "int[][]"


def test_qutebrowser_compare_to_names_the_first_line():
    """qutebrowser#3280 ("Rects in tabwidget.py seem to be leaking memory?"): compare_to after a day of use."""
    d = heap_diff(_wild("qutebrowser-3280_compare_to_lineno.txt"), top=0)
    top = d.table.iloc[0]
    assert top["name"].endswith("mainwindow/tabwidget.py:895")            # the poster's first line
    assert top["count_delta"] == 929972 and abs(top["bytes_delta"] - 24.8 * 2**20) < 0.05 * 2**20
    assert "tabwidget.py:895 grew by 929,972 objects" in d.verdict
    assert (d.table["name"].str.contains("tabwidget.py")).all()
