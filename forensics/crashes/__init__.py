"""Crash transcripts (gdb and what people paste around it): parse, classify, bucket, and date them.

Load one file with :func:`load_gdb` (or ``forensics.load``), a folder with :func:`load_folder`;
:func:`crash_clock` reads when it crashed from the text itself. See ``docs/crashes.md``.

    >>> import os
    >>> from forensics.crashes import load_gdb
    >>> here = os.path.join(os.path.dirname(__file__), "..", "..", "sample_data", "crashes")
    >>> load_gdb(os.path.join(here, "double_free__g-O0__cmds.txt")).crash["class"]
    'heap-corruption'
"""
from ..lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {
    "CrashClock": ".clock", "crash_clock": ".clock",
    "CrashSet": ".load", "GdbCrash": ".load", "load_folder": ".load", "load_gdb": ".load"})
