"""Shared test helpers (import as `from support import ...`; tests/ is on pytest's pythonpath)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data"
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("FORENSICS_PROGRESS", "0")


def sample_artifacts(max_size: int = 3 << 20) -> list[Path]:
    """Every committed sample artifact (not generator scripts or manifests), smallest first."""
    skip_dirs = {"generate"}
    skip_ext = {".toml", ".md", ".py", ".sh", ".c", ".cc", ".cpp", ".js", ".java", ".go", ".txt.answers"}
    out = []
    for p in SAMPLE.rglob("*"):
        if not p.is_file() or skip_dirs & set(p.relative_to(SAMPLE).parts):
            continue
        if p.suffix in skip_ext or p.name.startswith(".") or p.stat().st_size > max_size:
            continue
        out.append(p)
    return sorted(out, key=lambda p: (p.stat().st_size, str(p)))


def run_cli(*args, check=False) -> subprocess.CompletedProcess:
    """Run the `forensics` command as a user would (a separate process)."""
    cmd = [sys.executable, "-m", "forensics.cli", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, check=check, cwd=REPO,
                          env={**os.environ, "FORENSICS_PROGRESS": "0"})


needs_tshark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed (make test installs it as root)")


# --------------------------------------------------------------------------- wild corpora
#: The wild corpora are artifacts other people made (public repositories' test files, pastes in public trackers).
#: This workplace's rules keep third-party material out of our commits, so only what we wrote about them is
#: committed in ``tests/<kind>/wild/`` (sources, SHA-256, licences, labels, tshark's answers); the files themselves
#: are looked for there (untracked, restored by ``tools/wild_corpus.py``), then under ``$FORENSICS_WILD/<kind>/``,
#: then ``../shared/wild/<kind>/`` beside the checkout. Tests that need them skip, saying so, when they are absent.
WILD_ROOTS_ENV = "FORENSICS_WILD"


def wild_roots(kind: str) -> list[Path]:
    roots = [REPO / "tests" / kind / "wild"]
    if os.environ.get(WILD_ROOTS_ENV):
        roots.append(Path(os.environ[WILD_ROOTS_ENV]) / kind)
    roots.append(REPO.parent / "shared" / "wild" / kind)
    return roots


def wild_file(kind: str, rel) -> Path | None:
    """Where the wild corpus file ``rel`` (relative to ``tests/<kind>/wild/``) is on this machine, or None."""
    for root in wild_roots(kind):
        p = root / rel
        if p.is_file():
            return p
    return None


def wild_files(kind: str, rels) -> dict:
    """``{rel: path}`` for every listed file present; :func:`require_wild` skips when any is missing."""
    return {rel: p for rel in rels if (p := wild_file(kind, rel)) is not None}


def missing_wild_reason(kind: str, missing: int, total: int) -> str:
    return (f"{missing} of {total} {kind} wild-corpus files are not on this machine (third-party material is "
            f"not committed; tests/{kind}/wild/ lists them — restore with tools/wild_corpus.py or set "
            f"{WILD_ROOTS_ENV})")


def require_wild(kind: str, rels) -> dict:
    """The corpus files as ``{rel: path}``; skips the test when any is missing (the figures need all of them)."""
    rels = list(rels)
    found = wild_files(kind, rels)
    if len(found) < len(rels):
        pytest.skip(missing_wild_reason(kind, len(rels) - len(found), len(rels)))
    return found
