"""Stage incident "catalog-leak" on this machine and write sample_data/incidents/catalog-leak/.

    sudo .venv/bin/python sample_data/generate/incidents/memory_leak.py [--out DIR]

Story (the root cause is an unbounded cache, proven by the heap diffs):
  gateway (web-1, 10.77.1.10) → catalog (app-1, 10.77.1.11:8082, Python) → catalog-db (db-1, 10.77.2.20:5432),
  and price-sync (wrk-1, 10.77.3.30, native C) polling catalog (10.77.3.11:8082) every second.
  A new page cache in catalog is keyed by (sku, request id), so it only grows. tracemalloc diffs name the
  line; generation-2 garbage collections get longer as the heap grows (gc.pause span events, latency);
  a watchdog standing in for the container memory limit SIGKILLs catalog at 450 MB RSS, a supervisor
  restarts it 3 s later. Meanwhile the gateway's connections are refused (RST) and price-sync's call
  fails, which trips its assert (SIGABRT).
Artifacts: gateway-link.pcap, db-link.pcap (tcpdump; the db link passes a user-space bridge dropping 1 %),
traces.json (OpenTelemetry SDK → Jaeger UI JSON), pgss-before.csv / pgss-after.csv, heap-diff-1.txt /
heap-diff-2.txt (tracemalloc compare_to), price-sync-crash.gdb.txt.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from netlab import HERE, PY, Lab, wait_port  # noqa: E402
from otel_jaeger import write_jaeger_ui  # noqa: E402
from pglab import Postgres  # noqa: E402
from stagekit import GdbRun, build_worker, iso, tcpdump, write_toml  # noqa: E402

NAME = "catalog-leak"
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
SVC = os.path.join(HERE, "services")
RSS_LIMIT_MB = 450
pg = None


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "sample_data", "incidents", NAME))
    ap.add_argument("--duration", type=float, default=36.0, help="seconds of shopper load")
    a = ap.parse_args()
    work = f"/tmp/fx-inc-{NAME}"
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    os.makedirs(a.out, exist_ok=True)
    try:
        stage(a, work, build_worker())
    finally:
        if pg is not None:
            pg.cleanup()


def stage(a, work, worker):
    global pg
    with Lab("fx-inc-m") as lab:
        web, app, mid, db, wrk = (lab.ns(n) for n in ("web", "app", "mid", "db", "wrk"))
        lab.veth(web, "fx-inc-mw0", app, "fx-inc-ma0", "10.77.1.10", "10.77.1.11")
        lab.veth(wrk, "fx-inc-mk0", app, "fx-inc-ma1", "10.77.3.30", "10.77.3.11")
        lab.veth(app, "fx-inc-ma2", mid, "fx-inc-mm0", "10.77.2.11", None)
        lab.veth(mid, "fx-inc-mm1", db, "fx-inc-md0", None, "10.77.2.20")
        lab.impair(mid, "fx-inc-mm0", "fx-inc-mm1", 0.01, 1, 11, f"{work}/bridge.json")
        pg = Postgres(db, NAME, "10.77.2.20")
        pg.start()
        pg.psql("CREATE DATABASE shop", db="postgres")
        pg.psql("CREATE EXTENSION pg_stat_statements")
        pg.psql("""CREATE TABLE products (sku int PRIMARY KEY, name text NOT NULL, price_cents int NOT NULL,
                                           description text NOT NULL);
