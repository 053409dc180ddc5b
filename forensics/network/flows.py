"""One row per TCP stream: who talked, how much, how fast, and what went wrong.

Columns: endpoints (client = the SYN sender, else the first sender), start/end,
packets and bytes each way, handshake RTT, ACK-RTT statistics per direction,
retransmissions by kind, out-of-order, dup-ACKs, zero windows, resets,
throughput, a Zeek-style ``conn_state`` and ``history``, and the label-free
view that holds whatever any tool calls them: per direction, data segments that
did not advance the sequence (``not_advancing_*``, their payload in
``not_advancing_bytes_*``) and bytes captured twice (``dup_bytes_*``: the
retransmitted bytes as seen at the capture point, as tcptrace counts them).

Example (``cap = load_capture(...)``): ``cap.flows.sort_values("retrans_rate")``.
"""
from __future__ import annotations

import numba
import numpy as np
import pandas as pd

SYN, FIN, RST, ACK = 0x02, 0x01, 0x04, 0x10
_DIRS = {True: "c2s", False: "s2c"}


def _client_side(t: pd.DataFrame) -> pd.Series:
    """Per packet: does it go client -> server? The client sent the first pure SYN, else the first packet."""
    pure_syn = (t["flags"] & (SYN | ACK)) == SYN
    first_dir = t.groupby("stream", sort=False)["direction"].first()
    syn_dir = t[pure_syn].groupby("stream", sort=False)["direction"].first()
    cdir = first_dir.copy()
    cdir.loc[syn_dir.index] = syn_dir
    return t["direction"].to_numpy() == cdir.reindex(t["stream"]).to_numpy()


@numba.njit(cache=True)
def _overlap_bytes(key, start, end):
    """Bytes of each segment already covered by earlier segments of the same key (rows sorted by key, stable)."""
    n = key.shape[0]
    out = np.zeros(n, np.int64)
    cs = np.empty(64, np.int64)
    ce = np.empty(64, np.int64)
    m = 0
    for i in range(n):
        if i == 0 or key[i] != key[i - 1]:
            m = 0
        s, e = start[i], end[i]
        if e <= s:
            continue
        ov = 0
        for j in range(m):
            lo, hi = max(s, cs[j]), min(e, ce[j])
            if hi > lo:
                ov += hi - lo
        out[i] = ov
        # merge [s, e) into the sorted disjoint list
        ns, ne = s, e
        k = 0
        ts = np.empty(m + 1, np.int64)
        te = np.empty(m + 1, np.int64)
        placed = False
        for j in range(m):
            if ce[j] < ns:
                ts[k], te[k] = cs[j], ce[j]
                k += 1
            elif cs[j] > ne:
                if not placed:
                    ts[k], te[k] = ns, ne
                    k += 1
                    placed = True
                ts[k], te[k] = cs[j], ce[j]
                k += 1
            else:
                ns, ne = min(ns, cs[j]), max(ne, ce[j])
        if not placed:
            ts[k], te[k] = ns, ne
            k += 1
        if k > cs.shape[0]:
            cs = np.empty(2 * k, np.int64)
            ce = np.empty(2 * k, np.int64)
        cs[:k] = ts[:k]
        ce[:k] = te[:k]
        m = k
    return out


