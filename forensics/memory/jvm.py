"""JVM class histograms: ``jmap -histo[:live]`` and ``jcmd PID GC.class_histogram`` text.

Both print ``num: #instances #bytes class name (module)`` rows and a ``Total``
row; ``jcmd`` starts with a ``PID:`` line. Class names are JVM descriptors
(``[B``, ``[Ljava.lang.Object;``); :func:`readable` spells them as Java does.

>>> readable("[Ljava.lang.Object;")
'java.lang.Object[]'
>>> readable("[[I")
'int[][]'
>>> readable("LeakyService$OrderRecord")
'LeakyService.OrderRecord'
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..artifact import Provenance, open_readonly
from ..errors import ArtifactError

_PRIM = {"B": "byte", "C": "char", "D": "double", "F": "float", "I": "int", "J": "long", "S": "short", "Z": "boolean"}
_ROW = re.compile(r"^\s*(\d+):\s+(\d+)\s+(\d+)\s+(\S+)(?:\s+\((.*)\))?\s*$")
_TOTAL = re.compile(r"^\s*Total\s+(\d+)\s+(\d+)\s*$")
_HEADER = re.compile(r"#instances\s+#bytes\s+class name", re.I)


def readable(descriptor: str) -> str:
    """Java source spelling of a JVM class descriptor (arrays, primitives, nested classes)."""
    d = descriptor
    dims = len(d) - len(d.lstrip("["))
    base = d[dims:]
    if dims:
        if base in _PRIM:
            base = _PRIM[base]
        elif base.startswith("L") and base.endswith(";"):
            base = base[1:-1]
    base = base.replace("/", ".")
    if "$" in base and not base.endswith("$"):
        base = re.sub(r"\$(?=[A-Za-z_])", ".", base)
    return base + "[]" * dims


def read_histogram(path, prov: Provenance) -> tuple[pd.DataFrame, dict]:
    """Rows of a class histogram as a DataFrame: ``rank, name, readable, module, count, bytes``.

    A line that looks like a row but does not parse raises :class:`ArtifactError`
    with its line number (a mangled histogram cannot be diffed safely); a
    missing ``Total`` row (cut-short output) is a warning.
    """
    with open_readonly(path) as f:
        text = f.read().decode("utf-8", "replace")
    lines = text.splitlines()
    info = {"pid": None, "tool": "jmap -histo", "total_count": None, "total_bytes": None}
    rows = []
    header_seen = False
    for no, line in enumerate(lines, 1):
        s = line.strip()
        if not s or set(s) <= {"-"}:
            continue
        if re.fullmatch(r"\d+:", s):
            info["pid"], info["tool"] = int(s[:-1]), "jcmd GC.class_histogram"
            continue
        if _HEADER.search(s):
            header_seen = True
            continue
        m = _ROW.match(line)
        if m:
            rows.append((int(m[1]), m[4], m[5] or "", int(m[2]), int(m[3]), no))
            continue
        t = _TOTAL.match(line)
        if t:
            info["total_count"], info["total_bytes"] = int(t[1]), int(t[2])
            continue
        if not header_seen and not rows:
            continue  # e.g. a shell prompt or a warning before the table
        raise ArtifactError(path, f"line {no}", f"not a class-histogram row: {s[:80]!r} "
                            "(expected 'num: #instances #bytes class name')")
    if not header_seen:
        raise ArtifactError(path, "line 1", "no '#instances #bytes class name' header: not a jmap/jcmd class histogram")
    df = pd.DataFrame(rows, columns=["rank", "name", "module", "count", "bytes", "line"])
    df["rank"] = df["rank"].astype(np.int64)
    if len(df) and df["rank"].duplicated().any():
        dup = df[df["rank"].duplicated()].iloc[0]
        raise ArtifactError(path, f"line {int(dup['line'])}", f"row number {int(dup['rank'])} appears twice")
    if info["total_count"] is None:
        prov.warn(f"line {len(lines)}", "no 'Total' row — the histogram output looks cut short")
    elif len(df) and (int(df["count"].sum()) != info["total_count"] or int(df["bytes"].sum()) != info["total_bytes"]):
        prov.warn("Total row", f"rows add up to {int(df['count'].sum()):,} instances / {int(df['bytes'].sum()):,} bytes "
                  f"but Total says {info['total_count']:,} / {info['total_bytes']:,} — rows missing?")
    df.insert(2, "readable", df["name"].map(readable).astype("str"))
    df["name"] = df["name"].astype("str")
    df["module"] = df["module"].astype("str")
    return df.drop(columns="line"), info
