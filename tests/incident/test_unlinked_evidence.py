"""An incident of unrelated evidence (what an analyst may drop into one folder): the postmortem must not
present time order as a chain of causes, nor a file's modification time as when a crash happened."""
from types import SimpleNamespace

import pandas as pd

from forensics.incident.postmortem import Step, chain_statement, impact

T0 = pd.Timestamp("2021-01-21 11:58:34", tz="UTC")
MTIME = "file mtime (unreliable: when the file was last written or copied, not when it was taken)"


def _step(name, family, time, source="artifact", links=()):
    return Step(artifact=name, family=family, time=time, severity="error", headline="x", events=1,
                time_source=source, links_in=list(links))


def test_steps_no_link_joins_are_a_list_in_time_order_with_their_gaps():
    steps = [_step("postgresql.log", "postgres", T0), _step("traces.json", "traces", T0 + pd.Timedelta(days=545))]
    text = chain_statement(steps)
    assert text.startswith("No link joins any two of these steps, so this is a list in time order, not a chain")
    assert "ordered by time only, 13,080 h later" in text


def test_a_step_dated_by_its_file_mtime_has_no_place_in_the_order():
    steps = [_step("traces.json", "traces", T0), _step("core.txt", "crashes", T0 + pd.Timedelta(days=9), MTIME)]
    text = chain_statement(steps)
    assert "core.txt is dated only by the file's modification time: order unknown" in text
    assert "later" not in text
    assert steps[1].unreliable_time and not steps[0].unreliable_time


def test_a_linked_chain_is_not_called_a_list():
    link = {"to": "traces.json", "summary": [{"type": "trace-id", "links": 1, "confidence": 0.95, "reason": "r",
                                              "identity": False}]}
    steps = [_step("traces.json", "traces", T0), _step("app.log", "crashes", T0 + pd.Timedelta(seconds=3),
                                                       links=[link])]
    text = chain_statement(steps)
    assert not text.startswith("No link") and "[trace-id, confidence 0.95]" in text


def test_impact_says_a_crash_dated_by_mtime_happened_at_an_unknown_time():
    tl = pd.DataFrame({"kind": ["crash"], "time": [T0], "artifact": ["core.txt"], "crash_class": ["abort"],
                       "detail": ["SIGABRT"], "time_source": [MTIME]})
    inc = SimpleNamespace(window=(T0, T0), manifest_window=(None, None), loaded=lambda *a: [], timeline=tl)
    crash = [line for line in impact(inc) if line.startswith("Crash")]
    assert crash == ["Crash (abort) at an unknown time (the file's modification time, 2021-01-21 11:58:34.000 UTC, "
                     "is all there is) in core.txt: SIGABRT"]


def test_one_request_is_neither_slow_nor_fast():
    import os

    from forensics.incident.postmortem import request_stats
    from forensics.traces import load_traces

    ts = load_traces(os.path.join(os.path.dirname(__file__), "..", "..", "sample_data", "traces",
                                  "checkout.jaeger.json"))
    one = ts.trace(ts.spans["trace_id"].iloc[0])
    st = request_stats(one)
    assert st["requests"] == 1 and st["slow_threshold_us"] is None
    assert request_stats(ts)["slow_threshold_us"] is not None


def test_trace_findings_without_a_failed_root_do_not_speak_of_failing_traces():
    import os

    from forensics.traces import analysis, load_traces

    ts = load_traces(os.path.join(os.path.dirname(__file__), "..", "..", "sample_data", "traces",
                                  "checkout.jaeger.json"))
    assert any(line.startswith("Failures:") for line in analysis.findings(ts))
    ts.spans.loc[ts.spans["is_root"], "error"] = False      # the same errors, none at a root
    lines = analysis.findings(ts)
    assert not any(line.startswith("Failures:") for line in lines)
    assert any(line.startswith("No request failed at its root span; the most common error span is") for line in lines)


def test_a_single_heap_file_is_described_not_refused(tmp_path):
    """An incident with one heap artifact: the report shows what the heap held (largest first, with shares)
    and says growth is unknown — not only that a diff 'could not be made'."""
    import os
    import shutil

    from forensics.incident.report import write_report

    here = os.path.join(os.path.dirname(__file__), "..", "..", "sample_data", "memory")
    shutil.copy(os.path.join(here, "jcmd_histo_t0.txt"), tmp_path / "histo.txt")
    html = open(write_report(str(tmp_path), str(tmp_path / "report.html"))["path"], encoding="utf-8").read()
    assert "holds one point in time" in html and "What the heap held, largest first" in html
    assert "could not be made" not in html


def test_pasted_crashes_alone_have_no_window_and_no_order():
    tl = pd.DataFrame({"kind": ["crash", "crash"], "time": [T0, T0], "artifact": ["a.txt", "b.txt"],
                       "crash_class": ["abort", "abort"], "detail": ["SIGABRT", "SIGABRT"], "time_source": [MTIME] * 2})
    inc = SimpleNamespace(window=(T0, T0), manifest_window=(None, None), loaded=lambda *a: [], timeline=tl)
    assert impact(inc)[0].startswith("Window: unknown — no event carries a clock of its own")
    steps = [_step("a.txt", "crashes", T0, MTIME), _step("b.txt", "crashes", T0, MTIME)]
    assert chain_statement(steps).startswith("No link joins any two of these steps and none has a clock of its own")


def test_open_question_of_an_undated_step_says_its_order_is_unknown():
    from forensics.incident.postmortem import open_questions

    steps = [_step("traces.json", "traces", T0), _step("core.txt", "crashes", T0, MTIME)]
    inc = SimpleNamespace(links=[], window=(T0, T0), manifest_window=(None, None),
                          timeline=pd.DataFrame(columns=["artifact", "severity", "kind", "time"]),
                          loaded=lambda *a: [], artifacts=[])
    q = open_questions(inc, steps, {})[0]
    assert q.endswith("joins them; and core.txt is dated only by the file's modification time: order unknown.")
