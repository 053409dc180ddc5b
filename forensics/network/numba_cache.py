"""Keep numba's on-disk cache of the packet walkers in step with the decoder they have compiled in.

numba caches each ``cache=True`` function keyed by the contents of *its own* source file, but the
walkers in ``pcap.py`` have ``decode.py``, ``sflow.py`` and ``linklayer.py`` compiled into them: a change to the
decoder alone would leave stale walkers in use. At import, a hash of these files is compared
with the one stored beside the cache; when it differs, their cached machine code is dropped (numba
compiles afresh on first use and caches again).
"""
from __future__ import annotations

import hashlib
import os

_SOURCES = ("linklayer.py", "sflow.py", "decode.py", "pcap.py")
_PREFIXES = tuple(os.path.splitext(f)[0] + "." for f in _SOURCES)


def drop_stale_cache() -> bool:
    """True when stale cache files were found and removed."""
    here = os.path.dirname(os.path.abspath(__file__))
    cache = os.path.join(here, "__pycache__")
    h = hashlib.sha256()
    try:
        for f in _SOURCES:
            with open(os.path.join(here, f), "rb") as fh:
                h.update(fh.read())
    except OSError:
        return False
    digest = h.hexdigest()
    stamp = os.path.join(cache, "network-numba.stamp")
    try:
        with open(stamp) as fh:
            if fh.read().strip() == digest:
                return False
    except OSError:
        pass
    dropped = False
    try:
        for name in os.listdir(cache):
            if name.startswith(_PREFIXES) and name.endswith((".nbi", ".nbc")):
                try:
                    os.remove(os.path.join(cache, name))
                    dropped = True
                except OSError:
                    pass
        with open(stamp, "w") as fh:
            fh.write(digest)
    except OSError:  # no cache folder yet, or a read-only install: numba copes
        pass
    return dropped


def skip_extension_scan() -> bool:
    """Spare numba its scan for ``numba_extensions`` entry points when no installed package has one.

    On its first compile or cache load in a process numba calls ``importlib.metadata.entry_points()``
    (importing importlib.metadata and reading every distribution: ~0.1 s, a tenth of ``pcap summary``
    on a small capture). The walkers use no extension, and a look at each ``*.dist-info`` /
    ``*.egg-info`` on ``sys.path`` takes about a millisecond; when one names ``numba_extensions``
    numba's own scan runs as usual. True when the scan was skipped.
    """
    import sys

    try:
        from numba.core import entrypoints
    except ImportError:
        return False
    if getattr(entrypoints, "_already_initialized", True):
        return False
    for folder in sys.path:
        try:
            entries = os.scandir(folder or ".")
        except OSError:
            continue
        with entries:
            for e in entries:
                if e.name.endswith((".dist-info", ".egg-info")):
                    try:
                        with open(os.path.join(e.path, "entry_points.txt"), "rb") as fh:
                            if b"numba_extensions" in fh.read():
                                return False
                    except OSError:
                        pass
    entrypoints._already_initialized = True
    return True
