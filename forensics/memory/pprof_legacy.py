"""Go's legacy text heap profile (``/debug/pprof/heap?debug=1``, tcmalloc's ``heapz``), as people paste it.

``heap profile: N: B [N2: B2] @ heap/2·rate`` then one line per stack,
``inuse_count: inuse_bytes [alloc_count: alloc_bytes] @ 0xaddr …``, optionally
followed by ``#\\t0xaddr\\tpkg.func+0x1f\\tfile.go:12`` lines naming the
frames (Go's debug=1 output; pprof itself ignores them). Values are un-sampled
exactly as ``pprof`` does it (``profile/legacy_profile.go``: ``heap_v2``/``heapz_v2``
scale each sample by ``1 / (1 - exp(-avg_size / rate))``, and ``heap/N`` means
rate ``N / 2``), so the numbers equal ``pprof -raw``'s.
"""
from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from ..artifact import Provenance, open_readonly
from ..errors import ArtifactError

HEADER = re.compile(r"heap profile: *(\d+): *(\d+) *\[ *(\d+): *(\d+) *\] *@ *(heap[_a-z0-9]*)/?(\d*)")
SAMPLE = re.compile(r"(-?\d+): *(-?\d+) *\[ *(\d+): *(\d+) *] @([ x0-9a-f]*)$")
SYMBOL = re.compile(r"^#\s+(0x[0-9a-f]+)\s+(\S+?)(?:\+0x[0-9a-f]+)?(?:\s+(\S+))?\s*$")
SENTINEL = re.compile(r"^(MAPPED_LIBRARIES:|--- Memory map:)")


def _header(line: str):
    h = HEADER.match(line)
    if not h:
        return None
    period = int(h[6]) if h[6] else 0
    has_alloc = (h[3] != h[1] and h[3] != "0") or (h[4] != h[2] and h[4] != "0")
    kind = h[5]
    if kind in ("heapz_v2", "heap_v2"):
        return "v2", period, has_alloc
    if kind == "heapprofile":
        return "", 1, has_alloc
    if kind == "heap":
        return "v2", period // 2, has_alloc
    return None


def scale(count: int, size: int, rate: int) -> tuple[int, int]:
    """pprof's ``scaleHeapSample``: the expected allocations behind a sampled (count, size).

    >>> scale(1, 524288, 524288)
    (1, 829411)
    """
    if count == 0 or size == 0:
        return 0, 0
    if rate <= 1:
        return count, size
    s = 1 / (1 - math.exp(-(size / count) / rate))
    return int(count * s), int(size * s)


def read_pprof_legacy(path, prov: Provenance) -> tuple[pd.DataFrame, dict]:
    """Samples of a legacy text heap profile, in :func:`forensics.memory.pprof.read_pprof`'s shape."""
    with open_readonly(path) as f:
        lines = f.read().decode("utf-8", "replace").splitlines()
    start = next((i for i, ln in enumerate(lines[:50]) if ln.lstrip().startswith("heap profile:")), None)
    hdr = _header(lines[start].strip()) if start is not None else None
    if hdr is None:
        raise ArtifactError(path, f"line {(start or 0) + 1}", "no 'heap profile: N: B [N: B] @ heap/RATE' header")
    sampling, rate, has_alloc = hdr
    types = [("alloc_objects", "count"), ("alloc_space", "bytes"), ("inuse_objects", "count"), ("inuse_space", "bytes")] \
        if has_alloc else [("objects", "count"), ("space", "bytes")]
    samples, symbols = [], {}
    for no in range(start + 1, len(lines)):
        line = lines[no].strip()
        if SENTINEL.match(line):
            break
        if line.startswith("#"):
            m = SYMBOL.match(line)
            if m:
                symbols.setdefault(int(m[1], 16), m[2])
            continue
        if not line:
            continue
        m = SAMPLE.match(line)
        if not m:
            raise ArtifactError(path, f"line {no + 1}", f"not a heap profile sample: {line[:80]!r}")
        vals = []
        pairs = ((m[3], m[4]), (m[1], m[2])) if has_alloc else ((m[1], m[2]),)
        for c, b in pairs:
            c, b = int(c), int(b)
            if c == 0 and b != 0:
                raise ArtifactError(path, f"line {no + 1}", f"count 0 but {b} bytes")
            vals += list(scale(c, b, rate)) if sampling == "v2" and c else [c, b]
        addrs = [int(a, 16) for a in m[5].split()]
        samples.append((addrs, vals))
    if not samples and start + 1 < len(lines):
        prov.warn(f"line {start + 1}", "the header is followed by no sample lines")
    rows = []
    for addrs, vals in samples:
        frames = [symbols.get(a, f"0x{a:x}") for a in addrs]
        # Go's debug=1 names the frames; skip the runtime's allocator frames to reach the allocating function
        user = [f for f in frames if not f.startswith(("runtime.", "0x"))] if symbols else frames
        rows.append([(user or frames or ["(no stack)"])[0], ";".join(frames), *vals])
    df = pd.DataFrame(rows, columns=["function", "stack", *[t for t, _ in types]])
    for c in ("function", "stack"):
        df[c] = df[c].astype("str")
    for t, _ in types:
        df[t] = df[t].astype(np.int64)
    info = {"sample_types": types, "period": rate, "period_type": ("space", "bytes"), "samples": len(df),
            "format": "legacy text heap profile", "symbolized": bool(symbols)}
    return df, info
