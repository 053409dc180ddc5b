"""How a capture set's records reach the analysis: ordered by first packet, file after file,
with mergecap's rules where files meet (ties to the later file) or overlap (time-order merge),
in the batches one read of the merged file would give.

Used by :mod:`forensics.sets.captures` (one process), :mod:`forensics.sets.local_workers` (every
worker reads the set this way) and :mod:`forensics.sets.partitioned` (Dask).
"""
from __future__ import annotations

import dataclasses
import os

import numba
import numpy as np

from .. import __version__
from ..artifact import Provenance
from ..network.pcap import BackgroundHash, read_capture

BATCH = 1 << 16


class _Stop(Exception):
    """Raised by a consumer to end a read early."""


class _FirstRecord(_Stop):
    pass


def _quiet(unraisable):
    """The reader's chunk generator, finalised after its file closed on an early stop, may complain
    while cleaning up; nothing was lost (we stopped on purpose), so that one complaint is not shown."""
    if not isinstance(unraisable.exc_value, ValueError):
        _HOOK[0](unraisable)


_HOOK = [None]


def read_stoppable(path, consume, **options):
    """:func:`read_capture` whose ``consume`` may raise a :class:`_Stop` to end the read early
    (re-raised here, after the reader's clean-up)."""
    import gc
    import sys

    _HOOK[0] = sys.unraisablehook
    sys.unraisablehook = _quiet
    try:
        try:
            return read_capture(path, consume=consume, **options)
        except _Stop as e:
            stopped = e.with_traceback(None)  # drop the reader's frames (and its generator) now
        gc.collect(0)  # the youngest generation holds it, if a cycle does
        raise stopped
    finally:
        sys.unraisablehook = _HOOK[0]


def first_timestamp(path) -> int | None:
    """Timestamp (ns, UTC) of the first packet of a capture, reading as little as the reader allows;
    None for a capture without packets."""
    got = []

    def stop(batch):
        if batch.shape[0]:
            got.append(int(batch["ts"][0]))
            raise _FirstRecord
    try:
        read_stoppable(path, stop, chunk_records=1, progress_desc="finding first packet")
    except _FirstRecord:
        pass
    return got[0] if got else None


@dataclasses.dataclass
class MemberStats:
    """What reading one member showed: counts, time range, the longest silence inside it."""

    path: str
    kind: str
    first_ts: int | None
    provenance: Provenance | None = None
    packets: int = 0
    start: int | None = None       # earliest timestamp
    end: int | None = None         # latest timestamp
    last: int | None = None        # timestamp of the last record (file order)
    silence: int = 0               # longest gap between consecutive packets, ns
    linktypes: list = dataclasses.field(default_factory=list)
    read_warnings: list = dataclasses.field(default_factory=list)  # the reader's (offset, reason) pairs

    def add(self, ts: np.ndarray):
        if not ts.shape[0]:
            return
        lo, hi = int(ts.min()), int(ts.max())
        self.start = lo if self.start is None else min(self.start, lo)
        self.end = hi if self.end is None else max(self.end, hi)
        if self.last is not None:
            self.silence = max(self.silence, int(ts[0]) - self.last)
        if ts.shape[0] > 1:
            self.silence = max(self.silence, int(np.diff(ts).max()))
        self.last = int(ts[-1])
        self.packets += ts.shape[0]


@numba.njit(cache=True)
def merge_order(ts, starts, ends):
    """mergecap's chronological merge of several files' records: repeatedly take the earliest next
    record of any file (ties to the file listed first). Returns row numbers into ``ts``."""
    k = starts.shape[0]
    pos = starts.copy()
    total = 0
    for f in range(k):
        total += ends[f] - starts[f]
    out = np.empty(total, np.int64)
    for j in range(total):
        best = -1
        for f in range(k):
            if pos[f] < ends[f] and (best < 0 or ts[pos[f]] <= ts[pos[best]]):
                best = f
        out[j] = pos[best]
        pos[best] += 1
    return out


class _Overlap(_Stop):
    pass


def order_members(files: list[tuple[str, str]]) -> list[MemberStats]:
    """Members sorted by their first packet's timestamp (ties, and empty files, by path)."""
    stats = [MemberStats(p, k, first_timestamp(p)) for p, k in files]
    big = np.iinfo(np.int64).max
    return sorted(stats, key=lambda m: (big if m.first_ts is None else m.first_ts, m.path))


def _member_provenance(m: MemberStats, fmt: str | None) -> Provenance:
    st = os.stat(m.path)
    return Provenance(path=m.path, size=st.st_size, sha256="", kind=m.kind, format=fmt,
                      parser="forensics.sets", parser_version=__version__, mtime=st.st_mtime)


def _read_member(m: MemberStats, consume, hashed=True):
    """Stream one member into ``consume``; fills its provenance (hash from the same reads, unless
    ``hashed`` is false: another worker hashes that file) and warnings."""
    raw = read_stoppable(m.path, consume, hasher=BackgroundHash() if hashed else None,
                         progress_desc=os.path.basename(m.path))
    m.provenance = _member_provenance(m, raw.format)
    m.provenance.sha256 = raw.sha256 or ""
    m.linktypes = list(raw.linktypes)
    m.read_warnings = list(raw.warnings)
    for off, reason in raw.warnings:
        m.provenance.warn(off, reason)
    return raw


