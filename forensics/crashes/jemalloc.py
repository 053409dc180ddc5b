"""jemalloc linked into a program: its functions are the allocator's, not the program's own code.

jemalloc renames every internal symbol through its private namespace (``JEMALLOC_N(n)`` = ``je_##n`` by
default, configure's ``--with-private-namespace``), and a build configured with ``--with-jemalloc-prefix=je_``
(macOS's default, Rust's bundled jemalloc, FreeBSD's libc) prefixes the public API the same way; a vendored copy
often adds its own prefix in front (``_rjem_je_``, ``duckdb_je_``). So a statically linked jemalloc shows up in
the program's own module as ``je_arena_dalloc_small``, ``je_huge_dalloc``, ``je_tcache_bin_flush_small``,
``je_sdallocx``. A fault there is a fault inside the allocator (heap corruption, as glibc's ``_int_free``), and
the frames are library code, so the top own frame is the caller that handed it the pointer.

>>> bool(JEMALLOC_FUNCS.match("je_huge_dalloc")), bool(JEMALLOC_FUNCS.match("je_sdallocx"))
(True, True)
>>> bool(JEMALLOC_FUNCS.match("je_parse_config")), bool(JEMALLOC_FUNCS.match("jemalloc_like"))
(False, False)
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

# the public API (jemalloc.h's je_* names) and the internal modules' prefixes (src/arena.c, huge.c (jemalloc 3-4),
# large.c, tcache.c, extent.c, chunk.c (3-4), base.c, bin.c, emap.c, pa.c/pac.c, sec.c, hpa.c, edata, rtree.c,
# prof*.c, tsd.c, ctl.c, and the inline i* wrappers of jemalloc_internal_inlines)
_API = (r"malloc|calloc|realloc|free|posix_memalign|aligned_alloc|memalign|valloc|mallocx|rallocx|xallocx|sallocx|"
        r"dallocx|sdallocx|nallocx|mallctl\w*|malloc_usable_size|malloc_stats_print|free_sized|free_aligned_sized")
_INTERNAL = (r"(?:arena|huge|large|tcache|extent|chunk|base|bin|bins|emap|pa|pac|sec|hpa|hpdata|edata|rtree|prof|tsd|ctl|"
             r"san|eset|ecache|batcher)_\w+|i(?:alloc|dalloc|salloc|ralloc|sdalloc|palloc)\w*")
JEMALLOC_FUNCS = re.compile(rf"^(?:\w+_)?je_(?:{_API}|{_INTERNAL})$")


def mark_jemalloc(frames: pd.DataFrame) -> None:
    """Mark a linked-in jemalloc's frames as library code (not the program's own), in place."""
    if frames.empty:
        return
    hit = np.array([isinstance(n, str) and bool(JEMALLOC_FUNCS.match(n)) for n in frames["norm_function"].tolist()],
                   dtype=bool)
    if hit.any():
        frames.loc[hit, "is_library"] = True
        frames.loc[hit, "is_own"] = False
