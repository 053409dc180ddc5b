"""Charts and pickers for heap diffs (matplotlib; ipywidgets in notebooks).

>>> fig = growth_bars(heap_diff([a, b]).table)       # doctest: +SKIP
"""
from __future__ import annotations

import html
import os

import matplotlib.pyplot as plt
import pandas as pd

from ..sections import is_set, runs  # noqa: F401  (notebooks call plots.runs)


def _fmt_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)


def growth_bars(table: pd.DataFrame, value: str | None = None, top: int = 10, ax=None, title: str | None = None):
    """Horizontal bars of growth per type/site (``retained_delta`` when present, else ``bytes_delta``)."""
    if value is None:
        value = "retained_delta" if "retained_delta" in table and table["retained_delta"].notna().any() else "bytes_delta"
    df = table[["name", value]].dropna().sort_values(value, ascending=False).head(top).iloc[::-1]
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 0.45 * max(len(df), 3) + 1))
    else:
        fig = ax.figure
    labels = [n if len(n) <= 50 else "…" + n[-49:] for n in df["name"]]
    colors = ["#c0392b" if v > 0 else "#2e86c1" for v in df[value]]
    ax.barh(labels, df[value], color=colors)
    for y, v in enumerate(df[value]):
        ax.text(v, y, " " + _fmt_bytes(v), va="center", fontsize=8)
    ax.set_xlabel(f"{value} (bytes)")
    ax.set_title(title or f"Growth by type: {value}")
    ax.margins(x=0.25)
    fig.tight_layout()
    return fig


def new_vs_deleted(table: pd.DataFrame, names: list[str], ax=None, title: str = "Objects new vs deleted"):
    """Paired bars of ``new_count`` and ``deleted_count`` (V8): churn has equal bars, a leak only new ones."""
    df = table.set_index("name").reindex(names)[["new_count", "deleted_count"]].fillna(0)
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 0.5 * len(df) + 1.2))
    else:
        fig = ax.figure
    y = range(len(df))
    ax.barh([i + 0.2 for i in y], df["new_count"], height=0.4, label="new", color="#c0392b")
    ax.barh([i - 0.2 for i in y], df["deleted_count"], height=0.4, label="deleted", color="#2e86c1")
    ax.set_yticks(list(y), df.index)
    ax.set_xlabel("objects")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig


def leak_picker(leaks: pd.DataFrame, snapshot=None, graph=None):
    """A dropdown over leak clusters showing each one's retainer path (and the full path table when a
    snapshot is given). Returns the widget; in a plain terminal returns ``None``."""
    try:
        import ipywidgets as W
    except ImportError:  # pragma: no cover
        return None
    from .v8diff import retainer_path

    options = [(f"#{r.rank} {r.leak_class} — {r.retained_bytes:,} B ({r.owner})", i) for i, r in enumerate(leaks.itertuples())]
    dd = W.Dropdown(options=options, description="cluster", layout=W.Layout(width="95%"))
    out = W.Output()

    def show(change=None):
        r = leaks.iloc[dd.value]
        out.clear_output()
        with out:
            from IPython.display import HTML, display

            steps = html.escape(r["retainer_path"]).replace(" --", "<br>&nbsp;&nbsp;--")
            display(HTML(f"<b>holds:</b> {html.escape(r['holds'])}<br><b>path:</b><br><code>{steps}</code>"))
            if snapshot is not None:
                display(retainer_path(snapshot, int(r["example_id"]), graph))

    dd.observe(show, names="value")
    show()
    return W.VBox([dd, out])


# --------------------------------------------------------------------------- which sections apply
# `forensics report` injects None for inputs an incident does not have (an incident may hold tracemalloc
# diffs but no V8 snapshots), so each section of the notebook asks here first and says when it cannot run.
def given(*paths) -> list:
    """The inputs that are set (not None, not empty), in order.

    >>> given("a.heapsnapshot", None, "")
    ['a.heapsnapshot']
    """
    return [p for p in paths if is_set(p)]


def sections(baseline=None, target=None, final=None, control_before=None, control_after=None,
             **other_runtimes) -> dict[str, str | None]:
    """Which parts of the heap growth notebook can run: section → None, or the sentence saying why it is skipped.

    ``other_runtimes`` are the lists of non-V8 files by label (JVM=[...], tracemalloc=[...], ...).

    >>> sections(None, None, None, tracemalloc=["diff.txt"])["growth"]
    'Skipped: the V8 comparison needs a BASELINE and a TARGET snapshot, and they are not set.'
    >>> sections(None, None, None, tracemalloc=["diff.txt"])["other"] is None
    True
    """
    def need(section: str, names: dict) -> str | None:
        missing = [n for n, v in names.items() if not given(v)]
        if not missing:
            return None
        names_ = [f"a {n}" for n in missing]
        what = names_[0] if len(names_) == 1 else ", ".join(names_[:-1]) + " and " + names_[-1]
        return f"Skipped: {section} needs {what} snapshot, and {'it is' if len(missing) == 1 else 'they are'} not set."

    why = {"growth": need("the V8 comparison", {"BASELINE": baseline, "TARGET": target}),
           "leaks": need("finding leak candidates", {"BASELINE": baseline, "TARGET": target, "FINAL": final}),
           "control": need("the control comparison", {"CONTROL_BEFORE": control_before, "CONTROL_AFTER": control_after})}
    why["path"] = why["leaks"] and "Skipped: without leak candidates there is no retainer path to show."
    why["churn_plot"] = None if (why["growth"] is None or why["control"] is None) else \
        "Skipped: the new-versus-deleted chart needs V8 snapshots, and none are set."
    why["other"] = None if any(given(v) for v in other_runtimes.values()) else \
        f"Skipped: no {', '.join(other_runtimes) or 'other runtime'} files are set."
    return why


