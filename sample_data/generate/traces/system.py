"""A small checkout system on loopback, instrumented with the real OpenTelemetry SDK.

Services (each its own TracerProvider/Resource, its own ThreadingHTTPServer on 127.0.0.1):

    frontend  GET /checkout  -> auth GET /auth, then in parallel: recommend GET /recommend
                                and orders POST /orders
    orders    POST /orders   -> inventory GET /reserve (retried on 503, up to 3 attempts),
                                PostgreSQL INSERT (real psycopg call), publish to a queue (PRODUCER)
    inventory GET /reserve   -> PostgreSQL SELECT; 503 on the first attempt of some requests,
                                500 for item "broken" (error path)
    worker    consumes the queue (CONSUMER span: child of the PRODUCER span and linked to it),
              PostgreSQL UPDATE; item "ghost" hits a missing table (database error)

Context travels in W3C ``traceparent`` headers (opentelemetry.propagate inject/extract),
and inside queue messages. Every finished span lands in one InMemorySpanExporter.
"""
from __future__ import annotations

import json
import queue
import random
import socket
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import psycopg
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

HOST = socket.gethostname()
EXPORTER = InMemorySpanExporter()


def tracer_for(service: str):
    res = Resource.create({"service.name": service, "service.version": "1.4.2", "host.name": HOST,
                           "service.instance.id": f"{service}-1", "deployment.environment": "staging"})
    provider = TracerProvider(resource=res)
    provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
    return provider.get_tracer(f"checkout.{service}", "0.3.0")


class Service:
    """An HTTP service: routes -> handler(tracer, query, body) -> (status, dict)."""

    def __init__(self, name: str, routes: dict):
        self.name, self.routes, self.tracer = name, routes, tracer_for(name)
        svc = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _serve(self, method):
                url = urlparse(self.path)
                ctx = propagate.extract({k.lower(): v for k, v in self.headers.items()})
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}") if length else {}
                with svc.tracer.start_as_current_span(f"{method} {url.path}", context=ctx, kind=SpanKind.SERVER,
                                                      attributes={"http.request.method": method, "url.path": url.path,
                                                                  "server.port": self.server.server_port}) as span:
                    status, payload = svc.routes[url.path](svc.tracer, parse_qs(url.query), body)
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR, payload.get("error", f"HTTP {status}")))
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def http_call(tracer, method: str, port: int, path: str, peer: str, body=None, attempt: int = 0):
    """A CLIENT span around one urllib request, with traceparent injected."""
    attrs = {"http.request.method": method, "server.address": "127.0.0.1", "server.port": port,
             "peer.service": peer, "url.full": f"http://127.0.0.1:{port}{path}"}
    if attempt:
        attrs["http.request.resend_count"] = attempt
    with tracer.start_as_current_span(f"{method} {path.split('?')[0]}", kind=SpanKind.CLIENT, attributes=attrs) as span:
        headers = {"Content-Type": "application/json"}
        propagate.inject(headers)
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                status, payload = resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as e:
            status, payload = e.code, json.loads(e.read() or b"{}")
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_status(Status(StatusCode.ERROR, f"HTTP {status}"))
        return status, payload


def db_call(tracer, dsn: str, statement: str, params=(), op="SELECT", table="orders"):
    """A CLIENT span around one real psycopg statement on the throw-away PostgreSQL."""
    attrs = {"db.system": "postgresql", "db.name": "postgres", "db.statement": statement, "db.operation": op,
             "peer.service": "postgres", "server.address": "127.0.0.1", "server.port": 55433}
    with tracer.start_as_current_span(f"{op} {table}", kind=SpanKind.CLIENT, attributes=attrs) as span:
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                rows = conn.execute(statement, params).fetchall() if op == "SELECT" else conn.execute(statement, params)
                if op != "SELECT":
                    span.set_attribute("db.rows_affected", rows.rowcount)
                    rows = []
                return rows
        except psycopg.Error as e:
            span.record_exception(e)
            span.set_status(Status(StatusCode.ERROR, type(e).__name__ + ": " + str(e).splitlines()[0]))
            raise


