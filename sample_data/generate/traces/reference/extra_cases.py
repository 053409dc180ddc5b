"""Hand-written edge-case traces (bad or unusual shapes, as the project allows hand-written fixtures for)
that jaeger-ui's own critical-path code labels (README.md here; the harness is kept out of git): multi-root
traces, a missing root, FOLLOWS_FROM children and FOLLOWS_FROM listed before CHILD_OF, overflowing
children, producer/consumer, equal end times, a child covering its parent, duplicate span ids."""


def span(sid, start, dur, refs=(), kind=None):
    tags = [{"key": "span.kind", "type": "string", "value": kind}] if kind else []
    return {"traceID": "edge", "spanID": sid, "operationName": sid, "startTime": start, "duration": dur,
            "references": [{"refType": t, "traceID": "edge", "spanID": r} for t, r in refs],
            "tags": tags, "logs": [], "processID": "p1"}


C, F = "CHILD_OF", "FOLLOWS_FROM"
CASES = {
    "two_roots": [span("a", 1000, 100), span("a1", 1010, 30, [(C, "a")]), span("b", 1200, 50),
                  span("b1", 1210, 60, [(C, "b")])],
    "missing_root": [span("x", 1000, 100, [(C, "gone")]), span("y", 1010, 40, [(C, "x")])],
    "missing_root_and_a_real_root": [span("r", 900, 400), span("x", 1000, 100, [(C, "gone")]),
                                     span("y", 1010, 40, [(C, "x")]), span("z", 950, 30, [(C, "r")])],
    "follows_from_child": [span("x", 1000, 100), span("f", 1050, 30, [(F, "x")]),
                           span("g", 1055, 10, [(C, "f")])],
    "follows_from_overflowing": [span("x", 1000, 100), span("f", 1080, 200, [(F, "x")])],
    "follows_from_listed_first": [span("x", 1000, 100), span("y", 1010, 60, [(C, "x")]),
                                  span("z", 1020, 70, [(F, "y"), (C, "x")])],
    "child_of_missing_then_follows_from": [span("x", 1000, 100), span("z", 1020, 50, [(C, "gone"), (F, "x")])],
    "overflowing_both_sides": [span("x", 1000, 100), span("a", 950, 200, [(C, "x")]),
                               span("b", 960, 30, [(C, "a")]), span("c", 1090, 40, [(C, "a")])],
    "after_and_before_parent": [span("x", 1000, 100), span("a", 1100, 10, [(C, "x")]),
                                span("b", 900, 100, [(C, "x")]), span("c", 1020, 20, [(C, "x")])],
    "producer_consumer": [span("x", 1000, 100, kind="server"), span("p", 1010, 10, [(C, "x")], "producer"),
                          span("c", 1015, 200, [(C, "p")], "consumer"), span("q", 1016, 150, [(C, "c")])],
    "consumer_under_server": [span("x", 1000, 100, kind="server"), span("c", 1010, 50, [(C, "x")], "consumer")],
    "equal_ends": [span("x", 1000, 100), span("late", 1030, 40, [(C, "x")]), span("early", 1020, 50, [(C, "x")])],
    "sequential": [span("x", 1000, 100), span("a", 1010, 20, [(C, "x")]), span("b", 1040, 30, [(C, "x")]),
                   span("c", 1075, 5, [(C, "x")])],
    "duplicate_ids": [span("x", 1000, 100), span("a", 1010, 30, [(C, "x")]), span("a", 1050, 40, [(C, "x")]),
                      span("y", 1015, 15, [(C, "a")])],
    "zero_durations": [span("x", 1000, 0), span("a", 1000, 0, [(C, "x")])],
    "deep_chain": [span(f"s{i}", 1000 + i, 200 - 2 * i, [(C, f"s{i - 1}")] if i else []) for i in range(50)],
}


def documents():
    """One Jaeger UI JSON document per case: {"data": [trace]}."""
    return {name: {"data": [{"traceID": "edge", "spans": spans,
                             "processes": {"p1": {"serviceName": "svc", "tags": []}}}]}
            for name, spans in CASES.items()}
