"""The third staged incident (invoice-export), handed over as a user would: time from content, id links, bursts.

Made by sample_data/generate/incidents/invoice_export.py; answers.toml [staging] holds what the stage
script measured (the second gdb printed the signal, the trace ids the exporter logged), nothing the
workbench reads.
"""
import os
import re
import shutil
import time
import tomllib
import warnings

import pandas as pd
import pytest
from support import SAMPLE

import forensics

NAME = "invoice-export"
FOLDER = SAMPLE / "incidents" / NAME
STAGED = tomllib.loads((FOLDER / "answers.toml").read_text())["staging"]
MISSING = re.compile(r"(?<![\w.])(?:nan|None|NaN|NaT)(?![\w.])")


@pytest.fixture(scope="module")
def inc(incidents):
    return incidents[NAME]


def test_the_crash_is_placed_by_its_log_at_the_right_second(inc):
    crash = inc.timeline[inc.timeline["kind"] == "crash"]
    assert len(crash) == 1
    c = crash.iloc[0]
    assert "time" not in next(a for a in inc.manifest["artifacts"] if a["file"] == "exporter-crash.gdb.txt")
    assert c["time"].floor("s") == pd.Timestamp(STAGED["crash"]).floor("s")
    assert c["time_source"].startswith("transcript: log line before the stop") and "mtime" not in c["time_source"]
    assert c["crash_class"] == "divide-by-zero" and c["service"] == "invoice-exporter"
    start, end = inc.window
    assert start <= c["time"] <= end
    assert not [n for n in inc.notes if "window" in n]  # nothing falls outside the window


def _id_links(inc):
    return [l for l in inc.links if l["type"] == "trace-id"]


def _trace_of(inc, span_id):
    spans = inc.artifact("traces.json").result.spans
    return spans.loc[spans["span_id"] == span_id, "trace_id"].iloc[0]


def test_the_crashing_job_is_linked_to_its_trace_by_the_logged_id(inc):
    crash = [l for l in _id_links(inc) if l["a"]["artifact"] == "exporter-crash.gdb.txt" and l["b"]["artifact_kind"] == "traces"]
    assert crash, "no id link from the crash transcript to the traces"
    first = crash[0]
    assert first["confidence"] >= 0.9 and "before it stopped" in first["reason"]
    assert _trace_of(inc, first["b"]["ref"]) == STAGED["crash_trace_id"]
    assert first["a"]["ref"] == "exporter-crash.gdb.txt"  # the same ref as the crash on the timeline
    assert "line" in first["reason"] and STAGED["crash_trace_id"][:12] in first["reason"]


def test_the_sql_comment_links_a_statement_to_its_trace(inc):
    stmts = inc.artifact("pgss-after.csv").result.statements
    totals = stmts[stmts["query"].str.contains("sum(amount_cents)", regex=False)]
    qid = str(totals["queryid"].iloc[0])
    links = [l for l in _id_links(inc) if l["a"]["artifact_kind"] == "postgres" and l["a"]["ref"] == qid]
    assert links and links[0]["b"]["artifact_kind"] == "traces"
    assert _trace_of(inc, links[0]["b"]["ref"]) == STAGED["line_totals_trace_id"]
    assert "traceparent" in links[0]["reason"]


def test_http_headers_in_the_capture_link_to_traces(inc):
    cap = [l for l in _id_links(inc) if l["a"]["artifact"] == "export-link.pcap"]
    assert cap and all(l["a"]["ref"].startswith("stream ") for l in cap)
    assert all("frame" in l["reason"] for l in cap)


