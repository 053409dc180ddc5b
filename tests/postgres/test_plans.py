"""EXPLAIN plans (issue 18): every format of one real plan, the real story plans, wild plans by depesz's rules."""
import json
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensics.errors import ArtifactError
from forensics.postgres.plan import load_plan
from forensics.postgres.plan_analysis import compare_plans, draw_tree, filter_columns, findings, hot_path
from pg_wild import present, wild

WHY = Path(__file__).parents[2] / "sample_data" / "postgres" / "why"
EXPECTED = json.loads((Path(__file__).parent / "wild" / "plans" / "expected.json").read_text())  # ours, committed
FORMATS = ["plan.lookup.analyze.txt", "plan.lookup.json", "plan.lookup.psql-json.txt", "plan.lookup.yaml",
           "plan.lookup.xml"]


def _load(path):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        d = load_plan(path)
    return d, [str(x.message) for x in w]


def _codes(d):
    return [f["code"] for f in findings(d)]


@pytest.mark.parametrize("name", FORMATS)
def test_every_format_of_the_lookup_plan_gives_the_same_frame(name):
    ref, _ = _load(WHY / FORMATS[0])
    d, warns = _load(WHY / name)
    assert not warns
    cols = ["id", "parent", "node_type", "relation", "plan_rows", "actual_rows", "loops", "rows_removed_by_filter",
            "shared_hit"]
    assert d.nodes[cols].astype(str).values.tolist() == ref.nodes[cols].astype(str).values.tolist()
    seq = d.nodes[d.nodes["node_type"] == "Seq Scan"].iloc[0]
    assert seq["relation"] == "orders" and seq["rows_removed_by_filter"] == 199990
    assert _codes(d) == ["hot_node", "seq_scan_filter", "missing_index"]
    hot = findings(d)[0]
    assert d.nodes.loc[hot["node"], "node_type"] == "Seq Scan"
    assert any(f.get("columns") == ["customer_id"] for f in findings(d))


def test_without_analyze_and_with_timing_off_nothing_is_invented():
    plain, _ = _load(WHY / "plan.lookup.plain.txt")
    assert plain.nodes["inclusive_ms"].isna().all() and plain.nodes["loops"].isna().all()
    assert _codes(plain) == []
    off, _ = _load(WHY / "plan.lookup.timing-off.txt")
    assert off.nodes["actual_rows"].notna().all() and off.nodes["exclusive_ms"].isna().all()
    hot = [f for f in findings(off) if f["code"] == "hot_node"][0]
    assert hot["node"] is None and hot["text"].startswith("unknown")
    assert "seq_scan_filter" in _codes(off)  # rows are still there


def test_real_misestimate_makes_the_nested_loop_run_more_often():
    d, _ = _load(WHY / "plan.misestimate.txt")
    f = {x["code"]: x for x in findings(d)}
    assert f["misestimate"]["value"] >= 10
    assert d.nodes.loc[f["misestimate"]["node"], "relation"] == "pairs"
    nl = f["nested_loop_misestimate"]
    assert d.nodes.loc[nl["node"], "node_type"] == "Nested Loop" and "ran 1,000 times" in nl["text"]


def test_real_spills_sort_to_disk_and_hash_batches():
    d, _ = _load(WHY / "plan.spill.txt")
    spills = [f for f in findings(d) if f["code"] == "spill"]
    kinds = sorted(d.nodes.loc[f["node"], "node_type"] for f in spills)
    assert kinds == ["Hash", "Sort", "Sort"]
    assert d.nodes["sort_space_type"].eq("Disk").sum() == 2 and d.nodes["hash_batches"].max() > 1


