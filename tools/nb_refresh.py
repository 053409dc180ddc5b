"""Execute notebooks and store them the way the repo keeps them (the .ipynb is the only source).

    .venv/bin/python tools/nb_refresh.py notebooks/01_retransmissions.ipynb [...]

Runs each notebook top to bottom (working directory: the notebook's folder),
then keeps only the outputs of cells marked ``# NBVAL_CHECK_OUTPUT`` (those are
what nbval compares) and clears every other output and execution count, so the
repo holds no stale plots or data dumps. ``--strip-only`` skips execution.
"""
from __future__ import annotations

import argparse
import os
import sys

import nbformat

MARK = "# NBVAL_CHECK_OUTPUT"


def _is_widget(out) -> bool:
    return "application/vnd.jupyter.widget-view+json" in out.get("data", {})


def strip(nb) -> None:
    nb.metadata.pop("widgets", None)  # saved widget state: output of a run, not source
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        # A progress bar or picker in a checked cell would make the comparison depend on the run.
        cell.outputs = [o for o in cell.get("outputs", []) if not _is_widget(o)]
        # nbval skips comparing a cell it thinks was never run, so checked cells keep their count.
        if MARK not in cell.source:
            cell.execution_count = None
            cell.outputs = []
        cell.metadata.pop("execution", None)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("notebooks", nargs="+")
    ap.add_argument("--strip-only", action="store_true")
    ap.add_argument("--timeout", type=int, default=600)
    args = ap.parse_args(argv)
    os.environ["FORENSICS_PROGRESS"] = "0"  # as under `make test`: no progress bars in stored outputs
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        if not args.strip_only:
            from nbclient import NotebookClient

            NotebookClient(nb, timeout=args.timeout, kernel_name="python3",
                           resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}}).execute()
        strip(nb)
        nbformat.write(nb, path)
        print(f"refreshed {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
