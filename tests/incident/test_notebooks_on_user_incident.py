"""Every notebook that applies runs on an incident the project never saw, and prints none of the samples' story.

The incident is handed over the way a user would (tests/narrative.py: sample artifacts under their own
names and folders, an incident.toml written from docs/incidents.md); each notebook gets the parameters
the report's plan gives it (forensics/kinds.py's declared names), runs with a time limit per cell, and
its outputs — what a reader sees, not its markdown — must hold no sample narrative.
"""
import os

import nbformat
import pytest
from narrative import canned, notebook_outputs, user_incident

import forensics
from forensics.incident.notebook_plan import plan

CELL_TIMEOUT = 300


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    folder = user_incident(tmp_path_factory.mktemp("never-seen") / "booking-api")
    scratch = tmp_path_factory.mktemp("scratch")
    inc = forensics.open_incident(folder)
    return folder, {s["notebook"]: s for s in plan(inc, scratch=str(scratch))}


def test_the_plan_covers_every_family(planned):
    folder, steps = planned
    assert set(steps) >= {"00_incident_overview.ipynb", "01_retransmissions.ipynb", "02_dependency_map.ipynb",
                          "03_slow_queries.ipynb", "04_crash_triage.ipynb", "05_heap_growth.ipynb"}


@pytest.mark.slow
@pytest.mark.parametrize("notebook", ["00_incident_overview.ipynb", "01_retransmissions.ipynb",
                                      "02_dependency_map.ipynb", "03_slow_queries.ipynb", "04_crash_triage.ipynb",
                                      "05_heap_growth.ipynb"])
def test_notebook_prints_only_this_incident(planned, notebook, tmp_path):
    from forensics.notebook_engine import execute_notebook  # papermill without its missed-wake-up stall

    folder, steps = planned
    step = steps[notebook]
    out = tmp_path / notebook
    execute_notebook(step["path"], str(out), parameters=step["parameters"], kernel_name="python3",
                        cwd=os.path.dirname(step["path"]), progress_bar=False, log_output=False,
                        execution_timeout=CELL_TIMEOUT)  # raises PapermillExecutionError on a failing cell
    nb = nbformat.read(out, as_version=4)
    text = notebook_outputs(nb)
    assert text.strip(), "no output at all"
    found = canned(text, folder)
    assert not found, f"{notebook} prints sample narrative on another incident: {found}"


def test_the_detector_catches_sample_prose(planned):
    """What issue 14 saw in a user's report is caught; this incident's own words are not."""
    folder, _ = planned
    seen = ("Conclusions (on the sample files): Node LeakyCacheEntry grows. The nightly revenue report query "
            "spilled; the catalog's new page cache is keyed by (sku, request id), so no entry is ever reused")
    found = canned(seen, folder)
    assert "LeakyCacheEntry" in found and "nightly revenue report" in found
    assert any("page cache is keyed by" in g for g in found)
    assert not canned("Paged for 5xx on the booking API; 3 of 24 requests failed at inventory GET /reserve.", folder)
