"""Load time of every dump form (median of repeated loads), on the samples or on a directory of big dumps.

    .venv/bin/python sample_data/generate/postgres/measure.py                      # the committed samples
    .venv/bin/python sample_data/generate/postgres/generate.py --entries 5000 --out /tmp/fx-pg-big
    .venv/bin/python sample_data/generate/postgres/measure.py /tmp/fx-pg-big

Prints, per form: entries, file size, median load time, and load time relative to
``pandas.read_csv`` of the CSV form of the same snapshot (the reference: a plain CSV parse, untyped).
"""
from __future__ import annotations

import statistics
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

from forensics.postgres.analysis import delta, rank
from forensics.postgres.load import load_pgss

FORMS = ["csv", "aligned.txt", "expanded.txt", "unaligned.txt", "unaligned-expanded.txt", "json", "jsonl",
         "json-in-table.txt", "runbook.txt"]


def timed(fn, repeat=5):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    d = Path(argv[0]) if argv else Path(__file__).resolve().parents[2] / "postgres"
    warnings.simplefilter("ignore")
    ref = timed(lambda: pd.read_csv(d / "after.csv", dtype=str, keep_default_na=False))
    print(f"{'form':<18}{'entries':>8}{'bytes':>12}{'load ms':>10}{'× read_csv':>12}")
    for form in FORMS:
        p = d / f"after.{form}"
        n = len(load_pgss(p).statements)
        t = timed(lambda: load_pgss(p))
        print(f"{form:<18}{n:>8}{p.stat().st_size:>12,}{t * 1000:>10.1f}{t / ref:>12.1f}")
    b, a = load_pgss(d / "before.csv"), load_pgss(d / "after.csv")
    t = timed(lambda: rank(delta(b, a)))
    print(f"delta + rank (with findings) of {len(a.statements)} entries: {t * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
