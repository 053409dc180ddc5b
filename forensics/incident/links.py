"""Cross-artifact links: which rows of different artifacts speak of the same thing.

Each link is ``{"a": {"artifact_kind", "artifact", "ref"}, "b": {…}, "type", "basis", "reason",
"confidence"}``. ``ref`` is the stream (network), span id (traces), queryid (postgres), site/type
(memory) or file (crashes). ``basis`` says what kind of evidence the link rests on, and links are
ranked by it — an identifier both rows carry first, then a shared fingerprint or endpoint, then
closeness in time — and by confidence within each:

* ``trace-id`` (identifier) — a trace/span id (W3C ``traceparent``, 32/16 hex) that appears in a
  log line or a gdb transcript, a sqlcommenter comment in pg_stat_statements, the HTTP headers of a
  capture, and in a trace export or another artifact (0.95 with a trace export, 0.9 between two
  other artifacts; :mod:`.identifiers`);
* ``span-statement`` (fingerprint) — db spans ↔ pg_stat_statements rows with the same statement
  fingerprint (0.9 with a finding, else 0.7; the postgres entry's ``links`` in :mod:`forensics.kinds`);
* ``endpoint`` (endpoint) — ip:port of a captured flow ↔ a service: ``incident.toml`` (1.0), trace
  tags (0.9), a well-known port (0.4);
* ``retransmissions-span`` (time-window) — a retransmission burst ↔ client spans between the same
  endpoints in flight when a segment was retransmitted (0.8; overlapping only 0.5);
* ``crash-preceding`` (time-window) — a crash ↔ the last request its host made, errors, resets and
  recorded events just before it (0.4–0.8);
* ``heap-latency`` (time-window) — heap growth ↔ GC pauses / slow spans of the same service (0.7 / 0.5);
* ``reset-error`` (time-window) — a reset burst ↔ failed client calls to the same ip:port during it (0.8).

A kind adds its own finders through its entry's ``links``; a finder that fails is noted in
``inc.notes``. No reason prints ``nan`` or ``None``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .. import kinds
from .endpoints import flows_of, traces_of
from .identifiers import mentions, norm_id
from .timeline import clean_text

CRASH_LOOKBACK_S = 30.0


def _ref(kind, artifact, ref) -> dict:
    return {"artifact_kind": kind, "artifact": artifact, "ref": str(ref)}


#: what a link rests on, strongest first (the order links are ranked in)
BASES = ["identifier", "fingerprint", "endpoint", "time-window"]
_BASIS = {"trace-id": "identifier", "span-statement": "fingerprint", "endpoint": "endpoint"}


def _link(a, b, type_, reason, confidence) -> dict:
    return {"a": a, "b": b, "type": type_, "basis": _BASIS.get(type_, "time-window"), "reason": reason,
            "confidence": round(float(confidence), 2)}


def _short(trace_id) -> str:
    return str(trace_id)[:12] + "…"


def endpoint_links(inc) -> list[dict]:
    out = []
    ep = inc.endpoints
    for art in inc.loaded("network"):
        flows = flows_of(inc, art)
        if flows is None:
            continue
        for (ip, port), g in flows.groupby(["server", "server_port"]):
            m = ep[(ep["ip"] == str(ip)) & (ep["port"] == int(port))]
            if not len(m):
                continue
            best = m.iloc[0]
            a = _ref("network", art.file, f"stream {int(g['stream'].iloc[0])}")
            b = _ref("manifest", "incident.toml", "endpoints") if best["source"] == "incident.toml" else None
            for t_art, spans, attrs in traces_of(inc):
                hit = attrs[(attrs["peer_ip"] == str(ip)) & (attrs["peer_port"] == int(port))]
                if len(hit):
                    b = b or _ref("traces", t_art.file, spans.loc[hit.index[0], "span_id"])
                    if best["source"] == "incident.toml":
                        out.append(_link(a, _ref("traces", t_art.file, spans.loc[hit.index[0], "span_id"]),
                                         "endpoint", f"{ip}:{port} is {best['service']}: {len(hit)} span(s) call it "
                                         f"(net.peer.ip/port), and incident.toml agrees", 0.9))
            if b is not None:
                out.append(_link(a, b, "endpoint", f"{ip}:{port} is {best['service']} ({best['reason']}); "
                                 f"{len(g)} stream(s) in the capture", best["confidence"]))
    return out


# --------------------------------------------------------------------------- flows ↔ spans
def retransmission_links(inc, max_per_burst: int = 3) -> list[dict]:
    out = []
    tl = inc.timeline
    for art in inc.loaded("network"):
        cap = art.result
        flows = flows_of(inc, art)
        if flows is None:
            continue
        frames_all = cap.packets.set_index("frame")[["time", "stream"]]
        ev = tl[(tl["artifact"] == art.file) & (tl["kind"] == "retransmissions")]
        for _, e in ev.iterrows():
            burst = frames_all.loc[e["source_rows"]]
            made = 0
            for stream, frames in burst.groupby("stream"):
                if made >= max_per_burst:
                    break
                f = flows.loc[flows["stream"] == stream].iloc[0]
                rt = frames["time"].dt.tz_convert(None).to_numpy().astype("datetime64[ns]").astype(np.int64) // 1000
                cli_svc, srv_svc = inc.service_for(f["client"]), inc.service_for(f["server"], f["server_port"])
                # spans do not record the client port: other connections between the same hosts at the same
                # time could have carried the request instead
                t_lo, t_hi = frames["time"].min(), frames["time"].max()
                siblings = flows[(flows["client"] == f["client"]) & (flows["server"] == f["server"])
                                 & (flows["server_port"] == f["server_port"]) & (flows["start"] <= t_hi)
                                 & (flows["end"] >= t_lo)]
                shared = len(siblings) > 1
                for t_art, spans, attrs in traces_of(inc):
                    exact = (attrs["peer_ip"] == f["server"]) & (attrs["peer_port"] == f["server_port"])
                    by_svc = (spans["service"] == cli_svc) & (spans["peer_service"] == srv_svc) if cli_svc else exact
                    cand = spans[(spans["kind"] == "client") & (exact | by_svc)]
                    s0, s1 = cand["start_us"].to_numpy(), cand["end_us"].to_numpy()
                    inflight = ((s0[:, None] <= rt[None, :]) & (rt[None, :] <= s1[:, None])).sum(axis=1)
                    cand = cand.assign(inflight=inflight)
                    hit = cand[cand["inflight"] > 0].sort_values(["inflight", "duration_us"], ascending=False)
                    conf, how = 0.8, "was in flight when a segment was retransmitted"
                    if not len(hit):
                        w0, w1 = rt.min() - 1_000_000, rt.max() + 1_000_000
                        hit = cand[(cand["end_us"] >= w0) & (cand["start_us"] <= w1)].sort_values(
                            "duration_us", ascending=False)
                        conf, how = 0.5, "overlaps the retransmission burst (±1 s)"
                    note = (f"; one of {len(siblings)} connections open between these endpoints then (spans do not "
                            f"record the client port)" if shared else "")
                    for i, s in hit.head(max_per_burst - made).iterrows():
                        made += 1
                        out.append(_link(_ref("network", art.file, f"stream {int(stream)}"),
                                         _ref("traces", t_art.file, s["span_id"]), "retransmissions-span",
                                         f"{clean_text(s['service'])} → {clean_text(s['peer_service'])} span "
                                         f"{clean_text(s['operation'])} ({s['duration_us'] / 1000:.0f} ms) {how} on "
                                         f"{f['client']}→{f['server']}:{f['server_port']} ({len(rt)} "
                                         f"retransmission(s) on this connection in the burst){note}",
                                         (conf if bool(exact.loc[i]) else conf - 0.1) - (0.1 if shared else 0.0)))
    return out


# --------------------------------------------------------------------------- crash ↔ what came before
def crash_links(inc) -> list[dict]:
    out = []
    tl = inc.timeline
    ep = inc.endpoints
    for _, c in tl[tl["kind"] == "crash"].iterrows():
        t_us = c["time"].value // 1000
        lo = t_us - int(CRASH_LOOKBACK_S * 1e6)
        a = _ref("crashes", c["artifact"], c["artifact"])
        ips = set(ep.loc[(ep["host"] == c["host"]) | (ep["service"] == c["service"]), "ip"]) if c["host"] or c["service"] else set()
        for t_art, spans, attrs in traces_of(inc):
            mine = spans[(attrs["peer_ip"].isin(ips)) & (spans["kind"] == "server") & (spans["start_us"] <= t_us)
                         & (spans["start_us"] >= lo)]
            if len(mine):
                last = mine.loc[mine["start_us"].idxmax()]
                bad = bool(last["error"]) or last["duration_us"] > 5 * mine["duration_us"].quantile(0.25)
                out.append(_link(a, _ref("traces", t_art.file, last["span_id"]), "crash-preceding",
                                 f"the last request from {c['service']} ({', '.join(sorted(ips))}) before the crash: "
                                 f"{last['service']} {last['operation']} took {last['duration_us'] / 1000:.0f} ms"
                                 + (" and failed" if last["error"] else "") +
                                 f", started {(t_us - last['start_us']) / 1e6:.1f} s before the crash",
                                 0.8 if bad else 0.5))
            failing = spans[spans["error"] & (spans["start_us"] >= t_us - 10_000_000) & (spans["start_us"] <= t_us)]
            for (svc, op), g in failing.groupby(["service", "operation"]):
                s = g.loc[g["start_us"].idxmax()]
                out.append(_link(a, _ref("traces", t_art.file, s["span_id"]), "crash-preceding",
                                 f"{len(g)} error span(s) of {svc} {op} in the 10 s before the crash "
                                 f"({clean_text(s['status_message'], 'no status message')})", 0.5))
        near = tl[(tl["time"] >= c["time"] - pd.Timedelta(seconds=5)) & (tl["time"] <= c["time"] + pd.Timedelta(seconds=1))]
        for _, e in near[near["kind"].isin(["reset", "note"])].drop_duplicates(["kind", "service"]).iterrows():
            dt = (c["time"] - e["time"]).total_seconds()
            out.append(_link(a, _ref(e["artifact_kind"], e["artifact"], e["ref"]), "crash-preceding",
                             f"{e['kind']} {dt:+.1f} s before the crash: {e['detail']}", 0.6 if e["kind"] == "note" else 0.4))
    return out


# --------------------------------------------------------------------------- heap ↔ latency
def heap_links(inc) -> list[dict]:
    out = []
    tl = inc.timeline
    for _, h in tl[tl["kind"] == "heap-growth"].drop_duplicates("artifact").iterrows():
        same = tl[(tl["service"] == h["service"]) & tl["kind"].isin(["gc-pause", "slow-span"])]
        gc = same[same["kind"] == "gc-pause"]
        if len(gc):
            ms = gc["detail"].str.extract(r"([\d.]+) ms$")[0].astype(float)
            worst = gc.loc[ms.idxmax()] if ms.notna().any() else gc.iloc[-1]
            grows = ms.notna().any() and ms.max() >= 2 * ms.dropna().iloc[0]
            out.append(_link(_ref("memory", h["artifact"], h["ref"]), _ref("traces", worst["artifact"], worst["ref"]),
                             "heap-latency", f"{h['service']} grows ({h['detail']}) and its spans record "
                             f"{len(gc)} GC pause(s)" + (f", from {ms.dropna().iloc[0]:.0f} ms to {ms.max():.0f} ms"
                                                         if ms.notna().any() else ""), 0.7 if grows else 0.5))
        for _, s in same[same["kind"] == "slow-span"].head(3).iterrows():
            out.append(_link(_ref("memory", h["artifact"], h["ref"]), _ref("traces", s["artifact"], s["ref"]),
                             "heap-latency", f"slow spans of the same service while its heap grows: {s['detail']}", 0.5))
    return out


def reset_links(inc) -> list[dict]:
    """A reset burst ↔ the failed client calls to the same ip:port during it (±1 s): one link per burst."""
    out = []
    tl = inc.timeline
    for art in inc.loaded("network"):
        flows = flows_of(inc, art)
        if flows is None:
            continue
        stream_of = art.result.packets.set_index("frame")["stream"]
        flows = flows.set_index("stream")
        for _, e in tl[(tl["artifact"] == art.file) & (tl["kind"] == "reset")].iterrows():
            streams = sorted(set(stream_of.loc[e["source_rows"]]))
            f = flows.loc[streams[0]]
            t0, t1 = e["time"].value // 1000 - 1_000_000, e["end"].value // 1000 + 1_000_000
            for t_art, spans, attrs in traces_of(inc):
                m = spans[spans["error"] & (spans["kind"] == "client") & (attrs["peer_ip"] == f["server"])
                          & (attrs["peer_port"] == f["server_port"]) & (spans["start_us"] >= t0)
                          & (spans["start_us"] <= t1)]
                if not len(m):
                    continue
                s = m.iloc[0]
                msgs = m["status_message"].dropna().astype(str).value_counts()
                top = f"; most common error: {msgs.index[0]} ({msgs.iloc[0]:,})" if len(msgs) else ""
                out.append(_link(_ref("network", art.file, f"stream {int(streams[0])}"),
                                 _ref("traces", t_art.file, s["span_id"]), "reset-error",
                                 f"{len(m):,} failed {clean_text(s['service'])} call(s) to {f['server']}:"
                                 f"{f['server_port']} during the burst of {len(streams):,} reset connection(s){top}",
                                 0.8))
    return out


# --------------------------------------------------------------------------- shared identifiers
def _span_index(inc) -> list:
    """Per trace export: (artifact, spans, {span id: row}, {trace id: rows by start}, {parent id: row}), ids normalised."""
    out = []
    for t_art, spans, _ in traces_of(inc):
        sids = spans["span_id"].map(norm_id)
        by_span = dict(zip(sids, spans.index))
        order = spans.sort_values("start_us", kind="stable")
        by_trace = {}
        for tid, idx in zip(order["trace_id"].map(norm_id), order.index):
            by_trace.setdefault(tid, idx)
        by_parent = {}
        for col in ("parent_span_id", "otel_parent_span_id"):  # the parent's id, also when it is not exported
            if col in spans:
                for pid, idx in zip(spans[col], spans.index):
                    if isinstance(pid, str) and pid:
                        by_parent.setdefault(norm_id(pid), idx)
        out.append((t_art, spans, by_span, by_trace, by_parent))
    return out


def _span_for(index, trace_id, span_id):
    """(artifact, span row, how) of the span a mentioned id names: the span itself, its child (the
    id was the caller's span), or the trace's first span."""
    for t_art, spans, by_span, by_trace, by_parent in index:
        sid = norm_id(span_id) if span_id is not None else None
        tid = norm_id(trace_id) if trace_id is not None else None
        if sid is not None and sid in by_span:
            return t_art, spans.loc[by_span[sid]], "is span"
        if tid is not None and tid in by_trace:
            child = by_parent.get(sid) if sid is not None else None
            if child is not None and norm_id(spans.loc[child, "trace_id"]) == tid:
                return t_art, spans.loc[child], "continues the trace as"
            return t_art, spans.loc[by_trace[tid]], "is the trace of"
    return None, None, None


def _where(m) -> str:
    text = f"{m['artifact']} {m['location']}"
    return text + (f" ({m['excerpt'][:200]!r})" if m["excerpt"] else "")


def id_links(inc, max_per_pair: int = 3) -> list[dict]:
    """Links through a trace/span id both rows carry (see :mod:`.identifiers`)."""
    ms = mentions(inc)
    if not len(ms):
        return []
    ms = ms.assign(tid=ms["trace_id"].map(lambda v: norm_id(v) if isinstance(v, str) else None))
    out, per_pair, seen = [], {}, set()
    index = _span_index(inc)
    # the rows that matter most first: a crash's last id before the stop, then statements, then the rest
    order = ms.assign(rank=np.where(ms["key"], 0, np.where(ms["artifact_kind"] == "postgres", 1, 2)))
    order = order.sort_values(["rank"], kind="stable")
    for _, m in order.iterrows():
        t_art, span, how = _span_for(index, m["trace_id"], m["span_id"])
        if span is None:
            continue
        pair = (m["artifact"], t_art.file)
        same = (m["artifact_kind"], m["ref"], str(span["span_id"]))
        if same in seen:  # the same statement in the before and the after dump
            continue
        seen.add(same)
        # a statement is one row each (all kept); a log or capture names an id per request (a few kept)
        if not m["key"] and m["artifact_kind"] != "postgres" and per_pair.get(pair, 0) >= max_per_pair:
            continue
        per_pair[pair] = per_pair.get(pair, 0) + 1
        ident = m["trace_id"] or m["span_id"]
        what = ("the last id the program logged before it stopped: " if m["key"] else "")
        out.append(_link(_ref(m["artifact_kind"], m["artifact"], m["ref"]), _ref("traces", t_art.file, span["span_id"]),
                         "trace-id", f"{what}{m['form']} {_short(ident)} in {_where(m)} {how} "
                         f"{clean_text(span['service'])} {clean_text(span['operation'])} "
                         f"({span['duration_us'] / 1000:.0f} ms{', failed' if span['error'] else ''}) of {t_art.file}",
                         0.95 if m["form"] != "span id" else 0.9))
    # two artifacts that are not traces naming the same trace (with or without a trace export)
    named = ms[ms["tid"].notna()].drop_duplicates(["tid", "artifact"])
    for tid, g in named.groupby("tid", sort=False):
        g = g.sort_values("key", ascending=False)
        if g["artifact"].nunique() < 2:
            continue
        first = g.iloc[0]
        for _, other in g.iloc[1:].iterrows():
            pair = (first["artifact"], other["artifact"])
            if per_pair.get(pair, 0) >= max_per_pair and not first["key"]:
                continue
            per_pair[pair] = per_pair.get(pair, 0) + 1
            out.append(_link(_ref(first["artifact_kind"], first["artifact"], first["ref"]),
                             _ref(other["artifact_kind"], other["artifact"], other["ref"]), "trace-id",
                             f"both name trace {_short(first['trace_id'])}: {_where(first)} and {_where(other)}",
                             0.9))
    return out


#: the incident's own finders; kinds add theirs through their entry's ``links`` in forensics.kinds
FINDERS = [id_links, endpoint_links, retransmission_links, crash_links, heap_links, reset_links]


def _kind_finders(inc) -> list:
    names = []
    present = {a.kind for a in inc.loaded()}
    for entry in kinds.KINDS:
        if entry.links and entry.name in present and entry.links not in names:
            names.append(entry.links)
    return names


def rank_links(links: list[dict]) -> list[dict]:
    """Identifier links first, then fingerprint, endpoint, time-window; by confidence within each."""
    return sorted(links, key=lambda l: (BASES.index(l.get("basis", "time-window")), -l["confidence"]))


def find_links(inc) -> list[dict]:
    """Every link the finders can make, ranked (:func:`rank_links`); a finder that fails is noted in ``inc.notes``."""
    out = []
    for fn in FINDERS + _kind_finders(inc):
        name = fn if isinstance(fn, str) else fn.__name__
        try:
            found = (kinds.resolve(fn) if isinstance(fn, str) else fn)(inc)
        except Exception as e:  # one missing loader or odd artifact must not hide the other links
            inc.notes.append(f"links: {name} failed: {type(e).__name__}: {e}")
            continue
        for link in found:
            link.setdefault("basis", _BASIS.get(link.get("type"), "time-window"))
            link["reason"] = clean_text(link["reason"])
        out += found
    return rank_links(out)
