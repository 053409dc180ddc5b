"""Regenerate sample_data/traces/ from a real OpenTelemetry-instrumented system on loopback.

    .venv/bin/python sample_data/generate/traces/generate.py [--requests 24] [--out sample_data/traces]

Needs: opentelemetry-sdk, psycopg (pip install -e .[generate]) and PostgreSQL's initdb/pg_ctl
(/usr/local/bin or $PG_BIN). A throw-away PostgreSQL cluster is created under /tmp/fx-tr-pg-*,
listens on 127.0.0.1:55433 only, and is stopped and deleted at the end. When run as root the
cluster runs as the ``postgres`` user (initdb refuses root).

Writes the same spans three ways — checkout.otlp.json, checkout.jaeger.json, checkout.zipkin.json
— plus small variants of the first traces in variants/ for every other shape the loader reads.
"""
from __future__ import annotations

import argparse
import json
import os
import pwd
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import convert  # noqa: E402

PORT = 55433
PG_BIN = os.environ.get("PG_BIN", "/usr/local/bin")


def _as_pg_user(cmd):
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"] + cmd
    return cmd


class ThrowawayPostgres:
    """initdb + pg_ctl start on 127.0.0.1:55433 in a temp dir; stop() removes it."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="fx-tr-pg-")
        self.data = os.path.join(self.root, "data")
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        subprocess.run(_as_pg_user([f"{PG_BIN}/initdb", "-D", self.data, "-U", "postgres", "--auth=trust",
                                    "--no-sync", "-E", "UTF8"]), check=True, stdout=subprocess.DEVNULL)
        subprocess.run(_as_pg_user([f"{PG_BIN}/pg_ctl", "-D", self.data, "-l", os.path.join(self.root, "log"), "-w",
                                    "-o", f"-p {PORT} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off",
                                    "start"]), check=True, stdout=subprocess.DEVNULL)
        self.dsn = f"host=127.0.0.1 port={PORT} user=postgres dbname=postgres"

    def stop(self):
        subprocess.run(_as_pg_user([f"{PG_BIN}/pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"]),
                       check=False, stdout=subprocess.DEVNULL)
        shutil.rmtree(self.root, ignore_errors=True)


def _dump(obj, path, indent=None):
    with open(path, "w") as f:
        json.dump(obj, f, indent=indent, separators=None if indent else (",", ":"))
        f.write("\n")


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=24)
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", "traces"))
    args = ap.parse_args(argv)
    out = os.path.abspath(args.out)
    os.makedirs(os.path.join(out, "variants"), exist_ok=True)

    pg = ThrowawayPostgres()
    try:
        import psycopg

        with psycopg.connect(pg.dsn, autocommit=True) as conn:  # schema setup, not traced
            conn.execute("CREATE TABLE stock(item text PRIMARY KEY, qty int)")
            conn.execute("CREATE TABLE orders(id int PRIMARY KEY, item text, shipped bool DEFAULT false)")
            conn.execute("INSERT INTO stock VALUES ('book', 12), ('lamp', 3), ('mug', 40), ('ghost', 1)")
        import system

        run, close = system.build(pg.dsn)
        rng = random.Random(11)
        items = ["book", "lamp", "mug"]
        statuses = []
        for n in range(1, args.requests + 1):
            item = "broken" if n % 9 == 5 else ("ghost" if n % 11 == 7 else rng.choice(items))
            statuses.append(run(item, f"u{rng.randint(1, 5)}", n))
            time.sleep(0.01)
        close()
        time.sleep(0.05)
    finally:
        pg.stop()

    spans = system.EXPORTER.get_finished_spans()
    otlp = convert.sdk_to_otlp(spans)
    ui = convert.otlp_to_jaeger(otlp)
    zipkin = convert.otlp_to_zipkin(otlp)
    _dump(otlp, os.path.join(out, "checkout.otlp.json"))
    _dump(ui, os.path.join(out, "checkout.jaeger.json"))
    _dump(zipkin, os.path.join(out, "checkout.zipkin.json"))

    # Variants of the first three traces: every other shape the loader accepts.
    first = ui["data"][:3]
    sub_ui = {"data": first}
    ids = {s["traceID"].rjust(32, "0") for t in first for s in t["spans"][:1]}
    sub_otlp = convert.otlp_subset(otlp, ids)
    v = os.path.join(out, "variants")
    _dump(dict(sub_ui, total=0, limit=0, offset=0, errors=None), os.path.join(v, "api_traces_response.json"), 2)
    _dump(first[0], os.path.join(v, "single_trace.json"), 2)
    _dump(convert.jaeger_bare_spans(sub_ui), os.path.join(v, "bare_spans.json"))
    _dump(convert.jaeger_to_api_v2(sub_ui), os.path.join(v, "api_v2_proto.json"), 1)
    _dump({"result": sub_otlp}, os.path.join(v, "api_v3_result.json"))
    with open(os.path.join(v, "otlp.jsonl"), "w") as f:  # OTel Collector file exporter: one batch per line
        for rs in sub_otlp["resourceSpans"]:
            f.write(json.dumps({"resourceSpans": [rs]}, separators=(",", ":")) + "\n")
    with open(os.path.join(v, "jaeger.jsonl"), "w") as f:
        for t in first:
            f.write(json.dumps(t, separators=(",", ":")) + "\n")
    zsub = [z for z in zipkin if z["traceId"] in ids]
    by_trace: dict = {}
    for z in zsub:
        by_trace.setdefault(z["traceId"], []).append(z)
    _dump(list(by_trace.values()), os.path.join(v, "zipkin_traces.json"))
    print(f"{len(spans)} spans in {len(ui['data'])} traces; HTTP statuses {sorted(set(statuses))}; written to {out}")


if __name__ == "__main__":
    main()
