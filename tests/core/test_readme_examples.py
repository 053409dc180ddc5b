"""The README's notebook examples run as written, with the parameter names the notebooks declare.

papermill only warns about a ``-p`` name a notebook does not have (and then runs the sample data),
so a wrong name in the docs would pass unnoticed; here it fails. The parameter table in the README
must match forensics/kinds.py and each notebook's ``parameters`` cell.
"""
import re
import shlex
import subprocess

import pytest

from support import REPO

from forensics import kinds
from forensics.incident.notebook_plan import notebook_parameters

DOCS = [REPO / "README.md", REPO / "notebooks" / "training" / "README.md"]


def papermill_commands():
    out = []
    for doc in DOCS:
        text = doc.read_text().replace("\\\n", " ")
        for line in text.splitlines():
            line = line.strip()
            if line.startswith(".venv/bin/papermill "):
                out.append(pytest.param(line, id=f"{doc.relative_to(REPO)}:{shlex.split(line)[1]}"))
    return out


def test_there_are_examples():
    assert len(papermill_commands()) >= 2


@pytest.mark.slow
@pytest.mark.parametrize("command", papermill_commands())
def test_papermill_example_runs(command, tmp_path):
    args = shlex.split(command.replace("$PWD", str(REPO)))
    assert "--execution-timeout" in args, "papermill runs get a time limit"
    args[2] = str(tmp_path / "out.ipynb")  # the output notebook
    nb = REPO / args[1]
    declared = notebook_parameters(nb)
    names = [args[i + 1] for i, a in enumerate(args) if a == "-p"]
    assert names and all(n in declared for n in names), (names, sorted(declared))
    r = subprocess.run([str(REPO / ".venv" / "bin" / "papermill"), *args[1:], "--no-progress-bar"], cwd=REPO,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "unknown parameter" not in r.stderr.lower(), r.stderr[-2000:]


def test_readme_parameter_table_matches_the_notebooks():
    text = (REPO / "README.md").read_text()
    rows = re.findall(r"^\| `([\w/]+)` \| (.+) \|$", text, flags=re.M)
    table = {nb: re.findall(r"`([A-Z][A-Z_]*)`", params) for nb, params in rows}
    for k in kinds.KINDS:
        if k.notebook:
            name = k.notebook.removesuffix(".ipynb")
            assert k.notebook_param in table.get(name, []), (name, k.notebook_param)
    for nb, params in table.items():
        declared = notebook_parameters(REPO / "notebooks" / f"{nb}.ipynb")
        assert set(params) <= set(declared), (nb, params, sorted(declared))
