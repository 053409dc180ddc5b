"""A user-space impairment bridge: forwards Ethernet frames between two interfaces.

This kernel has no sch_netem, so loss, delay, jitter (which reorders) and
duplication are applied here, in the middle network namespace, on AF_PACKET raw
sockets. Only TCP frames are impaired; ARP/ND and the rest pass untouched so the
endpoints can still find each other.

    python3 bridge.py IF1 IF2 '{"loss": 0.02, "delay_ms": 10, "jitter_ms": 0, "dup": 0, "seed": 1}'

Settings may be given per direction as {"fwd": {...}, "rev": {...}} (fwd = IF1 -> IF2).
Runs until SIGTERM; prints counters to stderr when it stops.
"""
import heapq
import json
import random
import select
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def is_tcp(frame: bytes) -> bool:
    et = struct.unpack_from("!H", frame, 12)[0] if len(frame) >= 14 else 0
    off = 14
    if et == 0x8100 and len(frame) >= 18:
        et = struct.unpack_from("!H", frame, 16)[0]
        off = 18
    if et == 0x0800 and len(frame) > off + 9:
        return frame[off + 9] == 6
    if et == 0x86DD and len(frame) > off + 6:
        return frame[off + 6] == 6
    return False


def main():
    if1, if2, cfg = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    dirs = {0: cfg.get("fwd", cfg), 1: cfg.get("rev", cfg)}
    rng = random.Random(cfg.get("seed", 1))
    socks = []
    for name in (if1, if2):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((name, 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        s.setblocking(False)
        socks.append(s)
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    signal.signal(signal.SIGINT, lambda *a: stop.append(1))
    queue = []  # (release time, tiebreak, out socket index, frame)
    counters = {"in": 0, "dropped": 0, "duplicated": 0, "out": 0}
    tie = 0
    while not stop:
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, out, frame = heapq.heappop(queue)
            try:
                socks[out].send(frame)
                counters["out"] += 1
            except OSError:
                pass
        timeout = max(0.0, queue[0][0] - now) if queue else 0.05
        try:
            ready, _, _ = select.select(socks, [], [], min(timeout, 0.05))
        except InterruptedError:
            continue
        for s in ready:
            d = socks.index(s)
            while True:
                try:
                    frame, addr = s.recvfrom(65600)
                except BlockingIOError:
                    break
                if addr[2] == PACKET_OUTGOING:
                    continue
                counters["in"] += 1
                p = dirs[d]
                out = 1 - d
                t = time.monotonic()
                if not is_tcp(frame):
                    socks[out].send(frame)
                    continue
                if rng.random() < p.get("loss", 0.0):
                    counters["dropped"] += 1
                    continue
                copies = 2 if rng.random() < p.get("dup", 0.0) else 1
                counters["duplicated"] += copies - 1
                for _ in range(copies):
                    delay = p.get("delay_ms", 0.0) + rng.uniform(0, p.get("jitter_ms", 0.0))
                    tie += 1
                    heapq.heappush(queue, (t + delay / 1000.0, tie, out, frame))
    print(json.dumps(counters), file=sys.stderr)


if __name__ == "__main__":
    main()
