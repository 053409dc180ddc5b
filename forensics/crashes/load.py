"""Load GDB transcripts: ``load_gdb(path)`` for one file, ``load_folder(folder)`` for many.

>>> import glob, os
>>> here = os.path.join(os.path.dirname(__file__), "..", "..", "sample_data", "crashes")
>>> c = load_gdb(os.path.join(here, "double_free__g-O0__cmds.txt"))
>>> c.crashes.loc[0, ["class", "subclass", "top_own_frame"]].tolist()
['heap-corruption', 'double-free', 'release_buffer']
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..artifact import Provenance, map_readonly, provenance_for
from ..errors import ArtifactError
from ..progress import progress
from .bucket import bucket_for, buckets_table, own_labels, suggest_merges
from .classify import classify
from .frames import annotate, mark_interpreter_frames
from .jemalloc import mark_jemalloc
from .mysqlclient import mark_mysql_client
from .godefer import mark_go_deferred
from .ocamlrt import mark_ocaml_runtime
from .parse import REPEAT_KEEP, parse_text

#: files larger than this are refused (a gdb transcript of 200 MB is not a transcript)
MAX_BYTES = 256 << 20

CRASH_COLUMNS = ["file", "program", "argv", "style", "signal", "si_code", "fault_address", "si_pid", "pid",
                 "origin", "n_threads", "crash_thread", "crash_lwp", "crash_thread_why", "pc", "sp",
                 "class", "subclass", "exploitability", "exploitability_rule", "top_own_frame", "bucket",
                 "bucket_why", "frames_dropped", "reason", "origin_why", "assertion", "heap_message",
                 "exception_type", "n_frames", "recursion", "more_frames_follow", "own_stack", "warnings"]


@dataclass
class GdbCrash:
    """One transcript: ``crashes`` (one row) and ``frames`` (every thread's stack), with provenance."""

    crashes: pd.DataFrame
    frames: pd.DataFrame
    provenance: Provenance

    @property
    def crash(self) -> dict:
        return self.crashes.iloc[0].to_dict()

    def crash_stack(self) -> pd.DataFrame:
        return self.frames[self.frames["is_crash_thread"]]


@dataclass
class CrashSet:
    """Many transcripts: the crash table, all frames, buckets, merge suggestions, refused files."""

    crashes: pd.DataFrame
    frames: pd.DataFrame
    buckets: pd.DataFrame
    suggestions: pd.DataFrame
    errors: pd.DataFrame
    provenance: list = field(default_factory=list)


def _style(facts: dict) -> str:
    if facts.get("core_cmd"):
        return "core"
    if facts.get("attached"):
        return "attach"
    if facts.get("live"):
        return "live"
    return "text"


def _program(facts: dict) -> tuple[str | None, str | None]:
    cmd = facts.get("core_cmd")
    if cmd:
        parts = cmd.split()
        return (parts[0] if parts else None), cmd
    for p in facts.get("module_bases") or {}:
        if ".so" not in os.path.basename(p):
            return p, None
    # a live session names no binary, but gdb shows the thread's command name (comm)
    return facts.get("comm"), None


def load_gdb(path, **options) -> GdbCrash:
    """Parse, classify and bucket one GDB transcript (any style).

    Raises :class:`ArtifactError` when the file is not GDB output or holds no frame and no
    signal line; odd lines inside a real transcript are skipped.
    """
    prov = provenance_for(path, parser="forensics.crashes")
    if prov.kind != "gdb-output":
        raise ArtifactError(path, None, f"not GDB output ({prov.format or 'unrecognised content'})")
    if prov.size > MAX_BYTES:
        raise ArtifactError(path, None, f"{prov.size:,} bytes is too large for a gdb transcript (limit {MAX_BYTES:,})")
    with progress(prov.size, "reading gdb transcript", size_bytes=prov.size) as bar:
        raw = bytes(map_readonly(path))
        bar.update(len(raw))
    return _load_bytes(path, raw, prov)


def load_text(data, name: str = "<paste>") -> GdbCrash:
    """Classify a transcript held in memory (a paste, standard input): same result as :func:`load_gdb`.

    ``data`` is ``str`` or ``bytes``; the provenance records ``name``, the size and the SHA-256 of
    those bytes (there is no file to open).
    """
    import hashlib

    from ..artifact import _sniff_head
    from .sniff import sniff_crash

    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > MAX_BYTES:
        raise ArtifactError(name, None, f"{len(raw):,} bytes is too large for a gdb transcript (limit {MAX_BYTES:,})")
    d = _sniff_head(raw[:1 << 16])
    fmt = d.format if d.kind == "gdb-output" else None
    if fmt is None:
        hit = sniff_crash(raw[:1 << 16]) if raw else None
        if hit is None:
            raise ArtifactError(name, None, f"not a crash transcript ({d.evidence})")
        fmt = hit[0]
    from .. import __version__
    prov = Provenance(path=name, size=len(raw), sha256=hashlib.sha256(raw).hexdigest(), kind="gdb-output",
                      format=fmt, parser="forensics.crashes", parser_version=__version__)
    return _load_bytes(name, raw, prov)


def _load_bytes(path, raw: bytes, prov: Provenance) -> GdbCrash:
    from .sniff import utf16_text

    text = utf16_text(raw)
    if text is not None:
        prov.warn(None, "UTF-16 text (as a Windows shell's redirection writes it) decoded")
    else:
        text = raw.decode("utf-8", errors="replace")
    if "\ufffd" in text:
        prov.warn(None, "bytes that are not UTF-8 were replaced")
    if "\x00" in text:
        text = text.replace("\x00", "")
        prov.warn(None, "NUL bytes removed")
    try:
        return _build(path, text, prov)
    except ArtifactError:
        raise
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, OverflowError) as e:
        # a safety net: a parser bug must still surface as "this file", not as a traceback
        raise ArtifactError(path, None, f"internal parser error on this file ({type(e).__name__}: {e})") from None


