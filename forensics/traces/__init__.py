"""Trace exports (Jaeger, OTLP, Zipkin JSON) as DataFrames, trace trees, critical paths and service maps.

    >>> from forensics.traces import load_traces, critical_path, dependency_graph   # doctest: +SKIP
"""
from .load import TraceSet, load_traces  # noqa: F401
