"""``forensics crash classify|buckets|stack`` — what killed each process, and which files are one bug.

    forensics crash classify core1.txt core2.txt --format json
    forensics crash buckets sample_data/crashes/            # folders are expanded
    forensics crash buckets FILE... --suggest               # fuzzy merge suggestions instead
    forensics crash stack FILE [--all-threads]
"""
from __future__ import annotations

import os
import sys

# pandas is imported by the commands: every `forensics` command imports this module to build its parser

from ..errors import ArtifactError

CLASSIFY_FIELDS = ["file", "signal", "si_code", "origin", "class", "subclass", "crash_thread", "top_own_frame",
                   "bucket", "exploitability", "reason"]


def _expand(paths) -> list[str]:
    from .load import _files_in

    out = []
    for p in paths:
        if os.path.isdir(p):
            out += _files_in(p)
        else:
            out.append(p)
    if not out:
        raise ArtifactError(None, None, "no files given")
    return out


def _load_all(paths):
    from .load import combine, load_gdb, load_text

    if list(paths) == ["-"]:
        # a paste on standard input (the terminal or a pipe): classified in memory, nothing written
        return combine([load_text(sys.stdin.buffer.read(), name="<stdin>")])
    return combine([load_gdb(p) for p in _expand(paths)])


def cmd_classify(args):
    """Per file: signal, origin, class, subclass, crash thread, top own frame, bucket, exploitability, reason."""
    cs = _load_all(args.files)
    fields = CLASSIFY_FIELDS + (["exploitability_rule", "bucket_why", "assertion", "heap_message", "exception_type",
                                 "fault_address", "si_pid", "style", "recursion"] if args.verbose else [])
    return cs.crashes[fields]


def cmd_buckets(args):
    """Files grouped by bucket (exact keys); with --suggest, the fuzzy merge suggestions."""
    cs = _load_all(args.files)
    if args.suggest:
        return cs.suggestions
    b = cs.buckets.copy()
    if args.format == "table":
        b["files"] = b["files"].map(lambda f: ", ".join(f[:4]) + (f" (+{len(f) - 4})" if len(f) > 4 else ""))
        b = b.drop(columns=["programs", "subclasses"])
    return b


def cmd_stack(args):
    """The crash thread's frames (or every thread's) after normalisation, with own-code flags."""
    from .load import load_gdb

    c = load_gdb(args.file)
    fr = c.frames if args.all_threads else c.crash_stack()
    cols = ["thread", "frame", "function", "norm_function", "is_own", "is_wrapper", "repeat", "source_file", "line",
            "module"]
    import pandas as pd

    out = fr[cols].copy()
    out.insert(2, "pc", [None if pd.isna(p) else f"0x{int(p):x}" for p in fr["pc"].tolist()])
    return out


def register(sub, common) -> None:
    p = sub.add_parser("crash", help="GDB crash transcripts: classify, bucket, show stacks")
    csub = p.add_subparsers(dest="crash_command", metavar="SUBCOMMAND")
    csub.required = True

    q = csub.add_parser("classify", parents=[common], help="what killed each process (one row per file)")
    q.add_argument("files", nargs="+", metavar="FILE",
                   help="gdb/LLDB/Go crash transcripts or folders of them; - reads a paste from standard input")
    q.add_argument("--verbose", "-v", action="store_true", help="add rule, bucket reasoning and messages")
    q.set_defaults(func=cmd_classify)

    q = csub.add_parser("buckets", parents=[common], help="group files that are the same bug")
    q.add_argument("files", nargs="+", metavar="FILE", help="gdb transcripts or folders of them")
    q.add_argument("--suggest", action="store_true", help="show fuzzy merge suggestions (never applied)")
    q.set_defaults(func=cmd_buckets)

    q = csub.add_parser("stack", parents=[common], help="the crash thread's normalised stack")
    q.add_argument("file", metavar="FILE")
    q.add_argument("--all-threads", action="store_true")
    q.set_defaults(func=cmd_stack)
