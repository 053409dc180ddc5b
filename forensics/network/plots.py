"""Matplotlib figures for captures, and an ipywidgets flow picker.

* :func:`time_sequence` — the Stevens (tcptrace) time-sequence graph of one stream
* :func:`loss_over_time` — retransmissions per interval against the ACK RTT
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
