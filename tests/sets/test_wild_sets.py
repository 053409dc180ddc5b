"""Wild captures (fragments, tunnels; committed by the network kind's corpus) rotated into sets:
the same packets table as the mergecap-merged file, in one process and in two."""
from __future__ import annotations

import shutil
import subprocess
import warnings

import pandas as pd
import pytest

from forensics.network.load import load_capture
from forensics.sets.captures import load_capture_set
from support import wild_file

PICKS = [  # IPv4 and IPv6 fragments out of order and with reused IP ids; GRE and VXLAN tunnels
    "seladb+PcapPlusPlus/Tests__Pcap++Test__PcapExamples__ip4_fragments.pcap",
    "seladb+PcapPlusPlus/Tests__Pcap++Test__PcapExamples__ip6_fragments.pcap",
    "chrissanders+packets/ipv6_fragments.pcapng",
    "seladb+PcapPlusPlus/Tests__Packet++Test__PacketExamples__GrePackets.pcap",
    "seladb+PcapPlusPlus/Tests__Packet++Test__PacketExamples__Vxlan1.pcap",
]


@pytest.mark.skipif(shutil.which("editcap") is None or shutil.which("mergecap") is None,
                    reason="editcap/mergecap (Wireshark's) not installed")
@pytest.mark.parametrize("name", PICKS)
def test_wild_capture_rotated_is_the_merged_file(name, tmp_path):
    src = wild_file("network", name)   # listed in tests/network/wild/MANIFEST.tsv, kept out of git
    if src is None:
        pytest.skip(f"wild corpus file not present (tools/wild_corpus.py restore): {name}")
    subprocess.run(["editcap", "-c", "5", str(src), str(tmp_path / "p.pcapng")], check=True, capture_output=True)
    parts = sorted(tmp_path.glob("p_*"))
    subprocess.run(["mergecap", "-w", str(tmp_path / "m.pcapng"), *map(str, parts)], check=True, capture_output=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = load_capture(tmp_path / "m.pcapng").packets
        for workers in (1, 2):
            got = load_capture_set(parts, workers=workers).packets
            pd.testing.assert_frame_equal(got, want)
