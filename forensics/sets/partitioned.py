"""A capture set decoded and analysed by the workers of a Dask cluster (``--scheduler``), with the
single-process result. (On this machine's own cores ``--workers N`` uses
:mod:`forensics.sets.local_workers`, where re-reading the set from the page cache is cheaper than
moving the records; on a cluster the records move, as below.)

1. **Decode, per file** (one task per member, in parallel): the file's records, its
   SHA-256 (from the same reads), its warnings, and for each TCP packet a partition:
   a hash of the connection's two endpoints (address, port — either order), modulo the
   number of partitions. Every packet of a connection, in both directions and across
   port reuse, lands in the same partition, so no two workers ever share a flow.
2. **Order** (here): members by first timestamp; the set's frame number of every record
   (streaming order, or mergecap's time-order merge where files overlap).
3. **Analyse, per partition** (in parallel): the partition's packets in set frame order
   through the same TCP analysis (:class:`~forensics.network.tcp_analysis.Analyzer`);
   the frame numbers it reports (dup-ACK of, ACKed frame, RTO frame) are mapped back to
   set frames.
4. **Merge** (here): streams renumbered by their first frame (as one analyser numbers
   them), every row's analysis put back in frame order, and the packets table built from
   it — the same table, byte for byte, as one worker makes.

The TCP state machine depends only on a connection's own packets in order, which is
why partitioning by connection gives identical labels. Memory per worker is one
partition (plus the file being decoded).
"""
from __future__ import annotations

import os
import shutil
import tempfile

import numba
import numpy as np

from ..network.decode import PACKET_DTYPE
from ..network.load import PacketColumns, flag_counts
from ..network.pcap import BackgroundHash, read_capture
from ..network.tcp_analysis import FLAG_NAMES, Analyzer
from ..parallel import executor
from ..progress import progress
from .captures import (BATCH, MemberStats, Rebatch, _member_provenance, _network_files, count_layers,
                       finish_set, merge_order, summary_dict)

_FRAME_FIELDS = ("dup_ack_frame", "acked_frame", "rto_frame")
_RESULT_FIELDS = ("stream", "direction", "rel_seq", "rel_ack", "aflags", "dup_ack_num", "dup_ack_frame",
                  "acked_frame", "ack_rtt", "rto", "rto_frame")
_FILL = {"stream": -1, "direction": -1, "ack_rtt": -1, "rto": -1}


@numba.njit(cache=True, inline="always")
def _mix(z):
    """splitmix64's finaliser (uint64 arithmetic wraps)."""
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True, nogil=True)
def _partitions(ipver, proto, l4ok, frag, shi, slo, dhi, dlo, sport, dport, parts, out):
    for i in range(out.shape[0]):
        if proto[i] != 6 or not l4ok[i] or frag[i] or ipver[i] <= 0:
            out[i] = -1
            continue
        v = np.uint64(ipver[i])
        a = _mix(shi[i] ^ _mix(slo[i] ^ ((np.uint64(sport[i]) << np.uint64(8)) | v)))
        b = _mix(dhi[i] ^ _mix(dlo[i] ^ ((np.uint64(dport[i]) << np.uint64(8)) | v)))
        out[i] = np.int16(_mix(a + b) % np.uint64(parts))  # a + b: the same for either direction


def tcp_rows(rec: np.ndarray) -> np.ndarray:
    """The rows the TCP analysis takes (the same test as the analyser's)."""
    return (rec["proto"] == 6) & rec["l4ok"] & ~rec["frag"] & (rec["ipver"] > 0)


def partition_of(rec: np.ndarray, parts: int) -> np.ndarray:
    """Partition of each record: hash of its unordered endpoint pair (address, port) % ``parts``;
    -1 for the rows the TCP analysis does not take. One pass over the records (compiled)."""
    out = np.empty(rec.shape[0], np.int16)
    _partitions(rec["ipver"], rec["proto"], rec["l4ok"], rec["frag"], rec["src_hi"], rec["src_lo"], rec["dst_hi"],
                rec["dst_lo"], rec["sport"], rec["dport"], np.uint64(parts), out)
    return out