def test_two_artifacts_naming_one_trace_are_linked_without_the_trace_export(tmp_path):
    d = tmp_path / NAME
    shutil.copytree(FOLDER, d)
    (d / "traces.json").unlink()
    text = (d / "incident.toml").read_text()
    (d / "incident.toml").write_text(re.sub(r'\[\[artifacts\]\]\nfile = "traces.json"\n(?:[^\[\n][^\n]*\n)*', "", text))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inc = forensics.open_incident(d)
        links = [l for l in inc.links if l["type"] == "trace-id"]
    both = [l for l in links if {l["a"]["artifact_kind"], l["b"]["artifact_kind"]} >= {"crashes"}
            or {l["a"]["artifact_kind"], l["b"]["artifact_kind"]} == {"postgres", "network"}]
    assert both and all("both name trace" in l["reason"] for l in both)
    assert any(STAGED["line_totals_trace_id"][:12] in l["reason"] for l in links)


def test_id_links_rank_above_time_window_links(inc):
    bases = [l["basis"] for l in inc.links]
    assert bases[0] == "identifier"
    last_id = max(i for i, b in enumerate(bases) if b == "identifier")
    first_window = min(i for i, b in enumerate(bases) if b == "time-window")
    assert last_id < first_window
    assert any(l["type"] == "crash-preceding" for l in inc.links)  # kept, ranked below


def test_refused_connections_are_one_burst_with_their_states(inc):
    tl = inc.timeline
    resets = tl[(tl["kind"] == "reset") & (tl["artifact"] == "front-link.pcap")]
    assert len(resets) <= 2, resets["detail"].tolist()
    burst = resets.loc[resets["source_rows"].map(len).idxmax()]
    n = int(re.search(r"([\d,]+) (?:connection\(s\) refused|reset\(s\))", burst["detail"]).group(1).replace(",", ""))
    assert n >= 50 and "REJ" in burst["detail"] and burst["severity"] == "error"
    assert burst["service"] == "billing" and "storefront (10.77.4.10)" in burst["detail"]
    deploy = pd.Timestamp(inc.manifest["events"]["deploy_started"])
    v2 = pd.Timestamp(inc.manifest["events"]["billing_v2_up"])
    assert deploy - pd.Timedelta(seconds=1) <= burst["time"] and burst["end"] <= v2 + pd.Timedelta(seconds=1)
    assert burst["end"] > burst["time"] and burst["ref"].startswith("streams ")
    # the storefront's failed calls during the burst are linked to it
    assert any(l["type"] == "reset-error" and "refused" in l["reason"].lower() for l in inc.links)


def test_the_migration_is_a_finding_of_the_interval(inc):
    tl = inc.timeline
    ddl = tl[(tl["kind"] == "query-finding") & tl["detail"].str.contains("ALTER TABLE invoices")]
    assert len(ddl) == 1 and ddl.iloc[0]["severity"] == "error"
    assert ddl.iloc[0]["time_source"].startswith("interval pgss-before.csv")


@pytest.mark.parametrize("name", ["checkout-latency", "catalog-leak", NAME])
def test_no_nan_or_none_in_any_text(incidents, name):
    i = incidents[name]
    bad = [d for d in i.timeline["detail"] if MISSING.search(d)]
    bad += [l["reason"] for l in i.links if MISSING.search(l["reason"])]
    bad += [str(t) for t in i.timeline["time_source"] if MISSING.search(str(t))]
    assert not bad, bad[:3]


def test_without_a_clock_in_the_text_the_mtime_is_flagged_and_warned(tmp_path):
    d = tmp_path / NAME
    shutil.copytree(FOLDER, d)
    gdb = d / "exporter-crash.gdb.txt"
    lines = [l for l in gdb.read_text().splitlines(keepends=True) if "invoice-exporter INFO" not in l]
    gdb.write_text("".join(lines))
    later = time.time() + 5 * 86400  # copied five days later, as evidence often is
    os.utime(gdb, (later, later))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        i = forensics.open_incident(d)
        c = i.timeline[i.timeline["kind"] == "crash"].iloc[0]
    assert c["time_source"].startswith("file mtime (unreliable")
    assert any("exporter-crash.gdb.txt" in n and "after the incident window" in n and "days" in n for n in i.notes)


