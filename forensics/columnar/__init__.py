"""Evidence as Parquet, and SQL over it: ``forensics export`` and ``forensics query``.

* :func:`export` — every loaded artifact's frames (packets, flows, flags, spans, statements,
  frames, heap classes, timeline, links…) as Parquet partitioned by artifact and day, with
  the provenance in each file's metadata (:mod:`forensics.columnar.export`);
* :func:`read_frame` — one artifact's table back, equal to what was exported;
* :func:`query` — DuckDB SQL over an export, streaming (:mod:`forensics.columnar.query`).
"""
from __future__ import annotations

from .export import export
from .parquet import file_info, read_frame
from .query import connect, query, tables

__all__ = ["export", "read_frame", "file_info", "query", "connect", "tables"]
