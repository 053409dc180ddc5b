"""JSON at the byte level, compiled (numba): the primitives the Jaeger UI scan is built from, and
:func:`gather`, which copies byte ranges into Arrow string buffers decoding JSON escapes.

Every function takes the document as a ``uint8`` array and an index, and returns the index past
what it read (-1 when the bytes are not what was expected) — no Python objects.
"""
from __future__ import annotations

import numpy as np
from numba import carray, farray, njit, types
from numba.extending import intrinsic


# Indices are walked as uint64 inside the hot loops: numba checks every signed index for a negative
# (Python's wrap-around), which made the byte loops ~3x slower. ``_U1`` keeps the arithmetic unsigned.
_U1 = np.uint64(1)


@intrinsic
def _as_ptr(typingctx, addr, dtype):
    """An integer address as a typed pointer (for :func:`borrowed`)."""
    ty = types.CPointer(dtype.dtype)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], context.get_value_type(ty))
    return ty(addr, dtype), codegen


@njit(cache=True, inline="always")
def borrowed(a):
    """A view of the contiguous 1-d array ``a`` without a reference count (NULL meminfo). numba increfs
    and decrefs an array around each inlined call that takes it, with an atomic instruction: half of the
    Jaeger scan's time went there (4.6 -> 2.5 s for 973 MB). The caller keeps ``a`` alive."""
    if not a.flags.c_contiguous:
        raise ValueError("borrowed: not contiguous")
    return carray(_as_ptr(a.ctypes.data, a.dtype), a.shape)


@njit(cache=True, inline="always")
def borrowed_f(a):
    """:func:`borrowed` for a table stored column by column (Fortran order)."""
    if not a.flags.f_contiguous:
        raise ValueError("borrowed_f: not Fortran-contiguous")
    return farray(_as_ptr(a.ctypes.data, a.dtype), a.shape)


@njit(cache=True)
def _ws(b, i):
    n = np.uint64(len(b))
    j = np.uint64(i)
    while j < n:
        c = b[j]
        if c != 32 and c != 10 and c != 13 and c != 9:
            break
        j += _U1
    return np.int64(j)


@njit(cache=True)
def _str_end(b, i):
    """i at the opening quote; returns the index just past the closing quote, or -1."""
    n = np.uint64(len(b))
    j = np.uint64(i) + _U1
    while j < n:
        c = b[j]
        if c == 92:
            j += np.uint64(2)
            continue
        if c == 34:
            return np.int64(j) + 1
        j += _U1
    return -1


@njit(cache=True)
def _skip(b, i):
    """Skip one JSON value starting at i (after whitespace); index past it, or -1."""
    n = len(b)
    if i >= n:
        return -1
    c = b[i]
    if c == 34:
        return _str_end(b, i)
    if c == 123 or c == 91:
        depth = 0
        while i < n:
            c = b[i]
            if c == 34:
                i = _str_end(b, i)
                if i < 0:
                    return -1
                continue
            if c == 123 or c == 91:
                depth += 1
            elif c == 125 or c == 93:
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        return -1
    while i < n and not (b[i] == 44 or b[i] == 125 or b[i] == 93 or b[i] == 32 or b[i] == 10 or b[i] == 13 or b[i] == 9):
        i += 1
    return i


@njit(cache=True)
def _eq(b, s, e, k):
    m = len(k)
    if e - s != m:
        return False
    u = np.uint64(s)
    for j in range(m):
        if b[u + np.uint64(j)] != k[j]:
            return False
    return True


@njit(cache=True)
def _int(b, i):
    """(value, index past it, ok) of a JSON integer at i; ok False for floats/others/overflow."""
    n = len(b)
    neg = False
    if i < n and b[i] == 45:
        neg = True
        i += 1
    v = 0
    start = i
    while i < n and 48 <= b[i] <= 57:
        if i - start >= 18:
            return 0, i, False
        v = v * 10 + (b[i] - 48)
        i += 1
    if i == start or (i < n and (b[i] == 46 or b[i] == 101 or b[i] == 69)):
        return 0, i, False
    return (-v if neg else v), i, True


