"""sFlow (UDP 6343): the sampled packet headers inside a datagram get TCP streams as in Wireshark.

Wireshark 4.0.17 dissects each raw-packet-header flow record as an error packet: a sampled TCP
header gets a ``tcp.stream`` (new, or that of a conversation already seen) but no analysis. The
wild captures (tcpdump's and PcapPlusPlus's tests, listed in ``wild/MANIFEST.tsv``, not committed)
are the cases; the expected values are tshark 4.0.17's (``tshark -T fields -e tcp.stream
-E occurrence=a``), and re-measured against the installed tshark when there is one.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensics.artifact import ArtifactWarning
from forensics.network.load import capture_summary, load_capture
from support import missing_wild_reason, wild_file

from .test_wild import assert_only_located_failures

#: capture -> (frames, tshark's tcp.stream of each frame with TCP, all occurrences, frame: streams)
SFLOW_CAPTURES = {
    "seladb+PcapPlusPlus/Tests__ExamplesTest__pcap_examples__tcp-reassembly.pcap": 66,
    "the-tcpdump-group+tcpdump/tests__sflow_expanded.pcap": 1,
    "the-tcpdump-group+tcpdump/tests__sflow-print-v6.pcap": 25,
    "the-tcpdump-group+tcpdump/tests__sflow_multiple_counter_30_pdus.pcap": 30,
    "the-tcpdump-group+tcpdump/tests__sflow_print-segv.pcap": 1,
}


def _path(rel):
    p = wild_file("network", rel)
    if p is None:
        pytest.skip(missing_wild_reason("network", 1, 1))
    return str(p)


def _load(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArtifactWarning)
        return load_capture(path)


def test_datagram_with_seven_sampled_tcp_headers_numbers_streams_as_tshark():
    # tshark 4.0.17: frame 66 is eth:ip:udp:sflow with 8 sampled headers, tcp.stream "1,2,0,3,4,5,6"
    # (one UDP); the 65 frames before it are stream 0.
    path = _path("seladb+PcapPlusPlus/Tests__ExamplesTest__pcap_examples__tcp-reassembly.pcap")
    cap = _load(path)
    p = cap.packets
    assert len(p) == 66 and (p["stream"].iloc[:65] == 0).all()
    row = p.iloc[65]
    assert row["stream"] == 1 and row["tunnel"] == "sFlow" and row["protocol"] == "TCP"
    assert row["outer_src"] == "172.16.133.254" and row["src"] != row["outer_src"]
    assert len(cap.irtt) == 7  # streams 2..6 are seen only in the datagram's later headers
    assert capture_summary(path)["tcp_streams"] == 7
    assert not p.iloc[65][["retransmission", "lost_segment", "ack_lost_segment"]].any()  # no analysis


def test_sampled_header_behind_a_vlan_tag():
    cap = _load(_path("the-tcpdump-group+tcpdump/tests__sflow_expanded.pcap"))  # an expanded flow sample
    row = cap.packets.iloc[0]
    assert (row["stream"], row["tunnel"], row["src"], row["sport"]) == (0, "sFlow", "52.52.52.52", 22)
    assert row["outer_src"] == "192.0.2.100"


def test_datagrams_without_tcp_samples_give_no_stream():
    # tshark: frames 4, 8, 14, 20, 21 carry sampled Ethernet/IPv4 headers (no TCP); the rest counters
    cap = _load(_path("the-tcpdump-group+tcpdump/tests__sflow-print-v6.pcap"))
    p = cap.packets
    assert (p["stream"] < 0).all() and len(cap.irtt) == 0
    assert p.index[p["tunnel"].astype(str) == "sFlow"].tolist() == [3, 7, 13, 19, 20]
    # frames tshark does not take as sFlow (bad version or address type) stay plain UDP
    q = _load(_path("the-tcpdump-group+tcpdump/tests__sflow_multiple_counter_30_pdus.pcap")).packets
    assert q["tunnel"].isna().all() and (q["protocol"] == "UDP").all()


@pytest.mark.skipif(not shutil.which("tshark"), reason="tshark not installed")
@pytest.mark.parametrize("rel", sorted(SFLOW_CAPTURES))
def test_every_sampled_stream_equals_live_tshark(rel, tmp_path):
    path = _path(rel)
    env = dict(os.environ, HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path))
    r = subprocess.run(["tshark", "-n", "-r", path, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,",
                        "-e", "tcp.stream"], capture_output=True, text=True, env=env, check=True)
    per_frame = [[int(s) for s in line.split(",") if s] for line in r.stdout.split("\n")[:-1]]
    cap = _load(path)
    assert len(per_frame) == len(cap.packets) == SFLOW_CAPTURES[rel]
    first = np.array([s[0] if s else -1 for s in per_frame])
    assert np.array_equal(cap.packets["stream"].to_numpy(), first)
    assert len(cap.irtt) == len({s for f in per_frame for s in f})


def _seeds():
    out = []
    for rel in ("seladb+PcapPlusPlus/Tests__ExamplesTest__pcap_examples__tcp-reassembly.pcap",
                "the-tcpdump-group+tcpdump/tests__sflow_expanded.pcap",
                "zeek+zeek/testing__btest__Traces__tunnels__gtp__gtp_ext_header.pcap"):  # fragmented GTP-U
        p = wild_file("network", rel)
        if p:
            with open(p, "rb") as fh:
                data = fh.read()
            out.append(data)
    return out


_SEED_DATA = _seeds()


@pytest.mark.skipif(len(_SEED_DATA) < 3, reason=missing_wild_reason("network", 3 - len(_SEED_DATA), 3))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(k=st.integers(0, 2), cuts=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), min_size=1,
                                          max_size=12), tail=st.booleans(), trunc=st.integers(0, 1 << 20))
def test_mutated_second_read_captures_give_only_artifact_errors_or_located_warnings(tmp_path_factory, k, cuts, tail, trunc):
    data = bytearray(_SEED_DATA[k])
    start = len(data) - 1500 if tail and len(data) > 1600 else 0  # aim at the sFlow datagram at the end
    for pos, val in cuts:
        data[start + pos % (len(data) - start)] = val
    if trunc % 4 == 0:
        data = data[: max(1, trunc % len(data))]
    assert_only_located_failures(bytes(data), tmp_path_factory.mktemp("sflow"))
