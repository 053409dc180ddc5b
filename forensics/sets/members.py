"""Which files make up a set: a folder, a list of files (or both), sniffed by content.

A set is what an incident leaves when one file was not enough: ``tcpdump -C/-G``
rotations, one capture per host, trace exports per hour, pg_stat_statements every
five minutes. The members are the files whose content is of one family
(:mod:`forensics.kinds`); anything else in a folder is listed as skipped, never
silently dropped and never an error.
"""
from __future__ import annotations

import dataclasses
import os

from ..artifact import sniff
from ..errors import ArtifactError

#: what each family's members are called in messages
FAMILY_WORDS = {"network": "captures", "traces": "trace exports", "postgres": "pg_stat_statements snapshots"}
_FAMILY = {"pcap": "network", "pcapng": "network", "jaeger-json": "traces", "otlp-json": "traces",
           "zipkin-json": "traces", "pg_stat_statements": "postgres"}


def family_of(kind: str | None) -> str | None:
    """The family of a detected kind, from :mod:`forensics.kinds` when it knows the kind."""
    try:
        from .. import kinds

        fam = kinds.family_of(kind)
        if fam:
            return fam
    except ImportError:  # an older checkout without the kinds table
        pass
    return _FAMILY.get(kind) if kind else None


@dataclasses.dataclass
class Listing:
    """The files of a set, by family, and what was left out (with the reason)."""

    root: str                                   # the folder, or the common folder of the files
    files: list = dataclasses.field(default_factory=list)       # (path, kind, family), in listing order
    skipped: list = dataclasses.field(default_factory=list)     # (path, reason)

    def families(self) -> set[str]:
        return {f for _, _, f in self.files}

    def of(self, family: str) -> list[tuple[str, str]]:
        return [(p, k) for p, k, f in self.files if f == family]


def _walk(folder: str) -> list[str]:
    out = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out += [os.path.join(root, f) for f in sorted(files) if not f.startswith(".")]
    return out


def is_set(source) -> bool:
    """True when ``source`` names several files or a folder (what :func:`list_members` takes)."""
    if isinstance(source, (list, tuple)):
        return True
    return isinstance(source, (str, os.PathLike)) and os.path.isdir(source)


def list_members(source) -> Listing:
    """Expand a folder or a list of files/folders into the files of the set, sniffed by content.

    Raises :class:`ArtifactError` when nothing is given, a named file does not exist,
    or no member is a known artifact.
    """
    items = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    if not items:
        raise ArtifactError(None, None, "an empty list of files is not a set")
    paths = []
    for it in items:
        it = os.fspath(it)
        if os.path.isdir(it):
            paths += _walk(it)
        elif os.path.exists(it):
            paths.append(it)
        else:
            raise ArtifactError(it, None, "no such file or folder")
    absolute = [os.path.abspath(p) for p in paths]
    if len(items) == 1 and os.path.isdir(os.fspath(items[0])):
        root = os.path.abspath(os.fspath(items[0]))
    else:
        root = os.path.commonpath(absolute) if absolute else os.getcwd()
        if os.path.isfile(root):
            root = os.path.dirname(root)
    listing = Listing(root=root)
    seen = set()
    for p in absolute:
        if p in seen:
            listing.skipped.append((p, "named twice; read once"))
            continue
        seen.add(p)
        d = sniff(p)
        fam = family_of(d.kind)
        if d.kind is None or fam is None:
            listing.skipped.append((p, f"not a known artifact: {d.evidence}"))
        else:
            listing.files.append((p, d.kind, fam))
    if not listing.files:
        where = items[0] if len(items) == 1 else f"{len(items)} paths"
        raise ArtifactError(os.fspath(where), None, "no known artifact in the set"
                            + (f" ({len(listing.skipped)} file(s) skipped: {listing.skipped[0][1]})"
                               if listing.skipped else " (it is empty)"))
    return listing


def relative(path: str, root: str) -> str:
    """``path`` as shown in tables and messages: relative to the set's folder."""
    try:
        rel = os.path.relpath(path, root)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel
