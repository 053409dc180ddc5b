"""Stage incident "checkout-latency" on this machine and write sample_data/incidents/checkout-latency/.

    sudo .venv/bin/python sample_data/generate/incidents/checkout_latency.py [--out DIR]

Story (the root cause is a dropped index, proven by the artifacts):
  frontend (web-1, 10.77.1.10) → checkout (app-1, 10.77.1.11:8081) → orders-db (db-1, 10.77.2.20:5432),
  and fulfilment-worker (wrk-1, 10.77.3.30, native C) polling checkout (10.77.3.11:8081) for the next order.
  The checkout↔orders-db link passes a user-space bridge (ns fx-inc-c-mid) that drops 2 % of data segments.
  A migration drops orders_customer_id_idx; the per-customer orders query turns into a sequential scan;
  the pool of 2 connections runs dry (PoolTimeout → 503), the frontend retries (×3), and the worker's call
  times out, returns NULL and the worker dies with SIGSEGV in ship_order().
Artifacts: db-link.pcap (tcpdump on the checkout side of the db link), traces.json (OpenTelemetry SDK →
Jaeger UI JSON), pgss-before.csv / pgss-after.csv (psql \\copy of pg_stat_statements), worker-crash.gdb.txt.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from netlab import HERE, PY, Lab, wait_port  # noqa: E402
from otel_jaeger import write_jaeger_ui  # noqa: E402
from pglab import Postgres  # noqa: E402
from stagekit import GdbRun, build_worker, iso, tcpdump, write_toml  # noqa: E402

NAME = "checkout-latency"
pg = None
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
SVC = os.path.join(HERE, "services")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "sample_data", "incidents", NAME))
    ap.add_argument("--rows", type=int, default=2_000_000, help="orders table size")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of shopper load")
    a = ap.parse_args()
    work = f"/tmp/fx-inc-{NAME}"
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    os.makedirs(a.out, exist_ok=True)
    worker = build_worker()
    try:
        stage(a, work, worker)
    finally:
        if pg is not None:
            pg.cleanup()


def stage(a, work, worker):
    global pg
    with Lab("fx-inc-c") as lab:
        web, app, mid, db, wrk = (lab.ns(n) for n in ("web", "app", "mid", "db", "wrk"))
        lab.veth(web, "fx-inc-cw0", app, "fx-inc-ca0", "10.77.1.10", "10.77.1.11")
        lab.veth(wrk, "fx-inc-ck0", app, "fx-inc-ca1", "10.77.3.30", "10.77.3.11")
        lab.veth(app, "fx-inc-ca2", mid, "fx-inc-cm0", "10.77.2.11", None)
        lab.veth(mid, "fx-inc-cm1", db, "fx-inc-cd0", None, "10.77.2.20")
        lab.impair(mid, "fx-inc-cm0", "fx-inc-cm1", 0.02, 2, 8, f"{work}/bridge.json")
        pg = Postgres(db, NAME, "10.77.2.20")
        pg.start()
        pg.psql("CREATE DATABASE shop", db="postgres")
        pg.psql("CREATE EXTENSION pg_stat_statements")
        pg.psql("ALTER SYSTEM SET max_parallel_workers_per_gather = 0", db="postgres")
        pg.psql("SELECT pg_reload_conf()", db="postgres", capture=True)
        pg.psql(f"""
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int NOT NULL, created_at timestamptz NOT NULL,
                     total_cents int NOT NULL, status text NOT NULL);
INSERT INTO orders (customer_id, created_at, total_cents, status)
  SELECT ((i::bigint * 7919) % 50000 + 1)::int, now() - (i || ' seconds')::interval, 500 + i % 20000,
         CASE WHEN i % 10 = 0 THEN 'paid' ELSE 'shipped' END FROM generate_series(1, {a.rows}) i;
