"""Server logs (issue 18): the real PG15 log in its three forms, counted independently; wild excerpts."""
import json
import re
import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensics.errors import ArtifactError
from forensics.postgres import log_analysis as la
from forensics.postgres.activity import blocking_tree, load_activity
from forensics.postgres.serverlog import load_log
from pg_wild import needs_all, present, wild

WHY = Path(__file__).parents[2] / "sample_data" / "postgres" / "why"
STORY = json.loads((WHY / "story.json").read_text())
FORMS = {"server.stderr.log": "stderr", "server.csv": "csvlog", "server.jsonl": "jsonlog"}


def _load(path):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        d = load_log(path)
    return d, [str(x.message) for x in w]


@pytest.fixture(scope="module")
def logs():
    return {name: _load(WHY / name)[0] for name in FORMS}


def test_three_forms_of_one_log_agree(logs):
    s = {n: la.summary(d) for n, d in logs.items()}
    assert {d.form for d in logs.values()} == set(FORMS.values())
    ref = s["server.csv"]
    for n, x in s.items():
        assert x["events"] == ref["events"], n
        assert x["entries"] == ref["entries"]
    # the logging collector writes each destination on its own, so entries of different processes may
    # interleave differently between the files: the same times, not necessarily in the same order
    t = {n: sorted(d.entries["time"].tolist()) for n, d in logs.items()}
    assert t["server.stderr.log"] == t["server.csv"] == t["server.jsonl"]


def test_every_event_counted_against_an_independent_count_of_the_raw_log(logs):
    raw = (WHY / "server.stderr.log").read_text()
    count = lambda rx: len(re.findall(rx, raw, re.M))  # noqa: E731
    ev = la.summary(logs["server.stderr.log"])["events"]
    assert sum(ev.values()) == la.summary(logs["server.stderr.log"])["entries"]
    assert ev["lock_wait"] == count(r"LOG:  process \d+ still waiting for")
    assert ev["lock_acquired"] == count(r"LOG:  process \d+ acquired")
    assert ev["deadlock"] == count(r"ERROR:  deadlock detected") == 1
    assert ev["temp_file"] == count(r"LOG:  temporary file: ")
    assert ev["checkpoint_complete"] == count(r"LOG:  checkpoint complete")
    assert ev["connection_authorized"] == count(r"LOG:  connection authorized")
    assert ev["disconnection"] == count(r"LOG:  disconnection")
    assert ev["auto_explain"] == count(r"LOG:  duration: [\d.]+ ms  plan:")
    assert ev["duration"] == count(r"LOG:  duration: [\d.]+ ms  (?:statement|execute)")
    assert ev["autovacuum"] == count(r"LOG:  automatic (?:aggressive )?vacuum")
    assert ev["error"] + ev["deadlock"] == count(r" ERROR:  ")


def test_errors_by_sqlstate_match_the_story(logs):
    for name, d in logs.items():
        e = la.errors_by_sqlstate(d).set_index("code")["count"].to_dict()
        for code, n in STORY["errors"].items():
            assert e.get(code) == n, (name, code)
        assert e.get("40P01") == 1


def test_lock_wait_names_the_holder_the_snapshot_shows(logs):
    waits = la.lock_waits(logs["server.csv"])
    first = waits[waits["event"] == "lock_wait"].iloc[0]
    tree = blocking_tree(load_activity(WHY / "activity.csv"))
    root = tree[tree["depth"] == 0].iloc[0]
    assert int(first["holders"]) == int(root["pid"]) and root["state"] == "idle in transaction"
    assert int(first["pid"]) == int(tree[tree["depth"] == 1].iloc[0]["pid"])
    assert "UPDATE accounts" in first["query"]


def test_deadlock_keeps_both_statements_together(logs):
    for d in logs.values():
        dl = la.deadlocks(d).iloc[0]
        assert len(dl["deadlock_pids"].split(",")) == 2
        assert dl["deadlock_statements"].count("UPDATE accounts") == 2


def test_auto_explain_plans_in_text_and_json(logs):
    d = logs["server.stderr.log"]
    assert d.plans is not None and len(d.plans.plans) == la.summary(d)["auto_explain_plans"]
    texts = d.plans.plans["query_text"].dropna()
    assert any("customer_id = 4242" in q for q in texts)  # the JSON-format one
    assert d.plans.plans["time"].notna().all()
    sizes = {n: x.plans.nodes.groupby("plan").size().tolist() for n, x in logs.items()}
    assert sizes["server.stderr.log"] == sizes["server.csv"] == sizes["server.jsonl"]


def test_top_statements_count_one_execution_once(logs):
    top = la.top_statements(logs["server.stderr.log"])
    upd = top[top["query"].fillna("").str.contains("UPDATE accounts SET balance = balance \\+ 10")]
    assert upd["count"].iloc[0] == 2  # checkout's and worker-a's waits, not their auto_explain copies


def test_timeline_contract(logs):
    t = la.timeline(logs["server.jsonl"])
    assert list(t.columns[:7]) == ["time", "end", "kind", "severity", "detail", "ref", "source_rows"]
    assert str(t["time"].dt.tz) == "UTC" and set(t["severity"]) <= {"info", "warning", "error", "critical"}
    assert (t["kind"] == "pg_log.deadlock").sum() == 1


def test_wild_deadlock_behind_a_container_prefix():
    d, _ = _load(wild("logs", "superdurable-dex-51.deadlock.log"))
    e = d.entries.iloc[0]
    assert len(d.entries) == 1 and e["event"] == "deadlock" and e["deadlock_pids"] == "14344,14722"
    assert "FOR UPDATE" in e["deadlock_statements"] and "xdb_sys_async_state_executions" in e["deadlock_statements"]
    assert e["hint"] == "See server log for query details." and "locking tuple" in e["context"]


