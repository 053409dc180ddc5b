"""A tiny lab of network namespaces joined by veth pairs, for staging incidents.

Every namespace, veth and temp dir is named ``fx-inc-*``; addresses are 10.77.x.x and
exist only inside the namespaces created here. Offloads (TSO/GSO/GRO, tx checksum) are
switched off with ethtool so that the user-space impairment bridge sees real frames
(≤ MTU, with filled-in checksums) and tcpdump captures what a wire would carry.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable


def sh(*args, check=True, **kw):
    return subprocess.run([str(a) for a in args], check=check, **kw)


def ns_exec(ns, *args):
    return ["ip", "netns", "exec", ns, *[str(a) for a in args]]


def no_offloads(ns, ifname):
    # Without this, veth hands 64 KB GSO frames with partial checksums to AF_PACKET.
    sh(*ns_exec(ns, "ethtool", "-K", ifname, "tso", "off", "gso", "off", "gro", "off", "tx", "off", "rx", "off"),
       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


class Lab:
    """Namespaces and links; ``close()`` removes all of them (also on error)."""

    def __init__(self, prefix: str):
        assert prefix.startswith("fx-inc-")
        self.prefix = prefix
        self.namespaces: list[str] = []
        self.procs: list[subprocess.Popen] = []

    def ns(self, name: str) -> str:
        full = f"{self.prefix}-{name}"
        sh("ip", "netns", "del", full, check=False, stderr=subprocess.DEVNULL)
        sh("ip", "netns", "add", full)
        sh(*ns_exec(full, "ip", "link", "set", "lo", "up"))
        self.namespaces.append(full)
        return full

    def veth(self, ns_a, if_a, ns_b, if_b, addr_a=None, addr_b=None):
        """A veth pair between two namespaces, with optional /24 addresses on each end."""
        assert len(if_a) <= 15 and len(if_b) <= 15 and if_a.startswith("fx-inc") and if_b.startswith("fx-inc")
        sh("ip", "link", "add", if_a, "netns", ns_a, "type", "veth", "peer", "name", if_b, "netns", ns_b)
        for ns, ifn, addr in ((ns_a, if_a, addr_a), (ns_b, if_b, addr_b)):
            if addr:
                sh(*ns_exec(ns, "ip", "addr", "add", f"{addr}/24", "dev", ifn))
            no_offloads(ns, ifn)
            sh(*ns_exec(ns, "ip", "link", "set", ifn, "up"))

    def spawn(self, ns, args, log=None, env=None) -> subprocess.Popen:
        out = open(log, "ab") if log else subprocess.DEVNULL
        p = subprocess.Popen(ns_exec(ns, *args), stdout=out, stderr=subprocess.STDOUT,
                             env={**os.environ, **(env or {})}, start_new_session=True)
        self.procs.append(p)
        return p

    def impair(self, ns, if_a, if_b, loss, delay_ms, seed, stats_path, schedule=""):
        """Start the AF_PACKET bridge between two interfaces of the middle namespace."""
        for ifn in (if_a, if_b):
            sh(*ns_exec(ns, "ip", "link", "set", ifn, "promisc", "on"))
        return self.spawn(ns, [PY, os.path.join(HERE, "impair_bridge.py"), if_a, if_b, "--loss", loss,
                               "--delay-ms", delay_ms, "--seed", seed, "--stats", stats_path,
                               "--schedule", schedule])

    @staticmethod
    def stop(p: subprocess.Popen, sig=signal.SIGTERM, timeout=10):
        if p.poll() is None:
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                return
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()

    def close(self):
        for p in reversed(self.procs):
            self.stop(p)
        for ns in self.namespaces:
            sh("ip", "netns", "del", ns, check=False, stderr=subprocess.DEVNULL)
        self.namespaces.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def wait_port(ns, host, port, timeout=20.0):
    """Wait until host:port accepts TCP connections from inside ``ns``."""
    deadline = time.time() + timeout
    code = f"import socket; socket.create_connection(({host!r}, {port}), 1).close()"
    while time.time() < deadline:
        if sh(*ns_exec(ns, PY, "-c", code), check=False, stderr=subprocess.DEVNULL).returncode == 0:
            return
        time.sleep(0.3)
    raise RuntimeError(f"{host}:{port} did not open in {ns}")
