"""Reading a few objects' bytes back from a heap dump (field names on paths, string text, coder flags).

Offsets are those the scanner recorded: into the file for a plain dump (a
read-only memory map), into the decompressed stream for a gzip dump — read in
one streaming pass for all the spans asked for at once.
"""
from __future__ import annotations

import warnings

from ..artifact import Provenance, map_readonly


def read_spans(dump, spans: list[tuple[int, int]]) -> list[bytes]:
    """The bytes at each ``(offset, length)`` of the (decompressed) dump; shorter where the dump ends."""
    if not spans:
        return []
    if not dump.info.get("compressed"):
        mm = map_readonly(dump.path)
        return [bytes(mm[o:o + n]) for o, n in spans]
    from .hprof import _gzip_chunks

    order = sorted(range(len(spans)), key=lambda i: spans[i][0])
    out = [b""] * len(spans)
    parts: dict[int, list[bytes]] = {i: [] for i in order}
    pos = 0
    k = 0                      # first span not finished
    quiet = Provenance(dump.path, 0, "")

    class _Bar:
        def update(self, n):
            pass

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the load already reported a cut stream
        for chunk in _gzip_chunks(dump.path, quiet, _Bar()):
            end = pos + len(chunk)
            j = k
            while j < len(order) and spans[order[j]][0] < end:
                i = order[j]
                o, n = spans[i]
                a, b = max(o, pos), min(o + n, end)
                if b > a:
                    parts[i].append(chunk[a - pos:b - pos])
                j += 1
            while k < len(order) and sum(spans[order[k]]) <= end:
                k += 1
            pos = end
            if k >= len(order):
                break
    for i in order:
        out[i] = b"".join(parts[i])
    return out
