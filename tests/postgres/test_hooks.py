"""The PostgreSQL kinds in an incident (issue 18): timeline builders and links named in forensics/kinds.py."""
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from forensics import kinds
from forensics.artifact import sniff
from forensics.postgres.activity import load_activity
from forensics.postgres.hooks import activity_timeline, lock_wait_links, matching_statements, plan_links, plan_timeline
from forensics.postgres.load import load_pgss
from forensics.postgres.plan import load_plan
from forensics.postgres.serverlog import load_log

DATA = Path(__file__).parents[2] / "sample_data" / "postgres"
WHY = DATA / "why"
COLS = ["time", "end", "kind", "severity", "detail", "ref", "source_rows"]


@dataclass
class Art:
    file: str
    kind: str
    result: object
    artifact_kind: str = "postgres"


class Inc:
    def __init__(self, arts):
        self.arts = arts

    def loaded(self, family=None):
        return [a for a in self.arts if family is None or a.artifact_kind == family]


def _quiet(fn, *a):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*a)


@pytest.mark.parametrize("name,kind", [("plan.lookup.analyze.txt", "pg_plan"), ("plan.lookup.yaml", "pg_plan"),
                                       ("server.jsonl", "pg_log"), ("server.csv", "pg_log"),
                                       ("activity.txt", "pg_activity"), ("locks.csv", "pg_activity"),
                                       ("activity.expanded.txt", "pg_activity"),
                                       ("plan.misestimate.expanded.txt", "pg_plan")])
def test_kinds_are_detected_from_content(name, kind):
    assert sniff(WHY / name).kind == kind
    entry = kinds.get(kind)
    assert entry.family == "postgres" and kinds.resolve(entry.loader) and kinds.resolve(entry.timeline)


def test_plan_links_to_the_pgss_row_of_its_statement():
    plan = _quiet(load_plan, WHY / "plan.lookup.analyze.txt")
    after = _quiet(load_pgss, DATA / "after.csv")
    m = matching_statements(plan, after.statements)
    assert len(m) == 1 and "customer_id = $1" in m["query"].iloc[0]
    links = plan_links(Inc([Art("plan.txt", "pg_plan", plan), Art("after.csv", "pg_stat_statements", after)]))
    assert [l["type"] for l in links] == ["plan-statement"] and links[0]["b"]["ref"] == str(m["queryid"].iloc[0])


def test_auto_explain_plans_link_and_go_on_the_timeline():
    log = _quiet(load_log, WHY / "server.stderr.log")
    pgss = _quiet(load_pgss, WHY / "pgss.csv")
    links = plan_links(Inc([Art("server.log", "pg_log", log), Art("pgss.csv", "pg_stat_statements", pgss)]))
    assert links and all(l["type"] == "plan-statement" for l in links)
    t = plan_timeline(log.plans)
    assert list(t.columns[:7]) == COLS and len(t) == len(log.plans.plans) and str(t["time"].dt.tz) == "UTC"
    assert (t["time"] <= t["end"]).all()


def test_a_pasted_plan_has_no_time_of_its_own():
    assert plan_timeline(_quiet(load_plan, WHY / "plan.spill.txt")).empty


def test_activity_timeline_and_no_traces_no_lock_links():
    snap = _quiet(load_activity, WHY / "activity.txt")
    t = activity_timeline(snap)
    assert list(t.columns[:7]) == COLS and (t["severity"] == "error").sum() == 1
    log = _quiet(load_log, WHY / "server.stderr.log")
    assert lock_wait_links(Inc([Art("server.log", "pg_log", log)])) == []


def test_log_timeline_builder_from_kinds():
    log = _quiet(load_log, WHY / "server.csv")
    t = kinds.resolve(kinds.get("pg_log").timeline)(log)
    assert set(t["kind"]) >= {"pg_log.deadlock", "pg_log.lock_wait", "pg_log.error", "pg_log.auto_explain"}
    assert t["source_rows"].map(len).eq(1).all() and t["time"].is_monotonic_increasing
    assert pd.api.types.is_datetime64_any_dtype(t["end"])
