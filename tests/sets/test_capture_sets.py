"""Capture sets: committed captures rotated with editcap -c analyse exactly like the mergecap-merged file."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import warnings

import pandas as pd
import pytest

import forensics
from forensics.network.load import capture_summary, load_capture
from forensics.sets.captures import capture_set_summary, load_capture_set
from support import SAMPLE, run_cli

pytestmark = pytest.mark.skipif(shutil.which("editcap") is None or shutil.which("mergecap") is None,
                                reason="editcap/mergecap (Wireshark's) not installed (make test installs tshark)")

NET = SAMPLE / "network"
#: IPv6 request/response with loss, reordering and duplicates (every retransmission kind), and
#: short connections with refused connects, aborts, a reused port and keep-alives (20 streams)
CAPTURES = {"reqresp_reorder.pcap": 300, "short_rst.pcap": 40}


def _rotate(src, out, every):
    out.mkdir()
    subprocess.run(["editcap", "-c", str(every), str(src), str(out / "part.pcapng")], check=True,
                   capture_output=True)
    return sorted(out.iterdir())


def _merge(parts, dest):
    subprocess.run(["mergecap", "-w", str(dest), *map(str, parts)], check=True, capture_output=True)
    return dest


@pytest.fixture(scope="module", params=sorted(CAPTURES))
def rotated(request, tmp_path_factory):
    name = request.param
    tmp = tmp_path_factory.mktemp(name.split(".")[0])
    parts = _rotate(NET / name, tmp / "rotated", CAPTURES[name])
    merged = _merge(parts, tmp / "merged.pcapng")
    return {"name": name, "folder": tmp / "rotated", "parts": parts, "merged": merged}


def test_rotated_set_equals_the_merged_file(rotated):
    assert len(rotated["parts"]) >= 5
    s = load_capture_set(rotated["folder"])
    m = load_capture(rotated["merged"])
    pd.testing.assert_frame_equal(s.packets, m.packets)      # every frame, flag, stream, RTT
    pd.testing.assert_frame_equal(s.flows, m.flows)          # every stream
    pd.testing.assert_frame_equal(s.packets, load_capture(NET / rotated["name"]).packets)
    assert not s.provenance.warnings
    assert s.members["packets"].sum() == len(m.packets)
    assert list(s.members["first_frame"]) == [1] + list(s.members["last_frame"][:-1] + 1)


def test_connections_really_cross_the_file_boundaries(rotated):
    s = load_capture_set(rotated["folder"])
    spans = pd.DataFrame({"stream": s.packets["stream"], "member": s.packet_member})
    spans = spans[spans.stream >= 0].groupby("stream")["member"].nunique()
    assert spans.max() > 1


def _cli(capsys, *args):
    from forensics.cli import main

    rc = main([*map(str, args)])
    out = capsys.readouterr().out
    assert rc == 0
    return out


def test_cli_summary_and_flags_of_a_folder_equal_the_merged_file(rotated, capsys):
    got = json.loads(_cli(capsys, "pcap", "summary", rotated["folder"], "--format", "json", "--workers", "2"))
    want = capture_summary(rotated["merged"])
    assert got.pop("files") == len(rotated["parts"])
    assert got == {k: want[k] for k in want if k in ("packets", "tcp_streams", "warnings", "link_types",
                                                     "undecoded_network_layer", "tunnels") or k in got}
    a = _cli(capsys, "pcap", "flags", *rotated["parts"][::-1], "--format", "csv")  # order given does not matter
    b = _cli(capsys, "pcap", "flags", rotated["merged"], "--format", "csv")
    assert a == b and a.count("\n") > 10


def test_the_forensics_command_takes_a_folder(rotated):
    if rotated["name"] != "short_rst.pcap":
        pytest.skip("one run of the real command is enough")
    r = run_cli("pcap", "flows", rotated["folder"], "--format", "json")
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)) == len(load_capture(rotated["merged"]).flows)


def test_loader_takes_a_folder_or_a_list_with_provenance_per_file(rotated):
    s = forensics.load(rotated["folder"])
    t = forensics.load([str(p) for p in rotated["parts"]])
    pd.testing.assert_frame_equal(s.packets, t.packets)
    for row, p in zip(s.members.itertuples(), rotated["parts"]):
        assert row.sha256 == hashlib.sha256(p.read_bytes()).hexdigest()
        assert row.file == p.name
    assert s.packets.attrs["provenance"]["kind"] == "capture-set"
    assert len(s.provenance.details["members"]) == len(rotated["parts"])
    from forensics.sets.captures import capture_set_members

    pd.testing.assert_frame_equal(capture_set_members(rotated["folder"]), s.members)  # without the analysis
    file, inner = s.frame_source(int(s.members["first_frame"].iloc[2]) + 4)
    assert (file, inner) == (rotated["parts"][2].name, 5)


def test_overlapping_files_merge_like_mergecap_with_a_warning(rotated, tmp_path):
    both = [NET / rotated["name"], *rotated["parts"]]          # the whole capture beside its own pieces
    ref = _merge(both, tmp_path / "all.pcapng")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        s = load_capture_set(both)
    pd.testing.assert_frame_equal(s.packets, load_capture(ref).packets)
    assert s.provenance.details["merged_in_time_order"] is True
    text = [str(x.message) for x in w if "overlap" in str(x.message)]
    assert len(text) == 1 and "merged in time order" in text[0] and "twice" in text[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        two = load_capture_set(both, workers=2)                 # every worker falls back to the merge too
        assert capture_set_summary(both, workers=2) == capture_set_summary(both)
    pd.testing.assert_frame_equal(two.packets, s.packets)
    assert two.provenance.details["merged_in_time_order"] is True


def test_a_missing_stretch_between_files_is_a_located_warning(rotated, tmp_path):
    parts = rotated["parts"]
    later = tmp_path / "later.pcapng"
    subprocess.run(["editcap", "-t", "3600", str(parts[-1]), str(later)], check=True, capture_output=True)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        s = load_capture_set([*parts[:-1], later])
    gap = [x for x in s.provenance.warnings if "no packet for" in x]
    assert len(gap) == 1 and "later.pcapng" in gap[0] and "set frame" in gap[0] and "missing" in gap[0]
    assert s.members["gap_before_s"].iloc[-1] > 3599


def test_workers_give_the_single_process_result(rotated):
    one = load_capture_set(rotated["folder"])
    two = load_capture_set(rotated["folder"], workers=2)
    pd.testing.assert_frame_equal(one.packets, two.packets)
    pd.testing.assert_frame_equal(one.flows, two.flows)
    pd.testing.assert_frame_equal(one.members, two.members)
    pd.testing.assert_frame_equal(one.packets, load_capture_set(rotated["folder"], workers=3).packets)
    assert capture_set_summary(rotated["folder"], workers=3) == capture_set_summary(rotated["folder"])


def test_other_files_in_the_folder_are_listed_not_dropped_silently(rotated, tmp_path):
    folder = tmp_path / "with_notes"
    shutil.copytree(rotated["folder"], folder)
    (folder / "README.txt").write_text("rotated with editcap -c\n")
    s = load_capture_set(folder)
    assert any("README.txt" in n and "not a known artifact" in n for n in s.notes)
    assert s.provenance.details["skipped"][0]["path"].endswith("README.txt")


def test_a_set_of_mixed_kinds_is_refused_with_the_reason(tmp_path):
    shutil.copy(NET / "short_rst.pcap", tmp_path / "a.pcap")
    shutil.copy(next((SAMPLE / "traces").rglob("*.json")), tmp_path / "b.json")
    with pytest.raises(forensics.ArtifactError, match="mixes kinds"):
        forensics.load(tmp_path)


def test_files_sharing_an_instant_at_the_boundary_are_ordered_as_mergecap_orders_them(tmp_path):
    # bulk_loss.pcap cut every 97 packets: several boundaries fall inside one microsecond
    parts = _rotate(NET / "bulk_loss.pcap", tmp_path / "rotated", 97)
    merged = load_capture(_merge(parts, tmp_path / "merged.pcapng"))
    s = load_capture_set(tmp_path / "rotated")
    assert (s.packet_member[1:] < s.packet_member[:-1]).any()   # the later file's packet came first
    assert any("very instant" in n for n in s.notes) and not s.provenance.details["merged_in_time_order"]
    pd.testing.assert_frame_equal(s.packets, merged.packets)
    pd.testing.assert_frame_equal(s.flows, merged.flows)
    pd.testing.assert_frame_equal(load_capture_set(tmp_path / "rotated", workers=2).packets, merged.packets)
    got, want = capture_set_summary(tmp_path / "rotated"), capture_summary(tmp_path / "merged.pcapng")
    assert {k: got[k] for k in want if k in got} == {k: want[k] for k in want if k in got}


def test_a_member_cut_short_loads_what_is_valid_with_a_located_warning(rotated, tmp_path):
    parts = [tmp_path / p.name for p in rotated["parts"]]
    for src, dst in zip(rotated["parts"], parts):
        shutil.copy(src, dst)
    cut = parts[1].read_bytes()
    parts[1].write_bytes(cut[: len(cut) - 7])         # the middle file ends inside its last block
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        s = load_capture_set(parts)
    cut = [x for x in s.provenance.warnings if x.startswith(parts[1].name)]
    assert len(cut) == 1 and "byte" in cut[0] and "truncated" in cut[0]
    assert s.members["packets"].iloc[1] == load_capture(rotated["parts"][1]).packets.shape[0] - 1
    assert len(s.packets) == sum(s.members["packets"]) and s.members["warnings"].tolist()[1] == 1
    with warnings.catch_warnings(record=True) as w2:        # the workers' reads: the same, warned once
        warnings.simplefilter("always")
        two = load_capture_set(parts, workers=2)
    assert [str(x.message) for x in w2 if "truncated" in str(x.message)] == [
        str(x.message) for x in w if "truncated" in str(x.message)]
    pd.testing.assert_frame_equal(two.packets, s.packets)
    pd.testing.assert_frame_equal(two.members, s.members)
    assert two.provenance.warnings == s.provenance.warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert capture_set_summary(parts, workers=2)["warnings"] == capture_set_summary(parts)["warnings"]


def test_an_empty_folder_or_one_without_evidence_is_an_artifact_error(tmp_path, capsys):
    from forensics.cli import main

    with pytest.raises(forensics.ArtifactError, match="it is empty"):
        forensics.load(tmp_path)
    (tmp_path / "notes.txt").write_text("nothing here\n")
    with pytest.raises(forensics.ArtifactError, match="no known artifact"):
        load_capture_set(tmp_path)
    assert main(["pcap", "summary", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no known artifact" in err
