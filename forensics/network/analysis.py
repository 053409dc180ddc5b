"""Questions analysts ask of a capture, as pure functions over the loaded DataFrames.

* :func:`capture_quality` — can this capture be trusted? (cut short, snaplen, capture gaps)
* :func:`worst_flows` — which connections suffered most
* :func:`loss_timeline` — retransmissions over time against RTT
* :func:`diagnose` — the conclusion in words: network loss or capture gap, which side, when
* :func:`summarize`, :func:`flagged_frames` — what ``forensics pcap summary|flags`` print
* :func:`window_size` — the advertised window in bytes (``tcp.window_size``: scaled as Wireshark scales it)
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .flags import FLAG_NAMES


def capture_quality(cap) -> dict:
    """Facts about the capture itself, before blaming the network.

    ``ack_lost_segment`` (an ACK for data the capture never saw) means the capture
    missed packets; ``lost_segment`` that is never filled in by a retransmission means
    the same. Holes that *are* filled later are real loss upstream of the capture point.
    """
    p = cap.packets
    tcp = p[p["stream"] >= 0]
    holes = int(tcp["lost_segment"].sum())
    fills = int((tcp["retransmission"] | tcp["out_of_order"]).sum())
    snap = int((p["caplen"] < p["len"]).sum())
    return {
        "packets": int(len(p)),
        "tcp_packets": int(len(tcp)),
        "file_cut_short": bool(cap.provenance.warnings),
        "load_warnings": list(cap.provenance.warnings),
        "snaplen_truncated_packets": snap,
        "holes_before_segment": holes,
        "acked_but_never_seen": int(tcp["ack_lost_segment"].sum()),
        "fill_ins_seen": fills,
        "capture_gap_suspected": bool(tcp["ack_lost_segment"].sum() > 0 or holes > fills),
    }


def worst_flows(flows: pd.DataFrame, n: int = 10, min_segments: int = 10) -> pd.DataFrame:
    """The ``n`` streams with the highest retransmission rate (Wireshark labels), with the label-free view.

    >>> f = pd.DataFrame({"stream": [0, 1], "client": ["a", "b"], "server": ["c", "d"], "server_port": [1, 2],
    ...     "data_segments": [100, 100], "retransmission": [1, 9], "retrans_rate": [.01, .09],
    ...     "not_advancing_c2s": [1, 9], "not_advancing_s2c": [0, 0], "duplicate_ack": [0, 3],
    ...     "zero_window": [0, 0], "reset": [0, 0], "handshake_rtt": [.02, .02], "conn_state": ["SF", "SF"]})
    >>> worst_flows(f, 1)["stream"].tolist()
    [1]
    """
    cols = ["stream", "client", "server", "server_port", "data_segments", "retransmission", "retrans_rate",
            "not_advancing_c2s", "not_advancing_s2c", "duplicate_ack", "zero_window", "reset", "handshake_rtt_ms",
            "conn_state"]
    f = flows[flows["data_segments"] >= min_segments] if min_segments else flows
    if "handshake_rtt" in f:
        f = f.assign(handshake_rtt_ms=(f["handshake_rtt"] * 1000).round(2))
    return f.sort_values(["retrans_rate", "retransmission"], ascending=False)[[c for c in cols if c in f]].head(n)


def unanswered_connections(flows: pd.DataFrame) -> pd.DataFrame:
    """Per server endpoint, the connection attempts that never got going: ``unanswered`` (SYN with no reply,
    Zeek's S0) and ``refused`` (a RST answered the SYN, REJ), with the SYNs sent and when.

    >>> f = pd.DataFrame({"server": ["s", "s", "t"], "server_port": [80, 80, 22], "conn_state": ["S0", "S0", "SF"],
    ...     "packets_c2s": [10, 8, 30], "start": pd.to_datetime([1, 2, 3], unit="s", utc=True),
    ...     "end": pd.to_datetime([60, 61, 9], unit="s", utc=True)})
    >>> unanswered_connections(f)[["server", "server_port", "unanswered", "refused", "syns"]].to_dict("records")
    [{'server': 's', 'server_port': 80, 'unanswered': 2, 'refused': 0, 'syns': 18}]
    """
    cols = ["server", "server_port", "unanswered", "refused", "syns", "first", "last"]
    if "conn_state" not in flows or flows.empty:
        return pd.DataFrame(columns=cols)
    f = flows[flows["conn_state"].isin(["S0", "REJ"])]
    if f.empty:
        return pd.DataFrame(columns=cols)
    g = f.assign(unanswered=f["conn_state"].eq("S0"), refused=f["conn_state"].eq("REJ"),
                 syns=f["packets_c2s"] if "packets_c2s" in f else 1)
    out = g.groupby(["server", "server_port"], sort=False).agg(
        unanswered=("unanswered", "sum"), refused=("refused", "sum"), syns=("syns", "sum"),
        first=("start", "min"), last=("end", "max")).reset_index()
    out = out.astype({"unanswered": "int64", "refused": "int64", "syns": "int64"})
    return out.sort_values(["unanswered", "refused"], ascending=False, ignore_index=True)[cols]


def _attempts(n: int) -> str:
    return f"{n:,} connection attempt{'s' if n != 1 else ''}"


def _unanswered_sentences(u: pd.DataFrame, servers: int = 3) -> list[str]:
    """Per server (the busiest few): attempts never answered and refused, on which port(s), and when."""
    out = []
    if u.empty:
        return out
    per = u.groupby("server", sort=False).agg(unanswered=("unanswered", "sum"), refused=("refused", "sum"),
                                              syns=("syns", "sum"), ports=("server_port", "nunique"),
                                              first=("first", "min"), last=("last", "max"))
    per = per.sort_values(["unanswered", "refused"], ascending=False)
    for server, r in per.head(servers).iterrows():
        rows = u[u["server"] == server]
        port = (f"{server}:{rows['server_port'].iloc[0]}" if r["ports"] == 1
                else f"{server} on {r['ports']:,} different ports")
        what = []
        if r["unanswered"]:
            what.append(f"{_attempts(int(r['unanswered']))} to {port} {'was' if r['unanswered'] == 1 else 'were'} "
                        f"never answered ({int(r['syns']):,} SYNs sent; no SYN-ACK and no RST came back: down, "
                        f"filtered or unreachable from the capture point)")
        if r["refused"]:
            where = "" if r["unanswered"] else f" to {port}"
            what.append(f"{_attempts(int(r['refused']))}{where} {'was' if r['refused'] == 1 else 'were'} refused (a RST "
                        f"answered the SYN: nothing listening there, or a firewall rejecting)")
        t0, t1 = (r["first"].strftime("%H:%M:%S"), r["last"].strftime("%H:%M:%S")) \
            if pd.notna(r["first"]) and pd.notna(r["last"]) else (None, None)
        span = "" if t0 is None else f", at {t0} UTC" if t0 == t1 else f", {t0}–{t1} UTC"
        out.append("; ".join(what) + span + ".")
    if len(per) > servers:
        out.append(f"{len(per) - servers:,} more server(s) left connection attempts unanswered or refused.")
    return out


def loss_timeline(packets: pd.DataFrame, freq: str = "100ms") -> pd.DataFrame:
    """Per time bin: data segments, retransmissions (labelled), median ACK RTT (s)."""
    t = packets[packets["stream"] >= 0].set_index("time")
    data = (t["payload_len"] > 0).astype(int)
    out = pd.DataFrame({
        "data_segments": data.resample(freq).sum(),
        "retransmissions": t["retransmission"].astype(int).resample(freq).sum(),
        "dup_acks": t["duplicate_ack"].astype(int).resample(freq).sum(),
        "zero_windows": t["zero_window"].astype(int).resample(freq).sum(),
        "ack_rtt_median": t["ack_rtt"].resample(freq).median(),
    })
    return out


def diagnose(cap) -> str:
    """A few sentences: is it network loss or a capture gap, on which side, and when.

    Uses both Wireshark's labels and the label-free count of segments that did not
    advance the sequence (which is what every tool agrees on).
    """
    p, f = cap.packets, cap.flows
    q = capture_quality(cap)
    lines = []
    if q["file_cut_short"]:
        lines.append("The file is cut short: " + q["load_warnings"][0] + ".")
    if q["snaplen_truncated_packets"]:
        lines.append(f"{q['snaplen_truncated_packets']:,} packets were captured with a small snaplen; "
                     "lengths come from the IP headers, so the analysis is unaffected.")
    if f.empty:
        return " ".join(lines + ["There is no TCP traffic in this capture."])
    resent_c = int(f["not_advancing_bytes_c2s"].sum())
    resent_s = int(f["not_advancing_bytes_s2c"].sum())
    na_c, na_s = int(f["not_advancing_c2s"].sum()), int(f["not_advancing_s2c"].sum())
    holes, fills = q["holes_before_segment"], q["fill_ins_seen"]
    data_segs = int(f["data_segments"].sum())
    if not data_segs:
        lines.append(f"Not one of the {len(f):,} TCP connection(s) carried data (handshakes, resets or scans only): "
                     "there is no data to have lost.")
    elif na_c + na_s + holes <= max(2, 0.001 * data_segs):
        which = (f"only {na_c + na_s:,} of {data_segs:,} data segments did not advance the sequence"
                 if na_c + na_s else "the one data segment advanced the sequence" if data_segs == 1
                 else f"all {data_segs:,} data segments advanced the sequence")
        lines.append(f"{which[0].upper()}{which[1:]} and {holes:,} holes appeared: no meaningful packet loss.")
    else:
        side = "client → server" if resent_c + holes >= resent_s else "server → client"
        lines.append(f"{na_c + na_s:,} of {data_segs:,} data segments did not advance the sequence (resent or "
                     f"reordered): {na_c:,} ({resent_c:,} bytes) client → server and {na_s:,} ({resent_s:,} bytes) "
                     f"server → client. The loss hit the {side} direction.")
        if holes and fills >= holes * 0.5:
            lines.append(f"{holes:,} holes in the sequence were later filled by retransmissions: the packets were "
                         "lost on the network before the capture point (this looks like a receiver-side capture).")
        elif holes:
            lines.append(f"{holes:,} holes in the sequence were never filled: the capture itself missed packets "
                         "(a capture gap, not network loss).")
        else:
            lines.append("No holes appear in what was captured, so the packets were lost after the capture point "
                         "(this looks like a sender-side capture).")
        fast, spur = int(p["fast_retransmission"].sum()), int(p["spurious_retransmission"].sum())
        ooo = int(p["out_of_order"].sum())
        lines.append(f"Wireshark labels: {int(p['retransmission'].sum()):,} retransmissions "
                     f"({fast:,} fast, {spur:,} spurious), {ooo:,} out-of-order, "
                     f"{int(p['duplicate_ack'].sum()):,} duplicate ACKs.")
        rx = p[p["retransmission"] | p["out_of_order"] | p["lost_segment"]]
        if len(rx):
            fmt = lambda t: t.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
            busiest = rx.set_index("time").resample("1s").size().idxmax()
            lines.append(f"Repairs ran from {fmt(rx['time'].min())} to {fmt(rx['time'].max())} UTC, "
                         f"most in the second starting {fmt(busiest)}.")
    lines += _unanswered_sentences(unanswered_connections(f))
    if q["acked_but_never_seen"]:
        lines.append(f"{q['acked_but_never_seen']:,} ACKs acknowledge data the capture never saw: a capture gap.")
    zw = int(p["zero_window"].sum())
    if zw:
        who = p[p["zero_window"]]["src"].astype(str).value_counts().index[0]
        lines.append(f"{zw:,} zero-window advertisements, mostly from {who}: a receiver that reads too slowly "
                     "(an application problem, not the network).")
    return "\n".join(lines)


#: The per-frame flags the CLI reports (Wireshark's tcp.analysis.* names, plus RST).
CLI_FLAGS = ["retransmission", "fast_retransmission", "spurious_retransmission", "out_of_order",
             "lost_segment", "ack_lost_segment", "duplicate_ack", "zero_window", "zero_window_probe",
             "zero_window_probe_ack", "window_full", "window_update", "keep_alive", "keep_alive_ack",
             "reused_ports", "reset"]
assert set(CLI_FLAGS) - {"reset"} == set(FLAG_NAMES)


def summarize(cap) -> dict:
    """Packet and stream counts, load warnings, and one count per flag."""
    p = cap.packets
    out = {"packets": int(len(p)), "tcp_streams": int(p["stream"].max() + 1) if len(p) and p["stream"].max() >= 0 else 0,
           "warnings": list(cap.provenance.warnings)}
    for f in CLI_FLAGS:
        out[f] = int(p[f].sum())
    out.update(layer_counts(p))
    return out


def layer_counts(p: pd.DataFrame) -> dict:
    """Packets per link type, those of them whose network layer was not decoded (not IP, or a link
    type the reader does not decode), and packets per tunnel kind."""
    lt = p["link_type"].astype(str) if "link_type" in p else pd.Series([], dtype=str)
    und = lt[(p["ip_version"] == 0).to_numpy()] if len(lt) else lt
    tun = p["tunnel"].dropna().astype(str) if "tunnel" in p else pd.Series([], dtype=str)
    as_dict = lambda s: {str(k): int(v) for k, v in s.value_counts().items()}
    return {"link_types": as_dict(lt), "undecoded_network_layer": as_dict(und), "tunnels": as_dict(tun)}


def flagged_frames(packets: pd.DataFrame) -> pd.DataFrame:
    """``frame, stream`` and a 0/1 column per flag, for frames with at least one flag."""
    flags = packets[CLI_FLAGS]
    any_flag = flags.any(axis=1)
    out = packets.loc[any_flag, ["frame", "stream"]].copy()
    for f in CLI_FLAGS:
        out[f] = packets.loc[any_flag, f].astype("int8")
    return out.reset_index(drop=True)


def window_size(packets: pd.DataFrame) -> pd.Series:
    """The advertised receive window in bytes, as Wireshark's ``tcp.window_size``.

    The raw 16-bit field is shifted by the sender's window scale only when both SYNs carried the
    option (RFC 7323), and never in a SYN or SYN-ACK itself, whose window is unscaled by definition
    (scaling it is what put a 6.7e7-byte spike on notebook 01's sequence graph). Without a handshake
    in the capture the scale is unknown and the raw value is shown, as Wireshark does.

    >>> p = pd.DataFrame({"stream": [0, 0, 0], "direction": [0, 1, 0], "flags": [0x02, 0x12, 0x10],
    ...                   "window": [64240, 65160, 502], "wscale": [7, 10, -1]})
    >>> window_size(p).tolist()
    [64240, 65160, 64256]
    """
    st, fl = packets["stream"].to_numpy(), packets["flags"].to_numpy()
    win = packets["window"].to_numpy().astype(np.int64)
    key = st.astype(np.int64) * 2 + packets["direction"].to_numpy().astype(np.int64)
    syn = ((fl & 0x02) != 0) & (st >= 0)
    shift = pd.Series(packets["wscale"].to_numpy()[syn].astype(np.int64), index=key[syn])
    shift = shift[~shift.index.duplicated(keep="first")]
    both = shift.groupby(shift.index // 2).transform(lambda s: len(s) == 2 and (s >= 0).all())
    shift = shift.where(both.astype(bool), 0).clip(lower=0, upper=14)
    sh = pd.Series(key).map(shift).fillna(0).to_numpy().astype(np.int64)
    sh[syn] = 0
    return pd.Series(win << sh, index=packets.index, name="window_size")
