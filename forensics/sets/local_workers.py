"""A capture set on N worker processes of this machine, with the single-process result.

What costs time in a capture set is not decoding it: the reader walks 1.1 million
packet headers in about 0.35 s, the TCP analysis takes about 0.15 s more, but the
evidence SHA-256 of the same 1.5 GiB takes 1.5 s of CPU (measured: docs/scale.md).
Shipping the decoded records to the worker that analyses their connection would
copy 158 bytes per packet through shared memory, which costs more than decoding them
again from the page cache. So every worker (a ``fork`` of this process, which already
loaded numba's compiled reader) reads the whole set in order, the way one process
does (mergecap's rules at the boundaries, the same fragments reassembled), and

* **hashes its share of the files** (whole files, balanced by size): every member's
  SHA-256 is computed once, by the worker that was given it, from the same reads;
* **analyses its share of the connections**: the TCP packets whose connection (a hash
  of the unordered endpoint pair, :func:`~forensics.sets.partitioned.partition_of`)
  falls in its partition, in set frame order — no two workers ever share a flow, and
  the TCP state machine, which depends only on a connection's own packets in order,
  gives the same labels;
* for the packets table, writes its rows' analysis (frame numbers and 11 compact
  columns) to ``/dev/shm``. Meanwhile this process — partition 0's analyser, hashing
  nothing (building the table costs about what hashing the set does) — reads the set
  once more for the columns, then puts each worker's rows' analysis at their frames,
  streams renumbered by first frame as one analyser numbers them — **merged in frame
  order**. So ``workers=2`` is this process and one worker.

Summary counts come back as a few integers per worker. Memory per worker: one batch of
records and its partition's analysis state (plus, for the packets table, its rows'
analysis); files overlapping in time are merged in memory as in one process.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
import warnings

import numpy as np

from ..errors import ArtifactError
from ..network.load import PacketColumns, flag_counts
from ..network.tcp_analysis import FLAG_NAMES, Analyzer
from ..progress import progress
from .capture_feed import MemberStats, Rebatch, _member_provenance, _Overlap, feed_members, feed_members_merged, \
    order_members
from .captures import _network_files, count_layers, finish_set, row_estimate, summary_dict
from .partitioned import _RESULT_FIELDS, partition_of


class _NoDefrag:
    """Stands in for an analyser's defragmenter when the whole batch was reassembled already."""

    def apply(self, rec):
        pass


def hash_shares(sizes: list[int], workers: int) -> list[set]:
    """Which members each worker hashes: in set order, each file to the worker with the fewest
    bytes so far (so the shares are even and every worker hashes all along the read)."""
    load = [0] * workers
    shares = [set() for _ in range(workers)]
    for i, size in enumerate(sizes):
        w = min(range(workers), key=lambda k: (load[k], k))
        shares[w].add(i)
        load[w] += size
    return shares


class _PartitionSink:
    """One worker's view of the set: every record passes (fragments reassembled, frames counted);
    the TCP analysis sees only the TCP rows of partition ``part`` of ``parts``."""

    def __init__(self, part: int, parts: int, mode: str, counts: bool):
        self.part, self.parts, self.mode, self.counts = part, parts, mode, counts
        self.an = Analyzer()
        self.defrag = getattr(self.an, "defrag", None)
        if self.defrag is not None:
            self.an.defrag = _NoDefrag()  # reassembled over every record below, in frame order
        self.frames = 0
        self.totals = dict.fromkeys(FLAG_NAMES + ["reset"], 0)
        self.layers = {}
        self.mine = []                    # set frame numbers of this partition's rows (packets mode)
        self.res = {k: [] for k in _RESULT_FIELDS}

    def __call__(self, batch, owner):
        if self.defrag is not None:
            self.defrag.apply(batch)
        if self.counts:
            count_layers(batch, self.layers)
        part = partition_of(batch, self.parts)
        # the other partitions' TCP rows are hidden from this analyser (not copied out): it then numbers
        # frames as the whole set's, and address codes cost one pass it makes anyway
        other = (part != self.part) & (part >= 0)
        proto = None
        if other.any():
            proto = batch["proto"].copy()
            batch["proto"][other] = 0
        start = self.frames
        try:
            res = self.an.feed(batch)
        finally:
            if proto is not None:
                batch["proto"] = proto
        self.frames += batch.shape[0]
        if self.mode == "summary":
            c = flag_counts(batch, res)
            for k in self.totals:
                self.totals[k] += c[k]
        elif res["idx"].shape[0]:
            self.mine.append(res["idx"] + (start + 1))
            for k in _RESULT_FIELDS:
                self.res[k].append(res[k])

    def packets_result(self, spill: str, tag: str) -> dict:
        """This partition's analysis with set frame numbers, written to ``spill`` as .npy files."""
        frame = np.concatenate(self.mine) if self.mine else np.zeros(0, np.int64)
        res = {k: (np.concatenate(v) if v else np.zeros(0, np.int64)) for k, v in self.res.items()}
        n = self.an.n_streams  # (its frame numbers — dup-ACK of, ACKed, RTO — are the set's already)
        first = np.full(n, -1, np.int64)
        if frame.shape[0]:
            uniq, at = np.unique(res["stream"], return_index=True)
            first[uniq] = frame[at]
        paths = {}
        for k, v in [("frames", frame), ("stream_first", first), ("irtt", self.an.irtt()), *res.items()]:
            paths[k] = os.path.join(spill, f"{tag}-{k}.npy")
            np.save(paths[k], v)
        return paths


