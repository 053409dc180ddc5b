"""Load a pcap/pcapng capture into DataFrames: ``packets`` (one row per frame) and ``flows``.

>>> cap = load_capture("sample_data/network/bulk_loss.pcap")        # doctest: +SKIP
>>> cap.packets.loc[cap.packets.retransmission, ["frame", "stream", "rel_seq"]]  # doctest: +SKIP
"""
from __future__ import annotations

import dataclasses
import ipaddress

import numpy as np
import pandas as pd

from ..artifact import Provenance, provenance_for
from ..errors import ArtifactError
from .decode import address_codes, conversation_codes
from .pcap import read_capture
from .tcp_analysis import FLAG_BITS, FLAG_NAMES, RST, analyze

PROTO_NAMES = {1: "ICMP", 6: "TCP", 17: "UDP", 58: "ICMPv6", 132: "SCTP", 47: "GRE", 50: "ESP"}


@dataclasses.dataclass
class Capture:
    """A loaded capture. ``packets``: one row per frame; ``flows``: one row per TCP stream."""

    packets: pd.DataFrame
    provenance: Provenance
    linktypes: list
    _flows: pd.DataFrame | None = None
    irtt: np.ndarray | None = None

    @property
    def flows(self) -> pd.DataFrame:
        if self._flows is None:
            from .flows import flows_table

            self._flows = self.provenance.attach(flows_table(self.packets, self.irtt))
        return self._flows

    @property
    def warnings(self) -> list[str]:
        return self.provenance.warnings


def _addr_categories(uv, uh, ul) -> list[str]:
    """Text of each unique address (formatting only the unique ones)."""
    names = []
    for v, h, l in zip(uv.tolist(), uh.tolist(), ul.tolist()):
        if v == 4:
            names.append(str(ipaddress.IPv4Address(l & 0xFFFFFFFF)))
        else:
            names.append(str(ipaddress.IPv6Address((h << 64) | l)))
    return names


def packets_frame(rec: np.ndarray):
    """Build the ``packets`` DataFrame (and per-stream handshake RTTs) from decoded records."""
    n = rec.shape[0]
    frame = np.arange(1, n + 1, dtype=np.int64)
    tcp = (rec["proto"] == 6) & rec["l4ok"] & ~rec["frag"] & (rec["ipver"] > 0)
    idx = np.flatnonzero(tcp)
    sc, dc, uv, uh, ul = address_codes(rec["ipver"], rec["src_hi"], rec["src_lo"], rec["dst_hi"], rec["dst_lo"])
    cats = _addr_categories(uv, uh, ul)
    r = rec[idx]
    conv, swapped = conversation_codes(sc[idx], dc[idx], r["sport"], r["dport"])
    (stream, direction, relseq, relack, aflags, dup_num, dup_frame, acked_frame, ack_rtt, rto, rto_frame,
     _first_swapped, irtt, _sconv) = analyze(conv, swapped, frame[idx], r["ts"], r["seq"], r["ack"], r["flags"],
                                              r["window"], r["paylen"], r["wscale"], int(conv.max() + 1) if len(conv) else 0)

    def full(vals, fill, dtype):
        a = np.full(n, fill, dtype=dtype)
        a[idx] = vals
        return a

    proto = rec["proto"]
    pcodes = np.where(rec["ipver"] == 0, -1, proto.astype(np.int64))
    pnames = {p: PROTO_NAMES.get(p, f"IP/{p}") for p in np.unique(pcodes[pcodes >= 0]).tolist()}
    pcats = list(pnames.values())
    pmap = np.full(256, -1, np.int64)
    for k, p in enumerate(pnames):
        pmap[p] = k
    protocol = pd.Categorical.from_codes(np.where(pcodes >= 0, pmap[np.clip(pcodes, 0, 255)], -1), categories=pcats)

    l4 = rec["l4ok"] & ~rec["frag"]
    df = pd.DataFrame({
        "frame": frame,
        "time": pd.to_datetime(rec["ts"], unit="ns", utc=True),
        "len": rec["wirelen"],
        "caplen": rec["caplen"],
        "ip_version": rec["ipver"],
        "src": pd.Categorical.from_codes(sc, categories=cats),
        "dst": pd.Categorical.from_codes(dc, categories=cats),
        "sport": np.where(l4, rec["sport"], 0).astype(np.uint16),
        "dport": np.where(l4, rec["dport"], 0).astype(np.uint16),
        "protocol": protocol,
        "stream": full(stream, -1, np.int32),
        "direction": full(direction, -1, np.int8),
        "seq": rec["seq"],
        "ack": rec["ack"],
        "rel_seq": full(relseq, 0, np.int64).astype(np.uint32),
        "rel_ack": full(relack, 0, np.int64).astype(np.uint32),
        "payload_len": np.where(l4, rec["paylen"], 0).astype(np.int32),
        "flags": rec["flags"],
        "window": rec["window"],
        "mss": rec["mss"],
        "wscale": rec["wscale"],
        "sack_perm": rec["sack_perm"],
        "sack_blocks": rec["sack_blocks"],
        "ts_val": np.where(rec["has_ts"], rec["tsval"].astype(np.int64), -1),
        "ts_ecr": np.where(rec["has_ts"], rec["tsecr"].astype(np.int64), -1),
    })
    fl = full(aflags, 0, np.int32)
    for name in FLAG_NAMES:
        df[name] = (fl & FLAG_BITS[name]) != 0
    # Wireshark shows fast and spurious retransmissions as retransmissions too.
    df["retransmission"] = df["retransmission"] | df["fast_retransmission"] | df["spurious_retransmission"]
    df["reset"] = tcp & ((rec["flags"] & RST) != 0)
    df["dup_ack_num"] = full(dup_num, 0, np.int32)
    df["dup_ack_frame"] = full(dup_frame, 0, np.int64)
    df["acked_frame"] = full(acked_frame, 0, np.int64)
    df["ack_rtt"] = full(np.where(ack_rtt >= 0, ack_rtt / 1e9, np.nan), np.nan, np.float64)
    df["rto"] = full(np.where(rto >= 0, rto / 1e9, np.nan), np.nan, np.float64)
    df["rto_frame"] = full(rto_frame, 0, np.int64)
    return df, irtt / 1e9


