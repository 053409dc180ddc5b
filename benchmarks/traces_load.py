"""Time loading a 1M-span trace export, against the parse floor (orjson.loads of the same file, GC
off) and the json.load + pandas.json_normalize baseline.

    .venv/bin/python benchmarks/traces_load.py [--spans 1000000] [--shape jaeger|otlp] [--no-baseline]
    .venv/bin/python benchmarks/traces_load.py --floor      # only ours vs orjson, each in its own process

``--floor`` runs ``load_traces`` and ``orjson.loads(open(f).read())`` (garbage collector disabled)
in separate child processes, one after the other, so each peak RSS is its own, and prints the
ratio ours / orjson (the issue's target: <= 1.0, peak RSS <= 3 GB) and the load average.

The export is made from the generated checkout traces (sample_data/traces/checkout.*.json):
their traces are repeated with fresh trace/span ids and shifted times until the file holds the
requested number of spans; it is written once to benchmarks/data/ (gitignored) and reused.

Prints seconds for forensics.traces.load_traces, for the same call with the garbage collector
left on, and for the common notebook baseline (json.load, then pandas.json_normalize of the
spans with their tags) — and the ratios.
"""
from __future__ import annotations

import argparse
import copy
import gc
import json
import os
import sys
import time
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
DATA = os.path.join(ROOT, "benchmarks", "data")


def _rehex(h: str, k: int) -> str:
    return f"{(int(h, 16) + k * 7919) % (1 << (4 * len(h))):0{len(h)}x}"


def make_jaeger(n_spans: int, path: str):
    base = json.load(open(os.path.join(ROOT, "sample_data", "traces", "checkout.jaeger.json")))["data"]
    per_round = sum(len(t["spans"]) for t in base)
    with open(path, "w") as f:
        f.write('{"data":[')
        written, k, first = 0, 0, True
        while written < n_spans:
            for t in base:
                t2 = copy.deepcopy(t)
                tid = _rehex(t["traceID"], k + 1)
                t2["traceID"] = tid
                for s in t2["spans"]:
                    s["traceID"], s["spanID"] = tid, _rehex(s["spanID"], k + 1)
                    s["startTime"] += k * 1_000_000
                    for r in s["references"]:
                        r["spanID"] = _rehex(r["spanID"], k + 1)
                        r["traceID"] = tid if r["traceID"] == t["traceID"] else r["traceID"]
                    for lg in s["logs"]:
                        lg["timestamp"] += k * 1_000_000
                f.write(("" if first else ",") + json.dumps(t2, separators=(",", ":")))
                first = False
                written += len(t2["spans"])
            k += 1
        f.write("]}")
    return written, per_round


def make_otlp(n_spans: int, path: str):
    base = json.load(open(os.path.join(ROOT, "sample_data", "traces", "checkout.otlp.json")))
    per_round = sum(len(ss["spans"]) for rs in base["resourceSpans"] for ss in rs["scopeSpans"])
    with open(path, "w") as f:  # JSON Lines, as the OTel Collector file exporter writes
        written, k = 0, 0
        while written < n_spans:
            doc = copy.deepcopy(base)
            for rs in doc["resourceSpans"]:
                for ss in rs["scopeSpans"]:
                    for s in ss["spans"]:
                        s["traceId"], s["spanId"] = _rehex(s["traceId"], k + 1), _rehex(s["spanId"], k + 1)
                        if "parentSpanId" in s:
                            s["parentSpanId"] = _rehex(s["parentSpanId"], k + 1)
                        for ln in s.get("links", []):
                            ln["traceId"], ln["spanId"] = _rehex(ln["traceId"], k + 1), _rehex(ln["spanId"], k + 1)
                        for key in ("startTimeUnixNano", "endTimeUnixNano"):
                            s[key] = str(int(s[key]) + k * 1_000_000_000)
            f.write(json.dumps(doc, separators=(",", ":")) + "\n")
            written += per_round
            k += 1
    return written, per_round


def baseline_jaeger(path):
    import pandas as pd

    with open(path) as f:
        doc = json.load(f)
    spans = pd.json_normalize(doc["data"], record_path="spans", meta=[["traceID"]], meta_prefix="trace.")
    tags = pd.json_normalize(doc["data"], record_path=["spans", "tags"], meta=[["spans", "spanID"]])
    return len(spans), len(tags)


CPU = {}


