"""Go pprof heap profiles (gzipped ``profile.proto``), decoded with a small protobuf reader.

Only the parts a heap diff needs are read: sample types, samples (location ids
and values), locations (with inlined lines: the first line is the innermost
function) and functions, resolved through the string table. Heap profile
values are *sampled estimates* (scaled by the runtime's ``MemProfileRate``).

>>> list(_fields(bytes([0x08, 0x96, 0x01, 0x12, 0x02, 0x61, 0x62])))
[(1, 0, 150), (2, 2, b'ab')]
"""
from __future__ import annotations

import re
import zlib

import numpy as np
import pandas as pd

from ..artifact import Provenance, open_readonly
from ..errors import ArtifactError

#: refuse to inflate beyond this (a gzip bomb is not a profile)
MAX_INFLATED = 1 << 30


class _Bad(Exception):
    def __init__(self, offset, reason):
        self.offset, self.reason = offset, reason


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if i >= len(buf):
            raise _Bad(i, "varint runs past the end of the message")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7
        if shift > 63:
            raise _Bad(i, "varint longer than 10 bytes")


def _fields(buf: bytes):
    """(field number, wire type, value) for each field of one message."""
    i = 0
    n = len(buf)
    while i < n:
        key, i = _varint(buf, i)
        field, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(buf, i)
        elif wt == 2:
            ln, i = _varint(buf, i)
            if i + ln > n:
                raise _Bad(i, f"field {field} claims {ln:,} bytes; only {n - i:,} left")
            v, i = buf[i:i + ln], i + ln
        elif wt == 1:
            if i + 8 > n:
                raise _Bad(i, "fixed64 cut short")
            v, i = int.from_bytes(buf[i:i + 8], "little"), i + 8
        elif wt == 5:
            if i + 4 > n:
                raise _Bad(i, "fixed32 cut short")
            v, i = int.from_bytes(buf[i:i + 4], "little"), i + 4
        else:
            raise _Bad(i, f"wire type {wt} (field {field}) is not valid protobuf")
        if field == 0:
            raise _Bad(i, "field number 0")
        yield field, wt, v


def _ints(wt, v) -> list[int]:
    """A repeated integer field, packed or not (int64 values may be negative)."""
    if wt == 0:
        vals = [v]
    else:
        vals, i = [], 0
        while i < len(v):
            x, i = _varint(v, i)
            vals.append(x)
    return [x - (1 << 64) if x >= 1 << 63 else x for x in vals]


def _signed(x: int) -> int:
    return x - (1 << 64) if x >= 1 << 63 else x


def decode_profile(data: bytes) -> dict:
    """The decoded profile: sample types, samples, locations → function names."""
    strings: list[str] = []
    sample_types, samples, locations, functions = [], [], {}, {}
    meta = {}
    for f, wt, v in _fields(data):
        if f == 1 and wt == 2:
            t = dict((ff, vv) for ff, _, vv in _fields(v))
            sample_types.append((t.get(1, 0), t.get(2, 0)))
        elif f == 2 and wt == 2:
            locs, vals = [], []
            for ff, w2, vv in _fields(v):
                if ff == 1:
                    locs.extend(_ints(w2, vv))
                elif ff == 2:
                    vals.extend(_ints(w2, vv))
            samples.append((tuple(locs), vals))
        elif f == 4 and wt == 2:
            lid, lines = 0, []
            for ff, w2, vv in _fields(v):
                if ff == 1:
                    lid = vv
                elif ff == 4 and w2 == 2:
                    ln = dict((a, b) for a, _, b in _fields(vv))
                    lines.append((ln.get(1, 0), _signed(ln.get(2, 0))))
            locations[lid] = lines
        elif f == 5 and wt == 2:
            fn = dict((ff, vv) for ff, _, vv in _fields(v))
            functions[fn.get(1, 0)] = (fn.get(2, 0), fn.get(4, 0))
        elif f == 6 and wt == 2:
            strings.append(v.decode("utf-8", "replace"))
        elif f in (9, 10, 12) and wt == 0:
            meta[{9: "time_nanos", 10: "duration_nanos", 12: "period"}[f]] = _signed(v)
        elif f == 11 and wt == 2:
            t = dict((ff, vv) for ff, _, vv in _fields(v))
            meta["period_type"] = (t.get(1, 0), t.get(2, 0))

    def s(i):
        return strings[i] if 0 <= i < len(strings) else f"(string #{i})"

    return {"sample_types": [(s(a), s(b)) for a, b in sample_types], "samples": samples,
            "locations": locations, "functions": {k: (s(a), s(b)) for k, (a, b) in functions.items()},
            "meta": {k: (tuple(s(x) for x in v) if k == "period_type" else v) for k, v in meta.items()}}


