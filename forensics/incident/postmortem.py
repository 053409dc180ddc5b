"""What the postmortem says, computed from the incident — no prose about the data is written here by hand.

Every sentence these functions return is built from the incident's own timeline, links,
artifacts and provenance; where the evidence cannot decide, the sentence says ``unknown`` and why.
The HTML is made elsewhere (:mod:`.report_html`); this module is pure (no I/O).

- :func:`impact` — requests that failed or were slow (traces), crashes, the window;
- :func:`causal_chain` — the artifacts with error or critical events, in time order, each with
  its headline event and the links (type, confidence, reason) that join it to the other steps;
- :func:`open_questions` — what the evidence leaves open;
- :func:`provenance_table` — file, size, SHA-256, parser, warnings; paths relative to the incident.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import pandas as pd

from ..display import MISSING, duration, timestamp
from ..traces import analysis as traces_analysis
from ..traces.events import slow_threshold_us

SEVERITY = {"info": 0, "warning": 1, "error": 2, "critical": 3}
#: link types that say two rows are the same thing (an address is a service), not that one led to the other
IDENTITY_LINKS = {"endpoint"}
LOW_CONFIDENCE = 0.5


def _when(t) -> str:
    return timestamp(t) if t is not None and not pd.isna(t) else MISSING


def _weight(rows) -> int:
    try:
        return len(rows)
    except TypeError:
        return 1


# --------------------------------------------------------------------------- impact
def request_stats(ts) -> dict:
    """Failed and slow requests (root spans) of one trace set; slow uses the timeline's own rule."""
    summary = traces_analysis.trace_summary(ts)
    n = len(summary)
    failed = summary[summary["root_error"].astype(bool)]
    ok = summary[~summary["root_error"].astype(bool)]
    out = {"requests": n, "failed": len(failed), "slow": 0, "slow_threshold_us": None, "first_failure": None,
           "last_failure": None, "causes": pd.DataFrame(), "summary": summary}
    if n > 1:  # slow is measured against the other requests: one request has nothing to compare with
        thr = slow_threshold_us(summary["duration_us"])
        out["slow_threshold_us"] = thr
        out["slow"] = int((ok["duration_us"] > thr).sum())
    if len(failed):
        out["first_failure"] = failed["start"].min()
        out["last_failure"] = (failed["start"] + pd.to_timedelta(failed["duration_us"], unit="us")).max()
        causes = traces_analysis.error_correlation(ts)
        if len(causes) and "failing_traces" in causes:  # most failing traces first; on a tie the deepest span
            keys = ["failing_traces"] + (["depth"] if "depth" in causes else [])
            causes = causes.sort_values(keys, ascending=False, kind="stable").reset_index(drop=True)
        out["causes"] = causes
    return out


def impact(inc) -> list[str]:
    """Sentences on what users saw and when, from the evidence."""
    lines = []
    start, end = inc.window
    src = "the manifest" if all(inc.manifest_window) else "the first and last event on the timeline"
    tl = inc.timeline
    undated = (not all(inc.manifest_window) and len(tl) and "time_source" in tl
               and tl["time_source"].map(_unreliable).all())
    if undated:
        lines.append("Window: unknown — no event carries a clock of its own (no manifest window; the only times are "
                     "the files' modification times, which say when they were written or copied).")
    elif start is not None and end is not None:
        lines.append(f"Window: {_when(start)} → {_when(end)} UTC ({duration((end - start).total_seconds())}), "
                     f"from {src}.")
    else:
        lines.append("Window: unknown (no manifest window and no timestamped event).")
    for art in inc.loaded("traces"):
        try:
            st = request_stats(art.result)
        except Exception as e:  # the section on this artifact says more
            lines.append(f"{art.file}: requests could not be counted ({type(e).__name__}: {e}).")
            continue
        if not st["requests"]:
            lines.append(f"{art.file}: no complete request (no root span) to count.")
            continue
        text = f"{art.file}: {st['failed']:,} of {st['requests']:,} requests (traces) failed"
        if st["failed"]:
            text += f", from {_when(st['first_failure'])} to {_when(st['last_failure'])} UTC"
        if st["slow_threshold_us"] is not None:
            text += (f"; {st['slow']:,} more were slow (over {duration(st['slow_threshold_us'], 'us')}, "
                     f"the incident's slow threshold for this set)")
        else:
            text += "; whether it was slow is unknown (one request: nothing to compare it with)"
        lines.append(text + ".")
        causes = st["causes"]
        if len(causes):
            top = causes.iloc[0]
            msg = str(top["message"]).splitlines()[0]
            n = int(top["failing_traces"])
            who = ("The failing request fails" if n == st["failed"] == 1 else
                   f"All {n:,} failing requests fail" if n == st["failed"] else
                   f"Most failing requests ({n:,} of {st['failed']:,}) fail")
            lines.append(f"{who} at {top['service']} {top['operation']}: {msg}.")
    crashes = tl[tl["kind"] == "crash"] if len(tl) else tl
    for r in crashes.itertuples():
        cls = getattr(r, "crash_class", None)
        cls = f" ({cls})" if isinstance(cls, str) and cls else ""
        when = (f"at an unknown time (the file's modification time, {_when(r.time)} UTC, is all there is)"
                if _unreliable(getattr(r, "time_source", None)) else f"at {_when(r.time)} UTC")
        lines.append(f"Crash{cls} {when} in {r.artifact}: {r.detail}")
    if not inc.loaded("traces"):
        lines.append("Requests: unknown — the incident holds no traces to count failed or slow requests.")
    return lines


