"""TCP analysis against Wireshark: every flag, frame by frame, on every committed capture.

The committed ``*.tshark.csv`` labels were written by tshark 4.0 (default preferences)
when the captures were generated, so this runs without tshark; ``test_live_tshark``
re-runs tshark when it is installed and compares against that too.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import warnings

import numpy as np
import pytest

from forensics.artifact import ArtifactWarning
from forensics.network.compare import COMPARED, compare_flags, read_tshark_labels
from forensics.network.load import load_capture

DATA = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "sample_data", "network"))
CAPTURES = sorted(p for p in glob.glob(os.path.join(DATA, "*.pcap*")))
GEN = os.path.abspath(os.path.join(DATA, "..", "generate", "network"))


def _load(p):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArtifactWarning)
        return load_capture(p)


def _labels(p):
    return os.path.splitext(p)[0] + ".tshark.csv"


def test_captures_present():
    names = {os.path.basename(p) for p in CAPTURES}
    assert {"bulk_loss.pcap", "bulk_loss_receiver.pcapng", "reqresp_reorder.pcap", "slow_reader.pcap",
            "pg_snaplen96.pcap", "short_rst.pcap", "truncated.pcap"} <= names
    for p in CAPTURES:
        assert os.path.exists(_labels(p)), p


def _check(cap, theirs, name):
    ours = cap.packets
    assert len(ours) == len(theirs), name
    assert (ours["stream"].to_numpy() == theirs["stream"].to_numpy()).all(), f"{name}: tcp.stream differs"
    report = compare_flags(ours, theirs)
    bad = report[report["f1"] < 0.99]
    assert bad.empty, f"{name}:\n{bad.to_string()}"
    return report


@pytest.mark.parametrize("path", CAPTURES, ids=os.path.basename)
def test_flags_match_committed_tshark_labels(path):
    cap = _load(path)
    theirs = read_tshark_labels(_labels(path))
    _check(cap, theirs, os.path.basename(path))
    ours = cap.packets
    # the numbers behind the flags agree too
    assert (ours["dup_ack_num"].to_numpy() == theirs["dup_ack_num"].to_numpy()).mean() >= 0.99
    assert (ours["dup_ack_frame"].to_numpy() == theirs["dup_ack_frame"].to_numpy()).mean() >= 0.99
    assert (ours["acked_frame"].to_numpy() == theirs["acked_frame"].to_numpy()).mean() >= 0.99
    a, b = ours["ack_rtt"].to_numpy(), theirs["ack_rtt"].to_numpy()
    both = ~np.isnan(a) & ~np.isnan(b)
    assert (np.isnan(a) == np.isnan(b)).mean() >= 0.99
    assert np.allclose(a[both], b[both], atol=1e-6)


def test_the_captures_exercise_the_flags():
    """Across the committed captures, tshark saw each of these, and so do we."""
    seen = set()
    for p in CAPTURES:
        t = read_tshark_labels(_labels(p))
        seen |= {f for f in COMPARED if t[f].any()}
    assert {"retransmission", "fast_retransmission", "spurious_retransmission", "out_of_order", "lost_segment",
            "duplicate_ack", "zero_window", "window_full", "window_update", "keep_alive", "keep_alive_ack",
            "reused_ports", "reset"} <= seen


@pytest.mark.needs_tshark
@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
@pytest.mark.parametrize("path", [p for p in CAPTURES if "truncated" not in p], ids=os.path.basename)
def test_live_tshark(path, tmp_path):
    """Run the installed tshark now (default preferences, empty profile) and compare."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("fx_net_generate", os.path.join(GEN, "generate.py"))
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    cmd = ["tshark", "-n", "-r", path, "-T", "fields", "-E", "header=y", "-E", "separator=,", "-E", "occurrence=f"]
    for f in gen.TSHARK_FIELDS:
        cmd += ["-e", f]
    env = dict(os.environ, HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path))  # no user preferences
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    csv = tmp_path / "live.csv"
    csv.write_text(out.stdout)
    _check(_load(path), read_tshark_labels(str(csv)), os.path.basename(path))


def test_retransmission_is_superset_of_fast_and_spurious():
    for p in CAPTURES:
        pk = _load(p).packets
        assert not (pk["fast_retransmission"] & ~pk["retransmission"]).any()
        assert not (pk["spurious_retransmission"] & ~pk["retransmission"]).any()


def test_relative_sequence_numbers_start_at_zero_on_syn():
    pk = _load(os.path.join(DATA, "bulk_loss.pcap")).packets
    syn = pk[(pk["flags"] & 0x02) != 0]
    assert (syn["rel_seq"] == 0).all()
    first_data = pk[(pk["payload_len"] > 0)].iloc[0]
    assert first_data["rel_seq"] == 1


@pytest.mark.parametrize("name", ["reqresp_reorder.pcap", "short_rst.pcap", "slow_reader.pcap"])
def test_batches_and_state_growth_give_the_same_labels(name):
    """Fed 37 records at a time from tiny state tables (so they grow), the analysis is unchanged."""
    from forensics.network.pcap import read_capture
    from forensics.network.tcp_analysis import Analyzer

    path = os.path.join(DATA, name)
    whole = Analyzer().feed(read_capture(path).records)
    an = Analyzer(streams=1, pool=1)
    parts = []
    read_capture(path, consume=lambda b: parts.append(an.feed(b)), chunk_records=37)
    for key in ("stream", "aflags", "dup_ack_frame", "acked_frame", "ack_rtt", "rel_seq"):
        assert (np.concatenate([p[key] for p in parts]) == whole[key]).all(), key
