"""Spans without a start time (Zipkin allows a span with no 'timestamp') must not date their trace."""
from forensics.traces import load_traces
from support import require_wild


def test_spans_without_a_timestamp_do_not_date_their_trace():
    """zipkin-lens' smartthings-mobile-web-install (wild) has 84 spans without 'timestamp': they read as 0 µs and
    made the trace start in 1970 and last 49 years. They are warned about and left out of starts and skew."""
    from forensics.traces.analysis import trace_summary

    rel = "zipkin/smartthings-mobile-web-install.json"
    ts = load_traces(require_wild("traces", [rel])[rel])
    assert any("84 span(s) carry no start time" in w for w in ts.provenance.warnings)
    s = trace_summary(ts).iloc[0]
    assert s["start"].year == 2018 and s["duration_us"] < 3_600_000_000
    assert not (ts.skew["early_us"] > 10**12).any()
