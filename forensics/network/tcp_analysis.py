"""Wireshark-compatible TCP sequence analysis (``tcp.analysis.*``), compiled with numba.

The rules follow Wireshark 4.x ``epan/dissectors/packet-tcp.c``:
``tcp_analyze_sequence_number()`` with its exact order of checks, thresholds
(20 ms for fast retransmissions; the handshake RTT, else 3 ms, for out-of-order)
and per-direction state, plus the stream numbering (``tcp.stream``, with port
reuse opening a new stream) and the handshake RTT. The state machine is
sequential per direction, so it runs as one compiled loop over the TCP packets
in file order; everything around it is columnar.

>>> import numpy as np
>>> FLAG_BITS["retransmission"], FLAG_BITS["duplicate_ack"]
(1, 16)
"""
from __future__ import annotations

import numba
import numpy as np

from .codes import CodeTable
from .flags import FLAG_BITS, FLAG_NAMES  # noqa: F401 (re-exported: the names' old home)
from .fragments import Defragmenter

A_RETR, A_LOST, A_ACKLOST, A_KA, A_DUPACK, A_ZW, A_ZWP, A_ZWPACK, A_KAACK, A_OOO, A_FAST, A_WU, A_WF, A_REUSED, A_SPUR = (
    FLAG_BITS[k] for k in FLAG_BITS)


FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10
M32 = 0xFFFFFFFF
MAX_UNACKED = 10000  # TCP_MAX_UNACKED_SEGMENTS


@numba.njit(cache=True, inline="always")
def _gt(a, b):
    """GT_SEQ: a after b in 32-bit sequence space. Wireshark's macro is ``(gint32)(b - a) < 0``, so a
    distance of exactly 2^31 counts as after (and, from the other side, as before: LT_SEQ is true too)."""
    d = (a - b) & M32
    return d != 0 and d <= 0x80000000


@numba.njit(cache=True, inline="always")
def _lt(a, b):
    return _gt(b, a)


@numba.njit(cache=True, inline="always")
def _le(a, b):
    return a == b or _gt(b, a)


# Column numbers of the state tables (per direction D, per stream S, unacked segments U, globals G).
(D_BASE_SEQ, D_BASE_SET, D_NEXTSEQ, D_NEXTSEQTIME, D_NEXTSEQFRAME, D_LASTACK, D_LASTACKTIME, D_WIN, D_DUPACKNUM,
 D_LASTNONDUPACK, D_MAXSEQTOBEACKED, D_WIN_SCALE, D_LASTSEGFLAGS, D_HEAD, D_COUNT, D_FIRST_ACK) = range(16)
D_COLS = 16
S_FIRST_SWAPPED, S_IRTT, S_MRU_SYN, S_CONV = range(4)
U_SEQ, U_NEXTSEQ, U_FRAME, U_TS, U_LINK = range(5)
G_NSTREAMS, G_FREE, G_USED = range(3)
D_INIT = np.zeros(D_COLS, np.int64)
D_INIT[D_WIN] = M32
D_INIT[D_WIN_SCALE] = -1
D_INIT[D_HEAD] = -1


