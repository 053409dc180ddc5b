"""Per-packet header decoding, compiled with numba: link layer -> IP (through tunnels) -> TCP/UDP.

One record per captured packet goes into a numpy structured array (:data:`PACKET_DTYPE`),
so a million packets cost a few tens of MB and no Python object each. Lengths come from
the IP header, not from the captured bytes, so snaplen-truncated packets keep their
true payload length (what Wireshark calls ``tcp.len``).

Tunnels are followed as Wireshark follows them with its default preferences: IP-in-IP,
6in4/4in6, GRE (with ERSPAN I/II/III, WCCP, transparent Ethernet bridging, MPLS, PPTP, Aruba 802.11),
VXLAN (UDP 4789), VXLAN-GPE (4790), Geneve (6081, with options), GTP-U (2152), MPLS over
UDP (6635), GRE in UDP (4754), Teredo (3544), AYIYA (5072), MPLS and PPPoE inside Ethernet, and the sampled packet headers of sFlow
(6343, :mod:`forensics.network.sflow`). The innermost IP and transport
fill the record; the outermost IP endpoints and the first tunnel's kind are kept beside
them (``outer_*``, ``tunnel``). IP fragments are marked (``frag*``) and put together by
:mod:`forensics.network.fragments` before TCP analysis, as Wireshark reassembles them.
"""
from __future__ import annotations

import numba
import numpy as np

from .linklayer import LINKTYPE_NAMES, SNIFF_IP, _u16, _u32, ethernet, ieee80211, link_layer, ppp  # noqa: F401
from .sflow import sflow_network

PACKET_DTYPE = np.dtype([
    ("ts", np.int64),          # ns since the epoch (UTC)
    ("caplen", np.int32),
    ("wirelen", np.int32),
    ("linktype", np.uint16),
    ("ipver", np.int8),        # 0 = not IP
    ("proto", np.uint8),       # IP protocol (6 TCP, 17 UDP, ...)
    ("l4ok", np.bool_),        # the transport header was complete in the captured bytes
    ("frag", np.bool_),        # part of a fragmented IP datagram (not analysed until reassembled)
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
    ("tunnel", np.uint8),      # TUNNEL_NAMES code of the outermost tunnel, 0 = none
    ("outer_ver", np.int8),
    ("osrc_hi", np.uint64), ("osrc_lo", np.uint64),
    ("odst_hi", np.uint64), ("odst_lo", np.uint64),
    ("frag_id", np.uint32),    # IP identification of the fragmented datagram
    ("frag_off", np.int32),    # byte offset of this fragment
    ("frag_len", np.int32),    # payload bytes of this fragment
    ("frag_more", np.bool_),
    ("frag_direct", np.bool_), # the fragmented IP layer carries the transport header itself
    ("fkey_src", np.uint64), ("fkey_dst", np.uint64),  # addresses of the fragmented layer (folded)
    ("icmp_type", np.uint8), ("icmp_code", np.uint8),    # ICMP / ICMPv6 (proto 1 / 58)
    ("no_analysis", np.bool_), # TCP that gets a stream but no analysis (Wireshark: fragmented or in an ICMP error)
    ("sample", np.uint16),     # set before decoding: which sampled header of an sFlow datagram to decode (0 = first)
])

TUNNEL_NAMES = {1: "IP-in-IP", 2: "6in4", 3: "4in6", 4: "IPv6-in-IPv6", 5: "GRE", 6: "ERSPAN", 7: "WCCP",
                8: "VXLAN", 9: "Geneve", 10: "GTP-U", 11: "MPLS-over-UDP", 12: "VXLAN-GPE", 13: "Teredo",
                14: "PPTP", 15: "ICMP error", 16: "sFlow", 17: "AYIYA"}
T_IPIP, T_6IN4, T_4IN6, T_6IN6, T_GRE, T_ERSPAN, T_WCCP, T_VXLAN, T_GENEVE, T_GTPU, T_MPLSUDP, T_GPE, T_TEREDO, \
    T_PPTP, T_ICMPERR = range(1, 16)
T_SFLOW, T_AYIYA = 16, 17

TH_FIN, TH_SYN, TH_RST, TH_PUSH, TH_ACK, TH_URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20


