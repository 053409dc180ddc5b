"""Activity / locks snapshots (issue 18): one real lock wait seen three ways; a wild pg-extras pair table."""
import warnings
from pathlib import Path

import pytest

from forensics.errors import ArtifactError
from forensics.postgres.activity import (blocking_tree, conflicts, edges, idle_in_transaction, load_activity,
                                         long_running)
from forensics.postgres.hooks import activity_timeline
from pg_wild import present, wild

WHY = Path(__file__).parents[2] / "sample_data" / "postgres" / "why"


def _load(path):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        d = load_activity(path)
    return d, [str(x.message) for x in w]


@pytest.mark.parametrize("name", ["activity.txt", "activity.csv", "activity.expanded.txt", "locks.csv"])
def test_the_same_blocking_tree_from_each_evidence(name):
    ref = edges(_load(WHY / "activity.csv")[0])[["waiter", "holder"]].values.tolist()
    snap, _ = _load(WHY / name)
    e = edges(snap)
    assert e[["waiter", "holder"]].values.tolist() == ref and len(ref) == 1
    t = blocking_tree(snap)
    assert t["depth"].tolist() == [0, 1] and t["root"].nunique() == 1


def test_evidence_order_and_lock_modes():
    snap, _ = _load(WHY / "activity.txt")
    assert edges(snap)["evidence"].iloc[0] == "pg_blocking_pids"
    locks_only, _ = _load(WHY / "locks.csv")
    e = edges(locks_only).iloc[0]
    assert e["evidence"] == "pg_locks" and e["mode_wanted"] == "ShareLock" and e["mode_held"] == "ExclusiveLock"
    assert conflicts("RowExclusiveLock", "ShareLock") and not conflicts("AccessShareLock", "RowExclusiveLock")


def test_idle_in_transaction_holder_and_long_queries():
    snap, _ = _load(WHY / "activity.txt")
    idle = idle_in_transaction(snap)
    assert len(idle) == 1 and bool(idle["blocks_others"].iloc[0])
    assert snap.snapshot_time_source == "the dump's 'now' column"
    assert len(long_running(snap, "500ms")) == 1 and long_running(snap, "1h").empty
    tl = activity_timeline(snap)
    assert (tl["kind"] == "pg_activity.blocking").sum() == 1 and (tl["end"] == snap.snapshot_time).all()


def test_without_now_durations_are_lower_bounds(tmp_path):
    text = (WHY / "activity.csv").read_text().splitlines()
    head = text[0].split(",")
    k = head.index("now")
    rows = [",".join(c for i, c in enumerate(ln.split(",")) if i != k) for ln in text]
    p = tmp_path / "a.csv"
    p.write_text("\n".join(rows) + "\n")
    snap, warns = _load(p)
    assert snap.snapshot_time_source.startswith("lower bound")
    assert any("lower bounds" in w for w in warns)


def test_wild_pg_extras_blocking_pairs():
    snap, _ = _load(wild("activity", "python-pgextras.blocking.txt"))
    t = blocking_tree(snap)
    assert t[["pid", "depth"]].values.tolist() == [[1724, 0], [1688, 1]]
    assert "-2309" in t.iloc[0]["query"] and "-816" in t.iloc[1]["query"]


def test_not_a_snapshot(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(ArtifactError, match="not a pg_stat_activity"):
        load_activity(p)


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

# The wild pg-extras table joins the generated snapshots when it is on this machine (it is not committed).
_FILES = [WHY / "activity.txt", WHY / "activity.csv", WHY / "locks.csv", WHY / "activity.expanded.txt",
          *present("activity")]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pick=st.integers(0, len(_FILES) - 1), cut=st.floats(0, 1), junk=st.binary(max_size=64))
def test_mutated_snapshots_load_or_refuse(tmp_path, pick, cut, junk):
    data = _FILES[pick].read_bytes()
    p = tmp_path / "m.txt"
    p.write_bytes(data[: int(len(data) * cut)] + junk)
    try:
        snap, _ = _load(p)
    except ArtifactError:
        return
    blocking_tree(snap)
    idle_in_transaction(snap)
    activity_timeline(snap)
