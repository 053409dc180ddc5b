"""Random and mutated transcripts: nothing but ArtifactError ever escapes the loader."""
import atexit
import os
import shutil
import tempfile
import warnings

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensics.crashes.load import load_gdb
from forensics.errors import ArtifactError

from .conftest import SAMPLES

SEEDS = ["double_free__g-O0__cmds.txt", "deadlock__g-O0__attach.txt", "worker_crash__g-O0__live.txt",
         "uncaught_exception__g-O2__cmds.txt", "hung_wait__nog-O2__bt.txt", "null_read__strip-O2__cmds.txt",
         "use_after_free__asan-O0__asan.txt", "null_read__asan-O0__asan.txt"]
TEXTS = [open(os.path.join(SAMPLES, s), "rb").read() for s in SEEDS]
_DIR = tempfile.mkdtemp(prefix="fx-cr-hyp-")
atexit.register(shutil.rmtree, _DIR, True)


def _try(data: bytes):
    p = os.path.join(_DIR, "t.txt")
    with open(p, "wb") as f:
        f.write(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            c = load_gdb(p)
        assert len(c.crashes) == 1
    except ArtifactError as e:
        assert not e.reason.startswith("internal parser error"), e.reason


def mutate(text: bytes, edits) -> bytes:
    """``text`` with each (position, inserted bytes, bytes cut) edit applied in turn."""
    data = bytearray(text)
    for pos, ins, cut in edits:
        pos %= max(len(data), 1)
        data[pos:pos + cut] = ins
    return bytes(data)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(len(TEXTS))), st.lists(st.tuples(st.integers(0, 10**6), st.binary(max_size=12),
                                                              st.integers(0, 40)), max_size=8))
def test_mutated_transcripts(which, edits):
    _try(mutate(TEXTS[which], edits))


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(range(len(TEXTS))), st.data())
def test_line_shuffles_and_truncation(which, data):
    lines = TEXTS[which].split(b"\n")
    keep = data.draw(st.lists(st.integers(0, len(lines) - 1), max_size=60))
    _try(b"\n".join(lines[i] for i in keep))
    n = data.draw(st.integers(0, len(TEXTS[which])))
    _try(TEXTS[which][:n])


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes(data):
    _try(data)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("#0123456789x ()=<>{}\"',.:@?abcdefinThreadLWPSIG\n\t")), max_size=300))
def test_gdb_like_noise(text):
    _try(("#0  " + text).encode())
