"""Shared bits for the pg_stat_statements tests (imported as `from helpers import ...`)."""
from __future__ import annotations

import json
import warnings
from functools import lru_cache
from pathlib import Path

from forensics.postgres.load import load_pgss

DATA = Path(__file__).resolve().parents[2] / "sample_data" / "postgres"
FORMS = {"csv": "csv", "aligned": "aligned.txt", "expanded": "expanded.txt", "unaligned": "unaligned.txt",
         "unaligned-expanded": "unaligned-expanded.txt", "json": "json", "jsonl": "jsonl",
         "json-in-table": "json-in-table.txt"}
#: What the loader reports as the form of each (JSON lines and JSON inside psql's table are JSON).
FORM_READ_AS = {**{f: f for f in FORMS}, "jsonl": "json", "json-in-table": "json"}
STORY = json.loads((DATA / "story.json").read_text())


def dump_path(snapshot: str, form: str) -> Path:
    return DATA / f"{snapshot}.{FORMS.get(form, form)}"


@lru_cache(maxsize=None)
def load(snapshot: str, form: str = "csv", info: bool = False):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_pgss(dump_path(snapshot, form), info=DATA / f"{snapshot}.info.csv" if info else None)


def row_of(frame, story_name: str, **where):
    """The one row of ``frame`` whose query contains the story's marker text."""
    q = frame["query"].fillna("")
    m = q.str.contains(STORY[story_name]["contains"], regex=False) & ~q.str.startswith("CREATE")
    for k, v in where.items():
        m &= frame[k] == v
    rows = frame[m]
    assert len(rows) >= 1, f"no row for {story_name}"
    return rows.iloc[0]


def norm_text(q: str) -> str:
    """psql expands tabs and pads lines in aligned/expanded output: compare texts modulo that."""
    return "\n".join(line.expandtabs(8).rstrip(" ") for line in q.split("\n"))
