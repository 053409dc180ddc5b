"""A trace export's events for an incident timeline: error spans, slow spans, GC pauses — in bursts.

Spans of one service and operation (and, for errors, one status message) are grouped, and split
where none occurs for more than :data:`BURST_GAP_S`; ``ref`` is the longest span of the burst.
A span is slow when it is far above its operation's usual duration (:func:`slow_threshold_us`).
GC pauses come from span events whose name mentions GC (``pause_ms`` attribute when present).

Columns are those of the incident timeline builders (:mod:`forensics.kinds`), with ``service``
and ``host`` from the spans.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

BURST_GAP_S = 2.0
#: a span is slow when above max(SLOW_FACTOR × the operation's 25th percentile, p25 + SLOW_MIN_EXTRA_US)
SLOW_FACTOR = 10.0
SLOW_MIN_EXTRA_US = 100_000
COLUMNS = ["time", "end", "kind", "severity", "detail", "ref", "source_rows", "service", "host"]


def bursts(times, gap_s: float = BURST_GAP_S) -> np.ndarray:
    """Burst number of each (sorted) time: a new burst after a gap longer than ``gap_s``.

    >>> t = pd.to_datetime(["2024-01-01 00:00:00", "2024-01-01 00:00:01", "2024-01-01 00:00:09"]).values
    >>> bursts(t).tolist()
    [0, 0, 1]
    """
    if len(times) == 0:
        return np.zeros(0, dtype=np.int64)
    if isinstance(times, pd.Series):
        times = times.dt.tz_convert(None).to_numpy() if times.dt.tz is not None else times.to_numpy()
    t = np.asarray(times).astype("datetime64[ns]").astype(np.int64)
    return np.concatenate([[0], np.cumsum(np.diff(t) > gap_s * 1e9)])


def slow_threshold_us(durations_us: pd.Series) -> float:
    """The duration above which a span of one operation counts as slow.

    The 25th percentile is the operation's usual duration even when most spans of the
    window are slow (an incident can last longer than the calm before it).

    >>> slow_threshold_us(pd.Series([5_000] * 30 + [150_000] * 70))
    105000.0
    """
    p25 = float(np.percentile(durations_us, 25))
    return max(SLOW_FACTOR * p25, p25 + SLOW_MIN_EXTRA_US)


def _text(value, missing: str = "unknown") -> str:
    return missing if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA else str(value)


def _span_bursts(rows: pd.DataFrame, kind: str, severity: str, what: str) -> list[dict]:
    out = []
    rows = rows.sort_values("start")
    keys = ["service", "operation"] + (["status_message"] if kind == "error-span" else [])
    for key, g in rows.groupby(keys, sort=False, dropna=False):
        for _, b in g.groupby(bursts(g["start"])):
            worst = b.loc[b["duration_us"].idxmax()]
            msg = key[2] if kind == "error-span" and isinstance(key[2], str) and key[2] else ""
            durs = b["duration_us"] / 1000
            detail = (f"{len(b):,} {what} of {_text(key[0])} {_text(key[1])}" + (f": {msg}" if msg else "") +
                      f" (median {durs.median():.0f} ms, max {durs.max():.0f} ms)")
            out.append({"time": b["start"].iloc[0], "end": (b["start"] + b["duration"]).max(), "kind": kind,
                        "severity": severity, "service": None if pd.isna(key[0]) else key[0],
                        "host": None if pd.isna(worst["host"]) else worst["host"], "detail": detail,
                        "ref": str(worst["span_id"]), "source_rows": [int(i) for i in b.index]})
    return out


def _gc_pauses(ts) -> list[dict]:
    spans, logs = ts.spans, ts.logs
    if not len(logs) or "event" not in logs.columns:
        return []
    gc = logs[logs["event"].astype(str).str.contains("gc", case=False, na=False)]
    gc = gc.drop_duplicates(subset=["time", "fields"]).sort_values("time")
    out, last = [], {}
    for _, row in gc.iterrows():
        span = spans.iloc[int(row["span"])]
        m = re.search(r'"pause_ms"\s*:\s*"?([\d.]+)', str(row["fields"]))
        ms = float(m.group(1)) if m else None
        if ms is not None and last.get(span["service"]) == ms:
            continue  # the same pause, recorded again by another span that overlapped it
        last[span["service"]] = ms
        out.append({"time": row["time"], "end": row["time"], "kind": "gc-pause", "service": span["service"],
                    "host": None if pd.isna(span["host"]) else span["host"],
                    "severity": "warning" if (ms or 0) >= 100 else "info",
                    "detail": f"{row['event']} on {_text(span['service'])}" + (f": {ms:.0f} ms" if ms else ""),
                    "ref": str(span["span_id"]), "source_rows": [int(row["span"])]})
    return out


def events(ts) -> pd.DataFrame:
    """Error-span, slow-span and GC-pause events of a loaded trace export (:class:`~forensics.traces.load.TraceSet`)."""
    spans = ts.spans
    spans = spans[spans["start_us"] != 0].reset_index(drop=True)  # no start time (Zipkin: no 'timestamp'): undatable
    out = _span_bursts(spans[spans["error"]], "error-span", "error", "error spans")
    slow_mask = np.zeros(len(spans), dtype=bool)
    for _, g in spans.groupby(["service", "operation"], sort=False):
        if len(g) >= 5:
            slow_mask[g.index.to_numpy()] = g["duration_us"].to_numpy() > slow_threshold_us(g["duration_us"])
    out += _span_bursts(spans[slow_mask & ~spans["error"].to_numpy()], "slow-span", "warning", "slow spans")
    out += _gc_pauses(ts)
    return pd.DataFrame(out, columns=COLUMNS)
