"""sFlow (UDP 6343): the sampled packet headers inside a datagram, decoded as Wireshark decodes them.

Wireshark's ``sflow`` dissector hands every *raw packet header* flow record (sFlow v5 flow and
expanded flow samples, v2/v4 flow samples) to the dissector of its header protocol (Ethernet, IPv4,
IPv6, MPLS, PPP, Frame Relay, FDDI, 802.11), as an *error packet* (``in_error_pkt``, the default
``sflow.analyze_samp_ip_headers = FALSE``): a sampled TCP header gets a ``tcp.stream`` — a new one,
or that of a conversation already seen — but no sequence analysis. One datagram holds several
samples, so one frame can hold TCP headers of several streams.

Here the decoder (:func:`sflow_network`, called from :func:`forensics.network.decode.decode_packet`)
fills a frame's record from the sampled header the record's ``sample`` field selects (0, the first,
while a capture is read). When a capture holds datagrams with more than one sampled header,
:func:`reanalysed` reads it again with every sampled header fed to the TCP analysis in its place
(:class:`SampledAnalyzer`), so stream numbers come out as Wireshark's. The frame's row then shows
the first sampled TCP header (what ``tshark -e tcp.stream -E occurrence=f`` prints), its analysis
flags those of any of the frame's headers; streams seen only in later headers of a datagram are
counted (``len(capture.irtt)``, ``pcap summary``'s ``tcp_streams``) but have no row of their own.

Layouts: sFlow v5 (https://sflow.org/sflow_version_5.txt) and Wireshark 4.0's packet-sflow.c.
"""
from __future__ import annotations

import numba
import numpy as np

from .linklayer import _u32, ethernet, link_layer

UDP_PORT = 6343
NO_NETWORK = 0xFFFF  # "a sampled header without IP": not 0, which says there is no such sample

@numba.njit(cache=True, inline="always")
def _pad4(n):
    return (n + 3) & ~3


@numba.njit(cache=True)
def _kth_header(b, q, end, k):
    """The k-th raw packet header record of the sFlow datagram ``b[q:end]`` ->
    (header protocol, start, captured end, reported end); protocol -1 when there is none."""
    none = (-1, q, q, q)
    if q + 8 > end:
        return none
    ver = _u32(b, q)
    at = _u32(b, q + 4)
    if (ver != 2 and ver != 4 and ver != 5) or at > 2:  # Wireshark: not sFlow
        return none
    o = q + 8 + (4 if at == 1 else (16 if at == 2 else 0)) + (4 if ver == 5 else 0) + 8
    if o + 4 > end:
        return none
    nsamples = _u32(b, o) & 0xFF
    o += 4
    seen = 0
    for _ in range(nsamples):
        if o + 4 > end:
            return none
        st = _u32(b, o)
        if ver == 5:
            if (st >> 12) != 0 or o + 8 > end:  # another enterprise's sample: Wireshark stops there
                return none
            fmt = st & 0xFFF
            body = o + 8
            nxt = body + _u32(b, o + 4)
            if fmt == 1 or fmt == 3:  # flow sample, expanded flow sample: 7 or 10 words, then the records
                r = body + (28 if fmt == 1 else 40)
                if r + 4 > end:
                    return none
                nrec = _u32(b, r) & 0xFF
                r += 4
                for _j in range(nrec):
                    if r + 8 > end:
                        return none
                    ef = _u32(b, r)
                    flen = _u32(b, r + 4)
                    r += 8
                    if (ef >> 12) != 0:
                        r += _pad4(flen)
                    elif (ef & 0xFFF) == 1:  # raw packet header: protocol, frame length, stripped, length
                        if r + 16 > end:
                            return none
                        hp, frame_len, hl = _u32(b, r), _u32(b, r + 4), _pad4(_u32(b, r + 12))
                        r += 16
                        if seen == k:
                            cap_end = min(r + hl, end, r + frame_len)
                            return hp, r, cap_end, max(r + frame_len, cap_end)
                        seen += 1
                        r += hl
                    elif (ef & 0xFFF) <= 4 or 1001 <= (ef & 0xFFF) <= 1016:  # records Wireshark reads whole
                        r += flen
                    # any other format: Wireshark reads only its 8-byte header and goes on from there
            o = nxt
        else:  # v2/v4: a flow sample's header, then extended data of many layouts: read up to the header only
            if st != 1 or o + 36 > end:
                return none
            if _u32(b, o + 32) != 1:
                return none
            r = o + 36
            if r + 12 > end:
                return none
            hp, frame_len, hl = _u32(b, r), _u32(b, r + 4), _pad4(_u32(b, r + 8))
            r += 12
            if seen == k:
                cap_end = min(r + hl, end, r + frame_len)
                return hp, r, cap_end, max(r + frame_len, cap_end)
            seen += 1
            r += hl
            if r + 4 > end or _u32(b, r) != 0:  # extended data follows: where the next sample starts is unsure
                return none
            o = r + 4
    return none


