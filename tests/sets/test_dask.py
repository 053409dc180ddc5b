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


def _values(df: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns as their values: a cluster export codes each partition's addresses itself."""
    return df.assign(**{c: df[c].astype(object) for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)})


def _timeless(prov):
    """Provenance without the load times (the two exports ran a moment apart)."""
    if isinstance(prov, dict):
        return {k: _timeless(v) for k, v in prov.items() if k != "loaded_at"}
    return [_timeless(v) for v in prov] if isinstance(prov, list) else prov


def _export_on_cluster_equals_one_process(cluster, folder, tmp_path):
    import pyarrow.parquet as pq

    from forensics.columnar import export, read_frame

    on = export(folder, tmp_path / "on", scheduler=cluster.scheduler_address)
    one = export(folder, tmp_path / "one")
    assert on["error"].isna().all()
    cols = ["artifact", "table", "rows"]
    assert on[cols].sort_values("table").values.tolist() == one[cols].sort_values("table").values.tolist()
    art = folder.name
    for table in ("packets", "flows", "flags", "members"):
        got, want = read_frame(tmp_path / "on", table, art), read_frame(tmp_path / "one", table, art)
        pd.testing.assert_frame_equal(_values(got), _values(want))
        assert _timeless(got.attrs["provenance"]) == _timeless(want.attrs["provenance"])
        for c in got.columns:
            if isinstance(want[c].dtype, pd.CategoricalDtype):
                assert set(got[c].cat.categories) == set(want[c].cat.categories), c
    # the packets were written by the workers, in pieces indexed by set row (none by this process)
    pieces = sorted((tmp_path / "on" / "packets").rglob("*.parquet"))
    assert pieces and all(b'"piece": true' in pq.read_schema(p).metadata[b"forensics"] for p in pieces)
    return read_frame(tmp_path / "on", "packets", art)


def test_export_of_a_set_on_dask_is_written_by_the_workers_and_equals_one_process(cluster, rotated, tmp_path):
    packets = _export_on_cluster_equals_one_process(cluster, rotated, tmp_path)
    assert packets["stream"].nunique() > 1 and len(packets) == len(load_capture_set(rotated).packets)


@pytest.mark.parametrize("name", [  # fragments (reassembled across files), UDP, tunnels: the non-TCP partition
    "seladb+PcapPlusPlus/Tests__Pcap++Test__PcapExamples__ip4_fragments.pcap",
    "seladb+PcapPlusPlus/Tests__Packet++Test__PacketExamples__Vxlan1.pcap",
    "chrissanders+packets/ipv6_fragments.pcapng",
])
def test_export_on_dask_of_wild_captures_with_fragments_and_tunnels(cluster, name, tmp_path):
    import warnings

    from support import wild_file

    src = wild_file("network", name)   # listed in tests/network/wild/MANIFEST.tsv, kept out of git
    if src is None:
        pytest.skip(f"wild corpus file not present (tools/wild_corpus.py restore): {name}")
    folder = tmp_path / "set"
    folder.mkdir()
    subprocess.run(["editcap", "-c", "5", str(src), str(folder / "p.pcapng")], check=True, capture_output=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        packets = _export_on_cluster_equals_one_process(cluster, folder, tmp_path)
    assert (packets["stream"] < 0).any()   # rows that are not TCP came back from their own partition