def runtime_diffs(top: int = 0, **inputs) -> list[tuple[str, str, object]]:
    """``(label, heading, HeapDiff)`` for each non-empty list of files, by label (JVM=[...], tracemalloc=[...]).

    Files that are already diffs (tracemalloc ``compare_to`` print-outs, pprof ``-base`` reports) are shown
    one by one; snapshots are diffed together (the first and the last two when more than three are given).
    ``heading`` is the diff's kind, followed by the file name when a diff file is shown on its own.
    """
    from .diff import heap_diff
    from .load import load_heap

    out = []
    for label, files in inputs.items():
        files = given(*(files or []))
        if not files:
            continue
        if len(files) > 1 and any(load_heap(f).is_diff for f in files):
            for f in files:
                d = heap_diff([f], top=top)
                out.append((f"{label} ({os.path.basename(f)})", f"{d.kind} {os.path.basename(f)}", d))
        else:
            d = heap_diff(files if len(files) <= 3 else [files[0], *files[-2:]], top=top)
            out.append((label, d.kind, d))
    return out


def churn_figure(control=None, leak=None, control_names=("ChurnItem",), leak_names=("LeakyCacheEntry", "ChurnItem")):
    """New-versus-deleted bars for the control and the leak phase, whichever tables are given."""
    panels = [(t, list(n), title) for t, n, title in ((control, control_names, "control: churn only"),
                                                      (leak, leak_names, "leak phase")) if t is not None]
    fig, axes = plt.subplots(1, max(len(panels), 1), figsize=(5.5 * max(len(panels), 1), 2.8), squeeze=False)
    for ax, (table, names, title) in zip(axes[0], panels):
        new_vs_deleted(table, names, ax=ax, title=title)
    return fig


def runtime_growth_figure(diffs, top: int = 5):
    """One bar chart of bytes gained per :func:`runtime_diffs` entry."""
    fig, axes = plt.subplots(1, max(len(diffs), 1), figsize=(5 * max(len(diffs), 1), 3.2), squeeze=False)
    for ax, (label, _, d) in zip(axes[0], diffs):
        t = d.table.assign(name=d.table["name"].str.replace(r"^.*/", "", regex=True))
        growth_bars(t, value="bytes_delta", top=top, ax=ax, title=f"{label}: bytes gained")
    return fig


def hprof_sections(before=None, after=None) -> dict[str, str | None]:
    """Which HPROF parts of the notebook can run (section → None, or why skipped).

    >>> hprof_sections(None, "after.hprof")["hprof_diff"]
    'Skipped: the heap dump comparison needs HPROF_BEFORE and HPROF_AFTER, and HPROF_BEFORE is not set.'
    """
    why = {"hprof": None if is_set(after) else "Skipped: the Java heap dump sections need HPROF_AFTER, and it is not set."}
    why["hprof_diff"] = why["hprof"] or (None if is_set(before) else
                                         "Skipped: the heap dump comparison needs HPROF_BEFORE and HPROF_AFTER, "
                                         "and HPROF_BEFORE is not set.")
    return why


def hprof_findings(before, after, top: int = 10) -> dict:
    """Everything the notebook shows about Java heap dumps: ``diff`` (:class:`HeapDiff` or None), ``dump``,
    ``graph``, ``suspects``, ``paths`` (one root path per suspect), ``strings``, ``arrays``, ``roots``."""
    from . import hprof_analysis as A
    from .diff import heap_diff
    from .hprof_graph import gc_roots, heap_graph, path_to_root
    from .load import load_heap

    dump = load_heap(after).snapshot
    g = heap_graph(dump)
    suspects = A.leak_suspects(dump, g, top=top)
    paths = []
    for r in suspects.itertuples():
        addr = int(r.accumulation_point.rsplit("@0x", 1)[1], 16)
        from .hprof_graph import find_object
        paths.append(path_to_root(dump, g, find_object(dump, addr)))
    return {"diff": heap_diff([before, after], top=0) if is_set(before) else None, "dump": dump, "graph": g,
            "suspects": suspects, "paths": paths, "strings": A.duplicate_strings(dump, top=top),
            "arrays": A.big_arrays(dump, g, top=5), "roots": gc_roots(dump, g)}


def suspect_sentence(row) -> str:
    """One suspect in words, from its row (every figure from the dump)."""
    return (f"{row['suspect']} retains {row['retained']:,} bytes ({row['share']:.0%} of the heap). The memory accumulates "
            f"in {row['accumulation_point']} ({row['accumulated']:,} bytes), kept by {row['holder']}; below it: "
            f"{row['leaking_objects']:,} × {row['leaking_class'] or '(no user-level class)'}.")
