"""Trace exports per hour → one TraceSet; a folder of pgss snapshots → the interval series."""
from __future__ import annotations

import copy
import json
import shutil
import warnings

import pandas as pd
import pytest

import forensics
from forensics.postgres.analysis import delta
from forensics.postgres.load import load_pgss
from support import SAMPLE

TREE = ["trace_id", "span_id", "parent_span_id", "depth", "is_root", "orphan", "service", "operation", "start_us"]


def _tree(spans):
    return spans[TREE].sort_values(["trace_id", "span_id"]).reset_index(drop=True)


def test_overlapping_hourly_jaeger_exports_give_the_whole_export_once(tmp_path):
    src = SAMPLE / "traces" / "checkout.jaeger.json"
    doc = json.loads(src.read_text())
    # Jaeger's API returns whole traces: a trace crossing the hour is in both exports
    (tmp_path / "10h.json").write_text(json.dumps({"data": doc["data"][:13]}))
    (tmp_path / "11h.json").write_text(json.dumps({"data": doc["data"][12:]}))
    whole = forensics.load(src)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        s = forensics.load(tmp_path)
    pd.testing.assert_frame_equal(_tree(s.spans), _tree(whole.spans))
    assert len(s.tags) == len(whole.tags) and s.tags["span"].max() < len(s.spans)
    n = len(doc["data"][12]["spans"])
    assert s.members["duplicates_dropped"].tolist() == [0, n]
    assert any(f"{n} span(s) were in more than one file" in w for w in s.provenance.warnings)


def test_a_trace_cut_by_a_rotating_exporter_is_joined_across_files(tmp_path):
    src = SAMPLE / "traces" / "checkout.otlp.json"
    doc = json.loads(src.read_text())
    a, b = copy.deepcopy(doc), copy.deepcopy(doc)
    for ra, rb in zip(a["resourceSpans"], b["resourceSpans"]):
        for sa, sb in zip(ra["scopeSpans"], rb["scopeSpans"]):
            half = len(sa["spans"]) // 2
            sa["spans"], sb["spans"] = sa["spans"][:half], sb["spans"][half:]
    (tmp_path / "a.json").write_text(json.dumps(a))
    (tmp_path / "b.json").write_text(json.dumps(b))
    alone = forensics.load(tmp_path / "b.json")
    assert alone.spans["orphan"].any()           # each file alone: parents missing
    s = forensics.load(tmp_path)
    whole = forensics.load(src)
    pd.testing.assert_frame_equal(_tree(s.spans), _tree(whole.spans))
    assert s.provenance.details["parents_in_another_file"] > 0 and len(s.orphans) == len(whole.orphans)


def test_a_folder_of_pgss_snapshots_is_the_interval_series(tmp_path):
    pg = SAMPLE / "postgres"
    shutil.copy(pg / "before.csv", tmp_path / "pgss-9.csv")
    shutil.copy(pg / "after.csv", tmp_path / "pgss-10.csv")           # natural order: 9 before 10
    shutil.copy(pg / "after.info.csv", tmp_path / "pgss-10.info.csv")  # not a snapshot: listed as skipped
    s = forensics.load(tmp_path)
    assert s.members["file"].tolist() == ["pgss-9.csv", "pgss-10.csv"]
    pd.testing.assert_frame_equal(s.interval(0).reset_index(drop=True),
                                  delta(load_pgss(pg / "before.csv"), load_pgss(pg / "after.csv")))
    assert s.provenance.details["skipped"][0]["path"].endswith("pgss-10.info.csv")
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        back = forensics.load([tmp_path / "pgss-10.csv", tmp_path / "pgss-9.csv"])
    assert any("total calls fell" in w and "order given" in w for w in back.provenance.warnings)
