"""Which loader reads which kind of artifact.

Loaders are named as ``"module:function"`` strings and imported only when a file
of their kind is loaded, so ``import forensics`` stays fast (numba, pglast and
friends load only when needed). A subpackage adds its kinds to :data:`LOADERS`
here; third parties can call :func:`register_loader` at run time.

A loader is called as ``loader(path, **options)`` and returns a small typed
object with a ``provenance`` attribute (:class:`forensics.artifact.Provenance`)
and DataFrames that carry the same provenance in ``df.attrs["provenance"]``.
It raises only :class:`~forensics.errors.ArtifactError`.
"""
from __future__ import annotations

import importlib
import os
from typing import Callable

from .artifact import KINDS, detect
from .errors import ArtifactError

LOADERS: dict[str, str | Callable] = {
    "pcap": "forensics.network.load:load_capture",
    "pcapng": "forensics.network.load:load_capture",
    "jaeger-json": "forensics.traces.load:load_traces",
    "otlp-json": "forensics.traces.load:load_traces",
    "zipkin-json": "forensics.traces.load:load_traces",
    "pg_stat_statements": "forensics.postgres.load:load_pgss",
    "v8-heapsnapshot": "forensics.memory.load:load_heap",
    "jvm-histogram": "forensics.memory.load:load_heap",
    "tracemalloc-text": "forensics.memory.load:load_heap",
    "pprof": "forensics.memory.load:load_heap",
    "python-pickle": "forensics.memory.load:load_heap",
    "gdb-output": "forensics.crashes.load:load_gdb",
}


def register_loader(kind: str, loader: str | Callable, description: str | None = None) -> None:
    """Make :func:`load` send files of ``kind`` to ``loader`` (callable or ``"module:function"``)."""
    LOADERS[kind] = loader
    if description and kind not in KINDS:
        KINDS[kind] = description


def loader_for(kind: str) -> Callable:
    """The loader function for ``kind``; :class:`ArtifactError` when there is none yet."""
    target = LOADERS.get(kind)
    if target is None:
        raise ArtifactError(None, None, f"no loader for kind {kind!r}; known: {', '.join(LOADERS)}")
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
    that is cut short beyond use, or a kind whose loader refuses it.
    """
    path = os.fspath(path)
    kind = kind or detect(path)
    try:
        return loader_for(kind)(path, **options)
    except ArtifactError as e:
        if e.path is None:
            raise ArtifactError(path, e.location, e.reason) from None
        raise