@njit(cache=True)
def _str_field(b, i):
    """(start, end, index past) of a string value at i, or (-1, -1, -1)."""
    if b[i] != 34:
        return -1, -1, -1
    e = _str_end(b, i)
    if e < 0:
        return -1, -1, -1
    return i + 1, e - 1, e


@njit(cache=True)
def _array(b, i):
    """i at '['; returns index of the first element (or of ']') after whitespace, or -1."""
    if b[i] != 91:
        return -1
    j = _ws(b, i + 1)
    return j if j < len(b) else -1


@njit(cache=True)
def _member(b, i):
    """i at the opening quote of an object member's name: (name start, name end, index of its value
    after the colon and whitespace); index -1 when the bytes are not a member."""
    n = len(b)
    if i >= n or b[i] != 34:
        return -1, -1, -1
    ks = i + 1
    i = _str_end(b, i)
    if i < 0:
        return -1, -1, -1
    ke = i - 1
    i = _ws(b, i)
    if i >= n or b[i] != 58:
        return -1, -1, -1
    i = _ws(b, i + 1)
    if i >= n:
        return -1, -1, -1
    return ks, ke, i


@njit(cache=True)
def _next(b, i, close):
    """After a value at i inside an object or array closed by ``close`` (125 or 93): index of the next
    member/element (past the comma and whitespace) or of the closing bracket; -1 for anything else."""
    n = len(b)
    i = _ws(b, i)
    if i < n and b[i] == 44:
        return _ws(b, i + 1)
    if i < n and b[i] == close:
        return i
    return -1


@njit(cache=True)
def _i64(b, i):
    """(value, index past it, ok) of a non-negative integer of up to 19 digits at i that fits in int64,
    without leading zeros (so its text is Python's ``str(int(text))``)."""
    n = len(b)
    v = 0
    start = i
    while i < n and 48 <= b[i] <= 57:
        d = b[i] - 48
        if v > (9223372036854775807 - d) // 10:
            return 0, i, False
        v = v * 10 + d
        i += 1
    if i == start or (b[start] == 48 and i - start > 1):
        return 0, i, False
    return v, i, True


@njit(cache=True)
def _hex_only(b, s, e):
    """The bytes b[s:e] are a non-empty run of hex digits."""
    if e <= s:
        return False
    for j in range(s, e):
        c = b[j]
        if not (48 <= c <= 57 or 97 <= c <= 102 or 65 <= c <= 70):
            return False
    return True


@njit(cache=True)
def _string_or_null(b, i):
    """(start, end, index past) of a string at i; (-1, -1, past) for null; index -1 for anything else."""
    if b[i] == 34:
        e = _str_end(b, i)
        return i + 1, e - 1, e
    if b[i] == 110:
        return -1, -1, _skip(b, i)
    return -1, -1, -1


INTERN_SLOTS, INTERN_TEXTS = 1 << 17, 1 << 16


def intern_table() -> np.ndarray:
    """The state of :func:`_intern` in one int64 array: [count, slots…, (start, end) of each text…]."""
    d = np.full(1 + INTERN_SLOTS + 2 * INTERN_TEXTS, -1, dtype=np.int64)
    d[0] = 0
    return d


@njit(cache=True)
def _intern(b, s, e, d):
    """Code of the text b[s:e] among the texts seen so far (byte-exact; 0, 1, … in first-seen order), found
    by an FNV-1a hash into open-addressed slots; -1 once INTERN_TEXTS distinct texts are held. A key or
    type name repeated millions of times is then one code per row, not a copy of its bytes."""
    h = np.uint64(14695981039346656037)
    for j in range(s, e):
        h = (h ^ np.uint64(b[j])) * np.uint64(1099511628211)
    mask = INTERN_SLOTS - 1
    slot = np.int64(h & np.uint64(mask))
    texts = 1 + INTERN_SLOTS
    while True:
        c = d[1 + slot]
        if c < 0:
            n = d[0]
            if n >= INTERN_TEXTS:
                return -1
            d[texts + 2 * n], d[texts + 2 * n + 1] = s, e
            d[1 + slot] = n
            d[0] = n + 1
            return n
        fs, fe = d[texts + 2 * c], d[texts + 2 * c + 1]
        if fe - fs == e - s:
            same = True
            for j in range(e - s):
                if b[fs + j] != b[s + j]:
                    same = False
                    break
            if same:
                return c
        slot = (slot + 1) & mask


