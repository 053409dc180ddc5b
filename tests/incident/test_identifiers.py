"""Trace/span ids in text, as real producers write them (forensics.incident.identifiers)."""
from forensics.incident.identifiers import _merge_by_line, _scan, norm_id

# the sqlcommenter spec's example comment (google.github.io/sqlcommenter/spec), URL-encoded values and all
SQLCOMMENTER = (b"SELECT * FROM FOO /*action='%2Fparam*d',controller='index',framework='spring',"
                b"traceparent='00-5bd66ef5095369c7b0d1f8f4bd33716a-c532cb4098ac3dd2-01',"
                b"tracestate='congo%3Dt61rcWkgMzE%2Crojo%3D00f067aa0ba902b7'*/")
# the W3C Trace Context recommendation's example header
W3C = b"GET / HTTP/1.1\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n"


def test_sqlcommenter_comment():
    hits = _scan(SQLCOMMENTER, set(), set())
    assert [(h[1], h[2], h[3]) for h in hits] == [("5bd66ef5095369c7b0d1f8f4bd33716a", "c532cb4098ac3dd2", "traceparent")]


def test_w3c_header_and_b3_headers():
    assert _scan(W3C, set(), set())[0][1:] == ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", "traceparent")
    b3 = b"X-B3-TraceId: 463ac35c9f6413ad48485a3953bb6124\r\nX-B3-SpanId: a2fb4a1d1a96d312\r\n"
    forms = [(h[1], h[2], h[3]) for h in _scan(b3, set(), set())]
    assert forms == [("463ac35c9f6413ad48485a3953bb6124", None, "trace id"), (None, "a2fb4a1d1a96d312", "span id")]


def test_bare_hex_counts_only_when_it_is_a_known_id():
    text = b"sha256 9f86d081884c7d659a2feaa0c55ad015 ptr 00007ffff7dd06c0 id 4bf92f3577b34da6a3ce929d0e0e4736\n"
    assert _scan(text, set(), set()) == []
    known = {norm_id("4bf92f3577b34da6a3ce929d0e0e4736")}
    assert [h[1] for h in _scan(text, known, set())] == ["4bf92f3577b34da6a3ce929d0e0e4736"]
    assert _scan(b"at 0x4bf92f3577b34da6 in f ()", set(), {norm_id("4bf92f3577b34da6")}) == []  # a pointer


def test_a_64_bit_jaeger_id_equals_its_128_bit_form():
    assert norm_id("00000000000000004bf92f3577b34da6") == norm_id("4bf92f3577b34da6")


def test_trace_and_span_on_one_log_line_are_one_request():
    m = [{"trace_id": "a" * 32, "span_id": None, "form": "trace id", "ref": "f", "location": "line 3", "excerpt": "", "key": False},
         {"trace_id": None, "span_id": "b" * 16, "form": "span id", "ref": "f", "location": "line 3", "excerpt": "", "key": True}]
    merged = _merge_by_line(m)
    assert len(merged) == 1 and merged[0]["span_id"] == "b" * 16 and merged[0]["key"]
