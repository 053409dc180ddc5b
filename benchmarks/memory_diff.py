"""Benchmark: `forensics heap diff` vs `memlab find-leaks` on the same ~200 MB / ~245 MB V8 snapshots.

    .venv/bin/python benchmarks/memory_diff.py [--regenerate] [--skip-memlab]

Generates (once) baseline/target/final snapshots with the leaking Node program
at a larger scale into benchmarks/data/memory/ (gitignored), then runs, in the
same session and one after the other:

  ours:   python -m forensics.cli heap diff s1 s2 s3 --format json   (class diff + leak clusters)
  memlab: benchmarks/node_modules/.bin/memlab find-leaks --baseline s1 --target s2 --final s3 --trace-all-objects

and prints wall time and peak RSS of each (from wait4's rusage of that process
and its waited children; ours: the median of 3 runs after the first, ``--repeat``), the ratios, and whether each put the planted leak
(`requestCache` / LeakyCacheEntry) on top. Before that it clears numba's cache of the
heap kernels, runs the install step (`python -m forensics.memory.warm`, as `make setup`
does) and times our first and second run (target: first <= 1.5x second). The load
average is printed before and after: the machine may be shared. memlab is installed with
`cd benchmarks && PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-save --no-package-lock memlab`.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DATA = os.path.join(HERE, "data", "memory")
LEAK_JS = os.path.join(REPO, "sample_data", "generate", "memory", "leak.js")
MEMLAB = os.path.join(HERE, "node_modules", ".bin", "memlab")
SCALE, STEADY = "54", "680000"   # → baseline ≈ 199 MB, target/final ≈ 245 MB
NAMES = ["node_s1_churn", "node_s2_target", "node_s3_final"]


def snapshots() -> list[str]:
    return [os.path.join(DATA, n + ".heapsnapshot") for n in NAMES]


def generate() -> None:
    os.makedirs(DATA, exist_ok=True)
    print(f"generating snapshots (leak.js scale {SCALE}, {STEADY} steady objects) into {DATA} ...", flush=True)
    subprocess.run(["node", "--expose-gc", "--max-old-space-size=4096", LEAK_JS, DATA, SCALE, STEADY], check=True,
                   stdout=subprocess.DEVNULL)


CPU = {}   # command kind -> CPU seconds (user + system) of its last run, from the same rusage


def measure(cmd, **kw):
    """(wall seconds, peak RSS bytes, stdout text) of one command (its CPU seconds go to ``CPU[cmd[0]]``)."""
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, **kw)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    CPU[cmd[0]] = ru.ru_utime + ru.ru_stime
    if p.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({p.returncode}):\n{text[-2000:]}")
    return wall, ru.ru_maxrss * 1024, text


def memlab_top(text: str) -> str:
    """The retainer trace of memlab's first (largest) leak cluster."""
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)
    blocks = text.split("--Similar leaks in this run:")
    return blocks[1] if len(blocks) > 1 else ""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--regenerate", action="store_true")
    ap.add_argument("--skip-memlab", action="store_true")
    ap.add_argument("--keep-cache", action="store_true", help="do not clear numba's cache before the install step")
    ap.add_argument("--repeat", type=int, default=3, help="runs of ours after the first (the median is reported)")
    args = ap.parse_args()
    files = snapshots()
    if args.regenerate or not all(os.path.exists(f) and os.path.getsize(f) > 0 for f in files):
        generate()
    sizes = [os.path.getsize(f) for f in files]
    print("snapshots:", ", ".join(f"{os.path.basename(f)} {s / 1e6:.0f} MB" for f, s in zip(files, sizes)))
    env = {**os.environ, "FORENSICS_PROGRESS": "0"}

    before = os.getloadavg()
    print("load average (1/5/15 min):", " ".join(f"{x:.2f}" for x in before))

    # "first run after install": clear numba's on-disk cache of the heap kernels, run the install step
    # (make setup runs `python -m forensics.memory.warm`), then time the first and the second diff
    cache = os.path.join(REPO, "forensics", "memory", "__pycache__")
    if not args.keep_cache and os.path.isdir(cache):
        for name in os.listdir(cache):
            if name.endswith((".nbi", ".nbc")):
                os.remove(os.path.join(cache, name))
    warm_wall, _, _ = measure([sys.executable, "-m", "forensics.memory.warm"], env=env, cwd=REPO)
    print(f"install step (python -m forensics.memory.warm, cache cleared first): {warm_wall:.1f} s")
    cmd = [sys.executable, "-m", "forensics.cli", "heap", "diff", *files, "--format", "json", "--top", "10"]
    first_wall, first_rss, _ = measure(cmd, env=env, cwd=REPO)
    second_wall, ours_rss, ours_out = measure(cmd, env=env, cwd=REPO)
    print(f"first run after install {first_wall:.1f} s, second {second_wall:.1f} s: "
          f"{first_wall / second_wall:.2f}x (target <= 1.5x)")
    # the machine is shared: ours is the median of the second and args.repeat - 1 more runs (memlab runs once: 20-30 s)
    cpus = [CPU[sys.executable]]
    runs = [(second_wall, ours_rss)]
    for _ in range(args.repeat - 1):
        runs.append(measure(cmd, env=env, cwd=REPO)[:2])
        cpus.append(CPU[sys.executable])
    ours_cpu = sorted(cpus)[len(cpus) // 2]
    walls = sorted(w for w, _ in runs)
    ours_wall = walls[len(walls) // 2]
    ours_rss = max(r for _, r in runs)
    print(f"ours, {len(runs)} runs after the first: " + ", ".join(f"{w:.1f}" for w, _ in runs) + f" s; median {ours_wall:.1f} s")
    table = json.loads(ours_out[ours_out.index("["):])
    leaks_wall, _, leaks_out = measure([sys.executable, "-m", "forensics.cli", "heap", "leaks", *files,
                                        "--format", "json", "--top", "3"], env=env, cwd=REPO)
    leaks = json.loads(leaks_out[leaks_out.index("["):])
    ours_ok = table[0]["name"] == "LeakyCacheEntry" and "requestCache" in leaks[0]["owner"]
    print(f"ours:   {ours_wall:6.1f} s  peak RSS {ours_rss / 1e6:6.0f} MB  "
          f"({ours_rss / max(sizes):.2f}x the larger file)  top class {table[0]['name']}, "
          f"top leak cluster owner {leaks[0]['owner']!r}  [{'right leak' if ours_ok else 'WRONG'}]")
    if args.skip_memlab:
        return 0 if ours_ok else 1
    if not os.path.exists(MEMLAB):
        print("memlab not installed: cd benchmarks && PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-save "
              "--no-package-lock memlab")
        return 1
    mem_env = {**env, "NODE_OPTIONS": "--max-old-space-size=8192"}
    ml_wall, ml_rss, ml_out = measure([MEMLAB, "find-leaks", "--baseline", files[0], "--target", files[1],
                                       "--final", files[2], "--trace-all-objects"], env=mem_env,
                                      cwd=tempfile.gettempdir())
    top = memlab_top(ml_out)
    ml_ok = "requestCache" in top
    print(f"memlab: {ml_wall:6.1f} s  peak RSS {ml_rss / 1e6:6.0f} MB  top cluster via requestCache: {ml_ok}")
    after = os.getloadavg()
    ratio, rss_x, first_x = ml_wall / ours_wall, ours_rss / max(sizes), first_wall / second_wall

    def verdict(ok):
        return "met" if ok else "NOT met"
    print()
    print("== summary ==")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in before)}; after: {' '.join(f'{x:.2f}' for x in after)} "
          "(2 cores; a loaded machine slows ours more: we use the second core)")
    print(f"ours   `heap diff s1 s2 s3` (class table + leak clusters; median of {len(runs)}): {ours_wall:5.1f} s, "
          f"peak RSS {ours_rss / 1e6:.0f} MB (the largest of the runs)")
    print(f"memlab `find-leaks --trace-all-objects`:                          {ml_wall:5.1f} s, "
          f"peak RSS {ml_rss / 1e6:.0f} MB")
    print(f"speed-up memlab / ours:            {ratio:4.1f}x   (target >= 5x:   {verdict(ratio >= 5)})")
    print(f"CPU time (user + system):          ours {ours_cpu:.1f} s (median), memlab {CPU[MEMLAB]:.1f} s: "
          f"{CPU[MEMLAB] / ours_cpu:.1f}x (less sensitive to the load than wall time; ours spreads over 2 threads)")
    print(f"peak RSS ours / largest snapshot:  {rss_x:4.2f}x   (target <= 2x:   {verdict(rss_x <= 2)}); "
          f"memlab uses {ml_rss / ours_rss:.1f}x our memory")
    print(f"first run after install / second:  {first_x:4.2f}x   (target <= 1.5x: {verdict(first_x <= 1.5)}); "
          f"first {first_wall:.1f} s, second {second_wall:.1f} s")
    print(f"`heap leaks` (the same work, the cluster table printed): {leaks_wall:.1f} s = memlab / {ml_wall / leaks_wall:.1f}")
    print(f"same answer: ours top class {table[0]['name']}, top cluster owner {leaks[0]['owner']!r} "
          f"[{'right leak' if ours_ok else 'WRONG'}]; memlab's top cluster via requestCache: {ml_ok}")
    return 0 if ours_ok else 1


if __name__ == "__main__":
    sys.exit(main())
