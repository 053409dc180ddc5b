"""Load a pcap/pcapng capture into DataFrames: ``packets`` (one row per frame) and ``flows``.

>>> cap = load_capture("sample_data/network/bulk_loss.pcap")
>>> cap.packets.loc[cap.packets.retransmission, ["frame", "stream", "rel_seq"]].iloc[0].tolist()
[205, 0, 111497]
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

import os

from .. import __version__
from ..artifact import Provenance, sniff
from ..errors import ArtifactError
from .decode import T_SFLOW, TUNNEL_NAMES
from .hashing import FileHash
from .linklayer import linktype_name
from .pcap import BackgroundHash, read_capture
from .sflow import reanalysed, summary as sflow_summary
from .socks import may_carry_socks
from .tcp_analysis import FLAG_BITS, FLAG_NAMES, RST, Analyzer

#: Records per batch in ``capture_summary``: 16k (2.6 MB) instead of 64k kept peak RSS lower at the same speed.
SUMMARY_BATCH = 1 << 14

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


# Per-row columns gathered batch by batch: name -> (dtype, fill for non-TCP rows or None for record fields).
_COLUMNS = {
    "ts": np.int64, "len": np.int32, "caplen": np.int32, "ip_version": np.int8, "proto": np.uint8,
    "sc": np.int32, "dc": np.int32, "sport": np.uint16, "dport": np.uint16, "seq": np.uint32, "ack": np.uint32,
    "payload_len": np.int32, "flags": np.uint16, "window": np.uint16, "mss": np.int32, "wscale": np.int8,
    "sack_perm": np.bool_, "sack_blocks": np.int8, "has_ts": np.bool_, "ts_val": np.uint32, "ts_ecr": np.uint32,
    "linktype": np.uint16, "tunnel": np.uint8, "icmp_type": np.uint8, "icmp_code": np.uint8, "osc": np.int32, "odc": np.int32, "tcp": np.bool_, "stream": np.int32, "direction": np.int8, "rel_seq": np.uint32, "rel_ack": np.uint32,
    "aflags": np.int32, "dup_ack_num": np.int32, "dup_ack_frame": np.int32, "acked_frame": np.int32,
    "ack_rtt": np.int64, "rto": np.int64, "rto_frame": np.int32,
}
_FILL = {"stream": -1, "direction": -1, "ack_rtt": -1, "rto": -1}


class PacketColumns:
    """Collects the ``packets`` columns while records stream past (no full record array kept).

    Arrays start at the size the file suggests (zero pages cost nothing until written)
    and grow when needed, so memory is about one copy of the final table.
    """

    def __init__(self, estimate: int = 1024):
        self.an = Analyzer()
        self.n = 0
        self.cols = {k: np.zeros(max(estimate, 16), dtype=t) for k, t in _COLUMNS.items()}

    def _reserve(self, m):
        need = self.n + m
        cap = next(iter(self.cols.values())).shape[0]
        if need > cap:
            new = max(need, int(cap * 1.5))
            for k, a in self.cols.items():
                b = np.zeros(new, dtype=a.dtype)
                b[: self.n] = a[: self.n]
                self.cols[k] = b

    def add(self, rec: np.ndarray):
        m = rec.shape[0]
        res = self.an.feed(rec)
        self._reserve(m)
        sl = slice(self.n, self.n + m)
        c = self.cols
        l4 = rec["l4ok"] & ~rec["frag"]
        for k, f in (("ts", "ts"), ("len", "wirelen"), ("caplen", "caplen"), ("ip_version", "ipver"),
                     ("proto", "proto"), ("seq", "seq"), ("ack", "ack"), ("flags", "flags"), ("window", "window"),
                     ("mss", "mss"), ("wscale", "wscale"), ("sack_perm", "sack_perm"),
                     ("sack_blocks", "sack_blocks"), ("has_ts", "has_ts"), ("ts_val", "tsval"), ("ts_ecr", "tsecr")):
            c[k][sl] = rec[f]
        c["sc"][sl], c["dc"][sl] = res["sc"], res["dc"]
        c["linktype"][sl], c["tunnel"][sl] = rec["linktype"], rec["tunnel"]
        c["icmp_type"][sl], c["icmp_code"][sl] = rec["icmp_type"], rec["icmp_code"]
        if res["osc"] is not None:
            tun = rec["tunnel"] != 0
            c["osc"][sl] = np.where(tun, res["osc"], -1)
            c["odc"][sl] = np.where(tun, res["odc"], -1)
        else:
            c["osc"][sl] = -1
            c["odc"][sl] = -1
        for k, f in (("sport", "sport"), ("dport", "dport"), ("payload_len", "paylen")):
            c[k][sl] = np.where(l4, rec[f], 0)
        idx = res["idx"]
        c["tcp"][sl] = True if res["all_tcp"] else False
        if not res["all_tcp"]:
            c["tcp"][self.n + idx] = True
        for k in ("stream", "direction", "rel_seq", "rel_ack", "aflags", "dup_ack_num", "dup_ack_frame",
                  "acked_frame", "ack_rtt", "rto", "rto_frame"):
            if res["all_tcp"]:
                c[k][sl] = res[k]
            else:
                c[k][sl] = _FILL.get(k, 0)
                c[k][self.n + idx] = res[k]
        self.n += m

    def frame(self) -> pd.DataFrame:
        """The ``packets`` DataFrame; columns added one by one (no consolidation copy)."""
        n = self.n
        c = {k: v[:n] for k, v in self.cols.items()}
        self.cols = None
        cats = self.an.address_names()
        ipver, proto = c.pop("ip_version"), c.pop("proto")
        pcodes = np.where(ipver == 0, -1, proto.astype(np.int16))
        pnames = {p: PROTO_NAMES.get(p, f"IP/{p}") for p in np.unique(pcodes[pcodes >= 0]).tolist()}
        pmap = np.full(256, -1, np.int8)
        for k, p in enumerate(pnames):
            pmap[p] = k
        df = pd.DataFrame({"frame": np.arange(1, n + 1, dtype=np.int32)})
        df["time"] = pd.to_datetime(c.pop("ts"), unit="ns", utc=True)
        df["len"], df["caplen"], df["ip_version"] = c.pop("len"), c.pop("caplen"), ipver
        df["src"] = pd.Categorical.from_codes(c.pop("sc"), categories=cats)
        df["dst"] = pd.Categorical.from_codes(c.pop("dc"), categories=cats)
        df["sport"], df["dport"] = c.pop("sport"), c.pop("dport")
        osc, odc, tun = c.pop("osc"), c.pop("odc"), c.pop("tunnel")
        lts = c.pop("linktype")
        df["protocol"] = pd.Categorical.from_codes(np.where(pcodes >= 0, pmap[np.clip(pcodes, 0, 255)], -1),
                                                   categories=list(pnames.values()))
        del pcodes
        for k in ("stream", "direction", "seq", "ack", "rel_seq", "rel_ack", "payload_len", "flags", "window",
                  "mss", "wscale", "sack_perm", "sack_blocks"):
            df[k] = c.pop(k)
        has_ts = c.pop("has_ts")
        df["ts_val"] = np.where(has_ts, c.pop("ts_val").astype(np.int64), -1)
        df["ts_ecr"] = np.where(has_ts, c.pop("ts_ecr").astype(np.int64), -1)
        fl = c.pop("aflags")
        for name in FLAG_NAMES:
            df[name] = (fl & FLAG_BITS[name]) != 0
        # Wireshark shows fast and spurious retransmissions as retransmissions too.
        df["retransmission"] = df["retransmission"] | df["fast_retransmission"] | df["spurious_retransmission"]
        df["reset"] = c.pop("tcp") & ((df["flags"].to_numpy() & RST) != 0)
        for k in ("dup_ack_num", "dup_ack_frame", "acked_frame"):
            df[k] = c.pop(k)
        for k in ("ack_rtt", "rto"):
            v = c.pop(k)
            df[k] = np.where(v >= 0, v / 1e9, np.nan)
        df["rto_frame"] = c.pop("rto_frame")
        # Tunnelled packets: the inner endpoints above, the outermost IP endpoints and the tunnel here.
        df["outer_src"] = pd.Categorical.from_codes(osc, categories=cats)
        df["outer_dst"] = pd.Categorical.from_codes(odc, categories=cats)
        tcodes = np.unique(tun[tun > 0]).tolist()
        tmap = np.full(256, -1, np.int8)
        for k, t in enumerate(tcodes):
            tmap[t] = k
        df["tunnel"] = pd.Categorical.from_codes(tmap[tun], categories=[TUNNEL_NAMES[t] for t in tcodes])
        lcodes = np.unique(lts).tolist()
        lmap = np.zeros(1 << 16, np.int16)
        for k, t in enumerate(lcodes):
            lmap[t] = k
        df["link_type"] = pd.Categorical.from_codes(lmap[lts], categories=[linktype_name(t) for t in lcodes])
        icmp = (ipver > 0) & ((proto == 1) | (proto == 58))
        df["icmp_type"] = np.where(icmp, c.pop("icmp_type"), -1).astype(np.int16)
        df["icmp_code"] = np.where(icmp, c.pop("icmp_code"), -1).astype(np.int16)
        return df


def packets_frame(rec: np.ndarray):
    """The ``packets`` DataFrame and per-stream handshake RTTs from an array of decoded records."""
    pc = PacketColumns(rec.shape[0])
    pc.add(rec)
    irtt = pc.an.irtt()
    return pc.frame(), irtt


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
        pc = PacketColumns(max(1024, min(prov.size // 64, 50_000_000)))
        raw = read_capture(path, consume=pc.add, hasher=BackgroundHash())
        pc = reanalysed(path, pc)  # sFlow datagrams with several sampled headers: read again, each analysed
        prov.sha256 = raw.sha256
        for off, reason in raw.warnings:
            prov.warn(off, reason)
        irtt = pc.an.irtt()
        packets = pc.frame()
    except ArtifactError:
        raise
    except (ValueError, IndexError, OverflowError, MemoryError) as e:  # a defect in the reader, not evidence
        raise ArtifactError(path, None, f"could not decode capture: {type(e).__name__}: {e}") from None
    prov.details.update({"packets": int(len(packets)), "linktypes": raw.linktypes, "snaplens": raw.snaplens,
                         "container": raw.format})
    prov.attach(packets)
    return Capture(packets=packets, provenance=prov, linktypes=raw.linktypes, irtt=irtt)


def capture_summary(path, hasher=None, **options) -> dict:
    """Packets, TCP streams, load warnings and a count per flag — without building DataFrames.

    The same numbers as ``summarize(load_capture(path))``, in less memory: what
    ``forensics pcap summary`` runs. ``hasher``: a :class:`~forensics.network.hashing.FileHash`
    of ``path`` already started (the CLI starts it before importing the parser).
    """
    if options.get("engine", "native") != "native":
        from .analysis import summarize

        if hasher is not None:
            hasher.cancel()
        return summarize(load_capture(path, **options))
    prov = _provenance(path)
    # The evidence hash is the longest single job on a big capture: it runs on the other core from
    # its own read-only pass (started by the caller before numba's start-up, when it can be).
    digest = hasher if hasher is not None else FileHash(path)
    try:
        an = Analyzer()
        totals = dict.fromkeys(FLAG_NAMES + ["reset"], 0)
        seen = [0]
        socks = [False]  # TCP payload on the SOCKS port: the stream count needs load_capture's second read

        layers = {"link_types": {}, "undecoded_network_layer": {}, "tunnels": {}}

        def count(what, codes):
            if not codes.shape[0]:
                return
            first = codes[0]
            if (codes == first).all():  # the usual case: one link type, no tunnel
                vals, ns = [first], [codes.shape[0]]
            else:
                vals, ns = np.unique(codes, return_counts=True)
            d = layers[what]
            for v, k in zip(vals, ns):
                d[int(v)] = d.get(int(v), 0) + int(k)

        def consume(batch):
            c = flag_counts(batch, an.feed(batch))
            for k in totals:
                totals[k] += c[k]
            seen[0] += batch.shape[0]
            lt = batch["linktype"]
            count("link_types", lt)
            count("undecoded_network_layer", lt[batch["ipver"] == 0])
            tun = batch["tunnel"]
            if tun.any():
                count("tunnels", tun[tun != 0])
            if not socks[0]:
                socks[0] = may_carry_socks(batch["sport"], batch["dport"], batch["paylen"])

        raw = read_capture(path, consume=consume, chunk_records=SUMMARY_BATCH)
        if T_SFLOW in layers["tunnels"] or an.defrag.tunnels or socks[0]:  # counted as load_capture's second read does
            return sflow_summary(path)
        prov.sha256 = digest.result()
        for off, reason in raw.warnings:
            prov.warn(off, reason)
        out = {"packets": seen[0], "tcp_streams": an.n_streams, "warnings": list(prov.warnings)}
        out.update(totals)
        out["link_types"] = {linktype_name(k): v for k, v in sorted(layers["link_types"].items(), key=lambda x: -x[1])}
        out["undecoded_network_layer"] = {linktype_name(k): v for k, v in
                                          sorted(layers["undecoded_network_layer"].items(), key=lambda x: -x[1])}
        out["tunnels"] = {TUNNEL_NAMES[k]: v for k, v in sorted(layers["tunnels"].items(), key=lambda x: -x[1])}
    except ArtifactError:
        raise
    except (ValueError, IndexError, OverflowError, MemoryError) as e:
        raise ArtifactError(path, None, f"could not decode capture: {type(e).__name__}: {e}") from None
    finally:
        digest.cancel()  # no-op once done; a refused capture does not wait for its hash
    return out
