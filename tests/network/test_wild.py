"""Captures from the wild: other people's captures against tshark's labels, frame by frame.

``tests/network/wild/`` lists ~400 captures (third-party files: not committed, restored by
``tools/wild_corpus.py``; the tests skip, saying so, without them) from tcpdump's test suite, PcapPlusPlus's tests and
Chris Sanders' ``packets`` repository (SOURCES.tsv: repository, commit, path, licence, size,
SHA-256), chosen for link types, tunnels, fragments, mid-stream starts, snaplen cuts, pcapng with
several interfaces, nanosecond and big-endian files. Beside each, ``FILE.tshark.csv.gz`` is tshark
4.0.17's per-frame labels (default preferences, empty profile), or ``FILE.tshark.err`` where tshark
refuses the file (FILE is the capture's whole name); ``sample_data/generate/network/wild_corpus.py`` rebuilds both.
"""
from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import subprocess
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensics.artifact import ArtifactWarning
from forensics.errors import ArtifactError
from forensics.network.compare import COMPARED, read_tshark_labels
from forensics.network.load import capture_summary, load_capture
from support import missing_wild_reason, require_wild, wild_file

WILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wild")
if not os.path.exists(os.path.join(WILD, "SOURCES.tsv")):
    pytest.skip("the wild corpus is not here (sample_data/generate/network/wild_corpus.py makes it)",
                allow_module_level=True)
with open(os.path.join(WILD, "SOURCES.tsv")) as _fh:
    SOURCES = list(csv.DictReader(_fh, delimiter="\t"))


def _path(rel):
    """Where the capture is on this machine (third-party files are not committed), or None."""
    p = wild_file("network", rel)
    return str(p) if p else None


def _labels(rel):
    """Our labels of capture ``rel`` (committed beside the list): (csv path or None, tshark's error)."""
    base = os.path.join(WILD, rel)
    csv_path, err_path = base + ".tshark.csv.gz", base + ".tshark.err"
    err = open(err_path).read().strip() if os.path.exists(err_path) else ""
    return (csv_path if os.path.exists(csv_path) else None), err


def _load(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArtifactWarning)
        return load_capture(path)


@pytest.fixture(scope="module")
def corpus():
    """Every wild capture loaded once: {file: (capture or ArtifactError, tshark labels or None, tshark's error)}."""
    paths = require_wild("network", [r["file"] for r in SOURCES])
    out = {}
    for row in SOURCES:
        path = str(paths[row["file"]])
        labels, err = _labels(row["file"])
        try:
            got = _load(path)
        except ArtifactError as e:
            got = e
        out[row["file"]] = (got, read_tshark_labels(labels) if labels else None, err)
    return out


def test_sources_are_intact_and_credited():
    assert len(SOURCES) >= 300
    paths = require_wild("network", [r["file"] for r in SOURCES])
    for row in SOURCES:
        with open(paths[row["file"]], "rb") as fh:
            data = fh.read()
        assert len(data) == int(row["bytes"]) and hashlib.sha256(data).hexdigest() == row["sha256"], row["file"]
        assert row["repo"] and len(row["commit"]) == 40 and row["licence"]
    with open(os.path.join(WILD, "MANIFEST.tsv")) as fh:  # BSD: the notice is listed and restored with them
        listed = {r["file"] for r in csv.DictReader(fh, delimiter="\t")}
    assert "the-tcpdump-group+tcpdump/LICENSE" in listed and {r["file"] for r in SOURCES} <= listed
    total = sum(int(r["bytes"]) for r in SOURCES)
    assert total < 6_000_000, f"the wild corpus should stay small ({total:,} bytes)"


def test_every_file_tshark_reads_loads(corpus):
    refused = {f: str(got) for f, (got, labels, _) in corpus.items() if labels is not None
               and isinstance(got, ArtifactError)}
    assert not refused, refused
    for f, (got, labels, err) in corpus.items():
        if labels is None:  # tshark refuses it too: ours is a one-line ArtifactError, or a load
            assert err.startswith("refused"), f
            assert not isinstance(got, ArtifactError) or "\n" not in str(got), f


def test_frames_and_streams_equal_tshark(corpus):
    bad = []
    for f, (got, labels, _) in corpus.items():
        if labels is None or isinstance(got, ArtifactError):
            continue
        p = got.packets
        if len(p) != len(labels):
            bad.append(f"{f}: {len(p)} frames, tshark {len(labels)}")
            continue
        ours, theirs = p["stream"].to_numpy(), labels["stream"].to_numpy()
        ours_n, theirs_n = len(np.unique(ours[ours >= 0])), len(np.unique(theirs[theirs >= 0]))
        if ours_n != theirs_n or not np.array_equal(ours, theirs):
            bad.append(f"{f}: {ours_n} streams, tshark {theirs_n}")
    assert not bad, "\n".join(bad)