# --------------------------------------------------------------------------- 1. decode (a worker)

def decode_member(path: str, kind: str, parts: int, spill: str | None) -> dict:
    """Read one file; split its records by partition. With ``spill`` (a folder on this machine) the
    arrays go to ``.npy`` files there and their names come back; else the arrays themselves."""
    collected = []
    raw = read_capture(path, consume=lambda b: collected.append(b.copy()), hasher=BackgroundHash(),
                       progress_desc=os.path.basename(path))
    rec = np.concatenate(collected) if collected else np.zeros(0, PACKET_DTYPE)
    m = MemberStats(path, kind, int(rec["ts"][0]) if rec.shape[0] else None)
    m.add(rec["ts"])
    m.provenance = _member_provenance(m, raw.format)
    m.provenance.sha256 = raw.sha256
    m.linktypes = list(raw.linktypes)
    warns = list(raw.warnings)
    part = partition_of(rec, parts)
    frag = np.flatnonzero(rec["frag"]) if "frag" in rec.dtype.names else np.zeros(0, np.int64)
    part[frag] = -2  # fragments are reassembled in set order before partitioning (see _defragment)
    layers = {}
    count_layers(rec, layers)
    out = {"stats": m, "warnings": warns, "ts": rec["ts"].copy(), "n": int(rec.shape[0]), "parts": [], "layers": layers,
           "frag": (rec[frag], frag)}
    for q in [*range(parts), -1]:
        rows = np.flatnonzero(part == q)
        piece = (rec[rows], rows)
        if spill is not None:
            base = os.path.join(spill, f"{os.getpid()}-{abs(hash(path))}-{q}")
            np.save(base + ".rec.npy", piece[0])
            np.save(base + ".rows.npy", piece[1])
            piece = (base + ".rec.npy", base + ".rows.npy")
        out["parts"].append(piece)
    return out


def _arr(x):
    return np.load(x, mmap_mode="r") if isinstance(x, str) else x


# --------------------------------------------------------------------------- 3. analyse (a worker)

def analyse_partition(pieces: list, frames_of: list, mode: str, extra=None) -> dict:
    """TCP analysis of one partition. ``pieces``: per member (records, rows in member); ``frames_of``:
    per member, the set frame number of its row 0 (an int) or of every row (an array); ``extra``:
    (records, set frames) of reassembled fragments that belong to this partition."""
    recs, frames = [], []
    if extra is not None and extra[0].shape[0]:
        recs.append(extra[0])
        frames.append(extra[1])
    for (r, rows), fo in zip(pieces, frames_of):
        r, rows = _arr(r), _arr(rows)
        if not rows.shape[0]:
            continue
        recs.append(np.asarray(r))
        frames.append(rows + fo if np.isscalar(fo) else _arr(fo)[rows])
    if not recs:
        return {"packets": 0, "streams": 0, "totals": dict.fromkeys(FLAG_NAMES + ["reset"], 0), "frames": None}
    rec, frame = np.concatenate(recs), np.concatenate(frames)
    del recs, frames
    if frame.shape[0] > 1 and not (np.diff(frame) > 0).all():
        order = np.argsort(frame, kind="stable")
        rec, frame = rec[order], frame[order]
    an = Analyzer()
    totals = dict.fromkeys(FLAG_NAMES + ["reset"], 0)
    res_parts = {k: [] for k in _RESULT_FIELDS}
    for s in range(0, rec.shape[0], BATCH):
        b = rec[s:s + BATCH]
        res = an.feed(b)
        if mode == "summary":
            c = flag_counts(b, res)
            for k in totals:
                totals[k] += c[k]
        else:
            for k in _RESULT_FIELDS:
                res_parts[k].append(res[k])
    out = {"packets": int(rec.shape[0]), "streams": an.n_streams, "totals": totals, "frames": None}
    if mode == "summary":
        return out
    res = {k: np.concatenate(v) for k, v in res_parts.items()}
    for k in _FRAME_FIELDS:  # partition-local frame numbers -> set frame numbers
        v = res[k]
        nz = v > 0
        v[nz] = frame[v[nz] - 1]
    stream = res["stream"]
    first = np.full(an.n_streams, -1, np.int64)
    uniq, at = np.unique(stream, return_index=True)
    first[uniq] = frame[at]
    out.update(frames=frame, res=res, stream_first=first, irtt=an.irtt())
    return out