def read_pprof(path, prov: Provenance) -> tuple[pd.DataFrame, dict]:
    """Samples as rows: ``function`` (leaf), ``stack`` (leaf first, ``;``-joined), one column per sample type.

    Column names are the sample types (``inuse_space``, ``alloc_objects``, …).
    """
    with open_readonly(path) as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = d.decompress(raw, MAX_INFLATED)
        except zlib.error as e:
            raise ArtifactError(path, 0, f"gzip data is corrupt ({e})") from None
        if d.unconsumed_tail:
            raise ArtifactError(path, 0, f"inflates past {MAX_INFLATED:,} bytes; not a plausible profile")
        if not d.eof:
            prov.warn(len(raw), "the gzip stream is cut short; decoding what was inflated")
    else:
        data = raw
    try:
        prof = decode_profile(data)
    except _Bad as e:
        raise ArtifactError(path, f"profile.proto byte {e.offset:,} (inflated)", e.reason) from None
    except (IndexError, ValueError, TypeError, UnicodeDecodeError) as e:
        raise ArtifactError(path, "profile.proto", f"not a valid profile message ({e})") from None
    types = [t for t, _ in prof["sample_types"]]
    if not types:
        raise ArtifactError(path, "profile.proto", "the profile declares no sample types")
    names = {}
    for lid, lines in prof["locations"].items():
        names[lid] = [prof["functions"].get(fid, (f"(function #{fid})", ""))[0] for fid, _ in lines] or [f"(location #{lid})"]
    rows = []
    bad = 0
    for locs, vals in prof["samples"]:
        if len(vals) != len(types):
            bad += 1
            continue
        frames = [fn for lid in locs for fn in names.get(lid, [f"(location #{lid})"])]
        rows.append([frames[0] if frames else "(no stack)", ";".join(frames), *vals])
    if bad:
        prov.warn("samples", f"{bad} samples have the wrong number of values and were skipped")
    df = pd.DataFrame(rows, columns=["function", "stack", *types])
    for c in ("function", "stack"):
        df[c] = df[c].astype("str")
    for t in types:
        df[t] = df[t].astype(np.int64)
    info = {"sample_types": prof["sample_types"], **prof["meta"], "samples": len(df)}
    return df, info


def top(df: pd.DataFrame, value: str, cum: bool = False) -> pd.Series:
    """``pprof -top``: flat (leaf function) or cumulative (anywhere on the stack, once per sample) totals."""
    if not cum:
        return df.groupby("function")[value].sum()
    exploded = df.assign(fn=df["stack"].str.split(";"), _sample=np.arange(len(df))).explode("fn")
    return exploded.drop_duplicates(["_sample", "fn"]).groupby("fn")[value].sum()


_UNIT = {"B": 1, "kB": 1024, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3, "TB": 1024 ** 4}
_TOP_ROW = re.compile(r"^\s*(-?[\d.]+)([kKMGT]?B)?\s+(-?[\d.]+)%\s+(-?[\d.]+)%\s+(-?[\d.]+)([kKMGT]?B)?\s+(-?[\d.]+)%\s+(.+?)\s*$")


def _scaled(num: str, unit: str | None) -> int:
    return int(round(float(num) * _UNIT.get(unit or "B", 1)))


def read_pprof_top(path, prov: Provenance) -> tuple[pd.DataFrame, dict]:
    """Rows of a ``go tool pprof -top`` text report: ``function, flat, cum`` (+ percentages).

    pprof's ``MB`` means MiB. Whether the report is a ``-base`` diff is not
    written in it; loaded alone, it is treated as one (the values are growth).
    """
    with open_readonly(path) as f:
        lines = f.read().decode("utf-8", "replace").splitlines()
    info = {"type": None, "report": "pprof -top"}
    rows, in_table = [], False
    for no, line in enumerate(lines, 1):
        if line.startswith("Type:"):
            info["type"] = line.split(":", 1)[1].strip()
        elif re.match(r"^\s*flat\s+flat%", line):
            in_table = True
        elif in_table and line.strip():
            m = _TOP_ROW.match(line)
            if not m:
                raise ArtifactError(path, f"line {no}", f"not a pprof -top row: {line.strip()[:80]!r}")
            fn = m[8][:-len(" (inline)")] if m[8].endswith(" (inline)") else m[8]
            rows.append((fn, _scaled(m[1], m[2]), float(m[3]), _scaled(m[5], m[6]), float(m[7])))
    if not in_table:
        raise ArtifactError(path, "line 1", "no 'flat flat% sum% cum cum%' table: not a pprof -top report")
    df = pd.DataFrame(rows, columns=["function", "flat", "flat_pct", "cum", "cum_pct"])
    df["function"] = df["function"].astype("str")
    return df, info
