"""The worst statement per measure, including measures that no statement has (an incident's snapshots)."""
import pandas as pd

from forensics.postgres.analysis import delta, worst_by_measure
from forensics.postgres.load import load_pgss

from support import SAMPLE


def _interval(folder):
    return delta(load_pgss(folder / "pgss-before.csv").statements, load_pgss(folder / "pgss-after.csv").statements)


def test_measures_without_statements_say_so_instead_of_failing():
    w = worst_by_measure(_interval(SAMPLE / "incidents" / "checkout-latency"), min_blocks=1000).set_index("measure")
    assert list(w.index) == ["total_exec_time", "calls", "total_plan_time", "temp_blks_written", "hit_ratio"]
    assert "orders" in w.loc["total_exec_time", "query"]
    assert pd.isna(w.loc["total_plan_time", "query"]) and w.loc["total_plan_time", "note"] == "no statement has any"


def test_planted_culprits_on_the_sample_story():
    before = load_pgss(SAMPLE / "postgres" / "before.csv").statements
    after = load_pgss(SAMPLE / "postgres" / "after.csv").statements
    w = worst_by_measure(delta(before, after), min_blocks=1000).set_index("measure")
    assert w["note"].eq("").all()
    assert any(f.startswith("missing-index") or "index" in f for f in w.loc["total_exec_time", "findings"])