def interned_ranges(d: np.ndarray):
    """(starts, ends) of the texts an :func:`_intern` table holds, by code."""
    n = int(d[0])
    texts = d[1 + INTERN_SLOTS:1 + INTERN_SLOTS + 2 * n].reshape(-1, 2)
    return texts[:, 0].copy(), texts[:, 1].copy()


@njit(cache=True)
def _utf8(out, o, cp):
    if cp < 0x80:
        out[o] = cp
        return o + 1
    if cp < 0x800:
        out[o], out[o + 1] = 0xC0 | (cp >> 6), 0x80 | (cp & 0x3F)
        return o + 2
    if cp < 0x10000:
        out[o], out[o + 1], out[o + 2] = 0xE0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3F), 0x80 | (cp & 0x3F)
        return o + 3
    out[o], out[o + 1] = 0xF0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3F)
    out[o + 2], out[o + 3] = 0x80 | ((cp >> 6) & 0x3F), 0x80 | (cp & 0x3F)
    return o + 4


@njit(cache=True)
def _hex4(b, i):
    v = 0
    for j in range(i, i + 4):
        c = b[j]
        d = c - 48 if 48 <= c <= 57 else (c - 87 if 97 <= c <= 102 else (c - 55 if 65 <= c <= 70 else -1))
        if d < 0:
            return -1
        v = v * 16 + d
    return v


@njit(cache=True)
def hash_ranges(b, starts, ends):
    """Two independent 64-bit hashes of each byte range b[s:e] (with its length mixed in), eight bytes
    to a step (FNV-style multiply chains; a byte at a time took 3-4x longer): identical texts are found
    without making Python bytes of each (callers check every group with the second hash)."""
    n = len(starts)
    h1 = np.empty(n, dtype=np.uint64)
    h2 = np.empty(n, dtype=np.uint64)
    _hash_into(borrowed(b), borrowed(starts), borrowed(ends), borrowed(h1), borrowed(h2))
    return h1, h2


@njit(cache=True)
def _hash_into(b, starts, ends, h1, h2):
    p1, p2 = np.uint64(1099511628211), np.uint64(14029467366897019727)
    for k in range(len(starts)):
        s, e = np.uint64(starts[k]), np.uint64(ends[k])
        x = np.uint64(14695981039346656037)
        y = np.uint64(1099511628211) ^ np.uint64(ends[k] - starts[k])
        j = s
        while j + np.uint64(8) <= e:
            w = np.uint64(0)
            for q in range(8):
                w |= np.uint64(b[j + np.uint64(q)]) << np.uint64(8 * q)
            x = (x ^ w) * p1
            x ^= x >> np.uint64(31)
            y = (y ^ w) * p2 + _U1
            y ^= y >> np.uint64(29)
            j += np.uint64(8)
        while j < e:
            c = np.uint64(b[j])
            x = (x ^ c) * p1
            y = (y ^ c) * p2 + _U1
            j += _U1
        h1[k], h2[k] = x, y


@njit(cache=True)
def gather(b, starts, ends, consts):
    """Arrow large_string buffers (offsets, data, validity) of the strings b[s:e] (JSON escapes
    decoded); s = -1: null; s <= -2: the constant consts[-2 - s:e] (copied as is). ``ok`` False on
    a malformed escape; ``ascii`` True when every byte copied is below 0x80 (no UTF-8 check needed)."""
    n = len(starts)
    total = 0
    for k in range(n):
        if starts[k] >= 0:
            total += ends[k] - starts[k]
        elif starts[k] <= -2:
            total += ends[k] - (-2 - starts[k])
    out = np.empty(max(total, 1), dtype=np.uint8)
    offsets = np.empty(n + 1, dtype=np.int64)
    valid = np.ones(n, dtype=np.bool_)
    o, high, ok = _gather_into(borrowed(b), borrowed(starts), borrowed(ends), borrowed(consts), borrowed(out),
                               borrowed(offsets), borrowed(valid))
    if not ok:
        return False, False, offsets, out, valid
    return True, high < 0x80, offsets, out[:max(o, 1)], valid


