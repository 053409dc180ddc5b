"""The V8 integer-array parser at its edges: chunk cuts at every position, the edges parsed on a second thread,
odd separators, negative and over-long numbers, and single fields re-read through the record marks."""
import json

import numpy as np
import pytest

from forensics import ArtifactError
from forensics.memory import jsonscan, v8
from forensics.memory.v8 import drop_node_names, read_v8

from support import SAMPLE

S2 = SAMPLE / "memory" / "node_s2_target.heapsnapshot"


@pytest.fixture(scope="module")
def doc():
    d = json.loads(S2.read_bytes())
    nf = len(d["snapshot"]["meta"]["node_fields"])
    return d, np.array(d["nodes"]).reshape(-1, nf), np.array(d["edges"]).reshape(-1, 3)


def _same(snap, d, nodes, edges):
    nf = d["snapshot"]["meta"]["node_fields"]
    assert (snap.node_id == nodes[:, nf.index("id")]).all() and (snap.self_size == nodes[:, nf.index("self_size")]).all()
    assert (snap.node_type == nodes[:, 0]).all() and (snap.node_name == nodes[:, 1]).all()
    assert (np.diff(snap.first_edge) == nodes[:, nf.index("edge_count")]).all()
    assert (snap.edge_to == edges[:, 2] // len(nf)).all() and (snap.edge_name == edges[:, 1]).all()
    assert (snap.edge_type == edges[:, 0]).all() and len(snap.strings) == len(d["strings"])


@pytest.mark.parametrize("chunk", [97, 4099])
def test_tiny_chunks_cut_numbers_everywhere(monkeypatch, doc, chunk):
    """Chunks of a prime size end inside numbers, separators and keys at every offset; the result is unchanged."""
    monkeypatch.setattr(jsonscan.ChunkReader.__init__, "__defaults__", (chunk, None))
    _same(read_v8(S2), *doc)


def test_edges_on_a_second_thread_equal_one_thread(monkeypatch, doc):
    monkeypatch.setattr(v8, "_AHEAD_MIN", 0)
    _same(read_v8(S2), *doc)
    monkeypatch.setattr(v8, "_AHEAD_MIN", 1 << 62)
    _same(read_v8(S2), *doc)


def test_marks_re_read_single_fields(doc):
    """Edge and node names re-read through the record marks equal the parsed columns (records far apart: jumps)."""
    d, nodes, edges = doc
    snap = read_v8(S2, edge_names=False)
    drop_node_names(snap)
    rng = np.random.default_rng(7)
    want_e = np.unique(np.concatenate([rng.integers(0, len(edges), 300), [0, len(edges) - 1]]))
    want_n = np.unique(np.concatenate([rng.integers(0, len(nodes), 300), [0, len(nodes) - 1]]))
    snap.edge_name.load(want_e)
    snap.node_name.load(want_n)
    assert [snap.edge_name[e] for e in want_e.tolist()] == edges[want_e, 1].tolist()
    assert [snap.node_name[n] for n in want_n.tolist()] == nodes[want_n, 1].tolist()
    assert snap.edge_name.marks is not None and len(snap.edge_name.marks) == -(-len(edges) // jsonscan.MARK_EVERY)


def _tiny(tmp_path, nodes: str, edges: str = "", node_count=2, edge_count=1):
    """A hand-written two-node snapshot (bad-input cases only); ``nodes``/``edges`` are the arrays' insides."""
    meta = {"node_fields": ["type", "name", "id", "self_size", "edge_count"],
            "node_types": [["hidden", "object"], "string", "number", "number", "number"],
            "edge_fields": ["type", "name_or_index", "to_node"], "edge_types": [["element", "property"], "string", "node"]}
    head = json.dumps({"meta": meta, "node_count": node_count, "edge_count": edge_count})
    p = tmp_path / "tiny.heapsnapshot"
    p.write_text('{"snapshot":' + head + ',\n"nodes":[' + nodes + '],\n"edges":[' + edges + '],\n"strings":["", "A"]}')
    return p


def test_blanks_of_every_kind_between_numbers(tmp_path):
    snap = read_v8(_tiny(tmp_path, "0,0,1,0,1 ,\r\n\t1, 1,3,\t16,0", "1,1,5"))
    assert snap.node_id.tolist() == [1, 3] and snap.self_size.tolist() == [0, 16] and snap.edge_to.tolist() == [1]


def test_a_negative_size_widens_the_column(tmp_path):
    snap = read_v8(_tiny(tmp_path, "0,0,1,0,1,1,1,3,-16,0", "1,1,5"))
    assert snap.self_size.tolist() == [0, -16] and snap.self_size.dtype == np.int64


@pytest.mark.parametrize("nodes, what", [
    ("0,0,1,0,1,1,1,3,-,0", "unexpected"),                         # a lone minus
    ("0,0,1,0,1,1,1,3,1234567890123456789012,0", "unexpected"),    # 22 digits
    ("0,0,1,0,1,1,1,3,16", "holds 9 values"),                      # a value short
    ("0,0,1,0,1,1,1,3,16,0,5", "more values"),                     # one too many
    ("0,0,1,0,1,1,1,3,1x6,0", "unexpected"),
])
def test_bad_numbers_are_located_errors(tmp_path, nodes, what):
    with pytest.raises(ArtifactError) as e:
        read_v8(_tiny(tmp_path, nodes, "1,1,5"))
    assert what in e.value.reason and isinstance(e.value.location, int)


def test_a_number_longer_than_a_chunk_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(jsonscan.ChunkReader.__init__, "__defaults__", (101, None))
    with pytest.raises(ArtifactError, match="over 64 digits|unexpected"):
        read_v8(_tiny(tmp_path, "0,0,1,0,1,1,1,3," + "7" * 300 + ",0", "1,1,5"))


def test_edges_split_between_two_threads_equal_one_thread(monkeypatch, doc):
    """The helper parses the first part of the edges, this thread the rest from a record boundary found by counting
    commas (tiny chunks: the boundary and the stop fall anywhere in a chunk)."""
    monkeypatch.setattr(v8, "_AHEAD_MIN", 0)
    _same(read_v8(S2), *doc)
    monkeypatch.setattr(jsonscan.ChunkReader.__init__, "__defaults__", (4099, None))
    _same(read_v8(S2), *doc)


def test_a_wrong_split_is_parsed_again_in_one_piece(monkeypatch, doc, tmp_path):
    """Three extra commas early in the edges: the comma count puts the split one record off; the parts do not meet,
    and the array is read again in one piece — the same values, never shifted ones."""
    monkeypatch.setattr(v8, "_AHEAD_MIN", 0)
    data = S2.read_bytes()
    at = data.index(b'"edges":[') + len(b'"edges":[')
    odd = tmp_path / "odd.heapsnapshot"
    odd.write_bytes(data[:at] + data[at:at + 1] + b",,," + data[at + 1:])
    _same(read_v8(odd), *doc)
