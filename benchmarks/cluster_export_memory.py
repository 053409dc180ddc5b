"""Memory of ``forensics export`` of a capture set: one process vs the workers of a Dask LocalCluster.

On a cluster the workers write the packets and flows themselves (forensics.sets.cluster_export), so
the client's peak RSS should stay near its import cost while a single process holds the whole
packets table. Each run is a fresh subprocess (peak RSS is per process); the workers' peaks come
from the workers themselves. Run as a script (not a test):

    flock /work/notes/bench.lock .venv/bin/python benchmarks/cluster_export_memory.py [SET_FOLDER]

Default set: benchmarks/data/captureset (made by benchmarks/capture_set_workers.py).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CHILD = r"""
import json, os, resource, sys, time
from forensics.columnar import export
src, out, how = sys.argv[1], sys.argv[2], sys.argv[3]
t = time.perf_counter()
workers = {}
if how == "cluster":
    import distributed
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as c:
        rows = export([src], out, scheduler=c.scheduler_address)
        with distributed.Client(c) as cl:
            workers = cl.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
else:
    rows = export([src], out)
wall = time.perf_counter() - t
print(json.dumps({"wall": wall, "client_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "workers_kib": sorted(workers.values()), "packets": int(rows.loc[rows["table"] == "packets", "rows"].sum())}))
"""


def main() -> int:
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "data", "captureset")
    if not os.path.isdir(src):
        print(f"no capture set at {src} (run benchmarks/capture_set_workers.py first)")
        return 1
    size = sum(os.path.getsize(os.path.join(src, f)) for f in os.listdir(src))
    print(f"set: {src} ({size:,} bytes); load average before: {os.getloadavg()}")
    for how in ("one process", "cluster"):
        out = tempfile.mkdtemp(prefix="forensics-export-bench-")
        try:
            t = time.perf_counter()
            r = subprocess.run([sys.executable, "-c", CHILD, src, out, "cluster" if how == "cluster" else "one"],
                               capture_output=True, text=True, check=True)
            res = json.loads(r.stdout.strip().splitlines()[-1])
            w = ", ".join(f"{k / 1024:,.0f}" for k in res["workers_kib"])
            print(f"{how:>12}: {res['packets']:,} packets, export {res['wall']:.1f} s (process {time.perf_counter() - t:.1f} s); "
                  f"peak RSS client {res['client_kib'] / 1024:,.0f} MiB" + (f", workers {w} MiB" if w else ""))
        finally:
            shutil.rmtree(out, ignore_errors=True)
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
