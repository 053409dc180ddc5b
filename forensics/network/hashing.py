"""The evidence's SHA-256, computed on the other core while the capture is parsed.

On a big capture the hash is the longest single job (SHA-256 is one sequential chain: it cannot
be split), so :class:`FileHash` starts it at once, in a thread of its own, from its own
read-only pass over the file; the parser reads the same bytes from the page cache at the same
time. Measured here (1.4 GB capture in the page cache, CPU with SHA extensions):

* reading into one reused buffer (no fresh ``bytes`` per piece); 4 MiB pieces, because the
  command's own imports hold the GIL and each piece waits for it (measurement in
  :class:`forensics.artifact.BackgroundHash`); the ``forensics`` command starts this hash before
  its imports (:func:`forensics.artifact.start_early_hashes`);
* ``hashlib`` releases the GIL while it reads and hashes, so the parser (numba, mostly
  without the GIL) runs beside it.

The thread is a daemon and stops at the next piece when cancelled, so a capture refused
early (bad header) does not wait for its hash.
"""
from __future__ import annotations

import os

from ..artifact import BACKGROUND_CHUNK, BackgroundHash, early_hash

#: Bytes per read (measured: see :class:`forensics.artifact.BackgroundHash`).
PIECE = BACKGROUND_CHUNK


class FileHash(BackgroundHash):
    """SHA-256 of ``path`` in a background thread; :meth:`result` waits for the hex digest.

    When the ``forensics`` command already started this file's hash (before its imports,
    :func:`forensics.artifact.start_early_hashes`), that one is used instead of a second pass.
    """

    def __init__(self, path):
        self._early = early_hash(path)
        if self._early is None:
            super().__init__(path)
        else:
            self.path = os.fspath(path)

    def result(self) -> str:
        return self._early.result() if self._early is not None else super().result()

    def cancel(self) -> None:
        if self._early is not None:
            return  # shared: a later reader of the same file may still want it
        super().cancel()
