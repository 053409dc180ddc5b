"""Stage incident "invoice-export" on this machine and write sample_data/incidents/invoice-export/.

    sudo .venv/bin/python sample_data/generate/incidents/invoice_export.py [--out DIR]

Story (different services, hosts and failure from the other two sample incidents):
  storefront (web-1, 10.77.4.10) → billing (app-1, 10.77.4.11:8090) → ledger-db (db-1, 10.77.5.20:5432), and
  invoice-exporter (batch-1, 10.77.6.30, native C) pulling the newest unexported invoice from billing
  (10.77.6.11:8090). The storefront↔billing link passes the user-space bridge (1 % loss).
  A deploy stops billing v1, runs a migration (ALTER TABLE invoices ADD COLUMN coupon) and starts v2
  about 2.5 s later; meanwhile the storefront's immediate retries are refused (a burst of RSTs). v2 writes
  coupon invoices without their lines; the exporter divides the invoice total by its line count and dies
  with SIGFPE. The exporter has no tracer of its own but sends a W3C traceparent with every call and
  logs it; billing's spans continue that trace and every SQL statement carries it in a sqlcommenter
  comment, which pg_stat_statements keeps in the query text of the first call.
The crash transcript's only clock is the exporter's log (the manifest gives it no time).
Artifacts: front-link.pcap, export-link.pcap (tcpdump on billing's side of each link), traces.json
(OpenTelemetry SDK → Jaeger UI JSON), pgss-before.csv / pgss-after.csv (psql \\copy), exporter-crash.gdb.txt.
What the stage script measured (crash second, trace ids) goes to answers.toml [staging], for tests.
"""
from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from netlab import HERE, PY, Lab, wait_port  # noqa: E402
from otel_jaeger import write_jaeger_ui  # noqa: E402
from pglab import PGSS_QUERY, Postgres  # noqa: E402
from stagekit import BUILD, GdbRun, iso, tcpdump, write_toml  # noqa: E402

NAME = "invoice-export"
pg = None
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
SVC = os.path.join(HERE, "services")


def build_exporter() -> str:
    os.makedirs(BUILD, exist_ok=True)
    out = os.path.join(BUILD, "exporter")
    subprocess.run(["gcc", "-g", "-O0", "-Wall", "-o", out, os.path.join(HERE, "exporter.c")], check=True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "sample_data", "incidents", NAME))
    ap.add_argument("--duration", type=float, default=24.0, help="seconds of storefront load")
    a = ap.parse_args()
    work = f"/tmp/fx-inc-{NAME}"
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    os.makedirs(a.out, exist_ok=True)
    exporter = build_exporter()
    try:
        stage(a, work, exporter)
    finally:
        if pg is not None:
            pg.cleanup()


def snapshot(out_path: str) -> float:
    """pg_stat_statements of the ledger database as CSV, via psql \\copy (as pglab.Postgres.snapshot)."""
    tmp = os.path.join(pg.sockdir, os.path.basename(out_path))
    pg.psql(f"\\copy ({PGSS_QUERY}) TO '{tmp}' csv header", db="ledger")
    shutil.copyfile(tmp, out_path)
    return time.time()


def start_billing(lab, app, work, version):
    p = lab.spawn(app, [PY, f"{SVC}/billing_svc.py", f"{work}/billing.jsonl", "10.77.5.20", version],
                  log=f"{work}/billing-v{version}.log")
    wait_port(app, "10.77.4.11", 8090)
    return p