class _FileCounter:
    """Stands in for a progress bar in a worker: files done, into a shared counter the parent shows."""

    def __init__(self, value):
        self.value = value

    def update(self, k=1):
        if self.value is not None:
            self.value.value += k


def _member_facts(members: list[MemberStats], hashed: set) -> list[dict]:
    return [{"packets": m.packets, "start": m.start, "end": m.end, "last": m.last, "silence": m.silence,
             "linktypes": m.linktypes, "format": m.provenance.format if m.provenance else None,
             "warnings": m.read_warnings, "sha256": m.provenance.sha256 if i in hashed and m.provenance else None}
            for i, m in enumerate(members)]


def work(part: int, parts: int, members: list[MemberStats], hashed: set, mode: str, spill: str | None,
         done=None) -> dict:
    """One worker's job (see the module docstring): read the whole set, hash ``hashed``, analyse partition
    ``part``. Returns the counts (summary) or the paths of its analysis arrays, and the members' facts."""
    warnings.simplefilter("ignore")  # the parent emits each file's warnings once, from these facts
    counter = _FileCounter(done)  # (only the first worker is given the counter, and counts the layers)
    sink = _PartitionSink(part, parts, mode, counts=done is not None)
    merged = False
    try:
        feed_members(members, sink, counter, hashed)
    except _Overlap:
        members = [MemberStats(m.path, m.kind, m.first_ts) for m in members]
        if done is not None:
            done.value = 0
        sink = _PartitionSink(part, parts, mode, counts=done is not None)
        feed_members_merged(members, sink, counter, hashed)
        merged = True
    out = {"merged": merged, "streams": sink.an.n_streams, "totals": sink.totals, "layers": sink.layers,
           "packets": sink.frames, "members": _member_facts(members, hashed)}
    if mode != "summary":
        out["arrays"] = sink.packets_result(spill, f"part{part}")
    return out


def _child(conn, args):
    try:
        conn.send(("ok", work(*args)))
    except ArtifactError as e:
        conn.send(("artifact", (e.path, e.location, e.reason)))
    except BaseException as e:  # noqa: BLE001 - reported to the parent, which raises ArtifactError
        conn.send(("error", f"{type(e).__name__}: {e}"))
    finally:
        conn.close()


def _context():
    import multiprocessing
    import sys

    # fork: the workers start with numba's compiled code loaded; forking a process that runs other threads
    # (a Jupyter kernel) can deadlock, so there they start from a fork server instead
    if not sys.platform.startswith("linux"):
        return multiprocessing.get_context("spawn")
    return multiprocessing.get_context("fork" if threading.active_count() == 1 else "forkserver")


