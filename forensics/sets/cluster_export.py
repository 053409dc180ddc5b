"""``forensics export SET --scheduler …``: a capture set's tables written as Parquet by the cluster's workers.

The same steps as :mod:`forensics.sets.cluster_tables` (decode per file on the workers, fragments
reassembled in set order, TCP analysis per connection partition, streams numbered by first frame
over all partitions), with one more partition for the packets that are not TCP. Then each worker
writes *its* rows of the export's tables into the export layout (:mod:`forensics.columnar.parquet`):

* ``packets``: the partition's rows, each file indexed by the rows' set row numbers, so reading
  the export back (:func:`forensics.columnar.read_frame`) puts every row in its place;
* ``flows``: one row per stream, and every stream lives in one partition: indexed by stream number.

The client writes only what is small: the ``members`` table, the ``flags`` view (the flagged rows,
which each worker sends back) and the ``artifacts`` row. So the client never holds the packets table,
and a worker holds one partition. Read back, every table equals the single-process export's values;
the order of a categorical column's categories (``src``, ``dst``…) may differ, since each partition
codes the addresses it saw. ``out_dir`` must be a folder every worker and this machine reach.
"""
from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd

from ..errors import ArtifactError
from ..parallel import executor
from .captures import _members_frame, _network_files, _set_provenance, boundary_warnings
from .cluster_tables import _number_streams, analyse_columns, decoded_on_cluster, renumbered, stream_first
from .partitioned import _defragment, tcp_rows


def write_pieces(part, numbers: np.ndarray, out_dir: str, artifact: str, meta: dict) -> dict:
    """On a worker: set frame and stream numbers in, the partition's flows, both written in the export
    layout; the flagged rows come back (small) for the client's ``flags`` table."""
    from ..columnar.parquet import write_rows
    from ..network.analysis import flagged_frames
    from ..network.flows import flows_table

    if part is None:
        return {"packets": 0, "streams": 0, "files": [], "flags": None}
    p, irtt = renumbered(part, numbers)
    files = write_rows(p, part["frame"] - 1, out_dir, "packets", artifact, meta)
    streams = 0
    if numbers.shape[0]:
        flows = flows_table(p, irtt)
        streams = len(flows)
        if streams:
            files += write_rows(flows, flows["stream"].to_numpy(), out_dir, "flows", artifact, meta)
    return {"packets": int(len(p)), "streams": streams, "files": files, "flags": flagged_frames(p)}


def _rest_frags(d: dict):
    """A member's fragment rows that did not become a TCP datagram (those went to a TCP partition)."""
    r, rows = d["frag"]
    if not rows.shape[0]:
        return r, rows
    keep = ~tcp_rows(r)
    return r[keep], rows[keep]


def _first_last(frames_of: list, dec: list) -> tuple[list, list]:
    first, last = [], []
    for fo, d in zip(frames_of, dec):
        if not d["n"]:
            first.append(0)
            last.append(0)
        elif np.isscalar(fo):
            first.append(int(fo))
            last.append(int(fo) + d["n"] - 1)
        else:
            first.append(int(np.min(fo)))
            last.append(int(np.max(fo)))
    return first, last


def export_set_on_cluster(source, out_dir: str, artifact: str, scheduler: str, workers: int | None = None) -> list:
    """Write the capture set ``source`` as the export's tables, from the Dask ``scheduler``'s workers;
    rows as :func:`forensics.columnar.writer.export_path` gives (artifact, table, rows, files, days)."""
    from ..columnar.parquet import write_frame

    listing = _network_files(source)
    out_dir = os.path.abspath(os.fspath(out_dir))
    with executor(workers, scheduler) as ex:
        if ex.kind != "dask":
            raise ArtifactError(None, None, "writing from the workers needs a Dask scheduler")
        parts, c = ex.workers, ex.client
        dec, frames_of, merged, members = decoded_on_cluster(ex, listing)
        first, last = _first_last(frames_of, dec)
        prov = _set_provenance(listing, members)
        boundary_warnings(listing, members, prov, first)
        extra = _defragment(dec, frames_of, parts)
        linktypes = []
        for m in members:
            linktypes += [lt for lt in m.linktypes if lt not in linktypes]
        prov.details.update({"packets": int(sum(d["n"] for d in dec)), "linktypes": linktypes,
                             "files": len(members), "merged_in_time_order": merged})
        meta = {"source": os.path.abspath(source if isinstance(source, (str, os.PathLike)) else listing.root),
                "provenance": prov.to_dict()}
        analysed = [c.submit(analyse_columns, [d["parts"][q] for d in dec], frames_of, extra[q], pure=False)
                    for q in range(parts)]
        # the packets that are not TCP, and the fragments that did not make a TCP datagram
        rest = c.submit(analyse_columns, [*(d["parts"][parts] for d in dec), *(_rest_frags(d) for d in dec)],
                        [*frames_of, *frames_of], None, False, pure=False)
        del dec
        numbers = _number_streams(c.gather([c.submit(stream_first, a, pure=False) for a in analysed]))
        jobs = [c.submit(write_pieces, a, numbers[q], out_dir, artifact, meta, pure=False)
                for q, a in enumerate(analysed)]
        jobs.append(c.submit(write_pieces, rest, np.zeros(0, np.int64), out_dir, artifact, meta, pure=False))
        written = c.gather(jobs)
        del analysed, rest, jobs
    flags = [w["flags"] for w in written if w["flags"] is not None and len(w["flags"])]
    flags = (pd.concat(flags).sort_values("frame", kind="stable").reset_index(drop=True) if flags
             else next((w["flags"] for w in written if w["flags"] is not None), None))
    table = _members_frame(listing, members, first, last)
    rows = []

    def counted(name, n, files):
        rows.append({"artifact": artifact, "table": name, "rows": n, "files": len(files),
                     "days": len({os.path.basename(os.path.dirname(f)) for f in files}), "error": None})
    by_table = {"packets": [], "flows": []}
    for w in written:
        for f in w["files"]:
            by_table[os.path.basename(os.path.dirname(os.path.dirname(os.path.dirname(f))))].append(f)
    counted("packets", sum(w["packets"] for w in written), by_table["packets"])
    counted("members", len(table), write_frame(table, out_dir, "members", artifact, meta))
    if not by_table["flows"]:  # no TCP stream: the empty table, as one process exports it
        from ..network.flows import flows_table

        by_table["flows"] = write_frame(flows_table(pd.DataFrame()), out_dir, "flows", artifact, meta)
    counted("flows", sum(w["streams"] for w in written), by_table["flows"])
    if flags is not None:
        counted("flags", len(flags), write_frame(flags, out_dir, "flags", artifact, meta))
    p = meta["provenance"]
    write_frame(pd.DataFrame([{"artifact": artifact, "source": meta["source"], "kind": p.get("kind"),
                               "sha256": p.get("sha256"), "size": p.get("size"),
                               "warnings": len(p.get("warnings", [])),
                               "tables": sorted(r["table"] for r in rows),
                               "provenance": json.dumps(p, default=str)}]), out_dir, "artifacts", artifact, {})
    return rows
