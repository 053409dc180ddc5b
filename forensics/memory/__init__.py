"""Heap evidence: V8 heap snapshots, JVM class histograms, Python tracemalloc text, Go pprof heap profiles.

Load one file with :func:`forensics.memory.load.load_heap` (or ``forensics.load``); compare two or three with
:func:`forensics.memory.diff.heap_diff`. See ``docs/memory.md``.

    >>> import os
    >>> from forensics.memory import heap_diff, load_heap
    >>> here = os.path.join(os.path.dirname(__file__), "..", "..", "sample_data", "memory")
    >>> h = load_heap(os.path.join(here, "jcmd_histo_t0.txt"))
    >>> h.kind, {"name", "count", "bytes"} <= set(h.classes.columns)
    ('jvm-histogram', True)
"""
from ..lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {
    "HeapDiff": ".diff", "heap_diff": ".diff", "HeapProfile": ".load", "load_heap": ".load"})
