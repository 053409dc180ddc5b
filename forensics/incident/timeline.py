"""One timeline of events from every artifact of an incident, in UTC.

Each loaded artifact contributes the rows of its kind's ``timeline`` builder, named in
:mod:`forensics.kinds` (``builder(result) -> DataFrame``; builders of kinds whose evidence is a
pair — pg_stat_statements, heap snapshots — also take ``previous=``, the result of the earlier
artifact of the same family and service). This module adds what only the incident knows:

* **where it happened**: ``service``/``host`` from the builder (spans), else the manifest's
  artifact entry, else the builder's ``service_hint`` (a crashed program's name); a capture's
  ``server``/``client`` columns are named from :mod:`.endpoints` (the detail then names the
  service beside its ip:port);
* **when, and how sure that is** (``time_source``): the artifact's own clock first (a builder's
  ``time``: packet and span timestamps, a crash transcript's log or dump header); then the
  manifest's ``time`` for the artifact; last the file's modification time, flagged
  ``file mtime (unreliable: …)``. An event outside the incident window is noted in
  ``inc.notes`` with its time source;
* text a person can read: no ``nan``/``None`` in ``detail`` (missing values say ``unknown``).

Columns: :data:`COLUMNS`. ``ref`` names the rows behind an event in the artifact's own terms
(stream, span id, queryid, site, file); ``source_rows`` their row numbers in the loader's frame
(frame numbers for captures). A builder that fails is noted in ``inc.notes``, never in the
evidence's provenance.
"""
from __future__ import annotations

import inspect
import re

import numpy as np
import pandas as pd

from .. import kinds
from .endpoints import lookup_host, lookup_service
from .model import to_utc

COLUMNS = ["time", "end", "artifact", "artifact_kind", "kind", "service", "host", "severity", "detail",
           "crash_class", "ref", "source_rows", "time_source"]
SEVERITY_ORDER = {"info": 0, "warning": 1, "error": 2, "critical": 3}
#: families whose artifacts are read as a pair (previous → this one)
PAIRED = ("postgres", "memory")
#: an event this far outside the manifest's window is noted (clock skew of a few seconds is common)
WINDOW_SLACK = pd.Timedelta(seconds=60)
MTIME_FLAG = "file mtime (unreliable: when the file was last written or copied, not when it was taken)"
_MISSING_WORDS = re.compile(r"(?<![\w.])(?:nan|None|NaN|NaT|<NA>)(?![\w.])")


def clean_text(value, missing: str = "unknown") -> str:
    """Text for a person: missing values (None, NaN, NaT, pd.NA) say ``missing``, never ``nan``.

    >>> clean_text(float("nan")), clean_text("checkout → None span")
    ('unknown', 'checkout → unknown span')
    """
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return missing
    return _MISSING_WORDS.sub(missing, str(value))


def _takes_previous(fn) -> bool:
    try:
        return "previous" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def pairs(inc, family: str) -> dict:
    """{artifact file: the earlier artifact it is read against} within one family.

    The manifest's ``baseline`` first; else the artifacts of one kind and service in time order
    (manifest ``time``; pg_stat_statements dumps without one by total calls, which only grow).
    """
    arts = inc.loaded(family)
    by_file = {a.file: a for a in arts}
    out = {}
    for a in arts:
        base = a.meta.get("baseline")
        if base in by_file and base != a.file:
            out[a.file] = by_file[base]
    rest = [a for a in arts if a.file not in out and a.file not in {b.file for b in out.values()}]

    def order(a):
        t = a.time
        calls = 0
        if a.kind == "pg_stat_statements":  # plans, logs and activity snapshots carry no counters
            calls = int(a.result.statements["calls"].fillna(0).sum())
        return (t.value if t is not None else 0, calls, a.file)

    groups: dict = {}
    for a in rest:
        groups.setdefault((a.kind, a.meta.get("service")), []).append(a)
    for group in groups.values():
        group.sort(key=order)
        for earlier, later in zip(group[:-1], group[1:]):
            out[later.file] = earlier
    return out


