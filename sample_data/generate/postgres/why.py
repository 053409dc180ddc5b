"""Make the "why" samples — EXPLAIN plans, server logs, an activity/locks snapshot — from a real PostgreSQL 15.

    .venv/bin/python sample_data/generate/postgres/why.py [--out sample_data/postgres/why]

Needs (generation only): Debian's postgresql-15 (``apt-get install -y postgresql-15``; this script
installs it when it is missing and it runs as root), /usr/bin/psql and psycopg (``pip install -e '.[generate]'``).

What it does, in order:

1. ``initdb`` a cluster in ``/tmp/fx-pgwhy-*`` on 127.0.0.1:55433 with pg_stat_statements and auto_explain
   (``log_min_duration = 50ms``, ``log_analyze``, ``log_buffers``), ``logging_collector`` writing
   stderr (``log_line_prefix = '%m [%p] %q%u@%d/%a %e '``), csvlog and jsonlog of the same events,
   ``log_lock_waits``, ``deadlock_timeout = 200ms``, ``log_temp_files = 0``, ``log_checkpoints``,
   ``log_connections``/``log_disconnections``, ``log_autovacuum_min_duration = 0``.
2. The story (``STORY`` below, written to ``story.json``): a lookup on an unindexed column (seq scan
   with a filter removing nearly every row), a misestimate from correlated columns that makes a
   nested loop run far more often than planned, a sort and a hash join spilling past a tiny
   ``work_mem``, a lock wait behind an idle-in-transaction session (the activity/locks snapshot is
   taken while it waits), a deadlock between two sessions, and errors (unique violation, division by
   zero, syntax error, statement timeout); a checkpoint and an autovacuum.
3. EXPLAIN of the slow statements with real ``psql`` in every format — text (with ANALYZE/BUFFERS, plain,
   TIMING OFF), JSON, YAML, XML — and the lookup's plan again after ``CREATE INDEX`` (two plans to compare).
4. pg_stat_statements as CSV (for plan ↔ statement links); stop the server, copy the logs, delete the cluster.
"""
from __future__ import annotations

import argparse
import json
import shutil
import threading
import time
from pathlib import Path

from pgserver import HOST, Server, ensure_postgres

PORT = 55433
REPO = Path(__file__).resolve().parents[3]

# the same statement as the missing-index culprit of generate.py, so its plan links to that pg_stat_statements row
Q_LOOKUP = "SELECT id, status, amount, created_at FROM orders WHERE customer_id = 4242 ORDER BY created_at DESC LIMIT 20"
Q_MISESTIMATE = ("SELECT p.id, count(*) FROM pairs p JOIN orders o ON o.id = p.order_id "
                 "WHERE p.a = 7 AND p.b = 7 GROUP BY p.id")
Q_SPILL = ("SELECT o.customer_id, c.email, sum(o.amount) AS total FROM orders o JOIN customers c ON c.id = o.customer_id "
           "GROUP BY o.customer_id, c.email ORDER BY total DESC")

STORY = {
    "lookup": {"plan": "plan.lookup.analyze.txt", "hot": "Seq Scan", "relation": "orders", "finding": "seq_scan_filter"},
    "lookup_indexed": {"plan": "plan.lookup.indexed.txt", "hot_not": "Seq Scan"},
    "misestimate": {"plan": "plan.misestimate.txt", "finding": "nested_loop_misestimate", "relation": "pairs"},
    "spill": {"plan": "plan.spill.txt", "finding": "spill"},
    "lock_wait": {"log_event": "lock_wait", "holder_state": "idle in transaction"},
    "deadlock": {"log_event": "deadlock", "count": 1},
    "errors": {"23505": 1, "22012": 1, "42601": 1, "57014": 1},
}


SERVER_OPTIONS = {
    "shared_preload_libraries": "pg_stat_statements,auto_explain", "pg_stat_statements.track": "all",
    "auto_explain.log_min_duration": "50ms", "auto_explain.log_analyze": "on",
    "auto_explain.log_buffers": "on", "auto_explain.log_nested_statements": "off",
    "logging_collector": "on", "log_destination": "stderr,csvlog,jsonlog", "log_directory": "log",
    "log_filename": "server", "log_line_prefix": "%m [%p] %q%u@%d/%a %e ", "log_timezone": "UTC",
    "log_lock_waits": "on", "deadlock_timeout": "200ms", "log_temp_files": "0", "log_checkpoints": "on",
    "log_connections": "on", "log_disconnections": "on", "log_autovacuum_min_duration": "0",
    "log_min_duration_statement": "100", "autovacuum_naptime": "1s", "track_io_timing": "on",
    "shared_buffers": "64MB", "max_parallel_workers_per_gather": 0, "jit": "off", "fsync": "off",
    "synchronous_commit": "off", "full_page_writes": "off", "timezone": "UTC",
}


