"""The postgres wild corpus, found through tests/support.py: the pastes are third-party text listed in
wild/MANIFEST.tsv and kept out of git, so on a clean clone the tests that read them skip and say why."""
import csv
from pathlib import Path

import pytest

from support import missing_wild_reason, require_wild, wild_files

KIND = "postgres"
MANIFEST = Path(__file__).parent / "wild" / "MANIFEST.tsv"


def listed(folder: str, suffix: str = "") -> list[str]:
    """The manifest's files under ``folder`` (``pgss``, ``plans``, ``logs``, ``activity``), sorted."""
    with open(MANIFEST, newline="", encoding="utf-8") as f:
        rels = [r["file"] for r in csv.DictReader(f, delimiter="\t")]
    return sorted(r for r in rels if r.startswith(folder + "/") and r.endswith(suffix))


def wild(folder: str, name: str) -> Path:
    """One paste's path; skips the test when it is not on this machine."""
    rel = f"{folder}/{name}"
    return require_wild(KIND, [rel])[rel]


def present(folder: str, suffix: str = "") -> list[Path]:
    """The listed files of ``folder`` that are on this machine, in manifest order."""
    rels = listed(folder, suffix)
    found = wild_files(KIND, rels)
    return [found[r] for r in rels if r in found]


def needs_all(folder: str, suffix: str = ""):
    """Mark for a test over the whole folder (a figure or a fuzz over every paste): skip unless all are here."""
    rels = listed(folder, suffix)
    missing = len(rels) - len(wild_files(KIND, rels))
    return pytest.mark.skipif(missing > 0, reason=missing_wild_reason(KIND, missing, len(rels)))
