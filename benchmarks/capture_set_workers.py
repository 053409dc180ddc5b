"""Benchmark: a ~1.1M-packet rotated capture set, ``--workers 1`` against ``--workers 2``, in the same run.

    sudo .venv/bin/python benchmarks/capture_set_workers.py [SET_FOLDER] [--repeat 2]

Without SET_FOLDER it uses benchmarks/data/captureset/, making it first (git-ignored): the
generator's bench capture (sample_data/generate/network/generate.py bench, 490 real TCP bulk
connections over veth; needs root, tcpdump) cut to its first 1,100,000 packets and rotated
into 10 files of 110,000 with ``editcap -c``, as ``tcpdump -C`` would leave them.

Times, best of --repeat after a warm-up (numba cache, page cache), 1 and 2 workers alternating:

* ``forensics pcap summary SET --workers N`` (counts per flag; the streaming path),
* ``forensics pcap flows SET --workers N`` (the full packets table, then the flows table),
* the old way for reference: ``mergecap -w merged.pcap SET/*`` then ``pcap summary merged.pcap``;
* with ``--dask``: ``pcap flows SET --scheduler local --workers 2`` (workers write Parquet, the client reads
  the flows): its time and the peak memory of the client and its workers.

It ends with the two figures that count, workers 2 against workers 1, for the command (what a shell user
waits for, Python start-up and imports included) and for the library call alone (a fresh process that has
imported forensics: what a notebook waits for), with the load average beside them.

For each: wall time, CPU time (user + sys of the whole process tree, from the kernel's rusage),
peak RSS of the largest process and the peak memory of the whole tree (sum of PSS, so pages a
forked worker shares with its parent count once; sampled every 20 ms), and the load
average before and after — the machine may be shared, which depresses any ratio.
Outputs of workers 1 and 2 are compared byte for byte.
"""
from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
DATA = os.path.join(ROOT, "benchmarks", "data")
DEFAULT = os.path.join(DATA, "captureset")
PACKETS, PER_FILE = 1_100_000, 110_000


def build(folder):
    src = os.path.join(DATA, "captureset_source", "bench.pcap")
    if not os.path.exists(src):
        print("generating the bench capture (490 bulk connections over veth, tcpdump)...", file=sys.stderr)
        env = dict(os.environ, FX_BENCH_BYTES="3500000", FX_BENCH_CONNS="490")
        subprocess.run([sys.executable, os.path.join(ROOT, "sample_data", "generate", "network", "generate.py"),
                        "bench", "--out", os.path.dirname(src)], check=True, env=env)
    os.makedirs(folder, exist_ok=True)
    subprocess.run(["editcap", "-F", "pcap", "-r", "-c", str(PER_FILE), src, os.path.join(folder, "bench.pcap"),
                    f"1-{PACKETS}"], check=True)


def _pss(pid) -> int:
    """Proportional set size (bytes): forked workers share the parent's pages, RSS would count them twice."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _tree_rss(pid) -> tuple[int, int, int]:
    """(sum of PSS over the process tree, PSS of the root process, largest PSS of one other process)."""
    import psutil

    try:
        p = psutil.Process(pid)
        procs = [p, *p.children(recursive=True)]
    except psutil.Error:
        return 0, 0, 0
    each = [_pss(q.pid) for q in procs]
    return sum(each), each[0], max(each[1:], default=0)


def run(cmd, out_path=None):
    """Wall s, CPU s (tree), peak RSS MiB (largest process), peak RSS MiB (tree, sampled), stdout, rc."""
    env = dict(os.environ, FORENSICS_PROGRESS="0")
    out = open(out_path, "wb") if out_path else subprocess.PIPE
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, env=env)
    peak = [0, 0, 0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[:] = [max(a, b) for a, b in zip(peak, _tree_rss(p.pid))]
            done.wait(0.02)
    th = threading.Thread(target=sample, daemon=True)
    th.start()
    data = p.stdout.read() if out_path is None else b""
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    done.set()
    th.join()
    if out_path:
        out.close()
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rss": ru.ru_maxrss / 1024, "tree_rss": peak[0] / 2**20,
            "root_pss": peak[1] / 2**20, "child_pss": peak[2] / 2**20,
            "out": data, "rc": os.waitstatus_to_exitcode(status)}


def best_of(cmd, repeat, out_path=None):
    best = None
    for _ in range(repeat):
        before = os.getloadavg()[0]
        r = run(cmd, out_path)
        r["load"] = (before, os.getloadavg()[0])
        if r["rc"] != 0:
            sys.exit(f"failed ({r['rc']}): {' '.join(cmd)}")
        best = r if best is None or r["wall"] < best["wall"] else best
    return best


CALL = """
import sys, time
from forensics.sets.captures import capture_set_summary, load_capture_set
t = time.perf_counter()
if sys.argv[1] == "summary":
    capture_set_summary(sys.argv[2], workers=int(sys.argv[3]))
