"""A trace-export set: hourly (or per-query) Jaeger / OTLP / Zipkin exports as one TraceSet.

Each file is read by the traces kind's own loader (:func:`forensics.traces.load.load_traces`);
the set then joins them, earliest first:

* row references (``tags``/``logs``/``references`` ``span``, ``spans.parent``) are shifted to
  the joined ``spans``; process keys get their file's number (``2:p1``), since every Jaeger
  export numbers its processes from ``p1``;
* a span exported twice (Jaeger's API returns whole traces, so a trace crossing the hour is in
  both exports) is kept once — same trace, span id, start and duration — and counted in a warning;
* a span whose parent is in *another* file (an exporter that rotates mid-trace) is linked to
  it: no longer an orphan, its depth follows the parent's, and its parent reference is
  resolved. What is still missing stays in ``orphans``.
"""
from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pandas as pd

from .. import __version__
from ..artifact import Provenance
from ..errors import ArtifactError
from .members import list_members, relative


@dataclasses.dataclass
class TraceExportSet:
    """The joined frames (as :class:`~forensics.traces.load.TraceSet`) plus ``members``: one row per
    file (file, format, size, sha256, spans, traces, first/last span start, duplicates dropped)."""

    spans: pd.DataFrame
    tags: pd.DataFrame
    logs: pd.DataFrame
    references: pd.DataFrame
    processes: pd.DataFrame
    orphans: pd.DataFrame
    skew: pd.DataFrame
    members: pd.DataFrame
    provenance: Provenance
    span_member: np.ndarray | None = None

    def trace(self, trace_id: str) -> pd.DataFrame:
        ids = self.spans["trace_id"]
        m = ids == trace_id
        return self.spans[m if m.any() else ids.str.startswith(trace_id)]

    @property
    def trace_ids(self) -> list[str]:
        return list(pd.unique(self.spans["trace_id"]))


def _depths(parent: np.ndarray) -> np.ndarray:
    depth = np.zeros(parent.shape[0], np.int64)
    has = parent >= 0
    for _ in range(parent.shape[0] + 1):
        new = np.where(has, depth[np.maximum(parent, 0)] + 1, 0)
        if (new == depth).all():
            break
        depth = new
    return depth


