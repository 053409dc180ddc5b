"""Cross-artifact links: which rows of different artifacts speak of the same thing.

Each link is ``{"a": {"artifact_kind", "artifact", "ref"}, "b": {…}, "type", "reason", "confidence"}``.
``ref`` is the stream id (pcap), span id (traces), queryid (pg_stat_statements), site/type
(heap) or file (gdb). Confidence is a plain number in [0, 1] with the reason in words:

* ``endpoint`` — ip:port of a captured flow ↔ a service: from ``incident.toml`` (1.0), from trace
  tags ``net.peer.ip``/``server.address`` + port + ``peer.service`` (0.9), or a well-known port (0.4);
* ``retransmissions-span`` — a stream with retransmissions ↔ client spans between the same two
  services that were in flight when a segment was retransmitted (0.8; same services and window only 0.5);
* ``span-statement`` — db spans ↔ pg_stat_statements rows with the same statement fingerprint
  (0.9 when the statement has a finding, else 0.7);
* ``crash-preceding`` — a crash ↔ the last request its host made, errors, resets and recorded
  events just before it (0.8 for the host's own failing request, 0.4–0.6 for nearby errors);
* ``heap-latency`` — heap growth ↔ GC pauses / slow spans of the same service (0.7 / 0.5);
* ``reset-error`` — RSTs on a stream ↔ client error spans to the same ip:port within a second (0.8).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .endpoints import flows_of, traces_of
from .timeline import pgss_pairs

CRASH_LOOKBACK_S = 30.0


def _ref(kind, artifact, ref) -> dict:
    return {"artifact_kind": kind, "artifact": artifact, "ref": str(ref)}


def _link(a, b, type_, reason, confidence) -> dict:
    return {"a": a, "b": b, "type": type_, "reason": reason, "confidence": round(float(confidence), 2)}


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
        ev = tl[(tl["artifact"] == art.file) & (tl["kind"] == "retransmissions")]
        for _, e in ev.iterrows():
            stream = int(e["ref"].split()[1])
            flows = flows_of(inc, art)
            f = flows.loc[flows["stream"] == stream].iloc[0]
            frames = cap.packets.set_index("frame").loc[e["source_rows"], "time"]
            rt = frames.dt.tz_convert(None).to_numpy().astype("datetime64[ns]").astype(np.int64) // 1000  # µs
            cli_svc, srv_svc = inc.service_for(f["client"]), inc.service_for(f["server"], f["server_port"])
            # spans do not record the client port: other connections between the same hosts at the same
            # time could have carried the request instead
            t_lo, t_hi = frames.min(), frames.max()
            siblings = flows[(flows["client"] == f["client"]) & (flows["server"] == f["server"])
                             & (flows["server_port"] == f["server_port"]) & (flows["start"] <= t_hi) & (flows["end"] >= t_lo)]
            shared = len(siblings) > 1
            for t_art, spans, attrs in traces_of(inc):
                exact = (attrs["peer_ip"] == f["server"]) & (attrs["peer_port"] == f["server_port"])
                by_svc = (spans["service"] == cli_svc) & (spans["peer_service"] == srv_svc) if cli_svc else exact
                cand = spans[(spans["kind"] == "client") & (exact | by_svc)]
                s0, s1 = cand["start_us"].to_numpy(), cand["end_us"].to_numpy()
                inflight = ((s0[:, None] <= rt[None, :]) & (rt[None, :] <= s1[:, None])).sum(axis=1) if len(rt) else 0
                cand = cand.assign(inflight=inflight)
                hit = cand[cand["inflight"] > 0].sort_values(["inflight", "duration_us"], ascending=False)
                conf, how = 0.8, "was in flight when a segment was retransmitted"
                if not len(hit):
                    w0, w1 = rt.min() - 1_000_000, rt.max() + 1_000_000
                    hit = cand[(cand["end_us"] >= w0) & (cand["start_us"] <= w1)].sort_values("duration_us", ascending=False)
                    conf, how = 0.5, "overlaps the retransmission burst (±1 s)"
                note = (f"; one of {len(siblings)} connections open between these endpoints then (spans do not "
                        f"record the client port)" if shared else "")
                for i, s in hit.head(max_per_burst).iterrows():
                    out.append(_link(_ref("network", art.file, f"stream {stream}"),
                                     _ref("traces", t_art.file, s["span_id"]), "retransmissions-span",
                                     f"{s['service']} → {s['peer_service']} span {s['operation']} "
                                     f"({s['duration_us'] / 1000:.0f} ms) {how} on {f['client']}→"
                                     f"{f['server']}:{f['server_port']} ({len(rt)} retransmission(s) in the burst){note}",
                                     (conf if bool(exact.loc[i]) else conf - 0.1) - (0.1 if shared else 0.0)))
    return out


# --------------------------------------------------------------------------- spans ↔ statements
def statement_links(inc) -> list[dict]:
    # pglast is heavy: imported only when an incident has pg_stat_statements pairs to match
    from ..postgres.analysis import delta, rank
    from ..postgres.fingerprint import fingerprint

    out = []
    pairs = pgss_pairs(inc)
    if not pairs:
        return out
    for before, after in pairs:
        r = rank(delta(before.result, after.result), by="total_exec_time")
        r = r.assign(fp=[fingerprint(q) for q in r["query"]])
        for t_art, spans, attrs in traces_of(inc):
            db = attrs[attrs["statement"].notna()]
            if not len(db):
                continue
            db = db.assign(fp=[fingerprint(q) for q in db["statement"]], dur=spans.loc[db.index, "duration_us"])
            groups = dict(list(db.groupby("fp")))
            for _, q in r.iterrows():  # in rank order: the statement that cost most first
                g = groups.get(q["fp"])
                if g is None:
                    continue
                worst = spans.loc[g["dur"].idxmax()]
                p50 = g["dur"].median() / 1000
                finds = [x for x in (q.get("findings") or []) if not str(x).startswith(("nested", "text_cut"))]
                codes = ", ".join(str(x).split(":")[0] for x in finds)
                out.append(_link(_ref("traces", t_art.file, worst["span_id"]),
                                 _ref("postgres", after.file, q["queryid"]), "span-statement",
                                 f"{len(g)} {worst['service']} db span(s) (median {p50:.0f} ms, slowest "
                                 f"{worst['duration_us'] / 1000:.0f} ms) run the statement with fingerprint {q['fp']}, "
                                 f"queryid {q['queryid']}: {int(q['calls'])} calls, mean "
                                 f"{float(q['mean_exec_time']):.1f} ms in the interval"
                                 + (f"; findings: {codes}" if codes else ""), 0.9 if finds else 0.7))
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
                                 f"({s['status_message']})", 0.5))
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
    out = []
    tl = inc.timeline
    for art in inc.loaded("network"):
        flows = flows_of(inc, art)
        if flows is None:
            continue
        flows = flows.set_index("stream")
        for _, e in tl[(tl["artifact"] == art.file) & (tl["kind"] == "reset")].iterrows():
            f = flows.loc[int(e["ref"].split()[1])]
            t_us = e["time"].value // 1000
            for t_art, spans, attrs in traces_of(inc):
                m = spans[spans["error"] & (spans["kind"] == "client") & (attrs["peer_ip"] == f["server"])
                          & (attrs["peer_port"] == f["server_port"])]
                if not len(m):
                    continue
                gap = (m["start_us"] - t_us).abs()
                if gap.min() <= 1_000_000:
                    s = m.loc[gap.idxmin()]
                    out.append(_link(_ref("network", art.file, e["ref"]), _ref("traces", t_art.file, s["span_id"]),
                                     "reset-error", f"RST on {f['client']}→{f['server']}:{f['server_port']} "
                                     f"{gap.min() / 1000:.0f} ms from a failed {s['service']} call: {s['status_message']}",
                                     0.8))
    return out


FINDERS = [endpoint_links, retransmission_links, statement_links, crash_links, heap_links, reset_links]


def find_links(inc) -> list[dict]:
    """Every link the finders can make; a finder that fails is noted in ``inc.notes``."""
    out = []
    for fn in FINDERS:
        try:
            out += fn(inc)
        except Exception as e:  # one missing loader or odd artifact must not hide the other links
            inc.notes.append(f"links: {fn.__name__} failed: {type(e).__name__}: {e}")
    return out
