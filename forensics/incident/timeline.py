"""One timeline of events from every artifact of an incident, in UTC.

Each loaded artifact contributes events (columns of :data:`COLUMNS`):

==================  ==============================================================================
artifact_kind       events (``kind``)
==================  ==============================================================================
pcap                ``retransmissions`` — a burst of retransmitted segments on one TCP stream
                    (a gap of more than :data:`BURST_GAP_S` starts a new burst); ``reset`` — the RSTs
                    of one stream
traces              ``error-span`` — error spans of one service/operation/message, grouped in bursts;
                    ``slow-span`` — spans far slower than that operation's usual duration (see
                    :func:`slow_threshold_us`), grouped in bursts; ``gc-pause`` — runtime GC pause
                    events recorded on spans
pg_stat_statements  ``query-finding`` — per statement of the interval between two snapshots (before
                    → after), the findings of :mod:`forensics.postgres.findings`; DDL run in the
                    interval (``DROP INDEX`` …) is its own finding
heap                ``heap-growth`` — the sites/types that grew, at the time the snapshot was taken
gdb                 ``crash`` — what killed the process (``crash_class``), at the crash time
incident.toml       ``note`` — events the manifest records (a deploy, a kill)
==================  ==============================================================================

``ref`` names the rows behind an event in the artifact's own terms (stream id, span id,
queryid, site, file) and ``source_rows`` lists their row numbers in the loader's frame
(``packets.frame`` numbers for pcap, row positions in ``spans`` for traces, …).

Artifacts that carry no clock (tracemalloc text, gdb transcripts, pg_stat_statements dumps) are
placed at the ``time`` their entry in ``incident.toml`` gives; without one, at the file's
modification time, and the event says so (``time_source``).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .endpoints import flows_of
from .model import to_utc

COLUMNS = ["time", "end", "artifact", "artifact_kind", "kind", "service", "host", "severity", "detail",
           "crash_class", "ref", "source_rows", "time_source"]
SEVERITY_ORDER = {"info": 0, "warning": 1, "error": 2, "critical": 3}
#: a pause longer than this between two flagged packets/spans starts a new burst
BURST_GAP_S = 2.0
#: a span is slow when above max(SLOW_FACTOR × the operation's 25th percentile, p25 + SLOW_MIN_EXTRA_US)
SLOW_FACTOR = 10.0
SLOW_MIN_EXTRA_US = 100_000
_DDL = re.compile(r"^\s*(drop|create|alter|reindex|truncate|vacuum\s+full|cluster)\b", re.I)


def _event(**kw) -> dict:
    row = dict.fromkeys(COLUMNS)
    row.update(kw)
    return row


def bursts(times: np.ndarray, gap_s: float = BURST_GAP_S) -> np.ndarray:
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


# --------------------------------------------------------------------------- pcap
def pcap_events(inc, art) -> list[dict]:
    cap = art.result
    p = cap.packets
    flows = flows_of(inc, art)
    if flows is None:
        return []
    out = []
    tcp = p[p["stream"] >= 0]
    for flag, kind, sev in (("retransmission", "retransmissions", "warning"), ("reset", "reset", "warning")):
        hit = tcp[tcp[flag]].sort_values("time")
        for stream, g in hit.groupby("stream", sort=True):
            f = flows.loc[flows["stream"] == stream].iloc[0]
            server = inc.service_for(f["server"], f["server_port"]) or f"{f['server']}:{f['server_port']}"
            client = inc.service_for(f["client"]) or f["client"]
            pair = f"{client} ({f['client']}:{f['client_port']}) → {server} ({f['server']}:{f['server_port']})"
            groups = [g] if kind == "reset" else [b for _, b in g.groupby(bursts(g["time"]))]
            for b in groups:
                if kind == "retransmissions":
                    detail = (f"{len(b)} retransmitted segment(s), {int(b['payload_len'].sum())} bytes, on stream "
                              f"{stream}: {pair}")
                else:
                    who = sorted({("server" if d == 1 else "client") for d in b["direction"]})
                    detail = f"RST from {' and '.join(who)} on stream {stream} ({f['conn_state']}): {pair}"
                out.append(_event(time=b["time"].iloc[0], end=b["time"].iloc[-1], kind=kind, severity=sev,
                                  service=server, host=inc.host_for(f["server"]), detail=detail,
                                  ref=f"stream {stream}", source_rows=b["frame"].astype(int).tolist()))
    return out


# --------------------------------------------------------------------------- traces
def slow_threshold_us(durations_us: pd.Series) -> float:
    """The duration above which a span of one operation counts as slow.

    The 25th percentile is the operation's usual duration even when most spans of the
    window are slow (an incident can last longer than the calm before it).

    >>> slow_threshold_us(pd.Series([5_000] * 30 + [150_000] * 70))
    105000.0
    """
    p25 = float(np.percentile(durations_us, 25))
    return max(SLOW_FACTOR * p25, p25 + SLOW_MIN_EXTRA_US)


def _span_bursts(spans, rows, kind, severity, what) -> list[dict]:
    out = []
    rows = rows.sort_values("start")
    keys = ["service", "operation"] + (["status_message"] if kind == "error-span" else [])
    for key, g in rows.groupby(keys, sort=False, dropna=False):
        for _, b in g.groupby(bursts(g["start"])):
            worst = b.loc[b["duration_us"].idxmax()]
            msg = key[2] if kind == "error-span" and isinstance(key[2], str) else ""
            durs = b["duration_us"] / 1000
            detail = (f"{len(b)} {what} of {key[0]} {key[1]}" + (f": {msg}" if msg else "") +
                      f" (median {durs.median():.0f} ms, max {durs.max():.0f} ms)")
            out.append(_event(time=b["start"].iloc[0], end=(b["start"] + b["duration"]).max(), kind=kind,
                              severity=severity, service=key[0], host=worst["host"], detail=detail,
                              ref=str(worst["span_id"]), source_rows=[int(i) for i in b.index]))
    return out


def traces_events(inc, art) -> list[dict]:
    ts = art.result
    spans = ts.spans
    out = _span_bursts(spans, spans[spans["error"]], "error-span", "error", "error spans")
    slow_mask = np.zeros(len(spans), dtype=bool)
    for _, g in spans.groupby(["service", "operation"], sort=False):
        if len(g) >= 5:
            slow_mask[g.index.to_numpy()] = g["duration_us"].to_numpy() > slow_threshold_us(g["duration_us"])
    slow = spans[slow_mask & ~spans["error"].to_numpy()]
    out += _span_bursts(spans, slow, "slow-span", "warning", "slow spans")
    logs = ts.logs
    if len(logs) and "event" in logs.columns:
        gc = logs[logs["event"].astype(str).str.contains("gc", case=False, na=False)]
        gc = gc.drop_duplicates(subset=["time", "fields"]).sort_values("time")
        last = {}
        for idx, row in gc.iterrows():
            span = spans.iloc[int(row["span"])]
            m = re.search(r'"pause_ms"\s*:\s*"?([\d.]+)', str(row["fields"]))
            ms = float(m.group(1)) if m else None
            if ms is not None and last.get(span["service"]) == ms:
                continue  # the same pause, recorded again by another span that overlapped it
            last[span["service"]] = ms
            out.append(_event(time=row["time"], kind="gc-pause", service=span["service"], host=span["host"],
                              severity="warning" if (ms or 0) >= 100 else "info",
                              detail=f"{row['event']} on {span['service']}" + (f": {ms:.0f} ms" if ms else ""),
                              ref=str(span["span_id"]), source_rows=[int(row["span"])]))
    return out


# --------------------------------------------------------------------------- pg_stat_statements
def pgss_pairs(inc) -> list[tuple]:
    """(before, after) artifact pairs: from the manifest's ``baseline``, else by time/calls order."""
    arts = inc.loaded("postgres")
    pairs, used = [], set()
    by_file = {a.file: a for a in arts}
    for a in arts:
        base = a.meta.get("baseline")
        if base in by_file:
            pairs.append((by_file[base], a))
            used |= {base, a.file}
    rest = [a for a in arts if a.file not in used]
    if len(rest) >= 2:
        def order(a):
            t = a.time
            return (t.value if t is not None else 0, int(a.result.statements["calls"].fillna(0).sum()))
        rest.sort(key=order)
        pairs += list(zip(rest[:-1], rest[1:]))
    return pairs


