"""V8 heap snapshots: parser against json.load, dominators against networkx, diffs against memlab's output."""
import json
import re
import warnings

import networkx as nx
import numpy as np
import pytest

from forensics import ArtifactError
from forensics.artifact import ArtifactWarning
from forensics.memory.diff import heap_diff
from forensics.memory.load import load_heap
from forensics.memory.v8 import read_v8
from forensics.memory.v8diff import analyse_graph, compare, retainer_path, summarize

from support import SAMPLE

MEM = SAMPLE / "memory"
S0, S1, S2, S3 = (MEM / f"node_{n}.heapsnapshot" for n in ("s0_baseline", "s1_churn", "s2_target", "s3_final"))


@pytest.fixture(scope="module")
def leak_diff():
    return heap_diff([S1, S2, S3], top=0)


def test_parser_matches_json_load():
    snap = read_v8(S2)
    doc = json.loads(S2.read_bytes())
    nf = doc["snapshot"]["meta"]["node_fields"]
    nodes = np.array(doc["nodes"]).reshape(-1, len(nf))
    edges = np.array(doc["edges"]).reshape(-1, 3)
    assert snap.node_count == doc["snapshot"]["node_count"] and snap.edge_total == doc["snapshot"]["edge_count"]
    assert (snap.node_id == nodes[:, nf.index("id")]).all()
    assert (snap.self_size == nodes[:, nf.index("self_size")]).all()
    assert (snap.edge_to == edges[:, 2] // len(nf)).all() and (snap.edge_name == edges[:, 1]).all()
    assert len(snap.strings) == len(doc["strings"])
    picks = [0, 1, len(doc["strings"]) // 2, len(doc["strings"]) - 1]
    assert [snap.strings[i] for i in picks] == [doc["strings"][i] for i in picks]
    assert snap.node_types == doc["snapshot"]["meta"]["node_types"][0]


def test_dominators_match_networkx():
    snap = read_v8(S2)
    g = analyse_graph(snap)
    src = np.repeat(np.arange(snap.node_count), np.diff(snap.first_edge))
    weak, shortcut = snap.edge_type_code("weak"), snap.edge_type_code("shortcut")
    ok = (snap.edge_type != weak) & ((snap.edge_type != shortcut) | (src == 0))
    G = nx.DiGraph()
    G.add_edges_from(zip(src[ok].tolist(), snap.edge_to[ok].tolist()))
    ref = nx.immediate_dominators(G, 0)
    assert all(g.idom[v] == d for v, d in ref.items() if v != 0)
    assert g.retained[0] == snap.self_size.sum()


def test_planted_leak_ranks_first_by_retained_growth(leak_diff):
    t = leak_diff.table
    assert t.iloc[0]["name"] == "LeakyCacheEntry"
    row = t.iloc[0]
    assert row["count_delta"] == row["new_count"] == row["leak_candidate"] == 2000
    assert "LeakyCacheEntry" in leak_diff.verdict


def test_retained_matches_memlab_reference(leak_diff):
    """memlab find-leaks (same files, reference/ output) reports LeakyCacheEntry ×2000 retaining 960KB."""
    ref = (MEM / "reference" / "memlab_find_leaks_s1_s2_s3.txt").read_text()
    m = re.search(r"'LeakyCacheEntry'\s*│\s*'object'\s*│\s*(\d+)\s*│\s*'([\d.]+)KB'", ref)
    assert m, "memlab reference table lost its LeakyCacheEntry row"
    row = leak_diff.table.set_index("name").loc["LeakyCacheEntry"]
    assert row["leak_candidate"] == int(m[1])
    assert row["retained_delta"] == pytest.approx(float(m[2]) * 1000, rel=0.01)


def test_candidate_counts_match_memlab(leak_diff):
    """memlab counts leaked objects per name; closures by function name ('onTick' and anonymous '')."""
    ref = (MEM / "reference" / "memlab_find_leaks_s1_s2_s3.txt").read_text()
    rows = {m[1]: (m[2], int(m[3])) for m in re.finditer(r"│\s*\d+\s*│\s*'([^']*)'\s*│\s*'([^']+)'\s*│\s*(\d+)", ref)}
    t = leak_diff.table.set_index("name")
    closures = sum(n for name, (typ, n) in rows.items() if typ == "closure")
    assert t.loc["(closure)", "leak_candidate"] == closures
    assert t.loc["Array", "leak_candidate"] == rows["Array"][1]


def test_leak_clusters_name_the_cache_and_owner(leak_diff):
    leaks = leak_diff.leaks
    top = leaks.iloc[0]
    assert "requestCache" in top["owner"] and "requestCache" in top["retainer_path"]
    assert "LeakyCacheEntry" in top["holds"]
    # memlab's first cluster goes through the same variable
    ref = (MEM / "reference" / "memlab_find_leaks_s1_s2_s3.txt").read_text()
    assert "requestCache (variable)" in ref.split("--Similar leaks in this run:")[1]
    # the listeners and the closures are the next clusters, with the user-level owner named
    owners = " ".join(leaks["owner"].head(3))
    assert "._events" in owners and "retainedCallbacks" in owners


def test_control_churn_is_not_a_leak():
    d = heap_diff([S0, S1], top=0)
    churn = d.table.set_index("name").loc["ChurnItem"]
    assert churn["new_count"] == churn["deleted_count"] == 400
    assert churn["count_delta"] == 0 and churn["bytes_delta"] == 0 and churn["retained_delta"] == 0
    assert d.verdict.startswith("no type grew")
    assert d.leaks is None


def test_compare_devtools_semantics():
    before, after = summarize(read_v8(S0)), summarize(read_v8(S1))
    df = compare(before, after).set_index("name")
    assert ((df["count_delta"] == df["new_count"] - df["deleted_count"])).all()
    assert (df["size_delta"] == df["bytes_delta"]).all()  # V8 never changes a live object's self size here


def test_retainer_path_from_root():
    snap = read_v8(S3)
    names, codes = snap.class_names()
    entry = int(np.flatnonzero(names[codes] == "LeakyCacheEntry")[0])
    path = retainer_path(snap, int(snap.node_id[entry]))
    assert path.iloc[0]["object"] == "(root)" and path.iloc[-1]["class"] == "LeakyCacheEntry"
    assert "requestCache (variable)" in path["edge"].tolist()
    assert path["depth"].tolist() == list(range(len(path)))


def test_load_heap_classes():
    heap = load_heap(S2)
    assert heap.kind == "v8-heapsnapshot"
    row = heap.classes.set_index("name").loc["LeakyCacheEntry"]
    assert row["count"] == 2000
    assert heap.classes.attrs["provenance"]["sha256"]


def test_truncated_snapshot_is_an_error_with_location(tmp_path):
    data = S1.read_bytes()
    cut = tmp_path / "cut.heapsnapshot"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ArtifactError) as e:
        load_heap(cut)
    assert isinstance(e.value.location, int) and "truncated" in e.value.reason


def test_truncated_in_strings_loads_with_warning(tmp_path):
    data = S1.read_bytes()
    cut = tmp_path / "cut.heapsnapshot"
    cut.write_bytes(data[: data.index(b'"strings"') + 2000])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        heap = load_heap(cut)
    assert any(issubclass(x.category, ArtifactWarning) for x in w)
    assert heap.provenance.warnings and "strings" in heap.provenance.warnings[0]
    assert heap.snapshot.node_count > 0


def test_bad_byte_in_nodes_reports_offset(tmp_path):
    data = bytearray(S1.read_bytes())
    at = data.index(b'"nodes":[') + 20
    data[at] = ord("x")
    bad = tmp_path / "bad.heapsnapshot"
    bad.write_bytes(bytes(data))
    with pytest.raises(ArtifactError) as e:
        load_heap(bad)
    assert e.value.location == at


def test_edge_to_node_out_of_range(tmp_path):
    data = S1.read_bytes()
    at = data.index(b'"edges":[') + len(b'"edges":[')
    first = data[at:data.index(b"\n", at)].split(b",")
    first[2] = b"8"  # not a multiple of the node field count (7)
    bad = tmp_path / "bad.heapsnapshot"
    bad.write_bytes(data[:at] + b",".join(first) + data[data.index(b"\n", at):])
    with pytest.raises(ArtifactError) as e:
        load_heap(bad)
    assert "not the offset of a node" in e.value.reason


def test_snapshot_without_nodes(tmp_path):
    data = S1.read_bytes()
    head = json.loads(data[: data.index(b',\n"nodes"')] + b"}")
    head["snapshot"]["node_count"] = head["snapshot"]["edge_count"] = 0
    empty = tmp_path / "empty.heapsnapshot"
    empty.write_text(json.dumps({**head, "nodes": [], "edges": [], "strings": []}))
    with pytest.raises(ArtifactError, match="no nodes"):
        heap_diff([empty, empty])


def test_diff_provenance_hashes_every_file(leak_diff):
    """The diff hashes its inputs on another thread while parsing: the recorded SHA-256 must still be the file's."""
    import hashlib

    assert len(leak_diff.provenance) == 3
    for prov in leak_diff.provenance:
        assert prov["sha256"] == hashlib.sha256(open(prov["path"], "rb").read()).hexdigest()
        assert prov["size"] > 0 and prov["kind"] == "v8-heapsnapshot"
    assert leak_diff.table.attrs["provenance"]["sha256"] == leak_diff.provenance[-1]["sha256"]
    assert leak_diff.leaks.attrs["provenance"]["sha256"] == leak_diff.provenance[-1]["sha256"]