def connect(app="app", autocommit=True):
    import psycopg

    return psycopg.connect(host=HOST, port=PORT, user="postgres", dbname="shop", autocommit=autocommit,
                           application_name=app)


SETUP = [
    "CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL)",
    """CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL, status text NOT NULL,
        amount numeric(10,2) NOT NULL, created_at timestamptz NOT NULL)""",
    # a and b are equal on every row: the planner multiplies their selectivities and expects 100× too few
    "CREATE TABLE pairs (id int PRIMARY KEY, a int, b int, order_id bigint)",
    "CREATE TABLE accounts (id int PRIMARY KEY, balance numeric NOT NULL)",
    "CREATE TABLE churn (id int PRIMARY KEY, v int)",
    "INSERT INTO customers SELECT i, 'user' || i || '@example.com' FROM generate_series(1, 20000) i",
    """INSERT INTO orders SELECT i, 1 + (i::bigint * 7919) % 20000, (ARRAY['new','paid','shipped'])[1 + i % 3],
        (i % 997) / 10.0, timestamptz '2026-01-01' + (i || ' minutes')::interval FROM generate_series(1, 200000) i""",
    "INSERT INTO pairs SELECT i, i % 100, i % 100, 1 + (i::bigint * 31) % 200000 FROM generate_series(1, 100000) i",
    "INSERT INTO accounts SELECT i, 100 FROM generate_series(1, 10) i",
    "INSERT INTO churn SELECT i, 0 FROM generate_series(1, 1000) i",
    "CREATE INDEX pairs_a ON pairs (a)",
    "VACUUM ANALYZE",
]


def explain(srv: Server, out: Path, name: str, options: str, query: str, *flags):
    # psql -e echoes the command above the table, as a terminal paste shows it (not for -At raw output)
    text = srv.psql(f"EXPLAIN ({options}) {query}", *(flags or ("-e",)))
    (out / name).write_text(text)


def lock_wait_and_snapshot(srv: Server, out: Path):
    """A holds a row lock and goes idle in transaction; B waits for it; the snapshot is taken meanwhile."""
    a = connect("billing", autocommit=False)
    a.execute("UPDATE accounts SET balance = balance - 10 WHERE id = 1")  # now idle in transaction
    done = threading.Event()

    def waiter():
        with connect("checkout") as b:
            b.execute("UPDATE accounts SET balance = balance + 10 WHERE id = 1")
        done.set()

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(1.5)  # past deadlock_timeout: "still waiting" is logged
    act = ("SELECT now() AS now, pid, pg_blocking_pids(pid) AS blocked_by, usename, datname, application_name, "
           "client_addr, backend_start, xact_start, query_start, state_change, wait_event_type, wait_event, state, "
           "backend_type, query FROM pg_stat_activity WHERE datname = 'shop' ORDER BY pid")
    locks = ("SELECT locktype, database, relation::regclass AS relation, page, tuple, virtualxid, transactionid, "
             "classid, objid, objsubid, virtualtransaction, pid, mode, granted, fastpath, waitstart FROM pg_locks "
             "WHERE pid IN (SELECT pid FROM pg_stat_activity WHERE datname = 'shop') ORDER BY pid, locktype")
    (out / "activity.txt").write_text(srv.psql(act) + "\n" + srv.psql(locks))
    (out / "activity.csv").write_text(srv.psql(act, "--csv"))
    (out / "activity.expanded.txt").write_text(srv.psql(act, "-x"))  # \x on: one record per session
    (out / "locks.csv").write_text(srv.psql(locks, "--csv"))
    time.sleep(1.0)
    a.commit()
    a.close()
    t.join(10)
    assert done.is_set()


def deadlock():
    a, b = connect("worker-a", autocommit=False), connect("worker-b", autocommit=False)
    a.execute("UPDATE accounts SET balance = balance - 1 WHERE id = 2")
    b.execute("UPDATE accounts SET balance = balance - 1 WHERE id = 3")
    errors = []

    def second(conn, row):
        try:
            conn.execute("UPDATE accounts SET balance = balance + 1 WHERE id = %s", (row,))
            conn.commit()
        except Exception as e:  # one of the two is chosen as the deadlock victim
            errors.append(type(e).__name__)
            conn.rollback()

    ta = threading.Thread(target=second, args=(a, 3))
    ta.start()
    time.sleep(0.3)
    second(b, 2)
    ta.join(10)
    a.close()
    b.close()
    return errors


