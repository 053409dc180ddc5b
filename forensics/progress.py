"""Progress bars for long loads: a widget in notebooks, a bar on terminals, silent otherwise.

Loaders call :func:`progress` with the number of bytes (or records) they will
work through; below :data:`forensics.artifact.PROGRESS_THRESHOLD` bytes, or
when nobody is watching (no TTY and no notebook), they get a no-op bar, so CI
logs and piped CLI output stay clean.
"""
from __future__ import annotations

import os
import sys

from .artifact import PROGRESS_THRESHOLD


class _Silent:
    """The part of tqdm's interface loaders use, doing nothing."""

    n = 0

    def update(self, n=1):
        self.n += n

    def set_postfix_str(self, *a, **k):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    ip = get_ipython()
    return ip is not None and hasattr(ip, "kernel")


def watched() -> bool:
    """True when a person can see a progress bar (notebook or terminal)."""
    if os.environ.get("FORENSICS_PROGRESS") == "0":
        return False
    if os.environ.get("FORENSICS_PROGRESS") == "1":
        return True
    return in_notebook() or sys.stderr.isatty()


def progress(total: int, desc: str, unit: str = "B", *, size_bytes: int | None = None, enabled: bool | None = None):
    """A tqdm.auto bar (or a silent stand-in) for ``total`` units.

    ``size_bytes`` is the file size that decides whether a bar is worth it
    (defaults to ``total`` when counting bytes). Use as a context manager and
    call ``.update(n)``.
    """
    big = (size_bytes if size_bytes is not None else (total if unit == "B" else 0)) >= PROGRESS_THRESHOLD
    if enabled is None:
        enabled = big and watched()
    if not enabled:
        return _Silent()
    from tqdm.auto import tqdm

    scale = unit == "B"
    return tqdm(total=total, desc=desc, unit=unit, unit_scale=scale, unit_divisor=1024 if scale else 1000,
                leave=False, file=sys.stderr)
