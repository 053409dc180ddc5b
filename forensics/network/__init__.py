"""Packet captures: native pcap/pcapng reader, Wireshark-compatible TCP analysis, flows."""
