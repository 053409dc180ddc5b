"""Trace exports (Jaeger, OTLP, Zipkin JSON) as DataFrames, trace trees, critical paths and service maps.

    >>> import os
    >>> from forensics.traces import load_traces
    >>> here = os.path.join(os.path.dirname(__file__), "..", "..", "sample_data", "traces")
    >>> ts = load_traces(os.path.join(here, "checkout.jaeger.json"))
    >>> {"trace_id", "span_id", "service", "duration_us"} <= set(ts.spans.columns)
    True
"""
from .load import TraceSet, load_traces  # noqa: F401
