"""Hostile HPROF bytes: mutated real dumps give a result (with located warnings) or an ArtifactError, nothing else."""
import gzip
import warnings

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import forensics
from forensics import ArtifactError
from forensics.memory.hprof import histogram
from forensics.memory.hprof_graph import heap_graph

from support import SAMPLE, wild_file

SEEDS = {
    # a JDK 17 dump: the names, then the start of the heap dump segment (classes, roots, objects)
    "jdk17 1.0.2": gzip.decompress((SAMPLE / "memory" / "hprof_t0.hprof.gz").read_bytes())[:1_200_000],
}
# hprof-slurp's 2006 32-bit dump (4-byte ids) is third-party and not committed; no generator writes 1.0.1 with
# 4-byte ids, so that seed joins only where the wild corpus is on disk (tests/memory/wild/MANIFEST.tsv).
if (_slurp32 := wild_file("memory", "hprof-slurp_hprof-32.bin")) is not None:
    SEEDS["32-bit 1.0.1"] = _slurp32.read_bytes()
CHUNKS = st.sampled_from([b"\x00", b"\xff", b"\xff\xff\xff\xff", b"\x21", b"\x20", b"\x1c", b"\x7f\xff\xff\xff",
                          b"\x00\x00\x00\x00\x00\x00\x00\x00", b"\x02", b"\x0b"])


def _load(tmp_path_factory, data: bytes, gz: bool):
    p = tmp_path_factory.mktemp("hfuzz") / "blob"
    p.write_bytes(gzip.compress(data, 1) if gz else data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            heap = forensics.load(p)
        except ArtifactError as e:
            assert e.reason
            return
    for w in heap.provenance.warnings:            # every warning says where
        loc, _, reason = w.partition(": ")
        assert loc and reason, w
    if heap.kind == "hprof":
        histogram(heap.snapshot)
        heap_graph(heap.snapshot)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(sorted(SEEDS)),
       st.lists(st.tuples(st.floats(0, 1), CHUNKS | st.binary(min_size=1, max_size=8)), min_size=1, max_size=6),
       st.floats(0.05, 1.0), st.booleans())
def test_mutated_hprof(tmp_path_factory, seed, edits, keep, gz):
    data = bytearray(SEEDS[seed])
    for at, chunk in edits:
        pos = 31 + int(at * (len(data) - 32))   # past the header (its own errors are tested directly)
        data[pos:pos + len(chunk)] = chunk
    _load(tmp_path_factory, bytes(data[: max(32, int(len(data) * keep))]), gz)


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(min_size=0, max_size=64))
def test_random_after_the_header(tmp_path_factory, tail):
    _load(tmp_path_factory, b"JAVA PROFILE 1.0.2\x00\x00\x00\x00\x08" + b"\x00" * 8 + tail, False)
