"""Which notebooks apply to an incident, and the parameters that point them at its files.

Nothing is guessed from the sample files: which parameter takes which artifact kind is declared in
:mod:`forensics.kinds` (``notebook``, ``notebook_param``). The rest of a notebook's ``parameters``
cell is read only to know each input's shape: a parameter whose default names a sample file (or a
list of them) gets None — the notebook's section that needs it then says it was skipped — a folder
parameter gets a scratch folder of links to the incident's files, and a file name inside that
folder (the transcript to show) gets the first of ours. Settings (``TOP``, ``BIN``) keep their defaults.
The incident notebooks take the folder as their first parameter.

>>> plan(forensics.open_incident("sample_data/incidents/checkout-latency"))   # doctest: +SKIP
[{'notebook': '00_incident_overview.ipynb', 'path': '…', 'parameters': {'INCIDENT': '…'}}, …]
"""
from __future__ import annotations

import ast
import os
import tempfile

from .. import kinds
from .timeline import pgss_pairs

NOTEBOOK_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                            "notebooks")
OVERVIEW = "00_incident_overview.ipynb"
#: a declared parameter whose kind comes as a before/after pair → the parameter taking the "before"
PAIRED = {"AFTER": "BEFORE"}


def notebook_parameters(path) -> dict:
    """The literal assignments of a notebook's ``parameters`` cell, in order (names → default values)."""
    import nbformat  # jsonschema behind it takes seconds to import: only when notebooks are planned

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            out = {}
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                    try:
                        out[node.targets[0].id] = ast.literal_eval(node.value)
                    except ValueError:
                        out[node.targets[0].id] = None
            return out
    return {}


def _points_at_files(value, nb_dir) -> str | None:
    """"file", "list" or "folder" when a default names existing sample paths, else None."""
    vals = value if isinstance(value, (list, tuple)) else [value]
    paths = [os.path.normpath(os.path.join(nb_dir, v)) for v in vals if isinstance(v, str)]
    if not paths:
        return None
    if all(os.path.isdir(p) for p in paths):
        return "folder"
    if all(os.path.isfile(p) for p in paths):
        return "list" if isinstance(value, (list, tuple)) else "file"
    return None


def _declared(family: str) -> dict[str, list[str]]:
    """{notebook parameter: [detected kinds]} for one family, from forensics.kinds."""
    out: dict[str, list[str]] = {}
    for k in kinds.KINDS:
        if k.family == family and k.notebook and k.notebook_param:
            out.setdefault(k.notebook_param, []).append(k.name)
    return out


def parameters_for(inc, family: str, notebook_path: str, scratch: str) -> dict | None:
    """Parameters pointing ``notebook_path`` (the family's notebook) at the incident's files; None
    when the incident has nothing its declared parameters take."""
    nb_dir = os.path.dirname(os.path.abspath(notebook_path))
    defaults = notebook_parameters(notebook_path)
    declared = _declared(family)
    params: dict = {}
    folders: dict[str, str] = {}  # default folder → our scratch folder
    for name, kinds_ in declared.items():
        if name not in defaults:
            continue
        arts = [a for a in inc.loaded(family) if a.kind in kinds_]
        if not arts:
            params[name] = None
            continue
        arts.sort(key=lambda a: (a.time is None, a.time, a.file))
        shape = _points_at_files(defaults[name], nb_dir) or ("list" if isinstance(defaults[name], list) else "file")
        if name in PAIRED and pgss_pairs(inc):
            before, after = pgss_pairs(inc)[0]
            params[name], params[PAIRED[name]] = after.path, before.path
        elif shape == "folder":
            d = os.path.join(scratch, f"{family}-{name}")
            os.makedirs(d, exist_ok=True)
            for a in arts:
                link = os.path.join(d, os.path.basename(a.path))
                if not os.path.exists(link):
                    os.symlink(os.path.abspath(a.path), link)
            folders[os.path.normpath(os.path.join(nb_dir, defaults[name]))] = d
            params[name] = d
        elif shape == "list":
            params[name] = [a.path for a in arts]
        else:  # one file: the one with the most events on the timeline
            tl = inc.timeline
            params[name] = max(arts, key=lambda a: (int((tl["artifact"] == a.file).sum()), a.file)).path
    if not any(v for v in params.values()):
        return None
    for name, default in defaults.items():
        if name in params:
            continue
        names = default if isinstance(default, (list, tuple)) else [default]
        inside = [f for f in folders if any(isinstance(n, str) and os.path.exists(os.path.join(f, n)) for n in names)]
        if inside and isinstance(default, str):  # a file name inside a folder parameter: one of ours
            files = sorted(os.listdir(folders[inside[0]]))
            params[name] = files[0] if files else None
        elif inside or _points_at_files(default, nb_dir):
            params[name] = None  # a sample input this incident has nothing for
    return params


def plan(inc, notebook_dir: str = NOTEBOOK_DIR, scratch: str | None = None) -> list[dict]:
    """The notebooks that apply to ``inc``, in order, each with the parameters it gets."""
    scratch = scratch or tempfile.mkdtemp(prefix="forensics-notebooks-")
    steps = []
    overview = os.path.join(notebook_dir, OVERVIEW)
    if os.path.exists(overview):
        first = next(iter(notebook_parameters(overview)), "INCIDENT")
        steps.append({"notebook": OVERVIEW, "path": overview, "parameters": {first: os.path.abspath(inc.folder)}})
    for family, name in kinds.notebooks().items():
        path = os.path.join(notebook_dir, name)
        if not os.path.exists(path) or not inc.loaded(family):
            continue
        params = parameters_for(inc, family, path, scratch)
        if params:
            steps.append({"notebook": name, "path": path, "parameters": params})
    return steps
