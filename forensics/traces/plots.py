"""Pictures for the dependency-map notebook: the service map, a trace timeline (Gantt) with its
critical path, self time per service, and an ipywidgets trace picker. Matplotlib only; text from
the artifact is drawn as plain text (never interpreted as markup or mathtext)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pandas as pd

from .critical_path import _children, _with_local_parents, critical_path


def _plain(text: str) -> str:
    """Artifact text safe for matplotlib: no mathtext ($…$) interpretation."""
    return str(text).replace("$", r"\$")


def _layers(g: nx.DiGraph) -> dict:
    """Left-to-right positions by call depth (topological generations), spring layout for cycles."""
    if not nx.is_directed_acyclic_graph(g):
        return nx.spring_layout(g, seed=3)
    pos = {}
    for x, layer in enumerate(nx.topological_generations(g)):
        layer = sorted(layer)
        for i, node in enumerate(layer):
            pos[node] = (x, (len(layer) - 1) / 2 - i)
    return pos


def plot_service_map(g: nx.DiGraph, ax=None, cmap="RdYlGn_r"):
    """Services as nodes (size by spans), calls as arrows: width by calls, colour by error rate."""
    ax = ax or plt.subplots(figsize=(9, 5))[1]
    pos = _layers(g)
    calls = np.array([d["calls"] for _, _, d in g.edges(data=True)] or [1])
    widths = 1 + 7 * calls / calls.max()
    rates = [d["error_rate"] for _, _, d in g.edges(data=True)]
    sizes = [600 + 2400 * g.nodes[n].get("spans", 1) / max(max(d.get("spans", 1) for _, d in g.nodes(data=True)), 1)
             for n in g.nodes]
    node_rates = [g.nodes[n].get("error_rate", 0) for n in g.nodes]
    nx.draw_networkx_nodes(g, pos, ax=ax, node_size=sizes, node_color=node_rates, cmap=cmap, vmin=0, vmax=0.5,
                           edgecolors="black")
    edges = nx.draw_networkx_edges(g, pos, ax=ax, width=widths, edge_color=rates, edge_cmap=plt.get_cmap(cmap),
                                   edge_vmin=0, edge_vmax=0.5, arrows=True, arrowsize=18, node_size=sizes,
                                   connectionstyle="arc3,rad=0.08")
    nx.draw_networkx_labels(g, pos, ax=ax, labels={n: _plain(n) for n in g.nodes}, font_size=9)
    labels = {(u, v): f"{d['calls']} calls\n{d['error_rate']:.0%} err, p95 {d['p95_us'] / 1000:.1f} ms"
              for u, v, d in g.edges(data=True)}
    nx.draw_networkx_edge_labels(g, pos, ax=ax, edge_labels=labels, font_size=7, label_pos=0.5)
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(0, 0.5))
    ax.figure.colorbar(sm, ax=ax, label="error rate (calls, spans)", shrink=0.7)
    ax.set_title("Service map — arrow width: calls, colour: error rate")
    ax.axis("off")
    return ax


def tree_order(spans: pd.DataFrame) -> pd.DataFrame:
    """The spans of one trace in Jaeger UI's row order (depth-first, children by start time)."""
    local = _with_local_parents(spans)
    parent = local["parent"].to_numpy()
    start = local["start_us"].to_numpy()
    kids = _children(parent, start)
    roots = [int(r) for r in np.lexsort((np.arange(len(local)), start)) if parent[r] < 0]
    order, stack = [], list(reversed(roots))
    while stack:
        n = stack.pop()
        order.append(n)
        stack.extend(reversed(kids[n]))
    return spans.iloc[order]


def plot_gantt(spans: pd.DataFrame, ax=None, highlight_critical: bool = True, max_rows: int = 80):
    """Timeline of one trace: a bar per span (colour by service, red edge for errors), with the
    critical-path sections drawn dark on top."""
    rows = tree_order(spans).head(max_rows)
    t0 = rows["start_us"].min()
    services = sorted(rows["service"].unique())
    colours = dict(zip(services, plt.get_cmap("tab10")(np.arange(len(services)) % 10)))
    ax = ax or plt.subplots(figsize=(11, 0.32 * len(rows) + 1.2))[1]
    y = np.arange(len(rows))
    ax.barh(y, (rows["end_us"] - rows["start_us"]) / 1000, left=(rows["start_us"] - t0) / 1000, height=0.6,
            color=[colours[s] for s in rows["service"]], alpha=0.55,
            edgecolor=["red" if e else "none" for e in rows["error"]], linewidth=1.5)
    if highlight_critical:
        cp = critical_path(spans)
        where = {sid: i for i, sid in enumerate(rows["span_id"])}
        for r in cp.itertuples(index=False):
            if r.span_id in where:
                ax.barh(where[r.span_id], (r.end_us - r.start_us) / 1000, left=(r.start_us - t0) / 1000,
                        height=0.25, color="black")
    ax.set_yticks(y, [_plain(f"{'  ' * int(d)}{s}: {o}") for d, s, o in
                      zip(rows.get("depth", pd.Series(0, index=rows.index)), rows["service"], rows["operation"])],
                  fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("ms since the trace started")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours[s], alpha=0.55) for s in services]
    handles.append(plt.Rectangle((0, 0), 1, 1, color="black"))
    ax.legend(handles, [_plain(s) for s in services] + ["critical path"], fontsize=7, loc="upper left",
              bbox_to_anchor=(1.01, 1))
    ax.set_title(_plain(f"trace {spans['trace_id'].iloc[0]} — {len(spans)} spans"))
    return ax


def plot_self_time(stats: pd.DataFrame, ax=None):
    """Horizontal bars of self time per service (from :func:`analysis.service_stats`)."""
    stats = stats.sort_values("self_us")
    ax = ax or plt.subplots(figsize=(7, 0.4 * len(stats) + 1))[1]
    ax.barh([_plain(s) for s in stats["service"]], stats["self_us"] / 1000, color="tab:blue")
    for i, (v, share) in enumerate(zip(stats["self_us"] / 1000, stats["self_share"])):
        ax.text(v, i, f" {share:.0%}", va="center", fontsize=8)
    ax.set_xlabel("self time, ms (time in the service's own spans, not waiting on children)")
    ax.set_title("Where the time is spent")
    return ax


def trace_picker(ts, trace_ids, draw=None):
    """An ipywidgets dropdown over ``trace_ids`` that redraws the Gantt chart of the chosen trace."""
    import ipywidgets as widgets

    draw = draw or (lambda tid: (plot_gantt(ts.trace(tid)), plt.show()))
    return widgets.interactive(draw, tid=widgets.Dropdown(options=list(trace_ids), description="trace"))
