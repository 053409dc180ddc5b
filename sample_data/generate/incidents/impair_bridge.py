"""User-space L2 bridge between two interfaces that drops and delays TCP frames.

This kernel has no sch_netem, so impairment is done here: frames read from one
interface with an AF_PACKET raw socket are written to the other, except a seeded
random fraction of TCP segments carrying payload, which are dropped; every frame
is held for ``--delay-ms``. ``--schedule "t0:loss,t1:loss"`` (unix seconds) changes
the loss rate at given times. Stats (frames forwarded/dropped) go to ``--stats``.

    ip netns exec fx-inc-x-mid python impair_bridge.py fx-inc-xm0 fx-inc-xm1 --loss 0.03
"""
import argparse
import heapq
import json
import random
import select
import signal
import socket
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def is_tcp_with_payload(frame: bytes) -> bool:
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return False
    ihl = (frame[14] & 0x0F) * 4
    total = int.from_bytes(frame[16:18], "big")
    if len(frame) < 14 + ihl + 13:
        return False
    doff = (frame[14 + ihl + 12] >> 4) * 4
    return total - ihl - doff > 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("if_a")
    ap.add_argument("if_b")
    ap.add_argument("--loss", type=float, default=0.0)
    ap.add_argument("--delay-ms", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--stats", default=None)
    ap.add_argument("--schedule", default="")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    schedule = sorted((float(t), float(l)) for t, l in (x.split(":") for x in a.schedule.split(",") if x))
    socks = {}
    for name in (a.if_a, a.if_b):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((name, 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        socks[name] = s
    other = {socks[a.if_a]: socks[a.if_b], socks[a.if_b]: socks[a.if_a]}
    stats = {"forwarded": 0, "dropped": 0, "loss_changes": []}
    pending = []  # (due, seq, out_sock, frame)
    seq = 0
    running = True

    def stop(*_):
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    loss = a.loss
    while running:
        now = time.time()
        while schedule and schedule[0][0] <= now:
            loss = schedule.pop(0)[1]
            stats["loss_changes"].append([now, loss])
        timeout = max(0.0, pending[0][0] - now) if pending else 0.2
        try:
            ready, _, _ = select.select(list(other), [], [], timeout)
        except InterruptedError:
            continue
        for s in ready:
            frame, addr = s.recvfrom(65535)
            if addr[2] == PACKET_OUTGOING:
                continue  # our own transmissions, seen again on the socket
            if loss and is_tcp_with_payload(frame) and rng.random() < loss:
                stats["dropped"] += 1
                continue
            seq += 1
            heapq.heappush(pending, (time.time() + a.delay_ms / 1000.0, seq, other[s], frame))
        now = time.time()
        while pending and pending[0][0] <= now:
            _, _, out, frame = heapq.heappop(pending)
            try:
                out.send(frame)
                stats["forwarded"] += 1
            except OSError:
                stats["dropped"] += 1
    if a.stats:
        with open(a.stats, "w") as f:
            json.dump(stats, f)


if __name__ == "__main__":
    main()