@numba.njit(cache=True, inline="always")
def _u64(b, i):
    v = np.uint64(0)
    for k in range(8):
        v = (v << np.uint64(8)) | np.uint64(b[i + k])
    return v


@numba.njit(cache=True, inline="always")
def _enter_tunnel(r, code):
    if r.tunnel == 0:
        r.tunnel = code
        r.outer_ver = r.ipver
        r.osrc_hi, r.osrc_lo, r.odst_hi, r.odst_lo = r.src_hi, r.src_lo, r.dst_hi, r.dst_lo


@numba.njit(cache=True)
def _ipv4(b, p, end, wire_left, r):
    """IPv4 header -> (protocol, transport offset, transport length); protocol -1 when not decodable
    or when this is a non-first fragment (then only the fragment fields are set)."""
    if p + 20 > end or (b[p] >> 4) != 4:
        return -1, p, 0
    ihl = (b[p] & 15) * 4
    if ihl < 20:
        return -1, p, 0
    totlen = _u16(b, p + 2)
    hdr_totlen = totlen
    if 0 < totlen < ihl:  # "Bogus IP length": Wireshark stops there
        r.ipver = 4
        r.proto = b[p + 9]
        r.src_lo = np.uint64(_u32(b, p + 12))
        r.dst_lo = np.uint64(_u32(b, p + 16))
        return -1, p, 0
    if totlen == 0 or totlen > wire_left:  # TSO on the capturing host, or a bad length: Wireshark
        totlen = wire_left                   # takes the frame's length (with an expert error)
    proto = np.int64(b[p + 9])
    r.ipver = 4
    r.proto = proto
    r.src_hi = 0
    r.dst_hi = 0
    r.src_lo = np.uint64(_u32(b, p + 12))
    r.dst_lo = np.uint64(_u32(b, p + 16))
    fo = _u16(b, p + 6)
    if r.frag:
        r.frag_direct = False  # an outer layer is the fragmented one
    elif (fo & 0x3FFF) != 0 and p + hdr_totlen > end:
        # Wireshark reassembles only fragments captured whole; a cut first fragment is dissected as it
        # is (its TCP gets a stream, not the analysis), a cut later one is only a fragment
        if (fo & 0x1FFF) != 0:
            return -1, p, 0
        r.no_analysis = True
    elif (fo & 0x3FFF) != 0:
        r.frag = True
        r.frag_direct = True
        r.frag_id = _u16(b, p + 4)
        r.frag_off = (fo & 0x1FFF) * 8
        r.frag_more = (fo & 0x2000) != 0
        r.frag_len = max(totlen - ihl, 0)
        r.fkey_src, r.fkey_dst = r.src_lo, r.dst_lo
        if (fo & 0x1FFF) != 0:
            return -1, p, 0
    return proto, p + ihl, totlen - ihl


