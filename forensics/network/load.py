"""Load a pcap/pcapng capture into DataFrames: ``packets`` (one row per frame) and ``flows``.

>>> cap = load_capture("sample_data/network/bulk_loss.pcap")        # doctest: +SKIP
>>> cap.packets.loc[cap.packets.retransmission, ["frame", "stream", "rel_seq"]]  # doctest: +SKIP
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

import os

from .. import __version__
from ..artifact import Provenance, sniff
from ..errors import ArtifactError
from .pcap import BackgroundHash, read_capture
from .tcp_analysis import FLAG_BITS, FLAG_NAMES, RST, Analyzer

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


def _tcp_mask(rec):
    return (rec["proto"] == 6) & rec["l4ok"] & ~rec["frag"] & (rec["ipver"] > 0)


def flag_counts(rec: np.ndarray, res: dict) -> dict:
    """Counts per flag straight from the analysis bits (what ``pcap summary`` needs, without a DataFrame)."""
    fl = res["aflags"]
    counts = {name: int(np.count_nonzero(fl & FLAG_BITS[name])) for name in FLAG_NAMES}
    counts["retransmission"] = int(np.count_nonzero(fl & (FLAG_BITS["retransmission"] | FLAG_BITS["fast_retransmission"]
                                                          | FLAG_BITS["spurious_retransmission"])))
    tcp_flags = rec["flags"] if res["all_tcp"] else rec["flags"][res["idx"]]
    counts["reset"] = int(np.count_nonzero(tcp_flags & RST))
    return counts


def packets_frame(rec: np.ndarray):
    """Build the ``packets`` DataFrame (and per-stream handshake RTTs) from decoded records.

    Columns are added one by one (no block consolidation copy), so memory stays
    close to one copy of the data.
    """
    n = rec.shape[0]
    an = Analyzer()
    res = an.feed(rec)
    sc, dc = res.pop("sc"), res.pop("dc")
    cats = an.address_names()
    idx, all_tcp = res["idx"], res["all_tcp"]

    def full(vals, fill):
        if all_tcp:
            return vals
        a = np.full(n, fill, dtype=vals.dtype)
        a[idx] = vals
        return a

    proto = rec["proto"]
    ipver = rec["ipver"]
    pcodes = np.where(ipver == 0, -1, proto.astype(np.int16))
    pnames = {p: PROTO_NAMES.get(p, f"IP/{p}") for p in np.unique(pcodes[pcodes >= 0]).tolist()}
    pmap = np.full(256, -1, np.int8)
    for k, p in enumerate(pnames):
        pmap[p] = k
    l4 = rec["l4ok"] & ~rec["frag"]
    df = pd.DataFrame({"frame": np.arange(1, n + 1, dtype=np.int32)})
    df["time"] = pd.to_datetime(rec["ts"], unit="ns", utc=True)
    df["len"] = rec["wirelen"]
    df["caplen"] = rec["caplen"]
    df["ip_version"] = ipver
    df["src"] = pd.Categorical.from_codes(sc, categories=cats)
    df["dst"] = pd.Categorical.from_codes(dc, categories=cats)
    del sc, dc
    df["sport"] = np.where(l4, rec["sport"], 0).astype(np.uint16)
    df["dport"] = np.where(l4, rec["dport"], 0).astype(np.uint16)
    df["protocol"] = pd.Categorical.from_codes(np.where(pcodes >= 0, pmap[np.clip(pcodes, 0, 255)], -1),
                                               categories=list(pnames.values()))
    del pcodes
    df["stream"] = full(res.pop("stream"), -1)
    df["direction"] = full(res.pop("direction"), -1)
    df["seq"] = rec["seq"]
    df["ack"] = rec["ack"]
    df["rel_seq"] = full(res.pop("rel_seq"), 0)
    df["rel_ack"] = full(res.pop("rel_ack"), 0)
    df["payload_len"] = np.where(l4, rec["paylen"], 0).astype(np.int32)
    df["flags"] = rec["flags"]
    df["window"] = rec["window"]
    df["mss"] = rec["mss"]
    df["wscale"] = rec["wscale"]
    df["sack_perm"] = rec["sack_perm"]
    df["sack_blocks"] = rec["sack_blocks"]
    df["ts_val"] = np.where(rec["has_ts"], rec["tsval"].astype(np.int64), -1)
    df["ts_ecr"] = np.where(rec["has_ts"], rec["tsecr"].astype(np.int64), -1)
    fl = full(res.pop("aflags"), 0)
    for name in FLAG_NAMES:
        df[name] = (fl & FLAG_BITS[name]) != 0
    # Wireshark shows fast and spurious retransmissions as retransmissions too.
    df["retransmission"] = df["retransmission"] | df["fast_retransmission"] | df["spurious_retransmission"]
    del fl
    df["reset"] = _tcp_mask(rec) & ((rec["flags"] & RST) != 0)
    df["dup_ack_num"] = full(res.pop("dup_ack_num"), 0)
    df["dup_ack_frame"] = full(res.pop("dup_ack_frame"), 0)
    df["acked_frame"] = full(res.pop("acked_frame"), 0)
    rtt = res.pop("ack_rtt")
    df["ack_rtt"] = full(np.where(rtt >= 0, rtt / 1e9, np.nan), np.nan)
    rto = res.pop("rto")
    df["rto"] = full(np.where(rto >= 0, rto / 1e9, np.nan), np.nan)
    df["rto_frame"] = full(res.pop("rto_frame"), 0)
    return df, an.irtt()


def _provenance(path) -> Provenance:
    """Provenance without the SHA-256 yet: the reader hashes the bytes as it reads them
    (one pass over big captures instead of two). Same fields as ``provenance_for``."""
    path = os.fspath(path)
    d = sniff(path)  # raises ArtifactError for a missing or unreadable file
    st = os.stat(path)
    if d.kind not in ("pcap", "pcapng"):
        raise ArtifactError(path, 0, f"not a pcap or pcapng capture ({d.evidence})")
    return Provenance(path=os.path.abspath(path), size=st.st_size, sha256="", kind=d.kind, format=d.format,
                      parser="forensics.network", parser_version=__version__, mtime=st.st_mtime)


def load_capture(path, **options) -> Capture:
    """Read a pcap or pcapng file and run Wireshark-compatible TCP analysis on it.

    ``engine="native"`` (default) reads the file here; ``engine="tshark"`` runs tshark
    once and takes Wireshark's own labels, with the same column names.

    Warnings (a file cut mid-record, a corrupt record) are recorded in
    ``capture.provenance.warnings`` with the byte offset; everything before the
    problem is loaded. Raises only :class:`~forensics.errors.ArtifactError`.
    """
    prov = _provenance(path)
    engine = options.get("engine", "native")
    if engine == "tshark":
        from .engines import tshark_packets

        from ..artifact import sha256_of

        prov.sha256 = sha256_of(path)
        packets, irtt, warns = tshark_packets(path)
        for w in warns:
            prov.warn(None, f"tshark: {w}")
        prov.details.update({"packets": int(len(packets)), "engine": "tshark"})
        prov.attach(packets)
        return Capture(packets=packets, provenance=prov, linktypes=[], irtt=irtt)
    if engine != "native":
        raise ArtifactError(path, None, f"unknown engine {engine!r}; use 'native' or 'tshark'")
    try:
        raw = read_capture(path, hasher=BackgroundHash())
        prov.sha256 = raw.sha256
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


def capture_summary(path, **options) -> dict:
    """Packets, TCP streams, load warnings and a count per flag — without building DataFrames.

    The same numbers as ``summarize(load_capture(path))``, in less memory: what
    ``forensics pcap summary`` runs.
    """
    if options.get("engine", "native") != "native":
        from .cli import summarize

        return summarize(load_capture(path, **options))
    prov = _provenance(path)
    try:
        an = Analyzer()
        totals = dict.fromkeys(FLAG_NAMES + ["reset"], 0)
        seen = [0]

        def consume(batch):
            c = flag_counts(batch, an.feed(batch))
            for k in totals:
                totals[k] += c[k]
            seen[0] += batch.shape[0]

        raw = read_capture(path, consume=consume, hasher=BackgroundHash())
        prov.sha256 = raw.sha256
        for off, reason in raw.warnings:
            prov.warn(off, reason)
        out = {"packets": seen[0], "tcp_streams": an.n_streams, "warnings": list(prov.warnings)}
        out.update(totals)
    except ArtifactError:
        raise
    except (ValueError, IndexError, OverflowError, MemoryError) as e:
        raise ArtifactError(path, None, f"could not decode capture: {type(e).__name__}: {e}") from None
    return out
