"""Charts and pickers for heap diffs (matplotlib; ipywidgets in notebooks).

>>> fig = growth_bars(heap_diff([a, b]).table)       # doctest: +SKIP
"""
from __future__ import annotations

import html

import matplotlib.pyplot as plt
import pandas as pd


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
