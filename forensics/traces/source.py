"""The export's bytes, read once and read-only, and their SHA-256 computed on another thread meanwhile.

A big file is memory-mapped (read-only, its pages mapped up front with ``MAP_POPULATE``) for the
compiled readers instead of being copied into a fresh buffer: the copy of a 973 MB export took
0.5–0.65 s, and fresh memory is what a shared virtual machine is slowest at. The general reader
(orjson wants ``bytes``) gets a copy if the compiled readers decline the file (:func:`as_bytes`).
"""
from __future__ import annotations

import hashlib
import mmap
import os
import threading

from ..artifact import Provenance, _stat, open_readonly, sniff

#: Files at least this big are mapped rather than read (where the OS can map them up front).
MAP_MIN_BYTES = 64 << 20
_POPULATE = getattr(mmap, "MAP_POPULATE", 0)


class Hasher(threading.Thread):
    """SHA-256 of the evidence's bytes on another thread (hashlib releases the GIL)."""

    def __init__(self, raw):
        super().__init__(daemon=True)
        self.raw, self.hexdigest = raw, None

    def run(self):
        self.hexdigest = hashlib.sha256(memoryview(self.raw)).hexdigest()
        self.raw = None


def read_source(path, parser: str, map_big: bool = True):
    """(provenance, the file's bytes — ``bytes`` or a read-only ``mmap`` —, the hashing thread)."""
    from .. import __version__

    d = sniff(path)
    st = _stat(os.fspath(path))
    with open_readonly(path) as f:
        size = os.fstat(f.fileno()).st_size
        raw = None
        if map_big and _POPULATE and size >= MAP_MIN_BYTES:
            try:
                raw = mmap.mmap(f.fileno(), 0, flags=mmap.MAP_SHARED | _POPULATE, prot=mmap.PROT_READ)
            except (OSError, ValueError):
                raw = None
        if raw is None:
            raw = f.read()
    hashing = Hasher(raw)
    hashing.start()
    prov = Provenance(path=os.path.abspath(os.fspath(path)), size=len(raw), sha256="", kind=d.kind, format=d.format,
                      parser=parser, parser_version=__version__, mtime=st.st_mtime)
    return prov, raw, hashing


def as_bytes(raw) -> bytes:
    """``raw`` as ``bytes`` (a mapped file is copied)."""
    return raw if isinstance(raw, bytes) else raw[:]


def count_newlines(raw, start: int = 0, end: int | None = None) -> int:
    """``raw.count(b"\\n", start, end)`` for ``bytes`` and mapped files alike (a map has no ``count``;
    it is counted 16 MB at a time, never copied whole)."""
    if isinstance(raw, bytes):
        return raw.count(b"\n", start, end)
    end = len(raw) if end is None else min(end, len(raw))
    n, step = 0, 16 << 20
    for at in range(start, end, step):
        n += raw[at:min(at + step, end)].count(b"\n")
    return n
