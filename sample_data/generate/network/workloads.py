"""TCP workloads run inside the generator's network namespaces (real Linux TCP stacks).

    python3 workloads.py server|client SCENARIO HOST PORT

Each scenario has a server side (run in the server namespace) and a client side
(run in the client namespace). Deterministic amounts of data; timing is real.
"""
import os
import socket
import struct
import sys
import time


def _listen(host, port, rcvbuf=None):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((host, port))
    s.listen(64)
    return s


def _connect(host, port, src_port=None, sndbuf=None):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    if src_port:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("", src_port))
    if sndbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    s.settimeout(60)
    s.connect((host, port))
    return s


def _drain(c):
    n = 0
    while True:
        d = c.recv(1 << 16)
        if not d:
            return n
        n += len(d)


# ---------------------------------------------------------------- bulk upload
def bulk_server(host, port, conns=2):
    s = _listen(host, port)
    for _ in range(conns):
        c, _ = s.accept()
        _drain(c)
        c.sendall(b"done")
        c.close()


def bulk_client(host, port, conns=2, size=1_500_000):
    for _ in range(conns):
        c = _connect(host, port)
        c.sendall(os.urandom(size))
        c.shutdown(socket.SHUT_WR)
        _drain(c)
        c.close()


# ---------------------------------------------------------------- request/response
def reqresp_server(host, port, conns=4):
    import threading

    s = _listen(host, port)

    def serve(c):
        with c:
            while True:
                hdr = b""
                while len(hdr) < 4:
                    d = c.recv(4 - len(hdr))
                    if not d:
                        return
                    hdr += d
                want = struct.unpack("!I", hdr)[0]
                got = 0
                while got < 200:
                    d = c.recv(200 - got)
                    if not d:
                        return
                    got += len(d)
                c.sendall(os.urandom(want))

    ts = []
    for _ in range(conns):
        c, _ = s.accept()
        t = threading.Thread(target=serve, args=(c,))
        t.start()
        ts.append(t)
    for t in ts:
        t.join()


def reqresp_client(host, port, conns=4, requests=60):
    import threading

    def run(k):
        c = _connect(host, port)
        for i in range(requests):
            want = 300 + (i * 7919 + k * 104729) % 12000
            c.sendall(struct.pack("!I", want) + bytes(200))
            got = 0
            while got < want:
                d = c.recv(65536)
                if not d:
                    return
                got += len(d)
            time.sleep(0.005)
        c.close()

    ts = [threading.Thread(target=run, args=(k,)) for k in range(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


# ---------------------------------------------------------------- slow reader (zero windows)
def slow_server(host, port):
    s = _listen(host, port, rcvbuf=4096)
    c, _ = s.accept()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    time.sleep(1.5)  # let the window fill and close
    total = 0
    while True:
        d = c.recv(2048)
        if not d:
            break
        total += len(d)
        time.sleep(0.02)
    c.close()


def slow_client(host, port):
    c = _connect(host, port)
    c.sendall(os.urandom(400_000))
    c.shutdown(socket.SHUT_WR)
    _drain(c)
    c.close()


# ---------------------------------------------------------------- short connections, resets, keep-alive
def short_server(host, port):
    s = _listen(host, port)
    s.settimeout(30)
    try:
        while True:
            c, _ = s.accept()
            try:
                cmd = c.recv(16)
                if cmd.startswith(b"ABORT"):
                    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    c.close()  # RST
                elif cmd.startswith(b"IDLE"):
                    _drain(c)
                    c.close()
                elif cmd.startswith(b"STOP"):
                    c.close()
                    return
                else:
                    c.sendall(b"y" * 3000)
                    c.close()
            except OSError:  # the client reset the connection: expected in this scenario
                c.close()
    except socket.timeout:
        pass


def short_client(host, port):
    # closed port: the server's stack answers the SYN with RST
    for _ in range(3):
        try:
            _connect(host, port + 1).close()
        except OSError:
            pass
    # normal short exchanges, reusing one source port (tcp.analysis.reused_ports)
    for i in range(8):
        for attempt in range(50):
            try:
                c = _connect(host, port, src_port=40000 if i % 2 == 0 else None)
                break
            except OSError:
                time.sleep(0.2)
        c.sendall(b"GET")
        _drain(c)
        c.close()
        time.sleep(0.05)
    # the server aborts: RST after data
    for _ in range(4):
        c = _connect(host, port)
        c.sendall(b"ABORT")
        try:
            _drain(c)
        except OSError:
            pass
        c.close()
    # the client aborts
    for _ in range(3):
        c = _connect(host, port)
        c.sendall(b"GET")
        c.recv(10)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
    # an idle connection with TCP keep-alive every second
    c = _connect(host, port)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
    c.sendall(b"IDLE")
    time.sleep(4.5)
    c.close()
    c = _connect(host, port)
    c.sendall(b"STOP")
    c.close()


# ---------------------------------------------------------------- many packets (benchmark)
def bench_server(host, port, conns=None):
    # A 256 KiB receive buffer, as on many servers, and many connections rather than a few
    # endless ones: the shape of an incident capture (tshark slows down superlinearly on a
    # few multi-GB streams, which would flatter us).
    conns = conns or int(os.environ.get("FX_BENCH_CONNS", 400))
    s = _listen(host, port, rcvbuf=262144)
    for _ in range(conns):
        c, _ = s.accept()
        _drain(c)
        c.sendall(b"done")
        c.close()


def bench_client(host, port, conns=None, size=None):
    conns = conns or int(os.environ.get("FX_BENCH_CONNS", 400))
    size = size or int(os.environ.get("FX_BENCH_BYTES", 3_500_000))
    bulk_client(host, port, conns, size)


if __name__ == "__main__":
    role, scen, host, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    globals()[f"{scen}_{role}"](host, port)
