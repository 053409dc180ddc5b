"""The compiled readers, tried in turn before the general one: Jaeger UI JSON (:mod:`jaeger_fast`), OTLP
JSON and JSON Lines (:mod:`otlp_fast`), Zipkin v2 JSON and JSON Lines (:mod:`zipkin_fast`). Each gives exactly
the general reader's tables or declines."""
from __future__ import annotations

import re

_START = re.compile(rb"\s*([\[{])")


def read(raw: bytes, cols_factory):
    """(tables, shapes, Columns) of the first compiled reader that takes ``raw``, or None.
    ``cols_factory()`` makes a fresh :class:`formats.Columns` for each attempt (a declined reader may
    have registered processes in its own)."""
    if raw[:3] == b"\xef\xbb\xbf":
        raw = raw[3:]
    start = _START.match(raw[:64])
    if start is None:
        return None
    from . import jaeger_fast, otlp_fast, zipkin_fast  # (numba compiles or loads its cache on first use)

    if start.group(1) == b"[":
        cols = cols_factory()
        got = zipkin_fast.read(raw, cols)
        if got is None:
            return None
        tables, n_docs = got
        return tables, ["zipkin"] * n_docs, cols

    cols = cols_factory()
    got = jaeger_fast.read(raw, cols)
    if got is not None:
        return got, ["jaeger ui"], cols
    cols = cols_factory()
    got = otlp_fast.read(raw, cols)
    if got is not None:
        tables, n_docs = got
        return tables, ["otlp"] * n_docs, cols
    return None
