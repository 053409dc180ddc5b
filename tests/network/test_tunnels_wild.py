"""Each tunnel of issue 17's list, named, on a capture somebody else made (Zeek's and tcpdump's test
traces, listed in ``wild/MANIFEST.tsv``, not committed). Frame-by-frame agreement with tshark for
these files is in ``test_wild.py`` (corpus-wide); here each case says what it exercises: the inner
packet decoded, the outer endpoints kept as ``outer_src``/``outer_dst``, the tunnel named, and
where the capture carries TCP, the inner TCP analysed as its own stream."""
from __future__ import annotations

import warnings

import pytest

from forensics.artifact import ArtifactWarning
from forensics.network.load import load_capture
from support import missing_wild_reason, wild_file

ZEEK = "zeek+zeek/testing__btest__Traces__"
TCPDUMP = "the-tcpdump-group+tcpdump/tests__"

#: capture -> (tunnel kind, TCP streams inside it as tshark 4.0.17 numbers them; 0: no TCP in the capture)
CASES = {
    ZEEK + "tunnels__4in4.pcap": ("IP-in-IP", 0),
    ZEEK + "tunnels__6in4.pcap": ("6in4", 0),
    ZEEK + "tunnels__4in6.pcap": ("4in6", 1),
    ZEEK + "tunnels__6in6.pcap": ("IPv6-in-IPv6", 0),
    ZEEK + "erspanI.pcap": ("ERSPAN", 0),
    ZEEK + "erspanII.pcap": ("ERSPAN", 0),
    ZEEK + "erspanIII.pcap": ("ERSPAN", 0),
    ZEEK + "tunnels__gre-erspan3-dot1q.pcap": ("ERSPAN", 0),
    ZEEK + "tunnels__geneve-many-options.pcap": ("Geneve", 1),
    ZEEK + "tunnels__vxlan-encapsulated-http.pcap": ("VXLAN", 1),
    ZEEK + "tunnels__gre-over-udp-4754.pcap": ("GRE", 1),
    ZEEK + "tunnels__gre-sample.pcap": ("GRE", 1),
    ZEEK + "tunnels__gre-aruba.pcap": ("GRE", 23),
    ZEEK + "tunnels__ayiya3.pcap": ("AYIYA", 1),
    TCPDUMP + "mpls-over-udp.pcap": ("MPLS-over-UDP", 0),
    "seladb+PcapPlusPlus/Tests__Packet++Test__PacketExamples__gtp.pcap": ("GTP-U", 1),
    TCPDUMP + "sflow_expanded.pcap": ("sFlow", 1),
    # the tunnel packets are IP fragments: decoded whole at the completing frame (tunnel_fragments.py)
    ZEEK + "erspan.pcap": ("GRE", 5),  # named so by Zeek; Ethernet over GRE (0x6558), as tshark shows it
    ZEEK + "tunnels__gtp__gtp_ext_header.pcap": ("GTP-U", 1),
    ZEEK + "tunnels__gtp__gtp1_gn_normal_incl_fragmentation.pcap": ("GTP-U", 1),
    ZEEK + "tunnels__gtp__gtp2_different_udp_port.pcap": ("GTP-U", 1),
    ZEEK + "tunnels__gtp__gtp9_unknown_or_too_short_payload.pcap": ("GTP-U", 1),
}


def _packets(rel):
    path = wild_file("network", rel)
    if path is None:
        pytest.skip(missing_wild_reason("network", 1, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArtifactWarning)
        return load_capture(str(path)).packets


@pytest.mark.parametrize("rel", sorted(CASES))
def test_tunnel_inner_packet_decoded_with_outer_endpoints(rel):
    kind, streams = CASES[rel]
    p = _packets(rel)
    inner = p[p["tunnel"].astype(str) == kind]
    assert len(inner), f"no {kind} packet decoded"
    assert (inner["ip_version"] > 0).all() and inner["outer_src"].notna().all() and inner["outer_dst"].notna().all()
    # the outer endpoints are the tunnel's, not the inner packet's (a mirrored host may also be a tunnel end)
    assert (inner["outer_src"].astype(str) != inner["src"].astype(str)).any()
    tcp = inner[inner["stream"] >= 0]
    assert tcp["stream"].nunique() == streams
    if streams:
        assert (tcp["protocol"].astype(str) == "TCP").all()


def test_erspan_types_one_two_three():
    """Type I (GRE 0x88BE without a sequence number), II (with one: an 8-byte header), III (0x22EB)."""
    for rel in (ZEEK + "erspanI.pcap", ZEEK + "erspanII.pcap", ZEEK + "erspanIII.pcap"):
        p = _packets(rel)
        assert (p["tunnel"].astype(str) == "ERSPAN").all() and (p["protocol"].astype(str) == "ICMP").all(), rel


def test_tunnel_inside_ip_fragments_is_decoded_at_the_completing_frame():
    """tshark 4.0.17: frame 1 is an IPv4 fragment (offset 0) of a GTP-U datagram, frame 2 completes it
    and shows the inner TCP segment (10.155.182.202:41511 -> 10.155.186.57:6005, 1,448 bytes), stream 0."""
    p = _packets(ZEEK + "tunnels__gtp__gtp_ext_header.pcap")
    assert p["stream"].tolist() == [-1, 0]
    row = p.iloc[1]
    assert (row["tunnel"], row["src"], row["sport"], row["dst"], row["dport"], row["payload_len"]) == (
        "GTP-U", "10.155.182.202", 41511, "10.155.186.57", 6005, 1448)
    assert (row["outer_src"], row["outer_dst"]) == ("10.155.148.149", "10.155.148.157")