# --------------------------------------------------------------------------- the chain
@dataclass
class Step:
    artifact: str
    family: str
    time: pd.Timestamp
    severity: str
    headline: str
    events: int
    service: str | None = None
    end: pd.Timestamp | None = None                 # the last severe event's end (an interval's close)
    links_in: list = field(default_factory=list)   # links joining this step to earlier steps
    links_out: list = field(default_factory=list)  # links to artifacts outside the chain
    time_source: str | None = None                  # where the step's time came from (timeline's time_source)

    @property
    def unreliable_time(self) -> bool:
        """Dated by the file's modification time (no clock in the content or manifest): its place is unknown."""
        return _unreliable(self.time_source)


def _unreliable(source) -> bool:
    return isinstance(source, str) and ("mtime" in source or "unreliable" in source)


def _link_groups(inc) -> dict[frozenset, list[dict]]:
    groups: dict[frozenset, list[dict]] = {}
    for l in inc.links:
        a, b = l["a"].get("artifact"), l["b"].get("artifact")
        if not a or not b or a == b:
            continue
        groups.setdefault(frozenset((a, b)), []).append(l)
    return groups


def summarise_links(links: list[dict]) -> list[dict]:
    """One row per link type: how many, the highest confidence and that link's reason."""
    out = []
    by_type: dict[str, list[dict]] = {}
    for l in links:
        by_type.setdefault(l.get("type") or "link", []).append(l)
    for t, ls in by_type.items():
        best = max(ls, key=lambda l: l["confidence"])
        out.append({"type": t, "links": len(ls), "confidence": float(best["confidence"]), "reason": best["reason"],
                    "identity": t in IDENTITY_LINKS})
    return sorted(out, key=lambda r: (r["identity"], -r["confidence"]))


def causal_chain(inc) -> list[Step]:
    """Artifacts with error or critical events, earliest first, joined by the incident's links.

    Each step's headline is its most severe event with the most source rows (the earliest on a tie).
    The order is by time; whether one step led to the next is only as sure as the links between
    them (``links_in``) — a step with none is ordered by time only.
    """
    tl = inc.timeline
    if not len(tl):
        return []
    sev = tl["severity"].map(SEVERITY).fillna(0)
    severe = tl[sev >= SEVERITY["error"]]
    steps = []
    for artifact, rows in severe.groupby("artifact", sort=False):
        if artifact == "incident.toml":
            continue
        top = rows["severity"].map(SEVERITY).max()
        cand = rows[rows["severity"].map(SEVERITY) == top]
        weights = cand["source_rows"].map(_weight)
        head = cand.loc[weights[weights == weights.max()].index].sort_values("time").iloc[0]
        first = rows.loc[rows["time"].idxmin()] if rows["time"].notna().any() else head
        steps.append(Step(artifact=str(artifact), family=str(head["artifact_kind"]), time=rows["time"].min(),
                          severity=str(head["severity"]), headline=str(head["detail"]), events=len(rows),
                          service=head["service"] if isinstance(head["service"], str) else None,
                          end=rows["end"].max() if "end" in rows and rows["end"].notna().any() else None,
                          time_source=first.get("time_source") if isinstance(first.get("time_source"), str) else None))
    steps.sort(key=lambda s: (s.time, s.artifact))
    groups = _link_groups(inc)
    names = [s.artifact for s in steps]
    for i, s in enumerate(steps):
        for j in range(i):
            ls = groups.get(frozenset((s.artifact, names[j])), [])
            if ls:
                s.links_in.append({"to": names[j], "summary": summarise_links(ls)})
        for key, ls in groups.items():
            if s.artifact in key:
                other = next(iter(key - {s.artifact}))
                if other not in names and other != "incident.toml":
                    s.links_out.append({"to": other, "summary": summarise_links(ls)})
    return steps


