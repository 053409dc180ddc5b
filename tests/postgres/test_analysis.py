"""Interval (delta) and ranking on the generated incident: the planted culprits come out on top."""
import warnings

import numpy as np
import pandas as pd
import pytest

from forensics.postgres.analysis import cumulative_vs_interval, delta, group_statements, rank
from forensics.postgres.findings import THRESHOLDS, findings
from forensics.postgres.versions import CANONICAL

from pgss_helpers import STORY, load, row_of


def interval(before_form="csv", after_form="csv"):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a clean pair of snapshots: no warnings at all
        return delta(load("before", before_form, info=True), load("after", after_form, info=True))


def top(frame, by, **kw):
    return rank(frame, by=by, **kw).iloc[0]


@pytest.mark.parametrize("forms", [("csv", "csv"), ("expanded", "aligned"), ("json", "unaligned")])
def test_interval_ranking_names_the_planted_culprits(forms):
    d = interval(*forms)
    assert STORY["missing_index"]["contains"] in top(d, "total_exec_time")["query"]
    assert STORY["n_plus_one"]["contains"] in top(d, "calls")["query"]
    assert STORY["plan_heavy"]["contains"] in top(d, "total_plan_time")["query"]
    assert STORY["cold_table"]["contains"] in top(d, "hit_ratio", min_blocks=1000)["query"]
    assert STORY["spilling_report"]["contains"] in top(d, "temp_blks_written")["query"]


def test_cumulative_numbers_point_elsewhere():
    """Before the interval: the nightly report dominates the cumulative totals, not the incident."""
    cum = rank(load("after"), by="total_exec_time")
    assert STORY["spilling_report"]["contains"] in cum.loc[0, "query"]
    table = cumulative_vs_interval(load("before"), load("after"))
    assert "revenue report" in table.loc[0, "cumulative"] and "FROM orders WHERE cust" in table.loc[0, "interval"]


def test_findings_of_the_planted_statements():
    r = rank(interval(), by="total_exec_time")
    codes = lambda story: {f.split(":")[0] for f in row_of(r, story)["findings"]}  # noqa: E731
    assert "missing_index" in codes("missing_index")
    assert "n_plus_one" in codes("n_plus_one")
    assert "low_cache_hit" in codes("cold_table")
    assert "temp_spill" in codes("spilling_report")
    assert "unstable" in codes("unstable")
    plan = rank(interval(), by="total_plan_time")
    assert "plan_heavy" in {f.split(":")[0] for f in row_of(plan, "plan_heavy")["findings"]}
    nested = row_of(r, "nested", toplevel=False)["findings"]
    assert any(f.startswith("nested:") and "refresh_customer_stats" in f for f in nested)
    failing = rank(interval(), by="total_plan_time")
    assert any(f.startswith("failing:") for f in row_of(failing, "failing_insert")["findings"])
    # The cheap keyed lookups that ran a few hundred times are not N+1.
    assert "n_plus_one" not in codes("pipes_in_text")


def test_delta_semantics_on_the_real_pair():
    d = interval()
    b, a = load("before").statements, load("after").statements
    key = ["userid", "dbid", "toplevel", "queryid"]
    for c in ("calls", "plans", "rows", "shared_blks_hit", "shared_blks_read", "temp_blks_written"):
        assert (d[c].fillna(0) >= 0).all(), c
    m = row_of(d, "missing_index")
    ab = [row_of(x, "missing_index") for x in (b, a)]
    assert m["calls"] == ab[1]["calls"] - ab[0]["calls"] == 300 and not m["is_new"]
    assert m["total_exec_time"] == pytest.approx(ab[1]["total_exec_time"] - ab[0]["total_exec_time"])
    assert m["mean_exec_time"] == pytest.approx(m["total_exec_time"] / m["calls"])
    cold = row_of(d, "cold_table")
    assert cold["is_new"] and cold["calls"] == row_of(a, "cold_table")["calls"]
    # Idle entries (setup statements) are dropped; the interval is small.
    assert len(d) < len(a) / 3
    assert not d.merge(b[key], on=key).empty


def test_interval_moments_are_exact():
    rng = np.random.default_rng(1)
    x = rng.lognormal(0, 1.5, 500)
    first, second = x[:200], x[200:]

    def snap(sample, **extra):
        row = {c: None for c in CANONICAL}
        row.update(userid=10, dbid=5, toplevel=True, queryid=1, query="SELECT 1", calls=len(sample),
                   plans=len(sample), total_exec_time=sample.sum(), mean_exec_time=sample.mean(),
                   stddev_exec_time=sample.std(), min_exec_time=sample.min(), max_exec_time=sample.max(),
                   total_plan_time=0.0, mean_plan_time=0.0, stddev_plan_time=0.0, min_plan_time=0.0,
                   max_plan_time=0.0, **extra)
        return pd.DataFrame([row])

    d = delta(snap(first), snap(x))
    r = d.iloc[0]
    assert r["calls"] == 300
    assert r["mean_exec_time"] == pytest.approx(second.mean(), rel=1e-12)
    assert r["stddev_exec_time"] == pytest.approx(second.std(), rel=1e-9)
    assert (r["max_exec_time"] == second.max()) == (second.max() > first.max())


def test_counter_going_down_is_a_new_entry_not_a_negative_delta():
    b = load("after").statements
    a = load("before").statements  # "after" has lower counters: as after a reset
    with pytest.warns(UserWarning, match="counters lower than in the first snapshot"):
        d = delta(b, a)
    assert (d["calls"].fillna(0) >= 0).all() and d["is_reset"].any()
    key = ["userid", "dbid", "toplevel", "queryid"]
    m = d[d["is_reset"]].merge(a, on=key, suffixes=("", "_a"))
    assert len(m) == d["is_reset"].sum() and (m["calls"] == m["calls_a"]).all()  # kept whole


