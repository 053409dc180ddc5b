"""Which crashes are the same bug: exact bucket keys, plus fuzzy *suggestions* that never merge.

Bucket key = class family + the first frame of the crash thread that is the program's own
code, after dropping wrapper frames and normalising names (see :mod:`.frames`). For hangs
the key is the sorted own frames of the threads blocked on locks; without symbols it is
``program@0xOFF`` (the pc's offset inside its 4 KiB page, which ASLR does not change; the
name cut to the 15 characters of the kernel's ``comm``).

The SEGV memory-access classes (``null-deref-read``/``-write``, ``wild-pointer`` and a
SIGSEGV whose address the transcript does not show) share the family ``memory-access``:
which of them a transcript shows depends on the gdb commands that were run (``p $_siginfo``,
``x/i $pc``), not on the bug, and the same bug must land in one bucket.

>>> import pandas as pd
>>> fr = pd.DataFrame({"thread": [1, 1, 1], "frame": [0, 1, 2], "pc": [1, 2, 3],
...     "norm_function": ["strlen", "greet_user", "main"], "is_own": [False, True, True], "repeat": [1, 1, 1],
...     "module": ["/lib/libc.so.6", None, None]})
>>> bucket_for("null-deref-read", "in-libc:strlen", fr, fr, {"crash_thread": 1})["bucket"]
'memory-access:greet_user'
>>> pdm_similarity(["greet_user", "main"], ["parse_header_length", "main"]) < 0.7
True
"""
from __future__ import annotations

import math
import re
import os

import numpy as np
import pandas as pd

from .classify import _lock_waiters

MEMORY_ACCESS = {"null-deref-read", "null-deref-write", "wild-pointer"}
#: CASR's position-dependent model parameters and its clustering cut (distance 0.3)
PDM_C, PDM_O = 0.04, 0.13
SUGGEST_AT = 0.7
FUZZY_DEPTH = 8


def family_of(cls: str, subclass: str | None) -> str:
    if cls in MEMORY_ACCESS or (cls == "unknown" and subclass == "segv-address-unknown"):
        return "memory-access"
    return cls


def frame_label(row, program: str | None = None) -> str:
    """The normalised function, or ``program@0xOFF`` for an unsymbolised frame."""
    fn = row["norm_function"]
    if fn and fn != "??":
        return str(fn)
    pc = row["pc"]
    mod = row.get("module") if hasattr(row, "get") else None
    name = os.path.basename(mod) if isinstance(mod, str) and mod else (program or "?")
    name = name[:15]   # the kernel's comm (what live sessions show) keeps 15 characters
    if pc is None or pd.isna(pc):
        return f"{name}@?"
    return f"{name}@0x{int(pc) & 0xfff:03x}"


def own_labels(frames: pd.DataFrame, program: str | None = None, depth: int = FUZZY_DEPTH) -> list[str]:
    own = frames[frames["is_own"]].head(depth)
    return [frame_label(r, program) for _, r in own.iterrows()]


def source_tag(path: str) -> str:
    r"""The part of a generic frame's source path that tells programs apart.

    A file named ``main.*`` says nothing (every Go program's package main is ``main.go``, and C's
    ``main.c`` is as common), so its folder is kept too; any other file name stands alone.

    >>> source_tag("/home/a/oniongen/main.go"), source_tag("C:\\src\\tool\\main.c"), source_tag("/x/app.c")
    ('oniongen/main.go', 'tool/main.c', 'app.c')
    """
    parts = [p for p in re.split(r"[\\/]", path) if p]
    if len(parts) >= 2 and parts[-1].split(".")[0].lower() == "main":
        return "/".join(parts[-2:])
    return parts[-1] if parts else path


