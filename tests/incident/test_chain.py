"""The planted chain of each sample incident is in the timeline and the links."""
import re

import pandas as pd


def _at(inc, name):
    return pd.Timestamp(inc.manifest["events"][name])


def test_checkout_latency_timeline(incidents):
    inc = incidents["checkout-latency"]
    tl = inc.timeline
    migration = _at(inc, "migration")
    q = tl[tl["kind"] == "query-finding"]
    # the orders-by-customer lookup lost its index: the pg_stat_statements interval says so ...
    slow_lookup = q[q["detail"].str.contains("missing_index") & q["detail"].str.contains("WHERE customer_id = \\$1 ORDER BY created_at DESC")]
    assert len(slow_lookup) and (slow_lookup["severity"] == "error").any()
    # ... and the DDL that dropped it ran in the same interval
    assert q["detail"].str.contains("DROP INDEX orders_customer_id_idx").any()
    # pool exhaustion in checkout follows the migration
    pool = tl[(tl["kind"] == "error-span") & (tl["service"] == "checkout") & tl["detail"].str.contains("PoolTimeout")]
    assert len(pool) and pool["time"].min() > migration
    # the frontend gave up after its retries
    assert tl[(tl["service"] == "frontend") & tl["detail"].str.contains("after 3 attempts")].shape[0] > 0
    # retransmissions on the checkout↔orders-db link
    rt = tl[tl["kind"] == "retransmissions"]
    assert len(rt) and rt["detail"].str.contains("10.77.2.20:5432").all() and (rt["service"] == "orders-db").all()
    # the worker crashed on a NULL after the pool ran dry
    crash = tl[tl["kind"] == "crash"].iloc[0]
    assert crash["crash_class"] == "null-deref-read" and "ship_order" in crash["detail"]
    assert crash["service"] == "fulfilment-worker" and crash["time"] > pool["time"].min()
    assert list(tl["time"]) == sorted(tl["time"]) and str(tl["time"].dt.tz) == "UTC"


def test_checkout_latency_links(incidents):
    inc = incidents["checkout-latency"]
    links = inc.links
    spans = inc.artifact("traces.json").result.spans.set_index("span_id")
    stmts = inc.artifact("pgss-after.csv").result.statements.set_index("queryid")
    # slow db spans ↔ the missing-index statement
    ss = [l for l in links if l["type"] == "span-statement" and l["confidence"] >= 0.9
          and "ORDER BY created_at DESC" in stmts.loc[int(l["b"]["ref"]), "query"]]
    assert ss and all(spans.loc[l["a"]["ref"], "operation"] == "SELECT shop.orders" for l in ss)
    assert all("missing_index" in l["reason"] for l in ss)
    # slow db spans ↔ the retransmitting flow
    rs = [l for l in links if l["type"] == "retransmissions-span" and l["a"]["artifact"] == "db-link.pcap"]
    assert rs and any(spans.loc[l["b"]["ref"], "operation"].endswith("shop.orders") and l["confidence"] >= 0.7 for l in rs)
    # the crash ↔ the worker's last call to checkout, which was slow
    cp = [l for l in links if l["type"] == "crash-preceding" and l["confidence"] >= 0.8]
    assert any(spans.loc[l["b"]["ref"], "operation"] == "GET /fulfil" for l in cp)
    # ip:port ↔ service
    ep = [l for l in links if l["type"] == "endpoint"]
    assert any("10.77.2.20:5432 is orders-db" in l["reason"] for l in ep)
    for l in links:
        assert set(l) >= {"a", "b", "reason", "confidence"} and 0 <= l["confidence"] <= 1
        assert {"artifact_kind", "ref"} <= set(l["a"]) and {"artifact_kind", "ref"} <= set(l["b"])


def test_catalog_leak_timeline(incidents):
    inc = incidents["catalog-leak"]
    tl = inc.timeline
    killed = _at(inc, "catalog_killed")
    heap = tl[tl["kind"] == "heap-growth"]
    top = heap.sort_values("time").drop_duplicates("artifact", keep="first")
    # the leaking line is on top in both diffs, and it grew between them
    assert top["ref"].str.endswith("services/catalog_svc.py:47").all() and len(top) == 2
    assert "was +" in top["detail"].iloc[1]
    # GC pauses get longer as the heap grows
    gc = tl[(tl["kind"] == "gc-pause") & (tl["time"] < killed)]
    ms = gc["detail"].str.extract(r"(\d+) ms")[0].astype(float)
    assert len(ms) >= 3 and ms.max() > 2 * ms.iloc[0]
    # the kill: connections refused (RST) and failed calls around it, then the assert in price-sync
    resets = tl[(tl["kind"] == "reset") & (tl["artifact"] == "gateway-link.pcap")]
    near = resets[(resets["time"] - killed).abs() < pd.Timedelta(seconds=5)]
    # one row for the burst (not one per connection), saying they were refused, severity from that
    assert len(near) == 1 and (near["service"] == "catalog").all()
    burst = near.iloc[0]
    assert re.search(r"\b(\d+) connection\(s\) refused", burst["detail"]) or "REJ" in burst["detail"]
    assert int(re.search(r"REJ ([\d,]+)", burst["detail"]).group(1).replace(",", "")) >= 3
    assert burst["severity"] == "error" and len(burst["source_rows"]) >= 3
    errs = tl[(tl["kind"] == "error-span") & (tl["service"] == "gateway")]
    assert ((errs["time"] - killed).abs() < pd.Timedelta(seconds=5)).any()
    crash = tl[tl["kind"] == "crash"].iloc[0]
    assert crash["crash_class"] == "assertion-failure" and crash["time"] >= killed
    assert crash["service"] == "price-sync"
    # the database was not the problem: no finding for the product lookup
    assert not tl[(tl["kind"] == "query-finding") & tl["detail"].str.contains("FROM products")]["severity"].eq("error").any()


def test_catalog_leak_links(incidents):
    inc = incidents["catalog-leak"]
    links = inc.links
    by = lambda t: [l for l in links if l["type"] == t]  # noqa: E731
    assert any(l["confidence"] >= 0.7 and "GC pause" in l["reason"] and l["a"]["ref"].endswith("catalog_svc.py:47")
               for l in by("heap-latency"))
    re_ = by("reset-error")
    assert re_ and all(l["a"]["artifact"] == "gateway-link.pcap" for l in re_)
    assert any("ConnectionRefusedError" in l["reason"] for l in re_)
    cp = by("crash-preceding")
    assert any(l["b"]["ref"] == "catalog_killed" for l in cp)
