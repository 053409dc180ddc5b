"""pg_stat_statements ↔ traces for an incident: db spans that ran the statements of the interval.

``statement_links(incident)`` (named by the kind's entry in :mod:`forensics.kinds`): db spans whose
``db.statement`` has the same pglast fingerprint as a statement of the interval between two
snapshots, strongest first (0.9 when the statement has a finding, else 0.7). Text is compared by
fingerprint, so a span's ``$1`` and the dump's normalised constants match, and comments (a
sqlcommenter ``traceparent``) do not get in the way — those are matched by id in
:mod:`forensics.incident.identifiers`.
"""
from __future__ import annotations

from ..incident.endpoints import traces_of
from ..incident.timeline import pgss_pairs
from .analysis import delta, rank
from .fingerprint import fingerprint

_NOT_FINDINGS = ("nested", "text_cut")


def _ref(kind, artifact, ref) -> dict:
    return {"artifact_kind": kind, "artifact": artifact, "ref": str(ref)}


def statement_links(inc) -> list[dict]:
    out = []
    for before, after in pgss_pairs(inc):
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
                finds = [x for x in (q.get("findings") or []) if not str(x).startswith(_NOT_FINDINGS)]
                codes = ", ".join(str(x).split(":")[0] for x in finds)
                out.append({"a": _ref("traces", t_art.file, worst["span_id"]),
                            "b": _ref("postgres", after.file, q["queryid"]), "type": "span-statement",
                            "basis": "fingerprint",
                            "reason": (f"{len(g):,} {worst['service']} db span(s) (median {p50:.0f} ms, slowest "
                                       f"{worst['duration_us'] / 1000:.0f} ms) run the statement with fingerprint "
                                       f"{q['fp']}, queryid {q['queryid']}: {int(q['calls']):,} calls, mean "
                                       f"{float(q['mean_exec_time']):.1f} ms in the interval"
                                       + (f"; findings: {codes}" if codes else "")),
                            "confidence": 0.9 if finds else 0.7})
    return out
