"""``pcap flags`` / ``pcap flows`` of a capture set on a Dask cluster, without gathering the packets.

The steps of :mod:`forensics.sets.partitioned` (decode per file, fragments reassembled
in set order, TCP analysis per connection partition), then each partition's worker
builds its part of the packets table and writes it as Parquet itself:

1. **analyse** (a task per partition): the partition's packets through
   :class:`~forensics.network.load.PacketColumns` — the packets table of its TCP rows —
   kept on the worker; only each stream's first frame comes to the client;
2. the client numbers the streams by first frame over all partitions (as one
   analyser numbers them) and sends each partition its stream numbers;
3. **write** (a task per partition): set frame numbers and stream numbers put in, the
   partition's flows (every stream lives in one partition) computed, and both written
   to ``DIR/packets/part-<q>.parquet`` and ``DIR/flows/part-<q>.parquet``;
4. the client reads **only what it needs**: every flows file (one row per stream), or
   for ``flags`` the frame, stream and flag columns of the rows with a flag (a Parquet
   filter: the other rows are never read).

So the client's memory is the answer, not the packets table, and a worker's is its
partition (and the pieces of the files it decoded). ``DIR`` must be readable by the
workers and the client (a shared file system on a real cluster; a temporary folder
for ``--scheduler local``). The ``packets`` files hold the analysed (TCP) packets.
"""
from __future__ import annotations

import os
import shutil
import tempfile

import numpy as np
import pandas as pd

from ..errors import ArtifactError
from ..network.load import PacketColumns
from ..parallel import executor
from .captures import BATCH, _network_files, _set_provenance, boundary_warnings
from .partitioned import _FRAME_FIELDS, _arr, _decode_remote, _defragment, _order


class _NoDefrag:
    def apply(self, rec):
        pass


def analyse_columns(pieces: list, frames_of: list, extra=None, reassemble: bool = True):
    """Step 1 on a worker: the partition's packets table (TCP rows, partition-local numbering) and the
    set frame number of each row. None when the partition is empty. ``reassemble=False`` for rows whose
    fragments were reassembled over the whole set already (the packets that are not TCP)."""
    recs, frames = [], []
    if extra is not None and extra[0].shape[0]:
        recs.append(extra[0])
        frames.append(extra[1])
    for (r, rows), fo in zip(pieces, frames_of):
        r, rows = _arr(r), _arr(rows)
        if rows.shape[0]:
            recs.append(np.asarray(r))
            frames.append(rows + fo if np.isscalar(fo) else _arr(fo)[rows])
    if not recs:
        return None
    rec, frame = np.concatenate(recs), np.concatenate(frames)
    del recs
    if frame.shape[0] > 1 and not (np.diff(frame) > 0).all():
        order = np.argsort(frame, kind="stable")
        rec, frame = rec[order], frame[order]
    pc = PacketColumns(rec.shape[0])
    if not reassemble and hasattr(pc.an, "defrag"):
        pc.an.defrag = _NoDefrag()
    for s in range(0, rec.shape[0], BATCH):
        pc.add(rec[s:s + BATCH])
    irtt = pc.an.irtt()
    packets = pc.frame()
    return {"packets": packets, "frame": frame, "irtt": irtt}


def stream_first(part) -> np.ndarray:
    """Set frame of each local stream's first packet (what the client numbers streams by)."""
    if part is None:
        return np.zeros(0, np.int64)
    st = part["packets"]["stream"].to_numpy()
    first = np.full(part["irtt"].shape[0], -1, np.int64)
    uniq, at = np.unique(st[st >= 0], return_index=True)
    first[uniq] = part["frame"][np.flatnonzero(st >= 0)[at]]
    return first


def renumbered(part, numbers: np.ndarray):
    """A partition's packets table with set frame numbers and set stream numbers (``numbers``: the
    set number of each local stream), and the set-indexed handshake RTTs of its streams."""
    p, frame = part["packets"], part["frame"]
    p["frame"] = frame.astype(p["frame"].dtype)
    st = p["stream"].to_numpy()
    if numbers.shape[0]:
        p["stream"] = np.where(st >= 0, numbers[np.clip(st, 0, None)], st).astype(st.dtype)
    for k in _FRAME_FIELDS:  # partition-local frame numbers -> set frame numbers
        v = p[k].to_numpy().copy()
        nz = v > 0
        v[nz] = frame[v[nz] - 1]
        p[k] = v
    irtt = np.zeros(int(numbers.max()) + 1 if numbers.shape[0] else 0)
    irtt[numbers] = part["irtt"]
    return p, irtt


def write_partition(part, numbers: np.ndarray, out_dir: str, q: int) -> dict:
    """Step 3 on a worker: set frame and stream numbers in, flows computed, both written as Parquet."""
    from ..network.flows import flows_table

    if part is None:
        return {"packets": 0, "streams": 0}
    p, irtt = renumbered(part, numbers)
    flows = flows_table(p, irtt)
    for table, df in (("packets", p), ("flows", flows)):
        os.makedirs(os.path.join(out_dir, table), exist_ok=True)
        df.to_parquet(os.path.join(out_dir, table, f"part-{q:05d}.parquet"), index=False)
    return {"packets": int(len(p)), "streams": int(len(flows))}