def _step_label(s: Step) -> str:
    who = f" {s.service}" if s.service else ""
    return f"{s.family}{who} ({s.artifact})"


def _undated(prev: Step, s: Step) -> str | None:
    """'X is dated only by the file's modification time: order unknown', or None when both have a clock."""
    dated = [x.artifact for x in (prev, s) if x.unreliable_time]
    if not dated:
        return None
    return (f"{' and '.join(dated)} {'is' if len(dated) == 1 else 'are'} dated only by the file's modification "
            f"time: order unknown")


def _time_only(prev: Step, s: Step) -> str:
    """What orders two unlinked steps: their times and the gap, or nothing when a time is a file's mtime."""
    undated = _undated(prev, s)
    if undated:
        return f"no link found, and {undated}"
    gap = (s.time - prev.time).total_seconds() if s.time is not None and prev.time is not None else None
    later = f", {duration(gap)} later" if gap is not None and gap == gap else ""
    return f"no link found: ordered by time only{later}"


def chain_statement(steps: list[Step]) -> str:
    """The chain in one sentence: each arrow says how sure the link is (or that only time orders it)."""
    if not steps:
        return "No artifact recorded an error or critical event, so there is no chain to state."
    if len(steps) > 1 and not any(li["summary"] for s in steps for li in s.links_in):
        lead = ("No link joins any two of these steps and none has a clock of its own: neither their order nor a "
                "cause is known: " if all(s.unreliable_time for s in steps) else
                "No link joins any two of these steps, so this is a list in time order, not a chain of causes: ")
    else:
        lead = ""
    parts = [lead + _step_label(steps[0])]
    for prev, s in zip(steps, steps[1:]):
        causal = [r for li in s.links_in if li["to"] == prev.artifact for r in li["summary"] if not r["identity"]]
        if causal:
            best = max(causal, key=lambda r: r["confidence"])
            parts.append(f"→ [{best['type']}, confidence {best['confidence']:.2f}] {_step_label(s)}")
        else:
            earlier = [r for li in s.links_in for r in li["summary"] if not r["identity"]]
            how = (f"linked to an earlier step by {earlier[0]['type']} ({earlier[0]['confidence']:.2f})" if earlier
                   else _time_only(prev, s))
            parts.append(f"→ [{how}] {_step_label(s)}")
    return " ".join(parts)


