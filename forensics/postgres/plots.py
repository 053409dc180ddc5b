"""Figures for the slow-query notebook: a Pareto chart of time share, mean-vs-calls on log axes,
and an ipywidgets picker of the ranking measure. Query texts are shown shortened, as plain text."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .analysis import METRICS, rank


def short(text, n: int = 40) -> str:
    """One line of at most ``n`` characters of a query text."""
    t = " ".join(str(text).split()) if isinstance(text, str) else "(no text)"
    return t if len(t) <= n else t[: n - 1] + "…"


def pareto(ranked: pd.DataFrame, top: int = 12, ax=None, title: str | None = None):
    """Bars: each statement's share; line: the cumulative share (nested rows add nothing).

    ``ranked`` is the output of :func:`~forensics.postgres.analysis.rank`.
    """
    import matplotlib.pyplot as plt

    r = ranked.head(top)
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4.5))
    x = np.arange(len(r))
    nested = r["toplevel"].eq(False).fillna(False).to_numpy()
    ax.bar(x, r["share"].fillna(0) * 100, color=np.where(nested, "#bbbbbb", "#3b75af"))
    ax.set_ylabel("share of total (%)")
    ax.set_xticks(x, [f"#{k} {short(q, 28)}" for k, q in zip(r["rank"], r["query"])], rotation=40, ha="right",
                  fontsize=8)
    ax2 = ax.twinx()
    ax2.plot(x, r["cum_share"] * 100, color="#d62728", marker="o")
    ax2.axhline(80, color="#d62728", lw=0.8, ls=":")
    ax2.set_ylim(0, 105)
    ax2.set_ylabel("cumulative share (%)")
    ax.set_title(title or "Which statements explain the time (grey: nested, already inside a caller)")
    ax.figure.tight_layout()
    return ax.figure


def mean_vs_calls(frame: pd.DataFrame, label_top: int = 6, ax=None):
    """Each statement at (calls, mean time), area ∝ total time: N+1 sits far right and low,
    missing indexes and reports high; diagonal lines are equal total time."""
    import matplotlib.pyplot as plt

    f = frame[(frame["calls"].fillna(0).astype(float) > 0) & (frame["total_exec_time"].astype(float) > 0)]
    calls = f["calls"].astype(float).to_numpy()
    mean = f["total_exec_time"].astype(float).to_numpy() / calls
    total = f["total_exec_time"].astype(float).to_numpy()
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 5.5))
    nested = f["toplevel"].eq(False).fillna(False).to_numpy()
    size = 20 + 400 * total / max(total.max(), 1e-9) if len(total) else 20
    ax.scatter(calls, mean, s=size, c=np.where(nested, "#bbbbbb", "#3b75af"), alpha=0.7, edgecolors="k", lw=0.4)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("calls")
    ax.set_ylabel("mean execution time (ms)")
    if len(calls):
        lo, hi = calls.min() / 2, calls.max() * 2
        for t in (10.0, 100.0, 1000.0, 10000.0):
            ax.plot([lo, hi], [t / lo, t / hi], color="#999999", lw=0.6, ls=":")
            ax.annotate(f"{t:g} ms total", (hi, t / hi), fontsize=7, color="#777777")
        ax.set_xlim(lo, hi * 3)
    for i in np.argsort(-total)[:label_top]:
        ax.annotate(short(f["query"].iloc[i], 30), (calls[i], mean[i]), fontsize=7, xytext=(4, 4),
                    textcoords="offset points")
    ax.set_title("Mean time vs calls (area: total time; grey: nested)")
    ax.figure.tight_layout()
    return ax.figure


def top_bars(ranked: pd.DataFrame, by: str, top: int = 10, ax=None):
    """Horizontal bars of the ranking value for the first ``top`` statements."""
    import matplotlib.pyplot as plt

    r = ranked.head(top).iloc[::-1]
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.35 * len(r) + 1.2))
    ax.barh([f"#{k} {short(q, 34)}" for k, q in zip(r["rank"], r["query"])], r["value"], color="#3b75af")
    ax.set_xlabel(by)
    ax.tick_params(axis="y", labelsize=8)
    ax.figure.tight_layout()
    return ax.figure


def measure_picker(frame, min_blocks: int = 1000, top: int = 10):
    """A dropdown of measures; shows the ranking table and its bars for the chosen one."""
    import ipywidgets as w
    import matplotlib.pyplot as plt
    from IPython.display import display

    out = w.Output()
    dd = w.Dropdown(options=list(METRICS), value="total_exec_time", description="rank by")

    def show(change=None):
        with out:
            out.clear_output(wait=True)
            r = rank(frame, by=dd.value, min_blocks=min_blocks, top=top)
            cols = ["rank", "query", "calls", "value", "share", "cum_share"]
            display(r[cols].assign(query=r["query"].map(lambda q: short(q, 60))))
            if len(r):
                top_bars(r, dd.value, top=top)
                plt.show()

    dd.observe(show, names="value")
    show()
    return w.VBox([dd, out])


def plan_bars(nodes: pd.DataFrame, plan: int = 0, top: int = 12, ax=None):
    """Horizontal bars of each plan node's exclusive time (the hot node on top); nodes without times say so."""
    import matplotlib.pyplot as plt

    g = nodes[nodes["plan"] == plan].dropna(subset=["exclusive_ms"]).nlargest(top, "exclusive_ms")[::-1]
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 0.35 * max(len(g), 3) + 1))
    if g.empty:
        ax.text(0.5, 0.5, "no per-node times in this plan (no ANALYZE, or TIMING OFF)", ha="center", va="center")
        ax.set_axis_off()
        return ax.figure
    labels = [f"#{int(r.id)} {short(r.node_text + (' on ' + r.relation if isinstance(r.relation, str) and r.relation not in r.node_text else ''), 45)}"
              for r in g.itertuples()]
    ax.barh(labels, g["exclusive_ms"], color="#3b75af")
    ax.set_xlabel("exclusive time (ms, summed over loops)")
    ax.set_title("Where the plan's time went (time in the node itself, children excluded)")
    ax.figure.tight_layout()
    return ax.figure


def log_events_over_time(entries: pd.DataFrame, freq: str = "1s", kinds=None, ax=None):
    """Stacked bars: server-log events per ``freq`` by kind (errors, lock waits, slow statements, …)."""
    import matplotlib.pyplot as plt

    kinds = kinds or ["duration", "auto_explain", "lock_wait", "deadlock", "error", "temp_file", "checkpoint_complete",
                      "autovacuum"]
    e = entries[entries["event"].isin(kinds) & entries["time"].notna()]
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 3.5))
    if e.empty:
        ax.text(0.5, 0.5, "no such events in the log", ha="center", va="center")
        ax.set_axis_off()
        return ax.figure
    t = e.groupby([e["time"].dt.floor(freq), "event"]).size().unstack(fill_value=0)
    t.index = t.index.tz_convert(None)
    t.plot.bar(stacked=True, ax=ax, width=0.9)
    ax.set_xticklabels([x.strftime("%H:%M:%S") for x in t.index], rotation=45, ha="right", fontsize=7)
    ax.set_ylabel(f"events per {freq}")
    ax.set_xlabel("time (UTC)")
    ax.set_title("What the server logged, over time")
    ax.figure.tight_layout()
    return ax.figure
