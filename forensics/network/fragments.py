"""IP fragment reassembly before TCP analysis, as Wireshark does it by default.

Wireshark (``ip.defragment`` and ``ipv6.defragment``, both on) shows the transport layer of a
fragmented datagram in the frame whose fragment completes it; the other fragments are plain IP
fragments. The decoder marks every fragment (``frag``) and reads the transport header from the
first one; here, when a datagram's fragments cover it from byte 0 to the end of the last one,
the completing frame gets the first fragment's transport fields and the datagram's full
length. Datagrams never completed stay fragments (no TCP), as in Wireshark. Fragments are rare,
so this is plain Python over the fragment rows only; state persists between batches.
"""
from __future__ import annotations

import numpy as np

from .tunnel_fragments import decoded_whole

# Transport fields copied from the first fragment into the completing one.
_TRANSPORT = ("sport", "dport", "seq", "ack", "flags", "window", "hdrlen", "mss", "wscale", "sack_perm",
              "sack_blocks", "has_ts", "tsval", "tsecr", "l4ok")

#: Datagrams kept waiting for their missing fragments (Wireshark keeps them for the whole file).
MAX_PENDING = 65536


class Defragmenter:
    def __init__(self):
        self.pending: dict = {}
        self.reassembled = 0
        self.tunnels = 0  # completed datagrams with a tunnel or a tiny first fragment (decoded whole on a second read)

    def apply(self, rec: np.ndarray) -> None:
        """Complete, in place, every datagram whose last missing fragment is in ``rec``."""
        idx = np.flatnonzero(rec["frag"])
        if not idx.shape[0]:
            return
        sub = rec[idx]
        keys = zip(sub["ipver"].tolist(), sub["fkey_src"].tolist(), sub["fkey_dst"].tolist(),
                   sub["frag_id"].tolist(), sub["proto"].tolist())
        offs, lens, more = sub["frag_off"].tolist(), sub["frag_len"].tolist(), sub["frag_more"].tolist()
        for j, key in enumerate(keys):
            st = self.pending.get(key)
            if st is None:
                if len(self.pending) >= MAX_PENDING:
                    self.pending.pop(next(iter(self.pending)))
                st = self.pending[key] = [None, [], None]
            st[1].append((offs[j], lens[j]))
            if offs[j] == 0:
                st[0] = rec[idx[j]].copy()
            if not more[j]:
                st[2] = offs[j] + lens[j]
            if st[0] is None or st[2] is None:
                continue
            cur = 0
            for o, ln in sorted(st[1]):
                if o > cur:
                    break
                cur = max(cur, o + ln)
            if cur < st[2]:
                continue
            del self.pending[key]
            first, total = st[0], st[2]
            if not first["frag_direct"]:
                continue
            if decoded_whole(first):
                self.tunnels += 1
            r = rec[idx[j]]
            for f in _TRANSPORT:
                r[f] = first[f]
            r["proto"] = first["proto"]
            if first["proto"] == 6 and first["l4ok"]:
                r["paylen"] = max(total - int(first["hdrlen"]), 0)
            elif first["l4ok"]:
                r["paylen"] = max(int(first["paylen"]), 0)
            r["frag"] = False
            self.reassembled += 1