def build(dsn: str, seed: int = 7):
    """Start the services; returns (run_request(item, user), close())."""
    rng = random.Random(seed)
    lock = threading.Lock()
    attempts: dict[str, int] = {}
    jobs: queue.Queue = queue.Queue()

    def reserve(tracer, q, body):
        item, order = q["item"][0], q["order"][0]
        with lock:
            attempts[order] = attempts.get(order, 0) + 1
            n = attempts[order]
        time.sleep(0.002)
        if item == "broken":
            return 500, {"error": "inventory shard unavailable"}
        if n == 1 and int(order) % 3 == 0:  # transient overload: the first try of every 3rd order
            time.sleep(0.004)
            return 503, {"error": "overloaded, retry"}
        rows = db_call(tracer, dsn, "SELECT qty FROM stock WHERE item = %s", (item,), "SELECT", "stock")
        return 200, {"qty": rows[0][0] if rows else 0}

    def create_order(tracer, q, body):
        item, order = body["item"], body["order"]
        status = 0
        for attempt in range(3):
            status, payload = http_call(tracer, "GET", inventory.port, f"/reserve?item={item}&order={order}",
                                        "inventory", attempt=attempt)
            if status != 503:
                break
            time.sleep(0.003 * (attempt + 1))  # back-off
        if status != 200:
            return 502, {"error": f"reservation failed: HTTP {status}"}
        db_call(tracer, dsn, "INSERT INTO orders(id, item) VALUES (%s, %s)", (int(order), item), "INSERT", "orders")
        with tracer.start_as_current_span("orders publish", kind=SpanKind.PRODUCER,
                                          attributes={"messaging.system": "inproc", "messaging.destination.name": "orders",
                                                      "messaging.operation": "publish"}) as span:
            carrier: dict = {}
            propagate.inject(carrier)
            jobs.put({"order": order, "item": item, "ctx": carrier, "link": span.get_span_context()})
            time.sleep(0.001)
        return 201, {"order": order}

    def authenticate(tracer, q, body):
        with tracer.start_as_current_span("verify token", attributes={"auth.method": "jwt"}):
            time.sleep(0.003 + rng.random() * 0.002)
        return 200, {"user": q.get("user", ["anon"])[0]}

    def recommend(tracer, q, body):
        with tracer.start_as_current_span("rank items", attributes={"model": "popularity"}):
            time.sleep(0.004 + rng.random() * 0.01)
        return 200, {"items": ["a", "b"]}

    def checkout(tracer, q, body):
        item, user, order = q["item"][0], q["user"][0], q["order"][0]
        status, _ = http_call(tracer, "GET", auth.port, f"/auth?user={user}", "auth")
        if status != 200:
            return 401, {"error": "unauthorised"}
        ctx = otel_context.get_current()
        side = {}

        def in_parallel():  # the recommendation call runs concurrently with the order
            token = otel_context.attach(ctx)
            try:
                side["rec"] = http_call(tracer, "GET", recommend_svc.port, "/recommend", "recommend")
            finally:
                otel_context.detach(token)

        t = threading.Thread(target=in_parallel)
        t.start()
        status, payload = http_call(tracer, "POST", orders.port, "/orders", "orders", {"item": item, "order": order})
        t.join()
        with tracer.start_as_current_span("render receipt"):
            time.sleep(0.001)
        if status >= 400:
            return 502, {"error": payload.get("error", "order failed")}
        return 200, {"order": order}

    worker_tracer = tracer_for("worker")

    def worker_loop():
        while True:
            job = jobs.get()
            if job is None:
                return
            parent = propagate.extract(job["ctx"])
            with worker_tracer.start_as_current_span("orders process", context=parent, kind=SpanKind.CONSUMER,
                                                     links=[Link(job["link"], {"messaging.operation": "publish"})],
                                                     attributes={"messaging.system": "inproc",
                                                                 "messaging.destination.name": "orders",
                                                                 "messaging.operation": "process"}) as span:
                time.sleep(0.002)
                table = "order_audit_missing" if job["item"] == "ghost" else "orders"
                try:
                    db_call(worker_tracer, dsn, f"UPDATE {table} SET shipped = true WHERE id = %s",
                            (int(job["order"]),), "UPDATE", table)
                except psycopg.Error as e:
                    span.set_status(Status(StatusCode.ERROR, "audit update failed"))
                    span.add_event("job dead-lettered", {"reason": type(e).__name__})
            jobs.task_done()

    auth = Service("auth", {"/auth": authenticate})
    recommend_svc = Service("recommend", {"/recommend": recommend})
    inventory = Service("inventory", {"/reserve": reserve})
    orders = Service("orders", {"/orders": create_order})
    frontend = Service("frontend", {"/checkout": checkout})
    worker = threading.Thread(target=worker_loop, daemon=True)
    worker.start()

    def run(item: str, user: str, order: int):
        req = urllib.request.Request(f"http://127.0.0.1:{frontend.port}/checkout?item={item}&user={user}&order={order}")
        try:
            with urllib.request.urlopen(req, timeout=20) as resp:
                return resp.status
        except urllib.error.HTTPError as e:
            return e.code

    def close():
        jobs.join()
        jobs.put(None)
        worker.join()
        for s in (frontend, orders, inventory, recommend_svc, auth):
            s.close()

    return run, close