def _number_streams(firsts: list) -> list:
    keys = sorted((int(f), q, s) for q, fs in enumerate(firsts) for s, f in enumerate(fs))
    numbers = [np.zeros(len(fs), np.int64) for fs in firsts]
    for new, (_, q, s) in enumerate(keys):
        numbers[q][s] = new
    return numbers


def decoded_on_cluster(ex, listing):
    """Each member decoded on the cluster's workers (the records stay there), in set order: the decoded
    members' facts, each one's set frame numbers, whether files were merged in time order, and the
    members with the warnings their workers recorded."""
    parts = ex.workers
    decoded = _decode_remote(ex, [(p, k, parts, None) for p, k, _ in listing.files], parts)
    dec, frames_of, _, merged = _order(decoded)
    members = [d["stats"] for d in dec]
    for m, d in zip(members, dec):
        for off, reason in d["warnings"]:
            m.provenance.warn(off, reason)
    return dec, frames_of, merged, members


def write_set_tables(source, scheduler: str, out_dir: str, workers: int | None = None) -> dict:
    """Steps 1–3 on the cluster; returns what was written (folder, members, counts)."""
    listing = _network_files(source)
    with executor(workers, scheduler) as ex:
        if ex.kind != "dask":
            raise ArtifactError(None, None, "the cluster tables need a Dask scheduler")
        parts = ex.workers
        c = ex.client
        dec, frames_of, merged, members = decoded_on_cluster(ex, listing)
        firsts_of = [int(f) if np.isscalar(f) else int(np.min(f)) if len(f) else 0 for f in frames_of]
        boundary_warnings(listing, members, _set_provenance(listing, members),
                          [f if m.packets else 0 for f, m in zip(firsts_of, members)])
        extra = _defragment(dec, frames_of, parts)
        analysed = [c.submit(analyse_columns, [d["parts"][q] for d in dec], frames_of, extra[q], pure=False)
                    for q in range(parts)]
        del dec  # the decoded pieces are released once the analyses hold them
        firsts = c.gather([c.submit(stream_first, a, pure=False) for a in analysed])
        numbers = _number_streams(firsts)
        written = c.gather([c.submit(write_partition, a, numbers[q], out_dir, q, pure=False)
                            for q, a in enumerate(analysed)])
        del analysed
    return {"dir": out_dir, "listing": listing, "members": members, "merged": merged, "written": written}


def _files(out_dir: str, table: str) -> list:
    folder = os.path.join(out_dir, table)
    if not os.path.isdir(folder):
        return []
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".parquet"))


def read_flows(out_dir: str) -> pd.DataFrame:
    """Every partition's flows, in stream order (the single-process flows table)."""
    files = _files(out_dir, "flows")
    frames = [pd.read_parquet(f) for f in files]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=["stream", "client", "client_port", "server", "server_port"])
    return pd.concat(frames, ignore_index=True).sort_values("stream", kind="stable").reset_index(drop=True)


def read_flags(out_dir: str) -> pd.DataFrame:
    """``frame, stream`` and a 0/1 column per flag of the frames with a flag, read with a Parquet filter
    (rows without a flag are not read); as :func:`~forensics.network.analysis.flagged_frames`."""
    import pyarrow.dataset as ds

    from ..network.analysis import CLI_FLAGS

    files = _files(out_dir, "packets")
    cols = ["frame", "stream"] + CLI_FLAGS
    if not files:
        return pd.DataFrame({c: pd.Series(dtype="int32" if c in ("frame", "stream") else "int8") for c in cols})
    cond = None
    for f in CLI_FLAGS:
        cond = ds.field(f) if cond is None else cond | ds.field(f)
    t = ds.dataset(files, format="parquet").to_table(columns=cols, filter=cond)
    out = t.to_pandas().sort_values("frame", kind="stable").reset_index(drop=True)
    for f in CLI_FLAGS:
        out[f] = out[f].astype("int8")
    return out


def set_table_on_cluster(source, table: str, scheduler: str, workers: int | None = None,
                         out_dir: str | None = None) -> pd.DataFrame:
    """``flags`` or ``flows`` of a capture set computed on the cluster, read back from the workers'
    Parquet. Without ``out_dir`` a temporary folder (removed after) — fine for ``--scheduler local``;
    on a real cluster pass a folder every worker and this machine can reach."""
    tmp = out_dir is None
    out_dir = tempfile.mkdtemp(prefix="forensics-cluster-") if tmp else os.fspath(out_dir)
    try:
        done = write_set_tables(source, scheduler, out_dir, workers)
        if sum(w["packets"] for w in done["written"]) and not _files(out_dir, "packets"):
            raise ArtifactError(out_dir, None, "the workers wrote their Parquet where this machine cannot read it; "
                                "pass a folder on a file system they share (--parquet-dir)")
        return read_flows(out_dir) if table == "flows" else read_flags(out_dir)
    finally:
        if tmp:
            shutil.rmtree(out_dir, ignore_errors=True)
