"""``forensics pcap summary|flags|flows|dissect FILE``.

    forensics pcap summary capture.pcap --format json
    forensics pcap flags capture.pcap --format csv
    forensics pcap flows capture.pcap --format table
    forensics pcap expert capture.pcap              # Expert Info
    forensics pcap conversations capture.pcap --layer tcp|udp|ip
    forensics pcap endpoints capture.pcap --layer ip|tcp|udp
    forensics pcap dissect capture.pcap 17          # every field of frame 17 (pyshark)
"""
from __future__ import annotations

# pandas, numba and the analysis are imported by the commands, not here: every `forensics` command
# imports this module to build its parser.


def _load(args):
    from .load import load_capture

    return load_capture(args.file, engine=args.engine)


def _spare_final_collection():
    """When this process is the ``forensics`` command, spare the interpreter its final garbage
    collection, which walks every numba and pandas object (~0.15 s of a 1 s ``pcap summary``):
    the objects alive now are frozen (``gc.freeze``) and still freed by reference counting at
    exit. Not when called in-process (tests, notebooks), where frozen cycles would stay."""
    import gc
    import os
    import sys

    argv0 = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    here = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "cli.py"))
    if os.path.basename(argv0) == "forensics" or argv0 == here:
        gc.freeze()


def cmd_summary(args):
    """Counts per flag (tcp.analysis.*), packets, TCP streams and load warnings."""
    _spare_final_collection()  # numba's start-up below makes many objects: its collections skip these
    hasher = None
    if args.engine == "native":  # the evidence hash starts on the other core before numba's start-up
        from .hashing import FileHash

        hasher = FileHash(args.file)
    from .analysis import CLI_FLAGS
    from .load import capture_summary

    out = capture_summary(args.file, engine=args.engine, hasher=hasher)
    _spare_final_collection()
    return {k: out[k] for k in ["packets", "tcp_streams", "warnings"] + CLI_FLAGS
            + ["link_types", "undecoded_network_layer", "tunnels"] if k in out}


def cmd_expert(args):
    """Wireshark's Expert Information: items by severity with counts and frames."""
    from .statistics import expert_info

    return expert_info(_load(args))


def cmd_conversations(args):
    from .statistics import conversations

    return conversations(_load(args).packets, args.layer)


def cmd_endpoints(args):
    from .statistics import endpoints

    return endpoints(_load(args).packets, args.layer)


def cmd_flags(args):
    from .analysis import flagged_frames

    return flagged_frames(_load(args).packets)


def cmd_flows(args):
    import pandas as pd

    f = _load(args).flows.copy()
    for c in ("start", "end"):
        if c in f:
            f[c] = f[c].map(lambda t: t.isoformat() if pd.notna(t) else None)
    return f


def cmd_dissect(args):
    from .engines import dissect

    layers = dissect(args.file, args.frame)
    return [{"layer": layer, "field": k, "value": v} for layer, fields in layers.items() for k, v in fields.items()]


def register(sub, common):
    p = sub.add_parser("pcap", help="packet captures: TCP analysis (retransmissions, dup-ACKs, zero windows), flows")
    pc = p.add_subparsers(dest="pcap_command", metavar="SUBCOMMAND")
    pc.required = True
    for name, func, text in (("summary", cmd_summary, "packets, TCP streams, warnings and a count per flag"),
                             ("flags", cmd_flags, "one row per frame with a flag: frame, stream, 0/1 per flag"),
                             ("flows", cmd_flows, "one row per TCP stream: volumes, RTTs, retransmissions, state"),
                             ("expert", cmd_expert, "Expert Info: analysis flags, RST, SYN/FIN, ICMP unreachable by "
                              "severity, with counts and frames"),
                             ("conversations", cmd_conversations, "Conversations (tshark -z conv): packets and bytes "
                              "each way per pair"),
                             ("endpoints", cmd_endpoints, "Endpoints (tshark -z endpoints): packets and bytes sent "
                              "and received per address")):
        q = pc.add_parser(name, parents=[common], help=text, description=text)
        q.add_argument("file", metavar="FILE")
        q.add_argument("--engine", choices=("native", "tshark"), default="native",
                       help="native (default, no external tools) or tshark (Wireshark's own labels)")
        if name in ("conversations", "endpoints"):
            q.add_argument("--layer", choices=("ip", "tcp", "udp"), default="tcp" if name == "conversations" else "ip")
        q.set_defaults(func=func)
    q = pc.add_parser("dissect", parents=[common], help="every Wireshark field of one frame (needs tshark/pyshark)")
    q.add_argument("file", metavar="FILE")
    q.add_argument("frame", type=int, metavar="FRAME")
    q.set_defaults(func=cmd_dissect)
    from ..sets.cli import extend_pcap_commands  # several files or a folder as one capture (issue 16)

    extend_pcap_commands(pc)