def _build(path, text: str, prov: Provenance) -> GdbCrash:
    t = parse_text(text)
    facts = t.facts
    # a Go runtime throw or a sanitizer report says what happened even when its stack was cut off
    verdict_line = facts.get("signal") or facts.get("go_fatal") or facts.get("go_panic") or facts.get("sanitizer_kind") \
        or facts.get("exception_type") or facts.get("assert_expr") or facts.get("glibc_message") \
        or facts.get("abort_message") or facts.get("runtime_verdict") or facts.get("go_deadlock")
    # (the runtime's last words before abort(): a terminate, assert or glibc fatal message)
    if t.frames.empty and not verdict_line and not facts.get("started"):
        raise ArtifactError(path, None, "GDB output, but with no backtrace frame and no signal line")
    gdb_marks = verdict_line or facts.get("started") or facts.get("core_cmd") or facts.get("thread_lwp") or facts.get("registers") \
        or facts.get("dialect") == "ide"     # a debugger's copied call stack (VS Code's "raise (Unknown Source:0)")
    framed = t.frames["pc"].notna().any() or t.frames["source_file"].notna().any() or t.frames["module"].notna().any()
    if not gdb_marks and not framed:
        # "#1 Introduction (draft)" in a note looks like a frame line, but no gdb frame lacks all of
        # an address, a source location and a library
        raise ArtifactError(path, None, "no gdb frame with an address, source location or library, and no signal line")
    for where, note in facts.get("notes") or ():
        prov.warn(where, note)           # what a translation of a loose paste did (frames it numbered, …)
    last = text.rstrip("\n").rsplit("\n", 1)[-1]
    if not text.endswith("\n") and last.startswith("#"):
        prov.warn(f"line {facts['n_lines']:,}", "the last frame line is cut short — truncated transcript?")
    frames = annotate(t.frames.reset_index(drop=True), facts.get("module_ranges") or ())
    mark_interpreter_frames(frames, _program(facts)[0])
    mark_ocaml_runtime(frames)
    mark_jemalloc(frames)
    mark_mysql_client(frames)
    mark_go_deferred(frames)
    if facts.get("not_own_pcs"):
        frames.loc[pd.to_numeric(frames["pc"], errors="coerce").isin(facts["not_own_pcs"]), "is_own"] = False
    if facts.get("not_own_functions"):       # a runtime's library frames a translator named (c3trace.py)
        frames.loc[frames["function"].isin(facts["not_own_functions"]), "is_own"] = False
    _fill_modules(frames, facts)
    crash_thread = facts["crash_thread"]
    frames["is_crash_thread"] = frames["thread"].to_numpy() == crash_thread
    crash = frames[frames["is_crash_thread"]]
    verdict = classify(facts, crash, frames)
    top_pc = pd.to_numeric(crash["pc"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)[0] if len(crash) else np.nan
    at_fault = facts.get("si_addr") is not None and not np.isnan(top_pc) and int(top_pc) == facts["si_addr"]
    if verdict["class"] == "bad-pc" and len(crash) and (crash.iloc[0]["norm_function"] == "??" or at_fault):
        # the thread jumped to a pc that is no function (or to the faulting address: a data symbol such as
        # default_loop_struct is only where it landed): that frame is nobody's code, its caller is the culprit
        frames.loc[crash.index[0], "is_own"] = False
        crash = frames[frames["is_crash_thread"]]
    program, argv = _program(facts)
    prog_name = os.path.basename(program) if program else None
    facts["file_tag"] = (prov.sha256 or "")[:8]
    b = bucket_for(verdict["class"], verdict["subclass"], crash, frames, facts, prog_name)
    recursion = None
    if len(crash) and crash["repeat"].max() > 1:
        r = crash.loc[crash["repeat"].idxmax()]
        recursion = f"{r['norm_function']} x{int(r['repeat']) + REPEAT_KEEP - 1}"
    lwp = crash["lwp"].dropna()
    row = {
        "file": os.fspath(path), "program": program, "argv": argv, "style": _style(facts),
        "signal": facts.get("signal"), "si_code": facts.get("si_code"), "fault_address": facts.get("si_addr"),
        "si_pid": facts.get("si_pid"), "pid": facts.get("pid"), "n_threads": facts.get("n_threads_seen"),
        "crash_thread": crash_thread, "crash_lwp": int(lwp.iloc[0]) if len(lwp) else None,
        "crash_thread_why": facts.get("crash_thread_why"), "pc": facts.get("pc"), "sp": facts.get("sp"),
        **{k: verdict.get(k) for k in ("origin", "class", "subclass", "exploitability", "exploitability_rule",
                                       "reason", "origin_why", "assertion", "heap_message", "exception_type")},
        **b,
        "n_frames": facts.get("n_frames_raw"), "recursion": recursion,
        "more_frames_follow": facts.get("more_frames_follow"),
        "own_stack": own_labels(crash, prog_name), "warnings": list(prov.warnings),
    }
    crashes = pd.DataFrame([row], columns=CRASH_COLUMNS)
    for c in ("si_code", "si_pid", "pid", "n_threads", "crash_thread", "crash_lwp", "n_frames"):
        crashes[c] = pd.array([row[c]], dtype="Int64")
    frames.insert(0, "file", os.fspath(path))
    prov.details.update({"style": row["style"], "class": row["class"], "bucket": row["bucket"]})
    prov.attach(crashes, frames)
    return GdbCrash(crashes=crashes, frames=frames, provenance=prov)


def _fill_modules(frames: pd.DataFrame, facts: dict) -> None:
    """Name the module of frames gdb printed without ``from``: by pc range (shared libraries and
    mappings), and the program itself for the program's own frames."""
    if frames.empty:
        return
    mods = frames["module"].to_numpy(dtype=object).copy()
    # gdb omits "0x… in" on frame 0 when it has line info; the registers give that pc
    if facts.get("pc") is not None and facts["pc"] < (1 << 63):
        top = ((frames["thread"] == facts["crash_thread"]) & (frames["frame"] == 0) & frames["pc"].isna()).to_numpy()
        if top.any():
            frames.loc[top, "pc"] = facts["pc"]
    pcs = pd.to_numeric(frames["pc"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    for lo, hi, path in facts.get("module_ranges") or ():
        if lo is None or hi is None:
            continue
        hit = np.array([m is None or m != m for m in mods], dtype=bool) & (pcs >= lo) & (pcs < hi)
        mods[hit] = path
    program, _ = _program(facts)
    if program:
        missing = np.array([m is None or m != m for m in mods], dtype=bool) & frames["is_own"].to_numpy(dtype=bool)
        mods[missing] = program
    frames["module"] = mods


def _files_in(folder) -> list[str]:
    out = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for f in sorted(files):
            if not f.startswith(".") and not f.endswith(".json"):
                out.append(os.path.join(root, f))
    return out


def load_folder(folder, suggest_threshold: float = 0.7) -> CrashSet:
    """Every transcript under ``folder`` (recursively); files that are not GDB output are
    listed in ``errors`` with the reason instead of stopping the load.

    Returns the crash table, all frames, the buckets and the fuzzy merge suggestions.
    """
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise ArtifactError(folder, None, "not a folder")
    loaded, errors = [], []
    for p in _files_in(folder):
        try:
            loaded.append(load_gdb(p))
        except ArtifactError as e:
            errors.append({"file": p, "error": e.reason})
    return combine(loaded, errors, suggest_threshold)


def combine(loaded: list[GdbCrash], errors: list[dict] | None = None, suggest_threshold: float = 0.7) -> CrashSet:
    """Put several :class:`GdbCrash` results into one :class:`CrashSet` (buckets + suggestions)."""
    crashes = pd.concat([c.crashes for c in loaded], ignore_index=True) if loaded else \
        pd.DataFrame(columns=CRASH_COLUMNS)
    frames = pd.concat([c.frames for c in loaded], ignore_index=True) if loaded else pd.DataFrame()
    provs = [c.provenance.to_dict() for c in loaded]
    crashes.attrs["provenance"] = provs
    frames.attrs["provenance"] = provs
    return CrashSet(crashes=crashes, frames=frames, buckets=buckets_table(crashes),
                    suggestions=suggest_merges(crashes, suggest_threshold),
                    errors=pd.DataFrame(errors or [], columns=["file", "error"]), provenance=provs)


__all__ = ["load_gdb", "load_text", "load_folder", "combine", "GdbCrash", "CrashSet", "CRASH_COLUMNS"]
