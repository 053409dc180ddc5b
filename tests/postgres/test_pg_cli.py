"""forensics pg plan|log|locks FILE (issue 18)."""
import json
import subprocess
import sys
from pathlib import Path

WHY = Path(__file__).parents[2] / "sample_data" / "postgres" / "why"


def _run(*args):
    r = subprocess.run([sys.executable, "-m", "forensics", *map(str, args)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r


def test_pg_commands_json():
    f = json.loads(_run("pg", "plan", WHY / "plan.spill.txt", "--format", "json").stdout)
    assert [x["code"] for x in f].count("spill") == 3
    s = json.loads(_run("pg", "log", WHY / "server.stderr.log", "--format", "json").stdout)
    assert s["deadlocks"] == 1 and s["lock_waits"] == 2 and s["form"] == "stderr"
    t = json.loads(_run("pg", "locks", WHY / "activity.txt", "--format", "json").stdout)
    assert [r["depth"] for r in t] == [0, 1] and t[0]["state"] == "idle in transaction"
    c = _run("pg", "plan", WHY / "plan.lookup.analyze.txt", "--compare", WHY / "plan.lookup.indexed.txt")
    assert "orders: Seq Scan →" in c.stdout
    e = _run("pg", "log", WHY / "server.csv", "--view", "errors", "--format", "csv")
    assert "40P01" in e.stdout and "23505" in e.stdout