class _Workers:
    """Worker processes running :func:`work` for partitions ``which`` of ``parts``; results gathered
    with the progress of the first."""

    def __init__(self, parts, which, members, shares, mode, spill):
        ctx = _context()
        self.done = ctx.Value("i", 0, lock=False)
        self.procs, self.conns = [], []
        for k, q in enumerate(which):
            r, w = ctx.Pipe(duplex=False)
            fresh = [MemberStats(m.path, m.kind, m.first_ts) for m in members]
            args = (q, parts, fresh, shares[k], mode, spill, self.done if k == 0 else None)
            p = ctx.Process(target=_child, args=(w, args), daemon=True, name=f"forensics-set-{q}")
            p.start()
            w.close()
            self.procs.append(p)
            self.conns.append(r)

    def results(self, bar=None) -> list:
        from multiprocessing.connection import wait

        got = {}
        shown = 0
        while len(got) < len(self.conns):
            for c in wait([c for i, c in enumerate(self.conns) if i not in got], timeout=0.1):
                i = self.conns.index(c)
                try:
                    got[i] = c.recv()
                except EOFError:
                    got[i] = ("error", f"worker {i} ended without a result (exit code {self.procs[i].exitcode})")
            if bar is not None and self.done.value > shown:
                bar.update(self.done.value - shown)
                shown = self.done.value
        for p in self.procs:
            p.join()
        out = []
        for i in range(len(self.conns)):
            status, value = got[i]
            if status == "artifact":
                raise ArtifactError(*value)
            if status == "error":
                raise ArtifactError(None, None, f"could not analyse capture set (worker {i}): {value}")
            out.append(value)
        return out

    def stop(self):
        for p in self.procs:
            if p.is_alive():
                p.terminate()
            p.join()


def _members_from(members: list[MemberStats], results: list) -> list[MemberStats]:
    """The members as one process would have them: worker 0's facts, each hash from its worker,
    each file's reader warnings emitted once, here."""
    out = []
    for i, m in enumerate(members):
        f = results[0]["members"][i]
        s = MemberStats(m.path, m.kind, m.first_ts, packets=f["packets"], start=f["start"], end=f["end"],
                        last=f["last"], silence=f["silence"], linktypes=f["linktypes"], read_warnings=f["warnings"])
        s.provenance = _member_provenance(s, f["format"])
        s.provenance.sha256 = next(r["members"][i]["sha256"] for r in results if r["members"][i]["sha256"])
        for off, reason in f["warnings"]:
            s.provenance.warn(off, reason)
        out.append(s)
    return out


def _start(source, workers, mode):
    listing = _network_files(source)
    members = order_members([(p, k) for p, k, _ in listing.files])  # also loads numba's reader before the fork
    sizes = [os.path.getsize(m.path) for m in members]
    parts = max(1, int(workers))
    spill = None
    if mode != "summary":
        base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
        spill = tempfile.mkdtemp(prefix="forensics-set-", dir=base)
    # summary: N workers, this process waits. Packets table: this process builds the columns and analyses
    # partition 0 (about the work of hashing the whole set), N - 1 workers the other partitions and the hashing
    which = list(range(parts)) if mode == "summary" else list(range(1, parts))
    try:
        _warm_analyser()
        pool = _Workers(parts, which, members, hash_shares(sizes, len(which)), mode, spill)
    except BaseException:
        if spill:
            shutil.rmtree(spill, ignore_errors=True)
        raise
    return listing, members, sum(sizes), pool, spill, parts


def _warm_analyser():
    """The TCP analyser's and defragmenter's compiled code, loaded once here rather than in every worker."""
    from ..network.decode import PACKET_DTYPE

    rec = np.zeros(1, PACKET_DTYPE)
    an = Analyzer()
    an.feed(rec)
    partition_of(rec, 2)


def capture_set_summary_workers(source, workers: int) -> dict:
    """:func:`~forensics.sets.captures.capture_set_summary` on ``workers`` local processes; the same numbers."""
    listing, members, total, pool, _, _ = _start(source, workers, "summary")
    try:
        with progress(len(members), "capture set", unit="file", size_bytes=total) as bar:
            results = pool.results(bar)
    finally:
        pool.stop()
    members = _members_from(members, results)
    totals = dict.fromkeys(FLAG_NAMES + ["reset"], 0)
    for r in results:
        for k in totals:
            totals[k] += r["totals"][k]
    return summary_dict(listing, members, results[0]["merged"], results[0]["packets"],
                        sum(r["streams"] for r in results), totals, results[0]["layers"])


