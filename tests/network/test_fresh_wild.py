"""Cases found by measuring on fresh captures (Suricata's verification suite, gopacket's pcapng tests).

Each was a disagreement with tshark on captures the rules had never seen (docs/network.md, "On fresh
captures"); each is fixed by a rule that follows Wireshark, and named here on the capture that showed it.
The corpus-wide tests of ``test_wild.py`` compare these files with tshark's labels frame by frame as well.
"""
from __future__ import annotations

import os
import warnings

import pytest

from forensics.artifact import ArtifactWarning
from forensics.errors import ArtifactError
from forensics.network.compare import read_tshark_labels
from forensics.network.load import capture_summary, load_capture
from support import missing_wild_reason, wild_file

WILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wild")
SURICATA = "OISF+suricata-verify/"
GOPACKET = "google+gopacket/"
TINY_FRAGMENTS = SURICATA + "tests__defrag__bug-6887-defrag-ppp-ipv4-tcp-syn__frag-ppp-ip-tcp-syn.pcap"
ETAG = SURICATA + "tests__decode-etag-02__input.pcap"
VNTAG = SURICATA + "tests__decode-vntag-01__input.pcap"
CUSTOM_BLOCKS = GOPACKET + "pcapgo__tests__le__test018.pcapng"
ONLY_CUSTOM_BLOCKS_BE = GOPACKET + "pcapgo__tests__be__test017.pcapng"
SHB_VERSION_2 = GOPACKET + "pcapgo__tests__le__test901.pcapng"


def _path(rel) -> str:
    p = wild_file("network", rel)
    if p is None:
        pytest.skip(missing_wild_reason("network", 1, 1))
    return str(p)


def _load(rel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArtifactWarning)
        return load_capture(_path(rel))


def _tshark(rel):
    return read_tshark_labels(os.path.join(WILD, rel + ".tshark.csv.gz"))


def test_tiny_first_fragment_is_decoded_from_the_reassembled_datagram():
    """A TCP SYN sent as three 8-byte IPv4 fragments (over PPP): the first fragment holds only the
    ports and sequence number, so the TCP header is read from the whole datagram, as Wireshark does."""
    p = _load(TINY_FRAGMENTS).packets
    assert p["stream"].tolist() == [-1, -1, 0] == _tshark(TINY_FRAGMENTS)["stream"].tolist()
    syn = p.iloc[2]
    assert (syn["sport"], syn["dport"], syn["flags"], syn["payload_len"]) == (12345, 8080, 0x02, 0)


def test_ethernet_e_tag_and_vn_tag_are_followed():
    p = _load(ETAG).packets  # 802.1BR E-Tag, then IPv4/TCP
    assert p["stream"].tolist() == [0] == _tshark(ETAG)["stream"].tolist()
    assert p.iloc[0]["sport"] == 25
    p = _load(VNTAG).packets  # VN-Tag, then an 802.1Q tag, then IPv4
    assert (p["ip_version"] == 4).all() and set(p["src"].astype(str)) == {"1.1.1.1"}


def test_pcapng_custom_blocks_are_frames_as_in_wireshark():
    """Custom Blocks take a frame number (Wireshark lists them as "PCAPNG Custom Block" frames), so the
    packets after them keep tshark's frame numbers; they have no network layer and are counted per kind."""
    cap = _load(CUSTOM_BLOCKS)
    p = cap.packets
    assert len(p) == len(_tshark(CUSTOM_BLOCKS)) == 8
    custom = p[p["link_type"].astype(str) == "pcapng custom block"]
    assert custom["frame"].tolist() == [1, 4, 6, 8] and custom["len"].tolist() == [24, 60, 36, 32]
    assert (custom["ip_version"] == 0).all() and (p.loc[~p.index.isin(custom.index), "ip_version"] == 4).all()
    out = capture_summary(_path(CUSTOM_BLOCKS))  # the streaming reader numbers them the same way
    assert out["packets"] == 8 and out["undecoded_network_layer"] == {"pcapng custom block": 4}
    assert len(_load(ONLY_CUSTOM_BLOCKS_BE).packets) == len(_tshark(ONLY_CUSTOM_BLOCKS_BE)) == 4


