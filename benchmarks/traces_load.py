"""Time loading a 1M-span trace export, against the parse floor (orjson.loads of the same file, GC
off) and the json.load + pandas.json_normalize baseline.

    .venv/bin/python benchmarks/traces_load.py --floor [--formats jaeger,otlp,otlp-jsonl,zipkin,zipkin-jsonl]
                                               [--repeat 2] [--spans 1000000]
    .venv/bin/python benchmarks/traces_load.py [--spans 1000000] [--shape jaeger|otlp] [--no-baseline]

``--floor`` (the issue's figure) runs, for each format and each repeat, ``load_traces`` and the parse floor
— ``orjson.loads(open(f).read())``, for JSON Lines ``orjson.loads`` of every line, garbage collector off —
each in a fresh child process, alternating, so each peak RSS is its own and both see the same machine.
It prints every run, then a summary per format: ours and orjson wall / CPU / peak RSS (median of the
repeats, min-max beside), the ratio ours/orjson of the medians, and the verdict against the target
(ours wall <= orjson wall, ours peak RSS <= 3 GB); the load average before each run is printed with it.

The exports are made from the generated checkout traces (sample_data/traces/checkout.*.json): their traces
are repeated with fresh trace/span ids and shifted times until the file holds the requested number of
spans; each is written once to benchmarks/data/ (gitignored) and reused. Formats: ``jaeger`` (Jaeger UI
``{"data": [...]}``), ``otlp`` (one OTLP JSON document), ``otlp-jsonl`` (one TracesData per line, as the
Collector's file exporter writes), ``zipkin`` (one v2 span array), ``zipkin-jsonl`` (one trace array a line).

Without ``--floor``: seconds for forensics.traces.load_traces, for the same call with the garbage collector
left on, and for the common notebook baseline (json.load, then pandas.json_normalize of the spans with their
tags) — and the ratios.
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


def _otlp_rounds(n_spans: int):
    """(TracesData of one round with fresh ids and shifted times, spans in it) until n_spans are made."""
    base = json.load(open(os.path.join(ROOT, "sample_data", "traces", "checkout.otlp.json")))
    per_round = sum(len(ss["spans"]) for rs in base["resourceSpans"] for ss in rs["scopeSpans"])
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
                    for ev in s.get("events", []):
                        ev["timeUnixNano"] = str(int(ev["timeUnixNano"]) + k * 1_000_000_000)
        yield doc, per_round
        written += per_round
        k += 1


def make_otlp(n_spans: int, path: str):
    with open(path, "w") as f:  # JSON Lines, as the OTel Collector file exporter writes
        written = 0
        for doc, per_round in _otlp_rounds(n_spans):
            f.write(json.dumps(doc, separators=(",", ":")) + "\n")
            written += per_round
    return written, per_round


def make_otlp_json(n_spans: int, path: str):
    with open(path, "w") as f:  # one TracesData document holding every round's resourceSpans
        f.write('{"resourceSpans":[')
        written = 0
        for doc, per_round in _otlp_rounds(n_spans):
            f.write(("," if written else "") + ",".join(json.dumps(rs, separators=(",", ":")) for rs in doc["resourceSpans"]))
            written += per_round
        f.write("]}")
    return written, per_round


def _zipkin_rounds(n_spans: int):
    base = json.load(open(os.path.join(ROOT, "sample_data", "traces", "checkout.zipkin.json")))
    written, k = 0, 0
    while written < n_spans:
        spans = copy.deepcopy(base)
        for s in spans:
            s["traceId"], s["id"] = _rehex(s["traceId"], k + 1), _rehex(s["id"], k + 1)
            if "parentId" in s:
                s["parentId"] = _rehex(s["parentId"], k + 1)
            s["timestamp"] += k * 1_000_000
            for a in s.get("annotations", []):
                a["timestamp"] += k * 1_000_000
        yield spans
        written += len(spans)
        k += 1


def make_zipkin(n_spans: int, path: str):
    with open(path, "w") as f:  # one v2 span array, as /api/v2/trace/{id} returns (here for many traces)
        f.write("[")
        written = 0
        for spans in _zipkin_rounds(n_spans):
            f.write(("," if written else "") + ",".join(json.dumps(x, separators=(",", ":")) for x in spans))
            written += len(spans)
        f.write("]")
    return written, len(spans)


def make_zipkin_jsonl(n_spans: int, path: str):
    with open(path, "w") as f:  # one trace array per line
        written = 0
        for spans in _zipkin_rounds(n_spans):
            f.write(json.dumps(spans, separators=(",", ":")) + "\n")
            written += len(spans)
    return written, len(spans)


FORMATS = {"jaeger": (make_jaeger, "jaeger.json"), "otlp": (make_otlp_json, "otlp.json"),
           "otlp-jsonl": (make_otlp, "otlp.jsonl"), "zipkin": (make_zipkin, "zipkin.json"),
           "zipkin-jsonl": (make_zipkin_jsonl, "zipkin.jsonl")}


def export_path(fmt: str, n_spans: int) -> str:
    make, suffix = FORMATS[fmt]
    path = os.path.join(DATA, f"traces_{n_spans}.{suffix}")
    if not os.path.exists(path):
        os.makedirs(DATA, exist_ok=True)
        t, (n, _) = timed(make, n_spans, path + ".part")
        os.replace(path + ".part", path)
        print(f"wrote {n:,} spans to {path} in {t:.1f} s")
    return path


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
    """One measurement in this (fresh) process: prints {"wall", "cpu", "rss_gb", ...} as JSON."""
    import resource

    if what == "ours":
        warnings.simplefilter("ignore")
        from forensics.traces import load_traces

        t0, c0 = time.perf_counter(), time.process_time()
        ts = load_traces(path)
        n, reader = len(ts.spans), ts.provenance.details.get("reader", "general")
    else:
        import orjson

        gc.disable()
        t0, c0 = time.perf_counter(), time.process_time()
        with open(path, "rb") as f:
            raw = f.read()
        if path.endswith(".jsonl"):  # JSON Lines: the floor is parsing every line
            doc = [orjson.loads(line) for line in raw.splitlines() if line.strip()]
        else:
            doc = orjson.loads(raw)
        n, reader = None, "orjson"
        del doc, raw
    out = {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0, "spans": n, "reader": reader,
           "rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}
    print(json.dumps(out))


def _median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2


def floor(formats, n_spans, repeat):
    import subprocess

    runs = {}
    paths = {fmt: export_path(fmt, n_spans) for fmt in formats}
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    for fmt in formats:
        path = paths[fmt]
        print(f"--- {fmt}: {path} ({os.path.getsize(path) / 1e6:.0f} MB)")
        for r in range(repeat):
            for what in (("orjson", "ours") if r % 2 == 0 else ("ours", "orjson")):  # alternate who goes first
                load0 = os.getloadavg()[0]
                p = subprocess.run([sys.executable, __file__, "--child", what, path], capture_output=True, text=True)
                if p.returncode != 0:
                    sys.exit(f"{what} on {path} failed:\n{p.stderr[-2000:]}")
                got = json.loads(p.stdout.strip().splitlines()[-1])
                got["load"] = load0
                runs.setdefault(fmt, {}).setdefault(what, []).append(got)
                print(f"  run {r + 1} {what:6s} {got['wall']:6.2f} s wall {got['cpu']:6.2f} s CPU {got['rss_gb']:5.2f} GB "
                      f"peak RSS  [{got['reader']}{', %s spans' % format(got['spans'], ',') if got['spans'] else ''}; "
                      f"load average before {load0:.2f}]")
    print(f"\nsummary ({n_spans:,} spans a file; median of {repeat} runs, [min-max]; load average now "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs)")
    print(f"{'format':13s} {'reader':14s} {'ours wall':>17s} {'ours CPU':>17s} {'ours RSS':>9s}   {'orjson wall':>17s} "
          f"{'orjson CPU':>17s} {'orjson RSS':>10s}   {'wall ratio':>10s} {'CPU ratio':>9s}  target")
    ok_all = True
    for fmt in formats:
        o, j = runs[fmt]["ours"], runs[fmt]["orjson"]

        def col(rs, k, unit="s"):
            v = [x[k] for x in rs]
            return f"{_median(v):6.2f} [{min(v):.1f}-{max(v):.1f}]" if unit == "s" else f"{max(v):5.2f} GB"

        wr = _median([x["wall"] for x in o]) / _median([x["wall"] for x in j])
        cr = _median([x["cpu"] for x in o]) / _median([x["cpu"] for x in j])
        ok = wr <= 1.0 and max(x["rss_gb"] for x in o) <= 3.0
        ok_all &= ok
        print(f"{fmt:13s} {o[0]['reader']:14s} {col(o, 'wall'):>17s} {col(o, 'cpu'):>17s} {col(o, 'rss_gb', 'gb'):>9s}   "
              f"{col(j, 'wall'):>17s} {col(j, 'cpu'):>17s} {col(j, 'rss_gb', 'gb'):>10s}   {wr:9.2f}x {cr:8.2f}x  "
              f"{'met' if ok else 'NOT met'}")
    print("target (issue 12): ours wall <= orjson.loads wall (GC off) of the same file, ours peak RSS <= 3 GB: "
          + ("met for every format" if ok_all else "NOT met for every format"))


def main(argv=None):
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--child":
        return _child(sys.argv[2], sys.argv[3])
    ap = argparse.ArgumentParser()
    ap.add_argument("--spans", type=int, default=1_000_000)
    ap.add_argument("--shape", choices=["jaeger", "otlp"], default="jaeger")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--floor", action="store_true", help="ours vs orjson.loads, each run in its own process")
    ap.add_argument("--formats", default=",".join(FORMATS), help="with --floor: comma-separated, of " + ", ".join(FORMATS))
    ap.add_argument("--repeat", type=int, default=2, help="with --floor: runs of each (default 2)")
    args = ap.parse_args(argv)
    if args.floor:
        formats = [f.strip() for f in args.formats.split(",") if f.strip()]
        bad = [f for f in formats if f not in FORMATS]
        if bad:
            ap.error(f"unknown format(s) {bad}; known: {', '.join(FORMATS)}")
        return floor(formats, args.spans, max(1, args.repeat))
    path = export_path("jaeger" if args.shape == "jaeger" else "otlp-jsonl", args.spans)
    size = os.path.getsize(path)
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
