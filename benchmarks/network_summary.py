"""Benchmark: ``forensics pcap summary`` against tshark on ~1M real TCP packets, in the same run.

    sudo .venv/bin/python benchmarks/network_summary.py [CAPTURE]

Without CAPTURE it uses benchmarks/data/bench.pcap, making it first (needs root:
network namespaces and tcpdump) with sample_data/generate/network/generate.py bench.
Prints wall time, packets/s, the ratio to ``tshark -r F -Y tcp.analysis.retransmission
-T fields -e frame.number``, and the peak RSS of each (from the kernel's rusage of the
child process). The first forensics run also fills numba's on-disk cache; the timed
runs are the best of --repeat.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
DEFAULT = os.path.join(ROOT, "benchmarks", "data", "bench.pcap")


def run(cmd, env=None):
    """Wall seconds, peak RSS (MiB) and stdout of one child process."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return wall, ru.ru_maxrss / 1024, out, p.returncode


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("capture", nargs="?", default=DEFAULT)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--bytes", type=int, default=3_500_000, help="bytes per connection when generating")
    ap.add_argument("--conns", type=int, default=400, help="connections when generating")
    args = ap.parse_args()
    if not os.path.exists(args.capture):
        if args.capture != DEFAULT:
            sys.exit(f"no such capture: {args.capture}")
        print(f"generating benchmarks/data/bench.pcap ({args.conns} bulk connections over veth, tcpdump)...",
              file=sys.stderr)
        env = dict(os.environ, FX_BENCH_BYTES=str(args.bytes), FX_BENCH_CONNS=str(args.conns))
        subprocess.run([sys.executable, os.path.join(ROOT, "sample_data", "generate", "network", "generate.py"),
                        "bench", "--out", os.path.dirname(DEFAULT)], check=True, env=env)
    size = os.path.getsize(args.capture)
    forensics = [sys.executable, "-m", "forensics.cli", "pcap", "summary", args.capture, "--format", "json"]
    env = dict(os.environ, FORENSICS_PROGRESS="0")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    tiny = os.path.join(ROOT, "sample_data", "network", "short_rst.pcap")
    small = [sys.executable, "-m", "forensics.cli", "pcap", "summary", tiny, "--format", "json"]
    run(small, env)
    tiny_best = min(run(small, env)[0] for _ in range(3))
    imp = min(run([sys.executable, "-c", "import forensics.cli, forensics.network.load"], env)[0] for _ in range(3))
    bare = min(run([sys.executable, "-c", "pass"], env)[0] for _ in range(3))
    print(f"pcap summary on a {os.path.getsize(tiny):,}-byte capture: {tiny_best:.2f} s (python alone {bare:.2f} s, "
          f"+ imports {imp - bare:.2f} s, the rest: numba's cached code and the work)")
    run(forensics, env)  # warm the numba cache and the page cache
    best = None
    for _ in range(args.repeat):
        r = run(forensics, env)
        best = r if best is None or r[0] < best[0] else best
    wall, rss, out, rc = best
    summary = json.loads(out)
    n = summary["packets"]
    print(f"capture: {args.capture} ({size / 2**20:,.0f} MiB, {n:,} packets, {summary['tcp_streams']} TCP streams)")
    print(f"forensics pcap summary: {wall:6.2f} s  {n / wall:12,.0f} packets/s  peak RSS {rss:6.0f} MiB  "
          f"(retransmissions {summary['retransmission']:,})")
    tshark = shutil.which("tshark")
    if not tshark:
        print("tshark not installed: no ratio")
        return
    tw, trss, tout, trc = run([tshark, "-n", "-r", args.capture, "-Y", "tcp.analysis.retransmission", "-T", "fields",
                               "-e", "frame.number"])
    tn = len(tout.split())
    print(f"tshark -Y tcp.analysis.retransmission: {tw:6.2f} s  {n / tw:12,.0f} packets/s  peak RSS {trss:6.0f} MiB  "
          f"(retransmissions {tn:,})")
    print(f"speed-up (wall): {tw / wall:.1f}x   RSS: {rss:.0f} MiB vs file {size / 2**20:,.0f} MiB "
          f"(tshark {trss:.0f} MiB)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if tn != summary["retransmission"]:
        print(f"note: retransmission counts differ: ours {summary['retransmission']:,}, tshark {tn:,}")


if __name__ == "__main__":
    main()
