"""Several files as one, from a shell.

    forensics pcap summary rotated/ --format json        # a folder of rotated captures = one capture
    forensics pcap flows cap0.pcap cap1.pcap cap2.pcap   # several files, ordered by first packet
    forensics pcap flags rotated/ --workers 2            # hashing + TCP analysis in 2 processes
    forensics pcap summary rotated/ --scheduler local    # the same on a Dask LocalCluster
    forensics set members PATH...                        # the files of a set: order, times, gaps, hashes

``forensics pcap summary|flags|flows`` gain these through :func:`extend_pcap_commands`
(called by :mod:`forensics.network.cli`); one regular file with no ``--workers``/
``--scheduler`` still goes to the network kind's own single-file path, unchanged.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..parallel import default_workers

# pandas is imported by the commands: every `forensics` command imports this module to build its parser
if TYPE_CHECKING:
    import pandas as pd


def _options(args, local_default: int = 1) -> dict:
    workers = getattr(args, "workers", None)
    scheduler = getattr(args, "scheduler", None)
    if workers is None:
        workers = default_workers() if scheduler else local_default
    return {"workers": workers, "scheduler": scheduler}


def _flagged(packets):
    from ..network.analysis import flagged_frames

    return flagged_frames(packets)


def _iso(f: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    f = f.copy()
    for c in ("start", "end"):
        if c in f:
            f[c] = f[c].map(lambda t: t.isoformat() if pd.notna(t) else None)
    return f


def set_summary(args):
    from ..network.analysis import CLI_FLAGS
    from .captures import capture_set_summary

    # measured (docs/scale.md): the workers make summary faster even on 2 cores, so it uses the cores;
    # flags/flows build the packets table in this process, where 2 workers gained nothing on 2 cores
    # (at most 8: every local worker reads the whole set, so past that the re-reading outweighs the split)
    out = capture_set_summary(args.file, **_options(args, min(default_workers(), 8)))
    return {k: out[k] for k in ["packets", "tcp_streams", "files", "warnings"] + CLI_FLAGS
            + ["link_types", "undecoded_network_layer", "tunnels"] if k in out}


def set_flags(args):
    from .captures import load_capture_set

    if getattr(args, "scheduler", None):  # the workers write Parquet; only the flagged rows are read here
        from .cluster_tables import set_table_on_cluster

        return set_table_on_cluster(args.file, "flags", args.scheduler, args.workers, args.parquet_dir)
    return _flagged(load_capture_set(args.file, **_options(args)).packets)


def set_flows(args):
    from .captures import load_capture_set

    if getattr(args, "scheduler", None):  # the workers write Parquet; only the flows are read here
        from .cluster_tables import set_table_on_cluster

        return _iso(set_table_on_cluster(args.file, "flows", args.scheduler, args.workers, args.parquet_dir))
    return _iso(load_capture_set(args.file, **_options(args)).flows)


def set_members(args):
    """The files of the set in analysis order: kind, size, sha256, packets, frames, times, gaps."""
    if _is_capture_set(args.file):
        from .captures import capture_set_members

        return _iso(capture_set_members(args.file))
    from . import load_set

    return _iso(load_set(args.file).members)


def _is_capture_set(paths) -> bool:
    from .members import list_members

    try:
        return list_members(paths).families() == {"network"}
    except Exception:
        return False


def _single_file(args) -> bool:
    paths = args.file
    return (len(paths) == 1 and os.path.isfile(paths[0]) and getattr(args, "workers", None) is None
            and not getattr(args, "scheduler", None))


def _parallel_options(q):
    q.add_argument("--workers", type=int, default=None, metavar="N",
                   help="worker processes: each hashes its share of the files and analyses its share of the "
                        f"connections (default for summary: the cores up to 8, {min(default_workers(), 8)} here; for flags/flows 1: "
                        "this process, which hashes on a second core — measured no slower on 2 cores; "
                        "with --scheduler local: the cores)")
    q.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run on a Dask cluster: tcp://host:8786, or 'local' for a LocalCluster of --workers processes")
    q.add_argument("--parquet-dir", default=None, metavar="DIR",
                   help="with --scheduler, for flags/flows: where the workers write their partitions' packets and "
                        "flows as Parquet (kept; a folder every worker and this machine reach). Default: a temporary "
                        "folder, removed after")


_SET_HANDLERS = {"summary": set_summary, "flags": set_flags, "flows": set_flows}


def extend_pcap_commands(pcap_subparsers) -> None:
    """Let ``forensics pcap summary|flags|flows`` take several files or a folder (and ``--workers``,
    ``--scheduler``); a single plain file keeps going to the original handler."""
    for name, handler in _SET_HANDLERS.items():
        q = pcap_subparsers.choices.get(name)
        if q is None:
            continue
        for action in q._actions:
            if action.dest == "file":
                action.nargs = "+"
                action.metavar = "FILE"
                action.help = "a capture, several (rotated) captures, or a folder of them"
        _parallel_options(q)
        original = q.get_default("func")

        def dispatch(args, original=original, handler=handler):
            if _single_file(args):
                args.file = args.file[0]
                return original(args)
            if getattr(args, "engine", "native") != "native":
                from ..errors import ArtifactError

                raise ArtifactError(None, None, "several files are read by the native engine only "
                                    "(merge them with mergecap for --engine tshark)")
            return handler(args)
        q.set_defaults(func=dispatch)


def register(sub, common):
    p = sub.add_parser("set", help="the files of a set (captures, trace exports, pgss snapshots): order, times, gaps")
    sc = p.add_subparsers(dest="set_command", metavar="SUBCOMMAND")
    sc.required = True
    q = sc.add_parser("members", parents=[common], help="the members in analysis order, with provenance")
    q.add_argument("file", nargs="+", metavar="PATH")
    q.set_defaults(func=set_members)
