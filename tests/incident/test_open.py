"""open_incident: every artifact loaded with provenance; one bad artifact never stops the others."""
import os
import shutil
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import SAMPLE

import forensics
from forensics.incident.model import family_of

INCIDENTS = ["checkout-latency", "catalog-leak", "invoice-export"]


@pytest.mark.parametrize("name", INCIDENTS)
def test_every_artifact_loads_with_provenance(incidents, name):
    inc = incidents[name]
    rep = inc.load_report
    assert set(rep["status"]) <= {"loaded", "warnings"}, rep[["file", "status", "error"]]
    manifest_files = {a["file"] for a in inc.manifest["artifacts"]}
    assert set(rep["file"]) == manifest_files
    for a in inc.artifacts:
        assert a.provenance.size == os.path.getsize(a.path) and len(a.provenance.sha256) == 64
        assert a.provenance.parser and a.provenance.parser_version
        declared = next(m["kind"] for m in inc.manifest["artifacts"] if m["file"] == a.file)
        assert family_of(declared) == a.artifact_kind


def _copy(name, tmp_path, manifest=True):
    dst = tmp_path / name
    shutil.copytree(SAMPLE / "incidents" / name, dst)
    if not manifest:
        (dst / "incident.toml").unlink()
    return dst


def test_bad_artifacts_are_reported_not_fatal(tmp_path):
    d = _copy("catalog-leak", tmp_path)
    data = (d / "gateway-link.pcap").read_bytes()
    (d / "gateway-link.pcap").write_bytes(data[: len(data) // 2 + 7])    # cut mid-record
    (d / "traces.json").write_bytes(b'{"data": [{"traceID": "ab", "spans": [')  # broken JSON
    (d / "notes.txt").write_text("the on-call engineer's notes\n")         # not evidence
    (d / "more-traces.json").write_bytes(b'{"data": [{"traceID": "ab", "spans": [{"spanID": "01", ')
    (d / "heap-diff-2.txt").unlink()                                       # listed but missing
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inc = forensics.open_incident(d)
        tl = inc.timeline
    st_ = dict(zip(inc.load_report["file"], inc.load_report["status"]))
    assert st_["gateway-link.pcap"] == "warnings"          # the valid half loaded
    assert st_["traces.json"] == "error" and st_["heap-diff-2.txt"] == "error"
    assert st_["notes.txt"] == "skipped"
    assert st_["price-sync-crash.gdb.txt"] == "loaded" and st_["db-link.pcap"] == "loaded"
    errors = inc.load_report.set_index("file")["error"]
    assert "jaeger-json" in errors["traces.json"]                  # declared evidence that is not
    assert st_["more-traces.json"] == "error" and "more-traces.json" in errors["more-traces.json"]
    assert {"crash", "heap-growth", "reset"} <= set(tl["kind"])


def test_manifest_is_optional(tmp_path):
    d = _copy("checkout-latency", tmp_path, manifest=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inc = forensics.open_incident(d)
    assert set(inc.load_report["status"]) <= {"loaded", "warnings"}
    assert inc.name == "checkout-latency"
    # without the manifest the endpoint map comes from trace tags and well-known ports
    assert inc.service_for("10.77.2.20", 5432) == "orders-db"
    tl = inc.timeline
    assert {"retransmissions", "error-span", "query-finding", "crash"} <= set(tl["kind"])


def test_not_a_folder(tmp_path):
    with pytest.raises(forensics.ArtifactError):
        forensics.open_incident(tmp_path / "nope")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blobs=st.lists(st.binary(min_size=0, max_size=300), min_size=1, max_size=3))
def test_random_files_never_raise(tmp_path_factory, blobs):
    d = tmp_path_factory.mktemp("rand")
    for i, b in enumerate(blobs):
        (d / f"f{i}.bin").write_bytes(b)
    (d / "incident.toml").write_text('title = "x"\n[[artifacts]]\nfile = "missing.pcap"\nkind = "pcap"\n')
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inc = forensics.open_incident(d)
        inc.timeline, inc.links
    assert set(inc.load_report["status"]) <= {"loaded", "warnings", "error", "skipped"}