@numba.njit(cache=True)
def sflow_network(b, q, end, k):
    """The network layer of the k-th sampled header of the sFlow datagram ``b[q:end]`` ->
    (etype or SNIFF_IP or NO_NETWORK, offset, captured end, reported end) for the decoder's loop;
    etype 0 when the datagram has no k-th sampled header (or is not sFlow)."""
    hp, p, cap_end, rep_end = _kth_header(b, q, end, k)
    if hp < 0:
        return 0, q, end, end
    if hp == 1:
        etype, p = ethernet(b, p, cap_end)
    elif hp == 11:
        etype = 1  # SNIFF_IP: Wireshark's "ip" dissector takes either version
    elif hp == 12:
        etype = 0x86DD
    elif hp == 13:
        etype = 0x8847
    elif hp == 4:
        etype, p = link_layer(b, p, cap_end, 10)
    elif hp == 5:
        etype, p = link_layer(b, p, cap_end, 107)
    elif hp == 7:
        etype, p = link_layer(b, p, cap_end, 50)
    elif hp == 15:
        etype, p = link_layer(b, p, cap_end, 105)
    else:
        etype = 0
    if etype == 0:  # a header without IP (or of a protocol not decoded): the sample is there, nothing in it
        etype = NO_NETWORK
    return etype, p, cap_end, rep_end


# --- Reading a capture again with every sampled header analysed -------------------------------------------

def _records(f, head):
    """(link type, captured bytes, wire length) of each packet record of an open capture, as the walkers of
    :mod:`forensics.network.pcap` count and cut them; stops quietly where they stop (they warn)."""
    from .linklayer import PCAPNG_CUSTOM_BLOCK
    from .pcap import CHUNK, MAX_RECORD, PCAP_MAGIC, PCAPNG_SHB, SHB_VERSIONS, pcap_lengths_swapped, pcap_variant

    pending = [b"", 0]  # bytes read ahead (to guess a pcap's record-header variant) and how far served

    def read(n):
        ahead, at = pending
        if at < len(ahead):
            b = ahead[at:at + n]
            pending[1] = at + len(b)
            if len(b) < n:
                b += f.read(n - len(b))
        else:
            b = f.read(n)
        return b if len(b) == n else None

    if head[:4] in PCAP_MAGIC:
        big, frac_ns = PCAP_MAGIC[head[:4]]
        o = ">" if big else "<"
        major, minor = (int.from_bytes(head[i:i + 2], "big" if big else "little") for i in (4, 6))
        if major < 2:
            return
        link = int(np.frombuffer(head[20:24], o + "u4")[0]) & 0x03FFFFFF
        swap = pcap_lengths_swapped(major, minor)
        extra = 0
        if frac_ns == 1000:
            pending[0] = f.read(CHUNK)
            snaplen = int(np.frombuffer(head[16:20], o + "u4")[0])
            extra = pcap_variant(pending[0], len(pending[0]), big, snaplen, swap, len(pending[0]) < CHUNK)[0]
        while (h := read(16 + extra)) is not None:
            incl, orig = np.frombuffer(h[8:16], o + "u4").tolist()
            if swap == 1 or (swap == 2 and incl > orig):
                incl, orig = orig, incl
            if incl > MAX_RECORD or (data := read(incl)) is None:
                return
            yield link, data, max(orig, incl)
        return
    if head[:4] != PCAPNG_SHB:
        return
    o, links, snaps, buf = "<", [], [], head  # the 24 bytes already read start the first block
    while True:
        if len(buf) < 12:
            more = read(12 - len(buf))
            if more is None:
                return
            buf += more
        btype = buf[:4]
        if btype == PCAPNG_SHB:
            bom = buf[8:12]
            if bom not in (b"\x1a\x2b\x3c\x4d", b"\x4d\x3c\x2b\x1a"):
                return
            o = ">" if bom == b"\x1a\x2b\x3c\x4d" else "<"
            if len(buf) >= 16 and tuple(int.from_bytes(buf[i:i + 2], "big" if o == ">" else "little")
                                        for i in (12, 14)) not in SHB_VERSIONS:
                return  # the reader stops there too
            links, snaps = [], []
        u32 = lambda b, i: int.from_bytes(b[i:i + 4], "big" if o == ">" else "little")
        bt, blen = u32(buf, 0), u32(buf, 4)
        if blen < 12 or blen % 4 or blen > MAX_RECORD + 64:
            return
        rest = read(blen - len(buf)) if blen > len(buf) else b""
        if rest is None:
            return
        blk, buf = buf + rest, b""
        if bt in (0xBAD, 0x40000BAD):  # a Custom Block is a frame (no packet data), as the reader counts it
            yield PCAPNG_CUSTOM_BLOCK, b"", blen - 16
        elif bt == 1 and blen >= 20:
            links.append(int.from_bytes(blk[8:10], "big" if o == ">" else "little"))
            snaps.append(u32(blk, 12))
        elif bt == 3:
            if not links:
                return
            orig = u32(blk, 8)
            incl = min(orig, blen - 16)
            if snaps[0] > 0:
                incl = min(incl, snaps[0])
            yield links[0], blk[12:12 + incl], max(orig, incl)
        elif bt in (2, 6):
            if blen < 32:
                return
            iface = u32(blk, 8) if bt == 6 else int.from_bytes(blk[8:10], "big" if o == ">" else "little")
            incl, orig = u32(blk, 20), u32(blk, 24)
            if incl > blen - 32 or iface >= len(links):
                return
            yield links[iface], blk[28:28 + incl], max(orig, incl)


