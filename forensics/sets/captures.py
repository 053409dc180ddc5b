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

import numpy as np
import pandas as pd

from .. import __version__
from ..artifact import Provenance
from ..display import duration
from ..errors import ArtifactError
from ..network.load import Capture, PacketColumns, flag_counts
from ..network.tcp_analysis import FLAG_NAMES, Analyzer
from ..progress import progress
from .capture_feed import (BATCH, MemberStats, Rebatch, _FirstRecord, _Overlap, _member_provenance,  # noqa: F401
                           feed_members, feed_members_merged, first_timestamp, merge_order, order_members)
from .members import Listing, list_members, relative


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
                span = max((prev.end - prev.start) / 1e9, (m.end - m.start) / 1e9, 1.0)
                why = ("part of the capture may be missing (a rotation file lost or deleted?)" if gap < 1000 * span
                       or gap < 86400 else "so long beside the files themselves that they look like separate captures, "
                       "not rotations of one (they are still analysed as one: give them one by one if they are "
                       "unrelated)")
                human = f" ({duration(gap)})" if gap >= 3600 else ""
                prov.warn(where, f"no packet for {gap:.3f} s{human} between the end of {a} and the start of {b}, "
                          f"longer than any silence inside either file ({longest / 1e9:.3f} s): {why}")
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


def read_set(source, make_sink, desc="capture set"):
    """Order the members, then feed every record to a sink made by ``make_sink(total bytes)`` — streaming,
    or merged in time order where files overlap. Returns (listing, members, sink, merged)."""
    listing = _network_files(source)
    members = order_members([(p, k) for p, k, _ in listing.files])
    total = sum(os.path.getsize(m.path) for m in members)
    try:
        with progress(len(members), desc, unit="file", size_bytes=total) as bar:
            sink = make_sink(total)
            rb = Rebatch(sink)
            feed_members(members, rb, bar)
            rb.flush()
        return listing, members, sink, False
    except _Overlap:
        members = [MemberStats(m.path, m.kind, m.first_ts) for m in members]
        with progress(len(members), desc + " (overlapping files, merged in time order)", unit="file",
                      size_bytes=total) as bar:
            sink = make_sink(total)
            rb = Rebatch(sink)
            feed_members_merged(members, rb, bar)
            rb.flush()
        return listing, members, sink, True


def row_estimate(size: int) -> int:
    """Rows to reserve for ``size`` bytes of captures: generous (zero pages cost nothing until written),
    as the one-file loader does, so the columns are not copied as they grow."""
    return max(1024, min(size // 64, 50_000_000))


class _ColumnsSink:
    """Builds the packets table and remembers which member each row came from."""

    def __init__(self, size=0):
        self.pc = PacketColumns(row_estimate(size))
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

    ``workers`` (default 1 here) > 1 runs the hashing and the TCP analysis in local worker processes
    (:mod:`forensics.sets.local_workers`), ``scheduler`` the decode and the analysis on a Dask cluster
    (:mod:`forensics.sets.partitioned`), with identical results.
    Raises only :class:`~forensics.errors.ArtifactError`.
    """
    engine = options.get("engine", "native")
    if engine != "native":
        raise ArtifactError(None, None, f"capture sets are read by the native engine only (not {engine!r})")
    workers, scheduler = int(options.get("workers") or 1), options.get("scheduler")
    if scheduler:
        from .partitioned import load_capture_set_parallel

        return load_capture_set_parallel(source, workers=workers, scheduler=scheduler)
    if workers > 1:
        from .local_workers import load_capture_set_workers

        return load_capture_set_workers(source, workers)
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

    def __init__(self, size=0):
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
    if scheduler:
        from .partitioned import capture_set_summary_parallel

        return capture_set_summary_parallel(source, workers=workers, scheduler=scheduler)
    if workers > 1:
        from .local_workers import capture_set_summary_workers

        return capture_set_summary_workers(source, workers)
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


class _OwnerSink:
    """Only which file each frame came from (what the members table needs), no analysis."""

    def __init__(self, size=0):
        self.owner = []

    def __call__(self, batch, owners):
        self.owner.append(owners)


def capture_set_members(source) -> pd.DataFrame:
    """The members table of a capture set (order, frames, times, gaps, hashes) without analysing it;
    boundary warnings are emitted as when loading."""
    listing, members, sink, merged = read_set(source, _OwnerSink)
    owner = np.concatenate(sink.owner) if sink.owner else np.zeros(0, np.int16)
    first, last = _frames_of(owner, len(members))
    prov = _set_provenance(listing, members)
    boundary_warnings(listing, members, prov, first)
    return prov.attach(_members_frame(listing, members, first, last))
