"""The evidence's SHA-256, computed on the other core while the capture is parsed.

On a big capture the hash is the longest single job (SHA-256 is one sequential chain: it cannot
be split), so :class:`FileHash` starts it at once, in a thread of its own, from its own
read-only pass over the file; the parser reads the same bytes from the page cache at the same
time. Measured here (1.4 GB capture in the page cache, CPU with SHA extensions):

* reading into one reused 128 KiB buffer keeps each piece in the core's L2 cache for the
  hash; 1 MiB reads (a fresh ``bytes`` each) or a memory map hashed in big slices stream
  from RAM and were 20–40 % slower;
* ``hashlib`` releases the GIL while it reads and hashes, so the parser (numba, mostly
  without the GIL) runs beside it.

The thread is a daemon and stops at the next piece when cancelled, so a capture refused
early (bad header) does not wait for its hash.
"""
from __future__ import annotations

import hashlib
import os
import threading

from ..artifact import open_readonly
from ..errors import ArtifactError

#: Bytes per read: small enough to stay in L2 between the read and the hash.
PIECE = 128 << 10


class FileHash:
    """SHA-256 of ``path`` in a background thread; :meth:`result` waits for the hex digest."""

    def __init__(self, path):
        self.path = os.fspath(path)
        self._f = open_readonly(self.path)  # raises ArtifactError here, in the caller, for a missing file
        self._stop = False
        self._digest = None
        self._error = None
        self._thread = threading.Thread(target=self._run, name="sha256", daemon=True)
        self._thread.start()

    def _run(self):
        h = hashlib.sha256()
        buf = bytearray(PIECE)
        view = memoryview(buf)
        try:
            with self._f as f:
                while not self._stop:
                    n = f.readinto(buf)
                    if not n:
                        self._digest = h.hexdigest()
                        return
                    h.update(view[:n])
        except OSError as e:
            self._error = e

    def result(self) -> str:
        """The hex digest (waits for the thread); :class:`ArtifactError` if the file could not be read."""
        self._thread.join()
        if self._error is not None:
            raise ArtifactError(self.path, None, f"cannot read while hashing: {self._error}")
        if self._digest is None:
            raise RuntimeError("hash cancelled")
        return self._digest

    def cancel(self) -> None:
        """Stop at the next piece (nothing to wait for); :meth:`result` must not be called after."""
        self._stop = True