def bucket_for(cls: str, subclass: str | None, crash: pd.DataFrame, all_frames: pd.DataFrame,
               facts: dict, program: str | None = None) -> dict:
    """The bucket key of one crash, the frame that keyed it and the frames dropped above it."""
    fam = family_of(cls, subclass)
    if cls == "deadlock":
        waiters = _lock_waiters(all_frames) if len(all_frames) else []
        if waiters:
            labels, dropped = [], []
            for t in waiters:
                th = all_frames[all_frames["thread"] == t]
                own = th[th["is_own"]]
                if len(own):
                    labels.append(frame_label(own.iloc[0], program))
                    dropped += th.loc[th.index < own.index[0], "norm_function"].dropna().astype(str).tolist()
            labels = sorted(set(labels))
            if labels:
                return {"bucket": f"{fam}:{'+'.join(labels)}", "top_own_frame": "+".join(labels),
                        "frames_dropped": sorted(set(dropped)),
                        "bucket_why": f"hang: own frames of the threads blocked on locks ({', '.join(map(str, waiters))})"}
    own = crash[crash["is_own"]]
    if cls == "stack-overflow" and len(own) and (own["repeat"] > 1).any():
        # key a recursion by the repeating frame: a return address inside the recursive function,
        # stable even when frame 0 faulted at a different instruction (matters without symbols)
        rep = own[own["repeat"] > 1].sort_values("repeat", ascending=False).iloc[0]
        label = frame_label(rep, program)
        pos = crash.index.get_loc(own.index[0])
        dropped = crash.iloc[:pos]["norm_function"].fillna("?").astype(str).tolist()
        return {"bucket": f"{fam}:{label}", "top_own_frame": label, "frames_dropped": dropped,
                "bucket_why": f"recursion: the frame repeated {int(rep['repeat'])} times, #{int(rep['frame'])} {label}"}
    if len(own):
        first = own.iloc[0]
        pos = crash.index.get_loc(own.index[0])
        dropped = crash.iloc[:pos]["norm_function"].fillna("?").astype(str).tolist()
        label = frame_label(first, program)
        why = f"first own frame #{int(first['frame'])} {label}"
        src = first.get("source_file") if hasattr(first, "get") else None
        key = label
        if is_generic_frame(label) and isinstance(src, str) and src:
            # every program has a main (and the compiler names every static initialiser alike): the
            # source file tells two programs' apart
            where = source_tag(src)
            key = f"{label}@{where}"
            why += f" (in {where})"
        elif is_generic_frame(label) and program and not label.startswith(program + "@"):
            key = f"{label}@{program}"
            why += f" (of {program})"
        elif is_generic_frame(label):
            # a bare main with neither source file nor program name says nothing about which program it is
            key = f"{label}#{facts.get('file_tag') or '?'}"
            why += " (no source file or program name tells whose main it is: not merged with any other file)"
    elif len(crash):
        # nothing of the program's own is shown: such files say nothing about which bug they are, so
        # each gets a bucket of its own (keyed by frame #0 and the file) instead of merging on libc frames
        first = crash.iloc[0]
        label = frame_label(first, program)
        tag = facts.get("file_tag") or "?"
        return {"bucket": f"{fam}:?{label}#{tag}", "top_own_frame": None, "frames_dropped": [],
                "bucket_why": f"no own frame in the crash thread (frame #0 is {label}): not merged with any other file"}
    else:
        return {"bucket": f"{fam}:?#{facts.get('file_tag') or '?'}", "top_own_frame": None, "frames_dropped": [],
                "bucket_why": "no frames: not merged with any other file"}
    if dropped:
        why += f" after dropping {len(dropped)} frame(s): {', '.join(dict.fromkeys(dropped))}"
    return {"bucket": f"{fam}:{key}", "top_own_frame": label, "frames_dropped": dropped, "bucket_why": why}


def _same_frame(x: str, y: str) -> bool:
    """Equal labels; an unsymbolised frame of an unnamed program (``?@0x1c9``) matches the same
    page offset of a named one. Frames with no address at all (``@?``) never match (satyr)."""
    if x.endswith("@?") or y.endswith("@?"):
        return False
    if x == y:
        return True
    if "@0x" in x and "@0x" in y:
        (px, ox), (py, oy) = x.rsplit("@", 1), y.rsplit("@", 1)
        return ox == oy and "?" in (px, py)
    return False


def pdm_similarity(a: list[str], b: list[str], c: float = PDM_C, o: float = PDM_O) -> float:
    """CASR's position-dependent model: matches near the top weigh more; 1.0 = identical.

    Normalised by the *longer* stack (CASR uses the shorter), so that a one-frame stack such as
    ``[main]`` does not look like every other stack ending in ``main``.

    >>> pdm_similarity(["f", "g", "main"], ["f", "g", "main"])
    1.0
    >>> pdm_similarity(["main"], ["greet_user", "main"]) < 0.5
    True
    """
    if not a or not b:
        return 0.0
    n, m = len(a), len(b)
    dp = np.zeros((n + 1, m + 1))
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            best = max(dp[i - 1, j], dp[i, j - 1])
            if _same_frame(a[i - 1], b[j - 1]):
                best = max(best, dp[i - 1, j - 1] + math.exp(-c * min(i - 1, j - 1)) * math.exp(-o * abs(i - j)))
            dp[i, j] = best
    norm = sum(math.exp(-c * i) for i in range(max(n, m)))
    return round(float(dp[n, m] / norm), 4) if norm else 0.0


