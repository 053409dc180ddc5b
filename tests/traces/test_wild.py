"""The wild corpus (tests/traces/wild, see its README): real exports from the jaeger-ui, jaeger and
zipkin repositories, checked against labels made by the reference tools' own code (jaeger-ui's critical
path and zipkin-lens' DependencyLinker run with node; sample_data/generate/traces/reference/README.md).

The exports and the two labels extracted from those repositories' tests are third-party material, listed in
wild/MANIFEST.tsv and not committed: each test that reads one skips, saying so, when it is not on this
machine. The labels we computed (critical paths, links, the edge cases) are committed."""
import json
import os
import warnings

import pytest

from forensics.artifact import ArtifactWarning
from forensics.traces import load_traces
from forensics.traces.critical_path import critical_path
from forensics.traces.edges import dependencies, zipkin_links
from support import missing_wild_reason, require_wild, wild_file

WILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wild")
LABELS = os.path.join(WILD, "labels")


def label(name):
    """One of our labels (committed)."""
    with open(os.path.join(LABELS, name)) as f:
        return json.load(f)


def extracted_cases(name, id_key="name"):
    """The cases of a label extracted from a reference repository's tests (third-party, not committed) as
    parameters; one skipped parameter, with the reason, when the file is not on this machine."""
    p = wild_file("traces", f"labels/{name}")
    if p is None:
        reason = f"labels/{name}: " + missing_wild_reason("traces", 1, 1)
        return [pytest.param(None, id="absent", marks=pytest.mark.skip(reason=reason))]
    with open(p) as f:
        return [pytest.param(c, id=c[id_key]) for c in json.load(f)]


def corpus(*rels):
    """The paths of corpus files; skips the test when any is not on this machine."""
    found = require_wild("traces", rels)
    return [str(found[r]) for r in rels]


def load(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArtifactWarning)
        return load_traces(path)


def sections(ts):
    return {tid: [{"spanID": r.span_id, "sectionStart": int(r.start_us), "sectionEnd": int(r.end_us)}
                  for r in g.itertuples()] for tid, g in critical_path(ts).groupby("trace_id", sort=False)}


def links(df):
    return sorted((r.parent, r.child, int(r.calls), int(r.errors)) for r in df.itertuples())


def expected_links(ls):
    return sorted((x["parent"], x["child"], x["callCount"], x.get("errorCount", 0)) for x in ls)


SOURCES = json.load(open(os.path.join(WILD, "SOURCES.json")))