@njit(cache=True)
def _gather_into(b, starts, ends, consts, out, offsets, valid):
    n = len(starts)
    o = 0
    high = 0
    for k in range(n):
        offsets[k] = o
        s, e = starts[k], ends[k]
        if s == -1:
            valid[k] = False
            continue
        o, h, ok = _copy(b, s, e, consts, out, o)
        if not ok:
            return o, high, False
        high |= h
    offsets[n] = o
    return o, high, True


@njit(cache=True, inline="always")
def _copy(b, s, e, consts, out, o):
    """Copy one string (see :func:`gather`) to out[o:]; (new o, OR of the bytes, ok)."""
    high = 0
    if s <= -2:
        for j in range(-2 - s, e):
            out[o] = consts[j]
            o += 1
        return o, 0, True
    i = s
    while i < e:
        c = b[i]
        if c != 92:
            out[o] = c
            high |= c
            o += 1
            i += 1
            continue
        x = b[i + 1]
        if x == 110:
            out[o] = 10
        elif x == 116:
            out[o] = 9
        elif x == 114:
            out[o] = 13
        elif x == 98:
            out[o] = 8
        elif x == 102:
            out[o] = 12
        elif x == 117:
            cp = _hex4(b, i + 2)
            if cp < 0:
                return o, high, False
            i += 6
            if 0xD800 <= cp < 0xDC00 and i + 6 <= e and b[i] == 92 and b[i + 1] == 117:
                lo = _hex4(b, i + 2)
                if 0xDC00 <= lo < 0xE000:
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
                    i += 6
            if 0xD800 <= cp < 0xE000:
                return o, high, False
            o = _utf8(out, o, cp)
            high |= 0x80
            continue
        else:
            out[o] = x
        o += 1
        i += 2
    return o, high, True


@njit(cache=True)
def gather_many(b, S, E, consts):
    """:func:`gather` for several columns at once, row by row — the fields of one span lie close
    together in the file, so one pass touches each part of it once. ``S``/``E`` are (rows, columns);
    returns ok, per-column ascii flags, offsets (columns, rows + 1) into one shared data buffer,
    the buffer, and validity (columns, rows)."""
    n, m = S.shape
    start = np.zeros(m + 1, dtype=np.int64)
    for c in range(m):
        t = 0
        for k in range(n):
            s = S[k, c]
            if s >= 0:
                t += E[k, c] - s
            elif s <= -2:
                t += E[k, c] - (-2 - s)
        start[c + 1] = start[c] + t
    out = np.empty(max(start[m], 1), dtype=np.uint8)
    offsets = np.empty((m, n + 1), dtype=np.int64)
    valid = np.ones((m, n), dtype=np.bool_)
    ascii_only = np.ones(m, dtype=np.bool_)
    pos = start[:m].copy()
    ok = _gather_many_into(borrowed(b), borrowed_f(S), borrowed_f(E), borrowed(consts), borrowed(out), offsets,
                           valid, ascii_only, pos)
    if not ok:
        return False, ascii_only, offsets, out, valid
    return True, ascii_only, offsets, out, valid


@njit(cache=True)
def _gather_many_into(b, S, E, consts, out, offsets_, valid_, ascii_only, pos):
    n, m = S.shape
    offsets = carray(_as_ptr(offsets_.ctypes.data, offsets_.dtype), offsets_.shape)  # (C order, borrowed)
    valid = carray(_as_ptr(valid_.ctypes.data, valid_.dtype), valid_.shape)
    for k in range(n):
        for c in range(m):
            offsets[c, k] = pos[c]
            s = S[k, c]
            if s == -1:
                valid[c, k] = False
                continue
            o, high, ok = _copy(b, s, E[k, c], consts, out, pos[c])
            if not ok:
                return False
            if high >= 0x80:
                ascii_only[c] = False
            pos[c] = o
    for c in range(m):
        offsets[c, n] = pos[c]
    return True
