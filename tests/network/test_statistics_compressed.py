"""Compressed captures, Expert Info, Conversations and Endpoints (against tshark when installed)."""
from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
import warnings

import pytest

import forensics
from forensics.artifact import ArtifactWarning
from forensics.network import statistics
from forensics.network.load import capture_summary, load_capture

DATA = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "sample_data", "network"))


def _compress(kind, data):
    if kind == "gz":
        return gzip.compress(data, mtime=0)
    if kind == "zst":
        import zstandard

        return zstandard.ZstdCompressor().compress(data)
    import lz4.frame

    return lz4.frame.compress(data)


@pytest.mark.parametrize("kind", ["gz", "zst", "lz4"])
@pytest.mark.parametrize("name", ["short_rst.pcap", "bulk_loss_receiver.pcapng"])
def test_compressed_captures_load_as_the_plain_ones(tmp_path, kind, name):
    plain = os.path.join(DATA, name)
    with open(plain, "rb") as fh:
        data = fh.read()
    path = tmp_path / f"capture.bin"  # the content decides, not the name
    path.write_bytes(_compress(kind, data))
    assert forensics.detect(str(path)) == ("pcapng" if name.endswith("ng") else "pcap")
    a, b = load_capture(plain), load_capture(str(path))
    assert a.packets.drop(columns="time").equals(b.packets.drop(columns="time")) and (a.packets["time"] == b.packets["time"]).all()
    assert b.provenance.details["container"].endswith(f"({ {'gz': 'gzip', 'zst': 'zstd', 'lz4': 'lz4'}[kind]})")
    import hashlib

    assert b.provenance.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()  # the evidence as it is
    assert capture_summary(str(path))["retransmission"] == int(a.packets["retransmission"].sum())


def test_compressed_capture_cut_short_loads_what_is_there(tmp_path):
    with open(os.path.join(DATA, "bulk_loss.pcap"), "rb") as fh:
        z = gzip.compress(fh.read(), mtime=0)
    path = tmp_path / "cut.pcap.gz"
    path.write_bytes(z[: len(z) // 2])
    with pytest.warns(ArtifactWarning, match="gzip stream is cut short"):
        cap = load_capture(str(path))
    assert 100 < len(cap.packets) < 3030


def _load(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArtifactWarning)
        return load_capture(os.path.join(DATA, name))


def test_expert_info_groups_by_severity():
    cap = _load("truncated.pcap")
    e = statistics.expert_info(cap)
    assert e["severity"].iloc[0] == "Error" and "truncated" in e["summary"].iloc[0]
    resets = e[e["summary"] == "Connection reset (RST)"].iloc[0]
    assert resets["severity"] == "Warning" and resets["count"] == int(cap.packets["reset"].sum())
    assert list(e["severity"].cat.categories) == ["Error", "Warning", "Note", "Chat"]
    assert e["severity"].is_monotonic_increasing


def _tshark_conv(path, what):
    r = subprocess.run(["tshark", "-n", "-q", "-r", path, "-z", what], capture_output=True, text=True, check=True)
    return r.stdout


@pytest.mark.skipif(not shutil.which("tshark"), reason="tshark not installed")
@pytest.mark.parametrize("name", ["short_rst.pcap", "reqresp_reorder.pcap", "bulk_loss.pcap"])
def test_conversations_and_endpoints_match_tshark(name):
    path = os.path.join(DATA, name)
    p = _load(name).packets
    ours = statistics.conversations(p, "tcp")
    # tshark -z conv,tcp rows: "A:port <-> B:port  frames bytes  frames bytes  frames bytes  start  duration"
    theirs = []
    for line in _tshark_conv(path, "conv,tcp").splitlines():
        m = re.match(r"^\s*(\S+)\s+<->\s+(\S+)\s+(\d+)\s+([\d,]+) \w+\s+(\d+)\s+([\d,]+) \w+\s+(\d+)\s+([\d,]+) \w+", line)
        if m:
            theirs.append((int(m.group(7)), int(m.group(5)) + int(m.group(3))))
    # packets per conversation (tshark prints bytes with k/M units beyond 10 kB, so packets are compared)
    assert sorted(theirs) == sorted(zip(ours["packets"].tolist(), ours["packets"].tolist()))
    ep = statistics.endpoints(p, "ip")
    theirs = {}
    for line in _tshark_conv(path, "endpoints,ip" if p["ip_version"].max() == 4 else "endpoints,ipv6").splitlines():
        m = re.match(r"^(\S+)\s+(\d+)\s", line)
        if m and (":" in m.group(1) or "." in m.group(1)):
            theirs[m.group(1)] = int(m.group(2))
    ours_ep = {r.address: r.packets for r in ep.itertuples()}
    assert ours_ep == theirs
