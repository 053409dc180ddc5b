"""Critical paths and self times on hand-checked cases, worked out by hand from Jaeger UI's rules
(components/TracePage/CriticalPath and utils/compute-span-self-time)."""
import warnings

import pytest

from forensics.artifact import ArtifactWarning
from forensics.traces import load_traces
from forensics.traces.critical_path import critical_path, self_time

C, F = "CHILD_OF", "FOLLOWS_FROM"


def sections(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArtifactWarning)
        ts = load_traces(path)
    cp = critical_path(ts)
    return [(r.span_id, r.start_us, r.end_us) for r in cp.itertuples()], ts


def test_step_back_to_the_sibling_that_finished_before(make_trace):
    # X [1,101] with A [10,50] and C [20,60]: C finishes last; A ended after C started, so it is
    # not on the path (jaeger-ui's test2 shape).
    p = make_trace([dict(id="x", start=1, dur=100), dict(id="a", start=10, dur=40, refs=[(C, "x")]),
                    dict(id="c", start=20, dur=40, refs=[(C, "x")])])
    got, _ = sections(p)
    assert got == [("x", 60, 101), ("c", 20, 60), ("x", 1, 20)]


def test_sequential_children_are_all_on_the_path(make_trace):
    p = make_trace([dict(id="x", start=1000, dur=100), dict(id="a", start=1010, dur=20, refs=[(C, "x")]),
                    dict(id="b", start=1040, dur=30, refs=[(C, "x")])])
    got, _ = sections(p)
    assert got == [("x", 1070, 1100), ("b", 1040, 1070), ("x", 1030, 1040), ("a", 1010, 1030), ("x", 1000, 1010)]
    assert sum(e - s for _, s, e in got) == 100


def test_overflowing_children_are_clipped_or_dropped(make_trace):
    p = make_trace([
        dict(id="x", start=1000, dur=100),
        dict(id="a", start=1050, dur=100, refs=[(C, "x")]),   # ends after x: clipped to 1100
        dict(id="b", start=980, dur=30, refs=[(C, "x")]),     # starts before x: clipped to 1000
        dict(id="d", start=1120, dur=10, refs=[(C, "x")]),    # starts after x ended: dropped
        dict(id="e", start=1121, dur=4, refs=[(C, "d")]),     # ... with its subtree
    ])
    got, _ = sections(p)
    assert got == [("a", 1050, 1100), ("x", 1010, 1050), ("b", 1000, 1010)]


def test_consumer_under_producer_is_not_blocking(make_trace):
    p = make_trace([
        dict(id="x", start=1000, dur=100, kind="server"),
        dict(id="p", start=1010, dur=10, kind="producer", refs=[(C, "x")]),
        dict(id="c", start=1015, dur=185, kind="consumer", refs=[(C, "p")]),
        dict(id="q", start=1016, dur=150, refs=[(C, "c")]),
    ])
    got, _ = sections(p)
    assert got == [("x", 1020, 1100), ("p", 1010, 1020), ("x", 1000, 1010)]


def test_follows_from_child_is_still_on_the_path(make_trace):
    # Today's Jaeger UI only skips producer->consumer; a FOLLOWS_FROM child inside its parent counts.
    p = make_trace([dict(id="x", start=1000, dur=100),
                    dict(id="f", start=1050, dur=30, refs=[(F, "x")])])
    got, ts = sections(p)
    assert got == [("x", 1080, 1100), ("f", 1050, 1080), ("x", 1000, 1050)]
    assert ts.spans.set_index("span_id").loc["f", "parent_ref_type"] == "FOLLOWS_FROM"


def test_missing_parent_makes_a_second_root_without_a_critical_path(make_trace):
    # jaeger-ui: the orphan root's OTel parent ("gone") is not in the span map, so
    # sanitizeOverFlowingChildren drops it and its subtree: no sections for that root.
    p = make_trace([dict(id="x", start=1000, dur=100),
                    dict(id="o", start=1200, dur=100, refs=[(C, "gone")]),
                    dict(id="z", start=1210, dur=40, refs=[(C, "o")])])
    got, ts = sections(p)
    assert got == [("x", 1000, 1100)]
    assert ts.orphans[["span_id", "missing_parent"]].values.tolist() == [["o", "gone"]]
    assert ts.spans["is_root"].sum() == 2


