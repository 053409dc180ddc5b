"""What a Jaeger UI user does next: pick a trace by what matters, compare two traces, read one span.

* :func:`pick_traces` — the search page's list, failing traces first: filter by service, operation,
  error, duration; each row has a ``label`` for a dropdown (not a bare id);
* :func:`trace_diff` — Jaeger UI's TraceDiff (model/trace-dag): spans keyed by their ancestral
  service/operation path after its "densify" step (a CLIENT span whose only child is the callee's
  SERVER span is folded into it), counted in A and B — plus durations, so ``slower``/``faster`` too;
* :func:`span_detail` — the span detail pane: fields, tags (sorted by key, as Jaeger UI shows them),
  logs with their offset from the trace start, references, process tags, clock-skew note.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .critical_path import with_provenance
from .edges import parent_rows


def _spans(ts) -> pd.DataFrame:
    return getattr(ts, "spans", ts)


@with_provenance
def pick_traces(ts, service=None, operation=None, error=None, min_duration_us=None, max_duration_us=None,
                limit=None) -> pd.DataFrame:
    """Traces that match, failing ones first, then the slowest.

    ``service``/``operation``: some span of the trace has it (exact match); ``error``: True = traces
    with an error span, False = without. Columns: trace_id, failing (root span is an error),
    error_spans, first_error ("service: operation: message" of the deepest error span — where the
    failure started; the earliest of those),
    root_service, root_operation, start, duration_us, spans, services, label.
    """
    from .analysis import _error_reasons, trace_summary

    spans = _spans(ts)
    summ = trace_summary(ts)
    keep = pd.Series(True, index=summ.index)
    for col, want in (("service", service), ("operation", operation)):
        if want is not None:
            ids = set(spans.loc[spans[col] == want, "trace_id"])
            keep &= summ["trace_id"].isin(ids)
    if error is not None:
        keep &= (summ["errors"] > 0) == bool(error)
    if min_duration_us is not None:
        keep &= summ["duration_us"] >= min_duration_us
    if max_duration_us is not None:
        keep &= summ["duration_us"] <= max_duration_us
    out = summ[keep].rename(columns={"errors": "error_spans", "root_error": "failing"})
    err = spans[spans["error"]]
    if len(err):
        reason = _error_reasons(ts)[spans["error"]]
        first = (pd.DataFrame({"trace_id": err["trace_id"], "start_us": err["start_us"], "depth": err["depth"],
                               "text": err["service"] + ": " + err["operation"] + ": " + reason.str.split("\n").str[0]})
                 .sort_values(["depth", "start_us"], ascending=[False, True], kind="stable")
                 .drop_duplicates("trace_id").set_index("trace_id")["text"])
        out["first_error"] = out["trace_id"].map(first)
    else:
        out["first_error"] = None
    out = out.sort_values(["failing", "error_spans", "duration_us"], ascending=[False, False, False],
                          ignore_index=True, kind="stable")
    tag = np.where(out["failing"], "FAIL", np.where(out["error_spans"] > 0, "err ", "ok  "))
    out["label"] = [f"{t} {d / 1000:8.1f} ms  {s}: {o}" + (f"  — {e[:60]}" if isinstance(e, str) else "") + f"  [{i[:8]}]"
                    for t, d, s, o, e, i in zip(tag, out["duration_us"], out["root_service"], out["root_operation"],
                                                out["first_error"], out["trace_id"])]
    cols = ["trace_id", "failing", "error_spans", "first_error", "root_service", "root_operation", "start",
            "duration_us", "spans", "services", "label"]
    out = out[cols]
    return out.head(limit) if limit else out


def _dense_paths(spans: pd.DataFrame) -> tuple[pd.Series, np.ndarray]:
    """Ancestral ``service: operation`` paths after Jaeger UI's skip-client densification.
    Returns (path per kept span, mask of kept spans)."""
    prow = parent_rows(spans)
    kind = spans["kind"].to_numpy()
    svc = spans["service"].to_numpy()
    n = len(spans)
    n_kids = np.bincount(prow[prow >= 0], minlength=n)
    only_child = np.full(n, -1, dtype=np.int64)
    kids = np.flatnonzero(prow >= 0)
    only_child[prow[kids]] = kids  # meaningful where n_kids == 1
    fold = (kind == "client") & (n_kids == 1)
    fold[fold] = (kind[only_child[fold]] == "server") & (svc[only_child[fold]] != svc[fold])
    keep = ~fold
    # the folded client's child takes the client's parent
    up = prow.copy()
    for _ in range(n):  # folded clients never chain (a server sits between), so this ends fast
        m = (up >= 0) & fold[np.maximum(up, 0)]
        if not m.any():
            break
        up[m] = prow[up[m]]
    label = (spans["service"] + ": " + spans["operation"]).to_numpy().astype(object)
    path = np.empty(n, dtype=object)
    depth = np.zeros(n, dtype=np.int64)
    cur = up.copy()
    while (cur >= 0).any():
        m = cur >= 0
        depth[m] += 1
        cur[m] = up[cur[m]]
    for d in range(int(depth.max()) + 1 if n else 0):
        rows = np.flatnonzero((depth == d) & keep)
        path[rows] = label[rows] if d == 0 else path[up[rows]] + " > " + label[rows]
    return pd.Series(path, index=spans.index), keep


@with_provenance
def trace_diff(a, b, slower_ratio: float = 1.2, min_delta_us: int = 1000) -> pd.DataFrame:
    """Structural comparison of two traces (or groups), as Jaeger UI's compare view, with durations.

    One row per densified path: count_a, count_b, mean_us_a, mean_us_b, delta_us, and change —
    ``added`` (only in B), ``removed`` (only in A), ``more``/``fewer`` (count per trace), ``slower``/
    ``faster`` (mean changed by ``slower_ratio`` and at least ``min_delta_us``), else ``same``.
    """
    def side(x):
        x = _spans(x)
        path, keep = _dense_paths(x)
        df = pd.DataFrame({"path": path[keep].to_numpy(), "dur": x["duration_us"].to_numpy()[keep],
                           "trace_id": x["trace_id"].to_numpy()[keep]})
        g = df.groupby("path").agg(count=("dur", "size"), mean_us=("dur", "mean"))
        g["per_trace"] = g["count"] / max(df["trace_id"].nunique(), 1)
        return g

    out = side(a).merge(side(b), how="outer", left_index=True, right_index=True, suffixes=("_a", "_b"))
    for c in ("count_a", "count_b"):
        out[c] = out[c].fillna(0).astype(np.int64)
    pa, pb = out["per_trace_a"].fillna(0), out["per_trace_b"].fillna(0)
    ma, mb = out["mean_us_a"], out["mean_us_b"]
    delta = mb - ma
    slower = (mb > ma * slower_ratio) & (delta >= min_delta_us)
    faster = (ma > mb * slower_ratio) & (-delta >= min_delta_us)
    out["change"] = np.select([out["count_a"] == 0, out["count_b"] == 0, pb > pa, pb < pa, slower, faster],
                              ["added", "removed", "more", "fewer", "slower", "faster"], "same")
    out["delta_us"] = delta
    out = out.reset_index().rename(columns={"index": "path"})
    out["depth"] = out["path"].str.count(" > ")
    cols = ["path", "depth", "count_a", "count_b", "mean_us_a", "mean_us_b", "delta_us", "change"]
    return out[cols].sort_values(["depth", "path"], ignore_index=True)


def span_detail(ts, span_id: str, trace_id: str | None = None) -> dict:
    """Everything about one span: ``span`` (its row as a dict), ``tags``, ``logs`` (with
    ``offset_us`` from the trace start), ``references``, ``process`` (tags), ``skew`` (rows of
    ``ts.skew`` for it). ``span_id`` may be a prefix when it is unique."""
    s = ts.spans
    m = s["span_id"] == span_id
    if trace_id is not None:
        m &= s["trace_id"].str.startswith(trace_id)
    if not m.any():
        m = s["span_id"].str.startswith(span_id) & (s["trace_id"].str.startswith(trace_id) if trace_id else True)
    rows = np.flatnonzero(m.to_numpy())
    if len(rows) != 1:
        raise KeyError(f"{len(rows)} spans match {span_id!r}" + (f" in trace {trace_id!r}" if trace_id else ""))
    row = int(rows[0])
    span = s.iloc[row]
    t0 = int(s.loc[s["trace_id"] == span["trace_id"], "start_us"].min())
    tags = ts.tags[ts.tags["span"] == row][["key", "type", "value"]].sort_values("key", kind="stable", ignore_index=True)
    logs = ts.logs[ts.logs["span"] == row][["time", "time_us", "event", "fields"]].reset_index(drop=True)
    logs.insert(1, "offset_us", logs["time_us"] - t0)
    refs = ts.references[ts.references["span"] == row].drop(columns="span").reset_index(drop=True)
    proc = ts.processes[ts.processes["process"] == span["process"]][["key", "type", "value"]].reset_index(drop=True)
    skew = ts.skew[(ts.skew["trace_id"] == span["trace_id"]) & (ts.skew["span_id"] == span["span_id"])]
    return {"span": span.to_dict(), "tags": tags, "logs": logs, "references": refs, "process": proc,
            "skew": skew.reset_index(drop=True), "offset_us": int(span["start_us"]) - t0}
