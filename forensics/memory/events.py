"""Heap evidence for an incident timeline: what grew, read only from a real diff.

Growth is what :func:`forensics.memory.diff.heap_diff` says — of a file that is already a diff
(tracemalloc ``compare_to`` text, a pprof ``-diff_base`` report), or of this snapshot against the
previous one of the same process (``previous``). A single snapshot holds one point in time and says
nothing about growth: it gets one ``info`` row saying so, never "everything grew".

Rows: the sites/types holding at least 5 % of the growth (at least the top one, at most five),
compared with the same site in the previous diff when there is one. No ``time`` of their own: the
incident places them at the artifact's time. ``ref`` is the site/type.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .diff import heap_diff

COLUMNS = ["time", "end", "kind", "severity", "detail", "ref", "source_rows"]


def _short_site(name: str) -> str:
    parts = str(name).replace("\\", "/").split("/")
    return "/".join(parts[-2:]) if len(parts) > 2 else str(name)


def growth(heap, previous=None) -> pd.DataFrame | None:
    """``heap_diff``'s table for this artifact (None when it holds one point in time and has no previous)."""
    if heap.is_diff:
        return heap_diff([heap.provenance.path], top=0).table
    if previous is not None and not previous.is_diff and previous.kind == heap.kind:
        return heap_diff([previous.provenance.path, heap.provenance.path], top=0).table
    return None


def _mib(n) -> str:
    return f"{n / 2**20:+.1f} MiB"


def events(heap, previous=None) -> pd.DataFrame:
    """Heap-growth rows of a loaded heap artifact (:class:`forensics.memory.load.HeapProfile`)."""
    table = growth(heap, previous)
    if table is None:
        total = int(heap.classes["bytes"].sum()) if "bytes" in heap.classes else 0
        return pd.DataFrame([{"time": pd.NaT, "end": pd.NaT, "kind": "heap-snapshot", "severity": "info",
                              "detail": (f"one {heap.kind} snapshot ({len(heap.classes):,} types/sites, "
                                         f"{total / 2**20:.1f} MiB): no earlier snapshot of the same process to "
                                         "diff it against, so it says nothing about growth"),
                              "ref": "snapshot", "source_rows": []}], columns=COLUMNS)
    key = "retained_delta" if "retained_delta" in table and table["retained_delta"].notna().any() else "bytes_delta"
    grew = table[pd.to_numeric(table[key], errors="coerce").fillna(0) > 0].sort_values(key, ascending=False)
    total = max(1, int(grew[key].sum()))
    grew = grew[(grew[key] >= 0.05 * total) | (np.arange(len(grew)) == 0)].head(5)
    prev = growth(previous) if previous is not None and previous.is_diff else None
    out = []
    for i, row in grew.iterrows():
        objects = "" if pd.isna(row["count_delta"]) else f", {int(row['count_delta']):+,} objects"
        detail = (f"{_mib(int(row[key]))}{objects} at {_short_site(row['name'])} "
                  f"({int(row[key]) / total:.0%} of the growth)")
        if prev is not None:
            same = prev[prev["name"] == row["name"]]
            if len(same) and pd.notna(same[key].iloc[0]):
                detail += f"; was {_mib(int(same[key].iloc[0]))} in the previous diff"
        out.append({"time": pd.NaT, "end": pd.NaT, "kind": "heap-growth",
                    "severity": "error" if int(row[key]) >= 10 << 20 else "warning", "detail": detail,
                    "ref": str(row["name"]), "source_rows": [int(i)]})
    return pd.DataFrame(out, columns=COLUMNS)