CREATE INDEX orders_customer_id_idx ON orders (customer_id, created_at);""")
        pg.psql("VACUUM ANALYZE orders")
        cap = tcpdump(lab, app, "fx-inc-ca2", f"{work}/db-link.pcap", "tcp port 5432")
        time.sleep(1.0)
        lab.spawn(app, [PY, f"{SVC}/checkout_svc.py", f"{work}/checkout.jsonl", "10.77.2.20"], log=f"{work}/checkout.log")
        wait_port(web, "10.77.1.11", 8081)
        pg.psql("SELECT pg_stat_statements_reset()")
        t_start = time.time()
        load = lab.spawn(web, [PY, f"{SVC}/frontend_load.py", f"{work}/frontend.jsonl", "10.77.1.11",
                               a.duration, 10], log=f"{work}/frontend.log")
        gdb = GdbRun(wrk, worker, ["fulfil", "10.77.3.11", "8081", "/fulfil/next", "300"],
                     f"{work}/worker-crash.gdb.txt", f"{work}/worker.log")
        time.sleep(8)
        t_before = pg.snapshot(f"{work}/pgss-before.csv")
        time.sleep(2)
        t_migration = time.time()
        pg.psql("DROP INDEX orders_customer_id_idx")  # the "harmless cleanup" migration
        load.wait(a.duration + 60)
        t_after = pg.snapshot(f"{work}/pgss-after.csv")
        time.sleep(1.0)
        lab.stop(cap)
        gdb.finish()
        if gdb.signal_time is None:
            raise SystemExit("the worker did not crash — rerun (or lower its timeout)")
        if gdb.signal_time < t_migration:
            raise SystemExit("the worker crashed before the migration (a retransmission?) — rerun")
        pg.cleanup()
        pg = None
    n_traces, n_spans = write_jaeger_ui([f"{work}/frontend.jsonl", f"{work}/checkout.jsonl"], f"{work}/traces.json")
    for f in ("db-link.pcap", "traces.json", "pgss-before.csv", "pgss-after.csv", "worker-crash.gdb.txt"):
        shutil.copyfile(f"{work}/{f}", f"{a.out}/{f}")
    write_manifest(a.out, t_start, t_after, t_before, t_migration, gdb.signal_time)
    print(f"{NAME}: {n_traces} traces, {n_spans} spans; crash at {iso(gdb.signal_time)}; files in {a.out}")
    print(open(f"{work}/bridge.json").read())


def write_manifest(out, t_start, t_end, t_before, t_migration, t_crash):
    top = {
        "title": "Checkout latency: orders query slow, checkout pool exhausted, fulfilment worker crashed",
        "id": NAME,
        "summary": ("Shoppers saw slow and failing checkouts for about half a minute; the frontend retried, "
                    "and the native fulfilment worker crashed with SIGSEGV. A migration ran shortly before. "
                    "All artifacts come from one staged system and one clock (UTC)."),
    }
    tables = {"window": {"start": iso(t_start), "end": iso(t_end)},
              "events": {"migration": iso(t_migration)}}
    arrays = {
        "endpoints": [
            {"ip": "10.77.1.10", "host": "web-1", "service": "frontend"},
            {"ip": "10.77.1.11", "port": 8081, "host": "app-1", "service": "checkout"},
            {"ip": "10.77.3.11", "port": 8081, "host": "app-1", "service": "checkout"},
            {"ip": "10.77.2.11", "host": "app-1", "service": "checkout"},
            {"ip": "10.77.2.20", "port": 5432, "host": "db-1", "service": "orders-db"},
            {"ip": "10.77.3.30", "host": "wrk-1", "service": "fulfilment-worker"},
        ],
        "artifacts": [
            {"file": "db-link.pcap", "kind": "pcap", "host": "app-1", "service": "checkout",
             "description": "tcpdump -s 256 on the checkout side of the checkout↔orders-db link (tcp port 5432)"},
            {"file": "traces.json", "kind": "jaeger-json",
             "description": "OpenTelemetry SDK spans of frontend and checkout, Jaeger UI JSON"},
            {"file": "pgss-before.csv", "kind": "pg_stat_statements", "role": "before", "time": iso(t_before),
             "host": "db-1", "service": "orders-db", "description": "pg_stat_statements before (psql \\copy csv)"},
            {"file": "pgss-after.csv", "kind": "pg_stat_statements", "role": "after", "baseline": "pgss-before.csv",
             "time": iso(t_end), "host": "db-1", "service": "orders-db",
             "description": "pg_stat_statements after (psql \\copy csv)"},
            {"file": "worker-crash.gdb.txt", "kind": "gdb-output", "time": iso(t_crash), "host": "wrk-1",
             "service": "fulfilment-worker", "description": "live gdb -batch session of the fulfilment worker"},
        ],
        "questions": [
            {"id": "origin", "text": "In which service does the PoolTimeout error originate?",
             "choices": ["frontend", "checkout", "orders-db", "fulfilment-worker"],
             "hint": "Open a failing trace: the deepest span carrying the error is a pool.acquire span. Whose is it?"},
            {"id": "pool", "text": "Why does checkout answer 503?",
             "choices": ["the database refused connections", "its connection pool had no free connection in time",
                         "the network dropped every packet", "the frontend sent bad requests"],
             "hint": "Open an error span of checkout and read its status message."},
            {"id": "root-cause", "text": "Which statement's behaviour changed between the two pg_stat_statements snapshots?",
             "choices": ["INSERT INTO orders", "SELECT ... FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT $2",
                         "SELECT pg_stat_statements_reset()", "BEGIN"],
             "hint": "Look at the query-finding rows: shared blocks read per call."},
            {"id": "why", "text": "What made that statement slow?",
             "choices": ["packet loss on the db link", "a missing index (sequential scan)", "lock contention",
                         "a cold cache after restart"],
             "hint": "Blocks per call far above a keyed lookup; is there a DDL statement in the interval?"},
            {"id": "crash", "text": "What did the fulfilment worker die of?",
             "choices": ["stack overflow", "NULL pointer read after a timed-out call", "assertion failure",
                         "killed by the OOM killer"],
             "hint": "Read the crash class and the frames of the crash thread."},
        ],
    }
    write_toml(os.path.join(out, "incident.toml"), top, tables, arrays)
    answers = {
        "origin": "checkout",
        "pool": "its connection pool had no free connection in time",
        "root-cause": "SELECT ... FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT $2",
        "why": "a missing index (sequential scan)",
        "crash": "NULL pointer read after a timed-out call",
    }
    debrief = ("A migration dropped orders_customer_id_idx (the DROP INDEX statement is in the interval between "
               "the two snapshots). The per-customer orders query became a sequential scan over 2 M rows: "
               "thousands of shared blocks per call instead of a handful. Each checkout held one of only 2 "
               "pooled connections for far longer, the pool ran dry (PoolTimeout → 503), and the frontend's "
               "three attempts per order multiplied the load. The fulfilment worker's 300 ms call to checkout "
               "timed out; fetch_next_order() returned NULL and ship_order() dereferenced it (SIGSEGV, "
               "NULL read). Retransmissions on the db link (2 % loss) are real but were there before the "
               "migration too: a contributing factor, not the cause. Fix: recreate the index; check for NULL "
               "in the worker; cap retries with a budget.")
    write_toml(os.path.join(out, "answers.toml"), {"incident": NAME, "debrief": debrief}, {"answers": answers})


if __name__ == "__main__":
    main()
