"""Run notebooks with papermill without its occasional stall: ``papermill … --engine forensics``.

papermill waits for a cell's reply through ``zmq.asyncio``: one ``poll`` for the whole cell time limit. A ZeroMQ
socket signals readiness through an edge-triggered file descriptor, and when that edge is consumed elsewhere the
wake-up is missed; the poll then sleeps until its time limit, does a last non-blocking poll, finds the reply that
had been waiting all along and goes on (papermill#711 and the issues it links). Seen in this project's CI as a
notebook that sat ~10 minutes (the cell limit) with the kernel idle, then passed. Polling in slices of
:data:`SLICE` seconds bounds a missed wake-up to one slice; the time limits mean what they meant.

(papermill loads its engines' entry points while ``papermill.engines`` is itself being imported, so this module
never imports papermill at its top: :class:`SlicedPollEngine` is made on first access.)

>>> from forensics.notebook_engine import SlicedPollKernelManager, SLICE
>>> SLICE
1.0
>>> SlicedPollKernelManager().client_factory.__name__
'SlicedPollKernelClient'
"""
from __future__ import annotations

import time
from queue import Empty

from jupyter_client import AsyncKernelManager
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from traitlets import Type, default

#: the longest one poll waits (seconds): the most a missed ZeroMQ wake-up can cost
SLICE = 1.0


class SlicedPollChannel(AsyncZMQSocketChannel):
    """A kernel channel whose ``get_msg(timeout)`` polls in slices of at most :data:`SLICE` seconds."""

    async def get_msg(self, timeout: float | None = None) -> dict:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = SLICE if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                return await super().get_msg(timeout=min(SLICE, left))
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise


class SlicedPollKernelClient(AsyncKernelClient):
    """The async kernel client nbclient uses, with sliced polls on the channels it waits on."""

    shell_channel_class = Type(SlicedPollChannel)
    iopub_channel_class = Type(SlicedPollChannel)
    control_channel_class = Type(SlicedPollChannel)


class SlicedPollKernelManager(AsyncKernelManager):
    """``AsyncKernelManager`` whose clients are :class:`SlicedPollKernelClient`."""

    @default("client_factory")
    def _sliced_client_factory(self):
        return SlicedPollKernelClient


def _sliced_poll_engine():
    from papermill.engines import NBClientEngine  # defined before papermill loads its entry points

    class SlicedPollEngine(NBClientEngine):
        """papermill's nbclient engine with :class:`SlicedPollKernelManager` (entry point ``forensics``)."""

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
            kwargs.setdefault("kernel_manager_class", SlicedPollKernelManager)
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

    return SlicedPollEngine


def __getattr__(name):
    if name == "SlicedPollEngine":
        engine = globals()["SlicedPollEngine"] = _sliced_poll_engine()
        return engine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def execute_notebook(input_path: str, output_path: str, **kwargs):
    """``papermill.execute_notebook`` with the sliced-poll engine (same arguments, same result)."""
    import papermill as pm

    kwargs.setdefault("kernel_manager_class", SlicedPollKernelManager)
    return pm.execute_notebook(input_path, output_path, **kwargs)
