"""Go: the functions a panic runs on top of the panicking stack are not where it failed.

``gopanic`` runs the goroutine's deferred calls itself, on the same stack, so a traceback taken inside one — a panic
logger's ``runtime/debug.Stack()`` or ``debug.PrintStack()``, a deferred ``recover`` handler — shows the deferred
function above the ``panic(…)`` frame (``runtime/panic.go``), and the function that panicked below it. The frames
above the first ``panic(`` frame of such a thread are the handler's, not the program's failing code.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def mark_go_deferred(frames: pd.DataFrame) -> None:
    """Frames above a Go ``panic(…)`` frame (deferred calls the panic is running) are not own code."""
    if frames.empty or "thread" not in frames:
        return
    srcs = frames["source_file"].to_numpy(dtype=object)
    norm = frames["norm_function"].to_numpy(dtype=object)
    threads = frames["thread"].to_numpy()
    panic = np.array([n == "panic" and isinstance(s, str) and s.endswith("runtime/panic.go") for n, s in zip(norm, srcs)],
                     dtype=bool)
    for k in np.flatnonzero(panic):
        above = (threads == threads[k]) & (np.arange(len(frames)) < k)
        if above.any() and not panic[above].any():
            frames.loc[above, "is_own"] = False


def deferred_panic_words(crash: pd.DataFrame) -> str:
    """The reason's words for a Go stack taken inside a deferred call during a panic (else "")."""
    if crash.empty or "source_file" not in crash:
        return ""
    hit = [k for k, (n, s) in enumerate(zip(crash["norm_function"], crash["source_file"]))
           if n == "panic" and isinstance(s, str) and s.endswith("runtime/panic.go")]
    if not hit or hit[0] == 0:
        return ""
    return ("; a Go panic is in progress under a deferred call (frames above panic()), which may recover it: "
            "the paste does not show that it ended the process")
