"""Make real packet captures for tests, labelled by tshark.  Run as root:

    sudo .venv/bin/python sample_data/generate/network/generate.py [SCENARIO ...] [--out DIR]
    sudo .venv/bin/python sample_data/generate/network/generate.py bench --out benchmarks/data   # ~1M packets

Topology (all namespaces and links prefixed ``fx-net``)::

    [fx-net-a] a0 ==veth== m0 [fx-net-m: bridge.py] m1 ==veth== b0 [fx-net-b]
     client 10.77.1.1, fd77::1                            server 10.77.1.2, fd77::2

The kernel has no sch_netem, so ``bridge.py`` impairs TCP frames in user space
(loss, delay, jitter/reorder, duplication). Offloads are off so frames are
real MTU-sized segments. tcpdump (or dumpcap for pcapng) captures on the side
named by the scenario; ``tshark -T fields -e tcp.analysis.*`` labels are written
next to each capture (``NAME.tshark.csv``) so tests compare against Wireshark even
where tshark is not installed.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
PY = sys.executable
NS_A, NS_M, NS_B = "fx-net-a", "fx-net-m", "fx-net-b"
A4, B4, A6, B6 = "10.77.1.1", "10.77.1.2", "fd77::1", "fd77::2"

TSHARK_FIELDS = ["frame.number", "tcp.stream", "tcp.flags.reset",
                 "tcp.analysis.retransmission", "tcp.analysis.fast_retransmission",
                 "tcp.analysis.spurious_retransmission", "tcp.analysis.out_of_order",
                 "tcp.analysis.lost_segment", "tcp.analysis.ack_lost_segment",
                 "tcp.analysis.duplicate_ack", "tcp.analysis.duplicate_ack_num",
                 "tcp.analysis.duplicate_ack_frame", "tcp.analysis.zero_window",
                 "tcp.analysis.zero_window_probe", "tcp.analysis.zero_window_probe_ack",
                 "tcp.analysis.window_full", "tcp.analysis.window_update",
                 "tcp.analysis.keep_alive", "tcp.analysis.keep_alive_ack",
                 "tcp.analysis.reused_ports", "tcp.analysis.ack_rtt", "tcp.analysis.acks_frame",
                 "tcp.analysis.initial_rtt"]

# name: (bridge settings, capture side, capture options, workload, host, port)
SCENARIOS = {
    "bulk_loss": dict(bridge={"fwd": {"loss": 0.02, "delay_ms": 10}, "rev": {"loss": 0.01, "delay_ms": 10}},
                      side="a", snaplen=128, work="bulk", host=B4, port=5001,
                      about="1.5 MB uploads twice, 2% loss client->server and 1% back, 20 ms RTT; sender-side capture"),
    "bulk_loss_receiver": dict(bridge={"fwd": {"loss": 0.02, "delay_ms": 10},
                                       "rev": {"loss": 0.01, "delay_ms": 10}},
                               side="b", snaplen=128, work="bulk", host=B4, port=5001, pcapng=True, seed=7,
                               about="the same at the receiver, written as pcapng by dumpcap (ns timestamps)"),
    "reqresp_reorder": dict(bridge={"loss": 0.01, "delay_ms": 3, "jitter_ms": 4, "dup": 0.03},
                            side="a", snaplen=160, work="reqresp", host=B6, port=8080, nano=True,
                            about="4 keep-alive connections x 60 requests over IPv6; jitter reorders, 3% duplicates, 1% loss"),
    "slow_reader": dict(bridge={"delay_ms": 2}, side="b", snaplen=128, work="slow", host=B4, port=6000, iface="any",
                        about="server reads slowly from a tiny buffer: zero windows, probes, window updates; "
                              "captured on 'any' (Linux cooked SLL2)"),
    "pg_snaplen96": dict(bridge={"loss": 0.01, "delay_ms": 2}, side="a", snaplen=96, work="pg", host=B4, port=5432,
                         about="real PostgreSQL: queries with large results, snaplen 96"),
    "short_rst": dict(bridge={"delay_ms": 1}, side="a", snaplen=256, work="short", host=B4, port=7000,
                      about="short connections, refused connects, aborts (RST), a reused source port, keep-alives"),
    "short_sll": dict(bridge={"delay_ms": 1}, side="b", snaplen=200, work="short", host=B4, port=7100,
                      iface="any", linktype="LINUX_SLL",
                      about="the short-connection workload seen at the server on 'any' as Linux cooked v1 (SLL)"),
    "bench": dict(bridge=None, side="a", snaplen=0, work="bench", host=B4, port=5002, large=True,
                  about="~1M packets of bulk transfer for benchmarks (not committed)"),
}


def sh(*cmd, check=True, ns=None, **kw):
    if ns:
        cmd = ("ip", "netns", "exec", ns) + cmd
    return subprocess.run(cmd, check=check, **kw)


def teardown():
    for ns in (NS_A, NS_M, NS_B):
        sh("ip", "netns", "pids", ns, check=False, capture_output=True)
        r = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
        for pid in r.stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        sh("ip", "netns", "del", ns, check=False, stderr=subprocess.DEVNULL)


def setup(bridge_cfg, seed):
    teardown()
    for ns in (NS_A, NS_M, NS_B):
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "set", "lo", "up", ns=ns)
    if bridge_cfg is None:  # direct link, no impairment: fastest, for the benchmark capture
        sh("ip", "link", "add", "a0", "netns", NS_A, "type", "veth", "peer", "name", "b0", "netns", NS_B)
        links = [(NS_A, "a0"), (NS_B, "b0")]
        bridge = None
    else:
        sh("ip", "link", "add", "a0", "netns", NS_A, "type", "veth", "peer", "name", "m0", "netns", NS_M)
        sh("ip", "link", "add", "b0", "netns", NS_B, "type", "veth", "peer", "name", "m1", "netns", NS_M)
        links = [(NS_A, "a0"), (NS_M, "m0"), (NS_M, "m1"), (NS_B, "b0")]
    for ns, dev in links:
        sh("ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off", "tx", "off", "rx", "off", ns=ns,
           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        sh("ip", "link", "set", dev, "up", ns=ns)
    for ns, dev, a4, a6 in ((NS_A, "a0", A4, A6), (NS_B, "b0", B4, B6)):
        sh("ip", "addr", "add", a4 + "/24", "dev", dev, ns=ns)
        sh("ip", "-6", "addr", "add", a6 + "/64", "dev", dev, "nodad", ns=ns)
    if bridge_cfg is not None:
        for dev in ("m0", "m1"):
            sh("ip", "link", "set", dev, "promisc", "on", ns=NS_M)
        cfg = dict(bridge_cfg, seed=seed)
        bridge = subprocess.Popen(["ip", "netns", "exec", NS_M, PY, os.path.join(HERE, "bridge.py"), "m0", "m1",
                                   json.dumps(cfg)], stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    return bridge


def start_capture(spec, path):
    ns = NS_A if spec["side"] == "a" else NS_B
    iface = spec.get("iface") or ("a0" if spec["side"] == "a" else "b0")
    if spec.get("pcapng"):
        cmd = ["dumpcap", "-q", "-i", iface, "-s", str(spec["snaplen"] or 262144), "-w", path, "-f", "tcp"]
    else:
        cmd = ["tcpdump", "-Z", "root", "-i", iface, "-s", str(spec["snaplen"]), "-w", path]
        cmd += ["-B", "65536"] if spec.get("large") else ["-U"]
        if spec.get("linktype"):
            cmd += ["-y", spec["linktype"]]
        if spec.get("nano"):
            cmd += ["--time-stamp-precision", "nano"]
        cmd += ["tcp"]
    p = subprocess.Popen(["ip", "netns", "exec", ns] + cmd, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    return p


def run_pg(spec):
    """A real PostgreSQL server in the server namespace, queried from the client namespace."""
    d = tempfile.mkdtemp(prefix="fx-net-pg-")
    user = "postgres"
    try:
        subprocess.run(["id", user], check=True, capture_output=True)
    except subprocess.CalledProcessError:
        user = "nobody"
    shutil.chown(d, user)
    os.chmod(d, 0o700)
    data = os.path.join(d, "data")
    sh("runuser", "-u", user, "--", "initdb", "-A", "trust", "-D", data, stdout=subprocess.DEVNULL)
    with open(os.path.join(data, "pg_hba.conf"), "a") as f:
        f.write("host all all 10.77.1.0/24 trust\n")
    pg = subprocess.Popen(["ip", "netns", "exec", NS_B, "runuser", "-u", user, "--", "postgres", "-D", data,
                           "-c", f"listen_addresses={B4}", "-c", f"unix_socket_directories={d}",
                           "-p", str(spec["port"])], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(3)
    return pg, d


PG_CLIENT = r"""
import psycopg, sys
with psycopg.connect(host=sys.argv[1], port=int(sys.argv[2]), user=sys.argv[3], dbname="postgres") as c:
    for i in range(6):
        c.execute("select g, md5(g::text) from generate_series(1, %s) g", (4000 + 1000 * i,)).fetchall()
        c.execute("select pg_sleep(0.05)")
    c.execute("create temp table t(x int, y text)")
    c.execute("insert into t select g, repeat('z', 50) from generate_series(1, 3000) g")
    c.execute("select count(*), sum(length(y)) from t").fetchall()
