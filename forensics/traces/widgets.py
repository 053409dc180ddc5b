"""ipywidgets for notebook 02, the way Jaeger UI users work: find a trace by what matters, open it,
compare two, read a span. Thin: the choices come from :mod:`forensics.traces.explore`."""
from __future__ import annotations

import html

import matplotlib.pyplot as plt
import pandas as pd

from .explore import pick_traces, span_detail, trace_diff
from .plots import plot_gantt, tree_order

_ANY = "(any)"


def _options(picks: pd.DataFrame, limit: int = 200):
    return [(lab, tid) for lab, tid in zip(picks["label"].head(limit), picks["trace_id"].head(limit))]


def trace_browser(ts, limit: int = 200):
    """Filters (service, operation, errors, minimum duration) → a trace list, failing first → the
    chosen trace's Gantt chart with its critical path, and its first error."""
    import ipywidgets as w

    services = [_ANY] + sorted(ts.spans["service"].unique())
    service = w.Dropdown(options=services, description="service")
    operation = w.Dropdown(options=[_ANY], description="operation")
    errors = w.ToggleButtons(options=["any", "with errors", "without"], value="any", description="errors")
    min_ms = w.FloatText(value=0, description="min ms")
    trace = w.Dropdown(options=[], description="trace", layout=w.Layout(width="95%"))
    out = w.Output()

    def refresh(*_):
        svc = None if service.value == _ANY else service.value
        ops = ts.spans["operation"] if svc is None else ts.spans.loc[ts.spans["service"] == svc, "operation"]
        operation.options = [_ANY] + sorted(ops.unique())[:500]
        picks = pick_traces(ts, service=svc, operation=None if operation.value in (_ANY, None) else operation.value,
                            error={"any": None, "with errors": True, "without": False}[errors.value],
                            min_duration_us=(min_ms.value or 0) * 1000 or None)
        trace.options = _options(picks, limit)

    def draw(*_):
        out.clear_output()
        with out:
            if not trace.value:
                print("no trace matches these filters")
                return
            plot_gantt(ts.trace(trace.value))
            plt.show()

    for c in (service, errors, min_ms):
        c.observe(refresh, "value")
    operation.observe(lambda ch: refresh() if ch["new"] is not None else None, "value")
    trace.observe(draw, "value")
    refresh()
    draw()
    return w.VBox([w.HBox([service, operation]), w.HBox([errors, min_ms]), trace, out])


def compare_picker(ts, limit: int = 200):
    """Two trace dropdowns (failing first) → :func:`explore.trace_diff` of A against B."""
    import ipywidgets as w

    opts = _options(pick_traces(ts), limit)
    a = w.Dropdown(options=opts, description="A", layout=w.Layout(width="95%"))
    b = w.Dropdown(options=opts, description="B", layout=w.Layout(width="95%"))
    ok = [tid for lab, tid in opts if not lab.startswith("FAIL")]
    if ok:
        a.value = ok[0]  # a succeeding trace against the worst failing one
    out = w.Output()

    def draw(*_):
        out.clear_output()
        with out:
            d = trace_diff(ts.trace(a.value), ts.trace(b.value))
            changed = d[d["change"] != "same"]
            print(f"{len(changed)} of {len(d)} span paths differ")
            from IPython.display import display

            display(changed if len(changed) else d)

    a.observe(draw, "value")
    b.observe(draw, "value")
    draw()
    return w.VBox([a, b, out])


def span_picker(ts, trace_id: str):
    """The spans of one trace in Jaeger UI's row order → the chosen span's tags, logs, references."""
    import ipywidgets as w

    spans = tree_order(ts.trace(trace_id))
    opts = [(f"{'  ' * int(d)}{s}: {o}" + ("  [error]" if e else ""), sid)
            for d, s, o, e, sid in zip(spans["depth"], spans["service"], spans["operation"], spans["error"],
                                       spans["span_id"])]
    pick = w.Dropdown(options=opts, description="span", layout=w.Layout(width="95%"))
    out = w.Output()

    def draw(*_):
        out.clear_output()
        with out:
            from IPython.display import HTML, display

            d = span_detail(ts, pick.value, trace_id)
            s = d["span"]
            display(HTML(html.escape(f"{s['service']}: {s['operation']} — {s['kind']}, "
                                     f"{s['duration_us'] / 1000:.2f} ms, starts at +{d['offset_us'] / 1000:.2f} ms"
                                     + (f", error: {s['status_message']}" if s["error"] else ""))))
            for name in ("tags", "logs", "references", "process", "skew"):
                if len(d[name]):
                    print(name)
                    display(d[name])

    pick.observe(draw, "value")
    draw()
    return w.VBox([pick, out])
