"""The one exception family for bad evidence.

Every parser in the workbench raises :class:`ArtifactError` (never a bare
``struct.error`` or ``KeyError`` from deep inside), so that a notebook, the CLI
or the incident loader can tell a person *which file*, *where in it* and *why*.
"""
from __future__ import annotations

import os


def _fmt_location(location) -> str:
    """'byte 1,048,580' for ints, the text as given otherwise."""
    if location is None:
        return ""
    if isinstance(location, int):
        return f"byte {location:,}"
    return str(location)


class ArtifactError(ValueError):
    """A file could not be read as the evidence it claims (or appears) to be.

    Attributes
    ----------
    path : str or None
        The artifact's path, as given by the caller.
    location : int, str or None
        Where the problem is: a byte offset (int) or a text such as
        ``"line 12"``, ``"record 3,401"`` or ``"$.data[0].spans[7]"``.
    reason : str
        What is wrong, in words a person understands.

    Examples
    --------
    >>> e = ArtifactError("capture.pcap", 1048580,
    ...     "record header claims 2,000,000,000 bytes; file ends at 1,050,000 — truncated capture?")
    >>> str(e)
    'capture.pcap: byte 1,048,580: record header claims 2,000,000,000 bytes; file ends at 1,050,000 — truncated capture?'
    """

    def __init__(self, path, location, reason: str):
        self.path = None if path is None else os.fspath(path)
        self.location = location
        self.reason = reason
        super().__init__(self._message())

    def _message(self) -> str:
        parts = []
        if self.path is not None:
            parts.append(os.path.basename(self.path) or self.path)
        loc = _fmt_location(self.location)
        if loc:
            parts.append(loc)
        parts.append(self.reason)
        return ": ".join(parts)

    def __reduce__(self):  # keep it picklable across multiprocessing boundaries
        return (type(self), (self.path, self.location, self.reason))
