"""Which sections of the heap growth notebook run when inputs are missing (an incident has tracemalloc diffs only)."""
import matplotlib

matplotlib.use("Agg")

from forensics.memory import plots  # noqa: E402
from forensics.memory.diff import heap_diff  # noqa: E402

from support import SAMPLE  # noqa: E402

MEM = SAMPLE / "memory"
INCIDENT_DIFFS = [str(SAMPLE / "incidents" / "catalog-leak" / f) for f in ("heap-diff-1.txt", "heap-diff-2.txt")]


def test_given_drops_none_and_empty():
    assert plots.given("a", None, "", [], "b") == ["a", "b"]


def test_sample_defaults_run_every_section():
    why = plots.sections("b", "t", "f", "cb", "ca", JVM=["j"], tracemalloc=["t"], PPROF=[])
    assert all(v is None for v in why.values())


def test_incident_without_v8_snapshots(capsys):
    why = plots.sections(None, None, None, None, None, JVM=None, tracemalloc=INCIDENT_DIFFS, PPROF=None)
    assert "BASELINE and a TARGET" in why["growth"] and "FINAL" in why["leaks"] and why["path"]
    assert "CONTROL_BEFORE and a CONTROL_AFTER" in why["control"] and why["churn_plot"]
    assert why["other"] is None
    assert plots.runs(why, "growth") is False and capsys.readouterr().out.strip() == why["growth"]
    assert plots.runs(why, "other") is True and capsys.readouterr().out == ""


def test_partial_v8_inputs():
    why = plots.sections("b", "t", None, None, None, JVM=[])
    assert why["growth"] is None and why["churn_plot"] is None
    assert why["leaks"] == "Skipped: finding leak candidates needs a FINAL snapshot, and it is not set."
    assert why["other"].startswith("Skipped: no JVM files")


def test_runtime_diffs_shows_each_diff_file_alone():
    diffs = plots.runtime_diffs(JVM=None, tracemalloc=INCIDENT_DIFFS, PPROF=[])
    assert [label for label, _, _ in diffs] == ["tracemalloc (heap-diff-1.txt)", "tracemalloc (heap-diff-2.txt)"]
    assert all(d.kind == "tracemalloc-text" and heading.endswith(".txt") for _, heading, d in diffs)
    assert all(d.table["name"].iloc[0].endswith("catalog_svc.py:47") for _, _, d in diffs)
    plots.runtime_growth_figure(diffs)


def test_runtime_diffs_diffs_snapshots_together():
    files = [str(MEM / f"jcmd_histo_t{i}.txt") for i in range(3)]
    (label, heading, d), = plots.runtime_diffs(JVM=files)
    ref = heap_diff(files, top=0)
    assert (label, heading) == ("JVM", ref.kind) and d.verdict == ref.verdict and d.table.equals(ref.table)


def test_churn_figure_with_one_panel():
    files = [str(MEM / f"jcmd_histo_t{i}.txt") for i in range(2)]
    table = heap_diff(files, top=0).table.assign(new_count=1, deleted_count=0)
    fig = plots.churn_figure(None, table, leak_names=list(table["name"].head(2)))
    assert len(fig.axes) == 1
