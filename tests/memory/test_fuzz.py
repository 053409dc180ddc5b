"""Hostile bytes: random and mutated heap artifacts give a result or an ArtifactError, nothing else."""
import warnings

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import forensics
from forensics import ArtifactError

from support import SAMPLE

MEM = SAMPLE / "memory"
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
SEEDS = {name: (MEM / name).read_bytes() for name in (
    "jcmd_histo_t0.txt", "py_compare_traceback.txt", "py_stats_t0.txt", "go_heap_t1.pb.gz", "py_snapshot_t1.tracemalloc",
    "reference/pprof_top_inuse_space_base_t0_t2.txt")}
# a V8 snapshot: the first 300 kB (meta, nodes) with a tail of valid JSON structure tried by mutation
V8 = (MEM / "node_s0_baseline.heapsnapshot").read_bytes()


def _load(tmp_path_factory, data: bytes):
    p = tmp_path_factory.mktemp("fuzz") / "blob"
    p.write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            forensics.load(p)
        except ArtifactError as e:
            assert e.reason


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(tmp_path_factory, data):
    _load(tmp_path_factory, data)


@FUZZ
@given(st.sampled_from(sorted(SEEDS)), st.lists(st.tuples(st.integers(0, 1 << 30), st.binary(min_size=1, max_size=8)),
                                                 min_size=1, max_size=6), st.integers(0, 1 << 30))
def test_mutated_samples(tmp_path_factory, name, edits, cut):
    data = bytearray(SEEDS[name])
    for pos, chunk in edits:
        pos %= len(data)
        data[pos:pos + len(chunk)] = chunk
    if cut % 3 == 0:
        data = data[: cut % len(data)]
    _load(tmp_path_factory, bytes(data))


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.integers(0, len(V8) - 1), st.sampled_from([b"]", b"[", b"}", b"\"", b"-", b"9" * 25, b"x", b","])),
                min_size=1, max_size=4), st.integers(0, len(V8)))
def test_mutated_v8_snapshot(tmp_path_factory, edits, cut):
    data = bytearray(V8)
    for pos, chunk in edits:
        data[pos:pos + len(chunk)] = chunk
    _load(tmp_path_factory, bytes(data[:cut] if cut % 2 else data))
