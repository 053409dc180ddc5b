"""The native pcap/pcapng reader: real captures, format variants, truncation, and fuzzing."""
from __future__ import annotations

import os
import struct
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from forensics.artifact import ArtifactWarning
from forensics.errors import ArtifactError
from forensics.network.load import load_capture
from forensics.network.pcap import read_capture

HERE = os.path.dirname(__file__)
DATA = os.path.abspath(os.path.join(HERE, "..", "..", "sample_data", "network"))


def sample(name):
    p = os.path.join(DATA, name)
    if not os.path.exists(p):
        pytest.skip(f"{name} not generated")
    return p


def _pcap_bytes(big=False, nano=False, link=1, packets=()):
    e = ">" if big else "<"
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = [struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, 65535, link)]
    for ts_s, ts_f, data in packets:
        out.append(struct.pack(e + "IIII", ts_s, ts_f, len(data), len(data)) + data)
    return b"".join(out)


def _tcp_frame(seq=1000, ack=0, flags=0x02, payload=b"", sport=1234, dport=80, v6=False):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 1000, 0, 0) + payload
    if v6:
        ip = struct.pack("!IHBB", 6 << 28, len(tcp), 6, 64) + bytes(15) + b"\x01" + bytes(15) + b"\x02"
        return bytes(12) + b"\x86\xdd" + ip + tcp
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0, bytes([10, 0, 0, 1]),
                     bytes([10, 0, 0, 2])) + tcp
    return bytes(12) + b"\x08\x00" + ip


def _write(tmp_path, data, name="x.pcap"):
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


def test_real_capture_frames_and_columns():
    cap = load_capture(sample("short_rst.pcap"))
    p = cap.packets
    assert p["frame"].tolist() == list(range(1, len(p) + 1))
    assert str(p["time"].dtype) == "datetime64[ns, UTC]"
    assert set(p["protocol"].astype(str)) == {"TCP"}
    assert (p["stream"] >= 0).all()
    syn = p[(p["flags"] & 0x12) == 0x02]
    assert (syn["mss"] > 0).all() and (syn["wscale"] >= 0).all() and syn["sack_perm"].all()
    assert p.attrs["provenance"]["sha256"] == cap.provenance.sha256
    assert cap.warnings == []


@pytest.mark.parametrize("name", ["bulk_loss.pcap", "truncated.pcap", "bulk_loss_receiver.pcapng"])
def test_provenance_hash_computed_while_reading(name):
    import hashlib

    from forensics.artifact import sha256_of
    from forensics.network.load import capture_summary

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArtifactWarning)
        cap = load_capture(sample(name))
    assert cap.provenance.sha256 == sha256_of(sample(name)) == hashlib.sha256(open(sample(name), "rb").read()).hexdigest()
    assert cap.packets.attrs["provenance"]["sha256"] == cap.provenance.sha256


def test_hash_covers_bytes_after_a_corrupt_record(tmp_path):
    import hashlib

    data = _pcap_bytes(packets=[(1, 0, _tcp_frame())]) + struct.pack("<IIII", 2, 0, 0x7FFFFFFF, 60) + bytes(5000)
    with pytest.warns(ArtifactWarning):
        cap = load_capture(_write(tmp_path, data))
    assert cap.provenance.sha256 == hashlib.sha256(data).hexdigest()


def test_truncated_capture_loads_every_complete_record():
    full = load_capture(sample("short_rst.pcap")).packets
    with pytest.warns(ArtifactWarning, match=r"byte [\d,]+: file ends inside record"):
        cap = load_capture(sample("truncated.pcap"))
    size = os.path.getsize(sample("truncated.pcap"))
    # every record that fits wholly in the cut file is there
    data = open(sample("short_rst.pcap"), "rb").read()
    pos, complete = 24, 0
    while pos + 16 <= size:
        incl = struct.unpack_from("<I", data, pos + 8)[0]
        if pos + 16 + incl > size:
            break
        complete += 1
        pos += 16 + incl
    assert len(cap.packets) == complete < len(full)
    assert f"byte {pos:,}" in cap.warnings[0]
    assert (cap.packets["seq"].to_numpy() == full["seq"].to_numpy()[:complete]).all()


@pytest.mark.parametrize("big", [False, True])
@pytest.mark.parametrize("nano", [False, True])
def test_pcap_byte_orders_and_resolutions(tmp_path, big, nano):
    frac = 123456789 if nano else 123456
    data = _pcap_bytes(big, nano, packets=[(1700000000, frac, _tcp_frame(payload=b"abc"))])
    cap = load_capture(_write(tmp_path, data))
    row = cap.packets.iloc[0]
    assert row["time"].value == 1700000000 * 10**9 + (frac if nano else frac * 1000)
    assert row["src"] == "10.0.0.1" and row["dst"] == "10.0.0.2" and row["dport"] == 80
    assert row["payload_len"] == 3 and row["seq"] == 1000


