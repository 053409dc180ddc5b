"""Flows table, CLI and the tshark/pyshark engines."""
from __future__ import annotations

import io
import json
import os
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest

from forensics.artifact import ArtifactWarning
from forensics.cli import main
from forensics.network.flows import flows_table
from forensics.network.load import load_capture

DATA = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "sample_data", "network"))
needs_tshark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")


def S(name):
    return os.path.join(DATA, name)


def _quiet(p, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArtifactWarning)
        return load_capture(p, **kw)


def test_flows_short_connections_states():
    f = _quiet(S("short_rst.pcap")).flows
    assert len(f) == 20
    states = f["conn_state"].value_counts().to_dict()
    assert states == {"SF": 10, "RSTR": 4, "REJ": 3, "RSTO": 3}
    assert (f["client"] == "10.77.1.1").all() and set(f["server_port"]) == {7000, 7001}
    rej = f[f["conn_state"] == "REJ"]
    assert (rej["history"] == "Sr").all() and (rej["server_port"] == 7001).all()
    assert f["keep_alive"].sum() == 4 and f["reset"].sum() == 10


def test_flows_bulk_volumes_and_label_free_view():
    cap = _quiet(S("bulk_loss.pcap"))
    f = cap.flows
    p = cap.packets
    assert f["packets_c2s"].sum() + f["packets_s2c"].sum() == len(p)
    assert f["bytes_c2s"].sum() + f["bytes_s2c"].sum() == p["len"].sum()
    # each upload was 1.5 MB of payload; at the sender every resent byte is seen twice
    assert ((f["payload_c2s"] - f["dup_bytes_c2s"]) == 1_500_000).all()
    assert (f["not_advancing_bytes_c2s"] >= f["dup_bytes_c2s"]).all()
    # at the sender, Wireshark calls most loss repairs out-of-order (within one iRTT);
    # the label-free count sees them all as not advancing the sequence
    assert (f["not_advancing_c2s"] >= f["retransmission"]).all()
    assert f["not_advancing_c2s"].sum() > 0
    assert (f["handshake_rtt"] > 0.015).all() and (f["rtt_c2s_median"] > 0.015).all()
    assert (f["throughput_c2s"] > 0).all()


def test_receiver_side_resends_fill_holes():
    f = _quiet(S("bulk_loss_receiver.pcapng")).flows
    # at the receiver the fill-ins are the first copy captured: few bytes are seen twice,
    # but every fill-in arrives below the highest sequence already seen
    assert (f["not_advancing_c2s"] >= f["retransmission"]).all()
    assert (f["not_advancing_c2s"] > 0).all()
    assert (f["dup_bytes_c2s"] < f["not_advancing_bytes_c2s"] / 100).all()
    assert (f["lost_segment"] > 0).all()


def test_flows_empty_and_udp_only():
    empty = flows_table(pd.DataFrame({"stream": pd.Series([], dtype=int)}))
    assert empty.empty


def _run(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_cli_summary_json(capsys):
    rc, out, err = _run(capsys, "pcap", "summary", S("reqresp_reorder.pcap"), "--format", "json")
    assert rc == 0
    d = json.loads(out)
    assert d["packets"] == 2504 and d["tcp_streams"] == 4 and d["warnings"] == []
    assert d["retransmission"] >= d["fast_retransmission"] + d["spurious_retransmission"] > 0


@pytest.mark.parametrize("name", ["bulk_loss.pcap", "reqresp_reorder.pcap", "truncated.pcap"])
def test_light_summary_equals_dataframe_summary(name):
    from forensics.network.analysis import summarize
    from forensics.network.load import capture_summary

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArtifactWarning)
        assert capture_summary(S(name)) == summarize(load_capture(S(name)))


def test_cli_flags_csv_matches_packets(capsys):
    rc, out, err = _run(capsys, "pcap", "flags", S("slow_reader.pcap"), "--format", "csv")
    assert rc == 0
    df = pd.read_csv(io.StringIO(out))
    assert list(df.columns[:3]) == ["frame", "stream", "retransmission"]
    assert set(np.unique(df.iloc[:, 2:].to_numpy())) <= {0, 1}
    assert (df.iloc[:, 2:].sum(axis=1) >= 1).all()
    assert df["zero_window"].sum() >= 1 and df["window_full"].sum() >= 1


def test_cli_truncated_warns_and_strict_fails(capsys):
    rc, out, err = _run(capsys, "pcap", "summary", S("truncated.pcap"), "--format", "json")
    assert rc == 0 and "warning" in err and "byte 21,729" in err
    rc, out, err = _run(capsys, "pcap", "flows", S("truncated.pcap"), "--strict")
    assert rc == 1


@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
def test_cli_flows_formats(capsys, fmt):
    rc, out, err = _run(capsys, "pcap", "flows", S("pg_snaplen96.pcap"), "--format", fmt)
    assert rc == 0 and "5432" in out


def test_cli_bad_file(capsys, tmp_path):
    p = tmp_path / "x.pcap"
    p.write_bytes(b"not a capture at all")
    rc, out, err = _run(capsys, "pcap", "summary", str(p))
    assert rc == 2 and "error" in err


@needs_tshark
def test_tshark_engine_agrees_with_native():
    nat = _quiet(S("reqresp_reorder.pcap"))
    ts = _quiet(S("reqresp_reorder.pcap"), engine="tshark")
    assert len(nat.packets) == len(ts.packets)
    for c in ("stream", "direction", "rel_seq", "payload_len", "retransmission", "duplicate_ack", "out_of_order"):
        assert (nat.packets[c].to_numpy() == ts.packets[c].to_numpy()).all(), c
    assert (nat.packets["src"].astype(str).to_numpy() == ts.packets["src"].astype(str).to_numpy()).all()
    fn, ft = nat.flows, ts.flows
    assert (fn["retransmission"].to_numpy() == ft["retransmission"].to_numpy()).all()
    assert np.allclose(fn["handshake_rtt"], ft["handshake_rtt"], atol=1e-6)


@needs_tshark
def test_pyshark_dissect_one_frame():
    from forensics.network.engines import dissect

    layers = dissect(S("short_rst.pcap"), 1)
    assert "tcp" in layers and layers["tcp"]["flags_syn"] in ("1", "True")


@needs_tshark
def test_pyshark_dissect_inside_a_running_event_loop():
    """As in a Jupyter cell: an event loop is already running in this thread."""
    import asyncio

    from forensics.network.engines import dissect

    async def cell():
        return dissect(S("short_rst.pcap"), 2)

    layers = asyncio.run(cell())
    assert layers["tcp"]["flags_reset"] in ("1", "True")


def test_udp_only_capture(tmp_path, capsys):
    import struct

    udp = struct.pack("!HHHH", 5353, 53, 12, 0) + b"abcd"
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes([10, 0, 0, 1]),
                     bytes([10, 0, 0, 2])) + udp
    frame = bytes(12) + b"\x08\x00" + ip
    data = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    data += struct.pack("<IIII", 1, 0, len(frame), len(frame)) + frame
    p = tmp_path / "udp.pcap"
    p.write_bytes(data)
    cap = load_capture(str(p))
    row = cap.packets.iloc[0]
    assert row["protocol"] == "UDP" and row["payload_len"] == 4 and row["stream"] == -1
    assert cap.flows.empty
    for sub in ("summary", "flags", "flows"):
        rc, out, err = _run(capsys, "pcap", sub, str(p), "--format", "json")
        assert rc == 0, err
