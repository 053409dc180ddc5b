import hashlib
import json

import pytest

import forensics
from forensics import ArtifactError
from forensics.artifact import Provenance, map_readonly, open_readonly, sniff

from support import SAMPLE

PCAP = SAMPLE / "basic" / "loopback_http.pcap"
PCAPNG = SAMPLE / "basic" / "loopback_http.pcapng"


def write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data if isinstance(data, bytes) else data.encode())
    return p


def test_real_captures_are_detected_from_content_not_name(tmp_path):
    assert forensics.detect(PCAP) == "pcap"
    assert forensics.detect(PCAPNG) == "pcapng"
    # the name says JSON; the bytes say pcap
    misnamed = write(tmp_path, "trace.json", PCAP.read_bytes())
    assert forensics.detect(misnamed) == "pcap"


# Sniffer markers on minimal heads: these check the detector's rules, not a parser.
JSON_HEADS = {
    "jaeger-json": {"data": [{"traceID": "a1", "spans": [{"traceID": "a1", "spanID": "b2", "operationName": "GET"}],
                              "processes": {}}]},
    "otlp-json": {"resourceSpans": [{"resource": {}, "scopeSpans": []}]},
    "zipkin-json": [{"traceId": "a1b2c3d4e5f60718", "id": "a1b2c3d4e5f60718", "name": "get",
                     "localEndpoint": {"serviceName": "web"}}],
    "pg_stat_statements": [{"queryid": "-123", "query": "select 1", "calls": 3}],
    "v8-heapsnapshot": {"snapshot": {"meta": {"node_fields": ["type", "name"]}}, "nodes": []},
}


@pytest.mark.parametrize("kind", sorted(JSON_HEADS))
def test_json_kinds(tmp_path, kind):
    assert forensics.detect(write(tmp_path, "x", json.dumps(JSON_HEADS[kind]))) == kind


@pytest.mark.parametrize("kind, text", [
    ("jvm-histogram", " num     #instances         #bytes  class name (module)\n"
                      "-------------------------------------------------------\n"
                      "   1:          5310         493504  [B (java.base@17)\n"),
    ("tracemalloc-text", "/srv/app/cache.py:41: size=10.2 MiB (+10.2 MiB), count=100001 (+100001), average=107 B\n"),
    ("gdb-output", "Program received signal SIGSEGV, Segmentation fault.\n"
                   "0x0000555555555131 in crash () at crash.c:4\n#0  0x0000555555555131 in crash () at crash.c:4\n"),
    ("pg_stat_statements", "userid,dbid,toplevel,queryid,query,calls,total_exec_time\n10,5,t,-42,select 1,3,0.5\n"),
    ("pg_stat_statements", "-[ RECORD 1 ]-------+----------\nqueryid             | 42\ncalls               | 3\n"
                           "total_exec_time     | 1.5\n"),
])
def test_text_kinds(tmp_path, kind, text):
    assert forensics.detect(write(tmp_path, "evidence.log", text)) == kind


def test_pickle_is_recognised_so_it_can_be_refused(tmp_path):
    import pickle
    p = write(tmp_path, "snap.dump", pickle.dumps({"a": 1}, protocol=4))
    assert forensics.detect(p) == "python-pickle"


@pytest.mark.parametrize("data, says", [
    (b"", "empty"),
    ("[build-system]\nrequires = []\n", "no marker of a known kind"),
    ('{"name": "a package.json", "version": "1.0"}', "keys seen: name, version"),
    (b"\x00\x01\x02\x03binary junk", "binary data"),
])
def test_unknown_files_get_an_artifact_error_listing_known_kinds(tmp_path, data, says):
    p = write(tmp_path, "mystery", data)
    with pytest.raises(ArtifactError) as e:
        forensics.detect(p)
    assert says in str(e.value) and "pcapng" in str(e.value) and e.value.path == str(p)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ArtifactError, match="no such file"):
        forensics.detect(tmp_path / "nope.pcap")
    with pytest.raises(ArtifactError, match="not a regular file"):
        forensics.detect(tmp_path)


def test_provenance_records_size_and_sha256_hashed_in_chunks(monkeypatch):
    import forensics.artifact as art
    monkeypatch.setattr(art, "HASH_CHUNK", 7)  # many chunks must still give the one digest
    prov = Provenance.of(PCAP, kind="pcap")
    data = PCAP.read_bytes()
    assert prov.size == len(data)
    assert prov.sha256 == hashlib.sha256(data).hexdigest()
    assert prov.path == str(PCAP.resolve()) and prov.parser_version == forensics.__version__


def test_provenance_warnings_and_attach():
    import pandas as pd
    prov = Provenance.of(PCAP)
    with pytest.warns(forensics.ArtifactWarning, match="byte 1,024: record cut short"):
        prov.warn(1024, "record cut short")
    df = prov.attach(pd.DataFrame({"a": [1, 2]}))
    assert df.attrs["provenance"]["warnings"] == ["byte 1,024: record cut short"]
    # pandas keeps attrs through the operations analysts use
    assert df[df.a > 1].attrs["provenance"]["sha256"] == prov.sha256


def test_readonly_helpers_cannot_write():
    with open_readonly(PCAP) as f:
        assert f.read(4) == PCAP.read_bytes()[:4]
        with pytest.raises(OSError):
            f.write(b"x")
    m = map_readonly(PCAP)
    with pytest.raises(TypeError):
        m[0] = 0


def test_sniff_explains_its_decision():
    d = sniff(PCAPNG)
    assert (d.kind, d.format) == ("pcapng", "pcapng") and "section header" in d.evidence