def stage(a, work, exporter):
    global pg
    with Lab("fx-inc-i") as lab:
        web, mid, app, db, wrk = (lab.ns(n) for n in ("web", "mid", "app", "db", "wrk"))
        lab.veth(web, "fx-inc-iw0", mid, "fx-inc-im0", "10.77.4.10", None)
        lab.veth(mid, "fx-inc-im1", app, "fx-inc-ia0", None, "10.77.4.11")
        lab.veth(app, "fx-inc-ia1", db, "fx-inc-id0", "10.77.5.11", "10.77.5.20")
        lab.veth(wrk, "fx-inc-ik0", app, "fx-inc-ia2", "10.77.6.30", "10.77.6.11")
        lab.impair(mid, "fx-inc-im0", "fx-inc-im1", 0.01, 1, 13, f"{work}/bridge.json")
        pg = Postgres(db, NAME, "10.77.5.20")
        pg.start()
        pg.psql("CREATE DATABASE ledger", db="postgres")
        pg.psql("CREATE EXTENSION pg_stat_statements", db="ledger")
        pg.psql("""
CREATE TABLE invoices (id bigserial PRIMARY KEY, customer_id int NOT NULL, created_at timestamptz NOT NULL,
                       exported_at timestamptz);
CREATE TABLE invoice_lines (id bigserial PRIMARY KEY, invoice_id bigint NOT NULL REFERENCES invoices,
                            amount_cents int NOT NULL);
CREATE INDEX invoice_lines_invoice_id_idx ON invoice_lines (invoice_id);
CREATE INDEX invoices_unexported_idx ON invoices (created_at) WHERE exported_at IS NULL;""", db="ledger")
        front = tcpdump(lab, app, "fx-inc-ia0", f"{work}/front-link.pcap", "tcp port 8090", snaplen=160)
        export = tcpdump(lab, app, "fx-inc-ia2", f"{work}/export-link.pcap", "tcp port 8090", snaplen=512)
        time.sleep(1.0)
        billing = start_billing(lab, app, work, 1)
        pg.psql("SELECT pg_stat_statements_reset()", db="ledger", capture=True)
        t_start = time.time()
        load = lab.spawn(web, [PY, f"{SVC}/storefront_load.py", f"{work}/storefront.jsonl", "10.77.4.11",
                               a.duration, 4], log=f"{work}/storefront.log")
        gdb = GdbRun(wrk, exporter, ["10.77.6.11", "8090", "400"], f"{work}/exporter-crash.gdb.txt",
                     f"{work}/exporter.stderr")
        time.sleep(7)
        t_before = snapshot(f"{work}/pgss-before.csv")
        time.sleep(1.5)
        t_deploy = time.time()
        lab.stop(billing)  # the deploy: v1 stops ...
        pg.psql("ALTER TABLE invoices ADD COLUMN coupon boolean NOT NULL DEFAULT false", db="ledger")
        time.sleep(2.5)
        billing = start_billing(lab, app, work, 2)  # ... and v2 starts
        t_v2 = time.time()
        load.wait(a.duration + 60)
        t_after = snapshot(f"{work}/pgss-after.csv")
        time.sleep(1.0)
        lab.stop(front)
        lab.stop(export)
        gdb.finish()
        if gdb.signal_time is None:
            raise SystemExit("the exporter did not crash — rerun")
        if gdb.signal_time < t_v2:
            raise SystemExit("the exporter crashed before v2 was deployed — rerun")
        pg.cleanup()
        pg = None
    n_traces, n_spans = write_jaeger_ui([f"{work}/storefront.jsonl", f"{work}/billing.jsonl"], f"{work}/traces.json")
    files = ("front-link.pcap", "export-link.pcap", "traces.json", "pgss-before.csv", "pgss-after.csv",
             "exporter-crash.gdb.txt")
    for f in files:
        shutil.copyfile(f"{work}/{f}", f"{a.out}/{f}")
    staging = what_happened(work, gdb.signal_time)
    write_manifest(a.out, t_start, t_after, t_before, t_deploy, t_v2, staging)
    print(f"{NAME}: {n_traces} traces, {n_spans} spans; crash at {iso(gdb.signal_time)}; {staging}")
    print(open(f"{work}/bridge.json").read())


def what_happened(work, t_crash) -> dict:
    """The crash second and the trace ids the tests look for, read from what was staged."""
    log = open(f"{work}/exporter-crash.gdb.txt", errors="replace").read()
    before_stop = log.split("received signal", 1)[0]
    ids = re.findall(r"trace_id=([0-9a-f]{32}) span_id=([0-9a-f]{16})", before_stop)
    with open(f"{work}/pgss-after.csv", newline="") as f:
        queries = [r["query"] for r in csv.DictReader(f)]
    totals = [re.search(r"traceparent='00-([0-9a-f]{32})-", q) for q in queries if "sum(amount_cents)" in q]
    return {"crash": iso(t_crash), "crash_trace_id": ids[-1][0], "crash_span_id": ids[-1][1],
            "line_totals_trace_id": totals[0].group(1) if totals and totals[0] else ""}


