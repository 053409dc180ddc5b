"""Evidence as Parquet, and SQL over it: ``forensics export`` and ``forensics query``.

* :func:`export` — every loaded artifact's frames (packets, flows, flags, spans, statements,
  frames, heap classes, timeline, links…) as Parquet partitioned by artifact and day, with
  the provenance in each file's metadata (:mod:`forensics.columnar.writer`);
* :func:`read_frame` — one artifact's table back, equal to what was exported;
* :func:`query` — DuckDB SQL over an export, streaming (:mod:`forensics.columnar.sql`).
"""
from __future__ import annotations

from ..lazy import lazy_exports

# imported on first use: `forensics export|query` import this package to build their parsers
__getattr__, __dir__ = lazy_exports(__name__, {
    "export": ".writer", "file_info": ".parquet", "read_frame": ".parquet",
    "connect": ".sql", "query": ".sql", "tables": ".sql"})

__all__ = ["export", "read_frame", "file_info", "query", "connect", "tables"]
