"""The wild corpus: real transcripts pasted in public trackers (tests/crashes/wild/, labels.json).

The figures print with ``pytest -s`` or ``.venv/bin/python tests/crashes/wild_score.py -v``. The pastes are not
committed (wild/MANIFEST.tsv lists them): the figure tests need every one and skip, saying so, when any is absent;
the labels are ours and are always checked.
"""
import pytest
from support import require_wild

from .wild_score import KIND, labels, report, score


@pytest.fixture(scope="module")
def wild():
    require_wild(KIND, [x["file"] for x in labels()])
    s = score(pending=False)       # a held-out batch still to be scored untouched is measured, not asserted
    print("\n" + report(s))
    return s


def test_corpus_size_and_spread():
    labs = labels()
    assert len(labs) >= 80
    assert len({x["source"].split("#")[0] for x in labs}) >= 40
    assert all(x["source"] and x["quotation"] for x in labs)


def test_every_file_loads(wild):
    assert not wild["refused"], wild["refused"]


def test_class_accuracy(wild):
    assert wild["class_ok"] >= 0.9 * wild["n"], report(wild, verbose=True)


def test_top_own_frame_accuracy(wild):
    assert wild["top_ok"] >= 0.9 * wild["top_n"], report(wild, verbose=True)


def test_no_wrong_merges(wild):
    assert not wild["wrong_merges"], wild["wrong_merges"]


def test_deadlock_only_with_evidence(wild):
    """A paste without a signal is never called a deadlock unless it shows the evidence."""
    for r in wild["rows"]:
        if r["got_class"] == "deadlock":
            assert any(w in r["reason"] for w in ("lock", "attached", "goroutines", "^C", "core file without")), r


def test_unknown_says_why(wild):
    for r in wild["rows"]:
        if r["got_class"] == "unknown":
            assert len(r["reason"]) > 30
