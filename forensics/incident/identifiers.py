"""Trace and span ids that artifacts share: the strongest evidence that two rows speak of one request.

W3C trace context travels with a request (``traceparent: 00-<32 hex trace id>-<16 hex span id>-01``)
and ends up in places that are not traces: a program's log lines (and so in a crash transcript
that interleaves them), gdb's locals and strings, a sqlcommenter comment that pg_stat_statements
keeps in its query text (``/*traceparent='00-…-01'*/``), the HTTP headers of a plain-text capture.
:func:`mentions` finds them in every loaded artifact that is not itself a trace export, by reading
its bytes read-only (``traceparent`` forms always; a bare 32- or 16-hex token only when it is a
trace or span id of a loaded trace export, so pointers and hashes do not count).

Each mention says where it is in the artifact's own terms: the line of a text file, the frame and
stream of a capture, the queryid of a pg_stat_statements row.
"""
from __future__ import annotations

import bisect
import re
import struct

import numpy as np
import pandas as pd

from ..artifact import map_readonly

TRACEPARENT = re.compile(rb"(?<![0-9A-Za-z])00-([0-9a-fA-F]{32})-([0-9a-fA-F]{16})-[0-9a-fA-F]{2}(?![0-9A-Za-z])")
#: an id its own text labels as one (``trace_id=…``, ``"traceId": "…"``, ``X-B3-TraceId: …``): counted
#: without a trace export too
LABELLED = re.compile(rb"(?i)(?<![0-9a-z])(?:x-b3-)?(trace|span)[_.-]?id[\"']?\s*[:=]\s*[\"']?([0-9a-f]{32}|[0-9a-f]{16})"
                      rb"(?![0-9a-z])")
HEX32 = re.compile(rb"(?<![0-9A-Za-z])([0-9a-fA-F]{32})(?![0-9A-Za-z])")
HEX16 = re.compile(rb"(?<![0-9A-Za-z])([0-9a-fA-F]{16})(?![0-9A-Za-z])")
#: where a crash transcript's program stopped: its last mention before this line names the crashing request
STOP = re.compile(rb"^(?:Thread \d+ \"[^\"]*\" received signal |Program received signal |Program terminated with "
                  rb"signal |panic: |fatal error: |Exception in thread |\s*\* thread #\d+.*stop reason = )", re.M)
#: files larger than this are not scanned for ids (a multi-GB capture is searched by its own tools)
MAX_SCAN = 256 << 20
COLUMNS = ["trace_id", "span_id", "form", "artifact", "artifact_kind", "ref", "location", "excerpt", "key"]


def norm_id(value) -> str:
    """Lower-case hex without leading zeros (a 64-bit Jaeger id and its 128-bit form compare equal)."""
    return str(value).lower().lstrip("0") or "0"


def known_ids(inc) -> tuple[set, set]:
    """(trace ids, span ids) of every loaded trace export, normalised (:func:`norm_id`)."""
    traces, spans = set(), set()
    for art in inc.loaded("traces"):
        s = art.result.spans
        traces |= {norm_id(t) for t in s["trace_id"].unique()}
        spans |= {norm_id(t) for t in s["span_id"].unique()}
    return traces, spans


def _pcap_frames(buf) -> np.ndarray | None:
    """Byte offset where each frame's record starts (classic pcap or pcapng), frame 1 first."""
    head = bytes(buf[:4])
    starts = []
    if head in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = "<" if head in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        pos, n = 24, len(buf)
        while pos + 16 <= n:
            caplen = struct.unpack_from(endian + "I", buf, pos + 8)[0]
            starts.append(pos)
            pos += 16 + caplen
        return np.asarray(starts, dtype=np.int64)
    if head == b"\x0a\x0d\x0d\x0a":
        pos, n, endian = 0, len(buf), "<"
        while pos + 12 <= n:
            btype = struct.unpack_from(endian + "I", buf, pos)[0]
            if btype == 0x0A0D0D0A:
                endian = "<" if bytes(buf[pos + 8:pos + 12]) == b"\x4d\x3c\x2b\x1a" else ">"
            length = struct.unpack_from(endian + "I", buf, pos + 4)[0]
            if length < 12:
                break
            if btype in (2, 3, 6):  # packet, simple packet, enhanced packet blocks
                starts.append(pos)
            pos += length
        return np.asarray(starts, dtype=np.int64)
    return None


def _line_starts(buf) -> np.ndarray:
    arr = np.frombuffer(buf, dtype=np.uint8)
    return np.concatenate([[0], np.flatnonzero(arr == 10) + 1])


