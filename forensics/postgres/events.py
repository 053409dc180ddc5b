"""pg_stat_statements for an incident timeline: what the interval between two snapshots says.

One snapshot alone says nothing about the incident (its counters run since the last reset), so
:func:`events` needs the earlier snapshot (``previous``) and returns, per statement of the interval
(:func:`forensics.postgres.analysis.delta`, ranked by total time), the findings of
:mod:`forensics.postgres.findings`; DDL run in the interval is its own finding (severity error:
a schema change inside the window is a prime suspect, whatever its cost).

Rows have no ``time`` of their own: ``at = "interval"`` asks the incident to place them from the
earlier snapshot's time to this one's. ``ref`` is the queryid.
"""
from __future__ import annotations

import re

import pandas as pd

from .analysis import delta, rank

_DDL = re.compile(r"^\s*(drop|create|alter|reindex|truncate|vacuum\s+full|cluster)\b", re.I)
#: findings that describe the dump rather than the database
_NOT_FINDINGS = ("nested", "text_cut")
COLUMNS = ["time", "end", "kind", "severity", "detail", "ref", "source_rows", "at", "service_hint"]


def events(after, previous=None) -> pd.DataFrame:
    """Query findings of the interval ``previous`` → ``after`` (two loaded pg_stat_statements dumps)."""
    if previous is None:
        return pd.DataFrame(columns=COLUMNS)
    r = rank(delta(previous, after), by="total_exec_time")
    total = float(r["total_exec_time"].sum()) or 1.0
    out = []
    for i, row in r.iterrows():
        q = " ".join(str(row["query"]).split())
        finds = [f for f in (row.get("findings") or []) if not str(f).startswith(_NOT_FINDINGS)]
        common = {"time": pd.NaT, "end": pd.NaT, "kind": "query-finding", "ref": str(row["queryid"]),
                  "source_rows": [int(i)], "at": "interval", "service_hint": "postgres"}
        if _DDL.match(q):
            out.append({**common, "severity": "error", "detail": f"DDL run between the snapshots: {q[:160]}"})
        elif finds:
            share = float(row["total_exec_time"]) / total
            codes = ", ".join(str(f).split(":")[0] for f in finds)
            out.append({**common, "severity": "error" if share >= 0.2 else "warning",
                        "detail": (f"{codes} — {q[:120]} — {int(row['calls']):,} calls, mean "
                                   f"{float(row['mean_exec_time']):.1f} ms, {share:.0%} of interval time; {finds[0]}")})
    return pd.DataFrame(out, columns=COLUMNS)
