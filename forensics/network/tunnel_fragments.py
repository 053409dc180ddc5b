"""Tunnels and tiny first fragments: fragmented IP datagrams decoded whole, as Wireshark does.

An ERSPAN or GTP-U packet larger than the path MTU arrives as IP fragments. Wireshark reassembles
them (``ip.defragment``, on by default) and dissects the whole datagram — outer UDP or GRE, the
tunnel, the inner TCP — in the frame whose fragment completes it. The compiled decoder sees one
frame at a time, so :class:`~forensics.network.fragments.Defragmenter` completes only the outer
transport fields; when a completed datagram carries a tunnel (it counts them), the capture is read
again (:func:`forensics.network.sflow.reanalysed`): here the fragments' bytes are put together
and the datagram decoded whole, and its record replaces the completing frame's. The same is done
when the first fragment is too short to hold the whole TCP or UDP header (a "tiny fragment", as
Suricata's defrag tests send: 8 bytes of TCP header per fragment): Wireshark dissects TCP from
the reassembled bytes, so the ports and flags are only known from the whole datagram.
"""
from __future__ import annotations

import numpy as np

#: IP protocols and UDP ports (the decoder's tunnels) whose fragmented datagrams are decoded whole.
TUNNEL_PROTOCOLS = (4, 41, 47, 137)
TUNNEL_UDP_PORTS = frozenset((4789, 6081, 2152, 6635, 4790, 3544, 6343, 4754, 5072))


def carries_tunnel(first) -> bool:
    """Whether a datagram's first-fragment record (its transport fields decoded) may carry a tunnel."""
    proto = int(first["proto"])
    return proto in TUNNEL_PROTOCOLS or (proto == 17 and bool(first["l4ok"]) and (
        int(first["sport"]) in TUNNEL_UDP_PORTS or int(first["dport"]) in TUNNEL_UDP_PORTS))


def decoded_whole(first) -> bool:
    """Whether a completed datagram is decoded from its reassembled bytes (on a second read): it may
    carry a tunnel, or its first fragment did not hold the whole TCP/UDP header."""
    return carries_tunnel(first) or (int(first["proto"]) in (6, 17) and not bool(first["l4ok"]))


def _ip_layer(data: bytes, rec):
    """(start of the fragmented IP header, start of its payload, end of its payload, the header to keep)
    in a frame's bytes, found by the addresses and identification the decoder read; None if not found."""
    n = len(data)
    if rec["ipver"] == 4:
        want = int(rec["fkey_src"]).to_bytes(4, "big") + int(rec["fkey_dst"]).to_bytes(4, "big")
        ident = int(rec["frag_id"]).to_bytes(2, "big")
        p = data.find(want)
        while p >= 12:
            s = p - 12
            if data[s] >> 4 == 4 and data[s + 4:s + 6] == ident:
                ihl = (data[s] & 15) * 4
                tot = int.from_bytes(data[s + 2:s + 4], "big")
                if ihl >= 20 and s + tot <= n and tot > ihl:
                    return s, s + ihl, s + tot, data[s:s + ihl]
            p = data.find(want, p + 1)
        return None
    for s in range(0, max(n - 48, 0)):  # IPv6: a fixed header directly followed by the fragment header
        if data[s] >> 4 != 6 or data[s + 6] != 44:
            continue
        if int.from_bytes(data[s + 44:s + 48], "big") != int(rec["frag_id"]):
            continue
        plen = int.from_bytes(data[s + 4:s + 6], "big")
        if s + 40 + plen > n or plen < 8:
            continue
        hdr = bytearray(data[s:s + 40])
        hdr[6] = data[s + 40]  # the fragment header's next header
        return s, s + 48, s + 40 + plen, bytes(hdr)
    return None


def _whole(ipver, hdr: bytes, payload: bytes) -> bytes:
    h = bytearray(hdr)
    if ipver == 4:
        h[2:4] = (len(h) + len(payload)).to_bytes(2, "big")
        h[6:8] = b"\x00\x00"  # neither more fragments nor an offset: a whole datagram
    else:
        h[4:6] = len(payload).to_bytes(2, "big")
    return bytes(h) + payload


def tunnel_datagrams(frames) -> dict:
    """{completing frame: its record decoded from the whole datagram} for the fragmented datagrams that
    carry a tunnel or whose first fragment cut the transport header short. ``frames`` yields (frame number, link type, bytes, wire length) in file order;
    fragments are matched and completed by the rules of :class:`~forensics.network.fragments.Defragmenter`."""
    from .decode import PACKET_DTYPE, decode_packet

    one = np.zeros(1, PACKET_DTYPE)
    pending, out = {}, {}
    for fno, link, data, wirelen in frames:
        one[0] = 0
        arr = np.frombuffer(bytearray(data), np.uint8)
        decode_packet(arr, 0, len(data), wirelen, link, one, 0)
        r = one[0]
        if not r["frag"] or not r["frag_direct"]:
            continue
        key = (int(r["ipver"]), int(r["fkey_src"]), int(r["fkey_dst"]), int(r["frag_id"]), int(r["proto"]))
        st = pending.setdefault(key, {"parts": [], "first": None, "end": None})
        where = _ip_layer(data, r)
        st["parts"].append((int(r["frag_off"]), int(r["frag_len"]), data[where[1]:where[2]] if where else None))
        if r["frag_off"] == 0:
            st["first"] = (r.copy(), where[3] if where else None)
        if not r["frag_more"]:
            st["end"] = int(r["frag_off"]) + int(r["frag_len"])
        if st["first"] is None or st["end"] is None:
            continue
        cur = 0
        for o, ln, _ in sorted(st["parts"], key=lambda t: (t[0], t[1])):
            if o > cur:
                break
            cur = max(cur, o + ln)
        if cur < st["end"]:
            continue
        del pending[key]
        first, hdr = st["first"]
        if hdr is None or not decoded_whole(first) or any(b is None for _, _, b in st["parts"]):
            continue
        body = bytearray(st["end"])
        for o, ln, b in sorted(st["parts"], key=lambda t: (t[0], t[1])):
            body[o:o + len(b[:ln])] = b[:ln]
        whole = np.frombuffer(bytearray(_whole(key[0], hdr, bytes(body))), np.uint8)
        rec = np.zeros(1, PACKET_DTYPE)
        decode_packet(whole, 0, len(whole), len(whole), 228 if key[0] == 4 else 229, rec, 0)
        if rec[0]["tunnel"] == 0 and not (rec[0]["l4ok"] and not first["l4ok"]):
            continue
        rec[0]["caplen"], rec[0]["wirelen"], rec[0]["linktype"] = len(data), wirelen, link
        if r["tunnel"]:  # the fragmented datagram was itself inside a tunnel: that one is the outermost
            for f in ("tunnel", "outer_ver", "osrc_hi", "osrc_lo", "odst_hi", "odst_lo"):
                rec[0][f] = r[f]
        out[fno] = rec
    return out