# --------------------------------------------------------------------------- 2. and 4. (here)

def _order(decoded: list) -> tuple[list, list, list, bool]:
    """Members by first timestamp; each member's set frame numbers (offset or per-row array)."""
    big = np.iinfo(np.int64).max
    order = sorted(range(len(decoded)), key=lambda i: (big if decoded[i]["stats"].first_ts is None
                                                        else decoded[i]["stats"].first_ts, decoded[i]["stats"].path))
    dec = [decoded[i] for i in order]
    # groups of files overlapping in time (the same rule as the streaming reader's)
    groups, cur, cur_end = [], [], None
    for i, d in enumerate(dec):
        m = d["stats"]
        if cur and m.first_ts is not None and cur_end is not None and m.first_ts <= cur_end:
            cur.append(i)
        else:
            if cur:
                groups.append(cur)
            cur, cur_end = [i], None
        if m.end is not None:
            cur_end = m.end if cur_end is None else max(cur_end, m.end)
    groups.append(cur)
    frames_of = [None] * len(dec)
    owner_runs = []  # (member index array or scalar, count) in frame order
    nxt = 1
    merged = False
    for g in groups:
        live = [i for i in g if dec[i]["n"]]
        if len(live) <= 1:
            for i in g:
                frames_of[i] = nxt
                nxt += dec[i]["n"]
                owner_runs.append((i, None))
            continue
        merged = True
        sizes = np.array([dec[i]["n"] for i in live], np.int64)
        ends = np.cumsum(sizes)
        pos = merge_order(np.concatenate([dec[i]["ts"] for i in live]), ends - sizes, ends)
        frame = np.empty(pos.shape[0], np.int64)
        frame[pos] = np.arange(nxt, nxt + pos.shape[0])
        owner = np.concatenate([np.full(dec[i]["n"], i, np.int32) for i in live])[pos]
        for k, i in enumerate(live):
            frames_of[i] = frame[ends[k] - sizes[k]:ends[k]]
        for i in g:
            if frames_of[i] is None:
                frames_of[i] = nxt
        owner_runs.append((owner, pos))
        nxt += pos.shape[0]
    return dec, frames_of, owner_runs, merged


def _meta_of(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "parts"}


def _piece(d: dict, q: int):
    return d["parts"][q]


def _decode_remote(ex, items, parts) -> list:
    """Decode on the Dask workers and keep the records there: only each file's facts (times, counts,
    warnings, fragments) come back here; the partitions' pieces stay futures that the analysis tasks
    take from the workers that hold them."""
    c = ex.client
    futs = [c.submit(decode_member, *it, pure=False) for it in items]
    metas = c.gather([c.submit(_meta_of, f, pure=False) for f in futs])
    for m, f in zip(metas, futs):
        m["parts"] = [c.submit(_piece, f, q, pure=False) for q in [*range(parts), parts]]
    return metas


def _warmup(path):
    """Load numba's compiled reader and analyser in this process before workers fork from it."""
    from .capture_feed import _FirstRecord, read_stoppable

    def stop(batch):
        if batch.shape[0]:
            Analyzer().feed(batch.copy())
            raise _FirstRecord
    try:
        read_stoppable(path, stop, chunk_records=1)
    except _FirstRecord:
        pass