@numba.njit(cache=True)
def _ipv6(b, p, end, wire_left, r):
    """IPv6 header and extension headers -> (protocol, transport offset, transport length)."""
    if p + 40 > end or (b[p] >> 4) != 6:
        return -1, p, 0
    plen = _u16(b, p + 4)
    if plen > wire_left - 40:  # a bad length: Wireshark takes the frame's length
        plen = wire_left - 40
    nh = np.int64(b[p + 6])
    r.ipver = 6
    r.src_hi = _u64(b, p + 8)
    r.src_lo = _u64(b, p + 16)
    r.dst_hi = _u64(b, p + 24)
    r.dst_lo = _u64(b, p + 32)
    if r.frag:
        r.frag_direct = False
    q = p + 40
    while (nh == 0 or nh == 43 or nh == 60 or nh == 44 or nh == 51) and q + 8 <= end:
        if nh == 44:
            fo = _u16(b, q + 2)
            if not r.frag and p + 40 + plen > end:  # not captured whole: not reassembled (see _ipv4)
                nh = np.int64(b[q])
                q += 8
                if (fo >> 3) != 0:
                    r.proto = nh
                    return -1, q, 0
                r.no_analysis = True
                continue
            if not r.frag:
                r.frag = True
                r.frag_direct = True
                r.frag_id = np.uint32(_u32(b, q + 4))
                r.frag_off = (fo >> 3) * 8
                r.frag_more = (fo & 1) != 0
                r.frag_len = max(plen - (q + 8 - (p + 40)), 0)
                r.fkey_src = r.src_hi ^ (r.src_lo * np.uint64(0x9E3779B97F4A7C15))
                r.fkey_dst = r.dst_hi ^ (r.dst_lo * np.uint64(0x9E3779B97F4A7C15))
            nh = np.int64(b[q])
            q += 8
            if (fo >> 3) != 0:
                r.proto = nh
                return -1, q, 0
        elif nh == 0 and plen == 0:  # hop-by-hop options: a jumbo payload option gives the length
            hl = (np.int64(b[q + 1]) + 1) * 8
            o = q + 2
            while o + 2 <= min(q + hl, end):
                if b[o] == 0:
                    o += 1
                    continue
                if b[o] == 0xC2 and b[o + 1] == 4 and o + 6 <= end:
                    plen = _u32(b, o + 2)
                    break
                o += 2 + np.int64(b[o + 1])
            nh = np.int64(b[q])
            q += hl
        elif nh == 51:  # AH: length in 4-byte units, minus 2
            nh2 = np.int64(b[q])
            q += (np.int64(b[q + 1]) + 2) * 4
            nh = nh2
        else:
            nh2 = np.int64(b[q])
            q += (np.int64(b[q + 1]) + 1) * 8
            nh = nh2
    r.proto = nh
    if plen == 0:  # a jumbogram or TSO: Wireshark 4.0 finds no payload there
        return -1, q, 0
    return nh, q, plen - (q - (p + 40))


@numba.njit(cache=True)
def _tcp(b, l4, end, l4len, r):
    if l4 + 16 > end:  # Wireshark needs the ports, numbers, flags and window (16 bytes) for a stream
        return
    r.sport = _u16(b, l4)
    r.dport = _u16(b, l4 + 2)
    r.seq = _u32(b, l4 + 4)
    r.ack = _u32(b, l4 + 8)
    hl = (b[l4 + 12] >> 4) * 4
    r.hdrlen = hl
    r.flags = _u16(b, l4 + 12) & 0x0FFF
    r.window = _u16(b, l4 + 14)
    pl = l4len - hl
    r.paylen = pl if pl > 0 else 0
    r.l4ok = True
    if pl < 0:  # shorter than its own header: Wireshark gives it a stream but no analysis
        r.no_analysis = True
    if hl < 20:  # a bogus header length: Wireshark analyses it anyway, without options
        return
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


@numba.njit(cache=True, inline="always")
def _udp_tunnel(port):
    if port == 4789:
        return T_VXLAN
    if port == 6081:
        return T_GENEVE
    if port == 2152:
        return T_GTPU
    if port == 6635:
        return T_MPLSUDP
    if port == 4790:
        return T_GPE
    if port == 3544:
        return T_TEREDO
    if port == 6343:
        return T_SFLOW
    if port == 4754:  # GRE in UDP (RFC 8086)
        return T_GRE
    if port == 5072:
        return T_AYIYA
    return 0