def pgss_pairs(inc) -> list[tuple]:
    """(before, after) pg_stat_statements artifact pairs (see :func:`pairs`)."""
    by_file = {a.file: a for a in inc.loaded("postgres")}
    return [(before, by_file[f]) for f, before in pairs(inc, "postgres").items()
            if by_file[f].kind == "pg_stat_statements" and before.kind == "pg_stat_statements"]


def artifact_clock(art) -> tuple[pd.Timestamp, str]:
    """When an artifact without a clock of its own was taken: the manifest's ``time``, else mtime (flagged)."""
    t = art.time
    if t is not None:
        return t, "incident.toml"
    return pd.Timestamp(art.provenance.mtime, unit="s", tz="UTC"), MTIME_FLAG


def _with_services(inc, ev: pd.DataFrame) -> pd.DataFrame:
    """A capture's server/client ip:port → service and host, named in the detail as well."""
    svc, host, detail = [], [], []
    ep = inc.endpoints
    for server, client, d in zip(ev["server"], ev["client"], ev["detail"]):
        ip, _, port = str(server).rpartition(":")
        name = lookup_service(ep, ip, int(port)) if port.isdigit() else None
        text = str(d)
        if name:
            text = re.sub(rf"(?<![\d.]){re.escape(str(server))}(?!\d)", f"{name} ({server})", text, count=1)
        if isinstance(client, str) and client:
            cname = lookup_service(ep, client)
            if cname:
                text = re.sub(rf"from {re.escape(client)}(?![\d.])", f"from {cname} ({client})", text, count=1)
        svc.append(name or str(server))  # an endpoint nobody named is still a lane of its own
        host.append(lookup_host(ep, ip))
        detail.append(text)
    return ev.assign(service=svc, host=host, detail=detail)


def _place(inc, art, ev: pd.DataFrame, previous) -> pd.DataFrame:
    """Fill time, service, host and time_source the builder could not know."""
    ev = ev.copy()
    for col in ("service", "host", "crash_class", "time_source", "server", "client", "at", "end", "ref"):
        if col not in ev:
            ev[col] = None
    for col in ("time", "end"):
        ev[col] = pd.to_datetime(ev[col], utc=True).astype("datetime64[ns, UTC]")
    if ev["server"].notna().any():
        ev = _with_services(inc, ev)
    ev["service"] = ev["service"].where(ev["service"].notna(), art.meta.get("service"))
    if "service_hint" in ev:  # the builder's guess (a crashed program's name), when nobody named the service
        ev["service"] = ev["service"].where(ev["service"].notna(), ev["service_hint"])
    ev["host"] = ev["host"].where(ev["host"].notna(), art.meta.get("host"))
    ev["ref"] = ev["ref"].where(ev["ref"].notna(), art.file)
    own = ev["time"].notna()
    ev.loc[own & ev["time_source"].isna(), "time_source"] = "artifact"
    if (~own).any():
        t, src = artifact_clock(art)
        interval = (ev["at"] == "interval") & ~own
        if previous is not None and interval.any():
            t0, src0 = artifact_clock(previous)
            ev.loc[interval, "time"] = t0
            ev.loc[interval, "end"] = t
            ev.loc[interval, "time_source"] = f"interval {previous.file} ({src0}) → {art.file} ({src})"
        rest = ~own & ~interval
        ev.loc[rest, "time"] = t
        ev.loc[rest & ev["end"].isna(), "end"] = t
        ev.loc[rest, "time_source"] = src
    ev["artifact"] = art.file
    ev["artifact_kind"] = art.artifact_kind
    return ev


def manifest_events(inc) -> pd.DataFrame:
    rows = []
    for name, value in (inc.manifest.get("events") or {}).items():
        t = to_utc(value)
        if t is not None:
            rows.append({"time": t, "end": t, "artifact": "incident.toml", "artifact_kind": "manifest", "kind": "note",
                         "severity": "info", "detail": f"{name.replace('_', ' ')} (recorded in incident.toml)",
                         "ref": name, "source_rows": [], "time_source": "incident.toml"})
    return pd.DataFrame(rows, columns=COLUMNS)


