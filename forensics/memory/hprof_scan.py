"""The HPROF record scanner: one numba pass over the bytes of a heap dump into numpy columns.

:func:`scan` parses as many whole records as ``buf[pos:end]`` holds and
returns a status, so the caller can feed a memory-mapped file in one call or a
gzip stream chunk by chunk (``NEED_DATA``: give the bytes from ``pos`` again
with more after them), and grow an output column when one is full
(``NEED_SPACE``: the item at ``pos`` was not started, grow column
``state[S_WHICH]`` and call again). Everything the caller needs between calls
lives in the ``state`` vector, so a call never leaves a record half-recorded.

Records (``hprof_binary_format.html`` of the JDK's HPROF agent, HotSpot's
``heapDumper.cpp``): a top-level record is ``u1 tag, u4 time, u4 length``;
``HEAP DUMP`` (0x0C) and ``HEAP DUMP SEGMENT`` (0x1C) hold sub-records, which
are scanned here; ``UTF8`` (0x01) and ``LOAD CLASS`` (0x02) are kept; any
other known record is skipped by its length. All numbers are big-endian.
"""
from __future__ import annotations

import numpy as np
from numba import njit

# statuses
DONE, NEED_DATA, NEED_SPACE, BAD = 0, 1, 2, 3

# state slots
(S_SEG, S_SKIP, S_NOBJ, S_NEDGE, S_NROOT, S_NCLS, S_NFLD, S_NUTF, S_NPOOL, S_NLOAD, S_NDEF, S_NDEFB,
 S_NREF, S_WHICH, S_ERR, S_TAG, S_SEGSTART, S_NSEG) = range(18)
STATE_SLOTS = 18

# columns that can fill up (S_WHICH)
W_OBJ, W_EDGE, W_ROOT, W_CLS, W_FLD, W_UTF, W_POOL, W_LOAD, W_DEF, W_DEFB, W_REF = range(11)

# errors (S_ERR)
E_TAG, E_SUBTAG, E_CROSS, E_TYPE, E_LAYOUT = 1, 2, 3, 4, 5
ERRORS = {E_TAG: "unknown top-level record tag", E_SUBTAG: "unknown heap-dump sub-record tag",
          E_CROSS: "sub-record runs past the end of its heap-dump segment",
          E_TYPE: "unknown basic type", E_LAYOUT: "instance field bytes do not match its class's fields"}

TOP_TAGS = np.zeros(256, np.bool_)
TOP_TAGS[[0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x1C, 0x2C]] = True

MAX_DEPTH = 1024   # superclass chain length beyond which the chain must be a loop

# object kinds
K_INSTANCE, K_OBJARRAY, K_PRIMARRAY, K_CLASS = 0, 1, 2, 3
# basic types: 2 object, 4 boolean, 5 char, 6 float, 7 double, 8 byte, 9 short, 10 int, 11 long
T_OBJECT = 2


@njit(cache=True, inline="always")
def _u(buf, p, n):
    v = np.uint64(0)
    for i in range(n):
        v = (v << np.uint64(8)) | np.uint64(buf[p + i])
    return v


@njit(cache=True, inline="always")
def _tsize(t, idsize):
    if t == 2:
        return idsize
    if t == 4 or t == 8:
        return 1
    if t == 5 or t == 9:
        return 2
    if t == 6 or t == 10:
        return 4
    if t == 7 or t == 11:
        return 8
    return -1


@njit(cache=True, inline="always")
def _root_len(tag, I):
    """Body length of a GC-root sub-record (after the tag), or -1 if ``tag`` is not a root."""
    if tag == 0xFF or tag == 0x05 or tag == 0x07 or tag == 0x89 or tag == 0x8A or tag == 0x8B \
            or tag == 0x8C or tag == 0x8D or tag == 0x90:
        return I
    if tag == 0x01:
        return 2 * I
    if tag == 0x02 or tag == 0x03 or tag == 0x08 or tag == 0x8E:
        return I + 8
    if tag == 0x04 or tag == 0x06:
        return I + 4
    return -1


