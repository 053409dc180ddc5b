"""Compile and cache the memory kernels once, at install time (``make setup`` runs ``python -m forensics.memory.warm``).

numba compiles each kernel the first time it runs with given argument types and
caches the machine code on disk (``cache=True``). Without this step the first
heap diff after an install pays ~10–20 s of compilation; here every kernel is
run on the small committed samples, and directly with the other argument types a
big input can bring (``int32`` class codes when a snapshot has 32,768 classes or more).

>>> warm(quiet=True)   # doctest: +SKIP
"""
from __future__ import annotations

import os
import sys
import time
import warnings

import numpy as np

SAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "sample_data",
                       "memory")


def _kernels_with_other_types() -> None:
    from . import dominators as dom
    from .v8 import _fill_codes
    from .v8diff import _class_counts, _owned_per_class

    t = np.zeros(4, np.uint8)
    name = np.zeros(4, np.uint32)
    remap = np.zeros(2, np.int32)
    named = np.zeros(3, np.bool_)
    for codes in (np.zeros(4, np.int16), np.zeros(4, np.int32)):
        _fill_codes(t, name, named, remap, codes)
        _owned_per_class(np.zeros(4, np.int32), codes, np.ones(4, np.uint32), 2)
        for other in (np.zeros(4, np.int16), np.zeros(4, np.int32)):
            m, sizes, match = np.zeros(1, np.int64), np.ones(4, np.uint32), np.full(4, -1, np.int64)
            _class_counts(codes, m, sizes, match, other, m, sizes, match, 1)
    from .jsonscan import count_byte, find_byte

    buf = np.zeros(8, np.uint8)   # the edges split of big snapshots (the samples are read on one thread)
    count_byte(buf, 8, 44)
    find_byte(buf, 8, 34)
    first = np.array([0, 2, 3, 4, 4], np.int32)
    to = np.array([1, 2, 3, 3], np.int32)
    ok = np.ones(4, np.bool_)
    idom, order = dom.dominator_tree(4, first, to, ok, 0)
    dom.retained_sizes(idom, order, np.ones(4, np.uint32))
    dom.owners(idom, order, ok)
    dom.shortest_paths(4, first, to, ok, 0)
    dom.top_marked(idom, order, ok)


def warm(quiet: bool = False) -> float:
    """Run every heap kernel once (V8 and HPROF paths); returns the seconds it took."""
    from .diff import heap_diff
    from .hprof_analysis import byte_array_owners, duplicate_strings, leak_suspects
    from .hprof_graph import heap_graph
    from .load import load_heap
    from .v8 import read_v8

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        v8 = [os.path.join(SAMPLES, f"node_{n}.heapsnapshot") for n in ("s1_churn", "s2_target", "s3_final")]
        if all(os.path.exists(p) for p in v8):
            heap_diff(v8, top=1)
            read_v8(v8[0])                       # the full reader (edge names kept), as `heap path` uses it
        hp = [os.path.join(SAMPLES, f"hprof_t{i}.hprof.gz") for i in (0, 1)]
        if all(os.path.exists(p) for p in hp):
            heap_diff(hp, top=1)
            dump = load_heap(hp[1]).snapshot
            g = heap_graph(dump)
            leak_suspects(dump, g)
            duplicate_strings(dump)
            byte_array_owners(dump, g)
        _kernels_with_other_types()
    took = time.perf_counter() - t0
    if not quiet:
        print(f"forensics.memory: kernels compiled and cached in {took:.1f} s", file=sys.stderr)
    return took


if __name__ == "__main__":
    warm()
