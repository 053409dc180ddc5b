"""Copy the wild trace corpus (real exports written by others) into tests/traces/wild/.

    .venv/bin/python sample_data/generate/traces/wild_corpus.py [--mirrors /work/.mirror]

Each file is taken with ``git show COMMIT:PATH`` from a bare clone of its public repository
(`fetch` brings them to ``<mirrors>/<owner>+<name>/repo``) and listed in
``tests/traces/wild/SOURCES.json`` with repository, path, commit, licence, size and SHA-256, and in
``tests/traces/wild/MANIFEST.tsv`` (the listing ``tools/wild_corpus.py check|restore|pack`` reads; its rows
for the two labels extracted from the reference repositories' tests are kept as they are). The files are
third-party material and stay out of git (``tests/traces/wild/.gitignore``); only the listings are committed.
All sources are Apache-2.0. Grafana Tempo's trace test data (modules/generator/processor/
servicegraphs/testdata) is AGPL-3.0-only, so it is not copied: its rule is cited in docs instead.

The expected labels (edges, critical paths) were made by the reference tools' own code with a harness kept
out of git (it builds fetched code); ``reference/README.md`` says what it ran.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
WILD = os.path.join(ROOT, "tests", "traces", "wild")

UI = "packages/jaeger-ui/src"
STATS = f"{UI}/components/TracePage/TraceStatistics/tableValuesTestTrace"
SOURCES = {
    "jaegertracing/jaeger-ui": ("c321fb32bbca0bdce9e8c2d40afb35abbf54c12b", "Apache-2.0", [
        (f"{UI}/components/TracePage/TraceFlamegraph/testTrace.json", "jaeger-ui/flamegraph_testTrace.json"),
        (f"{UI}/components/TracePage/TraceGraph/testTrace.json", "jaeger-ui/tracegraph_testTrace.json"),
        (f"{UI}/components/TracePage/TraceTimelineViewer/genaiTestTrace.json", "jaeger-ui/genaiTestTrace.json"),
        (f"{UI}/utils/fixtures/otlp2jaeger-in.json", "jaeger-ui/otlp2jaeger-in.json"),
        (f"{UI}/utils/fixtures/otlp2jaeger-out.json", "jaeger-ui/otlp2jaeger-out.json"),
        (f"{UI}/utils/fixtures/otlp2jaeger-multi-in.json.txt", "jaeger-ui/otlp2jaeger-multi-in.jsonl"),
        (f"{UI}/utils/fixtures/otlp2jaeger-multi-in-combined.json", "jaeger-ui/otlp2jaeger-multi-in-combined.json"),
        (f"{UI}/utils/fixtures/oltp2jaeger-multi-out.json", "jaeger-ui/oltp2jaeger-multi-out.json"),
    ] + [(f"{STATS}/{n}.json", f"jaeger-ui/stats_{n}.json") for n in (
        "spanAmongEachOtherGroupedAndSpans", "spanLongerAsParent", "spansAmongEachOther", "spansAmongEachOtherGrouped",
        "testTrace", "testTraceNormal", "traceWithMultipleSpansWithTheSameValueInDifferentTags",
        "traceWithOverlappingChildren", "traceWithOverlappingChildrenLongerThanParent",
        "traceWithSingleChildLongerThanParentAndStartsAfterParent", "traceWithThreeShortChildren",
        "traceWithThreeShortOverlappingChildren", "traceWithTwoChildrenStartedAtTraceStart",
        "traceWithTwoNonOverlappingChildren")]),
    "jaegertracing/jaeger": ("8498073ff809b1a3923521920a9b1b017ea97ecf", "Apache-2.0", [
        ("internal/uimodel/converter/v1/json/fixtures/ui_01.json", "jaeger/ui_01.json"),
        ("internal/uimodel/converter/v1/json/fixtures/domain_01.json", "jaeger/domain_01.json"),
        ("internal/converter/thrift/jaeger/fixtures/domain_03.json", "jaeger/thrift_domain_03.json"),
        ("cmd/jaeger/internal/extension/jaegerquery/internal/fixture/otlp2jaeger-in.json", "jaeger/otlp2jaeger-in.json"),
        ("cmd/jaeger/internal/extension/jaegerquery/internal/fixture/otlp2jaeger-out.json", "jaeger/otlp2jaeger-out.json"),
        ("cmd/anonymizer/app/uiconv/fixtures/trace_success.json", "jaeger/anonymizer_trace_success.json"),
        ("internal/storage/integration/fixtures/traces/example_trace.json", "jaeger/integration_example_trace.json"),
        # OTLP JSON written by Jaeger v2: an api_v3 GetTrace response, storage fixtures with links and events
        ("cmd/jaeger/internal/extension/jaegerquery/internal/apiv3/snapshots/GetTrace.json", "otlp/jaeger_apiv3_GetTrace.json"),
        ("internal/storage/integration/fixtures/traces/link_attributes_trace.json", "otlp/jaeger_link_attributes_trace.json"),
        ("internal/storage/integration/fixtures/traces/log_tags_trace.json", "otlp/jaeger_log_tags_trace.json"),
    ]),
    # the OTLP/JSON example of the protocol's own repository (upper-case hex ids, integer nanoseconds)
    "open-telemetry/opentelemetry-proto": ("ac2c4b5d1f3a6079de62f9afec860158ecc8af09", "Apache-2.0", [
        ("examples/trace.json", "otlp/proto_examples_trace.json"),
    ]),
    "openzipkin/zipkin": ("878ce2a1fad54ca941d17fdcf2e1d924b148eb1f", "Apache-2.0", [
        (f"zipkin-lens/testdata/{n}.json", f"zipkin/{n}.json") for n in (
            "ascend", "envoy", "messaging-kafka", "messaging", "messaging2", "simple-db-p6", "skew",
            "smartthings-mobile-web-install", "smartthings-oauth-authorization", "yelp")]),
}


def git_show(mirrors, repo, commit, path) -> bytes:
    gitdir = os.path.join(mirrors, repo.replace("/", "+"), "repo")
    return subprocess.run(["git", "--git-dir", gitdir, "show", f"{commit}:{path}"], check=True,
                          capture_output=True).stdout


def write_manifest(listing):
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import wild_corpus as tool  # tools/wild_corpus.py: the one manifest format

    manifest = os.path.join(WILD, "MANIFEST.tsv")
    kept = [r for r in tool.rows(manifest) if r["file"].startswith("labels/")] if os.path.exists(manifest) else []
    tool.write_manifest(manifest, kept + [
        {"file": x["file"], "bytes": x["size"], "sha256": x["sha256"],
         "source": f"{x['repo']}@{x['commit']}:{x['path']}", "licence": x["licence"]} for x in listing])


OTLP_KINDS = {2: "server", 3: "client", 4: "producer", 5: "consumer"}


def otlp_labels():
    """labels/otlp_spans.json: what each OTLP file of the corpus says, read straight from its JSON by the
    OTLP/JSON rules (ids as hex, times in ns, ``service.name`` from the resource, status code 2 = error) and
    Jaeger's OTLP translation for links (``opentracing.ref_type`` = child_of gives CHILD_OF, else FOLLOWS_FROM)
    — independent of the loader, which the tests compare against it."""
    out = {}
    for name in sorted(os.listdir(os.path.join(WILD, "otlp"))):
        with open(os.path.join(WILD, "otlp", name)) as f:
            doc = json.load(f)
        doc = doc.get("result", doc)
        spans = []
        for rs in doc["resourceSpans"]:
            attrs = {a["key"]: a["value"] for a in (rs.get("resource") or {}).get("attributes") or []}
            service = attrs.get("service.name", {}).get("stringValue") or "unknown-service"
            for ss in rs["scopeSpans"]:
                for s in ss["spans"]:
                    start = int(s.get("startTimeUnixNano") or 0)
                    end = int(s.get("endTimeUnixNano") or start)
                    refs = ([["CHILD_OF", s["traceId"].lower(), s["parentSpanId"].lower()]] if s.get("parentSpanId") else [])
                    for ln in s.get("links") or []:
                        rt = {a["key"]: a["value"].get("stringValue") for a in ln.get("attributes") or []}.get(
                            "opentracing.ref_type")
                        refs.append(["CHILD_OF" if rt == "child_of" else "FOLLOWS_FROM", ln["traceId"].lower(),
                                     ln["spanId"].lower()])
                    code = (s.get("status") or {}).get("code", 0)
                    spans.append({"trace_id": s["traceId"].lower(), "span_id": s["spanId"].lower(), "service": service,
                                  "operation": s.get("name", ""), "kind": OTLP_KINDS.get(s.get("kind"), "internal"),
                                  "start_us": start // 1000, "duration_us": (end - start) // 1000,
                                  "error": code == 2, "events": [e.get("name") for e in s.get("events") or []],
                                  "attributes": len(s.get("attributes") or []), "references": refs})
        out[f"otlp/{name}"] = spans
    with open(os.path.join(WILD, "labels", "otlp_spans.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--mirrors", default="/work/.mirror")
    ap.add_argument("--labels-only", action="store_true", help="only rewrite labels/otlp_spans.json")
    args = ap.parse_args(argv)
    if args.labels_only:
        return otlp_labels()
    listing = []
    for repo, (commit, licence, files) in SOURCES.items():
        for path, dest in files:
            data = git_show(args.mirrors, repo, commit, path)
            out = os.path.join(WILD, dest)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with open(out, "wb") as f:
                f.write(data)
            listing.append({"file": dest, "repo": repo, "path": path, "commit": commit, "licence": licence,
                            "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    with open(os.path.join(WILD, "SOURCES.json"), "w") as f:
        json.dump(listing, f, indent=1)
        f.write("\n")
    write_manifest(listing)
    otlp_labels()
    print(f"{len(listing)} files, {sum(x['size'] for x in listing) / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
