"""billing: takes invoices from the storefront and hands the newest unexported one to the exporter.

    billing_svc.py SPANS_JSONL DB_HOST VERSION
Listens on :8090 in its namespace; a pool of 4 connections to ledger-db (PostgreSQL). Every statement
carries a sqlcommenter comment (``/*application='billing',traceparent='00-…-01'*/``), so the trace
that first ran a statement is named in pg_stat_statements' query text.
VERSION 2 is the refactor that shipped the bug: an invoice with a coupon is written without its lines.
"""
import json
import sys

from common import Pool, PoolTimeout, TracedHandler, db_attrs, serve
from otel_jaeger import setup_tracer
from opentelemetry import trace
from opentelemetry.trace import SpanKind

SPANS, DB_HOST, VERSION = sys.argv[1], sys.argv[2], int(sys.argv[3])
tracer = setup_tracer("billing", "app-1", "10.77.4.11", SPANS)
pool = Pool(f"host={DB_HOST} port=5432 dbname=ledger user=postgres connect_timeout=5", size=4, timeout=1.0)

NEW_INVOICE = "INSERT INTO invoices (customer_id, created_at) VALUES (%s, now()) RETURNING id"
NEW_INVOICE_V2 = "INSERT INTO invoices (customer_id, created_at, coupon) VALUES (%s, now(), %s) RETURNING id"
NEW_LINE = "INSERT INTO invoice_lines (invoice_id, amount_cents) VALUES (%s, %s)"
NEXT_EXPORT = ("SELECT id FROM invoices WHERE exported_at IS NULL ORDER BY created_at DESC LIMIT 1 "
               "FOR UPDATE SKIP LOCKED")
LINE_TOTALS = "SELECT count(*), coalesce(sum(amount_cents), 0) FROM invoice_lines WHERE invoice_id = %s"
MARK_EXPORTED = "UPDATE invoices SET exported_at = now() WHERE id = %s"


def sqlcomment() -> str:
    """The sqlcommenter comment for the current span (W3C traceparent)."""
    ctx = trace.get_current_span().get_span_context()
    return f" /*application='billing',traceparent='00-{ctx.trace_id:032x}-{ctx.span_id:016x}-01'*/"


def run(conn, sql, params, fetch=None):
    op = sql.split()[0].upper()
    table = "invoice_lines" if "invoice_lines" in sql else "invoices"
    shown = sql
    for i in range(1, sql.count("%s") + 1):
        shown = shown.replace("%s", f"${i}", 1)
    with tracer.start_as_current_span(f"{op} ledger.{table}", kind=SpanKind.CLIENT,
                                      attributes=db_attrs(shown, DB_HOST, 5432, "ledger", "ledger-db")):
        cur = conn.execute(sql + sqlcomment(), params)
        return cur.fetchone() if fetch == "one" else None


class Handler(TracedHandler):
    tracer = tracer

    def route(self, method, path, span):
        span.set_attribute("service.version", f"v{VERSION}")
        try:
            conn = pool.getconn()
        except PoolTimeout as e:
            return 503, {"error": f"PoolTimeout: {e}"}
        try:
            if method == "POST" and path.startswith("/invoices"):
                req = json.loads(self.body or b"{}")
                cid, items, coupon = int(req["customer_id"]), list(req["items"]), bool(req.get("coupon"))
                with conn.transaction():
                    if VERSION >= 2:
                        inv = run(conn, NEW_INVOICE_V2, (cid, coupon), fetch="one")[0]
                        if not coupon:  # BUG (v2 refactor): the coupon path returns before writing the lines
                            for cents in items:
                                run(conn, NEW_LINE, (inv, cents))
                    else:
                        inv = run(conn, NEW_INVOICE, (cid,), fetch="one")[0]
                        for cents in items:
                            run(conn, NEW_LINE, (inv, cents))
                return 201, {"invoice": inv}
            if method == "GET" and path.startswith("/export/next"):
                with conn.transaction():
                    row = run(conn, NEXT_EXPORT, (), fetch="one")
                    if row is None:
                        return 200, {"invoice": 0, "lines": 0, "total_cents": 0}
                    n, total = run(conn, LINE_TOTALS, (row[0],), fetch="one")
                    run(conn, MARK_EXPORTED, (row[0],))
                span.set_attribute("app.invoice", row[0])
                return 200, {"invoice": row[0], "lines": int(n), "total_cents": int(total)}
            return 404, {"error": "no such route"}
        finally:
            pool.putconn(conn)


if __name__ == "__main__":
    serve(Handler, "0.0.0.0", 8090)
