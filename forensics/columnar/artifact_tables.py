"""Which DataFrames a loaded artifact has, by name — what the Parquet export writes.

Every loader returns a small object holding DataFrames; the export takes each of
them (a dataclass field or a listed property that is a DataFrame), plus, for
captures, the per-frame ``flags`` view the CLI shows. Names are the attribute
names (``packets``, ``flows``, ``spans``, ``statements``, ``frames``, ``classes``…),
so one table name holds the same kind of rows from every artifact.
"""
from __future__ import annotations

import dataclasses

import pandas as pd

#: computed-on-first-use tables worth exporting (property names)
LAZY = ("flows",)
#: attributes that are views of other tables, not tables of their own
SKIP = {"crash_stack"}


def tables_of(result) -> dict[str, pd.DataFrame]:
    """``{name: DataFrame}`` of one loaded artifact (see the module docstring)."""
    out: dict[str, pd.DataFrame] = {}
    names = [f.name for f in dataclasses.fields(result)] if dataclasses.is_dataclass(result) else list(vars(result))
    for name in names:
        if name.startswith("_") or name in SKIP:
            continue
        v = getattr(result, name, None)
        if isinstance(v, pd.DataFrame):
            out[name] = v
    for name in LAZY:
        if name not in out and isinstance(getattr(type(result), name, None), property):
            v = getattr(result, name)
            if isinstance(v, pd.DataFrame):
                out[name] = v
    if "packets" in out and "retransmission" in out["packets"]:
        try:
            from ..network.analysis import flagged_frames

            out["flags"] = flagged_frames(out["packets"])
        except ImportError:  # pragma: no cover - the network CLI moved
            pass
    return out


def incident_tables(incident) -> dict[str, pd.DataFrame]:
    """The incident's own tables: one timeline, the cross-artifact links, the load report."""
    out = {"timeline": incident.timeline, "load_report": incident.load_report}
    links = getattr(incident, "links_frame", None)
    if isinstance(links, pd.DataFrame):
        out["links"] = links
    return out