"""


def run_scenario(name, out_dir, seed=1):
    spec = SCENARIOS[name]
    ext = ".pcapng" if spec.get("pcapng") else ".pcap"
    path = os.path.join(out_dir, name + ext)
    if os.path.exists(path):
        os.unlink(path)
    bridge = setup(spec["bridge"], spec.get("seed", seed))
    pg = pgdir = None
    try:
        if spec["work"] == "pg":
            pg, pgdir = run_pg(spec)
        cap = start_capture(spec, path)
        host, port = spec["host"], str(spec["port"])
        if spec["work"] == "pg":
            sh(PY, "-c", PG_CLIENT, host, port, "postgres" if pgdir and _owner(pgdir) == "postgres" else "nobody",
               ns=NS_A)
        else:
            srv = subprocess.Popen(["ip", "netns", "exec", NS_B, PY, os.path.join(HERE, "workloads.py"), "server",
                                    spec["work"], "::" if ":" in host else "0.0.0.0", port])
            time.sleep(0.5)
            sh(PY, os.path.join(HERE, "workloads.py"), "client", spec["work"], host, port, ns=NS_A)
            srv.wait(timeout=120)
        time.sleep(1.0)
        cap.send_signal(signal.SIGINT)
        cap.wait(timeout=30)
    finally:
        if pg:
            sh("runuser", "-u", _owner(pgdir), "--", "pg_ctl", "-D", os.path.join(pgdir, "data"), "stop", "-m", "fast",
               check=False, stdout=subprocess.DEVNULL)
            pg.wait(timeout=30)
        if bridge:
            bridge.send_signal(signal.SIGTERM)
            _, err = bridge.communicate(timeout=30)
            print(f"  bridge: {err.strip()}", file=sys.stderr)
        teardown()
        if pgdir:
            shutil.rmtree(pgdir, ignore_errors=True)
    os.chmod(path, 0o644)
    return path


def _owner(path):
    import pwd

    return pwd.getpwuid(os.stat(path).st_uid).pw_name


def tshark_labels(path):
    """Write NAME.tshark.csv: tshark's own frame-by-frame analysis with default preferences."""
    out = os.path.splitext(path)[0] + ".tshark.csv"
    cmd = ["tshark", "-n", "-r", path, "-T", "fields", "-E", "header=y", "-E", "separator=,",
           "-E", "occurrence=f"]
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    r = subprocess.run(cmd, capture_output=True, text=True)
    with open(out, "w") as f:
        f.write(r.stdout)
    return out


