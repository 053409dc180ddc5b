"""An incident folder holding PostgreSQL plans, a server log and an activity snapshot beside pgss dumps."""
import shutil

from support import SAMPLE

from forensics.incident import open_incident
from forensics.incident.timeline import pgss_pairs

WHY = SAMPLE / "postgres" / "why"


def test_plans_logs_and_activity_join_the_timeline_and_links(tmp_path):
    for name in ("before.csv", "after.csv"):
        shutil.copy(SAMPLE / "postgres" / name, tmp_path / name)
    for name in ("server.stderr.log", "activity.csv", "plan.lookup.analyze.txt", "plan.spill.txt"):
        shutil.copy(WHY / name, tmp_path / name)
    inc = open_incident(tmp_path, progress_bar=False)
    kinds = {a.file: a.kind for a in inc.artifacts}
    assert kinds["server.stderr.log"] == "pg_log" and kinds["activity.csv"] == "pg_activity"
    assert kinds["plan.lookup.analyze.txt"] == "pg_plan"
    # only pg_stat_statements dumps are read as an interval; two plans are not a before/after of counters
    assert [(b.file, a.file) for b, a in pgss_pairs(inc)] == [("before.csv", "after.csv")]
    tl = inc.timeline
    assert "server.stderr.log" in set(tl["artifact"])
    inc.links  # must not raise on artifacts without pg_stat_statements counters
