"""Other engines: Wireshark's own labels via tshark, and pyshark for one packet in depth.

* :func:`tshark_packets` runs ``tshark -T fields`` once over the file and returns a
  ``packets`` frame with the same column names as the native engine (for
  cross-checking, or for users who want Wireshark's labels verbatim).
* :func:`dissect` shows every field Wireshark decodes in one frame, through pyshark,
  in a worker thread with its own event loop so it also works inside Jupyter
  (whose event loop is already running).

The file path is passed to tshark as an argument list, never through a shell.
"""
from __future__ import annotations

import asyncio
import io
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from ..errors import ArtifactError
from .flags import FLAG_NAMES

TSHARK_COLUMNS = {
    "frame.number": "frame", "frame.time_epoch": "time", "frame.len": "len", "frame.cap_len": "caplen",
    "ip.src": "ip_src", "ip.dst": "ip_dst", "ipv6.src": "ip6_src", "ipv6.dst": "ip6_dst",
    "tcp.srcport": "sport", "tcp.dstport": "dport", "tcp.stream": "stream",
    "tcp.seq": "rel_seq", "tcp.ack": "rel_ack", "tcp.seq_raw": "seq", "tcp.ack_raw": "ack",
    "tcp.len": "payload_len", "tcp.flags": "flags", "tcp.window_size_value": "window",
    "tcp.analysis.duplicate_ack_num": "dup_ack_num", "tcp.analysis.duplicate_ack_frame": "dup_ack_frame",
    "tcp.analysis.acks_frame": "acked_frame", "tcp.analysis.ack_rtt": "ack_rtt",
    "tcp.analysis.rto": "rto", "tcp.analysis.rto_frame": "rto_frame", "tcp.analysis.initial_rtt": "irtt",
}


def tshark_path() -> str:
    p = shutil.which("tshark")
    if not p:
        raise ArtifactError(None, None, "the tshark engine needs tshark (Debian/Ubuntu: apt-get install tshark)")
    return p


def tshark_packets(path) -> tuple[pd.DataFrame, np.ndarray, list]:
    """Run tshark once; return (packets frame with native column names, per-stream handshake RTT, warnings)."""
    fields = list(TSHARK_COLUMNS) + [f"tcp.analysis.{f}" for f in FLAG_NAMES] + ["tcp.flags.reset"]
    cmd = [tshark_path(), "-n", "-r", os.fspath(path), "-T", "fields", "-E", "header=y", "-E", "separator=\t",
           "-E", "occurrence=f"]
    for f in fields:
        cmd += ["-e", f]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode not in (0, 2) or not r.stdout:
        raise ArtifactError(path, None, f"tshark failed: {r.stderr.strip()[:300]}")
    raw = pd.read_csv(io.StringIO(r.stdout), sep="\t", dtype=str, keep_default_na=False, quoting=3)
    num = lambda c, fill=0, dt=np.int64: pd.to_numeric(raw[c], errors="coerce").fillna(fill).astype(dt)
    df = pd.DataFrame({"frame": num("frame.number")})
    df["time"] = pd.to_datetime(pd.to_numeric(raw["frame.time_epoch"], errors="coerce"), unit="s", utc=True)
    df["len"], df["caplen"] = num("frame.len"), num("frame.cap_len")
    df["src"] = pd.Categorical(raw["ip.src"].where(raw["ip.src"] != "", raw["ipv6.src"]))
    df["dst"] = pd.Categorical(raw["ip.dst"].where(raw["ip.dst"] != "", raw["ipv6.dst"]))
    df["sport"], df["dport"] = num("tcp.srcport"), num("tcp.dstport")
    df["protocol"] = pd.Categorical(np.where(raw["tcp.stream"] != "", "TCP", ""))
    df["stream"] = num("tcp.stream", -1)
    # direction 0 = the stream's first sender (address and port: both ends may share an address)
    end = df["src"].astype(str) + " " + df["sport"].astype(str)
    tcp = df["stream"] >= 0
    first = end[tcp].groupby(df.loc[tcp, "stream"]).transform("first")
    df["direction"] = -1
    df.loc[first.index, "direction"] = (end[tcp] != first).astype(int)
    for c in ("seq", "ack", "rel_seq", "rel_ack", "payload_len", "window"):
        df[c] = num([k for k, v in TSHARK_COLUMNS.items() if v == c][0])
    df["flags"] = raw["tcp.flags"].map(lambda s: int(s, 16) if s else 0).astype(np.int64)
    for f in FLAG_NAMES:
        df[f] = raw[f"tcp.analysis.{f}"] != ""
    df["reset"] = raw["tcp.flags.reset"].isin(["1", "True"])
    for c in ("dup_ack_num", "dup_ack_frame", "acked_frame", "rto_frame"):
        df[c] = num([k for k, v in TSHARK_COLUMNS.items() if v == c][0])
    df["ack_rtt"] = pd.to_numeric(raw["tcp.analysis.ack_rtt"], errors="coerce")
    df["rto"] = pd.to_numeric(raw["tcp.analysis.rto"], errors="coerce")
    irtt = pd.to_numeric(raw["tcp.analysis.initial_rtt"], errors="coerce")
    per_stream = irtt.groupby(df["stream"]).max()
    n = int(df["stream"].max() + 1) if len(df) else 0
    arr = np.full(max(n, 0), np.nan)
    ok = per_stream.index >= 0
    arr[per_stream.index[ok]] = per_stream.to_numpy()[ok]
    warns = [r.stderr.strip().splitlines()[-1]] if r.returncode == 2 and r.stderr.strip() else []
    return df, arr, warns


def _dissect_in_thread(path, frame):
    import pyshark

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    cap = pyshark.FileCapture(os.fspath(path), display_filter=f"frame.number == {int(frame)}", eventloop=loop,
                              keep_packets=False)
    try:
        for pkt in cap:
            layers = {}
            for layer in pkt.layers:
                fields = {}
                for name in layer.field_names:
                    try:
                        fields[name] = str(layer.get_field(name))
                    except Exception:  # a field pyshark cannot render; skip it
                        continue
                layers[layer.layer_name] = fields
            return layers
        return {}
    finally:
        try:
            cap.close()
        finally:
            loop.close()


def dissect(capture, frame: int) -> dict:
    """Every field Wireshark decodes in ``frame`` (1-based), as {layer: {field: text}}.

    ``capture`` is a path or a loaded :class:`~forensics.network.load.Capture`.
    Runs pyshark (tshark underneath) in a worker thread with a private event loop,
    so it works from a Jupyter cell.

    >>> dissect("sample_data/network/short_rst.pcap", 1)["tcp"]["flags_syn"]  # doctest: +SKIP
    'True'
    """
    tshark_path()
    path = getattr(getattr(capture, "provenance", None), "path", capture)
    with ThreadPoolExecutor(max_workers=1) as ex:
        return ex.submit(_dissect_in_thread, path, frame).result(timeout=120)
