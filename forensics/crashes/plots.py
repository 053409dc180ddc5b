"""Figures and pickers for the crash triage notebook (matplotlib + ipywidgets).

Artifact text shown in widgets goes through pandas' HTML repr or :func:`html.escape`.
"""
from __future__ import annotations

import html
import os

import matplotlib.pyplot as plt
import pandas as pd

from ..sections import is_set, runs  # noqa: F401  (notebooks call plots.runs)
from .classify import NEXT_STEPS

STACK_COLUMNS = ["frame", "function", "norm_function", "repeat", "is_own", "is_wrapper", "source_file", "line",
                 "module"]


def crash_table(crashes: pd.DataFrame) -> pd.DataFrame:
    """The per-file table people read first (file names shortened)."""
    cols = ["file", "signal", "origin", "class", "subclass", "crash_thread", "top_own_frame", "bucket",
            "exploitability"]
    out = crashes[cols].copy()
    out["file"] = out["file"].map(os.path.basename)
    return out


def class_counts(crashes: pd.DataFrame, ax=None):
    """Horizontal bar chart: how many files per class, coloured by exploitability hint."""
    counts = crashes.groupby(["class", "exploitability"]).size().unstack(fill_value=0)
    order = counts.sum(axis=1).sort_values().index
    counts = counts.loc[order]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.35 * len(counts) + 1))
    colours = {"exploitable": "#c0392b", "probably": "#e67e22", "probably not": "#7f8c8d", "unknown": "#95a5a6"}
    left = pd.Series(0, index=counts.index)
    for col in [c for c in colours if c in counts]:
        ax.barh(counts.index, counts[col], left=left, color=colours[col], label=col)
        left = left + counts[col]
    ax.set_xlabel("files")
    ax.set_title("What the processes died of")
    ax.legend(title="exploitability hint", fontsize="small")
    return ax


def bucket_sizes(buckets: pd.DataFrame, top: int = 20, ax=None):
    """Bar chart of the largest buckets (files per bucket)."""
    b = buckets.head(top).iloc[::-1]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.3 * len(b) + 1))
    ax.barh(b["bucket"], b["n_files"], color="#2c3e50")
    ax.set_xlabel("files")
    ax.set_title(f"Largest {len(b)} buckets")
    return ax


def crash_stack(frames: pd.DataFrame, file: str, all_threads: bool = False) -> pd.DataFrame:
    """The crash thread's frames of ``file`` (base name or path), own code marked."""
    fr = frames[(frames["file"] == file) | (frames["file"].map(os.path.basename) == os.path.basename(file))]
    if not all_threads:
        fr = fr[fr["is_crash_thread"]]
    cols = (["thread"] if all_threads else []) + STACK_COLUMNS
    return fr[cols].reset_index(drop=True)


def next_steps(crashes: pd.DataFrame) -> pd.DataFrame:
    """For each class present: how many files, and what to do next."""
    counts = crashes["class"].value_counts()
    return pd.DataFrame({"class": counts.index, "files": counts.to_numpy(),
                         "next step": [NEXT_STEPS.get(c, "") for c in counts.index]})


def stack_picker(crash_set):
    """A dropdown of files; shows the chosen file's verdict and crash-thread stack."""
    import ipywidgets as w
    from IPython.display import display

    names = [os.path.basename(f) for f in crash_set.crashes["file"]]
    dd = w.Dropdown(options=names, description="file", layout=w.Layout(width="60%"))
    all_t = w.Checkbox(value=False, description="all threads")
    out = w.Output()

    def show(*_):
        out.clear_output()
        row = crash_set.crashes[crash_set.crashes["file"].map(os.path.basename) == dd.value].iloc[0]
        with out:
            display(w.HTML(f"<b>{html.escape(str(row['class']))}</b> ({html.escape(str(row['subclass'] or '-'))}) "
                           f"— {html.escape(str(row['reason']))}<br>bucket <code>{html.escape(str(row['bucket']))}"
                           f"</code>: {html.escape(str(row['bucket_why']))}"))
            display(crash_stack(crash_set.frames, dd.value, all_t.value))

    dd.observe(show, names="value")
    all_t.observe(show, names="value")
    show()
    return w.VBox([w.HBox([dd, all_t]), out])


