"""Notebook 05's words about the data come from the data: no stored conclusions, no sample class names in code."""
import os

import nbformat

NB = os.path.join(os.path.dirname(__file__), "..", "..", "notebooks", "05_heap_growth.ipynb")


def test_conclusions_are_computed_not_written():
    nb = nbformat.read(NB, as_version=4)
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "on the sample files" not in md and "objects are the leak" not in md
    assert '"ChurnItem"' not in code          # the control table must work on a user's control pair
    conclusions = [c for c in nb.cells if c.cell_type == "code" and "lines.append(f\"Node, baseline" in c.source]
    assert conclusions and conclusions[0].source.startswith("# NBVAL_CHECK_OUTPUT")
