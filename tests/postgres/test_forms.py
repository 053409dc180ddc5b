"""Every dump form of one snapshot loads to the same numbers; the sniffer routes each to pg_stat_statements."""
import numpy as np
import pandas as pd
import pytest

import forensics
from forensics.postgres.versions import CANONICAL

from pgss_helpers import DATA, FORM_READ_AS, FORMS, load, norm_text, row_of

SNAPSHOTS = ["before", "after"]


@pytest.mark.parametrize("snapshot", SNAPSHOTS)
@pytest.mark.parametrize("form", [f for f in FORMS if f != "csv"])
def test_every_form_loads_to_identical_numbers(snapshot, form):
    ref = load(snapshot, "csv").statements
    got = load(snapshot, form).statements
    assert len(got) == len(ref) > 50
    for c in CANONICAL:
        if c == "query":
            assert [norm_text(q) for q in got[c]] == [norm_text(q) for q in ref[c]]
        else:
            pd.testing.assert_series_equal(got[c], ref[c], check_names=False, obj=c)


@pytest.mark.parametrize("snapshot", SNAPSHOTS)
@pytest.mark.parametrize("form", list(FORMS))
def test_form_and_version_recorded(snapshot, form):
    d = load(snapshot, form)
    assert d.form == FORM_READ_AS[form]
    if form == "json-in-table":
        assert d.provenance.details["json_inside"] == "aligned"
    assert d.version.version == "1.10" and d.version.exact and d.version.servers == "15-16"
    prov = d.statements.attrs["provenance"]
    assert prov["details"]["extension_version"]["version"] == "1.10"
    assert prov["kind"] == "pg_stat_statements" and len(prov["sha256"]) == 64
    assert prov["warnings"] == []


def test_runbook_join_matches_the_full_dump():
    full = load("after", "csv").statements
    rb = load("after", "runbook.txt").statements
    assert rb["userid"].isna().all() and rb["datname"].notna().all() and rb["rolname"].notna().all()
    assert set(rb["rolname"]) >= {"app", "reporter", "ops", "postgres"}
    assert rb["query_truncated"].any() and rb["query"].str.len().max() == 60
    m = rb.merge(full, on=["toplevel", "queryid"], suffixes=("", "_full"))
    assert len(m) == len(rb) == len(full)
    for c in ("calls", "rows", "shared_blks_hit", "shared_blks_read", "temp_blks_written"):
        assert (m[c] == m[c + "_full"]).all(), c
    for c in ("total_exec_time", "mean_exec_time", "total_plan_time"):
        assert np.allclose(m[c], m[c + "_full"], rtol=1e-12), c
    assert (m.apply(lambda r: r["query_full"].startswith(r["query"]), axis=1)).all()


def test_runbook_records_a_lower_bound_version_and_missing_columns():
    d = load("after", "runbook.txt")
    assert d.version.version == "≥1.9" and not d.version.exact
    details = d.provenance.details
    assert details["query_cut_at"] == 60
    assert "userid" in details["columns_missing"] and "wal_bytes" in details["columns_missing"]
    s = d.statements
    assert s["wal_bytes"].isna().all() and s["plans"].isna().all()  # missing, not zero


ALL_DUMPS = sorted(p for p in DATA.iterdir() if p.suffix in (".csv", ".txt", ".json", ".jsonl")
                   and ".info." not in p.name and p.name != "story.json")


@pytest.mark.parametrize("path", ALL_DUMPS, ids=[p.name for p in ALL_DUMPS])
def test_sniffer_routes_every_dump_to_pgss(path):
    d = forensics.sniff(path)
    assert d.kind == "pg_stat_statements", d
    expect = {"csv": "csv", "json": "json", "jsonl": "json (JSON Lines)"}.get(path.suffix.lstrip("."))
    if expect is None:
        expect = {"aligned": "psql aligned", "expanded": "psql expanded", "unaligned": "psql unaligned",
                  "runbook": "psql aligned", "json-in-table": "psql aligned",
                  "unaligned-expanded": "psql unaligned expanded"}[path.name.split(".")[1]]
    assert d.format == expect
    result = forensics.load(path)
    assert len(result.statements) > 50


def test_info_dumps_are_not_statement_dumps():
    from forensics.errors import ArtifactError
    from forensics.postgres.load import load_pgss, load_pgss_info

    info = load_pgss_info(DATA / "after.info.csv")
    assert info["dealloc"] == 0 and info["stats_reset"].year >= 2024
    with pytest.raises(ArtifactError, match="pg_stat_statements_info"):
        load_pgss(DATA / "after.info.csv")


def test_story_rows_are_present_in_every_form():
    for form in FORMS:
        s = load("after", form).statements
        assert row_of(s, "failing_insert")["calls"] == 0
        top = row_of(s, "nested")["toplevel"]
        assert top is not pd.NA and not bool(top)


def test_sniffer_finds_a_header_wider_than_its_head(tmp_path):
    """psql pads the header to the widest text: with a 70 KB query, `calls` lies beyond the 64 KiB head."""
    lines = (DATA / "after.aligned.txt").read_text().split("\n")
    header, sep, row = lines[0], lines[1], lines[2]
    q1 = header.index("|", header.index(" query "))  # the end of the query column
    pad = 70_000
    wide = lambda ln, fill: ln[:q1] + fill * pad + ln[q1:]  # noqa: E731
    p = tmp_path / "wide.txt"
    p.write_text("\n".join([wide(header, " "), wide(sep, "-"), wide(row, " "), "(1 row)", ""]))
    assert forensics.sniff(p).kind == "pg_stat_statements"
    s = forensics.load(p).statements
    assert len(s) == 1 and s["calls"].iloc[0] == load("after").statements["calls"].iloc[0]