# --------------------------------------------------------------------------- what is left open
def open_questions(inc, steps: list[Step], coverage: dict[str, str | None]) -> list[str]:
    """Questions the evidence leaves open, each computed from a gap in it."""
    qs = []
    for prev, s in zip(steps, steps[1:]):
        if not any(li["to"] == prev.artifact for li in s.links_in):
            order = (f"and {_undated(prev, s)}" if _undated(prev, s)
                     else f"they are ordered by time only ({_when(prev.time)} then {_when(s.time)} UTC)")
            qs.append(f"Did {_step_label(prev)} lead to {_step_label(s)}? Unknown: no shared identifier, endpoint "
                      f"or time-window link joins them; {order}.")
    chain_names = {s.artifact for s in steps}
    for s in steps:
        for li in s.links_in + s.links_out:
            for r in li["summary"]:
                if not r["identity"] and r["confidence"] < LOW_CONFIDENCE:
                    qs.append(f"{s.artifact} ↔ {li['to']} ({r['type']}) rests on a weak link (confidence "
                              f"{r['confidence']:.2f}): {r['reason']}")
    tl = inc.timeline
    groups = _link_groups(inc)
    for art in inc.loaded():
        if art.file in chain_names:
            continue
        rows = tl[(tl["artifact"] == art.file) & (tl["severity"] == "warning")] if len(tl) else tl
        if steps and len(rows) and not any(art.file in k and (k - {art.file}) & chain_names for k in groups):
            kinds = ", ".join(sorted(rows["kind"].astype(str).unique()))
            qs.append(f"What part did {art.file} play? It has {len(rows):,} warning event(s) ({kinds}) and no link "
                      f"to an artifact of the chain.")
    if steps and len(tl):  # warnings that start before the chain and are linked to it: cause or bystander?
        first = steps[0].time
        for art in inc.loaded():
            if art.file in chain_names:
                continue
            rows = tl[(tl["artifact"] == art.file) & (tl["severity"] == "warning")]
            linked = [r for k, ls in groups.items() if art.file in k and (k - {art.file}) & chain_names
                      for r in summarise_links(ls) if not r["identity"]]
            if len(rows) and linked and rows["time"].min() < first:
                best = max(linked, key=lambda r: r["confidence"])
                qs.append(f"{art.file} has {len(rows):,} warning event(s) from {_when(rows['time'].min())} UTC, before "
                          f"the chain's first step ({_when(first)} UTC), and is linked to it ({best['type']}, "
                          f"confidence {best['confidence']:.2f}): a cause, or a bystander that was there before? "
                          f"The links say they co-occur, not which way it went.")
    for art in inc.artifacts:
        if art.status == "error":
            qs.append(f"{art.file} did not load ({art.error}); what it holds is not in this report.")
        elif art.warnings:
            qs.append(f"{art.file} loaded with {len(art.warnings):,} warning(s) (first: {art.warnings[0]}); the "
                      f"parts it skipped are not in this analysis.")
    if len(tl) and "time_source" in tl:
        unsure = tl[tl["time_source"].astype(str).str.contains("mtime|unreliable", na=False)]
        for artifact in unsure["artifact"].unique():
            qs.append(f"When did the events of {artifact} happen? Their time comes from the file's modification time "
                      f"(no clock in the content or the manifest), which may be when it was copied.")
    start, end = inc.window
    if len(tl) and start is not None and end is not None:
        outside = tl[(tl["time"] < start) | (tl["time"] > end)]
        if len(outside) and all(inc.manifest_window):
            qs.append(f"{len(outside):,} event(s) fall outside the manifest's window (from "
                      f"{', '.join(sorted(outside['artifact'].astype(str).unique()))}): is the window right, or "
                      f"is a clock off?")
    for file, why in coverage.items():
        if why:
            qs.append(f"{file} is not analysed in a section of its own: {why}")
    for note in getattr(inc, "notes", []) or []:
        qs.append(f"Analysis note: {note}")
    return qs


# --------------------------------------------------------------------------- provenance
def relative(inc, path) -> str:
    """A path as the reader of the report should see it: relative to the incident folder."""
    if not path:
        return MISSING
    try:
        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(inc.folder))
    except ValueError:
        return os.path.basename(path)
    return rel if not rel.startswith("..") else os.path.basename(path)


def provenance_table(inc) -> pd.DataFrame:
    """One row per file: file (relative to the incident), size, SHA-256, kind, format, parser, time source,
    status, warnings."""
    tl = inc.timeline
    rows = []
    for p in inc.provenance:
        src = tl.loc[tl["artifact"] == p.get("file"), "time_source"] if len(tl) and "time_source" in tl else []
        src = ", ".join(sorted(set(map(str, src)))) if len(src) else MISSING
        warnings = list(p.get("warnings") or [])
        rows.append({"file": relative(inc, p.get("path") or p.get("file")), "size": p.get("size"),
                     "exact size (bytes)": p.get("size"), "sha256": p.get("sha256"), "kind": p.get("kind"),
                     "format": p.get("format"),
                     "parser": " ".join(x for x in (p.get("parser"), p.get("parser_version")) if x) or None,
                     "time source": src, "status": p.get("status"),
                     "warnings / error": "; ".join(warnings) or p.get("error")})
    return pd.DataFrame(rows, columns=["file", "size", "exact size (bytes)", "sha256", "kind", "format", "parser",
                                       "time source", "status", "warnings / error"])
