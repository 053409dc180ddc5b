"""Heap evidence: V8 heap snapshots, JVM class histograms, Python tracemalloc text, Go pprof heap profiles.

Load one file with :func:`forensics.memory.load.load_heap` (or ``forensics.load``); compare two or three with
:func:`forensics.memory.diff.heap_diff`. See ``docs/memory.md``.
"""
