"""Notebook 01's logic on a capture set: its ``PCAP`` parameter may be a file, a folder of rotated
captures or a list of files (``forensics.load``), and every table and sentence it prints is then
the one it prints for the mergecap-merged file."""
from __future__ import annotations

import json
import shutil
import subprocess

import nbformat
import pandas as pd
import pytest

import forensics
from forensics.network import analysis, statistics
from forensics.network.load import load_capture
from forensics.sets.captures import CaptureSet
from support import REPO, SAMPLE

pytestmark = pytest.mark.skipif(shutil.which("editcap") is None or shutil.which("mergecap") is None,
                                reason="editcap/mergecap (Wireshark's) not installed (make test installs tshark)")

NOTEBOOK = REPO / "notebooks" / "01_retransmissions.ipynb"


def _notebook_prints(cap) -> dict:
    """What the notebook's checked cells print, computed as they compute it (same calls, same order)."""
    packets, flows = cap.packets, cap.flows
    worst = analysis.worst_flows(flows, n=10)
    return {
        "summary": analysis.summarize(cap),
        "quality": analysis.capture_quality(cap),
        "expert": statistics.expert_info(cap).drop(columns="frames"),
        "conversations": statistics.conversations(packets, "tcp").sort_values("bytes", ascending=False).head(10),
        "endpoints": statistics.endpoints(packets, "ip"),
        "worst": worst,
        "timeline": analysis.loss_timeline(packets, "100ms"),
        "diagnosis": analysis.diagnose(cap),
    }


def _same(a: dict, b: dict):
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], pd.DataFrame):
            pd.testing.assert_frame_equal(a[k].reset_index(drop=True), b[k].reset_index(drop=True), obj=k)
        else:
            assert json.dumps(a[k], default=str) == json.dumps(b[k], default=str), k


@pytest.fixture(scope="module")
def rotated(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nb01")
    folder = tmp / "rotated"
    folder.mkdir()
    src = SAMPLE / "network" / "bulk_loss_receiver.pcapng"     # the notebook's own sample capture
    subprocess.run(["editcap", "-c", "400", str(src), str(folder / "part.pcapng")], check=True, capture_output=True)
    parts = sorted(folder.iterdir())
    merged = tmp / "merged.pcapng"
    subprocess.run(["mergecap", "-w", str(merged), *map(str, parts)], check=True, capture_output=True)
    return folder, parts, merged


def test_the_notebook_loads_its_parameter_with_forensics_load():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "forensics.load(PCAP" in code and "load_capture(PCAP" not in code


def test_notebook_01_on_a_folder_prints_what_it_prints_for_the_merged_file(rotated):
    folder, parts, merged = rotated
    assert len(parts) >= 3
    whole = forensics.load(str(merged))
    for given in (str(folder), [str(p) for p in parts]):        # PCAP = a folder, or a list of files
        cap = forensics.load(given)
        assert isinstance(cap, CaptureSet) and len(cap.members) == len(parts)
        pd.testing.assert_frame_equal(cap.packets, whole.packets)
        got, want = _notebook_prints(cap), _notebook_prints(whole)
        # the set's summary also names its files; everything else is the merged file's
        assert got["summary"].pop("files", len(parts)) == len(parts)
        want["summary"].pop("files", None)
        _same(got, want)
    assert isinstance(forensics.load(str(SAMPLE / "network" / "bulk_loss_receiver.pcapng")), type(load_capture(merged)))
