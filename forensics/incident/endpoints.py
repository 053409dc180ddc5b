"""Who is who: ip, port → service, host, from the manifest, trace tags and well-known ports.

Also the per-artifact tables the timeline and links share, built once per artifact and kept in
``Artifact.derived``: a capture's flows (:func:`flows_of`) and the span attributes of a trace
export (:func:`span_attrs`, :func:`traces_of`).
"""
from __future__ import annotations

import pandas as pd

WELL_KNOWN_PORTS = {5432: "postgresql", 3306: "mysql", 6379: "redis", 27017: "mongodb", 9092: "kafka",
                    11211: "memcached", 53: "dns"}
_PEER_IP = ("net.peer.ip", "server.address", "net.sock.peer.addr", "network.peer.address")
_PEER_PORT = ("net.peer.port", "server.port", "net.sock.peer.port", "network.peer.port")


# --------------------------------------------------------------------------- span attributes
def span_attrs(ts) -> pd.DataFrame:
    """One row per span (same index as ``spans``) with peer ip/port, host ip/port, db statement."""
    tags = ts.tags
    want = set(_PEER_IP + _PEER_PORT + ("net.host.ip", "net.host.port", "db.statement", "db.system",
                                        "peer.service", "http.target"))
    t = tags[tags["key"].isin(want)]
    wide = t.pivot_table(index="span", columns="key", values="value", aggfunc="first")
    out = pd.DataFrame(index=ts.spans.index)

    def first_of(keys):
        s = pd.Series(pd.NA, index=wide.index, dtype=object)
        for k in keys:
            if k in wide:
                s = s.fillna(wide[k])
        return s.reindex(out.index)

    out["peer_ip"] = first_of(_PEER_IP)
    out["peer_port"] = pd.to_numeric(first_of(_PEER_PORT), errors="coerce")
    out["host_ip"] = first_of(("net.host.ip",))
    out["host_port"] = pd.to_numeric(first_of(("net.host.port",)), errors="coerce")
    out["statement"] = first_of(("db.statement",))
    return out


def flows_of(inc, art) -> pd.DataFrame | None:
    """The capture's flows table, or None (noted on the incident) when it cannot be built."""
    if "flows" not in art.derived:
        try:
            art.derived["flows"] = art.result.flows
        except Exception as e:  # a defect in the flows builder must not hide the rest
            art.derived["flows"] = None
            inc.notes.append(f"{art.file}: flows table unavailable: {type(e).__name__}: {e}")
    return art.derived["flows"]


def traces_of(inc):
    """(artifact, spans, span attributes) of every loaded trace export (attributes built once)."""
    for art in inc.loaded("traces"):
        if "span_attrs" not in art.derived:
            art.derived["span_attrs"] = span_attrs(art.result)
        yield art, art.result.spans, art.derived["span_attrs"]


# --------------------------------------------------------------------------- endpoints
def endpoint_table(inc) -> pd.DataFrame:
    """ip, port → service, host with where it was learned and how sure that is."""
    rows = []
    for e in inc.manifest.get("endpoints") or []:
        if isinstance(e, dict) and e.get("ip"):
            rows.append({"ip": str(e["ip"]), "port": e.get("port"), "service": e.get("service"), "host": e.get("host"),
                         "source": "incident.toml", "confidence": 1.0, "reason": "listed in incident.toml"})
    for art, spans, attrs in traces_of(inc):
        client = attrs[(spans["kind"] == "client") & attrs["peer_ip"].notna() & spans["peer_service"].notna()]
        for (ip, port, svc), g in client.join(spans[["peer_service"]]).groupby(
                ["peer_ip", "peer_port", "peer_service"], dropna=False):
            rows.append({"ip": str(ip), "port": None if pd.isna(port) else int(port), "service": svc, "host": None,
                         "source": art.file, "confidence": 0.9,
                         "reason": f"{len(g)} client span(s) tagged peer.service={svc} at {ip}:{'' if pd.isna(port) else int(port)}"})
        server = attrs[(spans["kind"] == "server") & attrs["host_ip"].notna()]
        for (ip, port, svc, host), g in server.join(spans[["service", "host"]]).groupby(
                ["host_ip", "host_port", "service", "host"], dropna=False):
            rows.append({"ip": str(ip), "port": None if pd.isna(port) else int(port), "service": svc,
                         "host": None if pd.isna(host) else host, "source": art.file, "confidence": 0.9,
                         "reason": f"{len(g)} server span(s) of {svc} tagged net.host.ip={ip}"})
    for art in inc.loaded("network"):
        flows = flows_of(inc, art)
        if flows is None:
            continue
        for port, svc in WELL_KNOWN_PORTS.items():
            for ip in flows.loc[flows["server_port"] == port, "server"].unique():
                rows.append({"ip": str(ip), "port": port, "service": svc, "host": None, "source": art.file,
                             "confidence": 0.4, "reason": f"well-known port {port} ({svc})"})
    df = pd.DataFrame(rows, columns=["ip", "port", "service", "host", "source", "confidence", "reason"])
    df["port"] = pd.array(df["port"], dtype="Int64")
    return df.sort_values(["confidence"], ascending=False, kind="stable").reset_index(drop=True)


def lookup_service(endpoints: pd.DataFrame, ip, port=None) -> str | None:
    """Best-known service at ``ip:port`` (exact port first, then any entry for the ip)."""
    if ip is None or not len(endpoints):
        return None
    m = endpoints[endpoints["ip"] == str(ip)]
    if port is not None and not pd.isna(port):
        exact = m[m["port"] == int(port)]
        if len(exact):
            return exact.iloc[0]["service"]
    hostonly = m[m["port"].isna()]
    if len(hostonly):
        return hostonly.iloc[0]["service"]
    return m.iloc[0]["service"] if len(m) else None


def lookup_host(endpoints: pd.DataFrame, ip) -> str | None:
    m = endpoints[(endpoints["ip"] == str(ip)) & endpoints["host"].notna()]
    return m.iloc[0]["host"] if len(m) else None