@numba.njit(cache=True)
def _udp_payload(b, q, end, code):
    """The network layer inside a UDP tunnel -> (etype or SNIFF_IP or 0, offset)."""
    if code == T_VXLAN:
        return ethernet(b, q + 8, end)
    if code == T_GENEVE:
        if q + 8 > end or (b[q] >> 6) != 0:
            return 0, q
        proto = _u16(b, q + 2)
        q += 8 + (np.int64(b[q]) & 0x3F) * 4
        return ethernet(b, q, end) if proto == 0x6558 else (proto, q)
    if code == T_GTPU:
        if q + 8 > end or (b[q] >> 5) != 1 or b[q + 1] != 0xFF:
            return 0, q
        fl = b[q]
        hl = 12 if (fl & 7) else 8
        nxt = np.int64(b[q + 11]) if (fl & 4) and q + 12 <= end else 0
        q += hl
        while nxt != 0 and q < end:
            ln = np.int64(b[q]) * 4
            if ln == 0 or q + ln > end:
                return 0, q
            nxt = np.int64(b[q + ln - 1])
            q += ln
        return SNIFF_IP, q
    if code == T_MPLSUDP:
        return 0x8847, q
    if code == T_GPE:
        if q + 8 > end:
            return 0, q
        np_ = b[q + 3]
        if np_ == 3:
            return ethernet(b, q + 8, end)
        return (0x0800 if np_ == 1 else (0x86DD if np_ == 2 else (0x8847 if np_ == 5 else 0))), q + 8
    if code == T_AYIYA:  # 8 bytes, identity (2^n bytes), signature (4n bytes); forwarded IP by its protocol
        if q + 8 > end:
            return 0, q
        op, nh = b[q + 2] & 15, b[q + 3]
        q += 8 + (1 << (np.int64(b[q]) >> 4)) + (np.int64(b[q + 1]) >> 4) * 4
        if op != 1:
            return 0, q
        return (0x86DD if nh == 41 else (0x0800 if nh == 4 else 0)), q
    if code == T_TEREDO:
        if q + 2 <= end and _u16(b, q) == 1 and q + 4 <= end:  # authentication indicator
            q += 4 + np.int64(b[q + 2]) + np.int64(b[q + 3]) + 9
        if q + 2 <= end and _u16(b, q) == 0:  # origin indication
            q += 8
        if q < end and (b[q] >> 4) == 6:
            return 0x86DD, q
        return 0, q
    return 0, q


@numba.njit(cache=True)
def _gre(b, p, end, r):
    """GRE (RFC 2784/2890, PPTP's enhanced GRE) -> (etype or SNIFF_IP or 0, offset)."""
    if p + 4 > end:
        return 0, p
    fl = _u16(b, p)
    proto = _u16(b, p + 2)
    q = p + 4
    if (fl & 7) == 1:  # PPTP: payload length, call id, optional sequence and acknowledgement numbers
        q += 4
        if fl & 0x1000:
            q += 4
        if fl & 0x0080:
            q += 4
        if proto != 0x880B or _u16(b, p + 4) == 0:
            return 0, q
        _enter_tunnel(r, T_PPTP)
        return ppp(b, q, end)
    if (fl & 7) != 0:
        return 0, q
    if fl & 0xC000:
        q += 4
    if fl & 0x2000:
        q += 4
    if fl & 0x1000:
        q += 4
    if fl & 0x4000:  # source routing entries
        while q + 4 <= end:
            af, ln = _u16(b, q), np.int64(b[q + 3])
            q += 4 + ln
            if af == 0 and ln == 0:
                break
    if proto == 0x88BE:  # ERSPAN type II has a sequence number and an 8-byte header; type I neither
        _enter_tunnel(r, T_ERSPAN)
        return ethernet(b, q + 8 if (fl & 0x1000) else q, end)
    if proto == 0x22EB:  # ERSPAN type III: 12 bytes, 8 more with the platform sub-header (O bit)
        _enter_tunnel(r, T_ERSPAN)
        if q + 12 > end:
            return 0, q
        return ethernet(b, q + (20 if (b[q + 11] & 1) else 12), end)
    if proto == 0x883E:  # WCCP: an optional 4-byte redirect header before the IPv4 packet
        _enter_tunnel(r, T_WCCP)
        if q < end and (b[q] >> 4) != 4:
            q += 4
        return SNIFF_IP, q
    _enter_tunnel(r, T_GRE)
    if proto == 0x6558:
        return ethernet(b, q, end)
    if (0x8200 <= proto <= 0x8370 and (proto & 15) == 0) or proto == 0x9000:  # Aruba: 802.11 frames, no FCS
        return ieee80211(b, q, end)
    return proto, q


