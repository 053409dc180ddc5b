"""Trace exports (Jaeger, OTLP, Zipkin JSON) as DataFrames, trace trees, critical paths and service maps.

    >>> import os
    >>> from forensics.traces import load_traces
    >>> here = os.path.join(os.path.dirname(__file__), "..", "..", "sample_data", "traces")
    >>> ts = load_traces(os.path.join(here, "checkout.jaeger.json"))
    >>> {"trace_id", "span_id", "service", "duration_us"} <= set(ts.spans.columns)
    True
"""
from ..lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {"TraceSet": ".load", "load_traces": ".load"})
