"""Names and bit values of the TCP analysis flags (``tcp.analysis.*``), without the analysis itself.

Kept apart from :mod:`forensics.network.tcp_analysis` (numba) so that what only names flags — the
CLI's parser, the tables — starts without compiling or loading anything.
"""
from __future__ import annotations

# Bit values as in packet-tcp.h (TCP_A_*).
FLAG_BITS = {
    "retransmission": 0x0001,
    "lost_segment": 0x0002,
    "ack_lost_segment": 0x0004,
    "keep_alive": 0x0008,
    "duplicate_ack": 0x0010,
    "zero_window": 0x0020,
    "zero_window_probe": 0x0040,
    "zero_window_probe_ack": 0x0080,
    "keep_alive_ack": 0x0100,
    "out_of_order": 0x0200,
    "fast_retransmission": 0x0400,
    "window_update": 0x0800,
    "window_full": 0x1000,
    "reused_ports": 0x2000,
    "spurious_retransmission": 0x4000,
}

#: Flags in the order the CLI and the DataFrames show them.
FLAG_NAMES = ["retransmission", "fast_retransmission", "spurious_retransmission", "out_of_order",
              "lost_segment", "ack_lost_segment", "duplicate_ack", "zero_window", "zero_window_probe",
              "zero_window_probe_ack", "window_full", "window_update", "keep_alive", "keep_alive_ack",
              "reused_ports"]