def has_own_clock(source) -> bool:
    """Whether an event's ``time_source`` is the artifact's own clock (packets, spans, a transcript's text)."""
    return source == "artifact" or str(source).startswith("transcript:")


def _window_notes(inc, df: pd.DataFrame) -> None:
    """Note the events that fall outside the manifest's window (without one: outside the span of the
    events that carry their own clock — packets, spans, a transcript's log)."""
    start, end = inc.manifest_window
    what = "the incident window"
    if (start is None or end is None) and len(df):
        clocked = df[df["time_source"].map(has_own_clock)]
        if len(clocked):
            start, end = clocked["time"].min(), clocked["end"].fillna(clocked["time"]).max()
            what = "the span of the evidence's own clocks"
    if start is None or end is None or not len(df):
        return
    out = df[(df["time"] < start - WINDOW_SLACK) | (df["time"] > end + WINDOW_SLACK)]
    for (art, src), g in out.groupby(["artifact", "time_source"], sort=False):
        t = g["time"].iloc[0]
        side = "before" if t < start else "after"
        gap = (start - t) if side == "before" else (t - end)
        inc.notes.append(f"timeline: {len(g)} event(s) of {art} fall {_duration(gap)} {side} {what} "
                         f"({start.isoformat()} – {end.isoformat()}); their time comes from {src}")


def _duration(td: pd.Timedelta) -> str:
    s = td.total_seconds()
    if s >= 86400:
        return f"{s / 86400:.1f} days"
    if s >= 3600:
        return f"{s / 3600:.1f} h"
    return f"{s / 60:.1f} min" if s >= 60 else f"{s:.1f} s"


def build_timeline(inc) -> pd.DataFrame:
    """Every event of every loaded artifact, sorted by time (UTC)."""
    frames = [manifest_events(inc)]
    previous_of = {f: prev for fam in PAIRED for f, prev in pairs(inc, fam).items()}
    for art in inc.loaded():
        entry = kinds.get(art.kind)
        if entry is None or not entry.timeline:
            continue
        prev = previous_of.get(art.file)
        try:
            builder = kinds.resolve(entry.timeline)
            if _takes_previous(builder):
                ev = builder(art.result, previous=prev.result if prev is not None else None)
            else:
                ev = builder(art.result)
            if ev is None or not len(ev):
                continue
            frames.append(_place(inc, art, ev, prev))
        except Exception as e:  # keep the other artifacts' events; the evidence's provenance stays as loaded
            inc.notes.append(f"timeline: {art.file}: could not build events: {type(e).__name__}: {e}")
    frames = [f for f in frames if len(f)]
    df = pd.concat([f.reindex(columns=COLUMNS) for f in frames], ignore_index=True) if frames else \
        pd.DataFrame(columns=COLUMNS)
    for col in ("time", "end"):
        df[col] = pd.to_datetime(df[col], utc=True).astype("datetime64[ns, UTC]")
    df["detail"] = [clean_text(d) for d in df["detail"]]
    df = df.astype({"service": object, "host": object, "crash_class": object})
    for col in ("service", "host", "crash_class", "ref"):
        df[col] = df[col].where(df[col].notna(), None)
    df["severity_rank"] = df["severity"].map(SEVERITY_ORDER).fillna(0).astype(int)
    df = df.sort_values(["time", "severity_rank"], ascending=[True, False], kind="stable").reset_index(drop=True)
    df = df.drop(columns="severity_rank")
    _window_notes(inc, df)
    return df


def key_events(tl: pd.DataFrame, max_rows: int = 15) -> pd.DataFrame:
    """The error and critical events, one per kind/service/artifact (one per statement for query findings).

    What a reader should see first; the full timeline keeps everything.
    """
    severe = tl[tl["severity"].isin(["error", "critical"])]
    key = (severe["kind"].astype(str) + "|" + severe["service"].astype(str) + "|" + severe["artifact"].astype(str)
           + "|" + severe["ref"].where(severe["kind"] == "query-finding", "").astype(str))
    return severe[~key.duplicated()].head(max_rows)