INSERT INTO products SELECT i, 'product ' || i, 100 + i % 9000,
       repeat('soft warm durable handmade organic ', 3) || i FROM generate_series(1, 20000) i;""")
        pg.psql("VACUUM ANALYZE products")
        caps = [tcpdump(lab, web, "fx-inc-mw0", f"{work}/gateway-link.pcap", "tcp port 8082", snaplen=128),
                tcpdump(lab, app, "fx-inc-ma2", f"{work}/db-link.pcap", "tcp port 5432", snaplen=128)]
        time.sleep(1.0)

        def start_catalog(n):
            p = lab.spawn(app, [PY, f"{SVC}/catalog_svc.py", f"{work}/catalog-{n}.jsonl", "10.77.2.20",
                                f"{work}/heap-diff"], log=f"{work}/catalog-{n}.log")
            wait_port(web, "10.77.1.11", 8082)
            return p

        catalog = start_catalog(1)
        pg.psql("SELECT pg_stat_statements_reset()", capture=True)
        t_start = time.time()
        load = lab.spawn(web, [PY, f"{SVC}/gateway_load.py", f"{work}/gateway.jsonl", "10.77.1.11",
                               a.duration, 6], log=f"{work}/gateway.log")
        gdb = GdbRun(wrk, worker, ["sync", "10.77.3.11", "8082", "/sync/prices", "5000"],
                     f"{work}/price-sync-crash.gdb.txt", f"{work}/price-sync.log")
        heap_times, t_kill, t_restart = [], None, None

        def heap_signal(n=None):
            os.kill(catalog.pid, signal.SIGUSR1)
            t = time.time()
            if n is not None:  # wait for the diff file: a snapshot of a big heap takes a while
                while not os.path.exists(f"{work}/heap-diff-{n}.txt") and time.time() < t + 60:
                    time.sleep(0.1)
                print(f"heap diff {n} at RSS {rss_mb(catalog.pid):.0f} MB, t+{t - t_start:.1f}s")
            return t

        time.sleep(2)
        t_before = pg.snapshot(f"{work}/pgss-before.csv")
        time.sleep(1)
        t_baseline = heap_signal()  # starts tracemalloc, takes the baseline
        time.sleep(1.5)
        heap_times.append(heap_signal(1))
        time.sleep(1.5)  # early, while snapshots are still cheap (their cost grows with the heap)
        heap_times.append(heap_signal(2))
        while time.time() < t_start + a.duration - 2:
            rss = rss_mb(catalog.pid)
            if t_kill is None and rss > RSS_LIMIT_MB:
                catalog.send_signal(signal.SIGKILL)  # what a cgroup memory limit does
                t_kill = time.time()
                print(f"killed catalog at RSS {rss:.0f} MB, t+{t_kill - t_start:.1f}s")
                catalog.wait()
                time.sleep(3)
                catalog = start_catalog(2)
                t_restart = time.time()
            time.sleep(0.2)
        load.wait(30)
        t_after = pg.snapshot(f"{work}/pgss-after.csv")
        time.sleep(1)
        for c in caps:
            lab.stop(c)
        gdb.finish()
        if t_kill is None or len(heap_times) < 2:
            raise SystemExit(f"no kill / heap diffs (kill={t_kill}, diffs={len(heap_times)}) — rerun")
        if gdb.signal_time is None:
            raise SystemExit("price-sync did not crash — rerun")
        pg.cleanup()
        pg = None
    jsonls = [f"{work}/gateway.jsonl", f"{work}/catalog-1.jsonl", f"{work}/catalog-2.jsonl"]
    n_traces, n_spans = write_jaeger_ui(jsonls, f"{work}/traces.json")
    files = ["gateway-link.pcap", "db-link.pcap", "traces.json", "pgss-before.csv", "pgss-after.csv",
             "heap-diff-1.txt", "heap-diff-2.txt", "price-sync-crash.gdb.txt"]
    for f in files:
        shutil.copyfile(f"{work}/{f}", f"{a.out}/{f}")
    write_manifest(a.out, dict(start=t_start, end=t_after, baseline=t_baseline, before=t_before,
                               heap=heap_times, kill=t_kill, restart=t_restart, crash=gdb.signal_time))
    print(f"{NAME}: {n_traces} traces, {n_spans} spans; kill at {iso(t_kill)}, crash at {iso(gdb.signal_time)}")
    print(open(f"{work}/bridge.json").read())


def write_manifest(out, t):
    top = {
        "title": "Catalog leak: memory grows, latency climbs, catalog killed and restarted, price-sync crashed",
        "id": NAME,
        "summary": ("Product pages showed growing latency spikes for about half a minute, then failed outright for a few "
                    "seconds; "
                    "the catalog service was killed by its memory limit and restarted, and the native "
                    "price-sync job crashed. All artifacts come from one staged system and one clock (UTC)."),
    }
    tables = {"window": {"start": iso(t["start"]), "end": iso(t["end"])},
              "events": {"catalog_killed": iso(t["kill"]), "catalog_restarted": iso(t["restart"])}}
    arrays = {
        "endpoints": [
            {"ip": "10.77.1.10", "host": "web-1", "service": "gateway"},
            {"ip": "10.77.1.11", "port": 8082, "host": "app-1", "service": "catalog"},
            {"ip": "10.77.3.11", "port": 8082, "host": "app-1", "service": "catalog"},
            {"ip": "10.77.2.11", "host": "app-1", "service": "catalog"},
            {"ip": "10.77.2.20", "port": 5432, "host": "db-1", "service": "catalog-db"},
            {"ip": "10.77.3.30", "host": "wrk-1", "service": "price-sync"},
        ],
        "artifacts": [
            {"file": "gateway-link.pcap", "kind": "pcap", "host": "web-1", "service": "gateway",
             "description": "tcpdump -s 128 on the gateway side of the gateway↔catalog link (tcp port 8082)"},
            {"file": "db-link.pcap", "kind": "pcap", "host": "app-1", "service": "catalog",
             "description": "tcpdump -s 128 on the catalog side of the catalog↔catalog-db link (tcp port 5432)"},
            {"file": "traces.json", "kind": "jaeger-json",
             "description": "OpenTelemetry SDK spans of gateway and catalog, Jaeger UI JSON"},
            {"file": "pgss-before.csv", "kind": "pg_stat_statements", "role": "before", "time": iso(t["before"]),
             "host": "db-1", "service": "catalog-db"},
            {"file": "pgss-after.csv", "kind": "pg_stat_statements", "role": "after", "baseline": "pgss-before.csv",
             "time": iso(t["end"]), "host": "db-1", "service": "catalog-db"},
            {"file": "heap-diff-1.txt", "kind": "tracemalloc-text", "time": iso(t["heap"][0]),
             "baseline_time": iso(t["baseline"]), "host": "app-1", "service": "catalog",
             "description": "tracemalloc compare_to(baseline, 'lineno'), top 15"},
            {"file": "heap-diff-2.txt", "kind": "tracemalloc-text", "time": iso(t["heap"][1]),
             "baseline_time": iso(t["baseline"]), "host": "app-1", "service": "catalog",
             "description": "tracemalloc compare_to(baseline, 'lineno'), top 15"},
            {"file": "price-sync-crash.gdb.txt", "kind": "gdb-output", "time": iso(t["crash"]), "host": "wrk-1",
             "service": "price-sync", "description": "live gdb -batch session of the price-sync job"},
        ],
        "questions": [
            {"id": "symptom", "text": "What happened to catalog's garbage-collection pauses (gc.pause span events) before the failures?",
             "choices": ["they stayed the same", "they got longer as the heap grew", "they stopped", "there were none"],
             "hint": "List the gc.pause events of the catalog spans with their pause_ms, in time order."},
            {"id": "leak-site", "text": "Which code grows between the heap snapshots?",
             "choices": ["the database driver", "render_page() building page blocks kept in the page cache",
                         "the HTTP server threads", "the tracing exporter"],
             "hint": "Rank the heap-growth rows by bytes; which file and line?"},
            {"id": "resets", "text": "Why do resets (RST) appear on the gateway↔catalog link?",
             "choices": ["packet loss", "catalog was down: connections were refused while it restarted",
                         "the gateway closed idle connections", "a firewall"],
             "hint": "Compare the reset rows' times with the gap in catalog spans."},
            {"id": "crash", "text": "What did price-sync die of?",
             "choices": ["NULL pointer read", "assertion failure after a failed call to catalog",
                         "stack overflow", "heap corruption"],
             "hint": "Read the crash class; then find what catalog was doing at that moment."},
        ],
    }
    write_toml(os.path.join(out, "incident.toml"), top, tables, arrays)
    answers = {
        "symptom": "they got longer as the heap grew",
        "leak-site": "render_page() building page blocks kept in the page cache",
        "resets": "catalog was down: connections were refused while it restarted",
        "crash": "assertion failure after a failed call to catalog",
    }
    debrief = ("The catalog's new page cache is keyed by (sku, request id), so no entry is ever reused or "
               "evicted: every product page adds 2,500 small lists. The tracemalloc diffs put render_page() "
               "on top and growing between the two snapshots. As the heap grew, each generation-2 garbage "
               "collection took longer (gc.pause events from about 80 ms to over 300 ms), and so did the latency spikes. At 450 MB RSS the "
               "memory limit killed catalog (SIGKILL); for the 3 s until it restarted, the gateway's "
               "connections were refused (the RSTs on the gateway link) and price-sync's call failed, "
               "tripping assert(reply != NULL) (SIGABRT). The database was fine throughout: the product "
               "lookup stays an index scan in pg_stat_statements. Fix: bound the cache (LRU keyed by sku), "
               "alert on RSS growth, let price-sync retry instead of asserting.")
    write_toml(os.path.join(out, "answers.toml"), {"incident": NAME, "debrief": debrief}, {"answers": answers})


if __name__ == "__main__":
    main()