#: frames shared by almost every stack; a match on these alone suggests nothing
GENERIC_FRAMES = {"main", "??"}
#: names the compiler gives in every program: static initialisers/finalisers (gcc's
#: __static_initialization_and_destruction_0, _GLOBAL__sub_I_<file>), Go's main.main
_GENERIC_NAME = re.compile(r"^(?:main|main\.main|\?\?|__static_initialization_and_destruction_\d+|"
                           r"_GLOBAL__sub_[ID]_.*|__libc_csu_init|_init|_fini)$")


def is_generic_frame(label: str) -> bool:
    """True for a function name that every program has, so it cannot tell two bugs apart by itself."""
    return bool(_GENERIC_NAME.match(str(label)))


def buckets_table(crashes: pd.DataFrame) -> pd.DataFrame:
    """One row per bucket: how many files, which, the keying frame and why they share it."""
    cols = ["bucket", "class", "n_files", "files", "programs", "subclasses", "top_own_frame", "why"]
    groups: dict = {}
    for b, cls, f, prog, sub, top, why in zip(crashes["bucket"], crashes["class"], crashes["file"],
                                              crashes["program"], crashes["subclass"], crashes["top_own_frame"],
                                              crashes["bucket_why"]):
        g = groups.setdefault(b, {"bucket": b, "class": set(), "files": [], "programs": set(), "subclasses": set(),
                                  "top_own_frame": top, "why": why})
        g["class"].add(cls)
        g["files"].append(os.path.basename(str(f)))
        if isinstance(prog, str):
            g["programs"].add(os.path.basename(prog))
        if isinstance(sub, str) and sub:
            g["subclasses"].add(sub)
    rows = [{**g, "class": ", ".join(sorted(g["class"])), "n_files": len(g["files"]), "files": sorted(g["files"]),
             "programs": sorted(g["programs"]), "subclasses": sorted(g["subclasses"])} for g in groups.values()]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["n_files", "bucket"], ascending=[False, True]).reset_index(drop=True)


def suggest_merges(crashes: pd.DataFrame, threshold: float = SUGGEST_AT) -> pd.DataFrame:
    """Pairs of *different* buckets whose own-frame stacks look alike (PDM score >= threshold).

    Only a suggestion with its score: buckets are never merged here.
    """
    cols = ["bucket_a", "bucket_b", "score", "shared_frames", "note"]
    if crashes.empty or "own_stack" not in crashes:
        return pd.DataFrame(columns=cols)
    rep: dict = {}
    for b, st in zip(crashes["bucket"].tolist(), crashes["own_stack"].tolist()):
        st = list(st) if st is not None else []
        if len(st) > len(rep.get(b, ())):
            rep[b] = st          # the bucket's fullest stack (a kernel log line in it shows one frame)
        rep.setdefault(b, st)
    keys = list(rep)
    rows = []
    for i in range(len(keys)):
        for j in range(i + 1, len(keys)):
            a, b = rep[keys[i]], rep[keys[j]]
            if not a or not b:
                continue
            s = pdm_similarity(a, b)
            shared = [x for x in a if any(_same_frame(x, y) for y in b)]
            if not [x for x in shared if not is_generic_frame(x)]:
                continue
            if s >= threshold:
                rows.append({"bucket_a": keys[i], "bucket_b": keys[j], "score": s, "shared_frames": shared,
                             "note": "suggested only; review before treating as one bug"})
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)


def explain_shared_bucket(crashes: pd.DataFrame, file_a: str, file_b: str) -> str:
    """Why two files are (or are not) in one bucket, in words.

    Files are matched on their base name or full path.
    """
    def row(f):
        m = crashes[(crashes["file"] == f) | (crashes["file"].map(os.path.basename) == os.path.basename(f))]
        if m.empty:
            raise KeyError(f"{f} is not in the crash table")
        return m.iloc[0]

    a, b = row(file_a), row(file_b)
    na, nb = os.path.basename(a["file"]), os.path.basename(b["file"])
    lines = [f"{na}: {a['class']} ({a['subclass'] or '-'}), bucket {a['bucket']}; {a['bucket_why']}",
             f"{nb}: {b['class']} ({b['subclass'] or '-'}), bucket {b['bucket']}; {b['bucket_why']}"]
    if a["bucket"] == b["bucket"]:
        lines.append(f"Same bucket: both are {family_of(a['class'], a['subclass'])} and their first own frame is "
                     f"{a['top_own_frame']}.")
    else:
        s = pdm_similarity(list(a["own_stack"]), list(b["own_stack"]))
        lines.append(f"Different buckets; own-frame stacks are {s:.2f} similar (PDM), "
                     + ("worth a look." if s >= SUGGEST_AT else "below the suggestion threshold."))
    return "\n".join(lines)