@numba.njit(cache=True, nogil=True)
def analyze_batch(D, S, U, G, conv_stream, i0, frame, conv, swapped, ts, seq_u, ack_u, tflags, window_u, seglen_u,
                  wscale_opt, no_analysis, stream, direction, relseq, relack, aflags, dup_num, dup_frame, acked_frame,
                  ack_rtt, rto, rto_frame):
    """The per-packet loop over one batch, from row ``i0``; state lives in D/S/U/G between batches.

    Returns the row where it stopped: ``n`` when done, earlier when the state tables
    need to grow (the caller grows them and calls again from there).
    """
    n = conv.shape[0]
    for i in range(i0, n):
        # room for two new streams and one unacked segment, else hand back to grow the state
        if G[G_NSTREAMS] + 2 > S.shape[0] or (G[G_FREE] < 0 and G[G_USED] >= U.shape[0]):
            return i
        c = conv[i]
        fl = np.int64(tflags[i])
        seq = np.int64(seq_u[i])
        ack = np.int64(ack_u[i])
        window = np.int64(window_u[i])
        seglen = np.int64(seglen_u[i])
        now = ts[i]
        fnum = frame[i]
        f = 0

        s = conv_stream[c]
        if s < 0:
            s = G[G_NSTREAMS]
            G[G_NSTREAMS] += 1
            conv_stream[c] = s
            S[s, S_FIRST_SWAPPED] = swapped[i]
            S[s, S_CONV] = c
        d = 2 * s + (1 if swapped[i] != S[s, S_FIRST_SWAPPED] else 0)
        # Port reuse: a SYN whose seq differs from this direction's base opens a new stream.
        if (fl & (SYN | ACK)) == SYN and D[d, D_BASE_SET] and seq != D[d, D_BASE_SEQ]:
            s = G[G_NSTREAMS]
            G[G_NSTREAMS] += 1
            conv_stream[c] = s
            S[s, S_FIRST_SWAPPED] = swapped[i]
            S[s, S_CONV] = c
            d = 2 * s
            f |= A_REUSED
        # A SYN-ACK whose seq differs from the base: same stream, new base (packet-tcp.c, issue 16944);
        # a SYN repeating the base restores nextseq (issue 17616).
        if (fl & (SYN | ACK)) == (SYN | ACK) and D[d, D_BASE_SET] and seq != D[d, D_BASE_SEQ]:
            D[d, D_BASE_SEQ] = seq
            f |= A_REUSED
        elif (fl & (SYN | ACK)) == SYN and D[d, D_BASE_SET] and seq == D[d, D_BASE_SEQ] and not (f & A_REUSED):
            D[d, D_NEXTSEQ] = D[d, D_MAXSEQTOBEACKED]
        r = d ^ 1
        stream[i] = s
        direction[i] = d & 1
        if no_analysis[i]:  # a fragment Wireshark could not reassemble, or TCP quoted in an ICMP error
            aflags[i] = f
            continue

        if not D[d, D_BASE_SET]:
            D[d, D_BASE_SEQ] = seq if (fl & SYN) else (seq - 1) & M32
            D[d, D_BASE_SET] = True
        if (not D[r, D_BASE_SET]) and (fl & ACK):
            D[r, D_BASE_SEQ] = (ack - 1) & M32
            D[r, D_BASE_SET] = True
        relseq[i] = (seq - D[d, D_BASE_SEQ]) & M32
        relack[i] = (ack - D[r, D_BASE_SEQ]) & M32 if (fl & ACK) else 0

        nfl = fl & (SYN | FIN | RST)
        goto_finished_fwd = False
        # 1. zero window probe
        if seglen == 1 and seq == D[d, D_NEXTSEQ] and D[r, D_WIN] == 0:
            f |= A_ZWP
            goto_finished_fwd = True
        if not goto_finished_fwd:
            # 2. zero window
            if window == 0 and nfl == 0:
                f |= A_ZW
            # 3. lost segment (previous segment not captured)
            if D[d, D_NEXTSEQ] != 0 and _gt(seq, D[d, D_NEXTSEQ]) and (fl & RST) == 0:
                f |= A_LOST
            # 4. keep-alive
            if (seglen == 0 or seglen == 1) and seq == ((D[d, D_NEXTSEQ] - 1) & M32) and nfl == 0:
                f |= A_KA
            # 5. window update
            if (seglen == 0 and window != 0 and window != D[d, D_WIN] and seq == D[d, D_NEXTSEQ]
                    and ack == D[d, D_LASTACK] and nfl == 0):
                f |= A_WU
            # 6. window full
            if seglen > 0 and D[r, D_WIN_SCALE] != -1 and nfl == 0:
                sh = 0 if (D[r, D_WIN_SCALE] == -2 or D[r, D_FIRST_ACK]) else D[r, D_WIN_SCALE]
                if ((seq + seglen) & M32) == ((D[r, D_LASTACK] + (D[r, D_WIN] << sh)) & M32):
                    f |= A_WF
            same = (seglen == 0 and window == D[d, D_WIN] and seq == D[d, D_NEXTSEQ] and ack == D[d, D_LASTACK] and nfl == 0)
            # 7. keep-alive ACK
            if same and window != 0 and (D[r, D_LASTSEGFLAGS] & A_KA):
                f |= A_KAACK
                goto_finished_fwd = True
            # 8. zero window probe ACK
            elif same and window == 0 and (D[r, D_LASTSEGFLAGS] & A_ZWP):
                f |= A_ZWPACK
                goto_finished_fwd = True
            # 9. duplicate ACK
            elif same and window != 0:
                if D[d, D_DUPACKNUM] == -1:
                    D[d, D_DUPACKNUM] = 1
                else:
                    D[d, D_DUPACKNUM] += 1
                f |= A_DUPACK
                dup_num[i] = D[d, D_DUPACKNUM]
                dup_frame[i] = D[d, D_LASTNONDUPACK]
        # finished_fwd
        if ack != D[d, D_LASTACK]:
            D[d, D_LASTNONDUPACK] = fnum
            D[d, D_DUPACKNUM] = 0
        # 10. ACKed unseen segment
        if D[r, D_MAXSEQTOBEACKED] != 0 and _gt(ack, D[r, D_MAXSEQTOBEACKED]) and (fl & ACK):
            if _lt(D[r, D_MAXSEQTOBEACKED], D[r, D_NEXTSEQ]):  # LT_SEQ in 4.0.17 (later versions: '>')
                D[r, D_MAXSEQTOBEACKED] = D[r, D_NEXTSEQ]
                f |= A_ACKLOST
            else:
                if D[r, D_DUPACKNUM] == 0:
                    f |= A_ACKLOST
                D[r, D_DUPACKNUM] = -1
        # 11. retransmission family
        if (seglen > 0 or (fl & (SYN | FIN))) and not (f & A_KA):
            not_adv = D[d, D_NEXTSEQ] != 0 and _lt(seq, D[d, D_NEXTSEQ])
            if seglen > 1 and ((D[d, D_NEXTSEQ] - 1) & M32) == seq:
                not_adv = False
            done = False
            if seglen > 0 and D[r, D_LASTACK] != 0 and _le((seq + seglen) & M32, D[r, D_LASTACK]):
                f |= A_SPUR
                done = True
            if not done:
                t = now - D[r, D_LASTACKTIME]
                if not_adv and D[r, D_DUPACKNUM] >= 2 and D[r, D_LASTACK] == seq and 0 <= t < 20000000:
                    f |= A_FAST
                    done = True
            if not done:
                t = now - D[d, D_NEXTSEQTIME]
                thr = S[s, S_IRTT] if S[s, S_IRTT] != 0 else 3000000
                extra = 1 if (fl & (SYN | FIN)) else 0
                if not_adv and 0 <= t < thr and D[d, D_NEXTSEQ] != ((seq + seglen + extra) & M32):
                    f |= A_OOO
                    done = True
            if not done and not_adv:
                f |= A_RETR
                rto[i] = now - D[d, D_NEXTSEQTIME]
                rto_frame[i] = D[d, D_NEXTSEQFRAME]
                u = D[d, D_HEAD]
                while u >= 0:
                    rto[i] = now - U[u, U_TS]
                    rto_frame[i] = U[u, U_FRAME]
                    u = U[u, U_LINK]
        # 12. bookkeeping
        nxt = (seq + seglen) & M32
        if (seglen > 0 or (fl & (SYN | FIN))) and D[d, D_COUNT] < MAX_UNACKED:
            if fl & (SYN | FIN):
                nxt = (nxt + 1) & M32
            u = G[G_FREE]
            if u >= 0:
                G[G_FREE] = U[u, U_LINK]
            else:
                u = G[G_USED]
                G[G_USED] += 1
            U[u, U_SEQ] = seq
            U[u, U_NEXTSEQ] = nxt
            U[u, U_FRAME] = fnum
            U[u, U_TS] = now
            U[u, U_LINK] = D[d, D_HEAD]
            D[d, D_HEAD] = u
            D[d, D_COUNT] += 1
        if _gt(nxt, D[d, D_NEXTSEQ]) or D[d, D_NEXTSEQ] == 0:
            if not (f & A_ZWP):
                D[d, D_NEXTSEQ] = nxt
                D[d, D_NEXTSEQFRAME] = fnum
                D[d, D_NEXTSEQTIME] = now
        if seq == D[d, D_MAXSEQTOBEACKED] or D[d, D_MAXSEQTOBEACKED] == 0:
            if not (f & A_ZWP):
                D[d, D_MAXSEQTOBEACKED] = D[d, D_NEXTSEQ]
        D[d, D_WIN] = window
        D[d, D_LASTACK] = ack
        D[d, D_LASTACKTIME] = now
        D[d, D_LASTSEGFLAGS] = f
        # walk the reverse unacked list: ACK RTT and cleanup
        prev = -1
        u = D[r, D_HEAD]
        while u >= 0:
            if ack == U[u, U_NEXTSEQ]:
                acked_frame[i] = U[u, U_FRAME]
                ack_rtt[i] = now - U[u, U_TS]
            elif _gt(ack, U[u, U_SEQ]) and _le(ack, U[u, U_NEXTSEQ]):
                U[u, U_SEQ] = ack
                continue
            elif _gt(U[u, U_NEXTSEQ], ack):
                prev = u
                u = U[u, U_LINK]
                continue
            nxt_u = U[u, U_LINK]
            if prev < 0:
                D[r, D_HEAD] = nxt_u
            else:
                U[prev, U_LINK] = nxt_u
            U[u, U_LINK] = G[G_FREE]
            G[G_FREE] = u
            u = nxt_u
            D[r, D_COUNT] -= 1

        # After the analysis (in dissect_tcp): window scale options, handshake RTT.
        if fl & SYN:
            if wscale_opt[i] >= 0:
                D[d, D_WIN_SCALE] = wscale_opt[i]
            if D[d, D_WIN_SCALE] == -1:
                D[d, D_WIN_SCALE] = -2
                D[r, D_WIN_SCALE] = -2
            elif (fl & ACK) and D[r, D_WIN_SCALE] == -2:
                D[d, D_WIN_SCALE] = -2
            if not (fl & ACK):
                S[s, S_MRU_SYN] = now
            D[d, D_FIRST_ACK] = 1  # until this side's first pure ACK the window is taken unscaled (issue 14690)
        if (fl & (SYN | ACK)) == ACK and S[s, S_MRU_SYN] != 0 and S[s, S_IRTT] == 0:
            S[s, S_IRTT] = now - S[s, S_MRU_SYN]
        if (fl & (SYN | ACK)) == ACK:
            D[d, D_FIRST_ACK] = 0
        aflags[i] = f

    return n


