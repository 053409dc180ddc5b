"""Per-packet header decoding, compiled with numba: link layer -> IPv4/IPv6 -> TCP/UDP.

One record per captured packet goes into a numpy structured array (:data:`PACKET_DTYPE`),
so a million packets cost a few tens of MB and no Python object each. Lengths come from
the IP header, not from the captured bytes, so snaplen-truncated packets keep their
true payload length (what Wireshark calls ``tcp.len``).
"""
from __future__ import annotations

import numba
import numpy as np

# Link types (https://www.tcpdump.org/linktypes.html) this decoder understands.
LINKTYPE_NAMES = {
    0: "BSD loopback (NULL)",
    1: "Ethernet",
    12: "raw IP",
    14: "raw IP",
    101: "raw IP",
    108: "OpenBSD loopback",
    113: "Linux cooked (SLL)",
    228: "raw IPv4",
    229: "raw IPv6",
    276: "Linux cooked v2 (SLL2)",
}

PACKET_DTYPE = np.dtype([
    ("ts", np.int64),          # ns since the epoch (UTC)
    ("caplen", np.int32),
    ("wirelen", np.int32),
    ("ipver", np.int8),        # 0 = not IP
    ("proto", np.uint8),       # IP protocol (6 TCP, 17 UDP, ...)
    ("l4ok", np.bool_),        # the transport header was complete in the captured bytes
    ("frag", np.bool_),        # a non-first IP fragment (no transport header)
    ("src_hi", np.uint64), ("src_lo", np.uint64),
    ("dst_hi", np.uint64), ("dst_lo", np.uint64),
    ("sport", np.uint16), ("dport", np.uint16),
    ("seq", np.uint32), ("ack", np.uint32),
    ("flags", np.uint16),      # the 12 TCP flag bits (FIN=0x01 SYN=0x02 RST=0x04 PSH=0x08 ACK=0x10 ...)
    ("window", np.uint16),     # raw, unscaled
    ("hdrlen", np.uint8),      # TCP header length
    ("paylen", np.int32),      # TCP/UDP payload length from the IP header
    ("mss", np.int32),         # -1 when absent
    ("wscale", np.int8),       # -1 when absent
    ("sack_perm", np.bool_),
    ("sack_blocks", np.int8),
    ("has_ts", np.bool_),
    ("tsval", np.uint32), ("tsecr", np.uint32),
])

TH_FIN, TH_SYN, TH_RST, TH_PUSH, TH_ACK, TH_URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20


@numba.njit(cache=True, inline="always")
def _u16(b, i):
    return (np.int64(b[i]) << 8) | np.int64(b[i + 1])


@numba.njit(cache=True, inline="always")
def _u32(b, i):
    return (np.int64(b[i]) << 24) | (np.int64(b[i + 1]) << 16) | (np.int64(b[i + 2]) << 8) | np.int64(b[i + 3])


@numba.njit(cache=True, inline="always")
def _u32le(b, i):
    return (np.int64(b[i + 3]) << 24) | (np.int64(b[i + 2]) << 16) | (np.int64(b[i + 1]) << 8) | np.int64(b[i])


@numba.njit(cache=True, inline="always")
def _u64(b, i):
    v = np.uint64(0)
    for k in range(8):
        v = (v << np.uint64(8)) | np.uint64(b[i + k])
    return v