def _run(source, workers, scheduler, mode):
    from ..artifact import ArtifactWarning  # noqa: F401  (warnings are re-emitted below)

    listing = _network_files(source)
    spill = None
    with executor(workers, scheduler) as ex:
        parts = ex.workers if scheduler else max(1, int(workers))
        if not ex.ships_data:
            base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
            spill = tempfile.mkdtemp(prefix="forensics-set-", dir=base)
        try:
            if ex.kind == "process pool":
                _warmup(listing.files[0][0])
            items = [(p, k, parts, spill) for p, k, _ in listing.files]
            remote = ex.kind == "dask"
            total = sum(os.path.getsize(p) for p, _, _ in listing.files)
            with progress(len(items), "decoding capture set", unit="file", size_bytes=total) as bar:
                decoded = _decode_remote(ex, items, parts) if remote else ex.map(decode_member, items, bar)
            dec, frames_of, owner_runs, merged = _order(decoded)
            members = []
            for d in dec:
                m = d["stats"]
                for off, reason in d["warnings"]:  # recorded in the worker: emit them here
                    m.provenance.warn(off, reason)
                members.append(m)
            extra = _defragment(dec, frames_of, parts)
            tasks = [([d["parts"][q] for d in dec], frames_of, mode, extra[q]) for q in range(parts)]
            with progress(len(tasks), "TCP analysis", unit="partition", size_bytes=total) as bar:
                results = ex.map(analyse_partition, tasks, bar)
            if mode == "summary":
                totals = dict.fromkeys(FLAG_NAMES + ["reset"], 0)
                for r in results:
                    for k in totals:
                        totals[k] += r["totals"][k]
                layers = {}
                for d in dec:
                    for what, counts in d["layers"].items():
                        into = layers.setdefault(what, {})
                        for code, n in counts.items():
                            into[code] = into.get(code, 0) + n
                return summary_dict(listing, members, merged, sum(d["n"] for d in dec),
                                    sum(r["streams"] for r in results), totals, layers)
            if remote:  # the records stayed on the workers until now
                for d in dec:
                    d["parts"] = ex.client.gather(d["parts"])
            return _assemble(listing, members, dec, owner_runs, results, merged)
        finally:
            if spill:
                shutil.rmtree(spill, ignore_errors=True)


def _defragment(dec: list, frames_of: list, parts: int) -> list:
    """Reassemble fragmented datagrams over the whole set, in frame order, as one analyser would
    (fragments of a datagram may sit in two files); the completed ones join their connection's
    partition. Updates the members' fragment records in place (the packets table shows them)."""
    recs, frames, owners = [], [], []
    for i, (d, fo) in enumerate(zip(dec, frames_of)):
        r, rows = d["frag"]
        if rows.shape[0]:
            recs.append(r)
            frames.append(rows + fo if np.isscalar(fo) else np.asarray(fo)[rows])
            owners.append(np.full(rows.shape[0], i, np.int32))
    none = [None] * parts
    defrag = getattr(Analyzer(), "defrag", None)
    if not recs or defrag is None:
        return none
    rec, frame, owner = np.concatenate(recs), np.concatenate(frames), np.concatenate(owners)
    order = np.argsort(frame, kind="stable")
    rec, frame, owner = rec[order], frame[order], owner[order]
    defrag.apply(rec)
    for i, d in enumerate(dec):  # write the reassembled rows back, in each member's own row order
        mine = owner == i
        if mine.any():
            d["frag"] = (rec[mine], d["frag"][1])  # a file's frames rise with its rows, in any merge
    done = tcp_rows(rec)
    if not done.any():
        return none
    part = partition_of(rec[done], parts)
    out = []
    for q in range(parts):
        sel = part == q
        out.append((rec[done][sel], frame[done][sel]) if sel.any() else None)
    return out


class _Done:
    def apply(self, rec):
        pass


