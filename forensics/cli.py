"""The ``forensics`` command: the package's functions, from a shell.

Every subcommand takes ``--format table|csv|json``; bad input exits non-zero
with one line on stderr (``--debug`` shows the traceback). Warnings found while
loading (a truncated file, a skipped record) go to stderr; ``--strict`` turns
them into an error exit.

Artifact kinds add their own command groups (``forensics pcap …``) in
``forensics/<kind>/cli.py`` with a ``register(subparsers, common)`` function,
named by its entry in :mod:`forensics.kinds` (``cli``).
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings

from . import __version__, kinds
from .artifact import ArtifactWarning, Provenance, sniff, start_early_hashes
from .errors import ArtifactError
from .output import FORMATS, render
from .registry import load

#: every kind's command module, from the one table (:mod:`forensics.kinds`), then the incident's
COMMAND_MODULES = kinds.cli_modules()


def common_options() -> argparse.ArgumentParser:
    """Options every subcommand accepts (use as ``parents=[common]``)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    p.add_argument("--strict", action="store_true", help="treat any load warning as an error")
    p.add_argument("--debug", action="store_true", help="show the traceback on errors")
    return p


def cmd_info(args):
    """Kind, format, size, SHA-256 and load warnings of each file.

    Each file is loaded (unless ``--quick``) so that its warnings are real; a
    file that cannot be read is reported on stderr and makes the exit non-zero,
    without hiding the other files.
    """
    rows = []
    for path in args.files:
        try:
            d = sniff(path)
            if d.kind is None:
                raise ArtifactError(path, None, f"not a known artifact: {d.evidence}")
            loaded = None if args.quick else getattr(load(path, kind=d.kind), "provenance", None)
            # the loader already hashed the file: do not read a big capture twice
            prov = loaded if loaded is not None and loaded.sha256 else Provenance.of(path, kind=d.kind, format=d.format)
            warns = list(loaded.warnings) if loaded is not None else []
        except ArtifactError as e:
            if len(args.files) == 1:
                raise
            args.errors.append(str(e))
            continue
        rows.append({"file": path, "kind": d.kind, "format": d.format, "size": prov.size,
                     "sha256": prov.sha256, "warnings": warns})
    return rows


def build_parser() -> argparse.ArgumentParser:
    common = common_options()
    parser = argparse.ArgumentParser(
        prog="forensics",
        description="Load incident evidence (pcap, traces, pg_stat_statements, heap snapshots, gdb output) and analyse it.",
    )
    parser.add_argument("--version", action="version", version=f"forensics {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("info", parents=[common], help="what each file is: kind, format, size, sha256, warnings")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--quick", action="store_true", help="only sniff and hash; do not load (no load warnings)")
    p.set_defaults(func=cmd_info)

    for name in kinds.cli_modules():  # entries added at run time count too
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name and name.startswith(e.name):
                continue  # that artifact kind is not built yet
            raise
        mod.register(sub, common)
    return parser


def main(argv=None) -> int:
    # Big evidence files' SHA-256 (provenance needs it) starts now, on the other core, so it runs
    # while the kinds' modules import (pandas, numba: ~0.6 s) instead of after them.
    start_early_hashes(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    args.errors = []  # per-file failures a multi-file command reports without stopping
    debug = getattr(args, "debug", False)
    prog = "forensics"
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ArtifactWarning)
            result = args.func(args)
        load_warnings = [w for w in caught if issubclass(w.category, ArtifactWarning)]
        for w in load_warnings:
            print(f"{prog}: warning: {w.message}", file=sys.stderr)
        if load_warnings and getattr(args, "strict", False):
            print(f"{prog}: error: {len(load_warnings)} warning(s) and --strict given", file=sys.stderr)
            return 1
        if result is not None:
            text = render(result, getattr(args, "format", "table"))
            sys.stdout.write(text + ("\n" if text and not text.endswith("\n") else ""))
        for err in args.errors:
            print(f"{prog}: error: {err}", file=sys.stderr)
        return 2 if args.errors else 0
    except ArtifactError as e:
        if debug:
            raise
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as e:
        if debug:
            raise
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
