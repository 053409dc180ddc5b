"""Kernels that run after the HPROF scan: references of instances dumped before their class, and the CSR graph.

Split from :mod:`forensics.memory.hprof_scan` (the record scanner) — these work on its output columns.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .hprof_scan import _layout, _u


@njit(cache=True)
def decode_deferred(def_obj, def_start, defb, obj_cls, obj_len, idsize,
                    cls_super, cls_fstart, cls_fcount, fld_type, cls_index, ref_start, ref_count, ref_total, ref_offs,
                    nref, edge_src, edge_dst, e):
    """References of instances whose class was dumped after them (rare: HotSpot dumps classes first).

    Returns the new edge count, or -1 - k when instance ``k`` has no known class
    layout (its references are then not recorded)."""
    bad = 0
    for d in range(len(def_obj)):
        o = def_obj[d]
        cid = obj_cls[o]
        if cid not in cls_index:
            bad += 1
            continue
        ci = cls_index[cid]
        if ref_start[ci] < 0:
            n = _layout(ci, cls_super, cls_fstart, cls_fcount, fld_type, cls_index, ref_start, ref_count,
                        ref_total, ref_offs, nref, idsize)
            if n < 0:
                bad += 1
                continue
            nref = n
        if ref_total[ci] != obj_len[o]:
            bad += 1
            continue
        rs = ref_start[ci]
        for k in range(rs, rs + ref_count[ci]):
            v = _u(defb, def_start[d] + ref_offs[k], idsize)
            if v != 0 and e < len(edge_dst):
                edge_src[e] = o
                edge_dst[e] = v
                e += 1
    return e, bad


@njit(cache=True)
def resolve_edges(sorted_ids, id_order, src, dst_id, n):
    """References as object indexes in CSR form: ``(first, to, dangling)``.

    ``src`` must be non-decreasing (the scanner writes edges object by object);
    ``dangling`` is -1 when it is not (the caller sorts and calls again).
    References to ids that are not in the dump (dangling) are dropped and counted.
    """
    m = len(src)
    to = np.empty(m, np.int32)
    first = np.zeros(n + 1, np.int64)
    k = 0
    prev = 0
    N = len(sorted_ids)
    for e in range(m):
        s = src[e]
        if s < prev:
            return first, to[:0], -1
        prev = s
        x = dst_id[e]
        lo = np.searchsorted(sorted_ids, x)
        if lo < N and sorted_ids[lo] == x:
            to[k] = id_order[lo]
            first[s + 1] += 1
            k += 1
    for i in range(n):
        first[i + 1] += first[i]
    return first, to[:k], m - k
