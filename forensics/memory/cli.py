"""``forensics heap …``: heap snapshot diffs, leak candidates and retainer paths from a shell.

    forensics heap diff before.heapsnapshot after.heapsnapshot [final.heapsnapshot] [--top 20]
    forensics heap diff jcmd_t0.txt jcmd_t1.txt jcmd_t2.txt --format csv
    forensics heap diff compare_lineno.txt              # a tracemalloc compare_to print-out
    forensics heap diff pprof_top_base.txt              # a `go tool pprof -top -base` report
    forensics heap leaks baseline target final           # memlab's rule, clustered by retainer path
    forensics heap path final.heapsnapshot 98595         # shortest path from the GC roots to object @98595
    forensics heap classes FILE                          # what one file holds, per type/site
    forensics heap diff before.hprof after.hprof         # Java heap dumps (plain or .gz): by class and retained size
    forensics heap leaks dump.hprof                      # MAT-style leak suspects of one dump
    forensics heap path dump.hprof 0xff642300            # shortest path from a GC root to one object
    forensics heap roots|strings|arrays dump.hprof       # GC roots by type, duplicate strings, big primitive arrays
"""
from __future__ import annotations


def _diff(args):
    from .diff import heap_diff

    d = heap_diff(args.files, top=args.top)
    return d.table


def _leaks(args):
    from .diff import heap_diff
    from ..artifact import sniff
    from ..errors import ArtifactError

    if len(args.files) == 1 and sniff(args.files[0]).kind == "hprof":
        from . import hprof_analysis as A

        dump, g = _dump_and_graph(args.files[0])
        return A.leak_suspects(dump, g, threshold=args.threshold / 100, top=args.top)
    if len(args.files) != 3:
        raise ArtifactError(None, None, "leaks needs one Java heap dump, or three V8 snapshots: baseline, target, final")
    d = heap_diff(args.files, top=args.top)
    if d.leaks is None or d.kind != "v8-heapsnapshot":
        raise ArtifactError(args.files[0], None, "leak candidates need three V8 heap snapshots (or one HPROF dump)")
    return d.leaks


def _dump_and_graph(path):
    from .hprof_graph import heap_graph
    from .load import load_heap

    heap = load_heap(path)
    return heap.snapshot, heap_graph(heap.snapshot)


def _object_id(text: str) -> int:
    return int(text, 0)     # 98595, or an HPROF address 0xff642300


def _path(args):
    from ..artifact import provenance_for, sniff
    from ..errors import ArtifactError

    if sniff(args.file).kind == "hprof":
        from .hprof_graph import find_object, path_to_root

        dump, g = _dump_and_graph(args.file)
        v = find_object(dump, args.object_id)
        if v < 0:
            raise ArtifactError(args.file, None, f"no object with id 0x{args.object_id:x} in this dump")
        return path_to_root(dump, g, v)
    from .v8 import read_v8
    from .v8diff import retainer_path

    snap = read_v8(args.file, provenance_for(args.file, parser="forensics.memory.v8"))
    try:
        return retainer_path(snap, args.object_id)
    except KeyError as e:
        raise ArtifactError(args.file, None, str(e.args[0])) from None


def _dump_only(path):
    from ..artifact import sniff
    from ..errors import ArtifactError

    if sniff(path).kind != "hprof":
        raise ArtifactError(path, None, "this command reads a Java heap dump (HPROF)")
    return _dump_and_graph(path)


def _roots(args):
    from .hprof_graph import gc_roots

    dump, g = _dump_only(args.file)
    return gc_roots(dump, g)


def _strings(args):
    from .hprof_analysis import duplicate_strings

    dump, _ = _dump_only(args.file)
    return duplicate_strings(dump, top=args.top)


def _arrays(args):
    from .hprof_analysis import big_arrays

    dump, g = _dump_only(args.file)
    return big_arrays(dump, g, top=args.top)


def _classes(args):
    from .load import load_heap

    heap = load_heap(args.file, graph=False)
    df = heap.classes.sort_values("bytes", ascending=False, kind="stable")
    return df.head(args.top) if args.top else df


def register(sub, common) -> None:
    """Add ``forensics heap diff|leaks|path|classes``."""
    p = sub.add_parser("heap", help="heap snapshots: diffs, leak candidates, retainer paths (V8, HPROF, JVM, tracemalloc, pprof)")
    hs = p.add_subparsers(dest="heap_command", metavar="SUBCOMMAND")
    hs.required = True

    d = hs.add_parser("diff", parents=[common],
                      help="what grew: two or three snapshots (before, after[, final]) or one diff file, sorted by growth")
    d.add_argument("files", nargs="+", metavar="FILE")
    d.add_argument("--top", type=int, default=30, help="rows to show (0 = all; default 30)")
    d.set_defaults(func=_diff)

    lk = hs.add_parser("leaks", parents=[common],
                       help="leak suspects: MAT's rule on one Java heap dump, or V8 leak candidates (allocated "
                            "baseline→target, alive in final) grouped by retainer path")
    lk.add_argument("files", nargs="+", metavar="FILE", help="one .hprof[.gz], or baseline target final snapshots")
    lk.add_argument("--top", type=int, default=10, help="suspects/clusters to show (default 10)")
    lk.add_argument("--threshold", type=float, default=10.0,
                    help="HPROF: %% of the heap a suspect retains at least (MAT's default 10)")
    lk.set_defaults(func=_leaks)

    pa = hs.add_parser("path", parents=[common], help="shortest path from the GC roots to one object (V8 or HPROF)")
    pa.add_argument("file", metavar="FILE")
    pa.add_argument("object_id", type=_object_id, metavar="ID",
                    help="the object's id: V8's @number, or an HPROF object address (0x…)")
    pa.set_defaults(func=_path)

    for name, func, text in (("roots", _roots, "GC roots of a Java heap dump by type, with the bytes they retain"),
                             ("strings", _strings, "duplicate strings in a Java heap dump (copies, bytes wasted)"),
                             ("arrays", _arrays, "the biggest primitive arrays of a Java heap dump and who holds them")):
        sp = hs.add_parser(name, parents=[common], help=text)
        sp.add_argument("file", metavar="DUMP")
        if name != "roots":
            sp.add_argument("--top", type=int, default=20, help="rows to show (default 20)")
        sp.set_defaults(func=func)

    c = hs.add_parser("classes", parents=[common], help="count and bytes per type/site in one heap file")
    c.add_argument("file", metavar="FILE")
    c.add_argument("--top", type=int, default=30, help="rows to show (0 = all; default 30)")
    c.set_defaults(func=_classes)
