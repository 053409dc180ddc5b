"""checkout: places orders and hands the next paid order to the fulfilment worker.

    checkout_svc.py SPANS_JSONL DB_HOST
Listens on :8081 in its namespace; a pool of 2 connections to orders-db (PostgreSQL).
"""
import json
import random
import sys
import time

from common import Pool, PoolTimeout, TracedHandler, db_attrs, serve
from otel_jaeger import setup_tracer
from opentelemetry.trace import SpanKind, Status, StatusCode

SPANS, DB_HOST = sys.argv[1], sys.argv[2]
tracer = setup_tracer("checkout", "app-1", "10.77.1.11", SPANS)
pool = Pool(f"host={DB_HOST} port=5432 dbname=shop user=postgres connect_timeout=5", size=2, timeout=0.2)

RECENT = "SELECT id, total_cents, status FROM orders WHERE customer_id = %s ORDER BY created_at DESC LIMIT 10"
INSERT = "INSERT INTO orders (customer_id, created_at, total_cents, status) VALUES (%s, now(), %s, 'paid') RETURNING id"
NEXT_PAID = "SELECT id, customer_id FROM orders WHERE customer_id = %s AND status = 'paid' ORDER BY created_at LIMIT 1"


def query(sql, params, fetch="all"):
    t0 = time.time()
    try:
        conn = pool.getconn()
    except PoolTimeout as e:  # only a failed acquire gets its own span (keeps the export small)
        with tracer.start_as_current_span("pool.acquire", start_time=int(t0 * 1e9),
                                          attributes={"db.pool.size": pool.size}) as s:
            s.set_status(Status(StatusCode.ERROR, f"PoolTimeout: {e}"))
        raise
    wait_ms = round((time.time() - t0) * 1000, 1)
    try:
        op = sql.split()[0].upper()
        with tracer.start_as_current_span(f"{op} shop.orders", kind=SpanKind.CLIENT,
                                          attributes=db_attrs(sql.replace("%s", "$1", 1).replace("%s", "$2"),
                                                              DB_HOST, 5432, "shop", "orders-db")) as span:
            span.set_attribute("db.pool.wait_ms", wait_ms)
            cur = conn.execute(sql, params)
            return cur.fetchall() if fetch == "all" else cur.fetchone()
    finally:
        pool.putconn(conn)


class Handler(TracedHandler):
    tracer = tracer

    def route(self, method, path, span):
        try:
            if method == "POST" and path.startswith("/checkout"):
                req = json.loads(self.body or b"{}")
                cid = int(req.get("customer_id", 1))
                span.set_attribute("app.customer_id", cid)
                recent = query(RECENT, (cid,))
                oid = query(INSERT, (cid, random.randint(500, 20000)), fetch="one")[0]
                return 200, {"order_id": oid, "recent": len(recent)}
            if method == "GET" and path.startswith("/fulfil/next"):
                row = query(NEXT_PAID, (random.randint(1, 50000),), fetch="one")
                if row is None:
                    return 200, {"id": 0, "customer_id": 0}
                return 200, {"id": row[0], "customer_id": row[1]}
            return 404, {"error": "no such route"}
        except PoolTimeout as e:
            return 503, {"error": f"PoolTimeout: {e}"}


if __name__ == "__main__":
    serve(Handler, "0.0.0.0", 8081)