@njit(cache=True)
def _layout(ci, cls_super, cls_fstart, cls_fcount, fld_type, cls_index, ref_start, ref_count, ref_total,
            ref_offs, nref, idsize):
    """Offsets of the reference fields of class ``ci``'s instances (own fields first, then each superclass's).

    Returns the new pool length, -1 when a superclass is not known yet, -2 when ``ref_offs`` is full,
    -3 when the superclass chain loops.
    """
    # count first
    c = ci
    need = 0
    depth = 0
    while True:
        for k in range(cls_fstart[c], cls_fstart[c] + cls_fcount[c]):
            if fld_type[k] == T_OBJECT:
                need += 1
        s = cls_super[c]
        if s == 0:
            break
        if s not in cls_index:
            return -1
        c = cls_index[s]
        depth += 1
        if depth > MAX_DEPTH:   # a superclass cycle (corrupt dump): no layout
            return -3
    if nref + need > len(ref_offs):
        return -2
    c = ci
    off = 0
    n = nref
    while True:
        for k in range(cls_fstart[c], cls_fstart[c] + cls_fcount[c]):
            t = fld_type[k]
            if t == T_OBJECT:
                ref_offs[n] = off
                n += 1
            off += _tsize(t, idsize)
        s = cls_super[c]
        if s == 0:
            break
        c = cls_index[s]
    ref_start[ci] = nref
    ref_count[ci] = need
    ref_total[ci] = off
    return n


@njit(cache=True, inline="always")
def _whole(st, pos, L, seg, end):
    """Whether the ``L``-byte sub-record at ``pos`` can be read: 0 yes, BAD (``E_CROSS``) when it runs past its
    heap-dump segment, NEED_DATA when the chunk ends first (the one bounds check every sub-record makes)."""
    if L > seg:
        st[S_ERR] = E_CROSS
        return BAD
    if pos + L > end:
        return NEED_DATA
    return 0


@njit(cache=True, inline="always")
def _room(st, need, cap, which):
    """0 when ``need`` rows fit an output of ``cap``; else NEED_SPACE, naming the output to grow."""
    if need > cap:
        st[S_WHICH] = which
        return NEED_SPACE
    return 0


@njit(cache=True, inline="always")
def _put_obj(st, obj_id, obj_cls, obj_kind, obj_len, obj_off, obj_hash, o, oid, cls, kind, ln, off, hsh):
    """Object row ``o``."""
    obj_id[o] = oid
    obj_cls[o] = cls
    obj_kind[o] = kind
    obj_len[o] = ln
    obj_off[o] = off
    obj_hash[o] = hsh
    st[S_NOBJ] = o + 1


@njit(cache=True, inline="always")
def _consume(st, pos, L, seg):
    """Step over an ``L``-byte sub-record of the current segment."""
    st[S_SEG] = seg - L
    return pos + L


