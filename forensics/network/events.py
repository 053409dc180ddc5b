"""A capture's events for an incident timeline: bursts of resets and of retransmissions.

One row per burst, not per packet: the packets flagged by the TCP analysis are grouped by the
server end (ip:port) and split where the capture is quiet for more than :data:`BURST_GAP_S`, so
3,528 refused connections to one service read as one row ("3,528 connections refused … between
t1 and t2") with the Zeek-style connection states of the streams involved. Severity says what the
burst means: connections refused (``REJ``, nothing listening) are an outage; a lone reset after a
finished exchange is routine.

Columns are those of the incident timeline builders (:mod:`forensics.kinds`), plus ``server``
(``ip:port``) and ``client`` (``ip`` when every stream of the burst comes from one) for the incident
to name the services.

>>> from forensics.network.load import load_capture
>>> ev = events(load_capture("sample_data/incidents/invoice-export/front-link.pcap"))
>>> ev.loc[ev["kind"] == "reset", ["severity", "server"]].values.tolist()
[['error', '10.77.4.11:8090']]
"""
from __future__ import annotations

import numpy as np
import pandas as pd

BURST_GAP_S = 2.0
#: connection states (Zeek's) in words, for the detail text
STATE_WORDS = {"REJ": "refused", "RSTO": "reset by the client", "RSTR": "reset by the server",
               "RSTOS0": "reset by the client before the handshake finished",
               "RSTRH": "reset by the server (no SYN seen)", "SF": "finished normally", "S0": "no reply to SYN",
               "OTH": "mid-stream"}
COLUMNS = ["time", "end", "kind", "severity", "detail", "ref", "source_rows", "server", "client"]


def burst_ids(times_ns: np.ndarray, gap_s: float = BURST_GAP_S) -> np.ndarray:
    """Burst number of each sorted time (ns): a new burst after a gap longer than ``gap_s``.

    >>> burst_ids(np.array([0, 1_000_000_000, 9_000_000_000])).tolist()
    [0, 0, 1]
    """
    if len(times_ns) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([[0], np.cumsum(np.diff(times_ns) > gap_s * 1e9)])


def _ns(times: pd.Series) -> np.ndarray:
    t = times.dt.tz_convert("UTC").dt.tz_localize(None) if times.dt.tz is not None else times
    return t.to_numpy().astype("datetime64[ns]").astype(np.int64)


def _clock(t: pd.Timestamp) -> str:
    return t.tz_convert("UTC").strftime("%H:%M:%S.%f")[:-3]


def _streams_ref(streams) -> str:
    s = sorted(int(x) for x in set(streams))
    if len(s) == 1:
        return f"stream {s[0]}"
    shown = ", ".join(str(x) for x in s[:5])
    return f"streams {shown}" + (f" (+{len(s) - 5} more)" if len(s) > 5 else "")


def _states(flows: pd.DataFrame) -> str:
    counts = flows["conn_state"].fillna("unknown").value_counts()
    return ", ".join(f"{st} {n:,} ({STATE_WORDS.get(st, 'state ' + st)})" for st, n in counts.items())


def _reset_severity(flows: pd.DataFrame) -> str:
    n = len(flows)
    refused = int((flows["conn_state"] == "REJ").sum())
    if refused >= 3 and refused >= n / 2:
        return "error"  # nothing was listening: the service was down or not started
    if n >= 10:
        return "error"
    return "warning" if n >= 3 else "info"


def _flagged(cap, flag: str) -> pd.DataFrame:
    p = cap.packets
    hit = p[(p["stream"] >= 0) & p[flag]]
    return hit.sort_values("time", kind="stable")


def events(cap) -> pd.DataFrame:
    """Reset and retransmission bursts of a loaded capture (:class:`forensics.network.load.Capture`)."""
    flows = cap.flows.set_index("stream")
    rows = []
    for flag, kind in (("reset", "reset"), ("retransmission", "retransmissions")):
        hit = _flagged(cap, flag)
        if not len(hit):
            continue
        f = flows.loc[hit["stream"].to_numpy()]
        hit = hit.assign(server=(f["server"].astype(str) + ":" + f["server_port"].astype(str)).to_numpy(),
                         client_ip=f["client"].astype(str).to_numpy())
        for server, g in hit.groupby("server", sort=False):
            for _, b in g.groupby(burst_ids(_ns(g["time"]))):
                streams = flows.loc[sorted(set(b["stream"]))]
                t0, t1 = b["time"].iloc[0], b["time"].iloc[-1]
                clients = sorted(set(b["client_ip"]))
                client = clients[0] if len(clients) == 1 else None
                span = f"at {_clock(t0)}" if t0 == t1 else f"between {_clock(t0)} and {_clock(t1)} UTC"
                who = f"from {client}" if client else f"from {len(clients)} clients"
                if kind == "reset":
                    refused = int((streams["conn_state"] == "REJ").sum())
                    what = (f"{refused:,} connection(s) refused" if refused == len(streams) else
                            f"{len(b):,} reset(s) on {len(streams):,} connection(s)")
                    detail = f"{what} to {server} {who} {span}; states: {_states(streams)}"
                    sev = _reset_severity(streams)
                elif ((b["flags"].to_numpy() & 0x12) == 0x02).all():  # only SYNs resent: attempts never answered
                    unanswered = int((streams["conn_state"] == "S0").sum())
                    detail = (f"{len(b):,} SYN(s) resent on {len(streams):,} connection attempt(s) to {server} {who} "
                              f"{span}; {unanswered:,} never answered; states: {_states(streams)}")
                    sev = "error" if unanswered >= 3 else "warning" if len(b) >= 3 else "info"
                else:
                    detail = (f"{len(b):,} retransmitted segment(s), {int(b['payload_len'].sum()):,} bytes, on "
                              f"{len(streams):,} connection(s) to {server} {who} {span}")
                    sev = "warning" if len(b) >= 3 else "info"
                rows.append({"time": t0, "end": t1, "kind": kind, "severity": sev, "detail": detail,
                             "ref": _streams_ref(streams.index), "source_rows": b["frame"].astype(int).tolist(),
                             "server": server, "client": client})
    return pd.DataFrame(rows, columns=COLUMNS)
