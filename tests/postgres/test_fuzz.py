"""Hostile input: whatever the bytes, load_pgss answers with a dump or an ArtifactError, nothing else."""
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensics.errors import ArtifactError
from forensics.postgres.load import load_pgss

from pgss_helpers import DATA

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
SOURCES = ["before.csv", "before.json", "before.runbook.txt", "before.unaligned.txt", "before.expanded.txt",
           "before.json-in-table.txt", "before.unaligned-expanded.txt"]
HEADERS = [b"queryid,calls,total_exec_time,query\n", b" queryid | calls | query\n--------+-------+------\n",
           b"-[ RECORD 1 ]-+--\nqueryid | 1\ncalls | ", b"userid|dbid|queryid|query|calls\n", b'[{"queryid":',
           b'{"calls": 1, "queryid": [', b"dealloc,stats_reset\n", b"-[ RECORD 1 ]---\n   | x\nqueryid | ",
           b" json_agg\n----------\n [{\"queryid\": 1, \"calls\": "]


def _try(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            d = load_pgss(path)
        except ArtifactError as e:
            assert e.reason
            return None
    s = d.statements
    assert list(s.columns[:7]) == ["userid", "dbid", "toplevel", "queryid", "datname", "rolname", "query"]
    assert str(s["calls"].dtype) == "Int64" and s["total_exec_time"].dtype == float
    return d


@FUZZ
@given(st.binary(max_size=3000))
def test_random_bytes(tmp_path_factory, data):
    p = tmp_path_factory.mktemp("pgss") / "blob"
    p.write_bytes(data)
    _try(p)


@FUZZ
@given(st.sampled_from(HEADERS), st.text(max_size=1500))
def test_header_then_random_text(tmp_path_factory, header, text):
    p = tmp_path_factory.mktemp("pgss") / "blob"
    p.write_bytes(header + text.encode("utf-8", "surrogatepass"))
    _try(p)


@pytest.mark.parametrize("source", SOURCES)
@FUZZ
@given(data=st.data())
def test_mutated_real_dumps(tmp_path_factory, source, data):
    raw = bytearray((DATA / source).read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["truncate", "flip", "insert", "delete", "splice"]))
        i = data.draw(st.integers(0, max(len(raw) - 1, 0)))
        if op == "truncate":
            raw = raw[:i]
        elif op == "flip" and raw:
            raw[i] ^= data.draw(st.integers(1, 255))
        elif op == "insert":
            raw[i:i] = data.draw(st.sampled_from([b"|", b"+", b"\n", b'"', b",", b"||", b"\n(3 rows)\n", b"-[ RECORD 9 ]",
                                                  b"\x00", b"\xff\xfe", b"}", b"NaN", b"-"]))
        elif op == "delete":
            del raw[i:i + data.draw(st.integers(1, 200))]
        else:
            j = data.draw(st.integers(0, max(len(raw) - 1, 0)))
            raw[i:i] = raw[j:j + 300]
    p = tmp_path_factory.mktemp("pgss") / source
    p.write_bytes(bytes(raw))
    _try(p)
