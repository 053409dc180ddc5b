"""forensics report on an incident holding PostgreSQL's "why" evidence: an EXPLAIN plan, a server log, an
activity snapshot — the real PG15 artifacts of sample_data/generate/postgres/why.py (story.json says what
was planted) — beside the pg_stat_statements interval.

Each gets a section whose sentences come from the data (hot node, misestimate, errors by SQLSTATE, lock
waits, deadlock, checkpoints, the blocking tree); none is named "not covered"; the evidence cannot decide →
"unknown" with the reason; artifact text is escaped; no placeholder.
"""
import json
import re
import shutil

import pytest
from narrative import canned, visible_text
from support import SAMPLE

from forensics.incident.report import write_report
from forensics.incident.report_postgres import lock_wait_outcomes
from forensics.postgres.serverlog import load_log

WHY = SAMPLE / "postgres" / "why"
STORY = json.loads((WHY / "story.json").read_text())
PLACEHOLDERS = ["interactive picker", "open the notebook", "VBox(children", "Traceback", " nan ", "NaN", "None",
                "e+0", "could not be made", "line nan", "no report section reads"]
HOSTILE = "<script>alert('pg')</script>"


def _stage(dest, hostile=False):
    dest.mkdir()
    for name in ("before.csv", "after.csv"):
        shutil.copy(SAMPLE / "postgres" / name, dest / name)
    for name in ("plan.misestimate.txt", "plan.lookup.plain.txt", "server.stderr.log", "activity.csv"):
        text = (WHY / name).read_text()
        if hostile:  # a statement text that is markup: the page must show it, never run it
            text = text.replace("UPDATE accounts SET balance = balance + 10 WHERE id = 1",
                                f"UPDATE accounts SET note = '{HOSTILE}' WHERE id = 1")
            text = text.replace("WHERE p.a = 7", f"WHERE p.a = 7 AND p.note <> '{HOSTILE}'")
        (dest / name).write_text(text)
    return dest


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = _stage(tmp_path_factory.mktemp("pg-why") / "pg-why")
    out = tmp_path_factory.mktemp("out") / "report.html"
    info = write_report(folder, str(out))
    page = out.read_text(encoding="utf-8")
    return folder, page, visible_text(page), info


def _section(page, title):
    """The visible text of the section headed ``title`` (from its <section> element, not the contents list)."""
    m = re.search(r"<section id='[^']*'><h2>" + re.escape(title) + r"</h2>(.*?)</section>", page, re.S)
    assert m, title
    return visible_text(m.group(1))


def test_every_pg_artifact_has_a_section(report):
    _, _, text, info = report
    for name in ("plan.misestimate.txt", "plan.lookup.plain.txt", "server.stderr.log", "activity.csv"):
        assert name not in info["not_covered"], info["not_covered"]
        assert any(name in s for s in info["sections"]), info["sections"]
    assert "PostgreSQL server log server.stderr.log" in info["sections"]
    assert "PostgreSQL activity activity.csv" in info["sections"]
    for p in PLACEHOLDERS:
        assert p not in text, (p, text[max(0, text.find(p) - 200):text.find(p) + 80])


def test_plan_section_states_hot_node_and_misestimate(report):
    _, page, _, _ = report
    sec = _section(page, "PostgreSQL plan plan.misestimate.txt")
    assert "Hot node (most exclusive time): Bitmap Heap Scan on pairs p (line 13)" in sec
    assert "Worst row misestimate: Bitmap Heap Scan on pairs p (line 13) returned 111× more rows" in sec
    assert STORY["misestimate"]["finding"] in sec and "ran 1,000 times" in sec
    assert "execution time 13.9 ms" in sec


def test_plan_without_analyze_says_unknown(report):
    _, page, _, _ = report
    sec = _section(page, "PostgreSQL plan plan.lookup.plain.txt")
    assert "estimates only (no ANALYZE)" in sec
    assert "Row misestimates: unknown — the plan has no actual row counts" in sec
    assert "Hot node (most exclusive time): unknown" in sec


def test_log_section_is_a_pgbadger_summary(report):
    _, page, _, _ = report
    sec = _section(page, "PostgreSQL server log server.stderr.log")
    log = load_log(WHY / "server.stderr.log")
    n = len(log.entries)
    assert f"{n:,} entries (stderr) from 2026-12-01 10:54:45.552 to 2026-12-01 10:55:00.069 UTC" in sec
    for code in STORY["errors"]:
        assert re.search(rf"{code}\s+ERROR\s+1\s+logged", sec), code
    assert "40P01" in sec  # the deadlock's own error
    assert "deadlock between pids 4729,4728" in sec and "pid 4729 detected it and its statement was cancelled" in sec
    assert "pid 4512 waited for ShareLock on transaction 793 held by pid 4509: 2.94 s at the longest line; acquired" \
        in sec
    assert "deadlock detected while waiting" in sec
    assert "Checkpoints: 2 completed, 4,260 buffers written in all" in sec
    assert "the longest single one took 2.94 s: UPDATE accounts SET balance = balance + 10 WHERE id = 1" in sec
    assert "Temp files: 68 written" in sec
    # auto_explain plans: the ones with warning findings drawn, with their lines in the log file
    assert "auto_explain plans logged: 8, 3 with a warning finding" in sec
    assert "Sort (line 291)" in sec and "sort spilled to disk" in sec


def test_activity_section_draws_the_blocking_tree(report):
    _, page, _, _ = report
    sec = _section(page, "PostgreSQL activity activity.csv")
    assert STORY["lock_wait"]["holder_state"] == "idle in transaction"
    assert "pid 4509 (idle in transaction, application billing) blocks 1 session(s), 1 level(s) deep" in sec
    assert "its transaction had been open 1.72 s at the snapshot" in sec
    assert "pid 4512 waits behind 4509 (Lock/transactionid)" in sec
    assert "held by pid 4509 — the snapshot's root blocker" in sec  # the log corroborates the snapshot
    assert "1 session(s) idle in transaction, 1 of them blocking others" in sec
    assert "No active query had been running 1min or more" in sec


def test_no_sample_prose(report):
    folder, _, text, _ = report
    assert not canned(text, folder)


def test_artifact_text_is_escaped(tmp_path):
    folder = _stage(tmp_path / "hostile", hostile=True)
    out = tmp_path / "r.html"
    write_report(folder, str(out))
    page = out.read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;pg&#x27;)&lt;/script&gt;" in page
    for title in ("PostgreSQL server log server.stderr.log", "PostgreSQL activity activity.csv",
                  "PostgreSQL plan plan.misestimate.txt"):
        assert HOSTILE in _section(page, title), title
    assert "$1" not in page  # SQL placeholders never reach a maths renderer


def test_a_lock_wait_without_its_end_is_unknown():
    log = load_log(WHY / "server.stderr.log")
    e = log.entries
    cut = e[e["event"] != "lock_acquired"]  # as if the log ended before the locks were granted
    w = lock_wait_outcomes(cut)
    row = w[w["pid"] == 4512].iloc[0]
    assert row["outcome"].startswith("unknown: no later line says it was acquired")
