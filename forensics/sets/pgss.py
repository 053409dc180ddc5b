"""A folder of pg_stat_statements snapshots (one every five minutes…) → the interval series.

Each file is read by the postgres kind's loader (:func:`forensics.postgres.load.load_pgss`);
consecutive snapshots become intervals through its
:func:`~forensics.postgres.analysis.delta` (resets, new and evicted entries handled there).

A dump does not say when it was taken, so the order is the files' names in natural order
(``pgss-9.csv`` before ``pgss-10.csv``; timestamped names sort by time), or the order given
(a list). Counters are cumulative, so the total ``calls`` of a server only grows between
resets: where it falls from one snapshot to the next, the set warns (a reset, an eviction
storm, or files out of order) rather than guessing another order.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import re

import pandas as pd

from .. import __version__
from ..artifact import Provenance
from ..errors import ArtifactError
from .members import list_members, relative


@dataclasses.dataclass
class PgssSeries:
    """``intervals``: the rows of every interval's delta with ``interval`` (0, 1, …), ``before`` and
    ``after`` (file names); ``snapshots``: the loaded dumps in order; ``members``: one row per file."""

    intervals: pd.DataFrame
    members: pd.DataFrame
    snapshots: list
    provenance: Provenance

    def interval(self, k: int) -> pd.DataFrame:
        return self.intervals[self.intervals["interval"] == k].drop(columns=["interval", "before", "after"])


def _natural(path: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", os.path.basename(path))]


def _calls(dump) -> float:
    c = dump.statements.get("calls")
    return float(pd.to_numeric(c, errors="coerce").fillna(0).sum()) if c is not None else float("nan")


def load_pgss_series(source, **options) -> PgssSeries:
    from ..postgres.analysis import delta
    from ..postgres.load import load_pgss

    listing = list_members(source)
    files = [p for p, k, f in listing.files if f == "postgres"]
    if not isinstance(source, (list, tuple)):
        files.sort(key=_natural)
    snaps, skipped = [], list(listing.skipped)
    for p in files:
        try:
            snaps.append((p, load_pgss(p, **options)))
        except ArtifactError as e:  # e.g. a pg_stat_statements_info dump beside the snapshots
            skipped.append((p, str(e)))
    if len(snaps) < 2:
        raise ArtifactError(listing.root, None, f"a series needs at least two pg_stat_statements snapshots "
                            f"({len(snaps)} found)")
    root = listing.root
    lines = "".join(f"{d.provenance.sha256}  {relative(p, root)}\n" for p, d in snaps)
    prov = Provenance(path=root, size=sum(d.provenance.size for _, d in snaps),
                      sha256=hashlib.sha256(lines.encode()).hexdigest(), kind="pgss-series",
                      format=f"{len(snaps)} snapshots", parser="forensics.sets", parser_version=__version__)
    prov.details.update({"sha256_of": "the members' sha256sum lines, in series order",
                         "ordered_by": "the order given" if isinstance(source, (list, tuple)) else "file name (natural order)",
                         "members": [d.provenance.to_dict() for _, d in snaps]})
    if skipped:
        prov.details["skipped"] = [{"path": p, "reason": r} for p, r in skipped]
    parts = []
    for k, ((pb, b), (pa, a)) in enumerate(zip(snaps, snaps[1:])):
        cb, ca = _calls(b), _calls(a)
        if ca < cb:
            prov.warn(relative(pa, root), f"total calls fell from {cb:,.0f} ({relative(pb, root)}) to {ca:,.0f}: "
                      "the statistics were reset, many entries were evicted, or the files are not in time "
                      f"order (ordered by {prov.details['ordered_by']})")
        d = delta(b, a)
        prov.warnings += [f"interval {k} ({relative(pb, root)} → {relative(pa, root)}): {w}"
                          for w in d.attrs.get("provenance", {}).get("warnings", [])]
        d = d.assign(interval=k, before=relative(pb, root), after=relative(pa, root))
        parts.append(d)
    intervals = pd.concat(parts, ignore_index=True)
    members = pd.DataFrame([{"file": relative(p, root), "format": d.provenance.format, "size": d.provenance.size,
                             "sha256": d.provenance.sha256, "statements": len(d.statements), "total_calls": _calls(d),
                             "warnings": len(d.provenance.warnings)} for p, d in snaps])
    prov.attach(intervals, members)
    return PgssSeries(intervals, members, [d for _, d in snaps], prov)
