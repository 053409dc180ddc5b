"""Benchmark: `forensics pg log` vs pgBadger on the same real PostgreSQL 15 server log.

    .venv/bin/python benchmarks/postgres_log.py [--regenerate] [--seconds 20] [--skip-pgbadger]

Generates (once) a stderr log into benchmarks/data/postgres/ (gitignored) from a throw-away PG15
(`log_min_duration_statement = 0`, so every statement is logged with its duration, plus
connections, checkpoints and lock waits) running `pgbench -c 4 -T SECONDS`, then runs, one after
the other in the same session:

  ours:      python -m forensics pg log FILE --format json         (parse, classify, summary)
  pgbadger:  pgbadger -f stderr --prefix PREFIX -j 1 -x json -o OUT FILE   (one process, its JSON report)

and prints wall time and peak RSS of each (wait4's rusage), their ratio, the load average, and
whether both counted the same number of logged statements (ours: `duration` events; pgBadger:
`overall_stat.queries_number`). Needs Debian's postgresql-15 and pgbadger (installed by this script
when missing and run as root: `apt-get install -y pgbadger`).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "postgres"
LOG = DATA / "pgbench.stderr.log"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PORT = 55434
PREFIX = "%m [%p] %q%u@%d "


def as_pg(cmd):
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def generate(seconds: int) -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="fx-pgbench-"))
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres", "postgres")
    data = tmp / "data"
    try:
        subprocess.run(as_pg([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-N"]),
                       check=True, stdout=subprocess.DEVNULL)
        conf = {"listen_addresses": "127.0.0.1", "port": PORT, "unix_socket_directories": str(tmp),
                "log_min_duration_statement": "0", "log_line_prefix": PREFIX, "log_connections": "on",
                "log_disconnections": "on", "log_checkpoints": "on", "log_lock_waits": "on",
                "deadlock_timeout": "50ms", "logging_collector": "on", "log_directory": "log",
                "log_filename": "server.log", "fsync": "off", "synchronous_commit": "off", "log_timezone": "UTC"}
        with open(data / "postgresql.auto.conf", "a") as f:
            f.writelines(f"{k} = '{v}'\n" for k, v in conf.items())
        subprocess.run(as_pg([str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-l", str(tmp / "boot.log"), "start"]),
                       check=True, stdout=subprocess.DEVNULL)
        bench = [str(PG_BIN / "pgbench"), "-h", "127.0.0.1", "-p", str(PORT), "-U", "postgres", "postgres"]
        subprocess.run(bench[:1] + ["-i", "-s", "2"] + bench[1:], check=True, capture_output=True)
        subprocess.run(bench[:1] + ["-c", "4", "-j", "2", "-T", str(seconds)] + bench[1:], check=True,
                       capture_output=True)
        subprocess.run(as_pg([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                       stdout=subprocess.DEVNULL)
        shutil.copyfile(data / "log" / "server.log", LOG)
    finally:
        subprocess.run(as_pg([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)


def measure(cmd):
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd[0]} failed:\n{text[-2000:]}")
    return wall, ru.ru_maxrss * 1024, text


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--regenerate", action="store_true")
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--skip-pgbadger", action="store_true")
    args = ap.parse_args(argv)
    if args.regenerate or not LOG.exists():
        generate(args.seconds)
    size = LOG.stat().st_size
    print(f"log: {LOG} ({size / 1e6:,.1f} MB, {sum(1 for _ in open(LOG, 'rb')):,} lines); load {os.getloadavg()}")
    ours_t, ours_rss, out = measure([sys.executable, "-m", "forensics", "pg", "log", str(LOG), "--format", "json"])
    ours = json.loads(out)
    print(f"ours:     {ours_t:6.2f} s, peak RSS {ours_rss / 2**20:,.0f} MiB, {ours['events'].get('duration', 0):,} "
          f"statements with a duration, {ours['entries']:,} entries")
    if args.skip_pgbadger:
        return
    if not shutil.which("pgbadger"):
        if os.geteuid() != 0:
            raise SystemExit("pgbadger is missing: apt-get install -y pgbadger")
        subprocess.run(["apt-get", "install", "-y", "pgbadger"], check=True, stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as d:
        report = os.path.join(d, "out.json")
        pb_t, pb_rss, _ = measure(["pgbadger", "-f", "stderr", "--prefix", PREFIX, "-j", "1", "-x", "json", "-o",
                                   report, "-q", str(LOG)])
        pb = json.load(open(report))
    n_pb = pb.get("overall_stat", {}).get("queries_number")
    print(f"pgbadger: {pb_t:6.2f} s, peak RSS {pb_rss / 2**20:,.0f} MiB, queries_number {n_pb}")
    print(f"ratio: pgbadger / ours = {pb_t / ours_t:.2f}× wall, ours / pgbadger = {ours_rss / pb_rss:.2f}× RSS; "
          f"same statement count: {n_pb == ours['events'].get('duration', 0)}; load {os.getloadavg()}")


if __name__ == "__main__":
    main()
