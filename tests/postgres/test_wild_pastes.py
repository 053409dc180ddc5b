"""pg_stat_statements as people paste it (issue 18): wild pastes, the issue's three cases, hypothesis.

The corpus in tests/postgres/wild/pgss/ is quoted from public threads (SOURCES.md, MANIFEST.tsv) and is not
committed: tests that read a paste skip when it is absent. expected.json (ours, committed) holds what a
reader of each thread sees.
"""
import json
import math
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensics.errors import ArtifactError
from forensics.postgres.load import load_pgss
from pg_wild import needs_all, present, wild

EXPECTED = json.loads((Path(__file__).parent / "wild" / "pgss" / "expected.json").read_text())


def _paste(name):
    return wild("pgss", name)


def _load(path):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        d = load_pgss(path)
    return d, [str(x.message) for x in w]


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_wild_paste_reads_as_its_reader_sees_it(name):
    want = EXPECTED[name]
    d, warns = _load(_paste(name))
    s = d.statements
    assert len(s) == want["rows"]
    assert list(s["calls"]) == want["calls"]
    for col in ("total_exec_time", "mean_exec_time", "prop_exec_time", "sync_io_time"):
        if col in want:
            assert s[col].tolist() == pytest.approx(want[col], abs=1e-6), col
    if "query_starts" in want:
        assert s["query"].iloc[0].startswith(want["query_starts"])
    for w in want["warns"]:
        assert any(w in m for m in warns), (w, warns)


def test_every_conversion_is_recorded():
    d, _ = _load(_paste("heroku-pg-extras-216.calls.txt"))
    conv = d.provenance.details["conversions"]
    assert "interval → ms" in conv["total_exec_time"] and "thousands separators" in conv["ncalls"]
    assert d.version.version == "unknown"  # pg-extras prints total_exec_time on every server version


def test_case1_row_one_char_wider_than_header_is_split_on_separators_and_warned(tmp_path):
    """Issue case 1: the wild cf-release paste with its header and rule hand-trimmed by one character."""
    lines = (_paste("cf-release-816.aligned.txt")).read_text().splitlines()
    p = _write(tmp_path, "trimmed.txt", "\n".join([lines[0][1:], lines[1][1:], *lines[2:]]) + "\n")
    d, warns = _load(p)
    s = d.statements
    assert list(s["calls"]) == [3228, 2319, 1709, 322]
    assert s["total_exec_time"].tolist() == [100.756, 64.266, 52.066, 39.481]
    shifted = [w for w in warns if "separators at other columns" in w]
    assert shifted and "line 3" in shifted[0] and "calls = '322', not '3228'" in shifted[0]


def test_case1_a_cut_cell_breaks_the_row_cross_check(tmp_path):
    """A value really cut short (3228 → 322) is caught by mean ≠ total/calls, with its line."""
    text = (_paste("cf-release-816.aligned.txt")).read_text().replace("|  3228 |    100.756 |", "|   322 |    100.756 |")
    d, warns = _load(_write(tmp_path, "cut.txt", text))
    assert d.statements["calls"].iloc[0] == 322  # kept as printed, never "repaired"
    assert any("line 3" in w and "mean_exec_time '0.031' is not total_exec_time / calls" in w for w in warns)


def test_case1_fewer_decimals_than_the_column_is_a_cut(tmp_path):
    body = "\n".join(f" {i:5d} | {i * 1.125:9.3f} | SELECT {i}" for i in range(1, 8))
    text = " calls | total_time | query\n-------+------------+---------\n" + body + "\n(7 rows)\n"
    text = text.replace("    7.875 |", "     7.87 |")
    d, warns = _load(_write(tmp_path, "dec.txt", text))
    assert any("line 9" in w and "total_exec_time '7.87' has 2 decimals" in w for w in warns)


def test_case2_pg_extras_shapes_are_read():
    d, _ = _load(_paste("heroku-cli-2051.unicode.txt"))
    q = d.statements["query"].iloc[0]
    assert "||" in q and q.count("\n") == 2 and "↵" not in q


def test_case3_header_not_over_its_dashes_gives_real_names():
    d, warns = _load(_paste("heroku-cli-mock.misaligned.txt"))
    assert d.statements["query"].iloc[0] == "SELECT * FROM large_table WHERE complex_condition"
    assert any("not over the rule's junctions" in w for w in warns)


