"""The real-world traps of pasted pg_stat_statements dumps, one test each (issue 5)."""
import warnings

import pandas as pd
import pytest

from forensics.errors import ArtifactError
from forensics.postgres.analysis import rank
from forensics.postgres.fingerprint import add_fingerprints
from forensics.postgres.load import load_pgss

from pgss_helpers import DATA, load, norm_text, row_of


def _load(path, **kw):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        d = load_pgss(path, **kw)
    return d, [str(x.message) for x in w]


@pytest.mark.parametrize("form", ["aligned", "expanded", "unaligned"])
def test_multi_line_texts_with_plus_continuations(form):
    """psql marks a cell continuing on the next line with '+' (aligned, expanded); unaligned prints raw newlines."""
    ref = row_of(load("after").statements, "spilling_report")["query"]
    got = row_of(load("after", form).statements, "spilling_report")["query"]
    assert ref.count("\n") == 5 and "報告" in ref  # wide characters: psql pads by display width
    assert norm_text(got) == norm_text(ref)
    assert not any(line.endswith("+") for line in got.split("\n"))


def test_blank_lines_inside_texts_survive_expanded_output():
    ref = load("after").statements
    got = load("after", "expanded").statements
    blank = ref["query"].str.contains("\n\n")
    assert blank.any()
    assert [norm_text(q) for q in got.loc[blank, "query"]] == [norm_text(q) for q in ref.loc[blank, "query"]]


def test_double_pipes_inside_texts_in_pipe_separated_output():
    ref = row_of(load("after").statements, "pipes_in_text")
    got = row_of(load("after", "unaligned").statements, "pipes_in_text")
    assert "||" in got["query"] and got["query"] == ref["query"]
    assert got["calls"] == ref["calls"] and got["total_exec_time"] == ref["total_exec_time"]


@pytest.mark.parametrize("form", ["aligned", "unaligned"])
def test_row_count_footers_are_not_rows(form):
    text = (DATA / f"after.{form}.txt").read_text()
    assert text.rstrip().splitlines()[-1] == f"({len(load('after').statements)} rows)"
    s = load("after", form).statements
    assert len(s) == len(load("after").statements) and s["calls"].notna().all()


def test_oids_as_strings_in_json():
    raw = (DATA / "after.json").read_text()
    assert '"userid":"10"' in raw  # json_agg renders oid as a JSON string
    s = load("after", "json").statements
    assert s["userid"].dtype == "Int64" and 10 in set(s["userid"])


def test_numbers_as_strings_and_unsigned_queryids_in_json(tmp_path):
    p = tmp_path / "tool.json"
    p.write_text('[{"userid": "10", "dbid": "5", "toplevel": "t", "queryid": "18446744073709551615", '
                 '"query": "SELECT 1", "calls": "3", "total_exec_time": "1.5"}]')
    d, warns = _load(p)
    r = d.statements.iloc[0]
    assert r["queryid"] == -1 and r["calls"] == 3 and bool(r["toplevel"]) is True
    assert any("unsigned 64-bit" in w for w in warns)


def test_t_f_booleans():
    for form in ("csv", "aligned", "expanded", "unaligned"):
        top = load("after", form).statements["toplevel"]
        assert str(top.dtype) == "boolean" and top.any() and (~top).any()


def test_negative_and_32bit_queryids(tmp_path):
    s = load("after").statements
    assert (s["queryid"] < -(2**62)).any()  # exact 64-bit values, never through a float
    exact = {int(x) for x in (DATA / "after.csv").read_text().split("\n")[1:] and s["queryid"]}
    assert -3597193847742678470 in exact
    p = tmp_path / "pg10.csv"
    p.write_text("userid,dbid,queryid,query,calls,total_time,rows\n10,5,4294967295,SELECT ?,1,0.5,1\n")
    d, _ = _load(p)
    assert d.statements["queryid"].iloc[0] == 4294967295 and d.version.version == "1.2-1.7"


def test_plan_only_rows_with_zero_calls():
    s = load("after").statements
    failing = row_of(s, "failing_insert")
    assert failing["calls"] == 0 and failing["plans"] == 40 and failing["total_exec_time"] == 0
    r = rank(s, by="total_plan_time")
    row = r[r["query"].str.startswith("INSERT INTO customers (id")].iloc[0]
    assert any(f.startswith("failing:") for f in row["findings"])
    assert pd.isna(r.loc[r["calls"] == 0, "share"]).sum() == 0


def test_runbook_texts_cut_short():
    d, warns = _load(DATA / "after.runbook.txt")
    s = add_fingerprints(d.statements)
    assert any("cut at 60 characters" in w for w in warns)
    cut = s[s["query_truncated"]]
    assert len(cut) > 10 and not cut["fingerprint_ok"].any()  # kept and marked, never dropped
    assert len(s) == len(load("after").statements)