def errors():
    with connect("app") as c:
        for sql in ("INSERT INTO customers VALUES (1, 'dup@example.com')", "SELECT 1 / (SELECT count(*) - count(*) FROM churn)",
                    "SELEC id FROM customers", "SET statement_timeout = 100", "SELECT pg_sleep(1)"):
            try:
                c.execute(sql)
            except Exception:
                pass


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(REPO / "sample_data" / "postgres" / "why"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ensure_postgres()
    srv = Server(PORT, SERVER_OPTIONS, prefix="fx-pgwhy-", boot_log="boot.log")
    try:
        srv.start()
        srv.psql("CREATE DATABASE shop", db="postgres")
        for sql in SETUP:
            srv.psql(sql)
        srv.psql("CREATE EXTENSION pg_stat_statements")
        srv.psql("SELECT pg_stat_statements_reset()")
        with connect("app") as c:  # the workload, logged by auto_explain
            for _ in range(3):
                c.execute(Q_LOOKUP).fetchall()
            c.execute(Q_MISESTIMATE).fetchall()
            # a text holding " | " (bitwise or) and wide characters: psql's aligned table pads by display
            # width, and the reader must tell this '|' from the column separators
            c.execute("SELECT /* 集計 */ count(*) FROM churn WHERE (v | 1) > 0 AND id | 0 < 500").fetchall()
            c.execute("SET work_mem = '64kB'")
            c.execute(Q_SPILL).fetchall()
            c.execute("SET auto_explain.log_min_duration = 0")  # the lookup is fast here: log its plan anyway
            c.execute("SET auto_explain.log_format = 'json'")
            c.execute(Q_LOOKUP).fetchall()
        lock_wait_and_snapshot(srv, out)
        victims = deadlock()
        errors()
        with connect("app") as c:  # autovacuum: enough dead rows in churn to pass its threshold
            c.execute("UPDATE churn SET v = v + 1 WHERE id <= 600")
        time.sleep(4)
        srv.psql("CHECKPOINT")
        explain(srv, out, "plan.lookup.analyze.txt", "ANALYZE, BUFFERS", Q_LOOKUP)
        explain(srv, out, "plan.lookup.plain.txt", "COSTS", Q_LOOKUP)
        explain(srv, out, "plan.lookup.timing-off.txt", "ANALYZE, TIMING OFF", Q_LOOKUP)
        explain(srv, out, "plan.lookup.json", "ANALYZE, BUFFERS, FORMAT JSON", Q_LOOKUP, "-At")
        explain(srv, out, "plan.lookup.psql-json.txt", "ANALYZE, BUFFERS, FORMAT JSON", Q_LOOKUP)
        explain(srv, out, "plan.lookup.yaml", "ANALYZE, BUFFERS, FORMAT YAML", Q_LOOKUP, "-At")
        explain(srv, out, "plan.lookup.xml", "ANALYZE, BUFFERS, FORMAT XML", Q_LOOKUP, "-At")
        explain(srv, out, "plan.misestimate.txt", "ANALYZE, BUFFERS", Q_MISESTIMATE)
        # with \x on (expanded display) psql prints each plan line as its own "QUERY PLAN | …" record
        explain(srv, out, "plan.misestimate.expanded.txt", "ANALYZE, BUFFERS", Q_MISESTIMATE, "-e", "-x")
        (out / "plan.spill.txt").write_text(srv.psql(f"SET work_mem = '64kB'; EXPLAIN (ANALYZE, BUFFERS) {Q_SPILL}", "-e"))
        srv.psql("CREATE INDEX orders_customer ON orders (customer_id)")
        explain(srv, out, "plan.lookup.indexed.txt", "ANALYZE, BUFFERS", Q_LOOKUP)
        pgss = "SELECT * FROM pg_stat_statements ORDER BY total_exec_time DESC"
        (out / "pgss.csv").write_text(srv.psql(pgss, "--csv"))
        (out / "pgss.aligned.txt").write_text(srv.psql(pgss))
        srv.stop()
        logdir = srv.data / "log"
        for src, dst in (("server", "server.stderr.log"), ("server.csv", "server.csv"), ("server.json", "server.jsonl")):
            shutil.copyfile(logdir / src, out / dst)
        story = dict(STORY, deadlock_victims=victims)
        (out / "story.json").write_text(json.dumps(story, indent=2) + "\n")
    finally:
        srv.remove()
    for p in sorted(out.iterdir()):
        print(f"{p.stat().st_size:>9,}  {p}")


if __name__ == "__main__":
    main()
