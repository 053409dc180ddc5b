"""forensics incident timeline|links|load, as a user runs them."""
import csv
import io
import json

from support import SAMPLE, run_cli

FOLDER = SAMPLE / "incidents" / "checkout-latency"


def test_timeline_csv():
    r = run_cli("incident", "timeline", FOLDER, "--format", "csv")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert list(rows[0]) == ["time", "artifact", "artifact_kind", "kind", "service", "host", "severity", "detail",
                             "crash_class", "ref", "time_source"]
    assert all(row["time"].endswith("Z") and "T" in row["time"] for row in rows)
    kinds = {row["artifact_kind"] for row in rows}
    assert {"network", "traces", "postgres", "crashes"} <= kinds
    crash = [row for row in rows if row["kind"] == "crash"]
    assert crash and crash[0]["crash_class"] == "null-deref-read" and crash[0]["artifact"] == "worker-crash.gdb.txt"


def test_timeline_json_filters():
    r = run_cli("incident", "timeline", FOLDER, "--format", "json", "--kind", "query-finding", "--min-severity", "error")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert rows and all(x["kind"] == "query-finding" and x["severity"] == "error" for x in rows)


def test_links_json():
    r = run_cli("incident", "links", SAMPLE / "incidents" / "catalog-leak", "--format", "json")
    assert r.returncode == 0, r.stderr
    links = json.loads(r.stdout)
    assert links
    for l in links:
        assert {"a", "b", "reason", "confidence"} <= set(l)
        assert {"artifact_kind", "ref"} <= set(l["a"]) and {"artifact_kind", "ref"} <= set(l["b"])
    kinds = {l["a"]["artifact_kind"] for l in links} | {l["b"]["artifact_kind"] for l in links}
    assert {"network", "traces", "memory", "crashes"} <= kinds


def test_load_report_and_strict():
    r = run_cli("incident", "load", FOLDER, "--format", "json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert {x["file"] for x in rows} >= {"db-link.pcap", "traces.json", "worker-crash.gdb.txt"}
    assert all(len(x["sha256"]) == 64 for x in rows)


def test_not_a_folder_exits_2(tmp_path):
    r = run_cli("incident", "timeline", tmp_path / "missing")
    assert r.returncode == 2 and "not a folder" in r.stderr