@numba.njit(cache=True)
def decode_packet(b, off, caplen, wirelen, linktype, out, i):
    """Fill ``out[i]`` from the packet bytes ``b[off:off+caplen]``; never reads past them."""
    r = out[i]
    r.caplen = caplen
    r.wirelen = wirelen
    r.linktype = linktype
    r.mss = -1
    r.wscale = -1
    end = off + caplen
    wire_end = off + wirelen
    etype, p = link_layer(b, off, end, linktype)
    for _ in range(8):  # encapsulation depth
        if etype == 0x8847 or etype == 0x8848:  # MPLS label stack, then IP by its version nibble
            while p + 4 <= end:
                bos = b[p + 2] & 1
                p += 4
                if bos:
                    break
            etype = SNIFF_IP
        elif etype == 0x8864:  # PPPoE session: 6-byte header, then a PPP protocol field
            etype, p = ppp(b, p + 6, end)
            continue
        elif etype == 0x8903:  # Cisco FabricPath: FTag/TTL, the inner Ethernet frame, then its FCS, which
            # Wireshark's cfp dissector leaves out of the inner frame (a full-length IP datagram inside is cut)
            wire_end -= 4
            end = min(end, wire_end)
            etype, p = ethernet(b, p + 2, end)
            continue
        if etype == SNIFF_IP:
            if p >= end:
                return
            v = b[p] >> 4
            etype = 0x0800 if v == 4 else (0x86DD if v == 6 else 0)
        if etype == 0x0800:
            proto, l4, l4len = _ipv4(b, p, end, wire_end - p, r)
        elif etype == 0x86DD:
            proto, l4, l4len = _ipv6(b, p, end, wire_end - p, r)
        else:
            return
        if proto < 0:
            return
        if proto == 6:
            _tcp(b, l4, end, l4len, r)
            return
        if proto == 17:
            if l4 + 8 > end:
                return
            sp, dp = _u16(b, l4), _u16(b, l4 + 2)
            r.sport, r.dport = sp, dp
            ulen = _u16(b, l4 + 4)
            r.paylen = ulen - 8 if ulen > 8 else 0
            r.l4ok = True
            if ulen < 8 or ulen > l4len:  # Wireshark stops at a bad UDP length
                return
            lo, hi = min(sp, dp), max(sp, dp)
            code = _udp_tunnel(lo)
            if code == 0 and lo >= 1024:  # Wireshark tries the lower port first
                code = _udp_tunnel(hi)
            if code == 0 or r.frag:
                return
            if code == T_SFLOW:  # Wireshark dissects sampled headers as error packets: a stream, no analysis
                etype, p, end, wire_end = sflow_network(b, l4 + 8, min(end, l4 + ulen), r.sample)
                r.no_analysis = etype != 0
            elif code == T_GRE:
                etype, p = _gre(b, l4 + 8, end, r)
            else:
                etype, p = _udp_payload(b, l4 + 8, end, code)
            if etype == 0:
                return
            _enter_tunnel(r, code)
        elif proto == 4 or proto == 41:
            if r.frag:
                return
            if r.ipver == 4:
                _enter_tunnel(r, T_IPIP if proto == 4 else T_6IN4)
            else:
                _enter_tunnel(r, T_4IN6 if proto == 4 else T_6IN6)
            etype, p = (0x0800 if proto == 4 else 0x86DD), l4
        elif proto == 47:
            if r.frag:
                return
            etype, p = _gre(b, l4, end, r)
            if etype == 0:
                return
        elif proto == 1 or proto == 58:
            if l4 + 2 > end:
                return
            r.icmp_type, r.icmp_code = b[l4], b[l4 + 1]
            t = b[l4]
            err = (t == 3 or t == 4 or t == 5 or t == 11 or t == 12) if proto == 1 else (t >= 1 and t <= 4)
            if not err or r.frag or r.tunnel != 0:
                return
            # An ICMP error quoting a TCP header: Wireshark gives the quoted segment its stream (not the
            # analysis) when at least 16 bytes of it are there; the record becomes the quoted packet.
            q = l4 + 8
            if q >= end or (b[q] >> 4) != (4 if proto == 1 else 6):
                return
            qh = (b[q] & 15) * 4 if proto == 1 else 40
            if q + qh + 16 > end or (proto == 1 and b[q + 9] != 6) or (proto == 58 and b[q + 6] != 6):
                return
            _enter_tunnel(r, T_ICMPERR)
            r.no_analysis = True
            etype, p = (0x0800 if proto == 1 else 0x86DD), q
            wire_end = end  # the quoted packet's lengths are not the frame's
            r.icmp_type, r.icmp_code = t, b[l4 + 1]
            continue
        elif proto == 137:  # MPLS in IP
            if r.frag:
                return
            etype, p = 0x8847, l4
        else:
            return
        # the tunnel's payload is decoded afresh: forget the outer transport fields
        r.l4ok = False
        r.sport = 0
        r.dport = 0
        r.paylen = 0