class _Replay(Analyzer):
    """Hands PacketColumns the partitions' results, row by row in frame order, as an Analyzer would.

    Everything but the TCP analysis (address codes, tunnels' outer addresses, …) is the
    real :meth:`Analyzer.feed`, run with the TCP rows hidden; the analysis arrays come
    from the partitions."""

    def __init__(self, full: dict, irtt: np.ndarray, streams: int):
        super().__init__()
        self.full, self._irtt, self._streams = full, irtt, streams
        if hasattr(self, "defrag"):  # fragments were reassembled over the whole set already (_defragment);
            self.defrag = _Done()    # a second pass would keep the completed datagrams' pieces pending

    def feed(self, rec):
        tcp = tcp_rows(rec)
        proto = rec["proto"].copy()
        rec["proto"][tcp] = 0
        start = self.frames
        try:
            out = super().feed(rec)
        finally:
            rec["proto"] = proto
        idx = np.flatnonzero(tcp)
        rows = idx + start
        out.update({k: v[rows] for k, v in self.full.items()})
        out.update(idx=idx, all_tcp=False)
        return out

    @property
    def n_streams(self) -> int:
        return self._streams

    def irtt(self):
        return self._irtt


def _assemble(listing, members, dec, owner_runs, results, merged):
    n = sum(d["n"] for d in dec)
    # streams numbered by first frame, as one analyser numbers them
    keys = [(int(f), q, s) for q, r in enumerate(results) if r["frames"] is not None
            for s, f in enumerate(r["stream_first"])]
    keys.sort()
    remap = [np.zeros(r["streams"], np.int32) for r in results]
    for new, (_, q, s) in enumerate(keys):
        remap[q][s] = new
    irtt = np.zeros(len(keys))
    dtypes = {}
    for r in results:
        if r["frames"] is not None:
            dtypes = {k: v.dtype for k, v in r["res"].items()}
            break
    full = {k: np.full(n, _FILL.get(k, 0), dtypes.get(k, np.int64)) for k in _RESULT_FIELDS}
    for q, r in enumerate(results):
        if r["frames"] is None:
            continue
        rows = r["frames"] - 1
        for k, v in r["res"].items():
            full[k][rows] = remap[q][v] if k == "stream" else v
        irtt[remap[q]] = r["irtt"]
    pc = PacketColumns(max(n, 16))
    pc.an = _Replay(full, irtt, len(keys))
    owner = []

    def member_records(i):
        d = dec[i]
        rec = None
        for r, rows in [*d["parts"], d["frag"]]:
            r, rows = _arr(r), _arr(rows)
            if rec is None:
                rec = np.zeros(d["n"], r.dtype)
            rec[rows] = r
        return rec
    rb = Rebatch(lambda rec, own: pc.add(rec))  # the batches one read of the merged file gives
    for who, pos in owner_runs:
        if pos is None:
            if dec[who]["n"]:
                rec = member_records(who)
                for s in range(0, rec.shape[0], BATCH):
                    rb(rec[s:s + BATCH], who)
                owner.append(np.full(rec.shape[0], who, np.int16))
            continue
        live = sorted(set(who.tolist()))
        rec = np.concatenate([member_records(i) for i in live])[pos]
        for s in range(0, rec.shape[0], BATCH):
            rb(rec[s:s + BATCH], 0)
        owner.append(who.astype(np.int16))
    rb.flush()
    packets = pc.frame()
    owner = np.concatenate(owner) if owner else np.zeros(0, np.int16)
    return finish_set(listing, members, packets, irtt, owner, merged)


def load_capture_set_parallel(source, workers=None, scheduler=None):
    """:func:`~forensics.sets.captures.load_capture_set` with the work in ``workers`` processes or on a
    Dask ``scheduler`` (``"local"`` or ``"tcp://host:8786"``); the same result."""
    return _run(source, workers, scheduler, "packets")


def capture_set_summary_parallel(source, workers=None, scheduler=None) -> dict:
    """:func:`~forensics.sets.captures.capture_set_summary` on several workers; the same numbers."""
    return _run(source, workers, scheduler, "summary")
