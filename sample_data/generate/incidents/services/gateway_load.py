"""gateway: shoppers browsing product pages through the gateway (no retries, 2 s timeout).

    gateway_load.py SPANS_JSONL CATALOG_HOST DURATION_S USERS
"""
import random
import sys
import threading
import time

from common import http_call
from otel_jaeger import setup_tracer
from opentelemetry.trace import SpanKind, Status, StatusCode

SPANS, HOST, DURATION, USERS = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
tracer = setup_tracer("gateway", "web-1", "10.77.1.10", SPANS)
stop_at = time.time() + DURATION


def shopper(seed):
    rng = random.Random(seed)
    while time.time() < stop_at:
        sku = rng.randint(1, 20000)
        with tracer.start_as_current_span("GET /shop/product", kind=SpanKind.SERVER,
                                          attributes={"http.method": "GET", "http.route": "/shop/product",
                                                      "app.sku": sku}) as root:
            try:
                status, _ = http_call(tracer, "GET", HOST, 8082, f"/product/{sku}", "catalog", timeout=2.0)
            except Exception as e:
                status = 502
                root.set_status(Status(StatusCode.ERROR, f"catalog unavailable: {type(e).__name__}"))
            root.set_attribute("http.status_code", status)
        time.sleep(rng.uniform(0.2, 0.5))


threads = [threading.Thread(target=shopper, args=(i,)) for i in range(USERS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