def load_trace_set(source, **options):
    from ..traces.load import load_traces

    listing = list_members(source)
    files = [p for p, k, f in listing.files if f == "traces"]
    if not files:
        raise ArtifactError(listing.root, None, "no trace export in the set")
    loaded = [(p, load_traces(p, **options)) for p in files]
    loaded.sort(key=lambda x: (x[1].spans["start_us"].min() if len(x[1].spans) else np.inf, x[0]))
    spans, tags, logs, refs, procs, member_rows = [], [], [], [], [], []
    offset = 0
    for i, (p, t) in enumerate(loaded):
        s = t.spans.copy()
        par = s["parent"].to_numpy()
        s["parent"] = np.where(par >= 0, par + offset, par)
        s["process"] = (str(i) + ":" + s["process"].astype(str)).where(s["process"].notna(), None)
        spans.append(s)
        for src, dst in ((t.tags, tags), (t.logs, logs), (t.references, refs)):
            d = src.copy()
            d["span"] = d["span"] + offset
            dst.append(d)
        pr = t.processes.copy()
        pr["process"] = str(i) + ":" + pr["process"].astype(str)
        procs.append(pr)
        member_rows.append(np.full(len(s), i, np.int32))
        offset += len(s)
    S = pd.concat(spans, ignore_index=True)
    T, L, R = (pd.concat(x, ignore_index=True) for x in (tags, logs, refs))
    P = pd.concat(procs, ignore_index=True)
    owner = np.concatenate(member_rows)
    # spans exported twice: keep the first copy; references to the others point to it
    key = ["trace_id", "raw_span_id", "start_us", "duration_us"]
    dup = S.duplicated(key, keep="first").to_numpy()
    first_of = S.groupby(key, sort=False, dropna=False).ngroup().to_numpy()
    keep_row = np.flatnonzero(~dup)
    canon = np.empty(int(first_of.max()) + 1 if len(first_of) else 0, np.int64)
    canon[first_of[keep_row]] = np.arange(keep_row.shape[0])
    new_row = canon[first_of] if len(first_of) else first_of
    n_dup = int(dup.sum())
    S = S.loc[~dup].reset_index(drop=True)
    owner = owner[~dup]
    par = S["parent"].to_numpy()
    S["parent"] = np.where(par >= 0, new_row[np.maximum(par, 0)], par)

    def remap(d):
        d = d.loc[~dup[d["span"].to_numpy()]].reset_index(drop=True)
        d["span"] = new_row[d["span"].to_numpy()]
        return d
    T, L, R = remap(T), remap(L), remap(R)
    # parents found in another file
    ids = pd.Series(np.arange(len(S)), index=pd.MultiIndex.from_arrays([S["trace_id"], S["raw_span_id"]]))
    ids = ids[~ids.index.duplicated()]
    linked = 0
    orph_rows = np.flatnonzero(S["orphan"].to_numpy())
    if orph_rows.shape[0] and len(R):
        pref = R[R["span"].isin(orph_rows) & (R["ref_type"] == "CHILD_OF")]
        hit = pd.MultiIndex.from_arrays([pref["ref_trace_id"], pref["ref_span_id"]])
        target = ids.reindex(hit).to_numpy()
        ok = ~np.isnan(target)
        pref, target = pref[ok], target[ok].astype(np.int64)
        pref = pref.assign(target=target).drop_duplicates("span")
        if len(pref):
            rows = pref["span"].to_numpy()
            S.loc[rows, "parent"] = pref["target"].to_numpy()
            S.loc[rows, "parent_span_id"] = S["span_id"].to_numpy()[pref["target"].to_numpy()]
            S.loc[rows, "orphan"] = False
            S.loc[rows, "is_root"] = False
            R.loc[pref.index.intersection(R.index), ["resolved", "is_parent"]] = True
            S["depth"] = _depths(S["parent"].to_numpy()).astype(S["depth"].dtype)
            linked = len(pref)
    orphan_ids = set(zip(S.loc[S["orphan"], "trace_id"], S.loc[S["orphan"], "span_id"]))
    O = pd.concat([t.orphans for _, t in loaded], ignore_index=True)
    if len(O):
        O = O[[(a, b) in orphan_ids for a, b in zip(O["trace_id"], O["span_id"])]]
        O = O.drop_duplicates(["trace_id", "span_id"]).reset_index(drop=True)
    K = pd.concat([t.skew for _, t in loaded], ignore_index=True).drop_duplicates().reset_index(drop=True)
    # provenance
    rows = []
    for i, (p, t) in enumerate(loaded):
        pr = t.provenance
        st = t.spans["start"]
        rows.append({"file": relative(p, listing.root), "format": pr.format, "size": pr.size, "sha256": pr.sha256,
                     "spans": len(t.spans), "traces": int(t.spans["trace_id"].nunique()),
                     "start": st.min() if len(st) else pd.NaT, "end": st.max() if len(st) else pd.NaT,
                     "duplicates_dropped": int(dup[np.flatnonzero(np.concatenate(member_rows) == i)].sum()),
                     "warnings": len(pr.warnings)})
    members = pd.DataFrame(rows)
    lines = "".join(f"{r.sha256}  {r.file}\n" for r in members.itertuples())
    prov = Provenance(path=listing.root, size=int(members["size"].sum()), sha256=hashlib.sha256(lines.encode()).hexdigest(),
                      kind="trace-set", format=f"{len(loaded)} files", parser="forensics.sets",
                      parser_version=__version__)
    prov.details.update({"sha256_of": "the members' sha256sum lines, in set order",
                         "members": [t.provenance.to_dict() for _, t in loaded], "spans": len(S),
                         "traces": int(S["trace_id"].nunique()), "duplicates_dropped": n_dup,
                         "parents_in_another_file": linked})
    for p, t in loaded:
        prov.warnings += [f"{relative(p, listing.root)}: {w}" for w in t.provenance.warnings]
    if n_dup:
        prov.warn("spans", f"{n_dup:,} span(s) were in more than one file (same trace, span id, start and "
                           "duration: overlapping exports); each kept once")
    if listing.skipped or len(files) < len(listing.files):
        prov.details["skipped"] = [{"path": p, "reason": r} for p, r in listing.skipped]
    for df in (S, T, L, R, P, O, K, members):
        prov.attach(df)
    return TraceExportSet(S, T, L, R, P, O, K, members, prov, owner)
