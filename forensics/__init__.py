"""forensics — a Jupyter workbench for the evidence an incident leaves behind.

>>> import forensics
>>> forensics.detect("sample_data/network/bulk_loss.pcap")
'pcap'
>>> result = forensics.load("sample_data/network/bulk_loss.pcap")
>>> result.provenance.kind, len(result.provenance.sha256)
('pcap', 64)
"""
from __future__ import annotations

__version__ = "0.1.0"

from .artifact import KINDS, ArtifactWarning, Provenance, detect, sniff  # noqa: E402
from .errors import ArtifactError  # noqa: E402
from .registry import load, loader_for, register_loader  # noqa: E402

__all__ = [
    "__version__", "ArtifactError", "ArtifactWarning", "Provenance", "KINDS",
    "detect", "sniff", "load", "loader_for", "register_loader", "open_incident", "query",
]


def open_incident(folder, **kwargs):
    """Load every artifact of an incident folder (see :mod:`forensics.incident`)."""
    # imported on first use so that `import forensics` does not import pandas
    from .incident import open_incident as _open

    return _open(folder, **kwargs)


def query(export_dir, sql, **kwargs):
    """SQL (DuckDB) over a Parquet export (``forensics export``) → DataFrame; see :mod:`forensics.columnar.sql`."""
    from .columnar.sql import query as _query

    return _query(export_dir, sql, **kwargs)