def test_every_flag_f1_across_the_corpus(corpus):
    counts = {f: [0, 0, 0] for f in COMPARED}  # ours, tshark, both
    for f, (got, labels, _) in corpus.items():
        if labels is None or isinstance(got, ArtifactError):
            continue
        p = got.packets
        for flag in COMPARED:
            a, b = p[flag].to_numpy().astype(bool), labels[flag].to_numpy().astype(bool)
            counts[flag][0] += int(a.sum())
            counts[flag][1] += int(b.sum())
            counts[flag][2] += int((a & b).sum())
    report = {}
    for flag, (o, t, both) in counts.items():
        prec = both / o if o else 1.0
        rec = both / t if t else 1.0
        report[flag] = (o, t, round(2 * prec * rec / (prec + rec), 4) if prec + rec else 0.0)
    low = {k: v for k, v in report.items() if v[2] < 0.99}
    assert not low, low
    # the corpus exercises the common flags (it would prove little otherwise)
    for flag in ("retransmission", "lost_segment", "ack_lost_segment", "duplicate_ack", "window_update",
                 "keep_alive", "reset", "spurious_retransmission", "zero_window"):
        assert report[flag][1] > 0, flag


def _cap(name):
    for row in SOURCES:
        if row["file"].endswith(name):
            path = _path(row["file"])
            if path is None:
                pytest.skip(missing_wild_reason("network", 1, 1))
            return _load(path)
    raise AssertionError(f"{name} is not in the wild corpus")


TUNNELS = {  # file -> tunnel kind whose inner TCP is its own stream, with the outer endpoints kept
    "geneve.pcap": "Geneve",
    "__gso-ipv4-vxlan-ipv4.pcap": "VXLAN",
    "GrePackets.pcap": "GRE",
    "wccp_redirect_gre.pcap": "WCCP",
    "IPv4-encapsulated-IPv6.pcap": "6in4",
    "PacketExamples__gtp.pcap": "GTP-U",
    "tests__sflow_expanded.pcap": "sFlow",  # more sFlow cases in test_sflow.py
}


@pytest.mark.parametrize("name,kind", sorted(TUNNELS.items()))
def test_tunnelled_tcp_is_its_own_stream(name, kind):
    p = _cap(name).packets
    inner = p[(p["stream"] >= 0) & (p["tunnel"].astype(str) == kind)]
    assert len(inner), f"{name}: no TCP inside {kind}"
    assert inner["outer_src"].notna().all() and inner["outer_dst"].notna().all()
    assert (inner["outer_src"].astype(str) != inner["src"].astype(str)).all()


LINK_TYPES = {  # file -> the link type's name; each carries IP we decode
    "NullLoopback.pcap": "BSD loopback (NULL)",
    "CiscoHDLC.pcap": "Cisco HDLC",
    "nflog.pcap": "Linux NFLOG",
    "ipoib.pcap": "IP over InfiniBand",
    "e1000g.pcap": "Solaris IPNET",
    "LINKTYPE_PKTAP.pcap": "Apple PKTAP",
}


@pytest.mark.parametrize("name,link", sorted(LINK_TYPES.items()))
def test_link_types_decode_ip(name, link):
    p = _cap(name).packets
    assert (p["link_type"].astype(str) == link).all()
    assert (p["ip_version"] > 0).any(), f"{name}: no IP decoded"


def test_tcp_inside_mpls_is_decoded():
    p = _cap("MplsPackets.pcap").packets
    assert (p["stream"] >= 0).any()


def test_unknown_link_type_loads_undecoded_and_is_counted():
    for row in SOURCES:
        if row["file"].endswith("unsupported-link-type-160.pcap"):
            if _path(row["file"]) is None:
                pytest.skip(missing_wild_reason("network", 1, 1))
            out = capture_summary(_path(row["file"]))
            assert out["packets"] > 0 and out["undecoded_network_layer"] == {"USER13": out["packets"]}
            return
    pytest.skip("no unknown link type in the corpus")