def write_manifest(out, t_start, t_end, t_before, t_deploy, t_v2, staging):
    top = {
        "title": "Invoice export: billing deploy, refused orders, invoice-exporter crashed",
        "id": NAME,
        "summary": ("During a billing deploy the storefront's order completions failed for a few seconds, "
                    "and shortly after the invoice-exporter batch job died. Artifacts as collected by the "
                    "on-call engineer; the exporter's transcript was pasted from its gdb session."),
    }
    tables = {"window": {"start": iso(t_start), "end": iso(t_end)},
              "events": {"deploy_started": iso(t_deploy), "billing_v2_up": iso(t_v2)}}
    arrays = {
        "endpoints": [
            {"ip": "10.77.4.10", "host": "web-1", "service": "storefront"},
            {"ip": "10.77.4.11", "port": 8090, "host": "app-1", "service": "billing"},
            {"ip": "10.77.6.11", "port": 8090, "host": "app-1", "service": "billing"},
            {"ip": "10.77.5.11", "host": "app-1", "service": "billing"},
            {"ip": "10.77.5.20", "port": 5432, "host": "db-1", "service": "ledger-db"},
            {"ip": "10.77.6.30", "host": "batch-1", "service": "invoice-exporter"},
        ],
        "artifacts": [
            {"file": "front-link.pcap", "kind": "pcap", "host": "app-1", "service": "billing",
             "description": "tcpdump -s 160 on billing's side of the storefront link (tcp port 8090)"},
            {"file": "export-link.pcap", "kind": "pcap", "host": "app-1", "service": "billing",
             "description": "tcpdump -s 512 on billing's side of the exporter link (tcp port 8090)"},
            {"file": "traces.json", "kind": "jaeger-json",
             "description": "OpenTelemetry SDK spans of storefront and billing, Jaeger UI JSON"},
            {"file": "pgss-before.csv", "kind": "pg_stat_statements", "role": "before", "time": iso(t_before),
             "host": "db-1", "service": "ledger-db", "description": "pg_stat_statements before (psql \\copy csv)"},
            {"file": "pgss-after.csv", "kind": "pg_stat_statements", "role": "after", "baseline": "pgss-before.csv",
             "time": iso(t_end), "host": "db-1", "service": "ledger-db",
             "description": "pg_stat_statements after (psql \\copy csv)"},
            {"file": "exporter-crash.gdb.txt", "kind": "gdb-output", "host": "batch-1", "service": "invoice-exporter",
             "description": "gdb -batch session of the invoice-exporter (its log on stdout, interleaved)"},
        ],
        "questions": [
            {"id": "resets", "text": "Why were the storefront's calls to billing reset?",
             "choices": ["packet loss on the link", "billing was not listening: connections were refused during the deploy",
                         "the database refused connections", "the storefront closed them"],
             "hint": "Look at the connection states of the reset burst and at the deploy events."},
            {"id": "crash", "text": "What did the invoice-exporter die of?",
             "choices": ["NULL pointer read", "integer division by zero", "assertion failure", "stack overflow"],
             "hint": "Read the signal and the crash thread's top frame."},
            {"id": "which-invoice", "text": "How do you find the request the exporter was handling when it died?",
             "choices": ["by the time of the crash only", "by the trace id in its last log line before the signal",
                         "by the core file's size", "it cannot be found"],
             "hint": "The exporter logs a trace_id with every job; billing's spans continue that trace."},
            {"id": "root-cause", "text": "What made the exporter's input wrong?",
             "choices": ["billing v2 wrote coupon invoices without their lines", "the migration dropped an index",
                         "the storefront sent empty carts", "packet loss corrupted the reply"],
             "hint": "Compare invoices with and without lines after the deploy; what changed in v2?"},
        ],
    }
    write_toml(os.path.join(out, "incident.toml"), top, tables, arrays)
    answers = {
        "resets": "billing was not listening: connections were refused during the deploy",
        "crash": "integer division by zero",
        "which-invoice": "by the trace id in its last log line before the signal",
        "root-cause": "billing v2 wrote coupon invoices without their lines",
    }
    debrief = ("The deploy stopped billing v1, ran ALTER TABLE invoices ADD COLUMN coupon and started v2 about "
               "2.5 s later. While nothing listened on 8090 the storefront's immediate retries were refused "
               "(a burst of RSTs, state REJ). v2's refactor returns early on the coupon path, so coupon invoices "
               "have no lines; the exporter took the newest unexported invoice, got lines = 0 and divided the "
               "total by it (SIGFPE in average_line_cents). Its last log line names the trace id of that job, "
               "and billing's GET /export/next span continues that trace. Fix: write the lines on every path; "
               "guard the division; give the storefront a retry budget with backoff.")
    write_toml(os.path.join(out, "answers.toml"), {"incident": NAME, "debrief": debrief},
               {"answers": answers, "staging": staging})


if __name__ == "__main__":
    main()