def test_compare_before_and_after_the_index():
    a, _ = _load(WHY / "plan.lookup.analyze.txt")
    b, _ = _load(WHY / "plan.lookup.indexed.txt")
    c = compare_plans(a, b)
    assert c["speedup"] > 5
    assert c["access_changed"] and c["access_changed"][0]["relation"] == "orders"
    assert c["access_changed"][0]["a"] == "Seq Scan" and "Seq Scan on orders" in c["only_in_a"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_wild_plans_by_depesz_rules(name):
    want = EXPECTED[name]
    d, warns = _load(wild("plans", name))
    n = d.nodes
    assert len(n) == want["nodes"]
    assert _codes(d) == want["findings"]
    if want["hot"] is None:
        assert findings(d)[0]["node"] is None and findings(d)[0]["text"].startswith("unknown")
        return
    hot = n.loc[findings(d)[0]["node"]]
    assert hot["node_type"] == want["hot"]
    if "hot_exclusive_ms" in want:
        assert hot["exclusive_ms"] == pytest.approx(want["hot_exclusive_ms"], abs=1e-6)
    if "exclusive_ms" in want:
        assert n["exclusive_ms"].tolist() == pytest.approx(want["exclusive_ms"], abs=1e-6)
    if "execution_ms" in want:
        assert d.plans["execution_ms"].iloc[0] == want["execution_ms"]
    if "query" in want:
        assert d.plans["query_text"].iloc[0].strip() == want["query"]
    if "local_hit" in want:
        assert n["local_hit"].iloc[0] == want["local_hit"]
    if "sort_space_kb" in want:
        assert n["sort_space_kb"].max() == want["sort_space_kb"]
    if "max_loops" in want:
        assert n["loops"].max() == want["max_loops"]
    for w in want.get("warns", []):
        assert any(w in m for m in warns), (w, warns)


def test_exclusive_time_is_inclusive_times_loops_minus_children():
    d, _ = _load(wild("plans", "check-postgres-169.nested.txt"))
    n = d.nodes.set_index("id")
    assert n.loc[4, "inclusive_ms"] == pytest.approx(0.066 * 96069)
    assert n.loc[3, "exclusive_ms"] == pytest.approx(0.338 * 96069 - 0.066 * 96069 - 0.003 * 5531986)


def test_parallel_share_uses_the_processes_running_at_once():
    d, _ = _load(wild("plans", "pev2-98.parallel.txt"))
    hot = findings(d)[0]
    assert "summed over 3 parallel processes" in hot["text"] and 0.7 < hot["share"] < 0.8


def test_tree_marks_the_hot_path():
    d, _ = _load(WHY / "plan.spill.txt")
    tree = draw_tree(d.nodes)
    path = hot_path(d.nodes)
    assert tree.count("\n* ") + tree.startswith("* ") == len(path)
    assert "Sort" in tree.splitlines()[0]


def test_filter_columns():
    assert filter_columns("((i + 0) = 500000)") == ["i"]
    assert filter_columns("(payload ~~ '%refund%'::text)") == ["payload"]


def test_hostile_structured_plans_are_refused(tmp_path):
    bomb = tmp_path / "bomb.xml"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><explain xmlns="http://www.postgresql.org'
                    '/2009/explain"><Query><Plan><Node-Type>&a;</Node-Type></Plan></Query></explain>')
    with pytest.raises(ArtifactError, match="DTD"):
        load_plan(bomb)
    tag = tmp_path / "tag.yaml"
    tag.write_text("- Plan: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(ArtifactError):
        load_plan(tag)


_FILES = [*(WHY / f for f in FORMATS), *present("plans", ".txt")]  # wild plans when on this machine


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pick=st.integers(0, len(_FILES) - 1), cut=st.floats(0, 1), flip=st.lists(st.integers(0, 10**6), max_size=4),
       junk=st.binary(max_size=64))
def test_mutated_plans_give_frames_or_artifact_error(tmp_path, pick, cut, flip, junk):
    data = bytearray(_FILES[pick].read_bytes())
    data = data[: max(1, int(len(data) * cut))]
    for k in flip:
        if data:
            data[k % len(data)] = (data[k % len(data)] + 7) % 256
    p = tmp_path / "m.plan"
    p.write_bytes(bytes(data) + junk)
    try:
        d, _ = _load(p)
    except ArtifactError:
        return
    findings(d)
    draw_tree(d.nodes)
    assert (d.nodes["exclusive_ms"].dropna() >= 0).all()


def test_expanded_display_paste_is_the_same_plan():
    """psql with \\x on prints each plan line as its own 'QUERY PLAN | …' record."""
    a, warns = _load(WHY / "plan.misestimate.expanded.txt")
    b, _ = _load(WHY / "plan.misestimate.txt")
    cols = ["node_type", "parent", "plan_rows", "actual_rows", "loops", "relation"]
    assert not warns and a.nodes[cols].astype(str).values.tolist() == b.nodes[cols].astype(str).values.tolist()
    assert a.plans["query_text"].iloc[0].startswith("SELECT p.id, count(*) FROM pairs p")
    lines = (WHY / "plan.misestimate.expanded.txt").read_text().splitlines()
    assert all(lines[s - 1].startswith("QUERY PLAN |") for s in a.nodes["source"])  # lines are the file's
