"""JVM class histograms from real jcmd / jmap runs of LeakyService."""
import warnings

import pytest

from forensics import ArtifactError
from forensics.memory.diff import heap_diff
from forensics.memory.jvm import readable
from forensics.memory.load import load_heap

from support import SAMPLE

MEM = SAMPLE / "memory"


@pytest.mark.parametrize("files", [
    ["jcmd_histo_t0.txt", "jcmd_histo_t1.txt", "jcmd_histo_t2.txt"],
    ["jmap_histo_live_t0.txt", "jmap_histo_live_t2.txt"],
])
def test_planted_leak_ranks_first_by_byte_growth(files):
    d = heap_diff([MEM / f for f in files], top=0)
    top = d.table.iloc[0]
    assert top["name"] == "LeakyService$OrderRecord" and top["readable"] == "LeakyService.OrderRecord"
    assert top["count_delta"] == 40000 and top["bytes_delta"] == 40000 * 152
    if len(files) == 3:
        assert bool(top["leak_candidate"])
    assert "OrderRecord" in d.verdict


def test_churning_type_does_not_grow():
    t = heap_diff([MEM / "jcmd_histo_t0.txt", MEM / "jcmd_histo_t2.txt"], top=0).table.set_index("name")
    churn = t.loc["LeakyService$TransientEvent"]
    assert churn["count_before"] == churn["count_after"] == 64 and churn["bytes_delta"] == 0


def test_jcmd_and_jmap_headers():
    jc = load_heap(MEM / "jcmd_histo_t0.txt")
    jm = load_heap(MEM / "jmap_histo_live_t0.txt")
    assert jc.info["tool"] == "jcmd GC.class_histogram" and jc.info["pid"] > 0
    assert jm.info["tool"] == "jmap -histo"
    for h in (jc, jm):
        assert h.classes["count"].sum() == h.info["total_count"]
        assert h.classes["bytes"].sum() == h.info["total_bytes"]
        assert h.provenance.warnings == []
    assert jc.classes.set_index("name").loc["[B", "module"].startswith("java.base@")


@pytest.mark.parametrize("desc, text", [
    ("[B", "byte[]"), ("[[I", "int[][]"), ("[Ljava.lang.Object;", "java.lang.Object[]"),
    ("[[Ljava.lang.String;", "java.lang.String[][]"), ("java.util.HashMap$Node", "java.util.HashMap.Node"),
    ("LeakyService$OrderRecord", "LeakyService.OrderRecord"), ("java.lang.String", "java.lang.String"),
])
def test_readable_descriptors(desc, text):
    assert readable(desc) == text


def test_mangled_line_is_an_error_with_line_number(tmp_path):
    lines = (MEM / "jcmd_histo_t1.txt").read_text().splitlines()
    lines[6] = lines[6].replace(":", "#", 1)[:30]
    bad = tmp_path / "bad.txt"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(ArtifactError) as e:
        load_heap(bad)
    assert e.value.location == "line 7"


def test_cut_short_histogram_warns(tmp_path):
    lines = (MEM / "jmap_histo_live_t2.txt").read_text().splitlines()
    cut = tmp_path / "cut.txt"
    cut.write_text("\n".join(lines[:40]) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        heap = load_heap(cut)
    assert len(heap.classes) == 38 and "cut short" in heap.provenance.warnings[0]