def frames_of(path):
    """(frame number, link type, bytes, wire length) of every packet record of a capture, in file order."""
    from ..artifact import open_readonly
    from .compressed import Decompressed, compression_of

    with open_readonly(path) as raw_file:
        f = raw_file
        comp = compression_of(raw_file.read(24))
        raw_file.seek(0)
        if comp:
            f = Decompressed(raw_file, comp)
        head = f.read(24)
        for fno, (link, data, wirelen) in enumerate(_records(f, head), 1):
            yield fno, link, data, wirelen


def sampled_headers(frames, wanted) -> dict:
    """{frame: records of each of its sampled headers, in order} for the sFlow frames ``wanted`` (of
    ``frames``, as :func:`frames_of` yields them) whose headers would number TCP streams differently
    from the frame's first header alone."""
    from .decode import PACKET_DTYPE, T_SFLOW, decode_packet

    wanted = set(int(f) for f in wanted)
    out = {}
    if wanted:
        last = max(wanted)
        for fno, link, data, wirelen in frames:
            if fno > last:
                break
            if fno not in wanted:
                continue
            arr = np.frombuffer(bytearray(data), np.uint8)  # writable, as the walkers' buffers are
            recs = np.zeros(16, PACKET_DTYPE)
            k = 0
            while k < 65536:
                if k == recs.shape[0]:
                    recs = np.concatenate([recs, np.zeros(k, PACKET_DTYPE)])
                recs[k]["sample"] = k
                decode_packet(arr, 0, len(data), wirelen, link, recs, k)
                if recs[k]["tunnel"] != T_SFLOW:
                    break
                k += 1
            recs = recs[:k]
            tcp = np.flatnonzero((recs["proto"] == 6) & recs["l4ok"] & ~recs["frag"] & (recs["ipver"] > 0))
            if len(tcp) > 1 or (len(tcp) == 1 and tcp[0] != 0):
                out[fno] = recs
    return out


_PER_TCP_ROW = ("stream", "direction", "rel_seq", "rel_ack", "aflags", "dup_ack_num", "dup_ack_frame", "acked_frame",
                "ack_rtt", "rto", "rto_frame")


