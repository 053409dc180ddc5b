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
