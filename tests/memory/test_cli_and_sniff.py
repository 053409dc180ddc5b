"""`forensics heap …` as a user runs it, and content sniffing of every memory sample."""
import json

import pytest

from forensics.artifact import sniff

from support import SAMPLE, run_cli

MEM = SAMPLE / "memory"

KINDS = {
    "node_s0_baseline.heapsnapshot": "v8-heapsnapshot",
    "jcmd_histo_t0.txt": ("jvm-histogram", "jcmd GC.class_histogram"),
    "jmap_histo_live_t0.txt": ("jvm-histogram", "jmap -histo"),
    "py_compare_lineno.txt": "tracemalloc-text",
    "py_compare_traceback.txt": "tracemalloc-text",
    "py_stats_t0.txt": "tracemalloc-text",
    "py_snapshot_t1.tracemalloc": "python-pickle",
    "go_heap_t0.pb.gz": "pprof",   # Go writes period_type (field 11) first
    "go_heap_t2.pb.gz": "pprof",
}


@pytest.mark.parametrize("name", sorted(KINDS))
def test_sniff(name):
    want = KINDS[name]
    d = sniff(MEM / name)
    if isinstance(want, tuple):
        assert (d.kind, d.format) == want
    else:
        assert d.kind == want


def test_reference_outputs():
    assert sniff(MEM / "reference" / "memlab_find_leaks_s1_s2_s3.txt").kind is None
    d = sniff(MEM / "reference" / "pprof_top_inuse_space_base_t0_t2.txt")
    assert (d.kind, d.format) == ("pprof", "pprof -top text report")


def test_heap_diff_json_v8():
    r = run_cli("heap", "diff", MEM / "node_s1_churn.heapsnapshot", MEM / "node_s2_target.heapsnapshot",
                MEM / "node_s3_final.heapsnapshot", "--top", "3", "--format", "json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert len(rows) == 3 and rows[0]["name"] == "LeakyCacheEntry"
    for col in ("count_before", "count_after", "count_delta", "bytes_before", "bytes_after", "bytes_delta",
                "retained_delta", "leak_candidate"):
        assert col in rows[0]


def test_heap_diff_csv_jvm():
    r = run_cli("heap", "diff", *(MEM / f"jcmd_histo_t{i}.txt" for i in range(3)), "--format", "csv", "--top", "2")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("name,count_before,count_after,count_delta,bytes_before,bytes_after,bytes_delta")
    assert lines[1].startswith("LeakyService$OrderRecord,")


def test_heap_leaks_and_path():
    r = run_cli("heap", "leaks", MEM / "node_s1_churn.heapsnapshot", MEM / "node_s2_target.heapsnapshot",
                MEM / "node_s3_final.heapsnapshot", "--top", "2", "--format", "json")
    assert r.returncode == 0, r.stderr
    leaks = json.loads(r.stdout)
    assert "requestCache" in leaks[0]["owner"]
    r = run_cli("heap", "path", MEM / "node_s3_final.heapsnapshot", str(leaks[0]["example_id"]), "--format", "json")
    assert r.returncode == 0, r.stderr
    steps = json.loads(r.stdout)
    assert steps[0]["object"] == "(root)" and steps[-1]["node_id"] == leaks[0]["example_id"]


def test_heap_classes_and_missing_id():
    r = run_cli("heap", "classes", MEM / "jmap_histo_live_t2.txt", "--top", "1", "--format", "json")
    assert r.returncode == 0 and json.loads(r.stdout)[0]["name"] == "LeakyService$OrderRecord"
    r = run_cli("heap", "path", MEM / "node_s3_final.heapsnapshot", "999999999")
    assert r.returncode == 2 and "no object with id" in r.stderr


def test_pickle_refusal_is_one_line_error():
    r = run_cli("heap", "diff", MEM / "py_snapshot_t1.tracemalloc")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "pickle" in r.stderr and "compare_to" in r.stderr


def test_mixed_kinds_refused():
    r = run_cli("heap", "diff", MEM / "jcmd_histo_t0.txt", MEM / "py_stats_t1.txt")
    assert r.returncode == 2 and "one kind" in r.stderr