def _interval_time(inc, art, which):
    t = art.time
    if t is not None:
        return t, "incident.toml"
    return pd.Timestamp(art.provenance.mtime, unit="s", tz="UTC"), "file mtime"


def pgss_events(inc, before, after) -> list[dict]:
    from ..postgres.analysis import delta, rank  # heavy (pglast): only for incidents with two snapshots

    d = delta(before.result, after.result)
    r = rank(d, by="total_exec_time")
    t0, src0 = _interval_time(inc, before, "before")
    t1, src1 = _interval_time(inc, after, "after")
    service = after.meta.get("service") or "postgres"
    host = after.meta.get("host")
    out = []
    total = float(r["total_exec_time"].sum()) or 1.0
    for i, row in r.iterrows():
        q = " ".join(str(row["query"]).split())
        finds = [f for f in (row.get("findings") or []) if not str(f).startswith(("nested", "text_cut"))]
        common = dict(time=t0, end=t1, artifact=after.file, artifact_kind="postgres", kind="query-finding",
                      service=service, host=host, ref=str(row["queryid"]), source_rows=[int(i)],
                      time_source=f"interval {before.file} ({src0}) → {after.file} ({src1})")
        if _DDL.match(q):
            # a schema change inside the incident interval is a prime suspect, whatever its cost
            out.append(_event(severity="error", detail=f"DDL run between the snapshots: {q[:160]}", **common))
        elif finds:
            share = float(row["total_exec_time"]) / total
            sev = "error" if share >= 0.2 else "warning"
            codes = ", ".join(str(f).split(":")[0] for f in finds)
            out.append(_event(severity=sev, detail=(f"{codes} — {q[:120]} — {int(row['calls'])} calls, mean "
                                                   f"{float(row['mean_exec_time']):.1f} ms, {share:.0%} of "
                                                   f"interval time; {finds[0]}"), **common))
    return out