def not_advancing(t: pd.DataFrame, c2s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The label-free view, per direction and by sequence numbers alone.

    Returns (did the data segment fail to advance the highest sequence seen so far,
    how many of its bytes had already been captured before). Reordered segments do
    not advance the sequence but resend nothing; retransmissions do both.

    >>> t = pd.DataFrame({"stream": [0, 0, 0, 0], "rel_seq": [1, 201, 101, 1], "payload_len": [100, 100, 100, 100]})
    >>> na, resent = not_advancing(t, np.array([True] * 4))
    >>> na.tolist(), resent.tolist()
    ([False, False, True, True], [0, 0, 0, 100])
    """
    key = t["stream"].to_numpy().astype(np.int64) * 2 + c2s.astype(np.int64)
    rel = t["rel_seq"].to_numpy().astype(np.int64)
    end = rel + t["payload_len"].to_numpy()
    has = t["payload_len"].to_numpy() > 0
    end_if = np.where(has, end, 0)
    s = pd.Series(end_if)
    prev_max = s.groupby(key).cummax().groupby(key).shift(1).fillna(0).to_numpy(np.int64)
    na = has & (end <= prev_max)
    order = np.argsort(key, kind="stable")
    ov = _overlap_bytes(key[order], np.where(has, rel, 0)[order], end_if[order])
    resent = np.empty_like(ov)
    resent[order] = ov
    return na, resent


def _history(t: pd.DataFrame, c2s: np.ndarray) -> pd.Series:
    """Zeek-like history: each event letter once, in order of first occurrence (client upper case)."""
    fl = t["flags"].to_numpy()
    syn, ack, fin, rst = (fl & SYN) != 0, (fl & ACK) != 0, (fl & FIN) != 0, (fl & RST) != 0
    data = t["payload_len"].to_numpy() > 0
    events = {
        "s": syn & ~ack, "h": syn & ack, "a": ack & ~syn & ~fin & ~rst & ~data, "d": data,
        "f": fin, "r": rst, "t": t["retransmission"].to_numpy(), "w": t["zero_window"].to_numpy(),
    }
    rows = []
    stream = t["stream"].to_numpy()
    order = np.arange(len(t))
    for letter, mask in events.items():
        for side in (True, False):
            m = mask & (c2s == side)
            if m.any():
                first = pd.Series(order[m]).groupby(stream[m]).min()
                rows.append(pd.DataFrame({"stream": first.index, "pos": first.to_numpy(),
                                          "letter": letter.upper() if side else letter}))
    if not rows:
        return pd.Series(dtype=str)
    ev = pd.concat(rows).sort_values(["stream", "pos"])
    return ev.groupby("stream")["letter"].agg("".join)


def _conn_state(h: str) -> str:
    """Zeek conn_state from the first-occurrence history (S0, S1, SF, REJ, S2, S3, RSTO, RSTR, SH, OTH...)."""
    syn_o, synack_r = "S" in h, "h" in h
    fin_o, fin_r = "F" in h, "f" in h
    rst_o, rst_r = "R" in h, "r" in h
    if not syn_o and not synack_r:
        return "OTH"
    if syn_o and not synack_r:
        if rst_r:
            return "REJ"
        if rst_o:
            return "RSTOS0"
        if fin_o:
            return "SH"
        return "S0"
    if synack_r and not syn_o:
        if rst_r:
            return "RSTRH"
        if fin_r:
            return "SHR"
        return "OTH"
    if rst_o:
        return "RSTO"
    if rst_r:
        return "RSTR"
    if fin_o and fin_r:
        return "SF"
    if fin_o:
        return "S2"
    if fin_r:
        return "S3"
    return "S1"


def flows_table(packets: pd.DataFrame, irtt=None) -> pd.DataFrame:
    """One row per TCP stream (see module docstring); ``irtt`` is the per-stream handshake RTT in seconds."""
    if "stream" not in packets or not (packets["stream"] >= 0).any():
        return pd.DataFrame(columns=["stream", "client", "client_port", "server", "server_port"])
    counted = ["retransmission", "fast_retransmission", "spurious_retransmission", "out_of_order", "lost_segment",
               "ack_lost_segment", "duplicate_ack", "zero_window", "zero_window_probe", "window_full",
               "window_update", "keep_alive", "reset"]
    needed = ["stream", "direction", "flags", "src", "dst", "sport", "dport", "time", "len", "payload_len",
              "rel_seq", "ack_rtt"] + counted
    # only the columns used here, so a million-row capture is not copied whole
    t = packets.loc[packets["stream"].to_numpy() >= 0, needed]
    c2s = _client_side(t)
    na, resent = not_advancing(t, c2s)
    t["c2s"] = c2s
    t["not_advancing"] = na
    t["na_bytes"] = np.where(na, t["payload_len"].to_numpy(), 0)
    t["dup_bytes"] = resent
    g = t.groupby("stream", sort=True)
    first_c = t[c2s].groupby("stream").first()
    first_s = t[~c2s].groupby("stream").first()
    out = pd.DataFrame(index=g.size().index)
    src = first_c["src"].astype(str).reindex(out.index)
    dst = first_c["dst"].astype(str).reindex(out.index)
    # A stream seen only server->client: the endpoints come from that side, swapped.
    only_s = src.isna()
    src[only_s] = first_s["dst"].astype(str).reindex(out.index)[only_s]
    dst[only_s] = first_s["src"].astype(str).reindex(out.index)[only_s]
    sport = first_c["sport"].reindex(out.index)
    dport = first_c["dport"].reindex(out.index)
    sport[only_s] = first_s["dport"].reindex(out.index)[only_s]
    dport[only_s] = first_s["sport"].reindex(out.index)[only_s]
    out["client"], out["client_port"] = src, sport.astype("int64")
    out["server"], out["server_port"] = dst, dport.astype("int64")
    out["start"] = g["time"].min()
    out["end"] = g["time"].max()
    dur = (out["end"] - out["start"]).dt.total_seconds()
    out["duration"] = dur
    for side, name in _DIRS.items():
        s = t[t["c2s"] == side].groupby("stream")
        out[f"packets_{name}"] = s.size().reindex(out.index, fill_value=0)
        out[f"bytes_{name}"] = s["len"].sum().reindex(out.index, fill_value=0)
        out[f"payload_{name}"] = s["payload_len"].sum().reindex(out.index, fill_value=0)
    out["handshake_rtt"] = np.asarray(irtt, dtype=float)[out.index] if irtt is not None else np.nan
    out.loc[out["handshake_rtt"] == 0, "handshake_rtt"] = np.nan
    # ACK RTT of each side's data: measured on the ACKs the other side sends.
    for side, name in _DIRS.items():
        r = t[(t["c2s"] != side) & t["ack_rtt"].notna()].groupby("stream")["ack_rtt"]
        out[f"rtt_{name}_min"] = r.min().reindex(out.index)
        out[f"rtt_{name}_median"] = r.median().reindex(out.index)
        out[f"rtt_{name}_p95"] = r.quantile(0.95).reindex(out.index)
        out[f"rtt_{name}_max"] = r.max().reindex(out.index)
    data = t["payload_len"] > 0
    out["data_segments"] = t[data].groupby("stream").size().reindex(out.index, fill_value=0)
    for col in counted:
        out[col] = g[col].sum().astype("int64")
    out["retrans_rate"] = (out["retransmission"] / out["data_segments"].where(out["data_segments"] > 0)).fillna(0.0)
    for side, name in _DIRS.items():
        s = t[t["c2s"] == side].groupby("stream")
        out[f"not_advancing_{name}"] = s["not_advancing"].sum().reindex(out.index, fill_value=0).astype("int64")
        out[f"not_advancing_bytes_{name}"] = s["na_bytes"].sum().reindex(out.index, fill_value=0).astype("int64")
        out[f"dup_bytes_{name}"] = s["dup_bytes"].sum().reindex(out.index, fill_value=0).astype("int64")
        out[f"throughput_{name}"] = (out[f"payload_{name}"] / dur.where(dur > 0)).fillna(0.0)
    hist = _history(t, c2s).reindex(out.index, fill_value="")
    out["history"] = hist
    out["conn_state"] = hist.map(_conn_state)
    out.index.name = None
    return out.reset_index(names="stream")
