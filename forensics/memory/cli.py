"""``forensics heap …``: heap snapshot diffs, leak candidates and retainer paths from a shell.

    forensics heap diff before.heapsnapshot after.heapsnapshot [final.heapsnapshot] [--top 20]
    forensics heap diff jcmd_t0.txt jcmd_t1.txt jcmd_t2.txt --format csv
    forensics heap diff compare_lineno.txt              # a tracemalloc compare_to print-out
    forensics heap diff pprof_top_base.txt              # a `go tool pprof -top -base` report
    forensics heap leaks baseline target final           # memlab's rule, clustered by retainer path
    forensics heap path final.heapsnapshot 98595         # shortest path from the GC roots to object @98595
    forensics heap classes FILE                          # what one file holds, per type/site
"""
from __future__ import annotations


def _diff(args):
    from .diff import heap_diff

    d = heap_diff(args.files, top=args.top)
    return d.table


def _leaks(args):
    from .diff import heap_diff
    from ..errors import ArtifactError

    if len(args.files) != 3:
        raise ArtifactError(None, None, "leaks needs three V8 snapshots: baseline, target, final")
    d = heap_diff(args.files, top=args.top)
    if d.leaks is None:
        raise ArtifactError(args.files[0], None, "leak candidates need three V8 heap snapshots")
    return d.leaks


def _path(args):
    from ..artifact import provenance_for
    from ..errors import ArtifactError
    from .v8 import read_v8
    from .v8diff import retainer_path

    snap = read_v8(args.file, provenance_for(args.file, parser="forensics.memory.v8"))
    try:
        return retainer_path(snap, args.object_id)
    except KeyError as e:
        raise ArtifactError(args.file, None, str(e.args[0])) from None


def _classes(args):
    from .load import load_heap

    heap = load_heap(args.file, graph=False)
    df = heap.classes.sort_values("bytes", ascending=False, kind="stable")
    return df.head(args.top) if args.top else df


def register(sub, common) -> None:
    """Add ``forensics heap diff|leaks|path|classes``."""
    p = sub.add_parser("heap", help="heap snapshots: diffs, leak candidates, retainer paths (V8, JVM, tracemalloc, pprof)")
    hs = p.add_subparsers(dest="heap_command", metavar="SUBCOMMAND")
    hs.required = True

    d = hs.add_parser("diff", parents=[common],
                      help="what grew: two or three snapshots (before, after[, final]) or one diff file, sorted by growth")
    d.add_argument("files", nargs="+", metavar="FILE")
    d.add_argument("--top", type=int, default=30, help="rows to show (0 = all; default 30)")
    d.set_defaults(func=_diff)

    lk = hs.add_parser("leaks", parents=[common],
                       help="V8 leak candidates (allocated baseline→target, alive in final) grouped by retainer path")
    lk.add_argument("files", nargs=3, metavar="SNAPSHOT", help="baseline target final")
    lk.add_argument("--top", type=int, default=10, help="clusters to show (default 10)")
    lk.set_defaults(func=_leaks)

    pa = hs.add_parser("path", parents=[common], help="shortest retainer path from the GC roots to one V8 object")
    pa.add_argument("file", metavar="SNAPSHOT")
    pa.add_argument("object_id", type=int, metavar="ID", help="the object's id (the @number in DevTools and memlab)")
    pa.set_defaults(func=_path)

    c = hs.add_parser("classes", parents=[common], help="count and bytes per type/site in one heap file")
    c.add_argument("file", metavar="FILE")
    c.add_argument("--top", type=int, default=30, help="rows to show (0 = all; default 30)")
    c.set_defaults(func=_classes)