# --------------------------------------------------------------------------- heap
def _growth(art) -> pd.DataFrame:
    c = art.result.classes
    if c is None or not len(c) or "bytes" not in c:
        return pd.DataFrame(columns=["name", "count", "bytes_delta"])
    before = c["bytes_before"] if "bytes_before" in c else 0
    return c.assign(bytes_delta=c["bytes"] - before).sort_values("bytes_delta", ascending=False)


def _short_site(name: str) -> str:
    parts = str(name).replace("\\", "/").split("/")
    return "/".join(parts[-2:]) if len(parts) > 2 else str(name)


def heap_events(inc, art) -> list[dict]:
    """The sites/types holding at least 5 % of the growth (at least the top one), with the same
    site's growth in an earlier snapshot of the same service for comparison."""
    grew = _growth(art)
    grew = grew[grew["bytes_delta"] > 0]
    total = max(1, int(grew["bytes_delta"].sum()))
    grew = grew[(grew["bytes_delta"] >= 0.05 * total) | (np.arange(len(grew)) == 0)].head(5)
    t, src = _interval_time(inc, art, "heap")
    earlier = [a for a in inc.loaded("memory") if a is not art and a.meta.get("service") == art.meta.get("service")
               and a.time is not None and a.time < t]
    out = []
    for i, row in grew.iterrows():
        detail = (f"+{row['bytes_delta'] / 2**20:.1f} MiB, {int(row['count']):,} objects at {_short_site(row['name'])} "
                  f"({row['bytes_delta'] / total:.0%} of the growth listed)")
        for e in sorted(earlier, key=lambda a: a.time)[-1:]:
            prev = _growth(e)
            prev = prev[prev["name"] == row["name"]]
            if len(prev):
                detail += (f"; was +{prev['bytes_delta'].iloc[0] / 2**20:.1f} MiB in {e.file} "
                           f"({(t - e.time).total_seconds():.1f} s earlier)")
        out.append(_event(time=t, kind="heap-growth", service=art.meta.get("service"), host=art.meta.get("host"),
                          severity="error" if row["bytes_delta"] >= 10 << 20 else "warning", detail=detail,
                          ref=str(row["name"]), source_rows=[int(i)], time_source=src))
    return out