def test_duplicate_ids_are_renamed_and_references_go_to_the_first(make_trace):
    p = make_trace([dict(id="x", start=1000, dur=100),
                    dict(id="a", start=1010, dur=30, refs=[(C, "x")]),
                    dict(id="a", start=1050, dur=40, refs=[(C, "x")]),
                    dict(id="y", start=1015, dur=15, refs=[(C, "a")])])
    got, ts = sections(p)
    assert ts.spans["span_id"].tolist() == ["x", "a", "a_1", "y"]
    assert ts.spans.set_index("span_id").loc["y", "parent_span_id"] == "a"
    assert got == [("x", 1090, 1100), ("a_1", 1050, 1090), ("x", 1040, 1050), ("a", 1030, 1040),
                   ("y", 1015, 1030), ("a", 1010, 1015), ("x", 1000, 1010)]


def test_equal_ends_pick_the_earliest_starting_child(make_trace):
    p = make_trace([dict(id="x", start=1000, dur=100), dict(id="late", start=1030, dur=40, refs=[(C, "x")]),
                    dict(id="early", start=1020, dur=50, refs=[(C, "x")])])
    got, _ = sections(p)
    assert got[:2] == [("x", 1070, 1100), ("early", 1020, 1070)]


def test_first_resolvable_reference_is_the_parent(make_trace):
    p = make_trace([dict(id="x", start=1000, dur=100), dict(id="y", start=1010, dur=50, refs=[(C, "x")]),
                    dict(id="z", start=1020, dur=10, refs=[(C, "missing"), (F, "y"), (C, "x")])])
    _, ts = sections(p)
    s = ts.spans.set_index("span_id")
    assert s.loc["z", "parent_span_id"] == "y" and not s.loc["z", "orphan"]
    assert ts.references["is_parent"].tolist() == [True, False, True, False]


@pytest.mark.parametrize("children, expected", [
    ([(10, 40), (30, 120)], 10),     # overlapping, second overhangs the parent
    ([(10, 50), (20, 30)], 60),      # nested parallel children count once
    ([(-10, 20), (50, 60)], 70),     # starts before the parent
    ([(110, 120)], 100),             # after the parent: ignored
    ([(0, 100)], 0),
])
def test_self_time(make_trace, children, expected):
    spans = [dict(id="p", start=1000, dur=100)]
    spans += [dict(id=f"c{i}", start=1000 + a, dur=b - a, refs=[(C, "p")]) for i, (a, b) in enumerate(children)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArtifactWarning)
        ts = load_traces(make_trace(spans))
    st = self_time(ts)
    assert st.iloc[0] == expected
    assert (st.iloc[1:] == ts.spans["duration_us"].iloc[1:]).all()


def test_deep_trace_does_not_recurse(make_trace):
    n = 3000  # jaeger-ui#2720: recursion overflow on deep traces
    spans = [dict(id=f"s{i}", start=1000 + i, dur=2 * n - 2 * i, refs=[(C, f"s{i - 1}")] if i else [])
             for i in range(n)]
    got, ts = sections(make_trace(spans))
    assert ts.spans["depth"].max() == n - 1
    assert sum(e - s for _, s, e in got) == 2 * n


def test_child_covering_its_parent_takes_the_whole_path(make_trace):
    # Clipped to the parent on both sides; the parent keeps no section of its own.
    p = make_trace([dict(id="x", start=2000, dur=100), dict(id="c", start=1990, dur=160, refs=[(C, "x")]),
                    dict(id="g", start=1995, dur=50, refs=[(C, "c")])])  # clipped to [2000, 2045]
    got, _ = sections(p)
    assert got == [("c", 2045, 2100), ("g", 2000, 2045)]
