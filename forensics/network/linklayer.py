"""Link layers, compiled with numba: from a link type's header to the network layer inside it.

:func:`link_layer` returns ``(etype, offset)``: an EtherType (0x0800, 0x86DD, 0x8847 MPLS, …),
:data:`SNIFF_IP` when the payload is IP of either version (decided by its first nibble), or 0 when
the link layer carries no IP (or is one this module does not decode). A link type it does not know
is not an error: those packets load with an undecoded network layer and are counted per link type
(``capture.link_types``), as Wireshark shows them as "data".

Header layouts follow https://www.tcpdump.org/linktypes.html and the dissectors of tcpdump and
Wireshark of the same names.
"""
from __future__ import annotations

import numba
import numpy as np

#: Link types (pcap LINKTYPE_* values) whose packets are decoded down to IP.
LINKTYPE_NAMES = {
    0: "BSD loopback (NULL)", 1: "Ethernet", 9: "PPP", 10: "FDDI", 11: "ATM RFC 1483 (LLC/SNAP)", 12: "raw IP",
    14: "raw IP", 50: "PPP in HDLC framing", 100: "ATM RFC 1483 (LLC/SNAP)", 101: "raw IP",
    104: "Cisco HDLC", 129: "Linux ARCNET", 105: "IEEE 802.11", 107: "Frame Relay", 108: "OpenBSD loopback",
    109: "OpenBSD enc", 112: "Cisco HDLC with direction", 113: "Linux cooked (SLL)", 117: "OpenBSD pflog",
    119: "802.11 with Prism/AVS header", 127: "802.11 with radiotap header", 149: "Apple PKTAP (USER2)",
    163: "802.11 with AVS header", 166: "PPP with direction (pppd)", 178: "Juniper Ethernet",
    192: "PPI (802.11 and others)", 197: "Endace ERF", 204: "PPP with direction", 226: "Solaris IPNET",
    228: "raw IPv4", 229: "raw IPv6", 239: "Linux NFLOG", 240: "netANALYZER", 241: "netANALYZER transparent",
    242: "IP over InfiniBand", 258: "Apple PKTAP", 276: "Linux cooked v2 (SLL2)",
}

#: Names of other common link types, so counts of undecoded packets say what they are.
OTHER_LINKTYPE_NAMES = {
    3: "AX.25", 6: "IEEE 802.5 Token Ring", 7: "ARCNET", 8: "SLIP", 15: "IEEE 802.11 (old)", 106: "IrDA",
    122: "IP over Fibre Channel", 123: "SunATM", 137: "Juniper PPPoE", 138: "IEEE 1394",
    139: "MTP2 with PHDR", 140: "MTP2", 141: "MTP3", 142: "SCCP", 143: "DOCSIS", 147: "USER0", 148: "USER1",
    160: "USER13", 164: "Juniper PIC peer", 182: "Multilink Frame Relay", 187: "Bluetooth HCI H4", 189: "USB Linux",
    195: "IEEE 802.15.4 with FCS", 201: "Bluetooth HCI H4 with pseudo-header", 215: "IEEE 802.15.4 (no FCS)",
    220: "USB Linux mmapped", 227: "SocketCAN", 230: "IEEE 802.15.4 (no FCS)", 231: "D-Bus", 249: "USBPcap",
    251: "Bluetooth LE LL", 253: "Linux netlink", 254: "Bluetooth Linux monitor", 256: "Bluetooth LE LL with PHDR",
    263: "Wattstopper DLM", 264: "ISO 14443", 271: "Linux vsock", 279: "Linux USB", 281: "Broadcom tag",
    282: "Broadcom tag (prepended)", 283: "IEEE 802.15.4 TAP", 284: "Marvell DSA", 285: "Marvell EDSA",
}

SNIFF_IP = 1  # the payload is IPv4 or IPv6, by its first nibble


#: The link type given to a pcapng Custom Block (0x00000BAD / 0x40000BAD): Wireshark shows each as a
#: frame of its own ("PCAPNG Custom Block"), so it takes a frame number; it carries no network layer.
PCAPNG_CUSTOM_BLOCK = 65535
OTHER_LINKTYPE_NAMES[PCAPNG_CUSTOM_BLOCK] = "pcapng custom block"


