"""`forensics pgss rank|load` as a user runs it (one test in a separate process, the rest in-process)."""
import json
from types import SimpleNamespace

import pytest

from forensics.cli import main
from support import run_cli

from pgss_helpers import DATA


@pytest.fixture
def cli(capsys):
    def run(*args, check=False):
        code = main([str(a) for a in args])
        out = capsys.readouterr()
        assert not check or code == 0, out.err
        return SimpleNamespace(returncode=code, stdout=out.out, stderr=out.err)
    return run

REQUIRED = {"rank", "queryid", "query", "calls", "total_exec_time", "mean_exec_time", "total_plan_time",
            "shared_blks_hit", "shared_blks_read", "temp_blks_written", "hit_ratio", "share", "findings"}


def test_rank_interval_json_row_group():
    r = run_cli("pgss", "rank", DATA / "after.aligned.txt", "--baseline", DATA / "before.csv", "--top", "3",
                "--format", "json", check=True)
    rows = json.loads(r.stdout)
    assert len(rows) == 3 and REQUIRED | {"userid", "dbid", "toplevel"} <= set(rows[0])
    assert rows[0]["rank"] == 1 and "FROM orders WHERE customer_id = $1" in rows[0]["query"]
    assert isinstance(rows[0]["findings"], list) and rows[0]["findings"][0].startswith("missing_index")
    assert isinstance(rows[0]["queryid"], int) and rows[0]["queryid"] == -3597193847742678470


def test_rank_by_each_planted_measure(cli):
    expect = {"calls": "FROM products WHERE id = $1", "total_plan_time": "JOIN d9",
              "hit_ratio": "FROM audit_log", "temp_blks_written": "GROUP BY c.id"}
    for by, text in expect.items():
        r = cli("pgss", "rank", DATA / "after.json", "--baseline", DATA / "before.expanded.txt", "--by", by,
                    "--min-blocks", "1000", "--top", "1", "--format", "json", check=True)
        assert text in json.loads(r.stdout)[0]["query"], by


def test_rank_groups_and_formats(cli):
    r = cli("pgss", "rank", DATA / "after.csv", "--baseline", DATA / "before.csv", "--group", "fingerprint",
                "--format", "json", check=True)
    rows = json.loads(r.stdout)
    assert REQUIRED <= set(rows[0]) and "fingerprint" in rows[0] and "userid" not in rows[0]
    t = cli("pgss", "rank", DATA / "after.csv", "--top", "5", check=True)
    assert "missing_index" in t.stdout or "temp_spill" in t.stdout
    c = cli("pgss", "rank", DATA / "after.unaligned.txt", "--format", "csv", "--top", "2", check=True)
    assert c.stdout.splitlines()[0].startswith("rank,userid,dbid,toplevel")


def test_load_summary_and_warnings_on_stderr(cli):
    r = cli("pgss", "load", DATA / "before.runbook.txt", "--format", "json", check=True)
    info = json.loads(r.stdout)
    assert info["form"] == "aligned" and info["query_cut_at"] == 60 and info["extension_version"] == "≥1.9"
    assert "cut at 60" in r.stderr
    strict = cli("pgss", "load", DATA / "before.runbook.txt", "--strict")
    assert strict.returncode == 1


def test_bad_input_exits_2_naming_the_columns(cli, tmp_path):
    p = tmp_path / "activity.csv"
    p.write_text("pid,state,query\n1,active,select 1\n")
    r = cli("pgss", "rank", p)
    assert r.returncode == 2 and "columns found: pid, state, query" in r.stderr
    bad = cli("pgss", "rank", DATA / "after.csv", "--by", "nonsense")
    assert bad.returncode == 2 and "cannot rank by" in bad.stderr
