"""Matplotlib figures for captures, and an ipywidgets flow picker.

* :func:`time_sequence` — the Stevens (tcptrace) time-sequence graph of one stream
* :func:`loss_over_time` — retransmissions per interval against the ACK RTT
* :func:`throughput`, :func:`round_trip_time`, :func:`window_scaling` — Wireshark's other TCP stream
  graphs (Statistics → TCP Stream Graphs), with axes scaled to the bulk of the data
* :func:`flow_picker` — a dropdown over flows that redraws a figure
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .analysis import window_size
from .flows import _client_side


def _data_direction(t: pd.DataFrame, c2s: np.ndarray) -> bool:
    """True when the client sent more payload than the server (the direction worth plotting)."""
    return t.loc[c2s, "payload_len"].sum() >= t.loc[~c2s, "payload_len"].sum()


def time_sequence(packets: pd.DataFrame, stream: int, ax=None, direction: str = "auto"):
    """Stevens graph: sequence number of each data segment over time, for one direction of ``stream``.

    Segments are vertical bars (seq to seq+len); the line below is the ACK from the
    other side, the line above is the right edge of the advertised window. Marked:
    retransmissions (red), out-of-order (orange), duplicate ACKs (purple ticks),
    zero windows (black crosses).
    """
    t = packets[packets["stream"] == stream]
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4.5))
    if t.empty:
        ax.set_title(f"stream {stream}: no packets")
        return ax
    c2s = _client_side(t)
    fwd = _data_direction(t, c2s) if direction == "auto" else direction == "c2s"
    data = t[(c2s == fwd) & (t["payload_len"] > 0)]
    acks = t[(c2s != fwd)]
    t0 = t["time"].iloc[0]
    sec = lambda s: (s - t0).dt.total_seconds().to_numpy()
    x, y, ln = sec(data["time"]), data["rel_seq"].to_numpy(np.int64), data["payload_len"].to_numpy()
    ax.vlines(x, y, y + ln, color="tab:blue", lw=1.2, label="data segment")
    for col, color, label in (("retransmission", "red", "retransmission"), ("out_of_order", "orange", "out-of-order")):
        m = data[col].to_numpy()
        if m.any():
            ax.plot(x[m], y[m] + ln[m] / 2, "o", ms=4, color=color, label=f"{label} ({m.sum()})")
    ax_ = acks[(acks["flags"] & 0x10) != 0]
    if len(ax_):
        xa, ya = sec(ax_["time"]), ax_["rel_ack"].to_numpy(np.int64)
        ax.step(xa, ya, where="post", color="tab:green", lw=1, label="ACK")
        edge = ya + window_size(t).loc[ax_.index].to_numpy()  # scales need both SYNs: the whole stream
        ax.step(xa, edge, where="post", color="tab:gray", lw=0.8, ls="--", label="window edge")
        d = ax_["duplicate_ack"].to_numpy()
        if d.any():
            ax.plot(xa[d], ya[d], "|", ms=9, color="purple", label=f"dup ACK ({d.sum()})")
        z = ax_["zero_window"].to_numpy()
        if z.any():
            ax.plot(xa[z], ya[z], "x", ms=7, color="black", label=f"zero window ({z.sum()})")
    _robust_ylim(ax, np.concatenate([y + ln, ya if len(ax_) else y[:0]]), edge if len(ax_) else y[:0])
    first = t.iloc[0]
    way = "client→server" if fwd else "server→client"
    ax.set_title(f"stream {stream}: {first['src']}:{first['sport']} ↔ {first['dst']}:{first['dport']} ({way} data)")
    ax.set_xlabel("seconds since the stream's first packet")
    ax.set_ylabel("relative sequence number (bytes)")
    ax.legend(loc="upper left", fontsize=8)
    return ax


def _robust_ylim(ax, data: np.ndarray, edge: np.ndarray) -> None:
    """Scale the sequence axis to the data and ACKs; the window edge may run off the top (it is
    drawn, not allowed to squash the segments into the bottom pixels)."""
    if not data.size:
        return
    lo, hi = float(np.min(data)), float(np.max(data))
    top = max(hi, float(np.quantile(edge, 0.98)) if edge.size else hi)
    top = min(top, hi + max(hi - lo, 1.0))  # the window edge gets at most as much room as the data
    ax.set_ylim(min(lo, 0.0), top * 1.03 + 1)


def _stream_side(packets: pd.DataFrame, stream: int, direction: str):
    t = packets[packets["stream"] == stream]
    if t.empty:
        return t, t, True
    c2s = _client_side(t)
    fwd = _data_direction(t, c2s) if direction == "auto" else direction == "c2s"
    return t, t[c2s == fwd], fwd


def _robust_top(ax, values: np.ndarray) -> None:
    """Upper limit at 1.5x the 99th percentile: one wild point cannot flatten the rest (it is clipped,
    and the title says how many were)."""
    v = values[np.isfinite(values)]
    if not v.size:
        return
    q = float(np.quantile(v, 0.99))
    top = max(q * 1.5, float(np.median(v)) * 2, 1e-9)
    if v.max() > top:
        ax.set_ylim(0, top)
        ax.set_title(ax.get_title() + f"  ({int((v > top).sum())} points above the axis)", fontsize=9)


def throughput(packets: pd.DataFrame, stream: int, ax=None, direction: str = "auto", window: str = "100ms"):
    """Payload bytes per second of one direction of ``stream``, per ``window`` (Wireshark's throughput graph)."""
    t, side, fwd = _stream_side(packets, stream, direction)
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 3.5))
    if side.empty:
        ax.set_title(f"stream {stream}: no packets")
        return ax
    rate = side.set_index("time")["payload_len"].resample(window).sum() / pd.Timedelta(window).total_seconds()
    x = (rate.index - t["time"].iloc[0]).total_seconds()
    ax.plot(x, rate.to_numpy() * 8 / 1e6, drawstyle="steps-post", color="tab:blue")
    ax.set_title(f"stream {stream}: throughput ({'client→server' if fwd else 'server→client'})")
    ax.set_xlabel("seconds since the stream's first packet")
    ax.set_ylabel(f"Mbit/s (per {window})")
    _robust_top(ax, rate.to_numpy() * 8 / 1e6)
    return ax