def bucket_pair_picker(crash_set):
    """Two dropdowns; explains why the two files share a bucket or not."""
    import ipywidgets as w

    from .bucket import explain_shared_bucket

    names = [os.path.basename(f) for f in crash_set.crashes["file"]]
    a = w.Dropdown(options=names, description="file A", layout=w.Layout(width="48%"))
    b = w.Dropdown(options=names, value=names[min(1, len(names) - 1)], description="file B",
                   layout=w.Layout(width="48%"))
    out = w.HTML()

    def show(*_):
        out.value = "<pre>" + html.escape(explain_shared_bucket(crash_set.crashes, a.value, b.value)) + "</pre>"

    a.observe(show, names="value")
    b.observe(show, names="value")
    show()
    return w.VBox([w.HBox([a, b]), out])


# --------------------------------------------------------------------------- which sections apply
# `forensics report` injects None for inputs an incident does not have (one transcript, no sample pairs),
# so every section of the notebook asks here first and prints one sentence when it cannot run.
def _loaded_names(crash_set) -> set[str]:
    return {os.path.basename(str(f)) for f in crash_set.crashes["file"]}


def load_transcripts(folder):
    """:func:`~forensics.crashes.load.load_folder`, or an empty crash set when no folder is given."""
    from .load import combine, load_folder

    return load_folder(folder) if is_set(folder) else combine([])


def pair_problem(crash_set, pair, name: str = "pair") -> str | None:
    """None when ``pair`` names two loaded files; else a sentence saying why it cannot be explained.

    >>> pair_problem(crash_set, None, "SAME_BUG")                    # doctest: +SKIP
    'Skipped SAME_BUG: no pair of files was given.'
    """
    if not is_set(pair):
        return f"Skipped {name}: no pair of files was given."
    if isinstance(pair, str) or len(pair) != 2:
        return f"Skipped {name}: it should name exactly two files, got {pair!r}."
    absent = [f for f in pair if not isinstance(f, str) or os.path.basename(f) not in _loaded_names(crash_set)]
    if absent:
        return f"Skipped {name}: {', '.join(map(str, absent))} is not among the loaded transcripts."
    return None


def sections(crash_set, file=None, same_bug=None, different_bugs=None) -> dict[str, str | None]:
    """Which parts of the triage notebook can run: section → None, or the sentence saying why it is skipped.

    >>> sections(load_transcripts(None))["classes"]                   # doctest: +SKIP
    'Skipped: no transcripts were loaded, so there is nothing to count or bucket.'
    """
    n = len(crash_set.crashes)
    none = "Skipped: no transcripts were loaded, so there is nothing to count or bucket."
    why: dict[str, str | None] = dict.fromkeys(("table", "classes", "buckets", "stack", "stack_picker", "pairs",
                                                "pair_picker", "suggestions", "next_steps"))
    if n == 0:
        return dict.fromkeys(why, none)
    if not is_set(file):
        why["stack"] = "Skipped: no FILE was given to show the stack of (pick one in the widget below)."
    elif os.path.basename(str(file)) not in _loaded_names(crash_set):
        why["stack"] = f"Skipped: FILE {file!r} is not among the loaded transcripts (pick one in the widget below)."
    problems = [pair_problem(crash_set, p, k) for k, p in (("SAME_BUG", same_bug), ("DIFFERENT_BUGS", different_bugs))]
    if not is_set(same_bug) and not is_set(different_bugs):
        why["pairs"] = "Skipped: no SAME_BUG or DIFFERENT_BUGS pair of files was given to compare."
    elif all(problems):
        why["pairs"] = " ".join(problems)
    if n < 2:
        why["pair_picker"] = "Skipped: comparing two files needs at least two transcripts, this folder has one."
        why["suggestions"] = "Skipped: merge suggestions compare buckets, and one transcript makes one bucket."
    return why


def explain_pairs(crash_set, **pairs) -> str:
    """:func:`~forensics.crashes.bucket.explain_shared_bucket` for each named pair, blank-line separated;
    a pair that cannot be explained gets its one-line reason instead."""
    from .bucket import explain_shared_bucket

    return "\n\n".join(pair_problem(crash_set, p, k) or explain_shared_bucket(crash_set.crashes, *p)
                       for k, p in pairs.items())
