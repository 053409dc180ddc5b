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

# Bit values as in packet-tcp.h (TCP_A_*).
FLAG_BITS = {
    "retransmission": 0x0001,
    "lost_segment": 0x0002,
    "ack_lost_segment": 0x0004,
    "keep_alive": 0x0008,
    "duplicate_ack": 0x0010,
    "zero_window": 0x0020,
    "zero_window_probe": 0x0040,
    "zero_window_probe_ack": 0x0080,
    "keep_alive_ack": 0x0100,
    "out_of_order": 0x0200,
    "fast_retransmission": 0x0400,
    "window_update": 0x0800,
    "window_full": 0x1000,
    "reused_ports": 0x2000,
    "spurious_retransmission": 0x4000,
}
A_RETR, A_LOST, A_ACKLOST, A_KA, A_DUPACK, A_ZW, A_ZWP, A_ZWPACK, A_KAACK, A_OOO, A_FAST, A_WU, A_WF, A_REUSED, A_SPUR = (
    FLAG_BITS[k] for k in FLAG_BITS)

#: Flags in the order the CLI and the DataFrames show them.
FLAG_NAMES = ["retransmission", "fast_retransmission", "spurious_retransmission", "out_of_order",
              "lost_segment", "ack_lost_segment", "duplicate_ack", "zero_window", "zero_window_probe",
              "zero_window_probe_ack", "window_full", "window_update", "keep_alive", "keep_alive_ack",
              "reused_ports"]

FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10
M32 = 0xFFFFFFFF
MAX_UNACKED = 10000  # TCP_MAX_UNACKED_SEGMENTS


@numba.njit(cache=True, inline="always")
def _gt(a, b):
    """GT_SEQ: a after b in 32-bit sequence space."""
    d = (a - b) & M32
    return d != 0 and d < 0x80000000


@numba.njit(cache=True, inline="always")
def _lt(a, b):
    return _gt(b, a)


@numba.njit(cache=True, inline="always")
def _le(a, b):
    return a == b or _gt(b, a)