def round_trip_time(packets: pd.DataFrame, stream: int, ax=None, direction: str = "auto"):
    """ACK RTT of each acknowledged data segment of one direction (Wireshark's RTT graph), in ms."""
    t, side, fwd = _stream_side(packets, stream, direction)
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 3.5))
    acks = t[(t["direction"] != (side["direction"].iloc[0] if len(side) else 0)) & t["ack_rtt"].notna()]
    if acks.empty:
        ax.set_title(f"stream {stream}: no RTT samples")
        return ax
    x = (acks["time"] - t["time"].iloc[0]).dt.total_seconds().to_numpy()
    y = acks["ack_rtt"].to_numpy() * 1000
    ax.plot(x, y, ".", ms=3, color="tab:green")
    ax.set_title(f"stream {stream}: ACK RTT of {'client→server' if fwd else 'server→client'} data")
    ax.set_xlabel("seconds since the stream's first packet")
    ax.set_ylabel("ACK RTT (ms)")
    _robust_top(ax, y)
    return ax


def window_scaling(packets: pd.DataFrame, stream: int, ax=None, direction: str = "auto"):
    """The receiver's advertised window (bytes, scaled as Wireshark scales it) and the bytes in flight
    (highest sequence sent minus highest ACK), over time (Wireshark's window scaling graph)."""
    t, side, fwd = _stream_side(packets, stream, direction)
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 3.5))
    if side.empty:
        ax.set_title(f"stream {stream}: no packets")
        return ax
    d_data = int(side["direction"].iloc[0])
    t0 = t["time"].iloc[0]
    ws = window_size(t)
    rcv = t[(t["direction"] != d_data) & ((t["flags"] & 0x10) != 0)]
    xr = (rcv["time"] - t0).dt.total_seconds().to_numpy()
    ax.step(xr, ws.loc[rcv.index].to_numpy(), where="post", color="tab:gray", label="receive window")
    seq_hi = (side["rel_seq"].astype(np.int64) + side["payload_len"]).cummax()
    ack_hi = rcv["rel_ack"].astype(np.int64).cummax()
    merged = pd.merge_asof(pd.DataFrame({"time": side["time"], "sent": seq_hi.to_numpy()}),
                           pd.DataFrame({"time": rcv["time"], "acked": ack_hi.to_numpy()}), on="time")
    flight = (merged["sent"] - merged["acked"].fillna(0)).clip(lower=0).to_numpy()
    ax.plot((merged["time"] - t0).dt.total_seconds().to_numpy(), flight, ".", ms=2, color="tab:blue",
            label="bytes in flight")
    ax.set_title(f"stream {stream}: window ({'client→server' if fwd else 'server→client'} data)")
    ax.set_xlabel("seconds since the stream's first packet")
    ax.set_ylabel("bytes")
    ax.legend(loc="upper left", fontsize=8)
    _robust_top(ax, np.concatenate([ws.loc[rcv.index].to_numpy().astype(float), flight.astype(float)]))
    return ax


def loss_over_time(timeline: pd.DataFrame, ax=None):
    """Bars: retransmissions per interval; line (right axis): median ACK RTT in ms."""
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 3.5))
    x = timeline.index
    width = (x[1] - x[0]) if len(x) > 1 else pd.Timedelta("100ms")
    ax.bar(x, timeline["retransmissions"], width=width, color="red", alpha=0.6, align="edge", label="retransmissions")
    ax.bar(x, timeline["dup_acks"], width=width, bottom=timeline["retransmissions"], color="purple", alpha=0.3,
           align="edge", label="dup ACKs")
    ax.set_ylabel("per interval")
    ax2 = ax.twinx()
    ax2.plot(x, timeline["ack_rtt_median"] * 1000, color="tab:green", marker=".", label="median ACK RTT")
    ax2.set_ylabel("ACK RTT (ms)")
    ax.set_xlabel("time (UTC)")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper right", fontsize=8)
    return ax


def flow_picker(flows: pd.DataFrame, draw, default=None):
    """A dropdown over flows (label: stream, endpoints, retransmissions) that calls ``draw(stream)``.

    Returns the widget box; in a non-interactive run it just draws the default.
    """
    import ipywidgets as w
    from IPython.display import display

    opts = [(f"{r.stream}: {r.client}:{r.client_port} → {r.server}:{r.server_port}  "
             f"({r.retransmission} retr, {r.data_segments} data)", int(r.stream)) for r in flows.itertuples()]
    value = default if default is not None else (opts[0][1] if opts else None)
    dd = w.Dropdown(options=opts, value=value, description="flow", layout=w.Layout(width="90%"))
    out = w.Output()

    def redraw(change=None):
        out.clear_output(wait=True)
        with out:
            draw(dd.value)
            plt.show()

    dd.observe(redraw, names="value")
    box = w.VBox([dd, out])
    display(box)
    redraw()
    return box
