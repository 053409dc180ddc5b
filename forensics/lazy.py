"""Public names of a package imported on first use (PEP 562), so that importing the package — as every
``forensics`` command does for each kind to build its parser — costs nothing until a name is used.

>>> import forensics.traces
>>> forensics.traces.load_traces.__module__      # imported now, on first use
'forensics.traces.load'
"""
from __future__ import annotations

import importlib


def lazy_exports(package: str, names: dict[str, str]):
    """``(__getattr__, __dir__)`` for ``package``: ``names`` maps a public name to the submodule defining it
    (relative, e.g. ``".load"``). Assign both in the package's ``__init__``."""

    def __getattr__(name):
        where = names.get(name)
        if where is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where, package), name)
        setattr(importlib.import_module(package), name, value)   # the next lookup is a plain attribute
        return value

    def __dir__():
        return sorted(set(vars(importlib.import_module(package))) | set(names))

    return __getattr__, __dir__
