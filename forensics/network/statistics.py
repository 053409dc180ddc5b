"""What an analyst opens first in Wireshark's Statistics and Analyze menus, as DataFrames.

* :func:`expert_info` — Analyze → Expert Information: every TCP analysis flag, RST, SYN/FIN and ICMP
  destination-unreachable, grouped by severity (Error, Warning, Note, Chat) with counts and frames;
  load warnings (a file cut short, a corrupt record) are the Errors.
* :func:`conversations` — Statistics → Conversations (``tshark -z conv,ip|tcp|udp``).
* :func:`endpoints` — Statistics → Endpoints (``tshark -z endpoints,ip|tcp|udp``).

Pure functions over a loaded capture's ``packets`` (no I/O).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

#: (flag column, severity, group, Wireshark's message) — severities and texts of packet-tcp.c's expert items.
EXPERT_ITEMS = [
    ("lost_segment", "Warning", "Sequence", "Previous segment(s) not captured (common at capture start)"),
    ("ack_lost_segment", "Warning", "Sequence", "ACKed segment that wasn't captured (common at capture start)"),
    ("out_of_order", "Warning", "Sequence", "This frame is a (suspected) out-of-order segment"),
    ("zero_window", "Warning", "Sequence", "TCP Zero Window segment"),
    ("window_full", "Warning", "Sequence", "TCP window specified by the receiver is now completely full"),
    ("reset", "Warning", "Sequence", "Connection reset (RST)"),
    ("spurious_retransmission", "Note", "Sequence", "This frame is a (suspected) spurious retransmission"),
    ("fast_retransmission", "Note", "Sequence", "This frame is a (suspected) fast retransmission"),
    ("retransmission", "Note", "Sequence", "This frame is a (suspected) retransmission"),
    ("duplicate_ack", "Note", "Sequence", "Duplicate ACK"),
    ("zero_window_probe", "Note", "Sequence", "TCP Zero Window Probe"),
    ("zero_window_probe_ack", "Note", "Sequence", "TCP Zero Window Probe ACK"),
    ("keep_alive", "Note", "Sequence", "TCP keep-alive segment"),
    ("keep_alive_ack", "Note", "Sequence", "ACK to a TCP keep-alive segment"),
    ("reused_ports", "Note", "Sequence", "A new tcp session is started with the same ports as an earlier session "
                                         "in this trace"),
    ("window_update", "Chat", "Sequence", "TCP window update"),
]
SEVERITIES = ["Error", "Warning", "Note", "Chat"]

#: ICMP (type 3) and ICMPv6 (type 1) destination-unreachable codes.
_UNREACH4 = {0: "network", 1: "host", 2: "protocol", 3: "port", 4: "fragmentation needed", 9: "network prohibited",
             10: "host prohibited", 13: "administratively prohibited"}
_UNREACH6 = {0: "no route", 1: "administratively prohibited", 3: "address", 4: "port", 5: "policy"}


def _row(severity, group, protocol, summary, frames: np.ndarray, max_frames: int):
    return {"severity": severity, "group": group, "protocol": protocol, "summary": summary,
            "count": int(frames.shape[0]), "first_frame": int(frames[0]) if frames.shape[0] else None,
            "frames": frames[:max_frames].tolist()}


def expert_info(cap, max_frames: int = 20) -> pd.DataFrame:
    """One row per kind of expert item: severity, group, protocol, summary, count, first frame and the
    first ``max_frames`` frame numbers; most severe first, then by count.

    As in Wireshark, a fast or spurious retransmission is also counted as a retransmission.
    """
    p = cap.packets
    frame = p["frame"].to_numpy()
    rows = [_row("Error", "Malformed", "file", str(w), np.zeros(0, np.int64), max_frames)
            for w in getattr(cap.provenance, "warnings", [])]
    tcp = (p["stream"] >= 0).to_numpy()
    for col, sev, group, text in EXPERT_ITEMS:
        m = p[col].to_numpy() & tcp
        if m.any():
            rows.append(_row(sev, group, "TCP", text, frame[m], max_frames))
    fl = p["flags"].to_numpy()
    for mask, text in (((fl & 0x12) == 0x02, "Connection establish request (SYN)"),
                       ((fl & 0x12) == 0x12, "Connection establish acknowledge (SYN+ACK)"),
                       ((fl & 0x01) != 0, "Connection finish (FIN)")):
        m = mask & tcp
        if m.any():
            rows.append(_row("Chat", "Sequence", "TCP", text, frame[m], max_frames))
    if "icmp_type" in p:
        proto = p["protocol"].astype(str).to_numpy()
        it, ic = p["icmp_type"].to_numpy(), p["icmp_code"].to_numpy()
        for name, typ, codes in (("ICMP", 3, _UNREACH4), ("ICMPv6", 1, _UNREACH6)):
            m = (proto == name) & (it == typ)
            for code in np.unique(ic[m]).tolist():
                mc = m & (ic == code)
                what = codes.get(code, f"code {code}")
                rows.append(_row("Warning", "Response", name, f"Destination unreachable ({what} unreachable)"
                                 if code in codes and "prohibited" not in what and what != "policy"
                                 else f"Destination unreachable ({what})", frame[mc], max_frames))
    out = pd.DataFrame(rows, columns=["severity", "group", "protocol", "summary", "count", "first_frame", "frames"])
    out["severity"] = pd.Categorical(out["severity"], categories=SEVERITIES, ordered=True)
    return out.sort_values(["severity", "count"], ascending=[True, False], kind="stable").reset_index(drop=True)


def _layer_mask(p: pd.DataFrame, layer: str) -> np.ndarray:
    if layer == "ip":
        return (p["ip_version"] > 0).to_numpy()
    if layer == "tcp":
        return (p["stream"] >= 0).to_numpy()
    if layer == "udp":
        return (p["protocol"].astype(str) == "UDP").to_numpy()
    raise ValueError(f"layer must be ip, tcp or udp, not {layer!r}")


def conversations(packets: pd.DataFrame, layer: str = "tcp") -> pd.DataFrame:
    """Statistics → Conversations: one row per address pair (``ip``) or address/port pair (``tcp``, ``udp``).

    ``a`` is the side that sent the conversation's first packet. Bytes are frame lengths, as Wireshark
    counts them. ``rel_start`` is seconds from the capture's first packet; TCP rows keep ``stream``.
    """
    m = _layer_mask(packets, layer)
    p = packets.loc[m]
    cols = ["address_a", "port_a", "address_b", "port_b", "packets", "bytes", "packets_a_to_b", "bytes_a_to_b",
            "packets_b_to_a", "bytes_b_to_a", "rel_start", "duration"]
    if p.empty:
        return pd.DataFrame(columns=(["stream"] if layer == "tcp" else []) + cols)
    src, dst = p["src"].astype(str).to_numpy(), p["dst"].astype(str).to_numpy()
    sp, dp = p["sport"].to_numpy().astype(np.int64), p["dport"].to_numpy().astype(np.int64)
    if layer == "ip":
        sp = dp = np.zeros(len(p), np.int64)
    if layer == "tcp":
        key = p["stream"].to_numpy()
    else:
        ends = pd.Series([f"{a}\x00{b}" for a, b in zip(src, sp)])
        ende = pd.Series([f"{a}\x00{b}" for a, b in zip(dst, dp)])
        lo = np.where(ends.to_numpy() <= ende.to_numpy(), ends.to_numpy(), ende.to_numpy())
        hi = np.where(ends.to_numpy() <= ende.to_numpy(), ende.to_numpy(), ends.to_numpy())
        key = pd.factorize(pd.Series(lo) + "\x01" + pd.Series(hi), sort=False)[0]
    t0 = packets["time"].iloc[0]
    df = pd.DataFrame({"key": key, "src": src, "sport": sp, "dst": dst, "dport": dp,
                       "len": p["len"].to_numpy().astype(np.int64), "time": p["time"].to_numpy()})
    first = df.groupby("key", sort=False).first()
    df["a_to_b"] = (df["src"].to_numpy() == first.loc[df["key"], "src"].to_numpy()) & (
        df["sport"].to_numpy() == first.loc[df["key"], "sport"].to_numpy())
    g = df.groupby("key", sort=False)
    out = pd.DataFrame({
        "address_a": first["src"], "port_a": first["sport"], "address_b": first["dst"], "port_b": first["dport"],
        "packets": g.size(), "bytes": g["len"].sum(),
        "packets_a_to_b": g["a_to_b"].sum().astype(np.int64),
        "bytes_a_to_b": df["len"].where(df["a_to_b"], 0).groupby(df["key"], sort=False).sum(),
    })
    out["packets_b_to_a"] = out["packets"] - out["packets_a_to_b"]
    out["bytes_b_to_a"] = out["bytes"] - out["bytes_a_to_b"]
    start, end = g["time"].min(), g["time"].max()
    out["rel_start"] = (pd.to_datetime(start, utc=True) - t0).dt.total_seconds()
    out["duration"] = (end - start).dt.total_seconds()
    if layer == "ip":
        out = out.drop(columns=["port_a", "port_b"])
    out = out.reset_index()
    if layer == "tcp":
        out = out.rename(columns={"key": "stream"})
    else:
        out = out.drop(columns="key")
    return out


def endpoints(packets: pd.DataFrame, layer: str = "ip") -> pd.DataFrame:
    """Statistics → Endpoints: one row per address (``ip``) or address and port (``tcp``, ``udp``), with
    packets and bytes sent (tx) and received (rx); busiest first."""
    m = _layer_mask(packets, layer)
    p = packets.loc[m]
    ports = layer != "ip"
    n = len(p)
    ln = p["len"].to_numpy().astype(np.int64)
    sides = []
    for addr, port, tx in (("src", "sport", True), ("dst", "dport", False)):
        sides.append(pd.DataFrame({"address": p[addr].astype(str).to_numpy(),
                                   "port": p[port].to_numpy().astype(np.int64) if ports else np.zeros(n, np.int64),
                                   "tx": np.full(n, tx), "len": ln}))
    both = pd.concat(sides, ignore_index=True)
    g = both.groupby(["address", "port"], sort=False)
    out = pd.DataFrame({"packets": g.size(), "bytes": g["len"].sum(), "tx_packets": g["tx"].sum().astype(np.int64),
                        "tx_bytes": both["len"].where(both["tx"], 0).groupby([both["address"], both["port"]],
                                                                             sort=False).sum()})
    out["rx_packets"] = out["packets"] - out["tx_packets"]
    out["rx_bytes"] = out["bytes"] - out["tx_bytes"]
    out = out.reset_index().sort_values(["packets", "bytes"], ascending=False, kind="stable").reset_index(drop=True)
    return out if ports else out.drop(columns="port")
