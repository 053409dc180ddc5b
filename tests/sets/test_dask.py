"""The capture-set analysis on a real Dask cluster (a LocalCluster of 2 worker processes) equals one process."""
from __future__ import annotations

import shutil
import subprocess

import pandas as pd
import pytest

from forensics.sets.captures import capture_set_summary, load_capture_set
from support import SAMPLE

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.skipif(shutil.which("editcap") is None, reason="editcap (Wireshark's) not installed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as c:
        yield c


@pytest.fixture(scope="module")
def rotated(tmp_path_factory):
    out = tmp_path_factory.mktemp("dask_rotated")
    subprocess.run(["editcap", "-c", "40", str(SAMPLE / "network" / "short_rst.pcap"), str(out / "p.pcapng")],
                   check=True, capture_output=True)
    return out


def test_two_dask_workers_give_the_single_process_result(cluster, rotated):
    assert len(cluster.workers) == 2
    one = load_capture_set(rotated)
    on_dask = load_capture_set(rotated, scheduler=cluster.scheduler_address)
    pd.testing.assert_frame_equal(one.packets, on_dask.packets)
    pd.testing.assert_frame_equal(one.flows, on_dask.flows)
    pd.testing.assert_frame_equal(one.members, on_dask.members)
    assert capture_set_summary(rotated, scheduler=cluster.scheduler_address) == capture_set_summary(rotated)


def test_dask_workers_load_and_write_the_parquet_themselves(cluster, rotated, tmp_path):
    import forensics
    from forensics.columnar import export, read_frame

    pcap = SAMPLE / "network" / "slow_reader.pcap"
    out = export([rotated, pcap], tmp_path / "out", scheduler=cluster.scheduler_address)
    assert out["error"].isna().all() and set(out["artifact"]) == {rotated.name, "slow_reader.pcap"}
    pd.testing.assert_frame_equal(read_frame(tmp_path / "out", "packets", rotated.name), load_capture_set(rotated).packets)
    pd.testing.assert_frame_equal(read_frame(tmp_path / "out", "flows", "slow_reader.pcap"), forensics.load(pcap).flows)
    assert len(forensics.query(tmp_path / "out", "SELECT * FROM artifacts")) == 2


def test_flags_and_flows_on_dask_are_written_by_the_workers_and_read_back_equal(cluster, rotated, tmp_path):
    from forensics.network.analysis import flagged_frames
    from forensics.sets.cluster_tables import read_flags, read_flows, set_table_on_cluster, write_set_tables

    one = load_capture_set(rotated)
    done = write_set_tables(rotated, cluster.scheduler_address, tmp_path / "pq")
    assert len(done["written"]) == 2 and all(w["packets"] for w in done["written"])   # both partitions worked
    assert sorted(p.name for p in (tmp_path / "pq" / "flows").iterdir()) == ["part-00000.parquet", "part-00001.parquet"]
    # every stream in exactly one partition; together the single-process flows and flags
    assert sum(w["streams"] for w in done["written"]) == len(one.flows)
    pd.testing.assert_frame_equal(read_flows(tmp_path / "pq"), one.flows)
    pd.testing.assert_frame_equal(read_flags(tmp_path / "pq"), flagged_frames(one.packets))
    # the analysed (TCP) packets as the workers wrote them: the single-process rows, with set frame numbers
    tcp = one.packets[one.packets["stream"] >= 0].reset_index(drop=True)
    back = pd.read_parquet(tmp_path / "pq" / "packets").sort_values("frame").reset_index(drop=True)
    for col in ("frame", "stream", "acked_frame", "dup_ack_frame", "rto_frame", "retransmission", "ack_rtt"):
        assert back[col].tolist() == tcp[col].tolist() or back[col].equals(tcp[col]), col
    got = set_table_on_cluster(rotated, "flows", cluster.scheduler_address)          # a temporary folder
    pd.testing.assert_frame_equal(got, one.flows)


def test_the_cli_flags_on_a_local_cluster_equal_one_process(rotated, capsys):
    from forensics.cli import main

    outs = {}
    for cmd in ("flags",):  # (flows: above, through the same handler's function)
        for how in ([], ["--scheduler", "local", "--workers", "2"]):
            assert main(["pcap", cmd, str(rotated), "--format", "csv", *how]) == 0
            outs[(cmd, bool(how))] = capsys.readouterr().out
        assert outs[(cmd, True)] == outs[(cmd, False)] and outs[(cmd, False)].count("\n") > 2