def test_wild_cet_stamps_are_utc_and_multiline_statements_kept():
    d, _ = _load(wild("logs", "temboard-890.deadlock.log"))
    assert d.entries["time"].iloc[0] == pd.Timestamp("2021-01-21 11:58:34.900", tz="UTC")
    dur = d.entries[d.entries["event"] == "duration"]
    assert dur["duration_ms"].tolist() == [141522.046, 142056.081]
    assert dur["query"].iloc[0].count("\n") == 1 and "metric_sessions_current" in dur["query"].iloc[0]
    assert la.deadlocks(d)["deadlock_statements"].iloc[0].startswith("4136: SELECT * FROM history_tables()")


def test_wild_auto_explain_cut_short_is_a_located_warning():
    d, warns = _load(wild("logs", "pgbadger-411.auto_explain.log"))
    assert any("line 3" in w and "auto_explain plan that cannot be read" in w for w in warns)
    e = d.entries
    assert e.loc[e["event"] == "auto_explain", "duration_ms"].tolist() == [245.983]
    assert e.loc[e["event"] == "connection_authorized", "user"].tolist() == ["postgres"]


def test_unknown_zone_is_said(tmp_path):
    p = tmp_path / "x.log"
    p.write_text("2024-01-01 10:00:00.000 XYZT [1] LOG:  checkpoint starting: time\n")
    d, warns = _load(p)
    assert any("XYZT" in w and "local times" in w for w in warns)


_FILES = present("logs", ".log")


@needs_all("logs", ".log")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pick=st.integers(0, max(len(_FILES) - 1, 0)), cut=st.floats(0, 1), junk=st.binary(max_size=80))
def test_mutated_logs_load_or_refuse(tmp_path, pick, cut, junk):
    data = _FILES[pick].read_bytes()
    p = tmp_path / "m.log"
    p.write_bytes(data[: int(len(data) * cut)] + junk)
    try:
        d, _ = _load(p)
    except ArtifactError:
        return
    la.summary(d)
    la.timeline(d)


def test_prefix_fields_user_at_db_app_and_sqlstate(logs):
    e = logs["server.stderr.log"].entries
    err = e[e["event"] == "deadlock"].iloc[0]
    assert (err["user"], err["database"], err["application"], err["sqlstate"]) == ("postgres", "shop", "worker-b", "40P01")
    csv = logs["server.csv"].entries
    assert sorted(e["application"].dropna().unique()) == sorted(csv["application"].dropna().unique())


# --------------------------------------------------------------------------- read in blocks (bounded memory)
STORY_PLANS = 8  # auto_explain plans in the generated log (test_auto_explain_plans_in_text_and_json counts them)


@pytest.mark.parametrize("name", list(FORMS))
@pytest.mark.parametrize("batch,block", [(1, 4096), (7, 4096), (50, 5000)])
def test_blocks_and_batches_give_what_the_whole_text_gives(name, batch, block):
    from forensics.artifact import provenance_for
    from forensics.postgres.serverlog import parse_log_text, read_entries

    path = WHY / name
    whole = parse_log_text(path.read_text(), provenance_for(path, parser="test"))
    prov = provenance_for(path, parser="test")
    part = read_entries(path, prov, whole.form, batch=batch, block=block)
    pd.testing.assert_frame_equal(part.entries, whole.entries)
    assert len(part.plans) == len(whole.plans) == STORY_PLANS
    assert not prov.warnings


def test_a_log_cut_mid_line_is_a_located_warning(tmp_path):
    data = (WHY / "server.stderr.log").read_bytes()
    cut = data[: data.index(b"LOG:  checkpoint complete") + 30]
    p = tmp_path / "cut.log"
    p.write_bytes(cut)
    d, warns = _load(p)
    n = cut.count(b"\n") + 1
    assert any(w.startswith(f"cut.log: line {n}: the file ends inside this line") for w in warns), warns
    assert d.entries["source"].max() == n  # the cut entry is kept as far as it goes


def test_csvlog_entries_point_at_their_first_line(logs):
    lines = (WHY / "server.csv").read_text().split("\n")
    e = logs["server.csv"].entries
    ae = e[e["event"] == "auto_explain"]  # multi-line records: the plan spans many lines
    assert len(ae) and all(lines[int(s) - 1].startswith("2026-") for s in e["source"])
    assert all("duration:" in lines[int(s) - 1] for s in ae["source"])


def test_auto_explain_nodes_point_at_their_line_in_the_log(logs):
    for name in ("server.stderr.log", "server.csv"):
        lines = (WHY / name).read_text().split("\n")
        n = logs[name].plans.nodes
        text = n[n["source"].notna()]
        assert len(text) > 20
        for r in text.itertuples():
            assert r.node_text.split("  (")[0].strip() in lines[int(r.source) - 1], (name, r.node_text, r.source)


def test_a_log_of_every_statement_gives_bursts_not_a_row_per_statement(logs, monkeypatch):
    d = logs["server.stderr.log"]
    full = la.timeline(d)
    monkeypatch.setattr(la, "BURST_OVER", 5)  # as if the 68 temp files were thousands
    t = la.timeline(d)
    temp = t[t["kind"] == "pg_log.temp_file"]
    assert len(temp) < 68 == (full["kind"] == "pg_log.temp_file").sum()
    assert temp["source_rows"].map(len).sum() == 68 and temp["detail"].str.contains("temp file").all()
    # warnings and errors stay one row each
    for k in ("pg_log.lock_wait", "pg_log.deadlock", "pg_log.error"):
        assert (t["kind"] == k).sum() == (full["kind"] == k).sum()