def test_ipv6_sll2_and_raw(tmp_path):
    f6 = _tcp_frame(v6=True, payload=b"hello")
    cap = load_capture(_write(tmp_path, _pcap_bytes(packets=[(1, 0, f6)])))
    assert cap.packets.iloc[0]["src"] == "::1" and cap.packets.iloc[0]["payload_len"] == 5
    raw = _tcp_frame()[14:]
    cap = load_capture(_write(tmp_path, _pcap_bytes(link=101, packets=[(1, 0, raw)]), "r.pcap"))
    assert cap.packets.iloc[0]["protocol"] == "TCP"
    sll2 = b"\x08\x00" + bytes(18) + raw
    cap = load_capture(_write(tmp_path, _pcap_bytes(link=276, packets=[(1, 0, sll2)]), "s.pcap"))
    assert cap.packets.iloc[0]["sport"] == 1234
    vlan = bytes(12) + b"\x81\x00\x00\x05" + _tcp_frame()[12:]
    cap = load_capture(_write(tmp_path, _pcap_bytes(packets=[(1, 0, vlan)]), "v.pcap"))
    assert cap.packets.iloc[0]["dport"] == 80


def test_snaplen_truncated_packets_keep_ip_lengths(tmp_path):
    frame = _tcp_frame(payload=b"x" * 1000)
    e = "<"
    data = struct.pack(e + "IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 96, 1)
    data += struct.pack(e + "IIII", 1, 0, 96, len(frame)) + frame[:96]
    cap = load_capture(_write(tmp_path, data))
    assert cap.packets.iloc[0]["payload_len"] == 1000 and cap.packets.iloc[0]["len"] == len(frame)


def test_pcapng_multiple_interfaces_and_tsresol(tmp_path):
    def block(t, body):
        body += bytes((-len(body)) % 4)
        return struct.pack("<II", t, len(body) + 12) + body + struct.pack("<I", len(body) + 12)

    shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    idb0 = block(1, struct.pack("<HHI", 1, 0, 0) + struct.pack("<HHB3x", 9, 1, 9) + struct.pack("<HH", 0, 0))
    idb1 = block(1, struct.pack("<HHI", 101, 0, 0))  # default microseconds
    fr = _tcp_frame(payload=b"zz")
    ts_ns = 1_700_000_000_123_456_789
    epb0 = block(6, struct.pack("<IIIII", 0, ts_ns >> 32, ts_ns & 0xFFFFFFFF, len(fr), len(fr)) + fr)
    ts_us = 1_700_000_001_000_001
    epb1 = block(6, struct.pack("<IIIII", 1, ts_us >> 32, ts_us & 0xFFFFFFFF, len(fr) - 14, len(fr) - 14) + fr[14:])
    spb = block(3, struct.pack("<I", len(fr)) + fr)
    p = _write(tmp_path, shb + idb0 + idb1 + epb0 + epb1 + spb, "x.pcapng")
    cap = load_capture(p)
    t = cap.packets["time"].astype("int64").tolist()
    assert t[:2] == [ts_ns, ts_us * 1000]
    assert len(cap.packets) == 3 and (cap.packets["payload_len"] == 2).all()
    assert cap.linktypes == [1, 101]


def test_real_pcapng_matches_tshark_frame_count():
    p = sample("bulk_loss_receiver.pcapng")
    cap = load_capture(p)
    n = sum(1 for _ in open(os.path.splitext(p)[0] + ".tshark.csv")) - 1
    assert len(cap.packets) == n


def test_real_link_types():
    """tcpdump -i any writes Linux cooked captures: SLL2 by default, SLL v1 with -y LINUX_SLL."""
    assert load_capture(sample("slow_reader.pcap")).linktypes == [276]
    assert load_capture(sample("short_sll.pcap")).linktypes == [113]
    assert load_capture(sample("bulk_loss.pcap")).linktypes == [1]
    assert load_capture(sample("bulk_loss_receiver.pcapng")).provenance.format == "pcapng"


def test_bsd_loopback_both_byte_orders(tmp_path):
    raw = _tcp_frame()[14:]
    for fam in (struct.pack("<I", 2), struct.pack(">I", 2)):
        cap = load_capture(_write(tmp_path, _pcap_bytes(link=0, packets=[(1, 0, fam + raw)]), "n.pcap"))
        assert cap.packets.iloc[0]["dport"] == 80


def test_not_a_capture_refused_unknown_linktype_loads(tmp_path):
    with pytest.raises(ArtifactError, match="not a"):
        load_capture(_write(tmp_path, b"hello world, not a capture\n", "t.pcap"))
    # an unknown link type is not a refusal: packets load with an undecoded network layer
    cap = load_capture(_write(tmp_path, _pcap_bytes(link=147, packets=[(1, 0, _tcp_frame())]), "u.pcap"))
    assert len(cap.packets) == 1 and cap.packets["ip_version"].tolist() == [0]
    assert cap.packets["link_type"].astype(str).tolist() == ["USER0"]
    with pytest.raises(ArtifactError):
        load_capture(_write(tmp_path, b"\xd4\xc3\xb2\xa1\x02\x00", "h.pcap"))


def test_corrupt_record_length_warns(tmp_path):
    # three good records first: Wireshark guesses a pcap's record-header variant from the first three
    # (with the bad one among them it takes the least wrong variant, as test_fresh_wild checks)
    data = _pcap_bytes(packets=[(1, 0, _tcp_frame())] * 3) + struct.pack("<IIII", 2, 0, 0x7FFFFFFF, 60) + bytes(60)
    with pytest.warns(ArtifactWarning, match="claims"):
        cap = load_capture(_write(tmp_path, data))
    assert len(cap.packets) == 3


# ------------------------------------------------------------------ fuzzing: only ArtifactError escapes

_SEED = None


def _seed_bytes():
    global _SEED
    if _SEED is None:
        p = os.path.join(DATA, "short_rst.pcap")
        base = open(p, "rb").read()[:3000] if os.path.exists(p) else _pcap_bytes(packets=[(1, 0, _tcp_frame())] * 5)
        _SEED = base
    return _SEED


def _load_quietly(tmp_path, data, name):
    p = _write(tmp_path, data, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArtifactWarning)
        try:
            load_capture(p)
        except ArtifactError:
            pass


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400))
def test_fuzz_random_bytes(tmp_path, data):
    for prefix in (b"", b"\xd4\xc3\xb2\xa1", b"\x0a\x0d\x0d\x0a"):
        _load_quietly(tmp_path, prefix + data, "f.pcap")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 2999), st.integers(0, 255)), min_size=1, max_size=20),
       st.integers(24, 3000))
