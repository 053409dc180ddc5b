"""Bits the staged services share: a tiny connection pool, HTTP server plumbing, trace context."""
from __future__ import annotations

import json
import os
import queue
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from opentelemetry.propagate import extract, inject  # noqa: E402
from opentelemetry.trace import SpanKind, Status, StatusCode  # noqa: E402


class PoolTimeout(Exception):
    pass


class Pool:
    """A fixed-size psycopg connection pool; getconn() waits at most ``timeout`` seconds."""

    def __init__(self, dsn: str, size: int, timeout: float):
        import psycopg

        self.size, self.timeout = size, timeout
        self._q: queue.Queue = queue.Queue()
        for _ in range(size):
            self._q.put(psycopg.connect(dsn, autocommit=True))

    def getconn(self):
        try:
            return self._q.get(timeout=self.timeout)
        except queue.Empty:
            raise PoolTimeout(f"no free connection within {int(self.timeout * 1000)} ms "
                              f"(pool size {self.size}, all busy)") from None

    def putconn(self, conn):
        self._q.put(conn)


def db_attrs(statement: str, host: str, port: int, db: str, peer_service: str) -> dict:
    return {"db.system": "postgresql", "db.name": db, "db.statement": statement, "net.peer.ip": host, "net.peer.port": port,
            "server.address": host, "server.port": port, "peer.service": peer_service}


class TracedHandler(BaseHTTPRequestHandler):
    """Subclasses set ``tracer`` and implement ``route(method, path, span) -> (status, body)``."""

    tracer = None
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def _handle(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        ctx = extract(dict(self.headers))
        local_ip, local_port = self.connection.getsockname()[:2]
        peer_ip, peer_port = self.client_address[:2]
        path = self.path.split("?")[0]
        route = "/" + path.strip("/").split("/")[0] if path.count("/") > 1 else path
        with self.tracer.start_as_current_span(
            f"{method} {route}", context=ctx, kind=SpanKind.SERVER,
            attributes={"http.method": method, "http.target": self.path, "http.route": route,
                        "net.host.ip": local_ip, "net.host.port": local_port,
                        "net.peer.ip": peer_ip, "net.peer.port": peer_port}) as span:
            try:
                status, body = self.route(method, self.path, span)
            except Exception as e:  # the service answers 500, the span says why
                span.record_exception(e)
                status, body = 500, {"error": f"{type(e).__name__}: {e}"}
            span.set_attribute("http.status_code", status)
            if status >= 500:
                span.set_status(Status(StatusCode.ERROR, body.get("error", f"HTTP {status}")))
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")


def serve(handler_cls, host, port):
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.allow_reuse_address = True
    srv = ThreadingHTTPServer((host, port), handler_cls)
    srv.serve_forever()


def http_call(tracer, method, host, port, path, peer_service, timeout, body=None):
    """An HTTP client span with W3C traceparent injected; returns (status, json) or raises."""
    import http.client

    with tracer.start_as_current_span(
        f"{method} {path.split('?')[0]}", kind=SpanKind.CLIENT,
        attributes={"http.method": method, "http.url": f"http://{host}:{port}{path}", "net.peer.ip": host,
                    "net.peer.port": port, "server.address": host, "server.port": port,
                    "peer.service": peer_service}) as span:
        headers = {"Content-Type": "application/json"}
        inject(headers)
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            data = json.dumps(body).encode() if body is not None else None
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            payload = json.loads(resp.read() or b"{}")
            span.set_attribute("http.status_code", resp.status)
            if resp.status >= 500:
                span.set_status(Status(StatusCode.ERROR, payload.get("error", f"HTTP {resp.status}")))
            return resp.status, payload
        except Exception as e:
            span.record_exception(e)
            span.set_status(Status(StatusCode.ERROR, f"{type(e).__name__}: {e}"))
            raise
        finally:
            conn.close()
