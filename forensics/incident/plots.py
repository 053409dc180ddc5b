"""Pictures of an incident: the timeline with one lane per service/artifact, and a time picker.

>>> fig = plot_timeline(inc)          # doctest: +SKIP
"""
from __future__ import annotations

import html

import pandas as pd

from .timeline import SEVERITY_ORDER

SEVERITY_COLOURS = {"info": "#7f8c8d", "warning": "#e69f00", "error": "#d55e00", "critical": "#7b0000"}
KIND_MARKERS = {"retransmissions": "|", "reset": "x", "error-span": "o", "slow-span": "s", "gc-pause": "^",
                "query-finding": "D", "heap-growth": "P", "heap-snapshot": "p", "crash": "*", "note": "v"}


def lanes(tl: pd.DataFrame) -> pd.Series:
    """Lane label per event: ``service · artifact kind`` (the manifest's notes get their own lane)."""
    svc = tl["service"].fillna("?").astype(str)
    return (svc + " · " + tl["artifact_kind"].astype(str)).where(tl["kind"] != "note", "incident.toml notes")


def plot_timeline(inc, ax=None, window=None):
    """Every timeline event as a marker (shape = event kind, colour = severity); intervals as bars.

    One horizontal lane per service and artifact kind, so the chain of events reads left to right.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    tl = inc.timeline
    if window is not None:
        tl = tl[(tl["time"] >= window[0]) & (tl["time"] <= window[1])]
    # draw the most severe last, so that it is on top
    tl = tl.iloc[tl["severity"].map(SEVERITY_ORDER).fillna(0).to_numpy().argsort(kind="stable")]
    lane = lanes(tl)
    order = sorted(lane.unique(), key=lambda s: (s == "incident.toml notes", s))
    ypos = {name: i for i, name in enumerate(order)}
    if ax is None:
        fig, ax = plt.subplots(figsize=(12, 0.45 * max(4, len(order)) + 1.5))
    else:
        fig = ax.figure
    t = tl["time"].dt.tz_convert("UTC").dt.tz_localize(None)
    end = tl["end"].dt.tz_convert("UTC").dt.tz_localize(None)
    for i in range(len(tl)):
        y = ypos[lane.iloc[i]]
        colour = SEVERITY_COLOURS.get(tl["severity"].iloc[i], "#333333")
        if pd.notna(end.iloc[i]) and end.iloc[i] > t.iloc[i] and tl["kind"].iloc[i] != "query-finding":
            ax.plot([t.iloc[i], end.iloc[i]], [y, y], color=colour, alpha=0.35, linewidth=5, solid_capstyle="butt")
        ax.scatter([t.iloc[i]], [y], marker=KIND_MARKERS.get(tl["kind"].iloc[i], "o"), color=colour,
                   s=90 if tl["kind"].iloc[i] == "crash" else 40, zorder=3)
    for _, r in tl[tl["kind"] == "note"].iterrows():
        ax.axvline(r["time"].tz_convert("UTC").tz_localize(None), color="#555555", linestyle=":", linewidth=1)
    ax.set_yticks(range(len(order)))
    ax.set_yticklabels(order)
    ax.set_xlabel("time (UTC)")
    ax.grid(axis="x", alpha=0.3)
    kinds = [k for k in KIND_MARKERS if k in set(tl["kind"])]
    handles = [Line2D([], [], marker=KIND_MARKERS[k], linestyle="", color="#333333", label=k) for k in kinds]
    handles += [Line2D([], [], marker="o", linestyle="", color=c, label=s) for s, c in SEVERITY_COLOURS.items()]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    ax.set_title(inc.title, fontsize=10)
    fig.tight_layout()
    return fig


def timeline_html(tl: pd.DataFrame, max_rows: int = 60) -> str:
    """The timeline as an escaped HTML table (artifact text never reaches the page unescaped)."""
    cols = ["time", "artifact_kind", "kind", "service", "severity", "detail"]
    view = tl[cols].head(max_rows).copy()
    view["time"] = view["time"].dt.strftime("%H:%M:%S.%f").str[:-3]
    return view.to_html(index=False, escape=True, border=0) + (
        f"<p>… {len(tl) - max_rows} more rows</p>" if len(tl) > max_rows else "")


def replay_picker(inc):
    """An ipywidgets slider over the incident window: the events up to the chosen second."""
    import ipywidgets as W
    from IPython.display import HTML, display

    tl = inc.timeline
    if not len(tl):
        return W.HTML("no events")
    t0 = tl["time"].min().floor("s")
    seconds = int((tl["time"].max() - t0).total_seconds()) + 1
    slider = W.IntSlider(value=seconds, min=0, max=seconds, step=1, description="seconds",
                         continuous_update=False, layout=W.Layout(width="80%"))
    out = W.Output()

    def show(change=None):
        upto = t0 + pd.Timedelta(seconds=slider.value)
        out.clear_output()
        with out:
            seen = tl[tl["time"] <= upto]
            display(HTML(f"<p>Up to {html.escape(upto.strftime('%H:%M:%S'))} UTC: {len(seen)} events</p>"
                         + timeline_html(seen.tail(15))))

    slider.observe(show, names="value")
    show()
    return W.VBox([slider, out])
