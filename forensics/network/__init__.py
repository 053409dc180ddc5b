"""Packet captures: native pcap/pcapng reader, Wireshark-compatible TCP analysis, flows.

    >>> import os
    >>> from forensics.network import load_capture
    >>> here = os.path.join(os.path.dirname(__file__), "..", "..", "sample_data", "network")
    >>> cap = load_capture(os.path.join(here, "bulk_loss.pcap"))
    >>> int(cap.packets["retransmission"].sum()) > 0, len(cap.provenance.sha256)
    (True, 64)
"""
from .load import Capture, load_capture  # noqa: F401