def test_a_lone_heap_snapshot_is_not_growth(tmp_path):
    d = tmp_path / "one-histogram"
    d.mkdir()
    shutil.copyfile(SAMPLE / "memory" / "jcmd_histo_t0.txt", d / "histo.txt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tl = forensics.open_incident(d).timeline
    assert "heap-growth" not in set(tl["kind"])
    row = tl[tl["kind"] == "heap-snapshot"].iloc[0]
    assert row["severity"] == "info" and "nothing about growth" in row["detail"]


def test_two_histograms_grow_as_heap_diff_says(tmp_path):
    from forensics.memory.diff import heap_diff

    d = tmp_path / "two-histograms"
    d.mkdir()
    for i in (0, 1):
        shutil.copyfile(SAMPLE / "memory" / f"jcmd_histo_t{i}.txt", d / f"h{i}.txt")
    (d / "incident.toml").write_text('[[artifacts]]\nfile = "h0.txt"\ntime = "2026-01-01T00:00:00Z"\n'
                                     '[[artifacts]]\nfile = "h1.txt"\ntime = "2026-01-01T00:01:00Z"\n')
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tl = forensics.open_incident(d).timeline
    grew = tl[tl["kind"] == "heap-growth"]
    top = heap_diff([d / "h0.txt", d / "h1.txt"]).table.iloc[0]
    assert set(grew["artifact"]) == {"h1.txt"} and grew.iloc[0]["ref"] == top["name"]
    assert f"{top['count_delta']:+,} objects" in grew.iloc[0]["detail"]
    assert (tl.loc[tl["artifact"] == "h0.txt", "kind"] == "heap-snapshot").all()


def test_handed_over_without_a_manifest(tmp_path):
    """Only the files and an on-call note: the crash still gets its second, the ids their links."""
    d = tmp_path / "handed-over"
    shutil.copytree(FOLDER, d)
    (d / "incident.toml").unlink()
    (d / "answers.toml").unlink()
    (d / "on-call.txt").write_text("exporter died right after the billing deploy, no idea why\n")
    later = time.time() + 2 * 86400  # the dumps were copied off the database host two days later
    for f in ("pgss-before.csv", "pgss-after.csv"):
        os.utime(d / f, (later, later))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        i = forensics.open_incident(d)
        tl, links = i.timeline, i.links
    assert i.load_report.set_index("file").loc["on-call.txt", "status"] == "skipped"
    c = tl[tl["kind"] == "crash"].iloc[0]
    assert c["time"].floor("s") == pd.Timestamp(STAGED["crash"]).floor("s") and c["service"] == "exporter"
    assert any(l["type"] == "trace-id" and l["a"]["artifact"] == "exporter-crash.gdb.txt" for l in links)
    assert tl[tl["kind"] == "reset"]["service"].eq("billing").any()  # named from the trace tags
    # the dumps have no clock but their mtime: flagged, and noted as far from everything that has one
    q = tl[tl["kind"] == "query-finding"].iloc[0]
    assert "file mtime (unreliable" in q["time_source"] and q["service"] == "postgres"
    assert any("pgss-after.csv" in n and "own clocks" in n for n in i.notes)
    start, end = i.window  # from the clocks the evidence carries, not stretched to the dumps' mtime
    assert start <= c["time"] <= end < q["time"]


def test_ids_in_gdb_locals_and_log_lines_are_both_found(inc):
    from forensics.incident.identifiers import mentions

    m = mentions(inc)
    crash = m[(m["artifact"] == "exporter-crash.gdb.txt") & (m["trace_id"] == STAGED["crash_trace_id"])]
    lines = set(crash["location"])
    assert any('trace_id = "' in e for e in crash["excerpt"])            # bt full: the job struct's locals
    assert any(e.startswith("20") and "INFO trace_id=" in e for e in crash["excerpt"])  # its log line
    assert crash["key"].sum() == 1 and len(lines) >= 2
    # the merged log line carries both ids of the request: trace and the exporter's own span
    assert (crash["span_id"] == STAGED["crash_span_id"]).any()