def test_insufficient_privilege_rows_are_kept(tmp_path):
    p = tmp_path / "unpriv.csv"
    p.write_text("userid,dbid,toplevel,queryid,query,calls,total_exec_time\n"
                 "10,5,t,,<insufficient privilege>,7,12.5\n10,5,t,42,SELECT 1,1,0.1\n")
    d, _ = _load(p)
    s = add_fingerprints(d.statements)
    assert len(s) == 2 and pd.isna(s["queryid"].iloc[0]) and not s["fingerprint_ok"].iloc[0]


def test_a_prompt_and_crlf_around_a_pasted_table(tmp_path):
    text = (DATA / "after.aligned.txt").read_text()
    p = tmp_path / "pasted.txt"
    p.write_bytes(("shop=# select * from pg_stat_statements;\n" + text + "\nshop=# \\q\n").replace("\n", "\r\n")
                  .encode())
    d, _ = _load(p)
    assert d.form == "aligned"
    pd.testing.assert_series_equal(d.statements["total_exec_time"], load("after").statements["total_exec_time"])


@pytest.mark.parametrize("form", ["csv", "aligned", "expanded", "unaligned", "json"])
def test_cut_short_dump_loads_what_is_whole_and_warns(form, tmp_path):
    src = DATA / f"after.{ {'csv': 'csv', 'json': 'json'}.get(form, form + '.txt') }"
    data = src.read_bytes()
    p = tmp_path / src.name
    p.write_bytes(data[: int(len(data) * 0.6)])
    d, warns = _load(p)
    n = len(d.statements)
    assert 0 < n < len(load("after").statements)
    if form in ("csv", "json", "unaligned"):
        assert warns, "a cut-short file must be warned about"
    whole = d.statements.iloc[: n - 1]
    ref = load("after").statements.iloc[: n - 1]
    assert (whole["calls"].to_numpy() == ref["calls"].to_numpy()).all()


def test_not_pgss_names_the_columns_found(tmp_path):
    p = tmp_path / "other.csv"
    p.write_text("pid,usename,state,query_start,calls_total\n1,app,active,now,3\n")
    with pytest.raises(ArtifactError, match=r"columns found: pid, usename, state, query_start, calls_total"):
        load_pgss(p)


def test_pre_1_9_view_on_a_track_all_server_has_repeated_keys(tmp_path):
    """A 1.8 view on PG14+ with track=all: top-level and nested entries without the toplevel column."""
    from forensics.postgres.analysis import delta

    p = tmp_path / "v18.csv"
    p.write_text("userid,dbid,queryid,query,plans,total_plan_time,min_plan_time,max_plan_time,mean_plan_time,"
                 "stddev_plan_time,calls,total_exec_time,min_exec_time,max_exec_time,mean_exec_time,stddev_exec_time,"
                 "rows,shared_blks_hit,shared_blks_read,shared_blks_dirtied,shared_blks_written,local_blks_hit,"
                 "local_blks_read,local_blks_dirtied,local_blks_written,temp_blks_read,temp_blks_written,"
                 "blk_read_time,blk_write_time,wal_records,wal_fpi,wal_bytes\n"
                 "10,5,7,SELECT 1,2,0.2,0.1,0.1,0.1,0,2,4,1,3,2,1,2,5,0,0,0,0,0,0,0,0,0,0,0,0,0,0\n"
                 "10,5,7,SELECT 1,1,0.1,0.1,0.1,0.1,0,1,5,5,5,5,0,1,2,0,0,0,0,0,0,0,0,0,0,0,0,0,0\n")
    d, warns = _load(p)
    assert d.version.version == "1.8" and any("repeat the key" in w for w in warns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        merged = delta(d.statements.iloc[:0], d)  # everything new: the merged entry, whole
    assert len(merged) == 1
    r = merged.iloc[0]
    assert r["calls"] == 3 and r["total_exec_time"] == 9 and r["min_exec_time"] == 1 and r["max_exec_time"] == 5
    assert r["mean_exec_time"] == pytest.approx(3.0)
    assert r["stddev_exec_time"] == pytest.approx(pd.Series([1.0, 3.0, 5.0]).std(ddof=0))


def test_null_spellings(tmp_path):
    r"""`\pset null '(null)'`, COPY's `\N`: missing, not an error."""
    p = tmp_path / "nulls.csv"
    p.write_text("userid,dbid,toplevel,queryid,query,calls,total_exec_time,total_plan_time\n"
                 "10,5,t,(null),(null),3,\\N,NULL\n")
    d, warns = _load(p)
    r = d.statements.iloc[0]
    assert pd.isna(r["queryid"]) and pd.isna(r["total_exec_time"]) and pd.isna(r["total_plan_time"])
    assert r["query"] == "(null)" and not warns  # a text is kept as written
