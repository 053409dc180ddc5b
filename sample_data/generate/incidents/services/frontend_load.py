"""frontend: shoppers pressing "place order"; retries failed checkouts (3 attempts, backoff).

    frontend_load.py SPANS_JSONL CHECKOUT_HOST DURATION_S USERS
"""
import random
import sys
import threading
import time

from common import http_call
from otel_jaeger import setup_tracer
from opentelemetry.trace import SpanKind, Status, StatusCode

SPANS, HOST, DURATION, USERS = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
tracer = setup_tracer("frontend", "web-1", "10.77.1.10", SPANS)
stop_at = time.time() + DURATION


def shopper(seed):
    rng = random.Random(seed)
    while time.time() < stop_at:
        cid = rng.randint(1, 50000)
        with tracer.start_as_current_span("POST /cart/checkout", kind=SpanKind.SERVER,
                                          attributes={"http.method": "POST", "http.route": "/cart/checkout",
                                                      "app.customer_id": cid}) as root:
            ok = False
            for attempt in range(1, 4):
                try:
                    status, _ = http_call(tracer, "POST", HOST, 8081, "/checkout", "checkout", timeout=2.0,
                                          body={"customer_id": cid})
                    if status < 500:
                        ok = True
                        break
                except Exception:
                    pass
                root.add_event("retry", {"attempt": attempt})
                time.sleep(0.05 * 2 ** attempt)
            root.set_attribute("app.attempts", attempt)
            root.set_attribute("http.status_code", 200 if ok else 502)
            if not ok:
                root.set_status(Status(StatusCode.ERROR, "checkout failed after 3 attempts"))
        time.sleep(rng.uniform(0.2, 0.6))


threads = [threading.Thread(target=shopper, args=(i,)) for i in range(USERS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