else:
    load_capture_set(sys.argv[2], workers=int(sys.argv[3])).flows
print(time.perf_counter() - t)
"""


def call_time(what, folder, workers, repeat):
    """Seconds of the library call alone (a fresh process each time, imports not counted): what a
    notebook that already imported forensics waits for."""
    best = None
    for _ in range(repeat):
        r = run([sys.executable, "-c", CALL, what, folder, str(workers)])
        if r["rc"] != 0:
            sys.exit(f"failed: {what} call, {workers} workers")
        t = float(r["out"].decode().split()[-1])
        best = t if best is None else min(best, t)
    return best


def line(name, r):
    return (f"{name:44} {r['wall']:7.2f} s  CPU {r['cpu']:6.2f} s  peak RSS {r['rss']:6.0f} MiB (largest process), "
            f"{r['tree_rss']:6.0f} MiB (all processes, PSS)  load {r['load'][0]:.2f}→{r['load'][1]:.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", nargs="?", default=DEFAULT)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--skip-flows", action="store_true", help="only the summary (the streaming path)")
    ap.add_argument("--dask", action="store_true", help="also pcap flows on a 2-worker Dask LocalCluster (peak memory)")
    args = ap.parse_args()
    if not glob.glob(os.path.join(args.folder, "*.pcap*")):
        if args.folder != DEFAULT:
            sys.exit(f"no captures in {args.folder}")
        build(args.folder)
    files = sorted(glob.glob(os.path.join(args.folder, "*.pcap*")))
    size = sum(os.path.getsize(f) for f in files)
    fx = [sys.executable, "-m", "forensics.cli", "pcap"]
    print(f"set: {args.folder}: {len(files)} files, {size / 2**20:,.0f} MiB; {os.cpu_count()} cores; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    run(fx + ["summary", args.folder, "--workers", "2", "--format", "json"])  # warm numba's and the page cache
    # The evidence hash alone (one core): every run computes it, whatever the workers
    import hashlib
    import resource

    c0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    for f in files:
        h = hashlib.sha256()
        with open(f, "rb") as fh:
            while chunk := fh.read(8 << 20):
                h.update(chunk)
    c1 = resource.getrusage(resource.RUSAGE_SELF)
    print(f"SHA-256 of the set alone (one core): {time.perf_counter() - t0:.2f} s wall, "
          f"{c1.ru_utime - c0.ru_utime + c1.ru_stime - c0.ru_stime:.2f} s CPU", flush=True)
    res = {}
    # 1 and 2 workers alternate (1, 2, 1, 2, ...), so a change in the others' load hits both alike
    for _ in range(args.repeat):
        for w in (1, 2):
            r = best_of(fx + ["summary", args.folder, "--workers", str(w), "--format", "json"], 1)
            if ("summary", w) not in res or r["wall"] < res[("summary", w)]["wall"]:
                res[("summary", w)] = r
    for w in (1, 2):
        print(line(f"pcap summary SET --workers {w}", res[("summary", w)]), flush=True)
    same = res[("summary", 1)]["out"] == res[("summary", 2)]["out"]
    import json

    s = json.loads(res[("summary", 1)]["out"])
    print(f"  {s['packets']:,} packets, {s['tcp_streams']} TCP streams, {s['retransmission']:,} retransmissions; "
          f"workers 1 and 2 output identical: {same}")
    r1, r2 = res[("summary", 1)], res[("summary", 2)]
    print(f"  summary: workers 2 vs 1: {r1['wall'] / r2['wall']:.2f}x wall, CPU {r2['cpu'] / r1['cpu']:.2f}x")
    if not args.skip_flows:
        outs = {}
        for _ in range(args.repeat):
            for w in (1, 2):
                outs[w] = os.path.join(DATA, f"flows_w{w}.csv")
                r = best_of(fx + ["flows", args.folder, "--workers", str(w), "--format", "csv"], 1, outs[w])
                if ("flows", w) not in res or r["wall"] < res[("flows", w)]["wall"]:
                    res[("flows", w)] = r
        for w in (1, 2):
            print(line(f"pcap flows SET --workers {w}", res[("flows", w)]), flush=True)
        with open(outs[1], "rb") as a, open(outs[2], "rb") as b:
            print(f"  flows: workers 2 vs 1: {res[('flows', 1)]['wall'] / res[('flows', 2)]['wall']:.2f}x wall; "
                  f"output identical: {a.read() == b.read()}")
    if args.dask and not args.skip_flows:
        # the Dask path: workers write their partitions' packets and flows as Parquet; the client reads the flows
        out = os.path.join(DATA, "flows_dask.csv")
        r = best_of(fx + ["flows", args.folder, "--scheduler", "local", "--workers", "2", "--format", "csv"], 1, out)
        print(line("pcap flows SET --scheduler local --workers 2", r), flush=True)
        with open(outs[1], "rb") as a, open(out, "rb") as b:
            print(f"  Dask LocalCluster (2 workers) flows output identical to one process: {a.read() == b.read()}; "
                  f"client + workers peak memory {r['tree_rss']:.0f} MiB (PSS) against "
                  f"{res[('flows', 1)]['tree_rss']:.0f} MiB for one process; peak of the client alone "
                  f"{r['root_pss']:.0f} MiB, of the largest worker (or nanny/scheduler) {r['child_pss']:.0f} MiB")
    calls = {}
    for what in ("summary",) + (() if args.skip_flows else ("flows",)):
        for _ in range(args.repeat):
            for w in (1, 2):
                t = call_time(what, args.folder, w, 1)
                calls[(what, w)] = min(t, calls.get((what, w), t))
    print("\n=== workers 2 against workers 1 (target: at least 1.5x, identical output) ===")
    for what in ("summary", "flows"):
        if (what, 1) not in res:
            continue
        a, b = res[(what, 1)], res[(what, 2)]
        print(f"pcap {what:8} command:   1 worker {a['wall']:6.2f} s, 2 workers {b['wall']:6.2f} s -> "
              f"{a['wall'] / b['wall']:.2f}x   (load {a['load'][0]:.2f} / {b['load'][0]:.2f} at the start)")
        print(f"pcap {what:8} call only: 1 worker {calls[(what, 1)]:6.2f} s, 2 workers {calls[(what, 2)]:6.2f} s -> "
              f"{calls[(what, 1)] / calls[(what, 2)]:.2f}x   (after the imports, as in a notebook)")
    print(f"load average now: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores "
          "(others' work on a shared machine distorts every ratio)", flush=True)
    mergecap = shutil.which("mergecap")
    if mergecap:
        merged = os.path.join(DATA, "captureset_merged.pcap")
        m = best_of([mergecap, "-F", "pcap", "-w", merged, *files], 1)
        print(line("reference: mergecap -w merged.pcap SET/*", m))
        ms = best_of(fx + ["summary", merged, "--format", "json"], args.repeat)
        print(line("  then pcap summary merged.pcap", ms))
        same = json.loads(ms["out"]) == {k: v for k, v in s.items() if k != "files"}
        print(f"  set summary = merged-file summary: {same}; set with workers 1 vs mergecap + summary: "
              f"{(m['wall'] + ms['wall']) / r1['wall']:.2f}x")
        os.unlink(merged)


if __name__ == "__main__":
    main()
