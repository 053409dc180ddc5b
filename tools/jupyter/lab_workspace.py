"""Copy the tracked notebooks into an untracked working folder for `make lab`.

    .venv/bin/python tools/jupyter/lab_workspace.py notebooks lab

JupyterLab autosaves outputs into the notebook it has open; the tracked notebooks under
``notebooks/`` must stay without them. So `make lab` opens copies in ``lab/`` (git-ignored, at
the same depth as ``notebooks/`` so the parameters' relative paths still find ``sample_data/``).
A copy is made once and then left alone — it is the analyst's work; when the tracked notebook is
newer this says so (delete the copy to get the new one).
"""
from __future__ import annotations

import os
import shutil
import sys


def sync(source: str, target: str) -> list[str]:
    notes = []
    for folder, dirs, files in os.walk(source):
        dirs[:] = [d for d in dirs if not d.startswith(".")]  # .ipynb_checkpoints
        rel = os.path.relpath(folder, source)
        for name in files:
            if not name.endswith((".ipynb", ".md")):
                continue
            src, dst = os.path.join(folder, name), os.path.normpath(os.path.join(target, rel, name))
            if not os.path.exists(dst):
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copy2(src, dst)
            elif os.path.getmtime(src) > os.path.getmtime(dst) + 1:
                notes.append(f"{dst} is older than {src}: delete it to get the new version")
    return notes


def main(argv=None) -> int:
    source, target = (argv or sys.argv[1:]) or ("notebooks", "lab")
    for note in sync(source, target):
        print(f"forensics: {note}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
