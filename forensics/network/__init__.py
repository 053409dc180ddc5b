"""Packet captures: native pcap/pcapng reader, Wireshark-compatible TCP analysis, flows.

    >>> import os
    >>> from forensics.network import load_capture
    >>> here = os.path.join(os.path.dirname(__file__), "..", "..", "sample_data", "network")
    >>> cap = load_capture(os.path.join(here, "bulk_loss.pcap"))
    >>> int(cap.packets["retransmission"].sum()) > 0, len(cap.provenance.sha256)
    (True, 64)
"""

__all__ = ["Capture", "load_capture"]


def __getattr__(name):
    # The reader and analysis (numba) load on first use, not when the CLI builds its parser.
    if name in __all__:
        from . import load

        return getattr(load, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
