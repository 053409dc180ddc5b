"""Capture quality, diagnosis, worst flows and the plots (headless)."""
from __future__ import annotations

import os
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from forensics.artifact import ArtifactWarning  # noqa: E402
from forensics.network import analysis, plots  # noqa: E402
from forensics.network.load import load_capture  # noqa: E402

DATA = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "sample_data", "network"))


def _load(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArtifactWarning)
        return load_capture(os.path.join(DATA, name))


def test_receiver_side_capture_is_network_loss_before_capture_point():
    cap = _load("bulk_loss_receiver.pcapng")
    q = analysis.capture_quality(cap)
    assert q["holes_before_segment"] > 0 and not q["capture_gap_suspected"] and not q["file_cut_short"]
    text = analysis.diagnose(cap)
    assert "before the capture point" in text and "client → server" in text


def test_sender_side_capture_is_loss_after_capture_point():
    text = analysis.diagnose(_load("bulk_loss.pcap"))
    assert "after the capture point" in text


def test_truncated_and_slow_reader_diagnoses():
    assert "cut short" in analysis.diagnose(_load("truncated.pcap"))
    text = analysis.diagnose(_load("slow_reader.pcap"))
    assert "zero-window" in text and "no meaningful packet loss" in text


def test_worst_flows_and_timeline():
    cap = _load("reqresp_reorder.pcap")
    w = analysis.worst_flows(cap.flows, n=2)
    assert len(w) == 2 and w["retrans_rate"].is_monotonic_decreasing
    tl = analysis.loss_timeline(cap.packets, "200ms")
    assert tl["retransmissions"].sum() == cap.packets["retransmission"].sum()


def test_plots_draw():
    cap = _load("slow_reader.pcap")
    ax = plots.time_sequence(cap.packets, 0)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(lbl.startswith("zero window") for lbl in labels)
    ax2 = plots.loss_over_time(analysis.loss_timeline(cap.packets))
    assert ax2.get_ylabel() == "per interval"
    shown = []
    box = plots.flow_picker(cap.flows, shown.append)
    assert shown == [0] and box is not None
    plt.close("all")


def test_window_spike_of_notebook_01_is_gone():
    """Regression: the SYN-ACK's window (65160, unscaled by definition) was shifted by the window scale
    (10), drawing a window edge at ~6.7e7 over a 1.5 MB flow and squashing the Stevens graph."""
    cap = _load("bulk_loss_receiver.pcapng")
    p = cap.packets
    ws = analysis.window_size(p)
    syn = (p["flags"] & 0x02) != 0
    assert (ws[syn] == p.loc[syn, "window"]).all()
    t = p[p["stream"] == 0]
    assert ws[t.index].max() < 10_000_000  # was 66,723,840 on frame 2
    ax = plots.time_sequence(p, 0)
    top = ax.get_ylim()[1]
    data_top = float((t["rel_seq"] + t["payload_len"]).max())
    assert data_top <= top < 2.5 * data_top, (top, data_top)
    plt.close("all")


def test_window_size_matches_tshark():
    """``window_size`` equals tshark's tcp.window_size (the committed labels do not hold it: run tshark)."""
    import shutil
    import subprocess

    import pytest

    if not shutil.which("tshark"):
        pytest.skip("tshark not installed")
    for name in ("bulk_loss_receiver.pcapng", "slow_reader.pcap", "short_rst.pcap"):
        path = os.path.join(DATA, name)
        r = subprocess.run(["tshark", "-n", "-r", path, "-T", "fields", "-e", "tcp.window_size"],
                           capture_output=True, text=True, check=True)
        theirs = [int(x) if x else -1 for x in r.stdout.splitlines()]
        p = _load(name).packets
        ours = analysis.window_size(p).where(p["stream"] >= 0, -1).tolist()
        assert ours == theirs, name


def test_stream_graphs_draw_with_robust_axes():
    p = _load("bulk_loss_receiver.pcapng").packets
    ax = plots.throughput(p, 0)
    assert ax.lines and ax.get_ylim()[1] > 0
    ax = plots.round_trip_time(p, 0)
    assert ax.lines
    rtt_ms = p.loc[p["stream"] == 0, "ack_rtt"].dropna() * 1000
    assert ax.get_ylim()[1] <= max(rtt_ms.max() * 1.06, 1.5 * rtt_ms.quantile(0.99) + 1)
    ax = plots.window_scaling(p, 0)
    assert len(ax.lines) >= 2 and ax.get_ylim()[1] < 10_000_000  # no 6.7e7 window spike here either
    plt.close("all")


def test_a_capture_without_data_is_not_said_to_have_lost_none():
    """A SYN scan (chrissanders/packets' synscan, a wild capture: skipped when absent) has TCP connections but
    no data segment: the diagnosis says so instead of 'all 0 data segments advanced'."""
    from forensics.network.load import load_capture
    from support import require_wild

    rel = "chrissanders+packets/synscan.pcapng"
    text = analysis.diagnose(load_capture(require_wild("network", [rel])[rel]))
    assert "carried data (handshakes, resets or scans only)" in text and " 0 data segments" not in text


def test_refused_connection_attempts_are_named_with_their_endpoint():
    text = analysis.diagnose(_load("short_rst.pcap"))
    assert "3 connection attempts to 10.77.1.2:7001 were refused (a RST answered the SYN" in text
    u = analysis.unanswered_connections(_load("short_rst.pcap").flows)
    assert u[["server_port", "unanswered", "refused"]].to_dict("records") == [
        {"server_port": 7001, "unanswered": 0, "refused": 3}]


def test_unanswered_syns_are_the_story_of_a_failing_fetch():
    """chrissanders/packets' http_espn_fail (wild, skipped when absent): 9 connections to one web server
    never got a SYN-ACK — the failure the capture is named after, which loss counting alone calls clean."""
    from forensics.network.load import load_capture
    from support import require_wild

    rel = "chrissanders+packets/http_espn_fail.pcapng"
    text = analysis.diagnose(load_capture(require_wild("network", [rel])[rel]))
    assert "9 connection attempts to 203.0.113.94:80 were never answered (93 SYNs sent" in text


def test_resent_syns_become_unanswered_attempt_events():
    from forensics.network.events import events
    from forensics.network.load import load_capture
    from support import require_wild

    rel = "chrissanders+packets/http_espn_fail.pcapng"
    e = events(load_capture(require_wild("network", [rel])[rel]))
    syn = e[e["detail"].str.contains("SYN\\(s\\) resent")]
    assert len(syn) and (syn["severity"] == "error").all()
    assert syn["detail"].str.contains("203.0.113.94:80").all() and syn["detail"].str.contains("never answered").all()
