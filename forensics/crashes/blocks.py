"""Frame lines -> backtrace blocks -> one frames table (the crash thread chosen, recursion collapsed).

A block restarts at ``#0`` or wherever numbering is not consecutive and belongs to the ``Thread N
(...)`` header printed right above its first frame, or to the current thread when none precedes
it (plain ``bt``). Each thread keeps its best block (most frames, then the one with ``bt full``
locals).

>>> split_function_args('malloc_printerr (str=0x7f "free(): double free")')
('malloc_printerr', 'str=0x7f "free(): double free"')
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

#: frames kept per run of identical consecutive functions before collapsing (recursion)
REPEAT_KEEP = 3
#: a run at least this long is collapsed into one row carrying ``repeat``
REPEAT_COLLAPSE = 8

_SIMPLE_BODY = re.compile(r"^(?P<func>[^()\"]+?|\?\?) \((?P<args>[^()]*)\)$")


def split_function_args(body: str) -> tuple[str, str | None]:
    """``"load(std::map<int> const&) (m=...)"`` -> (``"load(std::map<int> const&)"``, ``"m=..."``).

    The argument list is the last balanced ``(...)`` group, skipping quoted strings.

    >>> split_function_args('malloc_printerr (str=0x7f "free(): double free")')
    ('malloc_printerr', 'str=0x7f "free(): double free"')
    >>> split_function_args('<signal handler called>')
    ('<signal handler called>', None)
    """
    m = _SIMPLE_BODY.match(body)
    if m:
        return m.group("func"), m.group("args")
    if not body.endswith(")"):
        return body, None
    depth, i, in_str = 0, len(body) - 1, False
    # scan from the end for the "(" matching the final ")"
    while i >= 0:
        c = body[i]
        if in_str:
            if c == '"' and (i == 0 or body[i - 1] != "\\"):
                in_str = False
        elif c == '"':
            in_str = True
        elif c == ")":
            depth += 1
        elif c == "(":
            depth -= 1
            if depth == 0:
                break
        i -= 1
    if i <= 0:
        return body, None
    return body[:i].rstrip(), body[i + 1:-1]


FRAME_COLUMNS = ["thread", "lwp", "frame", "pc", "function", "args", "source_file", "line", "module",
                 "optimized_out", "error_reading", "locals", "repeat", "block"]


def _frames(cols: dict, locals_of: dict, facts: dict, warnings: list) -> pd.DataFrame:
    """Pick each thread's best backtrace block, collapse recursion, and build the frames table.

    All selection runs on numpy arrays; the DataFrame is built from the kept rows only, so a
    recursion of 50,000 frames ends up as a handful of rows.
    """
    if not cols["no"]:
        facts["crash_thread"] = facts.get("signal_thread") or facts.get("current_thread") or 1
        facts["crash_thread_why"] = "no frames"
        facts["n_frames_raw"] = 0
        return pd.DataFrame({c: pd.Series(dtype=object) for c in FRAME_COLUMNS})
    no = np.asarray(cols["no"], dtype=np.int64)
    # a block restarts at #0 or wherever numbering is not consecutive
    start = np.ones(len(no), dtype=bool)
    start[1:] = (no[1:] == 0) | (no[1:] != no[:-1] + 1)
    block = np.cumsum(start) - 1
    # a block belongs to the "Thread N (...):" header printed right above its first frame
    hdr = np.array([h if h is not None else -1 for h in cols["owner_hdr"]], dtype=np.int64)
    owner = hdr[start][block]
    fn_args = [split_function_args(b) for b in cols["body"]]
    function = np.array([f if f and f.strip("?") else "??" for f, _ in fn_args], dtype=object)
    for k, f in enumerate(cols["file"]):
        if f and ".so" in f.rsplit("/", 1)[-1] and not cols["module"][k]:
            cols["module"][k], cols["file"][k], cols["line"][k] = f, None, None
    args = np.array([a for _, a in fn_args], dtype=object)
    crash, why = _crash_thread(owner, no, function, facts)
    facts["crash_thread"], facts["crash_thread_why"] = crash, why
    thread = np.where(owner < 0, crash, owner)
    # the deepest frame number the crash thread shows, in any block (a paste may skip from #1 to #52917)
    facts["deepest_frame"] = int(no[thread == crash].max()) if (thread == crash).any() else 0
    has_locals = np.zeros(len(no), dtype=bool)
    has_locals[list(locals_of)] = True
    n_blocks = int(block[-1]) + 1
    size = np.bincount(block, minlength=n_blocks)
    block_locals = np.bincount(block, weights=has_locals, minlength=n_blocks) > 0
    block_thread = thread[start]
    # best block per thread: the most frames, then the one with locals (bt full)
    best: dict = {}
    for b in range(n_blocks):
        t = int(block_thread[b])
        if t not in best or (size[b], block_locals[b]) > (size[best[t]], block_locals[best[t]]):
            best[t] = b
    keep_blocks = np.array(sorted(best.values()), dtype=np.int64)
    facts["n_frames_raw"] = int(size[keep_blocks].max())
    keep = np.isin(block, keep_blocks)
    locals_arr = np.full(len(no), None, dtype=object)
    for k, v in locals_of.items():
        locals_arr[k] = "\n".join(v)
    # borrow locals from a bt full block of the same thread when the kept block has none
    spare = {(int(thread[k]), int(no[k])): locals_arr[k] for k in locals_of if not keep[k]}
    if spare:
        for k in np.flatnonzero(keep):
            if locals_arr[k] is None:
                locals_arr[k] = spare.get((int(thread[k]), int(no[k])))
    idx = np.flatnonzero(keep)
    # unnamed frames of different modules are not one function recursing (a raw stack: ntdll, a runtime dll, the .exe)
    run_key = np.array([f"??@{cols['module'][k]}" if f == "??" and cols["module"][k] else f
                        for k, f in enumerate(function)], dtype=object)
    idx, repeat = _collapse_repeats(idx, run_key, thread)
    order = np.lexsort((no[idx], thread[idx]))
    idx, repeat = idx[order], repeat[order]
    pcs = [cols["pc"][k] for k in idx]
    args_k, locals_k = args[idx], locals_arr[idx]
    lwp_map = facts["thread_lwp"]
    lwps = [lwp_map.get(int(t)) for t in thread[idx]]
    if facts["n_threads_seen"] == 1 and facts.get("pid") and not any(lwps):
        lwps = [facts["pid"]] * len(idx)
    df = pd.DataFrame({
        "thread": thread[idx], "lwp": pd.array(lwps, dtype="Int64"), "frame": no[idx],
        "pc": pd.array(pcs, dtype="Int64") if all(p is None or p < (1 << 63) for p in pcs)
        else np.asarray(pcs, dtype=object),
        "function": function[idx], "args": args_k,
        "source_file": np.asarray([cols["file"][k] for k in idx], dtype=object),
        "line": pd.array([cols["line"][k] for k in idx], dtype="Int64"),
        "module": np.asarray([cols["module"][k] for k in idx], dtype=object),
        "optimized_out": np.array(["<optimized out>" in (a or "") for a in args_k], dtype=bool),
        "error_reading": np.array(["<error reading variable" in (a or "") + (lo or "")
                                   for a, lo in zip(args_k, locals_k)], dtype=bool),
        "locals": locals_k, "repeat": repeat, "block": block[idx],
    })
    return df[FRAME_COLUMNS]


def _crash_thread(owner, no, function, facts) -> tuple[int, str]:
    """The thread that got the signal, and how we know (satyr's header rule as fallback)."""
    aborting = _aborting_threads(owner, no, function) if facts.get("signal") in (None, "SIGSTOP") \
        and not facts.get("si_signo") else set()
    if len(aborting) == 1:
        # no signal names the thread (a macOS core's lldb shows SIGSTOP on every thread, `*` on the first): the one
        # thread on abort()'s path is the one that died, not the one a debugger selected
        return aborting.pop(), "the only thread in abort()/raise() (no signal line names a thread)"
    if facts.get("signal_thread"):
        return facts["signal_thread"], "gdb named it in the signal line"
    if facts.get("starred_thread"):
        return facts["starred_thread"], "marked * in info threads"
    if facts.get("current_thread"):
        return facts["current_thread"], "gdb's [Current thread is N] at core load"
    if facts.get("sanitizer_thread") is not None:
        # ASan's T0 is the main thread; gdb would number it 1
        return facts["sanitizer_thread"] + 1, f"the sanitizer report names thread T{facts['sanitizer_thread']}"
    if facts.get("switched_thread"):
        return facts["switched_thread"], "the thread the user switched to (gdb's `thread N`) in a session with no signal"
    if facts.get("switch_lwp"):
        for t, lwp in facts["thread_lwp"].items():
            if lwp == facts["switch_lwp"]:
                return t, "the thread gdb switched to"
    threads = sorted(set(int(t) for t in owner[owner >= 0]))
    loose = np.flatnonzero(owner < 0)
    if len(loose) and threads and 1 not in threads and no[loose[0]] == 0 and \
            not any(function[k] == function[loose[0]] for k in np.flatnonzero((owner >= 0) & (no == 0))):
        # the stop's frame #0 (printed under the signal line) is no listed thread's top frame: the thread list was
        # cut before the crashing thread, which gdb numbers 1 at core load
        return 1, "the stop frame printed before the thread list is no listed thread's top frame (their list is cut)"
    if len(threads) <= 1:
        return (threads[0] if threads else 1), "the only thread"
    # satyr: the frame printed before the first thread header names the crash thread's top frame
    if len(loose):
        top = function[loose[0]]
        hits = {int(owner[k]) for k in np.flatnonzero((owner >= 0) & (no == 0)) if function[k] == top}
        if len(hits) == 1:
            return hits.pop(), "its top frame matches the frame printed before the thread list (satyr rule)"
    return 1, "assumed thread 1 (gdb's current thread at core load)"


_ABORT_FN = re.compile(r"^(?:__GI_)?(?:abort|raise)$")


def _aborting_threads(owner, no, function) -> set:
    """Threads whose top 4 frames include abort() or raise()."""
    return {int(owner[k]) for k in np.flatnonzero((owner >= 0) & (no < 4))
            if isinstance(function[k], str) and _ABORT_FN.match(function[k].strip())}


def _collapse_repeats(idx: np.ndarray, function: np.ndarray, thread: np.ndarray):
    """Runs of one function (recursion) of REPEAT_COLLAPSE or more keep REPEAT_KEEP rows; the
    last kept row's ``repeat`` says how many frames it stands for. Returns (rows, repeat)."""
    f = function[idx]
    th = thread[idx]
    new_run = np.ones(len(idx), dtype=bool)
    new_run[1:] = (f[1:] != f[:-1]) | (th[1:] != th[:-1])
    run_id = np.cumsum(new_run) - 1
    run_len = np.bincount(run_id)
    pos = np.arange(len(idx)) - np.flatnonzero(new_run)[run_id]
    long_run = run_len[run_id] >= REPEAT_COLLAPSE
    keep = ~long_run | (pos < REPEAT_KEEP)
    repeat = np.ones(len(idx), dtype=np.int64)
    last_kept = long_run & (pos == REPEAT_KEEP - 1)
    repeat[last_kept] = run_len[run_id[last_kept]] - (REPEAT_KEEP - 1)
    return idx[keep], repeat[keep]
