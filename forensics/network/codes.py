"""Integer codes for addresses and conversations: open-addressing hash tables in plain numpy arrays.

numba's typed ``Dict`` is compiled anew in every process (about a second on an idle machine,
several on a busy one), which dominated ``forensics pcap summary`` on small captures; these
tables are ordinary arrays, so the functions that use them come from numba's on-disk cache.
Keys are three 64-bit words (address: version, high, low; conversation: two endpoint codes).
"""
from __future__ import annotations

import numba
import numpy as np

_M1, _M2, _M3 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9)


class CodeTable:
    """A growing table: key (3 x uint64) -> code, codes handed out 0, 1, 2, ... in order of first sight."""

    def __init__(self, capacity: int = 1 << 12):
        self.keys = np.zeros((capacity, 3), np.uint64)
        self.vals = np.full(capacity, -1, np.int64)
        self.n = 0

    def grow(self) -> None:
        """Twice the room (the coding functions stop at a load factor of one half and ask for it)."""
        cap = 2 * self.vals.shape[0]
        keys, vals = np.zeros((cap, 3), np.uint64), np.full(cap, -1, np.int64)
        _rehash(self.keys, self.vals, keys, vals)
        self.keys, self.vals = keys, vals

    def addresses(self, ver, s_hi, s_lo, d_hi, d_lo):
        """(src codes, dst codes, new versions, new hi, new lo) for a batch; see :func:`address_codes`."""
        n = ver.shape[0]
        sc, dc = np.full(n, -1, np.int32), np.full(n, -1, np.int32)
        parts = []
        i = 0
        while True:
            i, self.n, uv, uh, ul = address_codes(self.keys, self.vals, self.n, i, ver, s_hi, s_lo, d_hi, d_lo, sc, dc)
            parts.append((uv, uh, ul))
            if i >= n:
                break
            self.grow()
        cat = lambda j: np.concatenate([p[j] for p in parts]) if len(parts) > 1 else parts[0][j]
        return sc, dc, cat(0), cat(1), cat(2)

    def conversations(self, sc, dc, sport, dport):
        """(conversation id, swapped) for a batch; see :func:`conversation_codes`."""
        n = sc.shape[0]
        conv, swapped = np.zeros(n, np.int64), np.zeros(n, np.bool_)
        i = 0
        while True:
            i, self.n = conversation_codes(self.keys, self.vals, self.n, i, sc, dc, sport, dport, conv, swapped)
            if i >= n:
                return conv, swapped
            self.grow()


@numba.njit(cache=True, inline="always")
def _slot(keys, vals, a, b, c):
    mask = np.uint64(vals.shape[0] - 1)
    h = (a * _M1) ^ (b * _M2) ^ (c * _M3)
    i = np.int64((h ^ (h >> np.uint64(29))) & mask)
    while vals[i] >= 0 and not (keys[i, 0] == a and keys[i, 1] == b and keys[i, 2] == c):
        i = np.int64((np.uint64(i) + np.uint64(1)) & mask)
    return i


@numba.njit(cache=True, nogil=True)
def _rehash(ok, ov, nk, nv):
    for i in range(ov.shape[0]):
        if ov[i] >= 0:
            j = _slot(nk, nv, ok[i, 0], ok[i, 1], ok[i, 2])
            nk[j, 0], nk[j, 1], nk[j, 2] = ok[i, 0], ok[i, 1], ok[i, 2]
            nv[j] = ov[i]


@numba.njit(cache=True, nogil=True)
def address_codes(keys, vals, k, i0, ver, s_hi, s_lo, d_hi, d_lo, sc, dc):
    """Codes of source and destination addresses (-1: not IP) into ``sc``/``dc`` from row ``i0``, shared,
    in order of appearance. Returns (row where it stopped, next code, new versions, new hi, new lo):
    it stops early when the table is half full (grow it and call again from that row)."""
    n = ver.shape[0]
    cap = vals.shape[0]
    room = max(cap // 2 - k, 0)
    uv = np.zeros(room + 1, np.int64)
    uh = np.zeros(room + 1, np.uint64)
    ul = np.zeros(room + 1, np.uint64)
    k0 = k
    for i in range(i0, n):
        if 2 * (k + 2) > cap:
            return i, k, uv[: k - k0], uh[: k - k0], ul[: k - k0]
        v = np.uint64(ver[i])
        if v == 0:
            continue
        for side in range(2):
            hi = s_hi[i] if side == 0 else d_hi[i]
            lo = s_lo[i] if side == 0 else d_lo[i]
            j = _slot(keys, vals, v, hi, lo)
            c = vals[j]
            if c < 0:
                c = k
                keys[j, 0], keys[j, 1], keys[j, 2] = v, hi, lo
                vals[j] = c
                uv[k - k0], uh[k - k0], ul[k - k0] = np.int64(v), hi, lo
                k += 1
            if side == 0:
                sc[i] = c
            else:
                dc[i] = c
    return n, k, uv[: k - k0], uh[: k - k0], ul[: k - k0]


@numba.njit(cache=True, nogil=True)
def conversation_codes(keys, vals, k, i0, sc, dc, sport, dport, conv, swapped):
    """Address/port-pair id of each packet from row ``i0`` (either direction) into ``conv``, and whether
    it goes from the pair's second end; returns (row where it stopped, next id), early when the table
    is half full."""
    n = sc.shape[0]
    cap = vals.shape[0]
    for i in range(i0, n):
        if 2 * (k + 1) > cap:
            return i, k
        a = (np.int64(sc[i]) << 16) | np.int64(sport[i])
        b = (np.int64(dc[i]) << 16) | np.int64(dport[i])
        sw = a > b
        lo, hi = (b, a) if sw else (a, b)
        j = _slot(keys, vals, np.uint64(lo), np.uint64(hi), np.uint64(0))
        c = vals[j]
        if c < 0:
            c = k
            keys[j, 0], keys[j, 1], keys[j, 2] = np.uint64(lo), np.uint64(hi), np.uint64(0)
            vals[j] = c
            k += 1
        conv[i] = c
        swapped[i] = sw
    return n, k