def test_fuzz_mutated_capture(tmp_path, edits, cut):
    data = bytearray(_seed_bytes())
    for pos, val in edits:
        if pos < len(data):
            data[pos] = val
    _load_quietly(tmp_path, bytes(data[:cut]), "m.pcap")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), min_size=1, max_size=12),
       st.integers(28, 400))
def test_fuzz_mutated_pcapng(tmp_path, edits, cut):
    p = os.path.join(DATA, "bulk_loss_receiver.pcapng")
    if not os.path.exists(p):
        pytest.skip("pcapng sample not generated")
    data = bytearray(open(p, "rb").read()[:400])
    for pos, val in edits:
        if pos < len(data):
            data[pos] = val
    _load_quietly(tmp_path, bytes(data[:cut]), "m.pcapng")


def test_memory_mapped_read_equals_buffered(monkeypatch):
    """Big captures are memory-mapped: the same packets, warnings and SHA-256 as the buffered read."""
    import forensics.network.pcap as pcap
    from forensics.artifact import sha256_of

    for name in ("bulk_loss_receiver.pcapng", "truncated.pcap", "slow_reader.pcap"):
        path = os.path.join(DATA, name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ArtifactWarning)
            monkeypatch.setattr(pcap, "MMAP_FROM", 1 << 40)
            a = load_capture(path)
            monkeypatch.setattr(pcap, "MMAP_FROM", 0)
            monkeypatch.setattr(pcap, "CHUNK", 4096)  # many windows, records across their edges
            b = load_capture(path)
        assert a.packets.equals(b.packets), name
        assert a.provenance.warnings == b.provenance.warnings, name
        assert b.provenance.sha256 == a.provenance.sha256 == sha256_of(path), name


def test_stale_walker_cache_is_dropped(tmp_path):
    """numba keys a cache on its own file's contents; the walkers embed decode.py and linklayer.py."""
    import importlib.util
    import shutil

    src = os.path.join(HERE, "..", "..", "forensics", "network")
    for f in ("numba_cache.py", "linklayer.py", "sflow.py", "decode.py", "pcap.py"):
        shutil.copy(os.path.join(src, f), tmp_path / f)
    (tmp_path / "__pycache__").mkdir()
    spec = importlib.util.spec_from_file_location("nc_copy", tmp_path / "numba_cache.py")
    nc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(nc)
    stale = tmp_path / "__pycache__" / "pcap.walk_pcap-68.py311.nbi"
    stale.write_bytes(b"old")
    assert nc.drop_stale_cache() and not stale.exists()
    stale.write_bytes(b"fresh")
    assert not nc.drop_stale_cache() and stale.exists()  # same sources: kept
    with open(tmp_path / "linklayer.py", "a") as fh:
        fh.write("\n# changed\n")
    assert nc.drop_stale_cache() and not stale.exists()
