"""A capture set: several pcap/pcapng files analysed as one capture.

Files are ordered by their first packet's timestamp and read one after the other
into one TCP analysis whose state (streams, sequence numbers, unacked segments,
dup-ACK counts) carries across file boundaries, so a connection cut by a
``tcpdump -C``/``-G``/``editcap -c`` rotation is analysed as the connection it was:
the result equals loading the ``mergecap``-merged file (frame numbers, every flag,
every stream). Files whose time ranges overlap (one capture per host) are merged
in time order exactly as ``mergecap`` does (the earliest next packet first; ties
to the earlier file) — held in memory for that — and the overlap is reported.

>>> s = load_capture_set("evidence/rotated/")                  # doctest: +SKIP
>>> s.members[["file", "packets", "start", "end", "gap_before_s"]]   # doctest: +SKIP
>>> s.packets.loc[s.packets.retransmission]                    # doctest: +SKIP
"""
from __future__ import annotations

import dataclasses
import hashlib
import os

import numba
import numpy as np
import pandas as pd

from .. import __version__
from ..artifact import Provenance
from ..errors import ArtifactError
from ..network.load import Capture, PacketColumns, flag_counts
from ..network.pcap import BackgroundHash, read_capture
from ..network.tcp_analysis import FLAG_NAMES, Analyzer
from ..progress import progress
from .members import Listing, list_members, relative

BATCH = 1 << 16


class _FirstRecord(Exception):
    pass


def first_timestamp(path) -> int | None:
    """Timestamp (ns, UTC) of the first packet of a capture, reading as little as the reader allows;
    None for a capture without packets."""
    got = []

    def stop(batch):
        if batch.shape[0]:
            got.append(int(batch["ts"][0]))
            raise _FirstRecord
    try:
        read_capture(path, consume=stop, chunk_records=1, progress_desc="finding first packet")
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


@dataclasses.dataclass
class CaptureSet(Capture):
    """A :class:`~forensics.network.load.Capture` made of several files.

    ``members``: one row per file in analysis order (file, kind, size, sha256, packets,
    first/last frame in the set, start, end, gap_before_s — negative when it overlaps
    the previous file —, longest_silence_s, warnings). ``packet_member``: for each row of
    ``packets``, the index of its file in ``members``; :meth:`frame_source` turns a set
    frame number back into (file, frame in that file).
    """

    members: pd.DataFrame | None = None
    packet_member: np.ndarray | None = None
    notes: list = dataclasses.field(default_factory=list)

    def frame_source(self, frame: int) -> tuple[str, int]:
        """(member file, frame number inside that file) of set frame ``frame``."""
        i = int(self.packet_member[frame - 1])
        inside = int(np.count_nonzero(self.packet_member[:frame] == i))
        return self.members["file"].iat[i], inside


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


class _Overlap(Exception):
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


def _read_member(m: MemberStats, consume):
    """Stream one member into ``consume``; fills its provenance (hash from the same reads) and warnings."""
    raw = read_capture(m.path, consume=consume, hasher=BackgroundHash(), progress_desc=os.path.basename(m.path))
    m.provenance = _member_provenance(m, raw.format)
    m.provenance.sha256 = raw.sha256
    m.linktypes = list(raw.linktypes)
    for off, reason in raw.warnings:
        m.provenance.warn(off, reason)
    return raw


