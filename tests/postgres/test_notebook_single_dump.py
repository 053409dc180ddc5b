"""Notebook 03 on what a user most often has: one pg_stat_statements dump, no plans, no log, no snapshot."""
import os

import nbformat
import pytest

NB = os.path.join(os.path.dirname(__file__), "..", "..", "notebooks", "03_slow_queries.ipynb")
SAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "sample_data", "postgres")


@pytest.mark.slow
def test_one_dump_ranks_since_the_last_reset(tmp_path):
    from forensics.notebook_engine import execute_notebook  # papermill without its missed-wake-up stall

    out = tmp_path / "03.ipynb"
    execute_notebook(NB, str(out), kernel_name="python3", cwd=os.path.dirname(NB), progress_bar=False,
                        log_output=False, execution_timeout=300,
                        parameters={"BEFORE": None, "BEFORE_INFO": None, "AFTER": os.path.join(SAMPLE, "after.csv"),
                                    "AFTER_INFO": None, "PLANS": None, "SERVER_LOG": None, "ACTIVITY": None})
    text = "\n".join(str(o.get("text", "")) for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code"
                     for o in c.get("outputs", []))
    assert "Only one dump: its counters are cumulative" in text
    assert "Skipped: one dump has no interval to compare with." in text


def test_the_markdown_tells_no_sample_story():
    """The explanations are read next to the user's own tables: they must not describe the sample's."""
    md = "\n".join(c.source for c in nbformat.read(NB, as_version=4).cells if c.cell_type == "markdown")
    for phrase in ("nightly revenue report", "order-history lookup", "the driver here", "(customer_id)",
                   "For the N+1 statement"):
        assert phrase not in md, phrase