class SampledAnalyzer:
    """An :class:`~forensics.network.tcp_analysis.Analyzer` fed, for some frames, other records in
    their place (``samples``: frame -> records: an sFlow frame's sampled headers from
    :func:`sampled_headers`, or a fragmented tunnel datagram decoded whole); what it returns is per
    frame, as the plain analyzer's is: the row of each such frame becomes its first TCP record
    (written into the batch), with the analysis flags of all of them."""

    def __init__(self, inner, samples: dict):
        self.inner, self.samples = inner, samples
        self._todo = sorted(samples)

    def __getattr__(self, name):  # n_streams, irtt(), address_names(), frames, ...
        return getattr(self.inner, name)

    def feed(self, rec: np.ndarray) -> dict:
        inner = self.inner
        f0, n = inner.frames + 1, rec.shape[0]
        here = [f for f in self._todo if f0 <= f < f0 + n]
        if not here:
            return inner.feed(rec)
        parts, a = [], 0
        for f in here:
            j = f - f0
            if j > a:
                parts.append((a, inner.feed(rec[a:j])))
            s = self.samples[f].copy()
            if rec[j]["caplen"] != s[0]["caplen"] or rec[j]["wirelen"] != s[0]["wirelen"] or \
                    rec[j]["linktype"] != s[0]["linktype"]:  # not the frame they were read from: leave it
                continue
            s["ts"] = rec[j]["ts"]
            inner.frames = f - 1  # sampled headers get no analysis: their own frame numbers are never used
            res = inner.feed(s)
            inner.frames = f
            t = int(res["idx"][0]) if len(res["idx"]) else 0
            rec[j] = s[t]
            one = {"sc": res["sc"][t:t + 1], "dc": res["dc"][t:t + 1],
                   "osc": None if res["osc"] is None else res["osc"][t:t + 1],
                   "odc": None if res["odc"] is None else res["odc"][t:t + 1]}
            k = 1 if len(res["idx"]) else 0
            for key in _PER_TCP_ROW:
                one[key] = res[key][:k].copy()
            if k:
                one["aflags"][0] = np.bitwise_or.reduce(res["aflags"])
            one["idx"] = np.zeros(k, np.int64)
            parts.append((j, one))
            a = j + 1
        if a < n:
            parts.append((a, inner.feed(rec[a:])))
        self._todo = [f for f in self._todo if f >= f0 + n]
        return _joined(parts, n)


def _joined(parts, n):
    """One result for a whole batch from the results of consecutive row ranges ``(first row, result)``."""
    out = {k: np.concatenate([r[k] for _, r in parts]) for k in _PER_TCP_ROW + ("sc", "dc")}
    if all(r["osc"] is None for _, r in parts):
        out["osc"] = out["odc"] = None
    else:
        for k in ("osc", "odc"):
            out[k] = np.concatenate([r[k] if r[k] is not None else np.full(len(r["sc"]), -1, r["sc"].dtype)
                                     for _, r in parts])
    out["idx"] = np.concatenate([r["idx"] + a for a, r in parts]).astype(np.int64)
    out["all_tcp"] = len(out["idx"]) == n
    return out


def reanalysed(path, pc):
    """``pc`` (the :class:`~forensics.network.load.PacketColumns` of a first read), or when its capture
    holds sFlow datagrams with several sampled headers, fragmented datagrams carrying a tunnel
    (:mod:`forensics.network.tunnel_fragments`) or SOCKS handshakes (:mod:`forensics.network.socks`),
    those of a second read with each frame's records (every sampled header; the datagram decoded
    whole; the frame and the proxied conversation) fed to the analysis in its place."""
    from .decode import T_SFLOW
    from .load import PacketColumns
    from .pcap import read_capture
    from .socks import may_carry_socks, socks_samples
    from .tunnel_fragments import tunnel_datagrams

    frames = np.flatnonzero(pc.cols["tunnel"][: pc.n] == T_SFLOW) + 1
    tunnels = pc.an.defrag.tunnels  # fragmented datagrams carrying a tunnel: decoded whole
    c = pc.cols
    socks = may_carry_socks(c["sport"][: pc.n], c["dport"][: pc.n], c["payload_len"][: pc.n])
    if not len(frames) and not tunnels and not socks:
        return pc
    samples = sampled_headers(frames_of(path), frames) if len(frames) else {}
    if tunnels:
        samples.update(tunnel_datagrams(frames_of(path)))
    if socks:
        samples.update({f: s for f, s in socks_samples(frames_of(path)).items() if f not in samples})
    if not samples:
        return pc
    again = PacketColumns(pc.n)
    again.an = SampledAnalyzer(again.an, samples)
    read_capture(path, consume=again.add, progress_desc="sFlow samples: reading again")
    return again


def summary(path) -> dict:
    """``pcap summary``'s numbers for a capture with sFlow samples (its streaming count reads each frame once)."""
    from .analysis import summarize
    from .load import load_capture

    cap = load_capture(path)
    out = summarize(cap)
    out["tcp_streams"] = int(len(cap.irtt))  # streams seen only in a datagram's later headers count too
    return out