def test_partial_projection_says_what_it_lacks():
    d, _ = _load(_paste("cf-release-816.aligned.txt"))
    missing = d.provenance.details["columns_missing"]
    assert "shared_blks_hit" in missing and "queryid" in missing and "calls" not in missing
    assert d.statements["shared_blks_hit"].isna().all()  # missing, never 0


_CORPUS = present("pgss", ".txt")


@needs_all("pgss", ".txt")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pick=st.integers(0, max(len(_CORPUS) - 1, 0)), cut=st.floats(0, 1), drop=st.integers(0, 3), data=st.data())
def test_mutated_wild_pastes_load_or_refuse_never_change_a_number_silently(tmp_path, pick, cut, drop, data):
    """Cut a wild paste anywhere and trim leading characters off some lines: the loader either refuses
    with ArtifactError or every calls value it reads is a number printed in the paste."""
    text = _CORPUS[pick].read_text()
    lines = text[: max(1, int(len(text) * cut))].splitlines()
    for _ in range(drop):
        if lines:
            k = data.draw(st.integers(0, len(lines) - 1))
            lines[k] = lines[k][1:]
    mutated = "\n".join(lines) + "\n"
    p = _write(tmp_path, "m.txt", mutated)
    try:
        d, warns = _load(p)
    except ArtifactError:
        return
    printed = set()
    for tok in mutated.replace("|", " ").replace("│", " ").split():
        printed.add(tok.replace(",", ""))
    for v in d.statements["calls"].dropna():
        assert str(int(v)) in printed
    for v in d.statements["total_exec_time"].dropna():
        assert math.isfinite(v)


def test_partial_projection_ranks_by_what_it_has_cli():
    import subprocess
    import sys

    p = _paste("python-pgextras.outliers.txt")
    r = subprocess.run([sys.executable, "-m", "forensics", "pgss", "rank", str(p), "--by", "hit_ratio"],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "cannot rank by hit_ratio: no shared_blks_hit, shared_blks_read" in r.stderr
    assert "this dump ranks by total_exec_time" in r.stderr
    ok = subprocess.run([sys.executable, "-m", "forensics", "pgss", "rank", str(p), "--format", "json"],
                        capture_output=True, text=True)
    rows = json.loads(ok.stdout)
    assert rows[0]["calls"] == 467897 and rows[0]["share"] == pytest.approx(0.839, abs=0.001)


def test_markdown_table_with_escaped_pipes():
    """Supabase's inspect commands build a markdown table (|-|-|, backticks, \\| escapes). Hand-written in
    that documented shape (supabase/cli internal/inspect/outliers/outliers.go) — no real paste found."""
    d, warns = _load(Path(__file__).parent / "fixtures" / "markdown-inspect.txt")
    s = d.statements
    assert s["query"].tolist() == ["SELECT * FROM users WHERE id = $1", "SELECT a || b FROM t"]
    assert s["calls"].tolist() == [1200, 800] and s["total_exec_time"].tolist() == [1500.0, 1000.0]
    assert not any("separators at other columns" in w for w in warns)


def test_a_pipe_inside_a_text_and_wide_characters_in_real_psql_output():
    """Real psql aligned output of a statement holding ' | ' (bitwise or) and CJK text: display width tells
    that '|' from the separators; every number equals the CSV export of the same server."""
    why = Path(__file__).parents[2] / "sample_data" / "postgres" / "why"
    a = _load(why / "pgss.csv")[0].statements
    d, warns = _load(why / "pgss.aligned.txt")
    assert not warns
    key = ["userid", "dbid", "toplevel", "queryid"]
    m = a.merge(d.statements, on=key, suffixes=("_csv", "_txt"))
    m = m[~m["query_csv"].str.contains("pg_stat_statements")]  # the dump's own query ran between the two
    assert len(m) >= 25
    for c in ("calls", "total_exec_time", "rows", "shared_blks_hit", "mean_exec_time"):
        assert (m[f"{c}_csv"] == m[f"{c}_txt"]).all(), c
    q = m.loc[m["query_csv"].str.contains("集計"), "query_txt"].iloc[0]
    assert "(v | $1) > $2 AND id | $3 < $4" in q
