"""Parquet export round trip (every table of every artifact, equal) and DuckDB queries over it."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import pandas as pd
import pytest

import forensics
from forensics.columnar import export, file_info, read_frame, tables
from forensics.columnar.parquet import safe_name
from forensics.columnar.artifact_tables import incident_tables, tables_of
from support import SAMPLE, run_cli

INCIDENTS = sorted(p for p in (SAMPLE / "incidents").iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    summary = export(INCIDENTS, out)
    return out, summary


def test_every_table_of_every_incident_artifact_reads_back_equal(exported):
    out, summary = exported
    assert summary["error"].isna().all(), summary[summary["error"].notna()]
    checked = set()
    for folder in INCIDENTS:
        inc = forensics.open_incident(folder, progress_bar=False)
        for a in inc.artifacts:
            if a.result is None:
                continue
            art = safe_name(f"{folder.name}__{a.file}")
            for name, df in tables_of(a.result).items():
                back = read_frame(out, name, art)
                pd.testing.assert_frame_equal(df, back)
                assert back.attrs["provenance"]["sha256"] == a.provenance.sha256
                checked.add(name)
        for name, df in incident_tables(inc).items():
            pd.testing.assert_frame_equal(df, read_frame(out, name, safe_name(f"{folder.name}__incident")))
            checked.add(name)
    # the kinds of frames the issue names: packets, flows, flags, spans, statements, frames, heap rows, timeline, links
    assert {"packets", "flows", "flags", "spans", "statements", "frames", "timeline", "links"} <= checked
    assert checked & {"classes", "raw"}, checked


def test_provenance_is_in_the_parquet_metadata(exported):
    out, _ = exported
    f = next((out / "packets").rglob("*.parquet"))
    info = file_info(str(f))
    prov = info["provenance"]
    assert len(prov["sha256"]) == 64 and prov["kind"] in ("pcap", "pcapng") and info["table"] == "packets"
    assert os.path.isfile(info["source"])


def test_duckdb_query_over_the_export_agrees_with_pandas(exported):
    out, _ = exported
    assert {"packets", "spans", "statements", "timeline", "links", "artifacts"} <= set(tables(out))
    got = forensics.query(out, "SELECT artifact, count(*) AS n, sum(CAST(retransmission AS INT)) AS r "
                               "FROM packets GROUP BY artifact ORDER BY artifact")
    for row in got.itertuples():
        folder, file = row.artifact.split("__", 1)
        cap = forensics.load(SAMPLE / "incidents" / folder / file)
        assert row.n == len(cap.packets) and row.r == cap.packets["retransmission"].sum()
    slow = forensics.query(out, "SELECT service, count(*) AS spans FROM spans WHERE duration_us > 100000 "
                                "GROUP BY 1 ORDER BY 2 DESC")
    assert len(slow) and slow["spans"].sum() > 0


def test_query_cli_json(exported):
    out, _ = exported
    r = run_cli("query", out, "SELECT count(*) AS n FROM artifacts", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)[0]["n"] >= 8
    bad = run_cli("query", out, "SELECT nope FROM packets")
    assert bad.returncode == 2 and "query failed" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.skipif(shutil.which("editcap") is None, reason="editcap (Wireshark's) not installed")
def test_a_capture_set_over_two_days_is_partitioned_by_day_and_reads_back_equal(tmp_path):
    src = SAMPLE / "network" / "short_rst.pcap"
    folder = tmp_path / "two_days"
    folder.mkdir()
    subprocess.run(["editcap", "-r", str(src), str(folder / "a.pcapng"), "1-100"], check=True, capture_output=True)
    subprocess.run(["editcap", "-r", "-t", "86400", str(src), str(folder / "b.pcapng"), "101-205"], check=True,
                   capture_output=True)
    r = run_cli("export", folder, "-o", tmp_path / "out", "--workers", "2", "--format", "json")
    assert r.returncode == 0, r.stderr
    rows = {d["table"]: d for d in json.loads(r.stdout)}
    assert rows["packets"]["days"] == 2 and rows["packets"]["rows"] == 205
    days = sorted(p.name for p in (tmp_path / "out" / "packets" / "artifact=two_days").iterdir())
    assert len(days) == 2 and all(d.startswith("day=20") for d in days)
    s = forensics.load(folder)
    pd.testing.assert_frame_equal(s.packets, read_frame(tmp_path / "out", "packets", "two_days"))
    pd.testing.assert_frame_equal(s.members, read_frame(tmp_path / "out", "members", "two_days"))
    per_day = forensics.query(tmp_path / "out", "SELECT day, count(*) AS n FROM packets GROUP BY day ORDER BY day")
    assert per_day["n"].tolist() == [100, 105]


def test_set_members_and_bad_paths_from_the_command_line(tmp_path, capsys):
    from forensics.cli import main

    assert main(["set", "members", str(SAMPLE / "postgres" / "before.csv"), str(SAMPLE / "postgres" / "after.csv"),
                 "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["file"] for r in rows] == ["before.csv", "after.csv"] and all(len(r["sha256"]) == 64 for r in rows)
    assert main(["export", str(tmp_path / "nope"), "-o", str(tmp_path / "out")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
