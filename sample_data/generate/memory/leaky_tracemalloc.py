"""A Python service that leaks, with tracemalloc statistics printed as text.

    python3 leaky_tracemalloc.py OUTDIR

Writes, from one process:
  py_stats_t0.txt, py_stats_t1.txt       snapshot.statistics('lineno') at t0 and t1 (str(stat) lines)
  py_compare_lineno.txt                  t1.compare_to(t0, 'lineno')
  py_compare_traceback.txt               t1.compare_to(t0, 'traceback'), each stat followed by
                                         stat.traceback.format() (the allocation site is in that block)
  py_control_lineno.txt                  compare_to over a churn-only phase (the control: no growth)
  py_snapshot_t1.tracemalloc             Snapshot.dump(): a pickle, which the workbench must refuse
Planted leak: LeakyRecord objects (with a bytes payload) appended to a module-level list in
remember_request(); churn: a bounded dict of 64 Session objects replaced one for one.
"""
import os
import sys
import tracemalloc

outdir = sys.argv[1] if len(sys.argv) > 1 else "."
LEAKED = []
RECENT = {}


class LeakyRecord:
    __slots__ = ("key", "payload")

    def __init__(self, key):
        self.key = key
        self.payload = bytearray(512)                 # the leaking allocation site


class Session:
    def __init__(self, n):
        self.n = n
        self.scratch = [n] * 16


def remember_request(i):
    LEAKED.append(LeakyRecord(i))


def churn(i):
    RECENT[i % 64] = Session(i % 64)                  # replaced one for one: no growth


def serve(n, start):
    for i in range(start, start + n):
        remember_request(i)
        churn(i)


def write(name, lines):
    with open(os.path.join(outdir, name), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    tracemalloc.start(8)
    serve(200, 0)
    churn_before = tracemalloc.take_snapshot()
    for i in range(5000):
        churn(i)
    churn_after = tracemalloc.take_snapshot()
    t0 = churn_after
    serve(3000, 1000)
    t1 = tracemalloc.take_snapshot()
    filters = [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen *>")]
    t0, t1 = t0.filter_traces(filters), t1.filter_traces(filters)
    churn_before, churn_after = churn_before.filter_traces(filters), churn_after.filter_traces(filters)

    write("py_stats_t0.txt", [str(s) for s in t0.statistics("lineno")[:25]])
    write("py_stats_t1.txt", [str(s) for s in t1.statistics("lineno")[:25]])
    write("py_compare_lineno.txt", [str(s) for s in t1.compare_to(t0, "lineno")[:15]])
    lines = []
    for stat in t1.compare_to(t0, "traceback")[:6]:
        lines.append(str(stat))
        lines.extend(stat.traceback.format())
    write("py_compare_traceback.txt", lines)
    write("py_control_lineno.txt", [str(s) for s in churn_after.compare_to(churn_before, "lineno")[:15]])
    t1.dump(os.path.join(outdir, "py_snapshot_t1.tracemalloc"))


if __name__ == "__main__":
    main()
