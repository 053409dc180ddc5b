"""How the repo keeps notebooks: papermill parameters first, no stale outputs, prose for the reader."""
import json

import pytest

from support import REPO

NOTEBOOKS = sorted((REPO / "notebooks").rglob("*.ipynb"))
NOTEBOOKS = [p for p in NOTEBOOKS if ".ipynb_checkpoints" not in p.parts]
MARK = "# NBVAL_CHECK_OUTPUT"


def test_there_are_notebooks():
    assert any(p.name == "00_start_here.ipynb" for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[str(p.relative_to(REPO / "notebooks")) for p in NOTEBOOKS])
def test_notebook_shape(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, "a notebook with no code"
    first = code[0]
    assert "parameters" in first.get("metadata", {}).get("tags", []), "first code cell must be tagged `parameters`"
    assert sum(c["cell_type"] == "markdown" for c in nb["cells"]) >= 2, "explain what the reader sees"
    assert "widgets" not in nb.get("metadata", {}), "saved widget state (run tools/nb_refresh.py)"
    for c in code:
        src = "".join(c["source"])
        widgets = [o for o in c.get("outputs", []) if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
        assert not widgets, f"a widget (progress bar?) stored in a checked cell: {src[:60]!r}"
        if MARK not in src:
            assert not c.get("outputs"), f"stored output in an unchecked cell: {src[:60]!r} (run tools/nb_refresh.py)"


def test_the_notebook_is_its_own_source():
    """No script writes notebooks any more: a builder would silently overwrite edits made in Jupyter."""
    writers = []
    for py in list((REPO / "sample_data" / "generate").rglob("*.py")) + list((REPO / "tools").rglob("*.py")):
        text = py.read_text(errors="replace")
        if "new_notebook(" in text or "make_notebook" in py.name:
            writers.append(str(py.relative_to(REPO)))
    assert not writers, f"notebook builders found (edit the .ipynb instead): {writers}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[str(p.relative_to(REPO / "notebooks")) for p in NOTEBOOKS])
def test_notebook_is_valid_nbformat(path):
    """Edits made with an editor or a script still give a notebook Jupyter opens (cell ids included)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert all(c.get("id") for c in nb.cells), "cells without an id (write with nbformat >= 5.1)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[str(p.relative_to(REPO / "notebooks")) for p in NOTEBOOKS])
def test_parameters_follow_the_convention(path):
    """UPPER_CASE literal assignments only (CONTRIBUTING.md, "Parameters"), so papermill -p names are guessable."""
    from forensics.incident.notebook_plan import notebook_parameters

    params = notebook_parameters(path)
    assert params, "no literal assignment in the parameters cell"
    bad = [n for n in params if not n.isupper()]
    assert not bad, f"parameter names not UPPER_CASE: {bad}"


def test_declared_notebook_parameters_exist():
    """Each kinds.py entry's notebook has the parameter it declares (what the report and the README use)."""
    from forensics import kinds
    from forensics.incident.notebook_plan import notebook_parameters

    for k in kinds.KINDS:
        if k.notebook:
            params = notebook_parameters(REPO / "notebooks" / k.notebook)
            assert k.notebook_param in params, (k.name, k.notebook, k.notebook_param, sorted(params))
