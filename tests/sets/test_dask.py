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