def test_pcapng_section_of_an_unknown_version_stops_the_read_with_a_located_warning():
    """Wireshark reads section headers of version 1.0 and 1.2 and stops at any other ("unknown SHB
    version 2.0"): what came before loads, with a warning saying where; a first section of an unknown
    version is not read at all."""
    with pytest.warns(ArtifactWarning, match=r"byte 480: pcapng section header version 2\.0 is unknown"):
        cap = load_capture(_path(SHB_VERSION_2))
    assert len(cap.packets) == len(_tshark(SHB_VERSION_2)) == 1
    assert open(os.path.join(WILD, SHB_VERSION_2 + ".tshark.err")).read().startswith("read: ")


def test_first_section_of_an_unknown_version_is_an_artifact_error(tmp_path):
    data = bytearray(open(_path(CUSTOM_BLOCKS), "rb").read())
    data[12:16] = (1).to_bytes(2, "little") + (1).to_bytes(2, "little")  # version 1.1: tshark refuses it
    bad = tmp_path / "v11.pcapng"
    bad.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match=r"byte 12: pcapng section header version 1\.1 is unknown"):
        load_capture(str(bad))
    data[14:16] = (2).to_bytes(2, "little")  # 1.2, which Wireshark accepts
    bad.write_bytes(bytes(data))
    assert len(load_capture(str(bad)).packets) == 8


SOCKS4 = "arkime+arkime/tests__pcap__socks-http-example.pcap"
SOCKS5_AUTH = "arkime+arkime/tests__pcap__socks-http-pass.pcap"


@pytest.mark.parametrize("rel", [SOCKS4, SOCKS5_AUTH])
def test_socks_proxied_conversation_takes_a_stream_number_as_in_wireshark(rel):
    """Wireshark's SOCKS dissector (TCP 1080) opens a TCP conversation for the proxied port at the first
    payload after the handshake: a stream number no frame shows, so tshark numbers SOCKS connections
    0, 2, 4 … ; ours equal tshark's frame by frame, and the capture counts the proxied conversations."""
    cap = _load(rel)
    theirs = _tshark(rel)
    assert cap.packets["stream"].tolist() == theirs["stream"].tolist()
    shown = set(theirs["stream"][theirs["stream"] >= 0])
    assert len(cap.irtt) > len(shown)  # the proxied conversations are counted, without rows
    if rel == SOCKS4:
        assert sorted(shown) == [0, 2, 4]
    out = capture_summary(_path(rel))  # pcap summary counts them as load_capture does
    assert out["tcp_streams"] == len(cap.irtt)


FUZZED_VARIANT = SURICATA + "tests__bug-6875-01__fuzz.pcap"


