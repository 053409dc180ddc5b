"""Java heap dumps (HPROF) from a real JDK 17 running LeakyHeap.java (sample_data/generate/memory)."""
import gzip
import json
import warnings

import numpy as np
import pytest

import forensics
from forensics import ArtifactError
from forensics.artifact import Provenance, sniff
from forensics.memory import hprof_analysis as A
from forensics.memory.diff import heap_diff
from forensics.memory.hprof import histogram, read_hprof
from forensics.memory.hprof_graph import find_object, gc_roots, heap_graph, path_to_root
from forensics.memory.jvm import read_histogram

from support import SAMPLE, run_cli

MEM = SAMPLE / "memory"
T0, T1 = MEM / "hprof_t0.hprof.gz", MEM / "hprof_t1.hprof.gz"


def _jmap(name):
    return read_histogram(MEM / name, Provenance(str(name), 0, ""))[0].set_index("name")[["count", "bytes"]]


@pytest.fixture(scope="module")
def dumps():
    out = {}
    for t, p in (("t0", T0), ("t1", T1)):
        d = read_hprof(p)
        out[t] = (d, heap_graph(d))
    return out


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    p = tmp_path_factory.mktemp("hprof") / "t1.hprof"
    p.write_bytes(gzip.decompress(T1.read_bytes()))
    return p


@pytest.mark.parametrize("t", ["t0", "t1"])
def test_histogram_equals_jmap_histo_live(dumps, t):
    """Every class's instances and bytes equal `jmap -histo:live` taken right after the dump.

    Classes whose line changed between the histograms taken just before and just after the dump were changed
    by the JVM's own threads (Cleaner, attach) in between, so only the after-histogram is the dump's moment.
    java.lang.Class bytes included: mirrors are sized as HotSpot lays out static fields (see the next test)."""
    d, _ = dumps[t]
    ours = histogram(d).set_index("name")[["count", "bytes"]]
    after = _jmap(f"hprof_{t}_histo_live.txt")
    both = ours.join(after, how="outer", suffixes=("", "_jmap")).fillna(0)
    assert (both["count"] == both["count_jmap"]).all(), both[both["count"] != both["count_jmap"]]
    bad = both[both["bytes"] != both["bytes_jmap"]]
    assert bad.empty, bad
    assert both.loc["java.lang.Class", "bytes"] == 85576
    assert len(both) > 250


def test_class_mirror_sizes_equal_the_jvms(dumps):
    """Each class's java.lang.Class object is as big as the JVM says (Instrumentation.getObjectSize, by
    sample_data/generate/memory/MirrorSizes.java under the same JDK and flags). Statics are appended largest first,
    never into holes: 13 classes (AtomicLong, Short, Throwable, …) with an odd number of static references and a long
    were 8 bytes short when the gap before the long was filled (jmap's java.lang.Class line was 104 B above ours)."""
    from forensics.memory import hprof_scan as hs

    d, _ = dumps["t1"]
    jvm = dict(line.rstrip("\n").split("\t") for line in (MEM / "hprof_mirror_sizes.tsv").open())
    k = d.objects["kind"] == hs.K_CLASS
    names = dict(zip(d.classes["class_id"].tolist(), d.classes["name"].tolist()))
    ours = {names[i]: s for i, s in zip(d.objects["id"][k].tolist(), d.objects["size"][k].tolist()) if i in names}
    common = sorted(set(ours) & set(jvm))
    assert len(common) > 600
    assert {n: ours[n] for n in common} == {n: int(jvm[n]) for n in common}
    assert (ours["java.util.concurrent.atomic.AtomicLong"], ours["java.lang.Short"]) == (144, 144)


def test_jvm_threads_changed_only_a_few_classes_during_t0(dumps):
    before, after = _jmap("hprof_t0_histo_live_before.txt"), _jmap("hprof_t0_histo_live.txt")
    changed = before.join(after, how="outer", suffixes=("", "_a")).fillna(0)
    changed = changed[(changed["count"] != changed["count_a"]) | (changed["bytes"] != changed["bytes_a"])]
    assert 0 < len(changed) <= 5 and "LeakyHeap$Session" not in changed.index


def test_plain_and_gzip_read_the_same(dumps, plain):
    d = read_hprof(plain)
    g, _ = dumps["t1"]
    assert (d.version, d.id_size, d.info["compressed"], g.info["compressed"]) == ("1.0.2", 8, False, True)
    assert d.info["segments"] >= 1 and d.compressed_oops
    for k in ("id", "cls", "size", "offset"):
        assert np.array_equal(d.objects[k], g.objects[k])
    assert np.array_equal(d.edge_to, g.edge_to)
    assert sniff(plain).format == "hprof 1.0.2" and sniff(T1).format == "hprof 1.0.2 (gzip)"
    assert forensics.detect(T0) == "hprof"


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.77, 0.999])
def test_truncated_dump_loads_up_to_the_last_whole_record(plain, tmp_path, fraction):
    data = plain.read_bytes()
    cut = tmp_path / "cut.hprof"
    cut.write_bytes(data[: int(len(data) * fraction)])
    with pytest.warns(forensics.artifact.ArtifactWarning, match="truncated dump"):
        d = read_hprof(cut)
    (w,) = d.provenance.warnings
    assert w.startswith("byte ") and "ends inside" in w
    full = read_hprof(plain)
    assert d.n + len(d.roots) < full.n + len(full.roots)
    assert d.n > 0 or fraction < 0.3   # the first ~30 % are class and field names
    # what was read is exactly the full dump's objects up to that point
    assert np.isin(d.objects["id"], full.objects["id"]).all()
    histogram(d)
    heap_graph(d)


