"""Every per-artifact notebook that ``forensics report`` plans for a sample incident runs to its end.

Issue 8's acceptance: every notebook runs on every sample incident. The report injects each incident's
artifact paths into the notebooks' ``parameters`` cells (and None for inputs it has nothing for), so each
notebook is executed here exactly as the report would run it. The overview has its own tests.
"""
import os

import nbformat
import pytest

from forensics.incident import NOTEBOOKS
from forensics.incident.report import OVERVIEW, plan

INCIDENTS = ["checkout-latency", "catalog-leak", "invoice-export"]
CELL_TIMEOUT = 600  # seconds per cell: generous, the machine is shared


@pytest.fixture(scope="module")
def plans(incidents, tmp_path_factory):
    """incident name → {notebook: step} as the report plans it (scratch folders kept for the module)."""
    out = {}
    for name in INCIDENTS:
        scratch = tmp_path_factory.mktemp(f"report-scratch-{name}")
        out[name] = {s["notebook"]: s for s in plan(incidents[name], scratch=str(scratch))
                     if s["notebook"] != OVERVIEW}
    return out


def test_every_incident_plans_some_notebooks(plans):
    for name in INCIDENTS:
        assert plans[name], f"{name}: no per-artifact notebook planned"


@pytest.mark.slow
@pytest.mark.parametrize("notebook", sorted(NOTEBOOKS.values()))
@pytest.mark.parametrize("name", INCIDENTS)
def test_notebook_runs_to_the_end(plans, name, notebook, tmp_path):
    from forensics.notebook_engine import execute_notebook  # papermill without its missed-wake-up stall

    step = plans[name].get(notebook)
    if step is None:
        pytest.skip(f"the report does not run {notebook} on {name} (no artifact it reads)")
    out = tmp_path / notebook
    execute_notebook(step["path"], str(out), parameters=step["parameters"], kernel_name="python3",
                        cwd=os.path.dirname(step["path"]), progress_bar=False, log_output=False,
                        execution_timeout=CELL_TIMEOUT)  # raises PapermillExecutionError on a failing cell
    nb = nbformat.read(out, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.get("execution_count") is not None for c in code), "not every cell ran"
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors
