"""Benchmark: ``forensics pcap summary`` against tshark on ~1M real TCP packets, in the same run.

    flock /work/notes/bench.lock .venv/bin/python benchmarks/network_summary.py [CAPTURE] [--repeat 3] [--cold]

Without CAPTURE it uses benchmarks/data/bench.pcap, making it first (needs root:
network namespaces and tcpdump) with sample_data/generate/network/generate.py bench.

Prints, for issue 17's targets:
* wall time, packets/s and peak RSS of ``forensics pcap summary FILE --format json`` (a fresh
  process each time, start-up included; best of --repeat after one warm-up run that fills
  numba's on-disk cache if stale and the page cache), and its CPU time (user + sys: what a
  busy machine inflates least);
* the same for ``tshark -r F -Y tcp.analysis.retransmission -T fields -e frame.number``, and the
  ratio, measured in this run;
* ``pcap summary`` on a tiny capture (start-up: interpreter, imports, numba's cached code);
* where the time goes, each alone in a fresh process: the evidence's SHA-256 (the floor: one
  sequential chain), decoding + analysis without it, and the imports;
* with --cold, one more run of each tool after evicting the capture from the page cache
  (``posix_fadvise(DONTNEED)`` on that file only: the disk's speed, not ours);
* the load average (``uptime``) before and after, and whether each target is met.
Peak RSS comes from the kernel's rusage of the child process (MiB = 2^20 bytes; the target
is in MB = 10^6 bytes, both are printed).
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
TINY = os.path.join(ROOT, "sample_data", "network", "short_rst.pcap")
TARGET_RATIO, TARGET_PPS, TARGET_RSS_MB, TARGET_TINY_S = 25.0, 1_000_000, 250, 1.0

# Each alone in a fresh interpreter: prints one JSON line.
_PART = r"""
import json, os, sys, time
os.environ["FORENSICS_PROGRESS"] = "0"
what, path = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
if what == "imports":
    import forensics.cli as c
    c.build_parser()
    import forensics.network.load
elif what == "hash":
    from forensics.network.hashing import FileHash
    FileHash(path).result()
elif what == "parse":
    from forensics.network.load import SUMMARY_BATCH, flag_counts
    from forensics.network.pcap import read_capture
    from forensics.network.tcp_analysis import Analyzer
    read_capture(sys.argv[3], consume=lambda b: None)  # numba's cached code, loaded once, before the clock
    t0 = time.perf_counter()
    an = Analyzer()
    read_capture(path, consume=lambda b: flag_counts(b, an.feed(b)), chunk_records=SUMMARY_BATCH)
print(json.dumps({"seconds": time.perf_counter() - t0}))
"""


def run(cmd, env=None):
    """Wall seconds, peak RSS (MiB), CPU seconds (user + sys), stdout and exit code of one child process."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    return wall, ru.ru_maxrss / 1024, ru.ru_utime + ru.ru_stime, out, os.waitstatus_to_exitcode(status)


def best(cmd, env, repeat):
    runs = [run(cmd, env) for _ in range(repeat)]
    return min(runs, key=lambda r: r[0]), runs


def load_avg():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def evict(path):
    """Drop this file's pages from the page cache (clean pages only; other files are untouched)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def verdict(ok):
    return "met" if ok else "NOT met"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("capture", nargs="?", default=DEFAULT)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cold", action="store_true", help="also one run of each from a cold page cache")
    ap.add_argument("--no-tshark", action="store_true", help="skip tshark (no ratio)")
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
    env = dict(os.environ, FORENSICS_PROGRESS="0")
    forensics = [sys.executable, "-m", "forensics.cli", "pcap", "summary", args.capture, "--format", "json"]
    small = [sys.executable, "-m", "forensics.cli", "pcap", "summary", TINY, "--format", "json"]
    print(f"load average before: {load_avg()} on {os.cpu_count()} cores")

    warm = run(forensics, env)  # fills numba's cache if stale, and the page cache
    (wall, rss, cpu, out, rc), runs = best(forensics, env, args.repeat)
    if rc != 0:
        sys.exit(f"forensics pcap summary failed (exit {rc})")
    summary = json.loads(out)
    n = summary["packets"]
    print(f"capture: {args.capture} ({size:,} bytes = {size / 2**20:,.0f} MiB, {n:,} packets, "
          f"{summary['tcp_streams']} TCP streams)")
    print(f"forensics pcap summary: {wall:6.2f} s  {n / wall:12,.0f} packets/s  peak RSS {rss:4.0f} MiB "
          f"({rss * 2**20 / 1e6:.0f} MB)  CPU {cpu:.2f} s  (retransmissions {summary['retransmission']:,}; "
          f"runs {', '.join(f'{r[0]:.2f}' for r in runs)} s; warm-up {warm[0]:.2f} s)")

    run(small, env)
    (tiny_wall, tiny_rss, tiny_cpu, _, _), tiny_runs = best(small, env, max(3, args.repeat))
    print(f"pcap summary on a {os.path.getsize(TINY):,}-byte capture: {tiny_wall:.2f} s  CPU {tiny_cpu:.2f} s  "
          f"peak RSS {tiny_rss:.0f} MiB  (runs {', '.join(f'{r[0]:.2f}' for r in tiny_runs)} s)")

    part = lambda what: [sys.executable, "-c", _PART, what, args.capture, TINY]
    bare = best([sys.executable, "-c", "pass"], env, 3)[0][0]
    imp = best(part("imports"), env, 3)[0]
    parts = {}
    for what in ("hash", "parse"):
        r = best(part(what), env, 2)[0]
        parts[what] = json.loads(r[3])["seconds"]
    print(f"where the time goes (each alone): SHA-256 of the file {parts['hash']:.2f} s "
          f"({size / parts['hash'] / 1e9:.2f} GB/s); decode + TCP analysis {parts['parse']:.2f} s "
          f"({n / parts['parse']:,.0f} packets/s); interpreter {bare:.2f} s + imports {imp[0] - bare:.2f} s "
          f"(peak RSS of the imports alone {imp[1]:.0f} MiB)")

    if args.cold:
        evict(args.capture)
        c = run(forensics, env)
        print(f"forensics pcap summary, capture not in the page cache: {c[0]:.2f} s  {n / c[0]:,.0f} packets/s")

    ratio = None
    tshark = shutil.which("tshark")
    if args.no_tshark or not tshark:
        print("tshark " + ("skipped" if tshark else "not installed") + ": no ratio")
    else:
        tcmd = [tshark, "-n", "-r", args.capture, "-Y", "tcp.analysis.retransmission", "-T", "fields",
                "-e", "frame.number"]
        tw, trss, tcpu, tout, trc = run(tcmd)
        tn = len(tout.split())
        ratio = tw / wall
        print(f"tshark -Y tcp.analysis.retransmission: {tw:6.2f} s  {n / tw:12,.0f} packets/s  peak RSS {trss:4.0f} MiB"
              f"  CPU {tcpu:.2f} s  (retransmissions {tn:,})")
        if tn != summary["retransmission"]:
            print(f"note: retransmission counts differ: ours {summary['retransmission']:,}, tshark {tn:,}")
        if args.cold:
            evict(args.capture)
            ct = run(tcmd)
            print(f"tshark, capture not in the page cache: {ct[0]:.2f} s")

    print(f"load average after: {load_avg()}")
    print("issue 17 targets:")
    if ratio is not None:
        print(f"  >= {TARGET_RATIO:.0f}x tshark (wall, same run): {ratio:.1f}x — {verdict(ratio >= TARGET_RATIO)} "
              f"(CPU: {tcpu / cpu:.1f}x)")
    print(f"  >= {TARGET_PPS:,} packets/s end to end: {n / wall:,.0f} — {verdict(n / wall >= TARGET_PPS)}")
    print(f"  peak RSS <= {TARGET_RSS_MB} MB: {rss * 2**20 / 1e6:.0f} MB — {verdict(rss * 2**20 / 1e6 <= TARGET_RSS_MB)}")
    print(f"  tiny capture < {TARGET_TINY_S:.0f} s end to end: {tiny_wall:.2f} s — {verdict(tiny_wall < TARGET_TINY_S)}")


if __name__ == "__main__":
    main()