def make_truncated(src, dst, cut_inside_record=700):
    """Copy a capture and cut it in the middle of a record (as a capture killed mid-write)."""
    with open(src, "rb") as f:
        data = f.read()
    # cut 700 bytes before the end of the 60th-last record region: simply drop the tail mid-record
    cut = len(data) - cut_inside_record
    with open(dst, "wb") as f:
        f.write(data[:cut])
    return dst


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenarios", nargs="*", help=f"any of {', '.join(SCENARIOS)} (default: all but bench)")
    ap.add_argument("--out", default=os.path.join(ROOT, "sample_data", "network"))
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces, raw sockets, tcpdump)")
    os.makedirs(args.out, exist_ok=True)
    names = args.scenarios or [n for n in SCENARIOS if not SCENARIOS[n].get("large")]
    manifest = {}
    for name in names:
        print(f"{name}: {SCENARIOS[name]['about']}", file=sys.stderr)
        path = run_scenario(name, args.out)
        if not SCENARIOS[name].get("large"):
            tshark_labels(path)
            manifest[os.path.basename(path)] = SCENARIOS[name]["about"]
        print(f"  -> {path} ({os.path.getsize(path):,} bytes)", file=sys.stderr)
        if name == "short_rst":
            t = make_truncated(path, os.path.join(args.out, "truncated.pcap"))
            tshark_labels(t)
            manifest["truncated.pcap"] = "short_rst.pcap cut 700 bytes before its end, inside a record"
        if manifest:
            mpath = os.path.join(args.out, "MANIFEST.json")
            old = json.load(open(mpath)) if os.path.exists(mpath) else {}
            old.update(manifest)
            with open(mpath, "w") as f:
                json.dump(old, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    main()
