"""Evidence is hostile input: whatever the bytes, `detect`/`load` answer with ArtifactError or a result.

Also: loading never changes the evidence (bytes and mtime are the same afterwards).
"""
import hashlib
import os
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import forensics
from forensics import ArtifactError

from support import sample_artifacts

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


def _is_artifact(p):
    return forensics.sniff(p).kind is not None  # labels, answers and other auxiliary files are not


def _few_per_kind(paths, n=3):
    """The n smallest files of each kind: enough variety, bounded time."""
    seen, out = {}, []
    for p in paths:
        kind = forensics.sniff(p).kind
        if kind is not None and seen.get(kind, 0) < n:
            seen[kind] = seen.get(kind, 0) + 1
            out.append(p)
    return out


SMALL = _few_per_kind(sample_artifacts(max_size=256 << 10))


def load_or_artifact_error(path):
    """Load ``path``; ArtifactError is a fine answer, anything else fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            forensics.load(path)
        except ArtifactError as e:
            assert e.reason, "an ArtifactError must say why"
            if "is not part of this version" in e.reason:
                pytest.skip(e.reason)


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(tmp_path_factory, data):
    p = tmp_path_factory.mktemp("fuzz") / "blob"
    p.write_bytes(data)
    try:
        forensics.detect(p)
    except ArtifactError:
        return
    load_or_artifact_error(p)


# Magic numbers and markers of every kind, followed by junk: the sniffer says yes, the loader must cope.
PREFIXES = [b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00", b"\x0a\x0d\x0d\x0a", b'{"data":[{"traceID":"', b'{"resourceSpans":[',
            b'{"snapshot":{"meta":{"node_fields":', b"queryid,calls,total_exec_time\n",
            b" num     #instances         #bytes  class name\n", b"a.py:1: size=1 KiB (+1 KiB), count=1 (+1)\n",
            b"Program received signal SIGSEGV, Segmentation fault.\n#0  ", b"\x1f\x8b\x08\x00"]


@FUZZ
@given(st.sampled_from(PREFIXES), st.binary(max_size=2048))
def test_known_magic_then_junk(tmp_path_factory, prefix, junk):
    p = tmp_path_factory.mktemp("fuzz") / "blob"
    p.write_bytes(prefix + junk)
    try:
        forensics.detect(p)
    except ArtifactError:
        return
    load_or_artifact_error(p)


@pytest.mark.parametrize("artifact", SMALL, ids=[p.name for p in SMALL])
@FUZZ
@given(data=st.data())
def test_mutated_real_artifacts(tmp_path_factory, artifact, data):
    raw = bytearray(artifact.read_bytes())
    op = data.draw(st.sampled_from(["truncate", "flip", "insert", "delete"]))
    i = data.draw(st.integers(0, max(len(raw) - 1, 0)))
    if op == "truncate":
        raw = raw[:i]
    elif op == "flip" and raw:
        for j in data.draw(st.lists(st.integers(0, len(raw) - 1), min_size=1, max_size=8)):
            raw[j] ^= data.draw(st.integers(1, 255))
    elif op == "insert":
        raw[i:i] = data.draw(st.binary(min_size=1, max_size=64))
    else:
        del raw[i:i + data.draw(st.integers(1, 64))]
    p = tmp_path_factory.mktemp("mut") / artifact.name
    p.write_bytes(bytes(raw))
    try:
        forensics.detect(p)
    except ArtifactError:
        return
    load_or_artifact_error(p)


ALL = [p for p in sample_artifacts() if _is_artifact(p)]


@pytest.mark.parametrize("artifact", ALL, ids=[str(p.name) for p in ALL])
def test_loading_never_modifies_the_evidence(artifact):
    before = (hashlib.sha256(artifact.read_bytes()).hexdigest(), os.stat(artifact).st_mtime_ns)
    if forensics.sniff(artifact).kind == "python-pickle":
        with pytest.raises(ArtifactError, match="never unpickles"):
            forensics.load(artifact)  # refused, and left as it was
        result = None
    else:
        try:
            result = forensics.load(artifact)
        except ArtifactError as e:
            if "is not part of this version" in e.reason:
                pytest.skip(e.reason)
            raise
    after = (hashlib.sha256(artifact.read_bytes()).hexdigest(), os.stat(artifact).st_mtime_ns)
    assert before == after
    if result is None:
        return
    prov = result.provenance
    assert prov.sha256 == before[0] and prov.size == artifact.stat().st_size