def linktype_name(lt: int) -> str:
    return LINKTYPE_NAMES.get(lt) or OTHER_LINKTYPE_NAMES.get(lt) or f"link type {lt}"


@numba.njit(cache=True, inline="always")
def _u16(b, i):
    return (np.int64(b[i]) << 8) | np.int64(b[i + 1])


@numba.njit(cache=True, inline="always")
def _u16le(b, i):
    return (np.int64(b[i + 1]) << 8) | np.int64(b[i])


@numba.njit(cache=True, inline="always")
def _u32(b, i):
    return (np.int64(b[i]) << 24) | (np.int64(b[i + 1]) << 16) | (np.int64(b[i + 2]) << 8) | np.int64(b[i + 3])


@numba.njit(cache=True, inline="always")
def _u32le(b, i):
    return (np.int64(b[i + 3]) << 24) | (np.int64(b[i + 2]) << 16) | (np.int64(b[i + 1]) << 8) | np.int64(b[i])


@numba.njit(cache=True)
def llc_snap(b, p, end):
    """802.2 LLC: SNAP (AA AA 03, OUI, EtherType) -> (etype, offset); anything else -> (0, p)."""
    if p + 8 <= end and b[p] == 0xAA and b[p + 1] == 0xAA and b[p + 2] == 0x03:
        return _u16(b, p + 6), p + 8
    return 0, p


@numba.njit(cache=True)
def ethernet(b, p, end):
    """Ethernet II / 802.3 with 802.1Q, QinQ and 9100 tags, Cisco VN-Tag (0x8926), 802.1BR E-Tag (0x893F),
    Cisco MetaData (0x8909), 802.1ah PBB (0x88E7) and NSH (0x894F) -> (etype, offset of the payload).
    Cisco FabricPath (0x8903) is returned as it is: its inner frame ends before a 4-byte FCS, which only
    the caller can take off."""
    if p + 14 > end:
        return 0, p
    etype = _u16(b, p + 12)
    p += 14
    while True:
        if (etype == 0x8100 or etype == 0x88A8 or etype == 0x9100) and p + 4 <= end:
            etype = _u16(b, p + 2)
            p += 4
        elif etype == 0x8926 and p + 6 <= end:  # VN-Tag: 4 bytes of tag, then the EtherType
            etype = _u16(b, p + 4)
            p += 6
        elif etype == 0x893F and p + 8 <= end:  # E-Tag: 6 bytes of TCI, then the EtherType
            etype = _u16(b, p + 6)
            p += 8
        elif etype == 0x8909 and p + 8 <= end:  # Cisco MetaData: version, length, an SGT option, EtherType
            etype = _u16(b, p + 6)
            p += 8
        elif etype == 0x88E7 and p + 18 <= end:  # 802.1ah PBB: I-TAG, then the customer's Ethernet header
            etype = _u16(b, p + 16)
            p += 18
        elif etype == 0x894F and p + 8 <= end:  # NSH: its length (4-byte words), then the next protocol
            ln = np.int64(b[p + 1] & 0x3F) * 4
            nxt = b[p + 3]
            if ln < 8 or p + ln > end:
                return 0, p
            p += ln
            if nxt == 1:
                return 0x0800, p
            if nxt == 2:
                return 0x86DD, p
            if nxt == 5:
                return 0x8847, p
            if nxt != 3 or p + 14 > end:
                return 0, p
            etype = _u16(b, p + 12)  # an Ethernet frame inside
            p += 14
        else:
            break
    if etype <= 1500:  # 802.3 length field: LLC follows
        return llc_snap(b, p, end)
    return etype, p


@numba.njit(cache=True)
def ppp(b, p, end):
    """A PPP frame (optionally with the FF 03 address/control bytes) -> (etype, offset)."""
    if p + 2 <= end and b[p] == 0xFF and b[p + 1] == 0x03:
        p += 2
    if p + 1 > end:
        return 0, p
    if b[p] & 1:  # protocol field compression: one byte
        proto = np.int64(b[p])
        p += 1
    else:
        if p + 2 > end:
            return 0, p
        proto = _u16(b, p)
        p += 2
    if proto == 0x21:
        return 0x0800, p
    if proto == 0x57:
        return 0x86DD, p
    if proto == 0x281 or proto == 0x283:
        return 0x8847, p
    return 0, p


