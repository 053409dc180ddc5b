"""HPROF dumps written by other people's JVMs (tests/memory/wild/SOURCES.md), checked against what their sources state."""
import re

import numpy as np
import pytest

import forensics
from forensics.memory import hprof_scan as hs
from forensics.memory.hprof import histogram
from forensics.memory.hprof_graph import heap_graph, path_to_root

from support import require_wild

SLURP = {"hprof-slurp_hprof-32.bin": ("hprof-slurp_hprof-32-result.txt", "1.0.1", 4),
         "hprof-slurp_hprof-64.bin.gz": ("hprof-slurp_hprof-64-result.txt", "1.0.1", 8)}
ROOT_LINES = {"unknown": "unknown", "thread objects": "thread", "JNI global": "JNI global", "JNI local": "JNI local",
              "Java frame": "Java frame (local variable)", "native stack": "native stack",
              "sticky class": "system class", "thread block": "thread block", "monitor used": "busy monitor"}


def _expected(path) -> dict:
    text = path.read_text()
    out = {"roots": {}, "classes": {}}
    for m in re.finditer(r"^\.\.GC root (.+?): (\d+)$", text, re.M):
        out["roots"][ROOT_LINES[m[1]]] = int(m[2])
    for m in re.finditer(r"^\.\.GC (primitive array|object array|class|instance) dump: (\d+)$", text, re.M):
        out[m[1]] = int(m[2])
    top = text.split("Top 20 raw shallow heap classes:")[1].split("Top 20 largest instances")[0]
    for m in re.finditer(r"^\|\s*[\d.]+\s*\w+\s*\|\s*(\d+)\s*\|\s*[\d.]+\s*\w+\s*\|\s*(\S+)\s*\|$", top, re.M):
        name = m[2][:-2] if m[2].endswith("[][]") else m[2]    # hprof-slurp prints Object[] as Object[][]
        out["classes"][name] = int(m[1])
    return out


@pytest.mark.parametrize("name", sorted(SLURP))
def test_hprof_slurp_fixtures_match_its_expected_output(name):
    result, version, id_size = SLURP[name]
    wild = require_wild("memory", [name, result])
    want = _expected(wild[result])
    heap = forensics.load(wild[name])
    d = heap.snapshot
    assert (d.version, d.id_size, heap.provenance.warnings) == (version, id_size, [])
    kinds = np.bincount(d.objects["kind"], minlength=4)
    assert kinds[hs.K_INSTANCE] == want["instance"] and kinds[hs.K_OBJARRAY] == want["object array"]
    assert kinds[hs.K_PRIMARRAY] == want["primitive array"] and kinds[hs.K_CLASS] == want["class"]
    got_roots = d.roots["type"].value_counts().to_dict()
    assert {k: v for k, v in want["roots"].items() if v} == got_roots
    hist = histogram(d)
    by = {**dict(zip(hist["name"], hist["count"])), **dict(zip(hist["readable"].where(hist["name"].str.startswith("["),
                                                                                   hist["name"]), hist["count"]))}
    assert len(want["classes"]) == 20
    for cls, n in want["classes"].items():
        if cls == "java.lang.Class":   # hprof-slurp counts instance dumps only; jmap (and we) count each class too
            n += want["class"]
        assert by.get(cls, by.get(cls.replace("$", "."))) == n, cls
    g = heap_graph(d)
    reach = g.idom[: d.n] >= 0
    assert g.retained[g.root] == d.objects["size"][reach].sum() > 0
    # neither is a :live dump: garbage (mostly int[] and char[]) reaches no GC root, as MAT's "unreachable objects"
    assert d.n - reach.sum() == {"hprof-slurp_hprof-32.bin": 456, "hprof-slurp_hprof-64.bin.gz": 3513}[name]


def test_py_hprof_cars_example():
    heap = forensics.load(require_wild("memory", ["py-hprof_example-java.hprof.gz"])["py-hprof_example-java.hprof.gz"])
    d = heap.snapshot
    assert (d.version, d.id_size, heap.provenance.warnings) == ("1.0.2", 8, [])
    h = histogram(d).set_index("name")["count"]
    assert h["com.example.Cars"] == 1 and h["com.example.cars.Car"] == 2     # exact_instances, as the source tests
    assert "com.example.cars.Vehicle" not in h.index                        # abstract: no exact instances
    subclasses = d.classes.set_index("class_id")
    vehicle = int(subclasses.index[subclasses["name"] == "com.example.cars.Vehicle"][0])

    def is_vehicle(cid):
        while cid:
            if cid == vehicle:
                return True
            cid = int(subclasses.loc[cid, "super_id"]) if cid in subclasses.index else 0
        return False
    inst = np.flatnonzero(d.objects["kind"] == hs.K_INSTANCE)
    vehicles = [v for v in inst.tolist() if is_vehicle(int(d.objects["type_id"][v]))]
    assert len(vehicles) == 5                                                # all_instances('...Vehicle')
    g = heap_graph(d)
    cars = int(np.flatnonzero(d.class_names[d.objects["cls"]] == "com.example.Cars")[0])
    p = path_to_root(d, g, cars)
    assert p.iloc[0]["root_type"] and p.iloc[-1]["object"].startswith("com.example.Cars @0x")
    from forensics.memory.hprof_graph import named_references
    refs = dict(named_references(d, [cars])[cars])
    assert {"swe", "jap", "generic", "mine", "redYellow"} <= set(refs)
