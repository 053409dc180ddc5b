"""Column sets of every extension version 1.2 … 1.12 (PostgreSQL 9.4 … 18) load to the canonical frame.

Each version's dump is built from the real PG15 (1.10) dumps by renaming, dropping and adding columns as
that version had them (forensics.postgres.versions.COLUMNS, from the extension's SQL scripts); 9.4-10 get
32-bit queryids, and 9.4-9.6 '?' placeholders. The real 1.4/1.8/1.9 views of the same server are checked too.
"""
import csv
import io
import json
import re
import warnings

import pandas as pd
import pytest

from forensics.postgres.analysis import delta, rank
from forensics.postgres.load import load_pgss
from forensics.postgres.versions import COLUMNS, SERVER_VERSIONS

from pgss_helpers import DATA, STORY, load, row_of

VERSIONS = ["1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.8", "1.9", "1.10", "1.11", "1.12"]
PRE_13 = ["1.2", "1.3", "1.4", "1.5", "1.6", "1.7"]
LABEL = {v: ("1.3-1.7" if v in ("1.3", "1.4", "1.5", "1.6", "1.7") else v) for v in VERSIONS}
FROM_PG15 = {"total_time": "total_exec_time", "min_time": "min_exec_time", "max_time": "max_exec_time",
             "mean_time": "mean_exec_time", "stddev_time": "stddev_exec_time",
             "shared_blk_read_time": "blk_read_time", "shared_blk_write_time": "blk_write_time"}
NEW_AFTER_15 = {"local_blk_read_time": "0", "local_blk_write_time": "0", "jit_deform_count": "0",
                "jit_deform_time": "0", "wal_buffers_full": "3", "parallel_workers_to_launch": "0",
                "parallel_workers_launched": "0", "stats_since": "2026-11-26 06:00:00.123456+00",
                "minmax_stats_since": "2026-11-26 06:00:00.123456+00"}


def _rows(snapshot):
    with open(DATA / f"{snapshot}.csv", newline="") as f:
        return list(csv.DictReader(f))


def build(snapshot, version, tmp_path, form="csv"):
    cols = COLUMNS[version]
    out = []
    for r in _rows(snapshot):
        row = {}
        for c in cols:
            v = r.get(c, r.get(FROM_PG15.get(c, ""), NEW_AFTER_15.get(c)))
            if c == "queryid" and version in ("1.2", "1.3", "1.4", "1.5"):
                v = str(int(v) & 0xFFFFFFFF)  # 32-bit queryids before PostgreSQL 11
            if c == "query" and version in ("1.2", "1.3", "1.4"):
                v = re.sub(r"\$\d+", "?", v)  # '?' placeholders before PostgreSQL 10
            row[c] = v
        out.append(row)
    p = tmp_path / f"{snapshot}.{version}.{form}"
    if form == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        w.writerows(out)
        p.write_text(buf.getvalue())
    else:
        p.write_text(json.dumps(out))
    return p


@pytest.mark.parametrize("version", VERSIONS)
def test_version_column_set_loads(version, tmp_path):
    ref = load("after").statements
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = load_pgss(build("after", version, tmp_path))
    assert d.version.version == LABEL[version] and d.version.exact
    assert d.version.servers == ("9.5-12" if LABEL[version] == "1.3-1.7" else SERVER_VERSIONS[version])
    s = d.statements
    assert len(s) == len(ref)
    moments = [] if version == "1.2" else ["mean_exec_time", "stddev_exec_time", "min_exec_time", "max_exec_time"]
    for c in ["calls", "rows", "shared_blks_hit", "shared_blks_read", "temp_blks_written", "total_exec_time",
              "shared_blk_read_time", *moments]:
        pd.testing.assert_series_equal(s[c], ref[c], check_names=False, obj=c)
    if version in ("1.2", "1.3", "1.4", "1.5"):
        assert (s["queryid"] >= 0).all() and (s["queryid"] < 2**32).all()
    else:
        pd.testing.assert_series_equal(s["queryid"], ref["queryid"], check_names=False)
        assert (s["queryid"] < 0).any()  # 64-bit queryids are often negative
    # Columns a version lacks are missing, never zero.
    if version in PRE_13:
        assert s["total_plan_time"].isna().all() and s["plans"].isna().all() and s["wal_bytes"].isna().all()
    else:
        assert s["plans"].notna().all()
    if version in PRE_13 + ["1.8"]:
        assert s["toplevel"].isna().all()
    if version == "1.2":
        assert s["mean_exec_time"].isna().all() and s["stddev_exec_time"].isna().all()
    if version in ("1.11", "1.12"):
        assert s["stats_since"].notna().all() and s["local_blk_read_time"].eq(0).all()
    else:
        assert s["stats_since"].isna().all() and s["jit_deform_time"].isna().all()


@pytest.mark.parametrize("version", VERSIONS)
def test_interval_ranking_works_on_every_version(version, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = delta(load_pgss(build("before", version, tmp_path)), load_pgss(build("after", version, tmp_path)))
    assert STORY["missing_index"]["contains"].replace("$1", "?" if version in ("1.2", "1.3", "1.4") else "$1") \
        in rank(d, by="total_exec_time").loc[0, "query"]
    assert "FROM products WHERE id =" in rank(d, by="calls").loc[0, "query"]
    assert "audit_log" in rank(d, by="hit_ratio", min_blocks=1000).loc[0, "query"]
    if version not in PRE_13:
        assert "JOIN d9" in rank(d, by="total_plan_time").loc[0, "query"]
    else:  # no planning counters before 1.8: nothing to rank, not zeros
        assert rank(d, by="total_plan_time").empty


def test_question_mark_texts_still_fingerprint(tmp_path):
    from forensics.postgres.fingerprint import add_fingerprints

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        old = add_fingerprints(load_pgss(build("after", "1.2", tmp_path)).statements)
    new = add_fingerprints(load("after").statements)
    assert old["fingerprint_ok"].mean() > 0.9
    assert (old["fingerprint"] == new["fingerprint"]).mean() > 0.9  # same shapes across versions


@pytest.mark.parametrize("version", ["1.11", "1.12"])
def test_json_with_timestamps(version, tmp_path):
    d = load_pgss(build("after", version, tmp_path, form="json"))
    assert d.version.version == version
    assert str(d.statements["stats_since"].iloc[0]) == "2026-11-26 06:00:00.123456+00:00"


@pytest.mark.parametrize("version,label", [("1.4", "1.3-1.7"), ("1.8", "1.8"), ("1.9", "1.9")])
def test_real_older_views_of_the_same_server(version, label):
    """The PG15 library still serves the 1.4/1.8/1.9 views (as after pg_upgrade without ALTER EXTENSION)."""
    d = load_pgss(DATA / f"after.v{version}.csv")
    assert d.version.version == label and d.version.exact
    ref = load("after").statements
    for story in ("missing_index", "n_plus_one", "cold_table"):
        a, b = row_of(d.statements, story), row_of(ref, story)
        assert a["queryid"] == b["queryid"] and a["calls"] == b["calls"]
        assert a["total_exec_time"] == b["total_exec_time"]
    if version == "1.4":
        assert d.statements["total_plan_time"].isna().all()