@numba.njit(cache=True)
def chdlc(b, p, end):
    """Cisco HDLC: address, control, EtherType."""
    if p + 4 > end:
        return 0, p
    return _u16(b, p + 2), p + 4


@numba.njit(cache=True)
def frame_relay(b, p, end):
    """Q.922 address, then RFC 2427 (UI + NLPID, SNAP) or the Cisco EtherType encapsulation."""
    k = 0
    while p + k < end and k < 4:
        ea = b[p + k] & 1
        k += 1
        if ea:
            break
    p += k
    if p + 2 > end:
        return 0, p
    if b[p] == 0x03:
        p += 1
        if p < end and b[p] == 0x00:  # padding before the NLPID
            p += 1
        if p >= end:
            return 0, p
        nlpid = b[p]
        if nlpid == 0xCC:
            return 0x0800, p + 1
        if nlpid == 0x8E:
            return 0x86DD, p + 1
        if nlpid == 0x80 and p + 6 <= end:  # SNAP: OUI + EtherType
            return _u16(b, p + 4), p + 6
        return 0, p
    return _u16(b, p), p + 2


@numba.njit(cache=True)
def ieee80211(b, p, end):
    """An 802.11 data frame (not protected) -> LLC/SNAP -> (etype, offset)."""
    if p + 24 > end:
        return 0, p
    fc0, fc1 = b[p], b[p + 1]
    if (fc0 >> 2) & 3 != 2 or (fc1 & 0x40):  # not a data frame, or encrypted
        return 0, p
    sub = fc0 >> 4
    if sub & 4:  # null-function frames carry no body
        return 0, p
    hl = 24
    if (fc1 & 3) == 3:
        hl += 6
    if sub & 8:  # QoS data
        if p + hl + 2 <= end and (b[p + hl] & 0x80):  # A-MSDU: not decoded
            return 0, p
        hl += 2
        if fc1 & 0x80:  # +HTC
            hl += 4
    return llc_snap(b, p + hl, end)


