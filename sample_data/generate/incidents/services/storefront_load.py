"""storefront: customers finishing their orders; each order becomes an invoice at billing.

    storefront_load.py SPANS_JSONL BILLING_HOST DURATION_S USERS
A refused or failed call is retried at once, up to 40 times 25 ms apart (a client with no backoff:
while billing restarts, every attempt is a refused connection).
"""
import random
import sys
import threading
import time

from common import http_call
from otel_jaeger import setup_tracer
from opentelemetry.trace import SpanKind, Status, StatusCode

SPANS, HOST, DURATION, USERS = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
tracer = setup_tracer("storefront", "web-1", "10.77.4.10", SPANS)
stop_at = time.time() + DURATION


def customer(seed):
    rng = random.Random(seed)
    while time.time() < stop_at:
        body = {"customer_id": rng.randint(1, 9000), "items": [rng.randint(199, 9999) for _ in range(rng.randint(1, 4))],
                "coupon": rng.random() < 0.3}
        with tracer.start_as_current_span("POST /order/complete", kind=SpanKind.SERVER,
                                          attributes={"http.method": "POST", "http.route": "/order/complete"}) as root:
            ok = False
            for attempt in range(1, 41):
                try:
                    status, _ = http_call(tracer, "POST", HOST, 8090, "/invoices", "billing", timeout=2.0, body=body)
                    if status < 500:
                        ok = True
                        break
                except Exception:
                    pass
                time.sleep(0.025)
            root.set_attribute("app.attempts", attempt)
            if not ok:
                root.set_status(Status(StatusCode.ERROR, f"invoice not created after {attempt} attempts"))
        time.sleep(rng.uniform(0.15, 0.4))


threads = [threading.Thread(target=customer, args=(i,)) for i in range(USERS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
