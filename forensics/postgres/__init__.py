"""pg_stat_statements dumps: load any form and extension version, take the interval, rank what hurt.

- :mod:`.load` — ``load_pgss(path)``: csv, psql aligned/expanded/unaligned, JSON → one canonical frame
- :mod:`.formats` — one parser per dump form; :mod:`.versions` — column sets of extension 1.2 … 1.12
- :mod:`.analysis` — ``delta(before, after)``, ``rank(frame, by=..., group=...)``
- :mod:`.findings` — per-statement findings with documented thresholds
- :mod:`.fingerprint` — pglast fingerprints; :mod:`.plots` — figures for the notebook; :mod:`.cli` — ``forensics pgss``
- :mod:`.psql_table`, :mod:`.pastes` — pasted tables split on separators; pg-extras/pghero shapes; cross-checks
- :mod:`.plan` (:mod:`.plan_text`, :mod:`.plan_formats`) — EXPLAIN in any format → node frame;
  :mod:`.plan_analysis` — hot node, misestimates, spills, tree, compare
- :mod:`.serverlog` (:mod:`.log_events`, :mod:`.log_prefix`, :mod:`.textlines`) — stderr/csvlog/jsonlog, read in blocks
  of lines → classified entries; :mod:`.log_analysis` — summary
- :mod:`.activity` — pg_stat_activity / pg_locks snapshots → blocking tree
- :mod:`.hooks` — timeline builders and links for an incident; :mod:`.sniff` — content sniffers; :mod:`.pg_cli` — ``forensics pg``

    >>> import os
    >>> from forensics.postgres import load_pgss
    >>> here = os.path.join(os.path.dirname(__file__), "..", "..", "sample_data", "postgres")
    >>> dump = load_pgss(os.path.join(here, "after.csv"))
    >>> {"queryid", "query", "calls"} <= set(dump.statements.columns)
    True
"""
from ..lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {"PgssDump": ".load", "load_pgss": ".load"})
