"""Sets of evidence files analysed as one: rotated captures, hourly trace exports, pgss snapshot series.

>>> import forensics
>>> s = forensics.load(["sample_data/postgres/before.csv", "sample_data/postgres/after.csv"])
>>> type(s).__name__, s.members["file"].tolist(), int(s.intervals["interval"].max())
('PgssSeries', ['before.csv', 'after.csv'], 0)
>>> rotated = forensics.load("evidence/rotated/")    # a folder or a list of files  # doctest: +SKIP

:func:`load_set` looks at what the files hold (by content) and sends the set to its family:
captures → :func:`forensics.sets.captures.load_capture_set`, trace exports →
:func:`forensics.sets.traces.load_trace_set`, pg_stat_statements snapshots →
:func:`forensics.sets.pgss.load_pgss_series`. A set mixing families is an incident:
:func:`forensics.open_incident`.
"""
from __future__ import annotations

from ..errors import ArtifactError
from .members import FAMILY_WORDS, is_set, list_members

__all__ = ["load_set", "is_set", "list_members"]


def load_set(source, **options):
    """Load a folder or list of files of one family as one artifact (see the module docstring)."""
    listing = list_members(source)
    fams = listing.families()
    if len(fams) > 1:
        counts = ", ".join(f"{len(listing.of(f))} {FAMILY_WORDS.get(f, f)}" for f in sorted(fams))
        raise ArtifactError(listing.root, None, f"the set mixes kinds of evidence ({counts}); "
                            "load one kind at a time, or the whole folder as an incident "
                            "(forensics.open_incident)")
    fam = fams.pop()
    if fam == "network":
        from .captures import load_capture_set

        return load_capture_set(source, **options)
    if fam == "traces":
        from .traces import load_trace_set

        return load_trace_set(source, **options)
    if fam == "postgres":
        from .pgss import load_pgss_series

        return load_pgss_series(source, **options)
    raise ArtifactError(listing.root, None, f"{FAMILY_WORDS.get(fam, fam)} cannot be loaded as a set yet; "
                        "load the files one by one")
