"""The package's import graph: no cycles, and ``import forensics.incident`` stays light.

The graph is read from the source with ``ast`` (module-level imports only: an import inside a
function is not part of it, and the incident package has none of its own modules), so the test
walks every module, including ones whose optional dependencies are not installed.
"""
import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "forensics"

#: dependencies of one kind's analysis, never of the incident model, timeline or links
HEAVY = ["numba", "pglast", "networkx", "matplotlib", "scipy", "nbconvert", "papermill", "ipywidgets",
         "pyshark", "duckdb", "dask", "distributed", "IPython", "nbformat", "hypothesis", "tqdm"]


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _resolve(mod: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _module_level(tree):
    """Import nodes run when the module is imported (not those inside functions or classes' methods)."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.If, ast.Try, ast.With)):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            stack += [n for part in ("body", "orelse", "finalbody", "handlers") for n in getattr(node, part, [])]
        elif isinstance(node, ast.ExceptHandler):
            stack += node.body


def _targets(mod: str, node) -> list[str]:
    is_pkg = MODULES[mod].name == "__init__.py"
    out = []
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = _resolve(mod, is_pkg, node)
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
    for n in names:
        while n and n not in MODULES:  # `import forensics.x.y` where y is an attribute
            n = n.rpartition(".")[0]
        if n.startswith("forensics") and n and n != mod:
            out.append(n)
    return out


def import_graph() -> dict[str, set[str]]:
    graph = {}
    for mod, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[mod] = {t for node in _module_level(tree) for t in _targets(mod, node)}
    return graph


def cycles(graph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_the_graph_sees_the_package():
    g = import_graph()
    assert "forensics.incident.views" in g and "forensics.incident.timeline" in g["forensics.incident.links"]
    assert "forensics.kinds" in g["forensics.registry"]


def test_no_import_cycles():
    found = cycles(import_graph())
    assert not found, "import cycles: " + "; ".join(" ↔ ".join(c) for c in found)


def test_incident_layers_depend_one_way():
    g = import_graph()
    order = ["model", "endpoints", "timeline", "identifiers", "links", "views"]
    for i, name in enumerate(order):
        deps = {d.rpartition(".")[2] for d in g[f"forensics.incident.{name}"] if d.startswith("forensics.incident.")}
        assert not deps & set(order[i:]), f"forensics.incident.{name} imports a later layer: {deps & set(order[i:])}"
    for top in ("plots", "training", "report", "cli"):
        assert not any(f"forensics.incident.{top}" in g[f"forensics.incident.{n}"] for n in order)


#: imported inside a function on purpose: heavy dependencies loaded only when that work is asked for
#: (the report's nbconvert/papermill; a kind's analysis, until its builder is named in forensics/kinds.py)
LAZY_ON_PURPOSE = ("forensics.incident.report", "forensics.postgres.")


#: the top layer (nothing in the package imports it, so its deferred imports cannot hide a cycle): its commands
#: import the layers, so that building the `forensics` parser imports no pandas (test_parser_is_light)
COMMANDS_IMPORT_IN_FUNCTIONS = ("forensics.incident.cli",)


def test_incident_package_imports_none_of_its_modules_inside_functions():
    """An import inside a function is how a cycle hides: the incident package has none of forensics's own."""
    bad = []
    for mod, path in MODULES.items():
        if not (mod.startswith("forensics.incident") or mod == "forensics.kinds"):
            continue
        if mod in COMMANDS_IMPORT_IN_FUNCTIONS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = set(map(id, _module_level(tree)))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in top:
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                else:
                    names = [_resolve(mod, path.name == "__init__.py", node)] if node.level else [node.module or ""]
                names = [n for n in names if n.startswith("forensics")]
                if any(not n.startswith(LAZY_ON_PURPOSE) for n in names):
                    bad.append(f"{mod}:{node.lineno} {names}")
    assert not bad, bad


@pytest.mark.parametrize("module", ["forensics", "forensics.kinds", "forensics.incident", "forensics.cli"])
def test_light_imports(module):
    """What a module pulls in beyond pandas/numpy: none of the kinds' heavy dependencies."""
    code = ("import sys, json, pandas, numpy\nbase = set(sys.modules)\n"
            f"import {module}\nprint(json.dumps(sorted(set(sys.modules) - base)))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PKG.parent, timeout=120)
    assert r.returncode == 0, r.stderr
    new = json.loads(r.stdout)
    heavy = sorted({m.split(".")[0] for m in new} & set(HEAVY))
    assert not heavy, f"import {module} pulls in {heavy}"
    if module == "forensics.incident":
        # and no kind's own modules: those load with the first artifact of the kind
        assert not [m for m in new if m.split(".")[1:2] and m.split(".")[1] in
                    ("network", "traces", "postgres", "memory", "crashes")], new


def test_parser_is_light():
    """Every `forensics` command builds the whole parser (each kind's command module) first: that must import
    no pandas, numpy, numba or pyarrow, so `forensics --help` or `crash classify` pay only for what they use."""
    code = ("import sys, json\nimport forensics.cli as c\nc.build_parser()\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PKG.parent, timeout=120)
    assert r.returncode == 0, r.stderr
    heavy = sorted(set(json.loads(r.stdout)) & {"pandas", "numpy", "numba", "pyarrow", "networkx", "matplotlib"})
    assert not heavy, f"building the parser imports {heavy}"


@pytest.mark.parametrize("package, name", [("forensics.traces", "load_traces"), ("forensics.crashes", "load_gdb"),
                                           ("forensics.crashes", "crash_clock"), ("forensics.memory", "heap_diff"),
                                           ("forensics.postgres", "load_pgss"), ("forensics.incident", "Incident"),
                                           ("forensics.columnar", "export"), ("forensics.columnar", "query"),
                                           ("forensics.columnar", "tables")])
def test_package_names_resolve_on_first_use(package, name):
    """The packages' public names are imported on first use (forensics.lazy), and are the functions themselves —
    also after the command modules imported their submodules (a submodule named like a function would shadow it)."""
    import importlib

    import forensics.columnar.cli  # noqa: F401
    import forensics.columnar.parquet  # noqa: F401
    import forensics.columnar.sql  # noqa: F401
    import forensics.columnar.writer  # noqa: F401

    value = getattr(importlib.import_module(package), name)
    assert callable(value) and not isinstance(value, type(importlib))
    assert name in dir(importlib.import_module(package))
    with pytest.raises(AttributeError):
        getattr(importlib.import_module(package), "no_such_name")