def feed_members(members: list[MemberStats], sink, bar=None, hashed=None) -> bool:
    """Hand every record of the set to ``sink(batch, member_index)`` in analysis order.

    Streams file after file. Where a file's last packets carry exactly the next file's first
    timestamp, mergecap (ties go to the later file) puts the next file's packets of that
    instant first: those last packets are held back and handed over after them. If a file
    reaches past the next file's first packet (or goes back in time after such a tie),
    stops with :class:`_Overlap` (the caller starts again with ``merged=True``).
    ``hashed``: the indices of the members to hash (default: all).
    """
    firsts = [m.first_ts for m in members]
    held = []          # [(records, member index)] of the previous file's tail at the tie instant
    tie = [None]       # the tie timestamp while the current file's leading packets of that instant pass

    def release():
        for r, j in held:
            sink(r, j)
        held.clear()
        tie[0] = None

    for i, m in enumerate(members):
        nxt = next((t for t in firsts[i + 1:] if t is not None), None)
        holding = [False]

        def consume(batch, i=i, m=m, nxt=nxt, holding=holding):
            ts = batch["ts"]
            m.add(ts)
            if tie[0] is not None and nxt == tie[0]:  # three files sharing one instant: the exact merge
                raise _Overlap
            if tie[0] is not None:  # this file's packets of the tie instant go before the held tail
                k = int(np.argmax(ts != tie[0])) if (ts != tie[0]).any() else ts.shape[0]
                if k:
                    sink(batch[:k], i)
                if k == ts.shape[0]:
                    return
                release()
                batch, ts = batch[k:], ts[k:]
            if nxt is None:
                sink(batch, i)
                return
            if holding[0]:
                if (ts != nxt).any():
                    raise _Overlap
                held.append((batch.copy(), i))
                return
            if (ts > nxt).any():
                raise _Overlap
            at = np.flatnonzero(ts == nxt)
            if not at.shape[0]:
                sink(batch, i)
                return
            if (ts[at[0]:] != nxt).any():
                raise _Overlap
            if at[0]:
                sink(batch[:at[0]], i)
            held.append((batch[at[0]:].copy(), i))
            holding[0] = True
        _read_member(m, consume, hashed is None or i in hashed)
        if held and holding[0]:
            tie[0] = nxt
        if bar is not None:
            bar.update(1)
    release()
    return False


def feed_members_merged(members: list[MemberStats], sink, bar=None, hashed=None):
    """As :func:`feed_members`, for sets whose files overlap in time: each group of overlapping files
    is read whole and merged in time order (mergecap's rule); other files stream as before."""
    recs = []
    for i, m in enumerate(members):
        collected = []
        _read_member(m, lambda b, c=collected: c.append(b.copy()), hashed is None or i in hashed)
        r = np.concatenate(collected) if collected else None
        m.add(r["ts"] if r is not None else np.zeros(0, np.int64))
        recs.append(r)
        if bar is not None:
            bar.update(1)
    groups, cur, cur_end = [], [], None
    for i, m in enumerate(members):
        if cur and m.first_ts is not None and cur_end is not None and m.first_ts <= cur_end:
            cur.append(i)
        else:
            if cur:
                groups.append(cur)
            cur = [i]
            cur_end = None
        if m.end is not None:
            cur_end = m.end if cur_end is None else max(cur_end, m.end)
    groups.append(cur)
    for g in groups:
        parts = [(i, recs[i]) for i in g if recs[i] is not None and recs[i].shape[0]]
        if not parts:
            continue
        if len(parts) == 1:
            allrec, owner = parts[0][1], np.full(parts[0][1].shape[0], parts[0][0], np.int32)
        else:
            allrec = np.concatenate([r for _, r in parts])
            owner = np.concatenate([np.full(r.shape[0], i, np.int32) for i, r in parts])
            sizes = np.array([r.shape[0] for _, r in parts], np.int64)
            ends = np.cumsum(sizes)
            order = merge_order(allrec["ts"], ends - sizes, ends)
            allrec, owner = allrec[order], owner[order]
        for s in range(0, allrec.shape[0], BATCH):
            b, o = allrec[s:s + BATCH], owner[s:s + BATCH]
            # a merged batch mixes files: hand it over in runs of one file each
            cuts = np.flatnonzero(np.diff(o)) + 1
            for run_s, run_e in zip(np.r_[0, cuts], np.r_[cuts, b.shape[0]]):
                sink(b[run_s:run_e], int(o[run_s]))


class Rebatch:
    """Hands ``sink(records, owners)`` batches of exactly :data:`BATCH` records (the last one shorter),
    whatever the files' sizes: the batches one read of the merged file gives. (The analyser numbers
    tunnels' outer addresses batch by batch, so the address categories' order depends on it.)

    Records are copied once, into one buffer the sink is handed (and must not keep: the next batch
    overwrites it); a batch that arrives whole while the buffer is empty is handed over as it is."""

    def __init__(self, sink, size=BATCH):
        self.sink, self.size = sink, size
        self.buf, self.own, self.n = None, np.zeros(size, np.int16), 0

    def __call__(self, batch, i):
        m = batch.shape[0]
        scalar = np.isscalar(i)
        owners = None if scalar else np.asarray(i, np.int16)
        pos = 0
        if self.n == 0 and m == self.size:
            self.sink(batch, np.full(m, i, np.int16) if scalar else owners)
            return
        if self.buf is None or self.buf.dtype != batch.dtype:
            self.flush()
            self.buf = np.zeros(self.size, batch.dtype)
        while pos < m:
            take = min(self.size - self.n, m - pos)
            self.buf[self.n:self.n + take] = batch[pos:pos + take]
            self.own[self.n:self.n + take] = i if scalar else owners[pos:pos + take]
            self.n += take
            pos += take
            if self.n == self.size:
                self.flush()

    def flush(self):
        if self.n:
            n, self.n = self.n, 0
            self.sink(self.buf[:n], self.own[:n].copy())