def test_sources_are_recorded_and_unchanged():
    import hashlib

    paths = dict(zip([s["file"] for s in SOURCES], corpus(*[s["file"] for s in SOURCES])))
    for s in SOURCES:
        with open(paths[s["file"]], "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == s["sha256"], s["file"]
        assert s["licence"] == "Apache-2.0" and len(s["commit"]) == 40


@pytest.mark.parametrize("src", SOURCES, ids=[s["file"] for s in SOURCES])
def test_every_wild_file_loads(src):
    ts = load(*corpus(src["file"]))
    assert len(ts.spans) > 0 and ts.spans["service"].notna().all()


@pytest.mark.parametrize("case", extracted_cases("jaeger_ui_critical_path_cases.json"))
def test_jaeger_ui_critical_path_test_cases(case, tmp_path):
    trace = json.loads(json.dumps(case["trace"]))
    tid = trace.get("traceID") or "t"
    for s in trace["spans"]:  # the cases leave traceID out: the same trace everywhere
        s.setdefault("traceID", tid)
        for r in s.get("references") or []:
            r.setdefault("traceID", tid)
    p = tmp_path / "case.json"
    p.write_text(json.dumps({"data": [trace]}))
    got = sections(load(str(p)))
    want = [dict(x, spanID=x["spanID"].lower()) for x in case["expected"]]  # ids are read as lower-case hex
    assert got.get(tid.lower(), []) == want


CP_FILES = label("jaeger_ui_critical_paths.json")


@pytest.mark.parametrize("name", sorted(CP_FILES))
def test_critical_path_equals_jaeger_ui_on_wild_files(name):
    got = sections(load(*corpus(name)))
    for tid, want in CP_FILES[name].items():
        want = [dict(x, spanID=x["spanID"].lower()) for x in want]
        assert got.get(tid.lower(), []) == want, tid


EDGE = label("jaeger_ui_edge_critical_paths.json")


@pytest.mark.parametrize("name", sorted(EDGE))
def test_critical_path_equals_jaeger_ui_on_edge_cases(name, tmp_path):
    # multi-root, missing root, FOLLOWS_FROM (also listed before CHILD_OF), overflowing children,
    # producer/consumer, ties, duplicates — sections as jaeger-ui's own code computes them, quirks
    # included (follows_from_listed_first: a section that ends before it starts)
    p = tmp_path / f"{name}.json"
    p.write_text(json.dumps(EDGE[name]["document"]))
    assert sections(load(str(p))).get("edge", []) == EDGE[name]["sections"]


ZIPKIN_CP = label("jaeger_ui_zipkin_critical_paths.json")


@pytest.mark.parametrize("name", sorted(ZIPKIN_CP))
def test_critical_path_equals_jaeger_ui_on_zipkin_files(name):
    # jaeger-ui's critical path of the Zipkin file as Jaeger shows it (its Zipkin receiver and span-id
    # deduplicator: every child of a shared id goes under the server half) — ours with Jaeger's rule;
    # by default Zipkin files follow zipkin-lens' tree, which differs on yelp.json only
    for rule in ("jaeger", "auto"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ArtifactWarning)
            ts = load_traces(*corpus(name), shared_rule=rule)
        row = {sid: i for i, sid in enumerate(ts.spans["span_id"])}
        cp = critical_path(ts)
        for tid, want in ZIPKIN_CP[name].items():
            got = [(row[r.span_id], int(r.start_us), int(r.end_us)) for r in cp[cp["trace_id"] == tid].itertuples()]
            same = got == [(x["index"], x["sectionStart"], x["sectionEnd"]) for x in want]
            assert same == (rule == "jaeger" or name != "zipkin/yelp.json"), (rule, tid)


LINKER_CASES = [c for c in extracted_cases("zipkin_linker_cases.json") if c.values[0] is None or c.values[0]["puts"]]


@pytest.mark.parametrize("case", LINKER_CASES)
def test_zipkin_dependency_linker_test_cases(case, tmp_path):
    # each putTrace becomes its own trace (the test re-puts one trace to check the sums)
    traces = [[dict(s, traceId=f"{i:x}{s['traceId']}") for s in spans] for i, spans in enumerate(case["puts"])]
    p = tmp_path / "z.json"
    p.write_text(json.dumps(traces))
    ts = load(str(p))
    assert links(dependencies(ts)) == expected_links(case["expected"])  # Zipkin input: Zipkin's linker
    assert dependencies(ts).attrs["rule"] == "zipkin"


ZIPKIN_FILES = label("zipkin_links.json")
# zipkin-lens' tree quirks are followed (pieces of one span merged, one node per non-shared id, one
# root per trace); KNOWN would list any file where we still differ: none.
KNOWN: dict = {}


@pytest.mark.parametrize("name", sorted(ZIPKIN_FILES))
def test_zipkin_links_equal_zipkin_lens_on_wild_files(name):
    got = set(links(zipkin_links(load(*corpus(name)))))
    want = set(expected_links(ZIPKIN_FILES[name]))
    missing, extra = KNOWN.get(name, (set(), set()))
    assert want - got == missing and got - want == extra


def test_smartthings_oauth_service_map_is_whole():
    # issue 12: "on a 175-span SmartThings trace 1 edge of 9" — now every edge zipkin-lens draws
    ts = load(*corpus("zipkin/smartthings-oauth-authorization.json"))
    got = {(p, c) for p, c, *_ in links(dependencies(ts))}
    want = {(x["parent"], x["child"]) for x in ZIPKIN_FILES["zipkin/smartthings-oauth-authorization.json"]}
    assert got == want and len({(p, c) for p, c in got if p != c}) == 9


def test_yelp_edges_point_from_caller_to_callee():
    ts = load(*corpus("zipkin/yelp.json"))
    got = {(p, c) for p, c, *_ in links(dependencies(ts))}
    assert ("yelp-main", "mobile_api") in got and ("mobile_api", "yelp-main") not in got
    assert ("unknown", "yelp_main/api_proxy") in got  # a shared span with a different name on each side


@pytest.mark.parametrize("otlp, jaeger", [
    ("jaeger-ui/otlp2jaeger-in.json", "jaeger-ui/otlp2jaeger-out.json"),
    ("jaeger-ui/otlp2jaeger-multi-in.jsonl", "jaeger-ui/oltp2jaeger-multi-out.json"),
    ("jaeger-ui/otlp2jaeger-multi-in-combined.json", "jaeger-ui/oltp2jaeger-multi-out.json"),
    ("jaeger/otlp2jaeger-in.json", "jaeger/otlp2jaeger-out.json"),
])
def test_otlp_reads_as_jaeger_converted_it(otlp, jaeger):
    # Jaeger's /api/transform fixtures: OTLP in, Jaeger UI JSON out — the same spans either way
    a, b = map(load, corpus(otlp, jaeger))
    cols = ["trace_id", "span_id", "parent_span_id", "service", "operation", "kind", "start_us", "duration_us", "error"]
    key = ["trace_id", "span_id"]
    sa = a.spans[cols].sort_values(key, ignore_index=True)
    sb = b.spans[cols].sort_values(key, ignore_index=True)
    assert sa.astype(str).equals(sb.astype(str))
    assert sections(a) == sections(b)


OTLP_FILES = label("otlp_spans.json")  # read straight from each file's JSON (wild_corpus.py otlp_labels)


@pytest.mark.parametrize("name", sorted(OTLP_FILES))
def test_wild_otlp_files_read_as_their_json_says(name):
    # OTLP JSON by others: the protocol's own example (upper-case ids), Jaeger v2's api_v3 response and its
    # storage fixtures (links carrying opentracing.ref_type, events without a name)
    ts = load(*corpus(name))

    def tid(t):  # a 128-bit id with a zero high half is shown on 16 digits, as Jaeger does
        return t[16:] if t.startswith("0" * 16) else t

    want = OTLP_FILES[name]
    got = ts.spans
    assert len(got) == len(want) and ts.shapes == ["otlp"]
    for row, w in zip(got.itertuples(), want):
        assert (row.trace_id, row.span_id, row.service, row.operation, row.kind, row.start_us, row.duration_us,
                bool(row.error)) == (tid(w["trace_id"]), w["span_id"], w["service"], w["operation"], w["kind"],
                                     w["start_us"], w["duration_us"], w["error"])
        i = row.Index
        events = ts.logs.loc[ts.logs["span"] == i, "event"]
        assert [None if isinstance(e, float) else e for e in events] == w["events"]  # (NaN: no name)
        assert (ts.tags["span"] == i).sum() == w["attributes"]
        refs = ts.references[ts.references["span"] == i]
        assert [list(r) for r in refs[["ref_type", "ref_trace_id", "ref_span_id"]].itertuples(index=False)] == \
            [[t, tid(rt), rs] for t, rt, rs in w["references"]]
