"""Python tracemalloc statistics printed as text (``print(stat)`` lines).

Reads ``Snapshot.statistics(key)`` lines (``file:line: size=…, count=…,
average=…``) and ``Snapshot.compare_to(old, key)`` lines (``size=… (+…),
count=… (+…)``), in ``lineno``, ``filename`` and ``traceback`` modes.

The trap in ``traceback`` mode: tracebacks are stored oldest-frame first, and
``str(Traceback)`` is its first frame, so every header line names the
*outermost* frame (often ``main()``). The allocation site is the last
``File "…", line N`` of the indented block printed by
``stat.traceback.format()`` under the header; this reader attributes each
statistic to that frame. Without the block the allocation site is unknown and
the reader says so.

>>> parse_size("93.8 KiB"), parse_size("-2016 B")
(96051, -2016)
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..artifact import Provenance, open_readonly
from ..errors import ArtifactError

_UNITS = {"B": 1, "KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3, "TiB": 1024 ** 4}
_SIZE = r"([+-]?\d+(?:\.\d+)?) (B|KiB|MiB|GiB|TiB)"
_STAT = re.compile(
    rf"^(?P<site>\S.*?): size={_SIZE}(?: \({_SIZE}\))?, count=(?P<count>-?\d+)(?: \((?P<cdiff>[+-]\d+)\))?"
    rf"(?:, average={_SIZE})?\s*$"
)
_FRAME = re.compile(r'^\s+File "(?P<file>.*)", line (?P<line>\d+)\s*$')
_SITE = re.compile(r"^(?P<file>.*):(?P<line>\d+)$")


def parse_size(text: str) -> int:
    """Bytes from tracemalloc's rounded size text (``'175 KiB'`` → 179200)."""
    m = re.fullmatch(_SIZE, text.strip())
    if not m:
        raise ValueError(text)
    return int(round(float(m[1]) * _UNITS[m[2]]))


def read_tracemalloc(path, prov: Provenance) -> tuple[pd.DataFrame, dict]:
    """One row per statistic: ``site, file, line, header_site, size, size_diff, count, count_diff, frames, traceback``.

    ``site`` is the allocation site (``file:line``; in traceback mode the
    innermost printed frame). ``size_diff``/``count_diff`` are NA for plain
    statistics. Sizes are rounded as tracemalloc prints them.
    """
    with open_readonly(path) as f:
        raw = f.read()
    if raw[:1] == b"\x80":
        raise ArtifactError(path, 0, "a pickle, not tracemalloc text (see the python-pickle kind)")
    lines = raw.decode("utf-8", "replace").splitlines()
    rows = []
    skipped = 0
    cur = None
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        m = _STAT.match(line)
        if m:
            g = m.groups()
            size = int(round(float(g[1]) * _UNITS[g[2]]))
            size_diff = int(round(float(g[3]) * _UNITS[g[4]])) if g[3] is not None else None
            cur = {"header_site": m["site"], "size": size, "size_diff": size_diff, "count": int(m["count"]),
                   "count_diff": int(m["cdiff"]) if m["cdiff"] is not None else None, "frames": [], "line_no": no}
            rows.append(cur)
            continue
        fm = _FRAME.match(line)
        if fm and cur is not None:
            cur["frames"].append(f'{fm["file"]}:{fm["line"]}')
            continue
        if cur is not None and line.startswith("    ") and cur["frames"]:
            continue  # the source line printed under a frame
        if line.startswith("[") or line.lstrip().startswith("#"):
            continue  # '[ Top 10 differences ]' style captions
        skipped += 1
        if skipped <= 3:
            prov.warn(f"line {no}", f"not a tracemalloc statistic line, skipped: {line.strip()[:80]!r}")
    if not rows:
        raise ArtifactError(path, "line 1", "no tracemalloc statistic lines ('file:line: size=…, count=…')")
    if skipped > 3:
        prov.warn("file", f"{skipped} lines in all were not statistics and were skipped")
    with_frames = sum(1 for r in rows if r["frames"])
    mode = "traceback" if with_frames else ("filename" if not any(_SITE.match(r["header_site"]) for r in rows) else "lineno")
    headers = [r["header_site"] for r in rows]
    if not with_frames and len(headers) != len(set(headers)):
        # several statistics share a header: traceback mode printed without stat.traceback.format()
        mode = "traceback (headers only)"
        prov.warn("file", "several statistics name the same first frame and no traceback blocks were printed: "
                  "this is 'traceback' mode, where the header is the OUTERMOST frame, not the allocation site. "
                  "Print stat.traceback.format() under each statistic to get the allocating line")
    out = []
    for r in rows:
        site = r["frames"][-1] if r["frames"] else r["header_site"]
        sm = _SITE.match(site)
        out.append({"site": site, "file": sm["file"] if sm else site, "line": int(sm["line"]) if sm else None,
                    "header_site": r["header_site"], "size": r["size"], "size_diff": r["size_diff"],
                    "count": r["count"], "count_diff": r["count_diff"], "frames": len(r["frames"]),
                    "traceback": " <- ".join(reversed(r["frames"])) if r["frames"] else ""})
    df = pd.DataFrame(out)
    for c in ("size", "count", "frames"):
        df[c] = df[c].astype(np.int64)
    for c in ("size_diff", "count_diff", "line"):
        df[c] = df[c].astype("Int64")
    for c in ("site", "file", "header_site", "traceback"):
        df[c] = df[c].astype("str")
    is_diff = bool(df["size_diff"].notna().all())
    return df, {"mode": mode, "is_diff": is_diff, "statistics": len(df)}