def test_info_reports_resets_and_evictions():
    b, a = load("before", info=True), load("after", info=True)
    bi = dict(b.info, dealloc=0)
    ai = dict(a.info, dealloc=12, stats_reset=a.info["stats_reset"] + pd.Timedelta(seconds=5))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        delta(b, a, before_info=bi, after_info=ai)
    text = " ".join(str(x.message) for x in w)
    assert "12 entries were evicted" in text and "pg_stat_statements_reset() ran" in text


def test_shares_do_not_double_count_nested_time():
    d = interval()
    r = rank(d, by="total_exec_time")
    nested = r["toplevel"].eq(False)
    assert nested.any()
    assert r.loc[~nested, "share"].sum() == pytest.approx(1.0)
    assert r["cum_share"].max() == pytest.approx(1.0)  # nested rows add nothing
    # a nested row's share is of the top-level total, and cum_share does not move at a nested row
    for i in np.flatnonzero(nested.to_numpy()):
        if i > 0:
            assert r.loc[i, "cum_share"] == r.loc[i - 1, "cum_share"]
    caller = row_of(r, "nested_caller")
    inner = r[nested & r["query"].str.contains("customer_stats|FROM products WHERE id BETWEEN", regex=True)]
    assert inner["total_exec_time"].sum() <= caller["total_exec_time"]


def test_calls_shares_count_every_row():
    r = rank(interval(), by="calls")
    assert r["share"].sum() == pytest.approx(1.0) and r["cum_share"].iloc[-1] == pytest.approx(1.0)


def test_group_by_fingerprint_merges_queryids_of_one_shape():
    """psycopg sends small ints as int2 and big ones as int8: one statement, three queryids."""
    d = interval()
    rows = d[d["query"].str.contains(STORY["unstable"]["contains"], regex=False)]
    assert rows["queryid"].nunique() >= 2
    g = rank(d, by="total_exec_time", group="fingerprint")
    one = row_of(g, "unstable")
    assert one["entries"] == len(rows) and one["calls"] == rows["calls"].sum()
    assert set(one["queryids"]) == set(rows["queryid"])
    q = rank(d, group="queryid")
    assert len(q) >= len(g)


def test_group_moments_match_row_moments():
    d = interval()
    g = group_statements(d, "fingerprint")
    rows = d[d["query"].str.contains(STORY["unstable"]["contains"], regex=False)]
    one = g[g["query"].str.contains(STORY["unstable"]["contains"], regex=False)].iloc[0]
    assert one["mean_exec_time"] == pytest.approx(rows["total_exec_time"].sum() / rows["calls"].sum())
    expect = rows["max_exec_time"].max()  # NaN where the interval's maximum is unknowable
    assert one["max_exec_time"] == expect or (pd.isna(one["max_exec_time"]) and pd.isna(expect))


def test_thresholds_are_documented_and_used():
    assert set(THRESHOLDS) >= {"missing_index_blocks_per_call", "low_hit_ratio", "plan_heavy_ratio",
                               "n_plus_one_min_calls", "unstable_cv"}
    f = findings(load("after").statements)
    assert len(f) == len(load("after").statements) and all(isinstance(x, list) for x in f)


def test_rank_rejects_unknown_measures():
    with pytest.raises(ValueError, match="cannot rank by"):
        rank(load("after"), by="nonsense")
    with pytest.raises(ValueError, match="group must be"):
        rank(load("after"), group="user")


def test_stats_since_moving_means_a_new_entry():
    """17+: an entry deallocated and re-created between snapshots has a later stats_since."""
    b, a = load("before").statements.copy(), load("after").statements.copy()
    t0, t1 = pd.Timestamp("2026-11-26 06:00", tz="UTC"), pd.Timestamp("2026-11-26 06:05", tz="UTC")
    b["stats_since"] = t0
    a["stats_since"] = t0
    i = a.index[a["query"].str.contains(STORY["missing_index"]["contains"], regex=False)][0]
    a.loc[i, "stats_since"] = t1
    with pytest.warns(UserWarning, match="counters lower|evicted and back"):
        d = delta(b, a)
    r = row_of(d, "missing_index")
    assert r["is_reset"] and r["calls"] == a.loc[i, "calls"]  # whole, not after − before


def test_a_projection_keeps_its_share_of_the_server_total():
    """pg-extras' `outliers` lists its top rows with prop_exec_time, each one's share of *all* statements'
    time: ranking keeps that share (re-dividing by the listed rows' sum would inflate it)."""
    after = load("after").statements
    top3 = after.sort_values("total_exec_time", ascending=False).head(3).copy()
    top3["prop_exec_time"] = (100 * top3["total_exec_time"] / after["total_exec_time"].sum()).round(1)
    r = rank(top3)
    assert list(r["share"]) == list(top3["prop_exec_time"] / 100)
    assert r["cum_share"].iloc[-1] < 1 and "prop_exec_time" in r.attrs["share_basis"]
    plain = rank(after)
    assert plain.attrs["share_basis"] == "the statements in the dump"


def test_statements_without_text_are_never_one_fingerprint():
    """A paste whose query column came out empty (pg-extras outliers cut at the terminal's width): each row
    stays its own statement when grouped by fingerprint, instead of all of them becoming one '(no text)'."""
    after = load("after").statements.head(4).copy()
    after["query"] = None
    g = group_statements(after, "fingerprint")
    assert len(g) == 4 and (g["entries"] == 1).all()