# --------------------------------------------------------------------------- gdb
def gdb_events(inc, art) -> list[dict]:
    c = art.result.crash
    t, src = _interval_time(inc, art, "crash")
    cls = c.get("class")
    top = c.get("top_own_frame")
    detail = (f"{c.get('signal') or 'no signal'} — {cls}" + (f" ({c['subclass']})" if c.get("subclass") else "") +
              (f" in {top}()" if top else "") + (f": {c['reason']}" if c.get("reason") else ""))
    if c.get("assertion") and str(c["assertion"]) not in detail:
        detail += f" — assertion: {c['assertion']}"
    return [_event(time=t, kind="crash", severity="critical", service=art.meta.get("service"),
                   host=art.meta.get("host"), detail=detail, crash_class=cls, ref=art.file, source_rows=[0],
                   time_source=src)]


# --------------------------------------------------------------------------- all together
def manifest_events(inc) -> list[dict]:
    out = []
    for name, value in (inc.manifest.get("events") or {}).items():
        t = to_utc(value)
        if t is not None:
            out.append(_event(time=t, artifact="incident.toml", artifact_kind="manifest", kind="note",
                              severity="info", detail=f"{name.replace('_', ' ')} (recorded in incident.toml)",
                              ref=name, source_rows=[], time_source="incident.toml"))
    return out


BUILDERS = {"network": pcap_events, "traces": traces_events, "memory": heap_events, "crashes": gdb_events}


def build_timeline(inc) -> pd.DataFrame:
    """Every event of every loaded artifact, sorted by time (UTC). An artifact whose events cannot be
    built is noted in ``inc.notes`` (``timeline: …``) and skipped."""
    rows = manifest_events(inc)
    for art in inc.loaded():
        fn = BUILDERS.get(art.artifact_kind)
        if fn is None:
            continue
        try:
            evs = fn(inc, art)
        except Exception as e:  # keep the other artifacts' events; the evidence's provenance stays as loaded
            inc.notes.append(f"timeline: {art.file}: could not build events: {type(e).__name__}: {e}")
            continue
        for ev in evs:
            ev.setdefault("artifact", art.file)
            ev["artifact"] = ev["artifact"] or art.file
            ev["artifact_kind"] = ev["artifact_kind"] or art.artifact_kind
            ev["time_source"] = ev["time_source"] or "artifact"
        rows += evs
    for before, after in pgss_pairs(inc):
        try:
            rows += pgss_events(inc, before, after)
        except Exception as e:
            inc.notes.append(f"timeline: {after.file}: could not diff against {before.file}: {type(e).__name__}: {e}")
    df = pd.DataFrame(rows, columns=COLUMNS)
    for col in ("time", "end"):
        df[col] = pd.to_datetime(df[col], utc=True).astype("datetime64[ns, UTC]")
    df["severity_rank"] = df["severity"].map(SEVERITY_ORDER).fillna(0).astype(int)
    df = df.sort_values(["time", "severity_rank"], ascending=[True, False], kind="stable").reset_index(drop=True)
    return df.drop(columns="severity_rank")


def key_events(tl: pd.DataFrame, max_rows: int = 15) -> pd.DataFrame:
    """The error and critical events, one per kind/service/artifact (one per statement for query findings).

    What a reader should see first; the full timeline keeps everything.
    """
    severe = tl[tl["severity"].isin(["error", "critical"])]
    key = (severe["kind"].astype(str) + "|" + severe["service"].astype(str) + "|" + severe["artifact"].astype(str)
           + "|" + severe["ref"].where(severe["kind"] == "query-finding", "").astype(str))
    return severe[~key.duplicated()].head(max_rows)