class Analyzer:
    """Wireshark's TCP analysis, fed decoded records in file order, one batch at a time.

    State (per direction, per stream, unacked segments, address and conversation
    tables) persists between batches, so a capture of any size can be analysed in
    fixed memory (``forensics pcap summary``) or all at once (the packets frame).
    """

    def __init__(self, streams: int = 256, pool: int = 4096):
        self.D = np.tile(D_INIT, (2 * streams, 1))
        self.S = np.zeros((streams, 4), np.int64)
        self.U = np.zeros((pool, 5), np.int64)
        self.G = np.array([0, -1, 0], np.int64)
        self.conv_stream = np.full(1024, -1, np.int64)
        self.addr = CodeTable()  # plain arrays: numba's typed Dict would be compiled anew in every process
        self.conv = CodeTable()
        self.n_addr = 0
        self.n_conv = 0
        self.addr_keys = []  # (version, hi, lo) arrays of new addresses, batch by batch
        self.frames = 0
        self.defrag = Defragmenter()

    def _grow(self):
        if self.G[G_NSTREAMS] + 2 > self.S.shape[0]:
            k = self.S.shape[0]
            self.S = np.concatenate([self.S, np.zeros((k, 4), np.int64)])
            self.D = np.concatenate([self.D, np.tile(D_INIT, (2 * k, 1))])
        if self.G[G_FREE] < 0 and self.G[G_USED] >= self.U.shape[0]:
            self.U = np.concatenate([self.U, np.zeros((self.U.shape[0], 5), np.int64)])

    def feed(self, rec: np.ndarray) -> dict:
        """Analyse one batch of records (:data:`~forensics.network.decode.PACKET_DTYPE`).

        Returns address codes for every row (``sc``, ``dc``) and, for the TCP rows
        (``idx``), the per-packet analysis arrays.
        """
        n = rec.shape[0]
        self.defrag.apply(rec)  # completes fragmented datagrams in place, as Wireshark reassembles them
        sc, dc, uv, uh, ul = self.addr.addresses(rec["ipver"], rec["src_hi"], rec["src_lo"], rec["dst_hi"],
                                                 rec["dst_lo"])
        self.n_addr = self.addr.n
        if len(uv):
            self.addr_keys.append((uv, uh, ul))
        osc = odc = None
        if rec["tunnel"].any():  # outer endpoints of tunnelled packets share the address codes
            osc, odc, uv, uh, ul = self.addr.addresses(rec["outer_ver"], rec["osrc_hi"], rec["osrc_lo"],
                                                       rec["odst_hi"], rec["odst_lo"])
            self.n_addr = self.addr.n
            if len(uv):
                self.addr_keys.append((uv, uh, ul))
        tcp = (rec["proto"] == 6) & rec["l4ok"] & ~rec["frag"] & (rec["ipver"] > 0)
        all_tcp = bool(tcp.all())
        idx = np.arange(n, dtype=np.int64) if all_tcp else np.flatnonzero(tcp)
        col = (lambda f: rec[f]) if all_tcp else (lambda f: rec[f][idx])
        conv, swapped = self.conv.conversations(sc[idx], dc[idx], col("sport"), col("dport"))
        self.n_conv = self.conv.n
        if self.n_conv > self.conv_stream.shape[0]:
            grown = np.full(max(self.n_conv, 2 * self.conv_stream.shape[0]), -1, np.int64)
            grown[: self.conv_stream.shape[0]] = self.conv_stream
            self.conv_stream = grown
        m = idx.shape[0]
        out = {
            "stream": np.full(m, -1, np.int32), "direction": np.zeros(m, np.int8),
            "rel_seq": np.zeros(m, np.uint32), "rel_ack": np.zeros(m, np.uint32), "aflags": np.zeros(m, np.int32),
            "dup_ack_num": np.zeros(m, np.int32), "dup_ack_frame": np.zeros(m, np.int32),
            "acked_frame": np.zeros(m, np.int32), "ack_rtt": np.full(m, -1, np.int64), "rto": np.full(m, -1, np.int64),
            "rto_frame": np.zeros(m, np.int32),
        }
        frame = idx + (self.frames + 1)
        args = (conv, swapped, col("ts"), col("seq"), col("ack"), col("flags"), col("window"), col("paylen"),
                col("wscale"), col("no_analysis"), *out.values())
        i = 0
        while i < m:
            i = analyze_batch(self.D, self.S, self.U, self.G, self.conv_stream, i, frame, *args)
            if i < m:
                self._grow()
        self.frames += n
        out.update(idx=idx, all_tcp=all_tcp, sc=sc, dc=dc, osc=osc, odc=odc)
        return out

    @property
    def n_streams(self) -> int:
        return int(self.G[G_NSTREAMS])

    def irtt(self) -> np.ndarray:
        """Handshake RTT per stream, seconds (0 when the handshake was not seen)."""
        return self.S[: self.n_streams, S_IRTT] / 1e9

    def address_names(self) -> list[str]:
        """Text of each address code, in code order."""
        import ipaddress

        names = []
        for uv, uh, ul in self.addr_keys:
            for v, h, l in zip(uv.tolist(), uh.tolist(), ul.tolist()):
                names.append(str(ipaddress.IPv4Address(l & 0xFFFFFFFF)) if v == 4
                             else str(ipaddress.IPv6Address((h << 64) | l)))
        return names