def load_capture(path, **options) -> Capture:
    """Read a pcap or pcapng file and run Wireshark-compatible TCP analysis on it.

    ``engine="native"`` (default) reads the file here; ``engine="tshark"`` runs tshark
    once and takes Wireshark's own labels, with the same column names.

    Warnings (a file cut mid-record, a corrupt record) are recorded in
    ``capture.provenance.warnings`` with the byte offset; everything before the
    problem is loaded. Raises only :class:`~forensics.errors.ArtifactError`.
    """
    prov = provenance_for(path, parser="forensics.network")
    if prov.kind not in ("pcap", "pcapng"):
        raise ArtifactError(path, 0, f"not a pcap or pcapng capture ({prov.format or 'unknown content'})")
    engine = options.get("engine", "native")
    if engine == "tshark":
        from .engines import tshark_packets

        packets, irtt, warns = tshark_packets(path)
        for w in warns:
            prov.warn(None, f"tshark: {w}")
        prov.details.update({"packets": int(len(packets)), "engine": "tshark"})
        prov.attach(packets)
        return Capture(packets=packets, provenance=prov, linktypes=[], irtt=irtt)
    if engine != "native":
        raise ArtifactError(path, None, f"unknown engine {engine!r}; use 'native' or 'tshark'")
    try:
        raw = read_capture(path)
        for off, reason in raw.warnings:
            prov.warn(off, reason)
        packets, irtt = packets_frame(raw.records)
    except ArtifactError:
        raise
    except (ValueError, IndexError, OverflowError, MemoryError) as e:  # a defect in the reader, not evidence
        raise ArtifactError(path, None, f"could not decode capture: {type(e).__name__}: {e}") from None
    prov.details.update({"packets": int(len(packets)), "linktypes": raw.linktypes, "snaplens": raw.snaplens,
                         "container": raw.format})
    prov.attach(packets)
    return Capture(packets=packets, provenance=prov, linktypes=raw.linktypes, irtt=irtt)