def test_pcap_record_header_variant_is_guessed_as_wireshark_does(tmp_path):
    """The standard pcap magic is shared by variants with longer record headers (Red Hat 6.1's ss990417,
    Nokia): Wireshark reads the first three records each way and keeps the first that looks right, else
    the least wrong. This fuzzed capture reads right only with ss990417 headers: 2 frames, as tshark
    shows them, then the read stops at a record claiming 16 MB, with a warning saying where."""
    with pytest.warns(ArtifactWarning, match=r"byte 261: record 3 claims 16,711,424 captured bytes"):
        cap = load_capture(_path(FUZZED_VARIANT))
    p = cap.packets
    assert len(p) == len(_tshark(FUZZED_VARIANT)) == 2 and p["len"].tolist() == [188, 1048576]
    assert (p["stream"] == -1).all()  # no TCP in either, as in tshark
    from forensics.network.pcap import read_capture

    assert read_capture(_path(FUZZED_VARIANT)).format == "pcap (ss990417 record headers)"
    # the same records under a magic of another version: before 2.3 the two lengths were the other way round
    data = bytearray(open(_path(FUZZED_VARIANT), "rb").read())
    data[4:8] = (2).to_bytes(2, "little") + (1).to_bytes(2, "little")
    old = tmp_path / "v21.pcap"
    old.write_bytes(bytes(data))
    with pytest.warns(ArtifactWarning, match="byte 293: file ends inside record 5"):  # tshark: "cut short"
        p = load_capture(str(old)).packets
    assert p["len"].tolist() == [188, 4211277, 14, 262144] and p["caplen"].tolist() == [188, 1, 0, 0]  # = tshark's
    assert read_capture(str(old)).format == "pcap (Nokia record headers)"
    data[4:6] = (1).to_bytes(2, "little")  # pcap 1.x: Wireshark refuses it
    old.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="pcap major version 1 is unsupported"):
        load_capture(str(old))


FABRICPATH = "zeek+zeek/testing__btest__Traces__cisco-fabric-path.pcap"
SEQ_2_31 = "zeek+zeek/testing__btest__Traces__modbus__fuzz-72.pcap"


def test_cisco_fabricpath_inner_frame_ends_before_its_fcs():
    """Wireshark's FabricPath dissector (EtherType 0x8903) takes the last 4 bytes as the inner frame's FCS:
    a full-size datagram inside is cut, so its TCP header is short: a stream, but no analysis (the copy
    of each plain SYN is not a retransmission)."""
    p = _load(FABRICPATH).packets
    theirs = _tshark(FABRICPATH)
    assert p["stream"].tolist() == theirs["stream"].tolist()
    fp = p[(p["frame"] >= 33) & (p["frame"] <= 38)]
    assert fp["stream"].tolist() == [0, 0, 1, 1, 2, 2]
    assert not p["retransmission"].any() and not theirs["retransmission"].any()


def test_sequence_exactly_2_31_ahead_is_after_as_in_wireshark():
    """GT_SEQ is ``(gint32)(b - a) < 0``: a sequence number exactly 2^31 beyond the next expected one is
    *after* it, so the segment is a lost-segment case (frame 30 of a fuzzed Modbus capture)."""
    p = _load(SEQ_2_31).packets
    theirs = _tshark(SEQ_2_31)
    assert bool(p.loc[p["frame"] == 30, "lost_segment"].iloc[0]) and bool(theirs.loc[theirs["frame"] == 30,
                                                                                     "lost_segment"].iloc[0])
    assert p["lost_segment"].tolist() == theirs["lost_segment"].astype(bool).tolist()


NSH = SURICATA + "tests__decode-nsh-type2__input.pcap"
PBB = "zeek+zeek/testing__btest__Traces__pbb-recursive-frames.pcapng"
SYNTHETIC = "arkime+arkime/tests__pcap__arkime_synthetic.pcap"


def test_nsh_cisco_metadata_and_pbb_carry_ip():
    """Headers Wireshark follows inside Ethernet to the IP it shows (addresses as tshark prints them)."""
    p = _load(NSH).packets  # NSH, MD type 2, next protocol IPv4
    assert (p.iloc[0]["ip_version"], str(p.iloc[0]["src"]), str(p.iloc[0]["dst"])) == (4, "10.0.0.1", "10.0.0.2")
    p = _load(PBB).packets  # 802.1ah nested, then IPv4
    assert (p.iloc[0]["ip_version"], str(p.iloc[0]["src"])) == (4, "192.0.2.1")
    p = _load(SYNTHETIC).packets.set_index("frame")  # 307: NSH MD type 1; 315: Cisco MetaData
    for frame in (307, 315):
        assert (p.loc[frame, "ip_version"], str(p.loc[frame, "src"]), str(p.loc[frame, "protocol"])) == \
            (4, "192.168.10.1", "ICMP")