def test_truncated_gzip_dump(tmp_path):
    data = T1.read_bytes()
    cut = tmp_path / "cut.hprof.gz"
    cut.write_bytes(data[: len(data) * 9 // 10])
    with pytest.warns(forensics.artifact.ArtifactWarning):
        d = read_hprof(cut)
    assert any("gzip stream ends" in w for w in d.provenance.warnings)
    assert any("truncated dump" in w for w in d.provenance.warnings)
    assert d.n > 1000


def test_not_a_dump_is_an_error(tmp_path):
    p = tmp_path / "x.hprof"
    p.write_bytes(b"JAVA PROFILE 1.0.2\0\0\0\0\x03" + b"\0" * 8)
    with pytest.raises(ArtifactError, match="identifier size 3"):
        forensics.load(p)
    p.write_bytes(b"JAVA PROFILE 1.0.2\0\0\0\0\x08" + b"\0" * 8 + b"\x77" + b"\0" * 20)
    with pytest.raises(ArtifactError, match="unknown top-level record tag"):
        forensics.load(p)


def test_planted_leak_first_in_the_diff():
    d = heap_diff([T0, T1], top=0)
    top = d.table.iloc[0]
    assert top["name"] == "LeakyHeap$Session"
    assert top["count_delta"] == 2000 and top["bytes_delta"] == 2000 * 32
    # each session owns its 64-byte payload and its tenant String (+ its byte[])
    assert top["retained_delta"] == 2000 * (32 + 80 + 24 + 24)
    assert "LeakyHeap$Session grew by 2,000 objects" in d.verdict
    churn = d.table.set_index("name")
    assert "LeakyHeap$ReportCache" not in churn.index          # unchanged: not in the diff
    assert d.leaks.iloc[0]["leaking_class"] == "LeakyHeap$Session"


def test_leak_suspect_names_the_holder_and_accumulation_point(dumps):
    d, g = dumps["t1"]
    s = A.leak_suspects(d, g)
    top = s.iloc[0]
    assert top["share"] >= 0.10
    assert top["holder"] == "LeakyHeap$SessionRegistry.SESSIONS (static field)"
    assert top["accumulation_point"].startswith("java.util.HashMap.Node[4,096]")
    assert top["leaking_class"] == "LeakyHeap$Session" and top["leaking_objects"] == 2200
    assert "--static SESSIONS--> java.util.HashMap" in top["path"] and "--table--> java.util.HashMap.Node[" in top["path"]


def test_path_from_a_gc_root(dumps):
    d, g = dumps["t1"]
    names = d.class_names[d.objects["cls"]]
    session = int(np.flatnonzero(names == "LeakyHeap$Session")[0])
    p = path_to_root(d, g, session)
    assert p.iloc[0]["root_type"] and p.iloc[0]["depth"] == 0
    edges = p["edge"].tolist()
    assert "static SESSIONS" in edges and "table" in edges and edges[-1] == "value"
    assert p.iloc[-1]["object"].startswith("LeakyHeap$Session @0x")
    assert (p["retained"].diff().dropna() <= 0).all()       # each step retains no more than the one before


def test_cli_path_prints_the_root_path():
    d = read_hprof(T1)
    names = d.class_names[d.objects["cls"]]
    addr = int(d.objects["id"][np.flatnonzero(names == "LeakyHeap$Session")[5]])
    r = run_cli("heap", "path", T1, hex(addr), "--format", "json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert rows[-1]["object"].startswith("LeakyHeap$Session") and any(x["edge"] == "static SESSIONS" for x in rows)
    r = run_cli("heap", "path", T1, "0x1234")
    assert r.returncode == 2 and "no object with id 0x1234" in r.stderr


@pytest.mark.parametrize("cmd", ["leaks", "classes", "roots", "strings", "arrays"])
def test_cli_one_dump(cmd):
    r = run_cli("heap", cmd, T1, "--format", "json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert rows
    if cmd == "leaks":
        assert rows[0]["holder"] == "LeakyHeap$SessionRegistry.SESSIONS (static field)"
    if cmd == "classes":
        assert rows[0]["name"] == "[B"


def test_cli_diff_takes_hprof():
    r = run_cli("heap", "diff", T0, T1, "--top", "3", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)[0]["name"] == "LeakyHeap$Session"


def test_gc_roots_by_type(dumps):
    d, g = dumps["t1"]
    r = gc_roots(d, g).set_index("type")
    assert {"system class", "JNI global", "thread", "Java frame (local variable)"} <= set(r.index)
    assert r["roots"].sum() == len(d.roots)
    assert r.loc["system class", "objects"] > 400


def test_duplicate_strings_and_big_arrays(dumps):
    d, g = dumps["t1"]
    dup = A.duplicate_strings(d, top=10)
    tenants = dup[dup["text"].str.startswith("tenant-")]
    assert sorted(tenants["text"]) == [f"tenant-{i}" for i in range(7)]
    assert tenants["copies"].sum() == 2200                      # one per session, none interned
    assert (tenants["wasted"] == (tenants["copies"] - 1) * 48).all()
    big = A.big_arrays(d, g, top=3)
    assert big.iloc[0]["array"].startswith("byte[32,768]") and big.iloc[0]["owner_class"] == "LeakyHeap$ReportCache"
    assert big.iloc[0]["holder"].endswith(".lastReport")
    owners = A.byte_array_owners(d, g).set_index("owner_class")
    assert owners.loc["LeakyHeap$Session", "arrays"] == 2200


def test_retained_sizes_add_up(dumps):
    d, g = dumps["t1"]
    reach = g.idom[: d.n] >= 0
    assert g.retained[g.root] == int(d.objects["size"][reach].sum())
    s = find_object(d, int(d.objects["id"][5]))
    assert s == 5 and find_object(d, 1) == -1
