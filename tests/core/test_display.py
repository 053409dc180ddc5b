"""Readable tables: units in headers, humanised values, one missing mark, middle truncation, no maths."""
import numpy as np
import pandas as pd

from forensics.display import (MISSING, duration, html_table, notebook_tables, number, readable, readable_frame,
                               size, text_table, truncate_middle)


def test_values_are_humanised_without_exponents():
    assert number(1234567.0) == "1,234,567" and number(0.000123) == "0.000123" and "e" not in number(3.2e-9)
    assert duration(2_500, "us") == "2.50 ms" and duration(90, "s") == "1.50 min" and duration(0.0005) == "500 µs"
    assert size(3_400_000) == "3.40 MB" and size(12) == "12 B"
    assert duration(pd.Timedelta(seconds=3)) == "3.00 s"


def test_missing_is_shown_one_way():
    df = pd.DataFrame({"a": [None, "x"], "b": [np.nan, 1.5], "t": [pd.NaT, pd.Timestamp("2026-01-01", tz="UTC")],
                       "n": pd.array([pd.NA, 3], dtype="Int64"), "s": ["", "nan"]})
    text = readable_frame(df)
    assert set(text.iloc[0]) == {MISSING}
    assert text.iloc[1]["s"] == MISSING and "nan" not in text_table(df).lower().replace("—", "")


def test_one_unit_per_column_named_in_the_header():
    df = pd.DataFrame({"duration_us": [1_200.0, 35_000.0, 900.0], "total_exec_time": [1.0, 2.0, 3.0],
                       "retained_bytes": [5e6, 7e6, 1e6], "start_us": [1.7e15, 1.7e15 + 1, 1.7e15 + 2]})
    out = readable_frame(df)
    assert list(out.columns) == ["duration (ms)", "total_exec_time (ms)", "retained_bytes (MB)", "start (UTC)"]
    assert out["duration (ms)"].tolist() == ["1.20", "35.00", "0.90"]
    assert out["start (UTC)"].iloc[0].startswith("2023-11-14 22:13:20")


def test_ports_and_ids_have_no_separators():
    out = readable_frame(pd.DataFrame({"server_port": [5432], "queryid": [-3597193847742678470], "calls": [18000]}))
    assert out.iloc[0].tolist() == ["5432", "-3597193847742678470", "18,000"]


def test_middle_truncation_keeps_both_ends_and_html_has_the_full_text_on_hover():
    path = "/evidence/2026-11-26/host-a/captures/db-link.pcapng"
    cut = truncate_middle(path, 20)
    assert len(cut) == 20 and cut.startswith("/evidence") and cut.endswith(".pcapng")
    page = html_table(pd.DataFrame({"file": [path]}), max_colwidth=20)
    assert f'title="{path}"' in page and cut in page


def test_html_escapes_and_never_typesets_dollars():
    page = html_table(pd.DataFrame({"query": ["SELECT $1 <b>", "p $_siginfo"]}))
    assert "$" not in page and "&#36;1 &lt;b&gt;" in page and "mathjax_ignore" in page and "tex2jax_ignore" in page


def test_long_tables_say_how_many_rows_are_left_out():
    page = html_table(pd.DataFrame({"x": range(1441)}), max_rows=20)
    assert page.count("<tr>") == 21 and "1,421 more rows not shown (1,441 in all)" in page
    assert "1,421 more rows" in repr(readable(pd.DataFrame({"x": range(1441)}), max_rows=20))


def test_wide_text_tables_fit_the_terminal():
    df = pd.DataFrame({"name": ["a" * 30], **{f"count_{i}": [10**6 + i] for i in range(12)},
                       "path": ["/very/long/" + "x" * 200 + "/file.txt"]})
    out = text_table(df, width=100)
    assert max(len(line) for line in out.splitlines()) <= 100
    assert "1,000,011" in out and out.count("\n\n") >= 1  # numbers whole; columns in blocks
    assert "/file.txt" in out and "e+06" not in out


def test_notebook_tables_is_harmless_outside_ipython():
    notebook_tables()
    assert pd.get_option("display.html.use_mathjax") is False
