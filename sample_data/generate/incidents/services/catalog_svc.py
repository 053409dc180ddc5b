"""catalog: product pages, rendered and cached — with a cache key that never repeats (the leak).

    catalog_svc.py SPANS_JSONL DB_HOST HEAP_DIFF_PREFIX
SIGUSR1: the first starts tracemalloc and takes the baseline (as an on-call engineer would
once growth was noticed); each next one writes
HEAP_DIFF_PREFIX-<n>.txt with the top ``compare_to(baseline, "lineno")`` statistics.
"""
import gc
import os
import signal
import sys
import threading
import time
import tracemalloc

from common import Pool, TracedHandler, db_attrs, serve  # noqa: E402
from otel_jaeger import setup_tracer  # noqa: E402
from opentelemetry.trace import SpanKind  # noqa: E402

SPANS, DB_HOST, HEAP_PREFIX = sys.argv[1], sys.argv[2], sys.argv[3]
tracer = setup_tracer("catalog", "app-1", "10.77.1.11", SPANS)
pool = Pool(f"host={DB_HOST} port=5432 dbname=shop user=postgres connect_timeout=5", size=4, timeout=2.0)
PRODUCT = "SELECT sku, name, price_cents, description FROM products WHERE sku = %s"

_rendered = {}  # BUG: keyed by (sku, request id) — nothing is ever served from it, nothing evicted
_request_seq = 0
_lock = threading.Lock()
_gc_pauses = []  # (start, end) of generation-2 collections
_gc_start = [0.0]


def _gc_cb(phase, info):
    if info.get("generation") == 2:
        if phase == "start":
            _gc_start[0] = time.time()
        else:
            _gc_pauses.append((_gc_start[0], time.time()))


gc.callbacks.append(_gc_cb)


def render_page(row):
    sku, name, price, desc = row
    words = desc.split()
    return {"sku": sku, "title": name, "price": price,
            "blocks": [[i, words[i % len(words)], None] for i in range(2500)]}


_snap = {"baseline": None, "n": 0}


def _on_usr1(signum, frame):
    if _snap["baseline"] is None:
        tracemalloc.start(1)
        _snap["baseline"] = tracemalloc.take_snapshot()
        return
    snap = tracemalloc.take_snapshot()
    _snap["n"] += 1
    stats = snap.compare_to(_snap["baseline"], "lineno")
    out = f"{HEAP_PREFIX}-{_snap['n']}.txt"
    with open(out + ".tmp", "w") as f:
        for stat in stats[:15]:
            print(stat, file=f)
    os.rename(out + ".tmp", out)  # the stage script waits for the finished file
    del snap, stats


signal.signal(signal.SIGUSR1, _on_usr1)


class Handler(TracedHandler):
    tracer = tracer

    def route(self, method, path, span):
        global _request_seq
        t0 = time.time()
        if path.startswith("/sync/prices"):
            return 200, {"ok": True, "cached_pages": len(_rendered)}
        if not path.startswith("/product/"):
            return 404, {"error": "no such route"}
        sku = int(path.rsplit("/", 1)[1])
        with _lock:
            _request_seq += 1
            key = (sku, _request_seq)
        span.set_attribute("app.sku", sku)
        conn = pool.getconn()
        try:
            with tracer.start_as_current_span("SELECT shop.products", kind=SpanKind.CLIENT,
                                              attributes=db_attrs(PRODUCT.replace("%s", "$1"), DB_HOST, 5432,
                                                                  "shop", "catalog-db")):
                row = conn.execute(PRODUCT, (sku,)).fetchone()
        finally:
            pool.putconn(conn)
        if row is None:
            return 404, {"error": "unknown sku"}
        page = render_page(row)
        _rendered[key] = page
        span.set_attribute("app.cache.entries", len(_rendered))
        for start, end in list(_gc_pauses[-5:]):
            if end >= t0:
                span.add_event("gc.pause", {"generation": 2, "pause_ms": round((end - start) * 1000, 1)})
        return 200, {"sku": sku, "title": page["title"], "blocks": len(page["blocks"])}


if __name__ == "__main__":
    serve(Handler, "0.0.0.0", 8082)