def _scan(buf, traces: set, spans: set):
    """(offset, trace id, span id, form) of every id mention in ``buf``."""
    found, taken = [], []
    for m in TRACEPARENT.finditer(buf):
        found.append((m.start(), m.group(1).decode().lower(), m.group(2).decode().lower(), "traceparent"))
        taken.append((m.start(), m.end()))
    def inside(pos):
        i = bisect.bisect_right(taken, (pos, float("inf"))) - 1
        return i >= 0 and taken[i][0] <= pos < taken[i][1]
    for m in LABELLED.finditer(buf):
        if inside(m.start(2)):
            continue
        value = m.group(2).decode().lower()
        if m.group(1).lower() == b"trace":
            found.append((m.start(2), value, None, "trace id"))
        else:
            found.append((m.start(2), None, value, "span id"))
    labelled = sorted((m.start(2), m.end(2)) for m in LABELLED.finditer(buf))
    taken = sorted(taken + labelled)
    if traces or spans:
        for m in HEX32.finditer(buf):
            if not inside(m.start()) and norm_id(m.group(1).decode()) in traces:
                found.append((m.start(), m.group(1).decode().lower(), None, "trace id"))
        for m in HEX16.finditer(buf):
            tok = norm_id(m.group(1).decode())
            if not inside(m.start()) and (tok in spans or tok in traces):
                kind = "span id" if tok in spans else "trace id"
                found.append((m.start(), None if kind == "span id" else m.group(1).decode().lower(),
                              m.group(1).decode().lower() if kind == "span id" else None, kind))
    return sorted(found)


def _excerpt(buf, starts, pos) -> str:
    i = int(np.searchsorted(starts, pos, side="right")) - 1
    end = int(starts[i + 1]) if i + 1 < len(starts) else len(buf)
    line = bytes(buf[int(starts[i]):min(end, int(starts[i]) + 400)]).decode("utf-8", "replace").strip()
    return line[:200], i + 1


def _artifact_mentions(art, traces, spans) -> list[dict]:
    if art.provenance is None or art.provenance.size > MAX_SCAN:
        return []
    buf = map_readonly(art.path)
    if not len(buf):
        return []
    hits = _scan(buf, traces, spans)
    if not hits:
        return []
    out = []
    if art.artifact_kind == "network":
        frames = _pcap_frames(buf)
        pk = art.result.packets.set_index("frame")["stream"]
        for pos, tid, sid, form in hits:
            n = int(np.searchsorted(frames, pos, side="right")) if frames is not None else 0
            stream = pk.get(n) if n else None
            ref = f"stream {int(stream)}" if stream is not None and stream >= 0 else (f"frame {n}" if n else "capture")
            out.append({"trace_id": tid, "span_id": sid, "form": form, "ref": ref,
                        "location": f"frame {n}" if n else f"byte {pos:,}", "excerpt": "", "key": False})
        return out
    starts = _line_starts(buf)
    stop = STOP.search(buf) if art.artifact_kind == "crashes" else None
    queries = art.result.statements if art.kind == "pg_stat_statements" else None
    for pos, tid, sid, form in hits:
        excerpt, line = _excerpt(buf, starts, pos)
        ref = art.file
        if queries is not None:
            needle = sid or tid  # a statement's own span id: statements of one trace share its trace id
            q = queries[queries["query"].astype(str).str.contains(needle, case=False, regex=False, na=False)]
            ref = str(q["queryid"].iloc[0]) if len(q) else art.file
        out.append({"trace_id": tid, "span_id": sid, "form": form, "ref": ref, "location": f"line {line:,}",
                    "excerpt": excerpt, "key": bool(stop is not None and pos < stop.start())})
    out = _merge_by_line(out)
    if stop is not None:  # only the last mention before the stop names the request that crashed
        before = [m for m in out if m["key"]]
        for m in before[:-1]:
            m["key"] = False
    return out


def _merge_by_line(found: list[dict]) -> list[dict]:
    """One mention per line and trace: a ``trace_id=… span_id=…`` line is one request, not two."""
    out = []
    for m in found:
        prev = out[-1] if out else None
        if (prev is not None and prev["location"] == m["location"] and prev["ref"] == m["ref"]
                and ((prev["trace_id"] and not prev["span_id"] and m["span_id"] and not m["trace_id"])
                     or (prev["span_id"] and not prev["trace_id"] and m["trace_id"] and not m["span_id"]))):
            prev["trace_id"] = prev["trace_id"] or m["trace_id"]
            prev["span_id"] = prev["span_id"] or m["span_id"]
            prev["form"] = "trace id"
            prev["key"] = prev["key"] or m["key"]
            continue
        out.append(m)
    return out


def mentions(inc) -> pd.DataFrame:
    """Every trace/span id mention in the loaded artifacts that are not trace exports (:data:`COLUMNS`).

    ``key`` marks a crash transcript's last mention before the program stopped (the crashing request).
    """
    traces, spans = known_ids(inc)
    rows = []
    for art in inc.loaded():
        if art.artifact_kind == "traces":
            continue
        try:
            found = _artifact_mentions(art, traces, spans)
        except Exception as e:  # one odd file must not hide the other artifacts' ids
            inc.notes.append(f"identifiers: {art.file}: not scanned: {type(e).__name__}: {e}")
            continue
        for m in found:
            m.update(artifact=art.file, artifact_kind=art.artifact_kind)
        rows += found
    return pd.DataFrame(rows, columns=COLUMNS)