def timed(fn, *a, **k):
    """Wall seconds (returned) and CPU seconds (in CPU[fn name]) — the machine may be shared."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn(*a, **k)
    CPU[fn.__name__] = time.process_time() - c0
    return time.perf_counter() - t0, out


def _child(what, path):
    """One measurement in this (fresh) process: prints {"wall", "cpu", "rss_gb"} as JSON."""
    import resource

    if what == "ours":
        warnings.simplefilter("ignore")
        from forensics.traces import load_traces

        t0, c0 = time.perf_counter(), time.process_time()
        ts = load_traces(path)
        n = len(ts.spans)
    else:
        import orjson

        gc.disable()
        t0, c0 = time.perf_counter(), time.process_time()
        with open(path, "rb") as f:
            doc = orjson.loads(f.read())
        n = None
        del doc
    out = {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0, "spans": n,
           "rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}
    print(json.dumps(out))


def floor(path):
    import subprocess

    res = {}
    for what in ("orjson", "ours"):
        load0 = os.getloadavg()
        r = subprocess.run([sys.executable, __file__, "--child", what, path], capture_output=True, text=True, check=True)
        res[what] = json.loads(r.stdout.strip().splitlines()[-1])
        print(f"{what:7s} {res[what]['wall']:6.1f} s wall, {res[what]['cpu']:6.1f} s CPU, peak RSS "
              f"{res[what]['rss_gb']:.2f} GB (load average before: {load0[0]:.1f} {load0[1]:.1f} {load0[2]:.1f})")
    print(f"ours / orjson.loads: {res['ours']['wall'] / res['orjson']['wall']:.2f}x wall, "
          f"{res['ours']['cpu'] / res['orjson']['cpu']:.2f}x CPU; load average now {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs")


def main(argv=None):
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--child":
        return _child(sys.argv[2], sys.argv[3])
    ap = argparse.ArgumentParser()
    ap.add_argument("--spans", type=int, default=1_000_000)
    ap.add_argument("--shape", choices=["jaeger", "otlp"], default="jaeger")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--floor", action="store_true", help="only ours vs orjson.loads, separate processes")
    args = ap.parse_args(argv)
    os.makedirs(DATA, exist_ok=True)
    path = os.path.join(DATA, f"traces_{args.spans}.{args.shape}.json" + ("l" if args.shape == "otlp" else ""))
    if not os.path.exists(path):
        t, (n, _) = timed(make_jaeger if args.shape == "jaeger" else make_otlp, args.spans, path)
        print(f"wrote {n:,} spans to {path} in {t:.1f} s")
    size = os.path.getsize(path)
    if args.floor:
        print(f"file: {size / 1e6:.0f} MB")
        return floor(path)
    from forensics.traces import load_traces
    import forensics.traces.load as L

    warnings.simplefilter("ignore")
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    t_ours, ts = timed(load_traces, path)
    n = len(ts.spans)
    print(f"file: {size / 1e6:.0f} MB, {n:,} spans, {len(ts.tags):,} tags, {ts.spans['trace_id'].nunique():,} traces")
    import resource

    cpu_ours = CPU["load_traces"]
    print(f"forensics load_traces (GC paused):  {t_ours:6.1f} s wall, {cpu_ours:6.1f} s CPU "
          f"({n / cpu_ours:,.0f} spans per CPU second), peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.1f} GB")
    del ts
    gc.collect()
    real_disable = gc.disable
    L.gc.disable = lambda: None  # measure what pausing the collector buys
    try:
        t_gc, ts = timed(load_traces, path)
    finally:
        L.gc.disable = real_disable
    del ts
    gc.collect()
    print(f"forensics load_traces (GC running): {t_gc:6.1f} s wall, {CPU['load_traces']:6.1f} s CPU "
          f"-> pausing GC is {CPU['load_traces'] / cpu_ours:.1f}x faster (CPU)")
    if not args.no_baseline and args.shape == "jaeger":
        t_base, (ns, nt) = timed(baseline_jaeger, path)
        print(f"baseline json.load + json_normalize: {t_base:6.1f} s wall, {CPU['baseline_jaeger']:6.1f} s CPU "
              f"({ns:,} spans, {nt:,} tags) -> forensics is {CPU['baseline_jaeger'] / cpu_ours:.1f}x faster (CPU) "
              "and also builds trees, logs, references")


if __name__ == "__main__":
    main()
