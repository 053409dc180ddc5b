"""Recognising an HPROF heap dump from its first bytes: the ``sniff`` hook of the ``hprof`` entry in
:mod:`forensics.kinds` (tried by :func:`forensics.artifact.sniff` when its built-in rules match nothing).

Plain dumps start ``JAVA PROFILE 1.0.1`` / ``1.0.2`` (``1.0.3``: Android); ``jcmd GC.heap_dump -gz`` and
``jmap -dump:gz=N`` write a series of gzip members whose first bytes decompress to the same header.
"""
from __future__ import annotations

import zlib

HPROF_MAGIC = b"JAVA PROFILE 1.0."


def sniff_hprof(head: bytes) -> tuple[str, str] | None:
    """``(format, evidence)`` for an HPROF heap dump (plain or gzip), else None.

    >>> sniff_hprof(b"JAVA PROFILE 1.0.2\\x00\\x00\\x00\\x00\\x08")
    ('hprof 1.0.2', "'JAVA PROFILE 1.0.2' header")
    >>> import gzip; sniff_hprof(gzip.compress(b"JAVA PROFILE 1.0.1\\x00\\x00\\x00\\x00\\x04"))
    ('hprof 1.0.1 (gzip)', "'JAVA PROFILE 1.0.1' header inside gzip")
    """
    data, gz = head, False
    if head[:2] == b"\x1f\x8b":
        try:
            data = zlib.decompressobj(wbits=31).decompress(head[:4096], 64)
        except zlib.error:
            return None
        gz = True
    if not data.startswith(HPROF_MAGIC):
        return None
    end = data.find(b"\0", 0, 40)
    version = data[len(HPROF_MAGIC) - 4:end if end > 0 else 20].decode("ascii", "replace")
    return f"hprof {version}" + (" (gzip)" if gz else ""), f"'JAVA PROFILE {version}' header" + (" inside gzip" if gz else "")


def sniff_pprof_text(head: bytes) -> tuple[str, str] | None:
    """A legacy text heap profile (Go ``/debug/pprof/heap?debug=1``, tcmalloc ``heapz``), else None.

    >>> sniff_pprof_text(b"heap profile: 13: 1595680 [47130736: 2584596557304] @ heap/1048576\\n")[0]
    'pprof legacy text heap profile'
    """
    import re

    if re.search(rb"^\s*heap profile: *\d+: *\d+ *\[ *\d+: *\d+ *\] *@ *heap", head[:4096], re.M):
        return "pprof legacy text heap profile", "'heap profile: N: B [N: B] @ heap…' header"
    return None