@numba.njit(cache=True)
def link_layer(b, off, end, linktype):
    """(etype or SNIFF_IP or 0, offset of the network layer) for one packet of ``linktype``."""
    p = off
    lt = linktype
    for _ in range(4):  # wrapper headers (PPI, PKTAP, radiotap, ...) hand on to an inner link type
        if lt == 1:
            return ethernet(b, p, end)
        if lt == 101 or lt == 12 or lt == 14 or lt == 228 or lt == 229:
            return SNIFF_IP, p
        if lt == 113:
            if p + 16 > end:
                return 0, p
            proto = _u16(b, p + 14)
            if proto == 4:
                return llc_snap(b, p + 16, end)
            return proto, p + 16
        if lt == 276:
            if p + 20 > end:
                return 0, p
            return _u16(b, p), p + 20
        if lt == 0 or lt == 108 or lt == 109:
            if p + 4 > end:
                return 0, p
            fam = _u32(b, p) if lt == 108 else _u32le(b, p)
            if fam > 0xFFFF:  # written in the other byte order
                fam = _u32le(b, p) if lt == 108 else _u32(b, p)
            q = p + (12 if lt == 109 else 4)
            if fam == 2:
                return 0x0800, q
            if fam == 24 or fam == 28 or fam == 30 or fam == 10:
                return 0x86DD, q
            return 0, q
        if lt == 9:
            if p + 2 <= end and (b[p] == 0x0F or b[p] == 0x8F):  # Cisco HDLC written as PPP
                return chdlc(b, p, end)
            return ppp(b, p, end)
        if lt == 50:
            if p + 1 <= end and (b[p] == 0x0F or b[p] == 0x8F):
                return chdlc(b, p, end)
            return ppp(b, p, end)
        if lt == 204:
            return ppp(b, p + 1, end)
        if lt == 166:
            if p + 2 > end:
                return 0, p
            return ppp(b, p + 2, end)
        if lt == 104:
            return chdlc(b, p, end)
        if lt == 112:
            return chdlc(b, p + 1, end)
        if lt == 107:
            return frame_relay(b, p, end)
        if lt == 105:
            return ieee80211(b, p, end)
        if lt == 10:  # FDDI: frame control, two addresses, LLC
            return llc_snap(b, p + 13, end)
        if lt == 11 or lt == 100:
            return llc_snap(b, p, end)
        if lt == 127:  # radiotap: little-endian header length at 2
            if p + 4 > end:
                return 0, p
            p += _u16le(b, p + 2)
            lt = 105
            continue
        if lt == 192:  # PPI: length at 2, inner link type at 4 (little-endian)
            if p + 8 > end:
                return 0, p
            inner = _u32le(b, p + 4)
            p += _u16le(b, p + 2)
            lt = inner
            continue
        if lt == 163 or lt == 119:  # AVS (length at 4, big-endian) or the fixed 144-byte Prism header
            if p + 8 > end:
                return 0, p
            if _u32(b, p) & 0xFFFFFFF0 == 0x80211000:
                p += _u32(b, p + 4)
            else:
                p += 144
            lt = 105
            continue
        if lt == 258 or lt == 149:  # PKTAP: header length and inner link type, little-endian
            if p + 8 > end:
                return 0, p
            inner = _u32le(b, p + 4)
            p += _u32le(b, p)
            lt = inner
            continue
        if lt == 240 or lt == 241:
            p += 4 if lt == 240 else 12
            lt = 1
            continue
        if lt == 129:  # Linux ARCNET: source, destination, offset, type; 3 more bytes for RFC 1201 types
            if p + 5 > end:
                return 0, p
            typ = b[p + 4]
            if typ == 240:
                return SNIFF_IP, p + 5
            return (SNIFF_IP if typ == 212 else 0), p + 8
        if lt == 242:  # IPoIB: 44-byte header, EtherType at 40
            if p + 44 > end:
                return 0, p
            return _u16(b, p + 40), p + 44
        if lt == 226:  # Solaris IPNET: 24-byte header, address family at 1
            if p + 24 > end:
                return 0, p
            fam = b[p + 1]
            return (0x0800 if fam == 2 else (0x86DD if fam == 26 else 0)), p + 24
        if lt == 117:  # OpenBSD pflog: header length at 0 (word aligned), address family at 1
            if p + 2 > end:
                return 0, p
            fam = b[p + 1]
            q = p + ((np.int64(b[p]) + 3) & ~3)
            return (0x0800 if fam == 2 else (0x86DD if fam == 24 or fam == 28 or fam == 30 or fam == 10 else 0)), q
        if lt == 239:  # NFLOG: 4-byte header, then TLVs (host byte order); the packet is NFULA_PAYLOAD (9)
            if p + 4 > end:
                return 0, p
            fam = b[p]
            q = p + 4
            while q + 4 <= end:
                ln = _u16le(b, q)
                typ = _u16le(b, q + 2)
                if ln > 0x4000:  # big-endian writer
                    ln = _u16(b, q)
                    typ = _u16(b, q + 2)
                if ln < 4:
                    return 0, q
                if (typ & 0x7FFF) == 9:
                    return (0x0800 if fam == 2 else (0x86DD if fam == 10 else SNIFF_IP)), q + 4
                q += (ln + 3) & ~3
            return 0, q
        if lt == 178:  # Juniper: "MGC", flags, optional extensions, then Ethernet (or IP without L2)
            if p + 4 > end or _u32(b, p) >> 8 != 0x4D4743:
                return 0, p
            fl = b[p + 3]
            q = p + 4
            if fl & 0x80:
                if q + 2 > end:
                    return 0, q
                q += 2 + _u16(b, q)
            if fl & 0x02:
                return SNIFF_IP, q + 4
            p = q
            lt = 1
            continue
        if lt == 197:  # ERF record: 16-byte header, extension headers, then the frame by ERF type
            if p + 16 > end:
                return 0, p
            typ = np.int64(b[p + 8])
            q = p + 16
            more = typ & 0x80
            while more and q + 8 <= end:
                more = b[q] & 0x80
                q += 8
            t = typ & 0x7F
            if t == 2 or t == 16 or t == 17 or t == 20:  # Ethernet variants: 2 bytes of padding
                p = q + 2
                lt = 1
                continue
            if t == 1 or t == 5 or t == 15:  # HDLC/POS: PPP or Cisco HDLC
                p = q
                lt = 50
                continue
            if t == 22 or t == 23:
                return SNIFF_IP, q
            return 0, q
        return 0, p
    return 0, p