class _FirstPartition(Analyzer):
    """The packets table's analyser in this process: fragments reassembled, then :meth:`Analyzer.feed`
    (address codes, tunnels' outer addresses, the TCP analysis) with the TCP rows of partitions other
    than 0 hidden; their analysis columns come from the workers afterwards (:func:`_merge`)."""

    def __init__(self, parts: int):
        super().__init__()
        self.parts = parts
        self._defrag = getattr(self, "defrag", None)
        if self._defrag is not None:
            self.defrag = _NoDefrag()

    def feed(self, rec):
        if self._defrag is not None:
            self._defrag.apply(rec)
        other = partition_of(rec, self.parts) > 0
        if not other.any():
            return super().feed(rec)
        proto = rec["proto"].copy()
        rec["proto"][other] = 0
        try:
            return super().feed(rec)
        finally:
            rec["proto"] = proto


def load_capture_set_workers(source, workers: int):
    """:func:`~forensics.sets.captures.load_capture_set` on ``workers`` local processes; the same result."""
    listing, members, total, pool, spill, parts = _start(source, workers, "packets")
    try:
        # while the workers hash and analyse, this process builds the columns from its own read
        pc = PacketColumns(row_estimate(total))
        pc.an = _FirstPartition(parts)
        owner = []

        def sink(rec, own):
            pc.add(rec)
            owner.append(own)
        mine = [MemberStats(m.path, m.kind, m.first_ts) for m in members]
        nobody = set()
        with warnings.catch_warnings(), progress(len(members), "capture set", unit="file", size_bytes=total) as bar:
            warnings.simplefilter("ignore")  # emitted once below, with the workers' facts
            rb = Rebatch(sink)  # the batches one read of the merged file gives (tunnel address codes depend on it)
            try:
                feed_members(mine, rb, bar, nobody)
            except _Overlap:
                pc = PacketColumns(row_estimate(total))
                pc.an = _FirstPartition(parts)
                owner.clear()
                mine = [MemberStats(m.path, m.kind, m.first_ts) for m in members]
                rb = Rebatch(sink)
                feed_members_merged(mine, rb, None, nobody)
            rb.flush()
        with progress(len(members), "capture set (TCP analysis)", unit="file", size_bytes=total) as bar:
            results = pool.results(bar)
        irtt = _merge(pc, results)
        packets = pc.frame()
    except (ValueError, IndexError, OverflowError, MemoryError) as e:
        raise ArtifactError(source if isinstance(source, str) else None, None,
                            f"could not decode capture set: {type(e).__name__}: {e}") from None
    finally:
        pool.stop()
        shutil.rmtree(spill, ignore_errors=True)
    members = _members_from(members, results)
    owner = np.concatenate(owner) if owner else np.zeros(0, np.int16)
    return finish_set(listing, members, packets, irtt, owner, results[0]["merged"])


def _merge(pc: PacketColumns, results: list) -> np.ndarray:
    """Partition 0 (analysed here) and each worker's partition into the packets columns, every row's
    analysis at its frame; streams renumbered by their first frame (as one analyser numbers them).
    Returns the handshake RTT per stream."""
    c = pc.cols
    st0 = c["stream"][:pc.n]
    rows0 = np.flatnonzero(st0 >= 0)  # the other partitions' rows still hold the fill (-1)
    irtt0 = pc.an.irtt()
    first0 = np.full(irtt0.shape[0], -1, np.int64)
    uniq, at = np.unique(st0[rows0], return_index=True)
    first0[uniq] = rows0[at] + 1
    arrays = [{k: np.load(p, mmap_mode="r") for k, p in r["arrays"].items()} for r in results]
    firsts = [first0] + [np.asarray(a["stream_first"]) for a in arrays]
    keys = sorted((int(f), q, s) for q, fs in enumerate(firsts) for s, f in enumerate(fs))
    remap = [np.zeros(fs.shape[0], np.int32) for fs in firsts]
    for new, (_, q, s) in enumerate(keys):
        remap[q][s] = new
    irtt = np.zeros(len(keys))
    st0[rows0] = remap[0][st0[rows0]]
    irtt[remap[0]] = irtt0
    for q, a in enumerate(arrays, start=1):
        rows = np.asarray(a["frames"]) - 1
        if not rows.shape[0]:
            continue
        c["tcp"][rows] = True
        for k in _RESULT_FIELDS:
            v = np.asarray(a[k])
            c[k][rows] = remap[q][v] if k == "stream" else v
        irtt[remap[q]] = a["irtt"]
    return irtt  # non-TCP rows keep the fills PacketColumns gave them
