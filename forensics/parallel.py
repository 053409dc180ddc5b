"""Where parallel work runs: worker processes on this machine, or a Dask cluster.

:func:`executor` gives an object with ``map(fn, items, bar=None) -> list`` (results in
item order; ``bar`` is updated as tasks finish) and ``workers`` (how many run at once):

* ``executor(workers=N)`` — a local process pool (``fork``: the workers start with
  numba's compiled code already loaded by the parent; ``forkserver`` when this process runs
  other threads, as a Jupyter kernel does); ``N == 1`` runs in this process.
* ``executor(scheduler="tcp://host:8786")`` — an existing ``dask.distributed`` cluster;
  functions and arguments are sent to its workers, so the evidence paths must be
  readable there (a shared file system).
* ``executor(scheduler="local", workers=N)`` — a ``LocalCluster`` of N worker processes,
  started for the job and stopped after it.

``default_workers()`` is the number of cores this process may use.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class _InProcess:
    workers = 1
    kind = "in-process"
    ships_data = False

    def map(self, fn, items, bar=None):
        out = []
        for it in items:
            out.append(fn(*it))
            if bar is not None:
                bar.update(1)
        return out


class _LocalPool:
    kind = "process pool"
    ships_data = False  # workers share this machine's disk: large results travel as files

    def __init__(self, workers):
        from concurrent.futures import ProcessPoolExecutor

        import threading

        self.workers = workers
        # fork: workers start with numba's compiled code loaded; but forking a process that runs other
        # threads (a Jupyter kernel, a web server) can deadlock, so there the workers start afresh
        lone = threading.active_count() == 1
        method = ("fork" if lone else "forkserver") if sys.platform.startswith("linux") else None
        ctx = multiprocessing.get_context(method) if method else None
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)

    def map(self, fn, items, bar=None):
        from concurrent.futures import as_completed

        futures = [self.pool.submit(fn, *it) for it in items]
        if bar is not None:
            for _ in as_completed(futures):
                bar.update(1)
        return [f.result() for f in futures]

    def close(self):
        self.pool.shutdown(wait=True, cancel_futures=True)


class _Dask:
    kind = "dask"
    ships_data = True  # workers may be other machines: results travel through Dask

    def __init__(self, scheduler, workers):
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - a dependency of the package
            raise RuntimeError("--scheduler needs dask.distributed (pip install distributed)") from None
        self.cluster = None
        if scheduler == "local":
            # CRITICAL only: a task's failure reaches the client as its exception anyway, and at shutdown
            # a worker whose heartbeat races the scheduler's close logs a traceback that means nothing
            self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None, silence_logs=50)
            self.client = Client(self.cluster)
        else:
            self.client = Client(scheduler, timeout="30s")
        self.workers = max(1, len(self.client.nthreads()))

    def map(self, fn, items, bar=None):
        from distributed import as_completed

        futures = [self.client.submit(fn, *it, pure=False) for it in items]
        if bar is not None:
            for _ in as_completed(futures):
                bar.update(1)
        return self.client.gather(futures)

    def close(self):
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


@contextlib.contextmanager
def executor(workers: int | None = None, scheduler: str | None = None):
    """A context manager yielding the executor described in the module docstring."""
    workers = int(workers or default_workers())
    if scheduler:
        ex = _Dask(scheduler, workers)
    elif workers <= 1:
        ex = _InProcess()
    else:
        ex = _LocalPool(workers)
    try:
        yield ex
    finally:
        close = getattr(ex, "close", None)
        if close is not None:
            close()