def test_live_tshark_agrees_with_committed_labels_and_with_us():
    """When tshark is installed, re-run it on every 8th capture: its labels are the committed ones
    (they are reproducible), and ours equal them frame by frame."""
    if not shutil.which("tshark"):
        pytest.skip("tshark not installed")
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(WILD), "..", "..", "sample_data", "generate", "network"))
    from generate import TSHARK_FIELDS

    home = os.path.join(os.path.dirname(WILD), ".tshark-home-unused")
    env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=home)
    checked = 0
    paths = require_wild("network", [r["file"] for r in SOURCES[::8]])
    for row in SOURCES[::8]:
        path = str(paths[row["file"]])
        labels, _ = _labels(row["file"])
        if labels is None:
            continue
        cmd = ["tshark", "-n", "-r", path, "-T", "fields", "-E", "header=y", "-E", "separator=,", "-E",
               "occurrence=f"]
        for f in TSHARK_FIELDS:
            cmd += ["-e", f]
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        live = read_tshark_labels(io.StringIO(r.stdout))
        committed = read_tshark_labels(labels)
        assert live[["frame", "stream"] + COMPARED].equals(committed[["frame", "stream"] + COMPARED]), row["file"]
        ours = _load(path).packets
        assert (ours["stream"].to_numpy() == live["stream"].to_numpy()).all(), row["file"]
        checked += 1
    assert checked >= 30


# A few wild captures of different shapes, mutated: only ArtifactError or a located warning may come out.
_SEEDS = ["geneve.pcap", "tcp_retransmissions.pcapng", "GrePackets.pcap", "nflog.pcap", "IPv4Frag.pcap",
          "pcapng-example.pcapng.zst"]


def _seed_bytes():
    out = []
    for name in _SEEDS:
        for row in SOURCES:
            if row["file"].endswith(name):
                if _path(row["file"]):
                    with open(_path(row["file"]), "rb") as fh:
                        out.append(fh.read())
                break
    return out


_SEED_DATA = _seed_bytes()


@pytest.mark.skipif(len(_SEED_DATA) < len(_SEEDS), reason=missing_wild_reason("network", len(_SEEDS) - len(_SEED_DATA),
                                                                             len(_SEEDS)))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(k=st.integers(0, max(len(_SEED_DATA) - 1, 0)), cuts=st.lists(st.tuples(st.integers(0, 1 << 20),
       st.integers(0, 255)), min_size=1, max_size=8), trunc=st.integers(0, 1 << 20))
def test_mutated_wild_captures_give_only_artifact_errors_or_warnings(tmp_path_factory, k, cuts, trunc):
    data = bytearray(_SEED_DATA[k])
    for pos, val in cuts:
        data[pos % len(data)] = val
    if trunc % 3 == 0:
        data = data[: max(1, trunc % len(data))]
    assert_only_located_failures(bytes(data), tmp_path_factory.mktemp("mut"))


def assert_only_located_failures(data: bytes, folder) -> None:
    """Both readers on ``data``: a one-line ArtifactError or warnings that say where, nothing else."""
    path = os.path.join(folder, "m.bin")
    with open(path, "wb") as fh:
        fh.write(data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for fn in (load_capture, capture_summary):
            try:
                fn(path)
            except ArtifactError as e:
                assert "\n" not in str(e)
    for w in caught:  # every warning says where
        if issubclass(w.category, ArtifactWarning):
            assert ":" in str(w.message)


def test_pcapng_with_interfaces_of_different_link_types():
    cap = _cap("file_heuristics__pcapng-example.pcapng.zst")  # zstd-compressed, two interfaces
    assert set(cap.packets["link_type"].astype(str)) == {"Ethernet", "Linux cooked (SLL)"}
    assert (cap.packets["ip_version"] > 0).mean() > 0.9


@pytest.mark.skipif(not shutil.which("tshark"), reason="tshark not installed")
@pytest.mark.parametrize("name", ["file_heuristics__nanosecs.pcap", "bulk_loss_receiver.pcapng",
                                  "tests__nflog.pcap", "PacketExamples__Sll2Packet.pcap"])
def test_timestamps_equal_tshark(name):
    """Nanosecond pcap, pcapng interfaces with their own resolution: frame times to the nanosecond."""
    # (bulk_loss_receiver.pcapng: dumpcap's nanosecond pcapng, from sample_data)
    rel = next((r["file"] for r in SOURCES if r["file"].endswith(name)), None)
    path = _path(rel) if rel else os.path.join(WILD, "..", "..", "..", "sample_data", "network", name)
    if path is None:
        pytest.skip(missing_wild_reason("network", 1, 1))
    r = subprocess.run(["tshark", "-n", "-r", path, "-T", "fields", "-e", "frame.time_epoch"], capture_output=True,
                       text=True, check=True)
    theirs = [int(s.replace(".", "")) * 10 ** (9 - len(s.split(".")[1])) for s in r.stdout.split()]
    ours = _load(path).packets["time"].astype("int64").tolist()
    assert ours == theirs