@numba.njit(cache=True)
def analyze(conv, swapped, frame, ts, seq_u, ack_u, tflags, window_u, seglen_u, wscale_opt, n_conv):
    """Run the analysis over TCP packets in file order.

    ``conv`` is the address/port-pair id of each packet, ``swapped`` whether its
    source is the pair's second endpoint. Returns per-packet arrays
    (stream, direction, relative seq, relative ack, flag bits, dup-ACK number,
    dup-ACK frame, acked frame, ACK RTT ns, RTO ns, RTO frame) and per-stream
    arrays (first swapped, handshake RTT ns, conv id).
    """
    n = conv.shape[0]
    max_streams = n_conv + 1
    for i in range(n):
        if (tflags[i] & (SYN | ACK)) == SYN:
            max_streams += 1
    nd = 2 * max_streams

    stream = np.full(n, -1, np.int32)
    direction = np.zeros(n, np.int8)
    relseq = np.zeros(n, np.int64)
    relack = np.zeros(n, np.int64)
    aflags = np.zeros(n, np.int32)
    dup_num = np.zeros(n, np.int32)
    dup_frame = np.zeros(n, np.int64)
    acked_frame = np.zeros(n, np.int64)
    ack_rtt = np.full(n, -1, np.int64)
    rto = np.full(n, -1, np.int64)
    rto_frame = np.zeros(n, np.int64)

    conv_stream = np.full(n_conv, -1, np.int64)
    s_first_swapped = np.zeros(max_streams, np.bool_)
    s_irtt = np.zeros(max_streams, np.int64)
    s_mru_syn = np.zeros(max_streams, np.int64)
    s_conv = np.zeros(max_streams, np.int64)

    base_seq = np.zeros(nd, np.int64)
    base_set = np.zeros(nd, np.bool_)
    nextseq = np.zeros(nd, np.int64)
    nextseqtime = np.zeros(nd, np.int64)
    nextseqframe = np.zeros(nd, np.int64)
    lastack = np.zeros(nd, np.int64)
    lastacktime = np.zeros(nd, np.int64)
    win = np.full(nd, M32, np.int64)
    dupacknum = np.zeros(nd, np.int64)
    lastnondupack = np.zeros(nd, np.int64)
    maxseqtobeacked = np.zeros(nd, np.int64)
    win_scale = np.full(nd, -1, np.int64)
    lastsegflags = np.zeros(nd, np.int64)
    head = np.full(nd, -1, np.int64)
    count = np.zeros(nd, np.int64)
    # Unacked segment pool: a singly linked list per direction, newest first.
    u_seq = np.zeros(n + 1, np.int64)
    u_next = np.zeros(n + 1, np.int64)
    u_nextseq = np.zeros(n + 1, np.int64)
    u_frame = np.zeros(n + 1, np.int64)
    u_ts = np.zeros(n + 1, np.int64)
    u_link = np.full(n + 1, -1, np.int64)
    n_u = 0
    n_streams = 0

    for i in range(n):
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
            s = n_streams
            n_streams += 1
            conv_stream[c] = s
            s_first_swapped[s] = swapped[i]
            s_conv[s] = c
        d = 2 * s + (1 if swapped[i] != s_first_swapped[s] else 0)
        # Port reuse: a SYN whose seq differs from this direction's base opens a new stream.
        if (fl & (SYN | ACK)) == SYN and base_set[d] and seq != base_seq[d]:
            s = n_streams
            n_streams += 1
            conv_stream[c] = s
            s_first_swapped[s] = swapped[i]
            s_conv[s] = c
            d = 2 * s
            f |= A_REUSED
        r = d ^ 1
        stream[i] = s
        direction[i] = d & 1

        if not base_set[d]:
            base_seq[d] = seq if (fl & SYN) else (seq - 1) & M32
            base_set[d] = True
        if (not base_set[r]) and (fl & ACK):
            base_seq[r] = (ack - 1) & M32
            base_set[r] = True
        relseq[i] = (seq - base_seq[d]) & M32
        relack[i] = (ack - base_seq[r]) & M32 if (fl & ACK) else 0

        nfl = fl & (SYN | FIN | RST)
        goto_finished_fwd = False
        # 1. zero window probe
        if seglen == 1 and seq == nextseq[d] and win[r] == 0:
            f |= A_ZWP
            goto_finished_fwd = True
        if not goto_finished_fwd:
            # 2. zero window
            if window == 0 and nfl == 0:
                f |= A_ZW
            # 3. lost segment (previous segment not captured)
            if nextseq[d] != 0 and _gt(seq, nextseq[d]) and (fl & RST) == 0:
                f |= A_LOST
            # 4. keep-alive
            if (seglen == 0 or seglen == 1) and seq == ((nextseq[d] - 1) & M32) and nfl == 0:
                f |= A_KA
            # 5. window update
            if (seglen == 0 and window != 0 and window != win[d] and seq == nextseq[d]
                    and ack == lastack[d] and nfl == 0):
                f |= A_WU
            # 6. window full
            if seglen > 0 and win_scale[r] != -1 and nfl == 0:
                sh = 0 if win_scale[r] == -2 else win_scale[r]
                if ((seq + seglen) & M32) == ((lastack[r] + (win[r] << sh)) & M32):
                    f |= A_WF
            same = (seglen == 0 and window == win[d] and seq == nextseq[d] and ack == lastack[d] and nfl == 0)
            # 7. keep-alive ACK
            if same and window != 0 and (lastsegflags[r] & A_KA):
                f |= A_KAACK
                goto_finished_fwd = True
            # 8. zero window probe ACK
            elif same and window == 0 and (lastsegflags[r] & A_ZWP):
                f |= A_ZWPACK
                goto_finished_fwd = True
            # 9. duplicate ACK
            elif same and window != 0:
                if dupacknum[d] == -1:
                    dupacknum[d] = 1
                else:
                    dupacknum[d] += 1
                f |= A_DUPACK
                dup_num[i] = dupacknum[d]
                dup_frame[i] = lastnondupack[d]
        # finished_fwd
        if ack != lastack[d]:
            lastnondupack[d] = fnum
            dupacknum[d] = 0
        # 10. ACKed unseen segment
        if maxseqtobeacked[r] != 0 and _gt(ack, maxseqtobeacked[r]) and (fl & ACK):
            if maxseqtobeacked[r] > nextseq[r]:
                maxseqtobeacked[r] = nextseq[r]
                f |= A_ACKLOST
            else:
                if dupacknum[r] == 0:
                    f |= A_ACKLOST
                dupacknum[r] = -1
        # 11. retransmission family
        if (seglen > 0 or (fl & (SYN | FIN))) and not (f & A_KA):
            not_adv = nextseq[d] != 0 and _lt(seq, nextseq[d])
            if seglen > 1 and ((nextseq[d] - 1) & M32) == seq:
                not_adv = False
            done = False
            if seglen > 0 and lastack[r] != 0 and _le((seq + seglen) & M32, lastack[r]):
                f |= A_SPUR
                done = True
            if not done:
                t = now - lastacktime[r]
                if not_adv and dupacknum[r] >= 2 and lastack[r] == seq and 0 <= t < 20000000:
                    f |= A_FAST
                    done = True
            if not done:
                t = now - nextseqtime[d]
                thr = s_irtt[s] if s_irtt[s] != 0 else 3000000
                extra = 1 if (fl & (SYN | FIN)) else 0
                if not_adv and 0 <= t < thr and nextseq[d] != ((seq + seglen + extra) & M32):
                    f |= A_OOO
                    done = True
            if not done and not_adv:
                f |= A_RETR
                rto[i] = now - nextseqtime[d]
                rto_frame[i] = nextseqframe[d]
                u = head[d]
                while u >= 0:
                    rto[i] = now - u_ts[u]
                    rto_frame[i] = u_frame[u]
                    u = u_link[u]
        # 12. bookkeeping
        nxt = (seq + seglen) & M32
        if (seglen > 0 or (fl & (SYN | FIN))) and count[d] < MAX_UNACKED:
            if fl & (SYN | FIN):
                nxt = (nxt + 1) & M32
            u = n_u
            n_u += 1
            u_seq[u] = seq
            u_nextseq[u] = nxt
            u_frame[u] = fnum
            u_ts[u] = now
            u_link[u] = head[d]
            head[d] = u
            count[d] += 1
        if _gt(nxt, nextseq[d]) or nextseq[d] == 0:
            if not (f & A_ZWP):
                nextseq[d] = nxt
                nextseqframe[d] = fnum
                nextseqtime[d] = now
        if seq == maxseqtobeacked[d] or maxseqtobeacked[d] == 0:
            if not (f & A_ZWP):
                maxseqtobeacked[d] = nextseq[d]
        win[d] = window
        lastack[d] = ack
        lastacktime[d] = now
        lastsegflags[d] = f
        # walk the reverse unacked list: ACK RTT and cleanup
        prev = -1
        u = head[r]
        while u >= 0:
            if ack == u_nextseq[u]:
                acked_frame[i] = u_frame[u]
                ack_rtt[i] = now - u_ts[u]
            elif _gt(ack, u_seq[u]) and _le(ack, u_nextseq[u]):
                u_seq[u] = ack
                continue
            elif _gt(u_nextseq[u], ack):
                prev = u
                u = u_link[u]
                continue
            nxt_u = u_link[u]
            if prev < 0:
                head[r] = nxt_u
            else:
                u_link[prev] = nxt_u
            u = nxt_u
            count[r] -= 1

        # After the analysis (in dissect_tcp): window scale options, handshake RTT.
        if fl & SYN:
            if wscale_opt[i] >= 0:
                win_scale[d] = wscale_opt[i]
            if win_scale[d] == -1:
                win_scale[d] = -2
                win_scale[r] = -2
            elif (fl & ACK) and win_scale[r] == -2:
                win_scale[d] = -2
            if not (fl & ACK):
                s_mru_syn[s] = now
        if (fl & (SYN | ACK)) == ACK and s_mru_syn[s] != 0 and s_irtt[s] == 0:
            s_irtt[s] = now - s_mru_syn[s]
        aflags[i] = f

    return (stream, direction, relseq, relack, aflags, dup_num, dup_frame, acked_frame, ack_rtt, rto, rto_frame,
            s_first_swapped[:n_streams], s_irtt[:n_streams], s_conv[:n_streams])