@numba.njit(cache=True)
def decode_packet(b, off, caplen, wirelen, linktype, out, i):
    """Fill ``out[i]`` from the packet bytes ``b[off:off+caplen]``; never reads past them."""
    r = out[i]
    r.caplen = caplen
    r.wirelen = wirelen
    r.mss = -1
    r.wscale = -1
    end = off + caplen
    etype = 0
    l3 = -1
    if linktype == 1:
        if caplen < 14:
            return
        etype = _u16(b, off + 12)
        p = off + 14
        while (etype == 0x8100 or etype == 0x88A8 or etype == 0x9100) and p + 4 <= end:
            etype = _u16(b, p + 2)
            p += 4
        l3 = p
    elif linktype == 113:
        if caplen < 16:
            return
        etype = _u16(b, off + 14)
        l3 = off + 16
    elif linktype == 276:
        if caplen < 20:
            return
        etype = _u16(b, off)
        l3 = off + 20
    elif linktype == 101 or linktype == 12 or linktype == 14 or linktype == 228 or linktype == 229:
        if caplen < 1:
            return
        v = b[off] >> 4
        etype = 0x0800 if v == 4 else (0x86DD if v == 6 else 0)
        l3 = off
    elif linktype == 0 or linktype == 108:
        if caplen < 4:
            return
        fam = _u32(b, off) if linktype == 108 else _u32le(b, off)
        if fam > 0xFFFF:  # written in the other byte order
            fam = _u32le(b, off) if linktype == 108 else _u32(b, off)
        if fam == 2:
            etype = 0x0800
        elif fam == 24 or fam == 28 or fam == 30 or fam == 10:
            etype = 0x86DD
        l3 = off + 4
    else:
        return

    l4 = -1
    l4len = 0
    proto = 0
    if etype == 0x0800:
        if l3 + 20 > end or (b[l3] >> 4) != 4:
            return
        ihl = (b[l3] & 15) * 4
        if ihl < 20:
            return
        totlen = _u16(b, l3 + 2)
        if totlen == 0:  # TSO on the capturing host: the wire length is the truth
            totlen = wirelen - (l3 - off)
        proto = b[l3 + 9]
        r.ipver = 4
        r.proto = proto
        r.src_lo = np.uint64(_u32(b, l3 + 12))
        r.dst_lo = np.uint64(_u32(b, l3 + 16))
        if (_u16(b, l3 + 6) & 0x1FFF) != 0:
            r.frag = True
            return
        l4 = l3 + ihl
        l4len = totlen - ihl
    elif etype == 0x86DD:
        if l3 + 40 > end or (b[l3] >> 4) != 6:
            return
        plen = _u16(b, l3 + 4)
        if plen == 0:
            plen = wirelen - (l3 - off) - 40
        nh = b[l3 + 6]
        r.ipver = 6
        r.src_hi = _u64(b, l3 + 8)
        r.src_lo = _u64(b, l3 + 16)
        r.dst_hi = _u64(b, l3 + 24)
        r.dst_lo = _u64(b, l3 + 32)
        p = l3 + 40
        while (nh == 0 or nh == 43 or nh == 60 or nh == 44) and p + 8 <= end:
            if nh == 44:
                if (_u16(b, p + 2) >> 3) != 0:
                    r.proto = b[p]
                    r.frag = True
                    return
                nh = b[p]
                p += 8
            else:
                nh2 = b[p]
                p += (np.int64(b[p + 1]) + 1) * 8
                nh = nh2
        proto = nh
        r.proto = proto
        l4 = p
        l4len = plen - (p - (l3 + 40))
    else:
        return

    if proto == 6:
        if l4 + 20 > end:
            return
        r.sport = _u16(b, l4)
        r.dport = _u16(b, l4 + 2)
        r.seq = _u32(b, l4 + 4)
        r.ack = _u32(b, l4 + 8)
        hl = (b[l4 + 12] >> 4) * 4
        r.hdrlen = hl
        r.flags = _u16(b, l4 + 12) & 0x0FFF
        r.window = _u16(b, l4 + 14)
        if hl < 20:
            return
        pl = l4len - hl
        r.paylen = pl if pl > 0 else 0
        r.l4ok = True
        p = l4 + 20
        oend = min(l4 + hl, end)
        while p < oend:
            kind = b[p]
            if kind == 0:
                break
            if kind == 1:
                p += 1
                continue
            if p + 1 >= oend:
                break
            ln = np.int64(b[p + 1])
            if ln < 2 or p + ln > oend:
                break
            if kind == 2 and ln == 4:
                r.mss = _u16(b, p + 2)
            elif kind == 3 and ln == 3:
                r.wscale = min(np.int64(b[p + 2]), 14)
            elif kind == 4:
                r.sack_perm = True
            elif kind == 5:
                r.sack_blocks = (ln - 2) // 8
            elif kind == 8 and ln == 10:
                r.has_ts = True
                r.tsval = _u32(b, p + 2)
                r.tsecr = _u32(b, p + 6)
            p += ln
    elif proto == 17:
        if l4 + 8 > end:
            return
        r.sport = _u16(b, l4)
        r.dport = _u16(b, l4 + 2)
        ul = _u16(b, l4 + 4) - 8
        r.paylen = ul if ul > 0 else 0
        r.l4ok = True


@numba.njit(cache=True)
def address_codes(seen, k, ver, s_hi, s_lo, d_hi, d_lo):
    """Integer codes for source and destination addresses (-1: not IP), shared and in order of appearance.

    ``seen`` maps (version, hi, lo) to a code and persists between batches; ``k`` is the
    next code. Returns (src codes, dst codes, new versions, new hi, new lo, next k).
    """
    n = ver.shape[0]
    sc = np.full(n, -1, np.int32)
    dc = np.full(n, -1, np.int32)
    uv = np.zeros(2 * n + 1, np.int64)
    uh = np.zeros(2 * n + 1, np.uint64)
    ul = np.zeros(2 * n + 1, np.uint64)
    k0 = k
    for i in range(n):
        v = np.int64(ver[i])
        if v == 0:
            continue
        for side in range(2):
            key = (v, s_hi[i], s_lo[i]) if side == 0 else (v, d_hi[i], d_lo[i])
            c = seen.get(key, -1)
            if c < 0:
                c = k
                seen[key] = c
                uv[k - k0], uh[k - k0], ul[k - k0] = key
                k += 1
            if side == 0:
                sc[i] = c
            else:
                dc[i] = c
    return sc, dc, uv[: k - k0], uh[: k - k0], ul[: k - k0], k


@numba.njit(cache=True)
def conversation_codes(seen, k, sc, dc, sport, dport):
    """Address/port-pair id of each packet (either direction), whether it goes from the pair's second
    end, and the next free id; ``seen`` persists between batches."""
    n = sc.shape[0]
    conv = np.zeros(n, np.int64)
    swapped = np.zeros(n, np.bool_)
    for i in range(n):
        a = (np.int64(sc[i]) << 16) | np.int64(sport[i])
        b = (np.int64(dc[i]) << 16) | np.int64(dport[i])
        sw = a > b
        key = (b, a) if sw else (a, b)
        c = seen.get(key, -1)
        if c < 0:
            c = k
            seen[key] = c
            k += 1
        conv[i] = c
        swapped[i] = sw
    return conv, swapped, k