@njit(cache=True)
def scan(buf, pos, end, base, idsize, st,
         obj_id, obj_cls, obj_kind, obj_len, obj_off, obj_hash,
         edge_src, edge_dst,
         root_type, root_id, root_extra,
         cls_id, cls_super, cls_loader, cls_isize, cls_fstart, cls_fcount, cls_sstart, cls_scount,
         fld_name, fld_type, cls_index, ref_start, ref_count, ref_total, ref_offs,
         utf_id, utf_start, utf_len, pool,
         load_serial, load_cls, load_name,
         def_obj, def_start, defb):
    """Scan records in ``buf[pos:end]`` (``base``: absolute offset of ``buf[0]``). Returns ``(status, pos)``."""
    I = idsize
    while True:
        if st[S_SKIP] > 0:
            n = min(st[S_SKIP], end - pos)
            pos += n
            st[S_SKIP] -= n
            if st[S_SKIP] > 0:
                return NEED_DATA, pos
            continue
        if st[S_SEG] > 0:
            seg = st[S_SEG]
            if pos >= end:
                return NEED_DATA, pos
            tag = buf[pos]
            st[S_TAG] = tag
            rl = _root_len(tag, I)
            if rl >= 0:
                L = 1 + rl
                rc = _whole(st, pos, L, seg, end)
                if rc:
                    return rc, pos
                r = st[S_NROOT]
                rc = _room(st, r + 1, len(root_id), W_ROOT)
                if rc:
                    return rc, pos
                root_type[r] = tag
                root_id[r] = _u(buf, pos + 1, I)
                extra = 0
                if tag == 0x02 or tag == 0x03 or tag == 0x08 or tag == 0x06 or tag == 0x04 or tag == 0x8E:
                    extra = np.int64(_u(buf, pos + 1 + I, 4))
                root_extra[r] = extra
                st[S_NROOT] = r + 1
                pos = _consume(st, pos, L, seg)
                continue
            if tag == 0x21:  # INSTANCE DUMP: id, u4 stack serial, class id, u4 n, n bytes
                h = 1 + I + 4 + I + 4
                rc = _whole(st, pos, h, seg, end)
                if rc:
                    return rc, pos
                nb = np.int64(_u(buf, pos + 1 + I + 4 + I, 4))
                L = h + nb
                rc = _whole(st, pos, L, seg, end)
                if rc:
                    return rc, pos
                o = st[S_NOBJ]
                rc = _room(st, o + 1, len(obj_id), W_OBJ)
                if rc:
                    return rc, pos
                cid = _u(buf, pos + 1 + I + 4, I)
                data = pos + h
                e = st[S_NEDGE]
                if cid in cls_index:
                    ci = cls_index[cid]
                    if ref_start[ci] < 0:
                        n = _layout(ci, cls_super, cls_fstart, cls_fcount, fld_type, cls_index, ref_start,
                                    ref_count, ref_total, ref_offs, st[S_NREF], I)
                        if n == -2:
                            st[S_WHICH] = W_REF
                            return NEED_SPACE, pos
                        if n >= 0:
                            st[S_NREF] = n
                if cid in cls_index and ref_start[cls_index[cid]] >= 0:
                    ci = cls_index[cid]
                    if ref_total[ci] != nb:
                        st[S_ERR] = E_LAYOUT
                        return BAD, pos
                    rc = _room(st, e + ref_count[ci] + 1, len(edge_dst), W_EDGE)
                    if rc:
                        return rc, pos
                    rs = ref_start[ci]
                    for k in range(rs, rs + ref_count[ci]):
                        v = _u(buf, data + ref_offs[k], I)
                        if v != 0:
                            edge_src[e] = o
                            edge_dst[e] = v
                            e += 1
                else:  # class not seen yet: keep the field bytes, decode after the scan
                    d = st[S_NDEF]
                    rc = _room(st, d + 1, len(def_obj), W_DEF)
                    if rc:
                        return rc, pos
                    b = st[S_NDEFB]
                    rc = _room(st, b + nb, len(defb), W_DEFB)
                    if rc:
                        return rc, pos
                    rc = _room(st, e + 1, len(edge_dst), W_EDGE)
                    if rc:
                        return rc, pos
                    def_obj[d] = o
                    def_start[d] = b
                    defb[b:b + nb] = buf[data:data + nb]
                    st[S_NDEF] = d + 1
                    st[S_NDEFB] = b + nb
                edge_src[e] = o     # an object refers to its class (as in MAT)
                edge_dst[e] = cid
                e += 1
                st[S_NEDGE] = e
                _put_obj(st, obj_id, obj_cls, obj_kind, obj_len, obj_off, obj_hash, o, _u(buf, pos + 1, I), cid, K_INSTANCE, nb,
                         base + data, 0)
                pos = _consume(st, pos, L, seg)
                continue
            if tag == 0x22:  # OBJECT ARRAY DUMP: id, u4 stack, u4 length, array class id, ids
                h = 1 + I + 4 + 4 + I
                rc = _whole(st, pos, h, seg, end)
                if rc:
                    return rc, pos
                ln = np.int64(_u(buf, pos + 1 + I + 4, 4))
                L = h + ln * I
                rc = _whole(st, pos, L, seg, end)
                if rc:
                    return rc, pos
                o = st[S_NOBJ]
                rc = _room(st, o + 1, len(obj_id), W_OBJ)
                if rc:
                    return rc, pos
                e = st[S_NEDGE]
                rc = _room(st, e + ln + 1, len(edge_dst), W_EDGE)
                if rc:
                    return rc, pos
                cid = _u(buf, pos + 1 + I + 8, I)
                data = pos + h
                for k in range(ln):
                    v = _u(buf, data + k * I, I)
                    if v != 0:
                        edge_src[e] = o
                        edge_dst[e] = v
                        e += 1
                edge_src[e] = o
                edge_dst[e] = cid
                e += 1
                st[S_NEDGE] = e
                _put_obj(st, obj_id, obj_cls, obj_kind, obj_len, obj_off, obj_hash, o, _u(buf, pos + 1, I), cid, K_OBJARRAY, ln,
                         base + data, 0)
                pos = _consume(st, pos, L, seg)
                continue
            if tag == 0x23 or tag == 0xC3:  # PRIMITIVE ARRAY DUMP (0xC3: Android's, without data)
                h = 1 + I + 4 + 4 + 1
                rc = _whole(st, pos, h, seg, end)
                if rc:
                    return rc, pos
                ln = np.int64(_u(buf, pos + 1 + I + 4, 4))
                t = buf[pos + 1 + I + 8]
                es = _tsize(t, I)
                if es < 0 or t == T_OBJECT:
                    st[S_ERR] = E_TYPE
                    return BAD, pos
                L = h + (ln * es if tag == 0x23 else 0)
                rc = _whole(st, pos, L, seg, end)
                if rc:
                    return rc, pos
                o = st[S_NOBJ]
                rc = _room(st, o + 1, len(obj_id), W_OBJ)
                if rc:
                    return rc, pos
                data = pos + h
                hsh = np.uint64(0)
                if tag == 0x23 and (t == 5 or t == 8):  # char[] / byte[]: FNV-1a of the content (duplicate strings)
                    hsh = np.uint64(0xcbf29ce484222325)
                    for k in range(data, data + ln * es):
                        hsh = (hsh ^ np.uint64(buf[k])) * np.uint64(0x100000001b3)
                _put_obj(st, obj_id, obj_cls, obj_kind, obj_len, obj_off, obj_hash, o, _u(buf, pos + 1, I), t, K_PRIMARRAY, ln,
                         base + data, hsh)
                pos = _consume(st, pos, L, seg)
                continue
            if tag == 0x20:  # CLASS DUMP
                p = pos + 1 + I + 4 + 6 * I + 4
                if p + 2 > end:
                    if p + 2 - pos > seg:
                        st[S_ERR] = E_CROSS
                        return BAD, pos
                    return NEED_DATA, pos
                ncp = np.int64(_u(buf, p, 2))
                p += 2
                for k in range(ncp):
                    if p + 3 > end:
                        return NEED_DATA, pos
                    es = _tsize(buf[p + 2], I)
                    if es < 0:
                        st[S_ERR] = E_TYPE
                        return BAD, pos
                    p += 3 + es
                if p + 2 > end:
                    return NEED_DATA, pos
                nst = np.int64(_u(buf, p, 2))
                p += 2
                sp = p
                for k in range(nst):
                    if p + I + 1 > end:
                        return NEED_DATA, pos
                    es = _tsize(buf[p + I], I)
                    if es < 0:
                        st[S_ERR] = E_TYPE
                        return BAD, pos
                    p += I + 1 + es
                if p + 2 > end:
                    return NEED_DATA, pos
                nf = np.int64(_u(buf, p, 2))
                p += 2
                fp = p
                p += nf * (I + 1)
                L = p - pos
                rc = _whole(st, pos, L, seg, end)
                if rc:
                    return rc, pos
                c = st[S_NCLS]
                rc = _room(st, c + 1, len(cls_id), W_CLS)
                if rc:
                    return rc, pos
                f = st[S_NFLD]
                rc = _room(st, f + nst + nf, len(fld_type), W_FLD)
                if rc:
                    return rc, pos
                o = st[S_NOBJ]
                rc = _room(st, o + 1, len(obj_id), W_OBJ)
                if rc:
                    return rc, pos
                e = st[S_NEDGE]
                rc = _room(st, e + nst + 2, len(edge_dst), W_EDGE)
                if rc:
                    return rc, pos
                cid = _u(buf, pos + 1, I)
                sup = _u(buf, pos + 1 + I + 4, I)
                ldr = _u(buf, pos + 1 + I + 4 + I, I)
                # statics: names and types in the field table (type | 0x80 marks a static), references as edges
                cls_sstart[c] = f
                q = sp
                for k in range(nst):
                    t = buf[q + I]
                    fld_name[f] = _u(buf, q, I)
                    fld_type[f] = t | 0x80
                    if t == T_OBJECT:
                        v = _u(buf, q + I + 1, I)
                        if v != 0:
                            edge_src[e] = o
                            edge_dst[e] = v
                            e += 1
                    f += 1
                    q += I + 1 + _tsize(t, I)
                cls_scount[c] = nst
                cls_fstart[c] = f
                q = fp
                for k in range(nf):
                    t = buf[q + I]
                    if _tsize(t, I) < 0:
                        st[S_ERR] = E_TYPE
                        return BAD, pos
                    fld_name[f] = _u(buf, q, I)
                    fld_type[f] = t
                    f += 1
                    q += I + 1
                cls_fcount[c] = nf
                if sup != 0:
                    edge_src[e] = o
                    edge_dst[e] = sup
                    e += 1
                if ldr != 0:
                    edge_src[e] = o
                    edge_dst[e] = ldr
                    e += 1
                st[S_NEDGE] = e
                st[S_NFLD] = f
                cls_id[c] = cid
                cls_super[c] = sup
                cls_loader[c] = ldr
                cls_isize[c] = np.int64(_u(buf, pos + 1 + I + 4 + 6 * I, 4))
                ref_start[c] = -1
                cls_index[cid] = c
                st[S_NCLS] = c + 1
                _put_obj(st, obj_id, obj_cls, obj_kind, obj_len, obj_off, obj_hash, o, cid, cid, K_CLASS, nst,
                         base + pos, 0)
                pos = _consume(st, pos, L, seg)
                continue
            if tag == 0xFE:  # Android HEAP DUMP INFO: u4 heap id, id heap name
                L = 1 + 4 + I
                rc = _whole(st, pos, L, seg, end)
                if rc:
                    return rc, pos
                pos = _consume(st, pos, L, seg)
                continue
            st[S_ERR] = E_SUBTAG
            return BAD, pos
        # a top-level record
        if pos >= end:
            return DONE, pos
        if pos + 9 > end:
            return NEED_DATA, pos
        tag = buf[pos]
        st[S_TAG] = tag
        if not TOP_TAGS[tag]:
            st[S_ERR] = E_TAG
            return BAD, pos
        length = np.int64(_u(buf, pos + 5, 4))
        if tag == 0x0C or tag == 0x1C:
            st[S_SEG] = length
            st[S_SEGSTART] = base + pos
            st[S_NSEG] += 1
            pos += 9
            continue
        if tag == 0x01 or tag == 0x02:
            if pos + 9 + length > end:
                return NEED_DATA, pos
            if tag == 0x01:
                u = st[S_NUTF]
                rc = _room(st, u + 1, len(utf_id), W_UTF)
                if rc:
                    return rc, pos
                n = length - I
                if n < 0:
                    n = 0
                b = st[S_NPOOL]
                rc = _room(st, b + n, len(pool), W_POOL)
                if rc:
                    return rc, pos
                utf_id[u] = _u(buf, pos + 9, min(I, length))
                utf_start[u] = b
                utf_len[u] = n
                pool[b:b + n] = buf[pos + 9 + I:pos + 9 + I + n]
                st[S_NPOOL] = b + n
                st[S_NUTF] = u + 1
            elif length >= 8 + 2 * I:
                u = st[S_NLOAD]
                rc = _room(st, u + 1, len(load_cls), W_LOAD)
                if rc:
                    return rc, pos
                load_serial[u] = np.int64(_u(buf, pos + 9, 4))
                load_cls[u] = _u(buf, pos + 13, I)
                load_name[u] = _u(buf, pos + 17 + I, I)
                st[S_NLOAD] = u + 1
            pos += 9 + length
            continue
        st[S_SKIP] = length   # frames, traces, thread records, heap-dump end: not needed here
        pos += 9
