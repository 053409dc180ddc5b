"""Make the pg_stat_statements sample dumps from a real, throw-away PostgreSQL 15.

    .venv/bin/python sample_data/generate/postgres/generate.py [--out sample_data/postgres]

Needs (generation only): PostgreSQL 15 server binaries (initdb, pg_ctl, postgres; the cluster is
``pgserver.Server``, shared with ``why.py``), /usr/bin/psql, the pg_stat_statements extension, and psycopg (``pip install -e '.[generate]'``). Run as root (the
server runs as the ``postgres`` user) or as a normal user.

What it does, in order:

1. ``initdb`` a cluster in ``/tmp/fx-pg-*`` and start it on 127.0.0.1:55432 with
   ``shared_preload_libraries=pg_stat_statements``, ``pg_stat_statements.track=all``,
   ``track_planning=on`` and ``track_io_timing=on``.
2. Set-up (bulk loads, indexes, ANALYZE — it dominates the *cumulative* numbers) and a quiet
   "normal day" of application traffic.
3. Snapshot **before** (``CREATE TABLE snap_before AS SELECT * FROM pg_stat_statements`` so that
   every export of it shows exactly the same numbers).
4. The incident, with a known story (see ``STORY`` below, also written to ``story.json``):
   a missing-index lookup, an N+1 page, a report spilling to disk with a tiny ``work_mem``,
   scans of a cold table larger than the buffer cache, a plan-heavy 9-way join, a plpgsql
   function whose statements run nested, statements that fail, and a query of unstable duration.
5. Snapshot **after**, then export both snapshots with real ``psql`` in every form an on-call
   engineer pastes: ``\\copy ... csv header``, aligned, ``\\x`` expanded, ``-A -F '|'`` unaligned,
   ``-A -x``, ``json_agg`` JSON (bare, and inside psql's table), ``row_to_json`` lines, and a runbook join
   with ``pg_database``/``pg_roles`` names and texts cut to 60 characters; plus
   ``pg_stat_statements_info`` and the same data through the older view definitions this server
   still serves (extension versions 1.4, 1.8 and 1.9).
6. Stop the server and delete the cluster.

The workload is seeded, but timings are real, so numbers differ between runs; the story
(which statement is worst by which measure) does not.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from pgserver import HOST, PSQL, Server

PORT = 55432
REPO = Path(__file__).resolve().parents[3]

#: What the incident is made of: a text every culprit's query contains, and what it should be #1 for.
STORY = {
    "missing_index": {"contains": "FROM orders WHERE customer_id = $1", "top_by": "total_exec_time"},
    "n_plus_one": {"contains": "FROM products WHERE id = $1", "top_by": "calls"},
    "plan_heavy": {"contains": "JOIN d9", "top_by": "total_plan_time"},
    "cold_table": {"contains": "FROM audit_log WHERE payload LIKE", "top_by": "hit_ratio (lowest)"},
    "spilling_report": {"contains": "GROUP BY c.id, c.email", "top_by": "temp_blks_written"},
    "nested": {"contains": "INSERT INTO customer_stats", "toplevel": False},
    "nested_caller": {"contains": "refresh_customer_stats($1)"},
    "failing_insert": {"contains": "INSERT INTO customers", "calls": 0},
    "unstable": {"contains": "WHERE id BETWEEN $1 AND $2"},
    "pipes_in_text": {"contains": "first_name || $2 || last_name"},
}


def server_options(max_entries: int) -> dict:
    return {
        "shared_preload_libraries": "pg_stat_statements", "pg_stat_statements.track": "all",
        "pg_stat_statements.track_planning": "on", "track_io_timing": "on",
        "shared_buffers": "128MB", "max_parallel_workers_per_gather": 0, "jit": "off",
        "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "autovacuum": "off",
        "timezone": "UTC", "log_min_messages": "fatal", "pg_stat_statements.max": max_entries,
    }


def connect(user="postgres", db="shop"):
    import psycopg

    # prepare_threshold=None: every execution is planned, as with most ORMs' unnamed statements.
    return psycopg.connect(host=HOST, port=PORT, user=user, dbname=db, autocommit=True, prepare_threshold=None)


SETUP = [
    "CREATE ROLE app LOGIN", "CREATE ROLE reporter LOGIN", "CREATE ROLE ops LOGIN",
    """CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL, first_name text, last_name text)""",
    """CREATE TABLE products (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2))""",
    """CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL, product_id int NOT NULL,
        status text NOT NULL, amount numeric(10,2) NOT NULL, created_at timestamptz NOT NULL, note text)""",
    """CREATE TABLE customer_stats (customer_id int PRIMARY KEY, n_orders int, total numeric)""",
    """CREATE TABLE audit_log (id bigint, at timestamptz, actor text, payload text)""",
    """INSERT INTO customers SELECT i, 'user' || i || '@example.com', 'First' || i, 'Last' || i
        FROM generate_series(1, 20000) i""",
    """INSERT INTO products SELECT i, 'product ' || i, (i % 500) + 0.99 FROM generate_series(1, 2000) i""",
    """INSERT INTO orders SELECT i, 1 + (i::bigint * 7919) % 20000, 1 + (i::bigint * 104729) % 2000,
        (ARRAY['new','paid','shipped','returned'])[1 + i % 4], (i % 997) / 10.0,
        timestamptz '2026-01-01' + (i || ' minutes')::interval, md5(i::text)
        FROM generate_series(1, 200000) i""",
    """INSERT INTO audit_log SELECT i, timestamptz '2025-06-01' + (i || ' seconds')::interval, 'svc-' || (i % 40),
        repeat(md5(i::text), 3) || CASE WHEN i % 5000 = 0 THEN ' refund' ELSE '' END
        FROM generate_series(1, 420000) i""",
    # Nine small tables for the plan-heavy join: one equivalence class across all of them
    # makes every pair joinable, so the planner's search grows with 2^9 join orders.
    *[f"CREATE TABLE d{i} (id int PRIMARY KEY, ref int, kind int)" for i in range(1, 10)],
    *[f"INSERT INTO d{i} SELECT g, 1 + g % 10, g % 3 FROM generate_series(1, 10) g" for i in range(1, 10)],
    """CREATE FUNCTION refresh_customer_stats(cid int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  n int;
  t numeric;
BEGIN
  SELECT count(*), coalesce(sum(price), 0) INTO n, t
    FROM products WHERE id BETWEEN cid % 2000 AND cid % 2000 + 20;
  INSERT INTO customer_stats (customer_id, n_orders, total) VALUES (cid, n, t)
    ON CONFLICT (customer_id) DO UPDATE SET n_orders = excluded.n_orders, total = excluded.total;
END
$$""",
    "GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO app, reporter, ops",
    "ALTER ROLE reporter SET work_mem = '64kB'",
    "ALTER ROLE app SET join_collapse_limit = 12",
    "ALTER ROLE app SET from_collapse_limit = 12",
    "ALTER ROLE app SET geqo_threshold = 14",
    "VACUUM ANALYZE",
]

Q_ORDERS_BY_CUSTOMER = ("SELECT id, status, amount, created_at FROM orders WHERE customer_id = %s "
                        "ORDER BY created_at DESC LIMIT 20")
Q_CUSTOMER_HEADER = "SELECT first_name || ' ' || last_name AS name, email FROM customers WHERE id = %s"
Q_PRODUCT = "SELECT name, price FROM products WHERE id = %s"
Q_REFRESH = "SELECT refresh_customer_stats(%s)"
Q_UNSTABLE = "SELECT count(*) FROM orders WHERE id BETWEEN %s AND %s"
Q_REPORT = """SELECT /* revenue report — 報告 */ c.id, c.email, count(*) AS n, sum(o.amount) AS total
  FROM orders o
  JOIN customers c ON c.id = o.customer_id
 WHERE o.created_at >= %s
 GROUP BY c.id, c.email
 ORDER BY total DESC"""
Q_COLD = "SELECT count(*) FROM audit_log WHERE payload LIKE %s"
Q_FAILING_INSERT = "INSERT INTO customers (id, email, first_name, last_name) VALUES (%s, %s, %s, %s)"
Q_FAILING_UPDATE = "UPDATE orders SET amount = amount / %s WHERE id = %s"
Q_PLAN_HEAVY = ("SELECT count(*) FROM d1 " + " ".join(f"JOIN d{i} ON d{i}.kind = d1.kind AND d{i}.ref = d{i-1}.id"
                                                      for i in range(2, 10)) + " WHERE d1.id = %s")


def order_page(cur, rng, customer, lines=60):
    """The page that hurts: orders by customer (no index), then one product query per line (N+1)."""
    cur.execute(Q_CUSTOMER_HEADER, (customer,))
    cur.execute(Q_ORDERS_BY_CUSTOMER, (customer,))
    for _ in range(lines):
        cur.execute(Q_PRODUCT, (rng.randint(1, 2000),))


def filler_statements(n: int):
    """n statements of distinct *shape* (queryid ignores aliases and constants, so vary the tree)."""
    import itertools

    combos = itertools.product(("count(*)", "min(id)", "max(ref)"), range(1, 10), ("id", "ref", "kind"),
                               ("=", "<", ">", "<>", "<=", ">="), ("", " GROUP BY kind", " GROUP BY ref"),
                               ("", " LIMIT 5"), ("", " ORDER BY 1"))
    for agg, t, col, op, grp, lim, order in itertools.islice(combos, n):
        yield f"SELECT {agg} FROM d{t} WHERE {col} {op} %s{grp}{order}{lim}"


def expect_error(cur, sql, params):
    import psycopg

    try:
        cur.execute(sql, params)
    except psycopg.Error:
        pass


def unstable(cur, rng):
    lo = rng.randint(1, 100000)
    cur.execute(Q_UNSTABLE, (lo, lo + int(10 ** rng.uniform(0, 5.2))))


def quiet_day(rng):
    with connect("app") as app, connect("reporter") as rep:
        cur = app.cursor()
        for _ in range(3000):
            cur.execute(Q_PRODUCT, (rng.randint(1, 2000),))
        for c in rng.sample(range(1, 20001), 10):
            cur.execute(Q_CUSTOMER_HEADER, (c,))
            cur.execute(Q_ORDERS_BY_CUSTOMER, (c,))
        for _ in range(20):
            unstable(cur, rng)
        for c in range(1, 21):
            cur.execute(Q_REFRESH, (c,))
        for day in range(40):  # the nightly reports: heavy in the cumulative numbers, not the incident
            rep.cursor().execute(Q_REPORT, (f"2026-0{1 + day % 4}-01",))


def incident(rng):
    with connect("app") as app, connect("reporter") as rep, connect("ops") as ops:
        cur = app.cursor()
        for customer in rng.sample(range(1, 20001), 300):
            order_page(cur, rng, customer)
            cur.execute(Q_REFRESH, (customer,))
            if customer % 2:
                unstable(cur, rng)
        for i in range(15):
            cur.execute(Q_PLAN_HEAVY, (1 + i % 10,))
        for i in range(40):  # unique violations: planned, never completed -> calls = 0
            expect_error(cur, Q_FAILING_INSERT, (1 + i, f"dup{i}@example.com", "Dup", "Licate"))
        for i in range(10):  # division by zero at execution time
            expect_error(cur, Q_FAILING_UPDATE, (0, 1 + i))
        for _ in range(3):  # a syntax error never reaches pg_stat_statements
            expect_error(cur, "SELEC 1", None)
        rcur = rep.cursor()
        for day in range(6):
            rcur.execute(Q_REPORT, (f"2026-0{1 + day % 4}-01",))
        ocur = ops.cursor()
        for word in ("%refund%", "%chargeback%", "%svc-7 %", "%login%"):
            ocur.execute(Q_COLD, (word,))


RUNBOOK = """SELECT d.datname, r.rolname, s.toplevel, s.queryid, s.calls,
       s.total_exec_time, s.mean_exec_time, s.total_plan_time, s.rows,
       s.shared_blks_hit, s.shared_blks_read, s.temp_blks_written,
       left(s.query, 60) AS query
  FROM {snap} s
  JOIN pg_database d ON d.oid = s.dbid
  JOIN pg_roles r ON r.oid = s.userid
 ORDER BY s.total_exec_time DESC"""


def psql(args, out: Path | None = None, db="shop"):
    env = {**os.environ, "PGTZ": "UTC", "LC_ALL": "C.UTF-8", "PAGER": "", "PSQL_PAGER": ""}
    cmd = [PSQL, "-X", "-q", "-h", HOST, "-p", str(PORT), "-U", "postgres", "-d", db, "-P", "pager=off", *args]
    res = subprocess.run(cmd, check=True, capture_output=True, env=env)
    if out is not None:
        out.write_bytes(res.stdout)
    return res.stdout


def export(snap: str, tag: str, out: Path):
    """One snapshot table in every form."""
    sel = f"SELECT * FROM {snap}"
    psql(["-c", f"\\copy ({sel}) to '{out / (tag + '.csv')}' csv header"])
    psql(["-c", sel], out / f"{tag}.aligned.txt")
    psql(["-x", "-c", sel], out / f"{tag}.expanded.txt")
    psql(["-A", "-F", "|", "-c", sel], out / f"{tag}.unaligned.txt")
    psql(["-A", "-x", "-c", sel], out / f"{tag}.unaligned-expanded.txt")
    psql(["-A", "-t", "-c", f"SELECT json_agg(s) FROM {snap} s"], out / f"{tag}.json")
    psql(["-A", "-t", "-c", f"SELECT row_to_json(s) FROM {snap} s"], out / f"{tag}.jsonl")
    psql(["-c", f"SELECT json_agg(s) FROM {snap} s"], out / f"{tag}.json-in-table.txt")  # typed at the prompt
    psql(["-c", RUNBOOK.format(snap=snap)], out / f"{tag}.runbook.txt")
    psql(["-c", f"\\copy (SELECT * FROM {snap}_info) to '{out / (tag + '.info.csv')}' csv header"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "sample_data" / "postgres")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--entries", type=int, default=0,
                    help="also run N distinct filler statements in the incident (for load-time measurements; "
                         "not for the committed samples)")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    # A plain `kill` should still stop the server and delete the cluster (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    srv = Server(PORT, server_options(max(5000, args.entries + 1000)), prefix="fx-pg-")
    try:
        srv.start()
        with connect(db="postgres") as c:
            c.execute("CREATE DATABASE shop")
        with connect() as c:
            c.execute("CREATE EXTENSION pg_stat_statements")
            for sql in SETUP:
                c.execute(sql)
        srv.restart()  # audit_log is now cold: larger than shared_buffers/4, so scans go through a ring buffer
        quiet_day(rng)
        t0 = time.time()
        with connect() as c:
            c.execute("CREATE TABLE snap_before AS SELECT * FROM pg_stat_statements")
            c.execute("CREATE TABLE snap_before_info AS SELECT * FROM pg_stat_statements_info")
        incident(rng)
        if args.entries:
            with connect("app") as c:
                cur = c.cursor()
                for sql in filler_statements(args.entries):
                    cur.execute(sql, (1,))
        with connect() as c:
            c.execute("CREATE TABLE snap_after AS SELECT * FROM pg_stat_statements")
            c.execute("CREATE TABLE snap_after_info AS SELECT * FROM pg_stat_statements_info")
        print(f"incident workload: {time.time() - t0:.1f} s", file=sys.stderr)
        # The same counters through the older view definitions the PG15 library still serves
        # (after pg_upgrade without ALTER EXTENSION UPDATE): real 1.4 (9.5-12), 1.8 (13), 1.9 (14) column sets.
        for ver in ("1.4", "1.8", "1.9"):
            db = "legacy_" + ver.replace(".", "_")
            with connect(db="postgres") as c:
                c.execute(f"CREATE DATABASE {db}")
            with connect(db=db) as c:
                c.execute(f"CREATE EXTENSION pg_stat_statements VERSION '{ver}'")
            psql(["-c", f"\\copy (SELECT * FROM pg_stat_statements WHERE dbid = "
                        f"(SELECT oid FROM pg_database WHERE datname = 'shop')) to "
                        f"'{args.out / ('after.v' + ver + '.csv')}' csv header"], db=db)
        export("snap_before", "before", args.out)
        export("snap_after", "after", args.out)
        (args.out / "story.json").write_text(json.dumps(STORY, indent=2, ensure_ascii=False) + "\n")
    finally:
        srv.remove()
    for p in sorted(args.out.iterdir()):
        print(f"{p.stat().st_size:>9,}  {p.name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