def feed_members(members: list[MemberStats], sink, bar=None) -> bool:
    """Hand every record of the set to ``sink(batch, member_index)`` in analysis order.

    Streams file after file. Where a file's last packets carry exactly the next file's first
    timestamp, mergecap (ties go to the later file) puts the next file's packets of that
    instant first: those last packets are held back and handed over after them. If a file
    reaches past the next file's first packet (or goes back in time after such a tie),
    stops with :class:`_Overlap` (the caller starts again with ``merged=True``).
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
        _read_member(m, consume)
        if held and holding[0]:
            tie[0] = nxt
        if bar is not None:
            bar.update(1)
    release()
    return False


def feed_members_merged(members: list[MemberStats], sink, bar=None):
    """As :func:`feed_members`, for sets whose files overlap in time: each group of overlapping files
    is read whole and merged in time order (mergecap's rule); other files stream as before."""
    recs = []
    for m in members:
        collected = []
        _read_member(m, lambda b, c=collected: c.append(b.copy()))
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


def _set_provenance(listing: Listing, members: list[MemberStats]) -> Provenance:
    """The set's provenance: its folder, total size, and a SHA-256 of the member list
    (``sha256sum`` lines of the members in analysis order), with every member's own provenance."""
    lines = "".join(f"{m.provenance.sha256}  {relative(m.path, listing.root)}\n" for m in members)
    fmts = sorted({m.provenance.format for m in members if m.provenance.format})
    prov = Provenance(path=listing.root, size=sum(m.provenance.size for m in members),
                      sha256=hashlib.sha256(lines.encode()).hexdigest(), kind="capture-set",
                      format=f"{len(members)} files ({', '.join(fmts)})", parser="forensics.sets",
                      parser_version=__version__)
    prov.details["sha256_of"] = "the members' sha256sum lines, in analysis order"
    prov.details["members"] = [m.provenance.to_dict() for m in members]
    if listing.skipped:
        prov.details["skipped"] = [{"path": p, "reason": r} for p, r in listing.skipped]
    for m in members:
        for w in m.provenance.warnings:  # already emitted by the member's provenance
            prov.warnings.append(f"{relative(m.path, listing.root)}: {w}")
    return prov


def boundary_warnings(listing: Listing, members: list[MemberStats], prov: Provenance, frames: list) -> None:
    """Gaps and overlaps between consecutive members (against the latest end so far), as located warnings."""
    prev, prev_end, prev_silence, overlapping = None, None, 0, False
    for i, m in enumerate(members):
        if m.start is None:
            prov.warn(relative(m.path, listing.root), "holds no packets")
            continue
        if prev is not None:
            a, b = relative(prev.path, listing.root), relative(m.path, listing.root)
            gap = (m.start - prev_end) / 1e9
            where = f"{b} (set frame {frames[i]:,})" if frames[i] else b
            longest = max(prev_silence, m.silence)
            if gap < 0:
                if not overlapping:  # once per group of overlapping files
                    end = max(x.end for x in members[:i + 1] if x.end is not None)
                    more = sum(1 for k in members[i + 1:] if k.start is not None and k.start < end)
                    also = f" (and {more} more file(s) after it)" if more else ""
                    prov.warn(where, f"starts {-gap:.6f} s before {a} ends{also}: the files overlap in time; their "
                              "packets are merged in time order (as mergecap does). If they captured the same "
                              "traffic (one capture per host) each packet is there twice and looks retransmitted.")
                overlapping = True
            else:
                overlapping = False
            if gap >= 0 and gap * 1e9 > longest and gap > 1.0:
                prov.warn(where, f"no packet for {gap:.3f} s between the end of {a} and the start of {b}, longer "
                          f"than any silence inside either file ({longest / 1e9:.3f} s): "
                          "part of the capture may be missing (a rotation file lost or deleted?)")
        if prev_end is None or m.end >= prev_end:
            prev, prev_end = m, m.end
        prev_silence = m.silence


def _members_frame(listing: Listing, members: list[MemberStats], first_frames: list, last_frames: list) -> pd.DataFrame:
    rows = []
    prev_end = None
    for i, m in enumerate(members):
        p = m.provenance
        rows.append({
            "file": relative(m.path, listing.root), "kind": m.kind, "format": p.format, "size": p.size,
            "sha256": p.sha256, "packets": m.packets, "first_frame": first_frames[i], "last_frame": last_frames[i],
            "start": pd.Timestamp(m.start, unit="ns", tz="UTC") if m.start is not None else pd.NaT,
            "end": pd.Timestamp(m.end, unit="ns", tz="UTC") if m.end is not None else pd.NaT,
            "gap_before_s": (m.start - prev_end) / 1e9 if prev_end is not None and m.start is not None else np.nan,
            "longest_silence_s": m.silence / 1e9, "linktypes": m.linktypes, "warnings": len(p.warnings),
        })
        if m.end is not None:
            prev_end = m.end if prev_end is None else max(prev_end, m.end)
    return pd.DataFrame(rows)


def _network_files(source) -> Listing:
    listing = list_members(source)
    other = [(p, k) for p, k, f in listing.files if f != "network"]
    listing.skipped += [(p, f"not a capture ({k}); not part of the capture set") for p, k in other]
    listing.files = [x for x in listing.files if x[2] == "network"]
    if not listing.files:
        raise ArtifactError(listing.root, None, "no pcap or pcapng capture in the set")
    return listing


class Rebatch:
    """Hands ``sink(records, owners)`` batches of exactly :data:`BATCH` records (the last one shorter),
    whatever the files' sizes: the batches one read of the merged file gives. (The analyser numbers
    tunnels' outer addresses batch by batch, so the address categories' order depends on it.)"""

    def __init__(self, sink, size=BATCH):
        self.sink, self.size = sink, size
        self.recs, self.owners, self.n = [], [], 0

    def __call__(self, batch, i):
        owners = np.full(batch.shape[0], i, np.int16) if np.isscalar(i) else np.asarray(i, np.int16)
        pos = 0
        while pos < batch.shape[0]:
            take = min(self.size - self.n, batch.shape[0] - pos)
            self.recs.append(batch[pos:pos + take].copy())
            self.owners.append(owners[pos:pos + take])
            self.n += take
            pos += take
            if self.n == self.size:
                self.flush()

    def flush(self):
        if self.n:
            rec = self.recs[0] if len(self.recs) == 1 else np.concatenate(self.recs)
            own = self.owners[0] if len(self.owners) == 1 else np.concatenate(self.owners)
            self.recs, self.owners, self.n = [], [], 0
            self.sink(rec, own)


def read_set(source, make_sink, desc="capture set"):
    """Order the members, then feed every record to a sink made by ``make_sink()`` — streaming,
    or merged in time order where files overlap. Returns (listing, members, sink, merged)."""
    listing = _network_files(source)
    members = order_members([(p, k) for p, k, _ in listing.files])
    total = sum(os.path.getsize(m.path) for m in members)
    try:
        with progress(len(members), desc, unit="file", size_bytes=total) as bar:
            sink = make_sink()
            rb = Rebatch(sink)
            feed_members(members, rb, bar)
            rb.flush()
        return listing, members, sink, False
    except _Overlap:
        members = [MemberStats(m.path, m.kind, m.first_ts) for m in members]
        with progress(len(members), desc + " (overlapping files, merged in time order)", unit="file",
                      size_bytes=total) as bar:
            sink = make_sink()
            rb = Rebatch(sink)
            feed_members_merged(members, rb, bar)
            rb.flush()
        return listing, members, sink, True


class _ColumnsSink:
    """Builds the packets table and remembers which member each row came from."""

    def __init__(self):
        self.pc = PacketColumns(BATCH)
        self.owner = []

    def __call__(self, batch, owners):
        self.pc.add(batch)
        self.owner.append(owners)


def _frames_of(owner: np.ndarray, k: int):
    first, last = [], []
    for i in range(k):
        idx = np.flatnonzero(owner == i)
        first.append(int(idx[0]) + 1 if idx.size else 0)
        last.append(int(idx[-1]) + 1 if idx.size else 0)
    return first, last


def load_capture_set(source, **options) -> CaptureSet:
    """Load several captures (a folder, a list of files, or both) as one capture; see the module docstring.

    ``workers`` (default 1 here) > 1 or ``scheduler`` runs the decode and the TCP analysis in
    worker processes (:mod:`forensics.sets.partitioned`), with identical results.
    Raises only :class:`~forensics.errors.ArtifactError`.
    """
    engine = options.get("engine", "native")
    if engine != "native":
        raise ArtifactError(None, None, f"capture sets are read by the native engine only (not {engine!r})")
    workers, scheduler = int(options.get("workers") or 1), options.get("scheduler")
    if workers > 1 or scheduler:
        from .partitioned import load_capture_set_parallel

        return load_capture_set_parallel(source, workers=workers, scheduler=scheduler)
    try:
        listing, members, sink, merged = read_set(source, _ColumnsSink)
        pc = sink.pc
        irtt = pc.an.irtt()
        packets = pc.frame()
    except (ValueError, IndexError, OverflowError, MemoryError) as e:
        raise ArtifactError(source if isinstance(source, str) else None, None,
                            f"could not decode capture set: {type(e).__name__}: {e}") from None
    owner = np.concatenate(sink.owner) if sink.owner else np.zeros(0, np.int16)
    return finish_set(listing, members, packets, irtt, owner, merged)


def finish_set(listing, members, packets, irtt, owner, merged) -> CaptureSet:
    """The :class:`CaptureSet` from analysed packets: provenance, member table, boundary warnings."""
    first, last = _frames_of(owner, len(members))
    prov = _set_provenance(listing, members)
    boundary_warnings(listing, members, prov, first)
    linktypes = []
    for m in members:
        linktypes += [lt for lt in m.linktypes if lt not in linktypes]
    prov.details.update({"packets": int(len(packets)), "linktypes": linktypes, "files": len(members),
                         "merged_in_time_order": merged})
    prov.attach(packets)
    table = _members_frame(listing, members, first, last)
    prov.attach(table)
    notes = [f"{relative(p, listing.root)}: skipped — {r}" for p, r in listing.skipped]
    back = int(np.count_nonzero(owner[1:] < owner[:-1])) if owner.shape[0] > 1 else 0
    if back and not merged:
        notes.append(f"at {back} file boundar{'y' if back == 1 else 'ies'} the next file starts at the very "
                     "instant the previous one ends; as mergecap does (ties go to the later file), that "
                     "instant's packets of the later file come first")
    return CaptureSet(packets=packets, provenance=prov, linktypes=linktypes, irtt=irtt, members=table,
                      packet_member=owner, notes=notes)


def count_layers(batch: np.ndarray, layers: dict) -> None:
    """Packets per link type, per link type whose network layer was not decoded, and per tunnel
    (codes; what ``pcap summary`` reports beside the flags), added into ``layers``."""
    names = batch.dtype.names
    if "linktype" not in names:
        return
    lt = batch["linktype"]
    groups = [("link_types", lt), ("undecoded_network_layer", lt[batch["ipver"] == 0])]
    if "tunnel" in names and batch["tunnel"].any():
        tun = batch["tunnel"]
        groups.append(("tunnels", tun[tun != 0]))
    for what, codes in groups:
        if codes.shape[0]:
            d = layers.setdefault(what, {})
            for v, k in zip(*np.unique(codes, return_counts=True)):
                d[int(v)] = d.get(int(v), 0) + int(k)


def layer_names(layers: dict) -> dict:
    """``count_layers`` codes → the names ``pcap summary`` shows, most packets first."""
    try:
        from ..network.decode import TUNNEL_NAMES
        from ..network.linklayer import linktype_name
    except ImportError:  # an older network package: no such counts
        return {}
    out = {}
    for what in ("link_types", "undecoded_network_layer", "tunnels"):
        name = (lambda k: TUNNEL_NAMES[k]) if what == "tunnels" else linktype_name
        out[what] = {name(k): v for k, v in sorted(layers.get(what, {}).items(), key=lambda x: -x[1])}
    return out


class _CountSink:
    """Counts per flag without building a table (what ``summary`` needs)."""

    def __init__(self):
        self.an = Analyzer()
        self.totals = dict.fromkeys(FLAG_NAMES + ["reset"], 0)
        self.packets = 0
        self.layers = {}

    def __call__(self, batch, owners):
        c = flag_counts(batch, self.an.feed(batch))
        for k in self.totals:
            self.totals[k] += c[k]
        self.packets += batch.shape[0]
        count_layers(batch, self.layers)


def capture_set_summary(source, **options) -> dict:
    """Packets, TCP streams, files, warnings and a count per flag of a whole set, in fixed memory
    (unless files overlap in time). The same numbers as the merged file's ``pcap summary``."""
    workers, scheduler = int(options.get("workers") or 1), options.get("scheduler")
    if workers > 1 or scheduler:
        from .partitioned import capture_set_summary_parallel

        return capture_set_summary_parallel(source, workers=workers, scheduler=scheduler)
    try:
        listing, members, sink, merged = read_set(source, _CountSink)
    except (ValueError, IndexError, OverflowError, MemoryError) as e:
        raise ArtifactError(None, None, f"could not decode capture set: {type(e).__name__}: {e}") from None
    return summary_dict(listing, members, merged, sink.packets, sink.an.n_streams, sink.totals, sink.layers)


def summary_dict(listing, members, merged, packets, streams, totals, layers=None) -> dict:
    prov = _set_provenance(listing, members)
    starts = [0] * len(members)
    boundary_warnings(listing, members, prov, starts)
    out = {"packets": packets, "tcp_streams": streams, "files": len(members), "warnings": list(prov.warnings)}
    out.update(totals)
    out.update(layer_names(layers or {}))
    return out
