"""Fresh exports from other projects (tests/traces/wild/<owner>+<repo>/, listed in wild/MANIFEST.tsv):
an independent count of what each file holds, and the loader measured against it.

    .venv/bin/python tests/traces/fresh_exports.py [--json OUT]

The count uses only the standard library's ``json`` and the formats' own definitions, never
``forensics``: a span is a span object (Jaeger: an element of ``spans``; OTLP: an element of
``resourceSpans[].scopeSpans[].spans`` — also under the proto field names ``resource_spans``/
``scope_spans``, the older ``instrumentationLibrarySpans`` and Tempo's ``batches``); for Zipkin (v1 and
v2) a span is an id within a trace — the client and server halves of a shared RPC span, and pieces
reported separately, are one span. Traces are distinct trace ids (hex, lower case, a zero high half
dropped; base64 ids as proto JSON writes them are decoded). Jaeger's dependency rule (a call per span
whose parent — the first reference to a span of the same trace, OTLP's ``parentSpanId`` — belongs to
another service) is re-stated here for the Jaeger and OTLP files. Files of no trace format are
reported as such (the loader must then raise a clear ``ArtifactError``).
"""
from __future__ import annotations

import argparse
import base64
import binascii
import csv
import glob
import json
import os
import sys
import warnings
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
OTLP_KINDS = {0: "internal", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
WILD = os.path.join(HERE, "wild")


def fresh_files() -> list[str]:
    """The fresh exports' paths under wild/ (the manifest rows in an ``owner+repo/`` folder)."""
    with open(os.path.join(WILD, "MANIFEST.tsv"), newline="") as f:
        return sorted(r["file"] for r in csv.DictReader(f, delimiter="\t") if "+" in r["file"].split("/")[0])


def values(text: str) -> list:
    """Every top-level JSON value in the text: one document, JSON Lines or values one after another."""
    dec, i, out = json.JSONDecoder(), 0, []
    while True:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        if i >= len(text):
            return out
        v, i = dec.raw_decode(text, i)
        out.append(v)


def hex_id(v, width: int = 0) -> str | None:
    """An id as lower-case hex: hex text as is, base64 text (proto JSON bytes) decoded, integers (Zipkin
    thrift) as unsigned 64-bit; a 32-digit id with a zero high half shortened to 16 digits."""
    if v is None or v == "":
        return None
    if isinstance(v, int):
        h = f"{v & (2**64 - 1):016x}"
    else:
        s = str(v)
        if all(c in "0123456789abcdefABCDEF" for c in s):
            h = s.lower()
        else:
            try:
                h = base64.b64decode(s, validate=True).hex()
            except (binascii.Error, ValueError):
                h = s
    if width:
        h = h.rjust(width, "0")
    if len(h) == 32 and h.startswith("0" * 16):
        h = h[16:]
    return h


def first(d: dict, *keys):
    for k in keys:
        if k in d and d[k] is not None:
            return d[k]
    return None


def otlp_service(resource) -> str | None:
    for a in (resource or {}).get("attributes") or []:
        if a.get("key") == "service.name":
            v = a.get("value") or {}
            return first(v, "stringValue", "string_value")
    return None


class Count:
    def __init__(self):
        self.format = None
        self.spans = []          # (trace, span, parent refs [(trace, span)], service)
        self.zipkin = set()      # Zipkin: (trace, id)
        self.zipkin_parent = {}  # Zipkin: (trace, id) -> parent id
        self.not_trace = None
        self.kinds, self.errors, self.invalid = Counter(), 0, 0

    def add(self, fmt, trace, span, refs, service, kind="internal", error=False):
        self.format = self.format or fmt
        if not trace or not span or not trace.strip("0") or not span.strip("0"):
            self.invalid += 1  # OTLP/Jaeger: an empty or all-zero id is no valid span
            return
        self.spans.append((trace, span, refs, service))
        self.kinds[kind] += 1
        self.errors += bool(error)

    # -- formats -------------------------------------------------------------------------------
    def otlp(self, doc, key):
        for rs in doc.get(key) or []:
            svc = otlp_service(rs.get("resource"))
            for sk in ("scopeSpans", "scope_spans", "instrumentationLibrarySpans", "instrumentation_library_spans"):
                for ss in rs.get(sk) or []:
                    for s in ss.get("spans") or []:
                        t = hex_id(first(s, "traceId", "trace_id"))
                        p = hex_id(first(s, "parentSpanId", "parent_span_id"))
                        k = s.get("kind", 1)
                        k = OTLP_KINDS[k] if isinstance(k, int) else str(k).replace("SPAN_KIND_", "").lower()
                        code = (s.get("status") or {}).get("code")
                        self.add("otlp", t, hex_id(first(s, "spanId", "span_id")), [(t, p)] if p else [], svc,
                                 "internal" if k == "unspecified" else k, code in (2, "STATUS_CODE_ERROR"))

    def jaeger_trace(self, tr):
        procs = tr.get("processes") or {}
        for s in tr.get("spans") or []:
            self.jaeger_span(s, procs)

    def jaeger_span(self, s, procs=None, process=None):
        t = hex_id(first(s, "traceID", "traceId", "trace_id"))
        proc = first(s, "process") or (procs or {}).get(s.get("processID")) or process or {}
        svc = first(proc, "serviceName", "service_name")
        refs = [(hex_id(first(r, "traceID", "traceId", "trace_id")) or t, hex_id(first(r, "spanID", "spanId", "span_id")))
                for r in s.get("references") or []]
        p = first(s, "parentSpanID", "parentSpanId", "parent_span_id")
        if not refs and p not in (None, "", 0, "0"):
            refs = [(t, hex_id(p))]
        tags = {}
        for kv in s.get("tags") or ():
            tags.setdefault(kv.get("key"), first(kv, "value", "vStr", "v_str", "vBool", "v_bool"))
        for k, v in (s.get("tag") or {}).items():  # Elasticsearch documents: dots written as '@'
            tags.setdefault(k.replace("@", "."), v)
        self.add("jaeger", t, hex_id(first(s, "spanID", "spanId", "span_id")), refs, svc,
                 str(tags.get("span.kind") or "internal").lower(), tags.get("error") in (True, "true"))

    def zipkin_span(self, s):
        t = hex_id(first(s, "traceId", "trace_id"))
        i = hex_id(first(s, "id"))
        self.format = self.format or ("zipkin v1" if ("annotations" in s and "localEndpoint" not in s
                                                       and "kind" not in s) or "binary_annotations" in s
                                      or "binaryAnnotations" in s else "zipkin v2")
        self.zipkin.add((t, i))
        p = hex_id(first(s, "parentId", "parent_id"))
        if p and p != "0000000000000000":
            self.zipkin_parent.setdefault((t, i), p)

    def walk(self, v, where="$"):
        if isinstance(v, list):
            for k, x in enumerate(v):
                self.walk(x, f"{where}[{k}]")
            return
        if not isinstance(v, dict):
            self.not_trace = self.not_trace or f"{where}: {type(v).__name__}, not a trace object"
            return
        for key in ("resourceSpans", "resource_spans", "batches"):
            if key in v and isinstance(v[key], list):
                return self.otlp(v, key)
        if "result" in v and isinstance(v["result"], dict):
            return self.walk(v["result"], where + ".result")
        if isinstance(v.get("traces"), dict) and "meta" in v:  # a Grafana Faro payload: traces = OTLP TracesData
            return self.walk(v["traces"], where + ".traces")
        if "data" in v and isinstance(v["data"], (list, dict)):
            return self.walk(v["data"], where + ".data")
        if "traceID" in v and "spans" in v:
            return self.jaeger_trace(v)
        if "batch" in v and isinstance(v["batch"], dict):
            return self.walk(v["batch"], where + ".batch")
        if "spans" in v and isinstance(v["spans"], list):  # a Jaeger Batch / api_v2 {"spans": [...]}
            for s in v["spans"]:
                self.jaeger_span(s, process=v.get("process"))
            return
        if "spanID" in v or "spanId" in v and "operationName" in v:
            return self.jaeger_span(v)
        if ("traceId" in v or "trace_id" in v) and "id" in v:
            return self.zipkin_span(v)
        if set(v) <= {"index", "create"}:  # an Elasticsearch bulk action line
            return
        self.not_trace = self.not_trace or f"{where}: object with keys {sorted(v)[:6]}"

    # -- figures -------------------------------------------------------------------------------
    def figures(self) -> dict:
        if self.zipkin:
            orphans = sum((t, p) not in self.zipkin for (t, _), p in self.zipkin_parent.items())
            return {"format": self.format, "spans": len(self.zipkin), "traces": len({t for t, _ in self.zipkin}),
                    "orphans": orphans}
        if not self.spans:
            why = f"{self.invalid} span(s), none with valid ids" if self.invalid else "no spans"
            return {"format": None, "spans": 0, "traces": 0, "not_trace": self.not_trace or why}
        have = {(t, s) for t, s, _, _ in self.spans}
        svc = {}
        for t, s, _, v in self.spans:
            svc.setdefault((t, s), v)
        edges, orphans = Counter(), 0
        for t, s, refs, v in self.spans:
            same = [r for r in refs if r[0] == t]
            parent = next((r for r in same if r in have), None)
            if refs and parent is None and same:
                orphans += 1
            if parent is not None and svc[parent] != v:
                edges[(svc[parent], v)] += 1
        return {"format": self.format, "spans": len(self.spans), "traces": len({t for t, *_ in self.spans}),
                "orphans": orphans, "jaeger_edges": sorted([p, c, n] for (p, c), n in edges.items()),
                "kinds": dict(sorted(self.kinds.items())), "errors": self.errors}


# Zipkin's DependencyLinker links of the Zipkin files, [parent, child, calls, errors], as zipkin's own code
# gives them: for the v2 files zipkin-lens' linker (run with node, as sample_data/generate/traces/reference/
# describes) and zipkin's Java JSON_V2 decoder + DependencyLinker; for the v1 files zipkin's JSON_V1 decoder
# (V1SpanConverter) + DependencyLinker (zipkin@878ce2a1 compiled with javac against gson, run here; the thrift-as-
# JSON files renamed to v1 JSON by forensics.traces.zipkin_v1.from_thrift first). zipkin_v1_error_batch.json:
# zipkin refuses the file (parentId "BADID" is not hex), so its label was read from the annotations.
ZIPKIN_LINKS = {
    "census-instrumentation+opencensus-service/sample1.json": [["frontend", "backend", 1, 0]],  # lens
    "open-telemetry+opentelemetry-collector/sample2.json": [],  # lens
    "open-telemetry+opentelemetry-collector/zipkin_v2_single.json": [["frontend", "backend", 1, 0]],  # lens
    "census-instrumentation+opencensus-service/zipkin_v1_local_component.json": [],
    "census-instrumentation+opencensus-service/zipkin_v1_multiple_batches.json": [
        ["front-proxy", "service1", 1, 0], ["service1", "service2", 1, 0]],
    "census-instrumentation+opencensus-service/zipkin_v1_single_batch.json": [
        ["front-proxy", "service1", 1, 0], ["service1", "service2", 1, 0]],
    "influxdata+telegraf/brave-tracer-example.json": [["test", "test", 1, 0]],
    "influxdata+telegraf/cli_microservice.json": [["svc2", "postgresql", 1, 0]],
    "influxdata+telegraf/distributed_trace_sample.json": [],
    "influxdata+telegraf/threespans.json": [],
    "open-telemetry+opentelemetry-collector/zipkin_v1_error_batch.json": [],
    "open-telemetry+opentelemetry-collector/zipkin_v2_notimestamp.json": [],
    # held-out batch (labelled before it was measured)
    "census-instrumentation+opencensus-service/zipkin_v1_thrift_single_batch.json": [
        ["front-proxy", "service1", 1, 0], ["service1", "service2", 1, 0]],
    "census-instrumentation+opencensus-service/zipkin_v1_thrift_local_component.json": [],
}
# The second batch, collected after the rules above were written and labelled before it was measured.
HELD_OUT = {
    "hypertrace+hypertrace-ingester/JaegerTrace-Hotrod.json", "hyperdxio+hyperdx/input.json",
    "SigNoz+signoz/large-trace.json", "SigNoz+signoz/traces_data.jsonl", "SigNoz+signoz/alert_data.jsonl",
    "census-instrumentation+opencensus-service/proto_batch_no_binary_tags_01.json",
    "census-instrumentation+opencensus-service/proto_batch_no_binary_tags_02.json",
    "census-instrumentation+opencensus-service/ocproto_batch_01.json",
    "census-instrumentation+opencensus-service/zipkin_v1_thrift_single_batch.json",
    "census-instrumentation+opencensus-service/zipkin_v1_thrift_local_component.json",
    "Arize-ai+phoenix/pxi_suggestion_traces.json", "elastic+apm-data/span-links.ndjson",
}
# The third batch (Grafana Agent, iLogtail): labelled, and committed, before it was measured.
HELD_OUT_2 = {
    "grafana+agent/faro_payload.json", "grafana+agent/faro_payload_2.json", "grafana+agent/otelcol_otlp_payload.json",
    "grafana+agent/trace-sample.json", "grafana+agent/unpaired-trace-sample.json", "alibaba+ilogtail/trace.json",
}
# Where the loader deliberately reads a file otherwise than the reference: {file: (its answer, why)}.
KNOWN_DIFFERENCES = {
    "influxdata+telegraf/cli_microservice.json": (
        [["cli", "svc2", 1, 0], ["svc2", "PostgreSQL", 1, 0]],
        "zipkin lower-cases service names at ingest (we keep them as written), and hangs a shared server span "
        "whose client half (same id) is absent under the trace root, dropping the cli -> svc2 call its parentId "
        "names (we follow the parentId)"),
}
LABELS = os.path.join(WILD, "fresh_labels.json")


def labels() -> dict:
    """Our committed labels: the independent count of each file and the Zipkin links above."""
    with open(LABELS) as f:
        return json.load(f)


def count(path: str) -> dict:
    """The independent figures of one file (see the module doc)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    c = Count()
    try:
        docs = values(text)
    except json.JSONDecodeError as e:
        return {"format": None, "spans": 0, "traces": 0, "not_trace": f"not JSON: {e}"}
    for d in docs:
        c.walk(d)
    return c.figures()


def measure(path: str) -> dict:
    """What the loader makes of the file: loaded or the error, spans, traces, orphans, warnings, edges."""
    from forensics.artifact import ArtifactError, ArtifactWarning
    from forensics.traces import load_traces
    from forensics.traces.edges import dependencies

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArtifactWarning)
        try:
            ts = load_traces(path)
        except ArtifactError as e:
            return {"loaded": False, "error": str(e).split(": ", 1)[-1][:160]}
        except Exception as e:  # noqa: BLE001 — measured, not hidden: a bare exception is a failure
            return {"loaded": False, "error": f"{type(e).__name__}: {e}"[:160], "bare": True}
    sp = ts.spans
    key = sp["trace_id"] + "/" + sp["raw_span_id"].fillna(sp["span_id"])
    raw = dict(zip(sp["trace_id"] + "/" + sp["span_id"], key))
    orphan_ids = len({raw[t + "/" + s] for t, s in zip(ts.orphans["trace_id"], ts.orphans["span_id"])})
    dep = dependencies(ts, rule="jaeger", peers=False)
    links = dependencies(ts) if set(ts.shapes) == {"zipkin"} else None
    return {"loaded": True, "shapes": list(ts.shapes), "rows": len(sp), "ids": int(key.nunique()),
            "traces": int(sp["trace_id"].nunique()), "orphans": len(ts.orphans), "orphan_ids": orphan_ids,
            "warnings": len(ts.provenance.warnings), "services": sorted(set(sp["service"].astype(str))),
            "kinds": dict(sorted(sp["kind"].value_counts().items())), "errors": int(sp["error"].sum()),
            "jaeger_edges": sorted([r.parent, r.child, int(r.calls)] for r in dep.itertuples()),
            "zipkin_links": None if links is None else
            sorted([r.parent, r.child, int(r.calls), int(r.errors)] for r in links.itertuples())}


def verdict(ind: dict, got: dict) -> str:
    """ok / the first disagreement between the independent count and the loader."""
    if ind.get("not_trace"):
        if got["loaded"]:
            return f"loads a non-trace file ({got['rows']} spans)"
        return "bare exception" if got.get("bare") else "ok (clear error)"
    if not got["loaded"]:
        return "fails: " + got["error"]
    zipkin = ind["format"].startswith("zipkin")
    spans = got["ids"] if zipkin else got["rows"]
    if spans != ind["spans"]:
        return f"spans {spans} != {ind['spans']}"
    if got["traces"] != ind["traces"]:
        return f"traces {got['traces']} != {ind['traces']}"
    orphans = got["orphan_ids"] if zipkin else got["orphans"]
    if orphans != ind["orphans"]:
        return f"orphans {orphans} != {ind['orphans']}"
    if not zipkin and got["jaeger_edges"] != ind["jaeger_edges"]:
        return f"edges {got['jaeger_edges']} != {ind['jaeger_edges']}"
    if not zipkin and (got["kinds"], got["errors"]) != (ind["kinds"], ind["errors"]):
        return f"kinds/errors {got['kinds']}/{got['errors']} != {ind['kinds']}/{ind['errors']}"
    if zipkin and got["zipkin_links"] != sorted(ind["zipkin_links"]):
        known = KNOWN_DIFFERENCES.get(ind.get("file"))
        if known and got["zipkin_links"] == sorted(known[0]):
            return "known difference: " + known[1]
        return f"links {got['zipkin_links']} != {sorted(ind['zipkin_links'])}"
    return "ok"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", help="write the per-file figures here")
    ap.add_argument("--write-labels", action="store_true",
                    help="(re)write wild/fresh_labels.json from the independent count and ZIPKIN_LINKS")
    args = ap.parse_args(argv)
    sys.path.insert(0, os.path.dirname(HERE))
    from support import wild_file

    rows, ok, made = [], 0, {}
    known = {} if args.write_labels else labels()
    for rel in fresh_files():
        p = wild_file("traces", rel)
        if p is None:
            print(f"{rel}: absent")
            continue
        if args.write_labels:
            ind = made[rel] = dict(count(str(p)), zipkin_links=ZIPKIN_LINKS.get(rel))
        else:
            ind = dict(known[rel], file=rel)
        got = measure(str(p))
        v = verdict(ind, got)
        ok += v.startswith("ok")
        rows.append({"file": rel, "independent": ind, "loader": got, "verdict": v})
        spans = got.get("rows", "-")
        print(f"{rel:75s} {str(ind['format']):10s} {ind['spans']:>4} {spans!s:>4} "
              f"orph={got.get('orphans', '-')} warn={got.get('warnings', '-')}  {v}")
    diff = sum(r["verdict"].startswith("known difference") for r in rows)
    print(f"{ok} of {len(rows)} files agree with the independent count "
          f"({len({r['file'].split('/')[0] for r in rows})} projects); {diff} known difference(s)")
    if args.write_labels:
        with open(LABELS, "w") as f:
            json.dump(made, f, indent=1, sort_keys=True)
            f.write("\n")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
