"""Which loader reads which kind of artifact — read from the one table, :mod:`forensics.kinds`.

Loaders are named as ``"module:function"`` strings and imported only when a file
of their kind is loaded, so ``import forensics`` stays fast (numba, pglast and
friends load only when needed). Third parties can call :func:`register_loader`
at run time (it adds an entry to :data:`forensics.kinds.KINDS`).

A loader is called as ``loader(path, **options)`` and returns a small typed
object with a ``provenance`` attribute (:class:`forensics.artifact.Provenance`)
and DataFrames that carry the same provenance in ``df.attrs["provenance"]``.
It should raise only :class:`~forensics.errors.ArtifactError`; :func:`load` is the
safety net that turns anything else a loader raises (a defect met on odd input)
into an ``ArtifactError`` naming the file, so no loader keeps its own list of
exceptions to translate.
"""
from __future__ import annotations

import dataclasses
import importlib
import os
from collections.abc import Mapping
from typing import Callable

from . import kinds
from .artifact import detect
from .errors import ArtifactError


class _Loaders(Mapping):
    """{detected kind: loader} — a read-only view of the kinds table (kept for old callers)."""

    def __getitem__(self, name):
        return kinds.by_name()[name].loader

    def __iter__(self):
        return iter(kinds.by_name())

    def __len__(self):
        return len(kinds.KINDS)


LOADERS: Mapping[str, str | Callable] = _Loaders()


def register_loader(kind: str, loader: str | Callable, description: str | None = None,
                    family: str = "memory") -> None:
    """Make :func:`load` send files of ``kind`` to ``loader`` (callable or ``"module:function"``).

    Replaces the loader of a kind already in the table; otherwise adds an entry (of ``family``).
    """
    old = kinds.get(kind)
    if old is not None:
        kinds.add(dataclasses.replace(old, loader=loader, description=description or old.description), replace=True)
    else:
        kinds.add(kinds.Kind(kind, family, description or kind, loader=loader))


def loader_for(kind: str) -> Callable:
    """The loader function for ``kind``; :class:`ArtifactError` when there is none yet."""
    entry = kinds.get(kind)
    if entry is None:
        raise ArtifactError(None, None, f"no loader for kind {kind!r}; known: {', '.join(kinds.by_name())}")
    target = entry.loader
    if callable(target):
        return target
    mod_name, func_name = target.split(":")
    try:
        mod = importlib.import_module(mod_name)
    except ModuleNotFoundError as e:
        if e.name and (e.name == mod_name or mod_name.startswith(e.name + ".")):
            raise ArtifactError(None, None, f"{kind} files are recognised, but their loader ({mod_name}) "
                                "is not part of this version of forensics") from None
        raise
    return getattr(mod, func_name)


def load(path, kind: str | None = None, **options):
    """Detect what ``path`` holds and load it with that kind's loader.

    Raises only :class:`ArtifactError` for bad input: unknown content, a file
    that is cut short beyond use, or a kind whose loader refuses it. Anything
    else a loader raises becomes an ``ArtifactError`` naming the file and the
    loader (the original exception is chained, for ``--debug``).
    """
    if isinstance(path, (list, tuple)) or (isinstance(path, (str, os.PathLike)) and os.path.isdir(path)):
        from .sets import load_set  # a folder or a list of files: one set (rotated captures, …)

        return load_set(path, **options)
    path = os.fspath(path)
    kind = kind or detect(path)
    loader = loader_for(kind)
    try:
        return loader(path, **options)
    except ArtifactError as e:
        if e.path is None:
            raise ArtifactError(path, e.location, e.reason) from None
        raise
    except TypeError as e:
        if _is_bad_option(e, loader, options):
            raise  # a caller's mistake (an option this loader does not take), not bad input
        raise _defect(path, kind, e) from e
    except Exception as e:  # the safety net: a defect met on odd input is still the file's error
        raise _defect(path, kind, e) from e


def _is_bad_option(e: TypeError, loader, options) -> bool:
    return bool(options) and "unexpected keyword argument" in str(e) and getattr(loader, "__name__", "") in str(e)


def _defect(path, kind, e) -> ArtifactError:
    text = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return ArtifactError(path, None, f"the {kind} loader could not read it ({type(e).__name__}"
                         + (f": {text[:200]}" if text else "") + ")")
