"""The notebook engine's sliced polls: a missed ZeroMQ wake-up costs one slice, not the cell's time limit."""
import asyncio
import time
from queue import Empty

import nbformat
import pytest

from forensics import notebook_engine
from forensics.notebook_engine import SLICE, SlicedPollChannel, SlicedPollKernelManager, execute_notebook


class MissedWakeUpSocket:
    """A socket whose reply is there from the start but whose wake-up never comes: like zmq.asyncio's poller,
    a poll sleeps its whole timeout and then finds the reply with its last non-blocking look."""

    def __init__(self, ready_after_polls=None):
        self.timeouts, self.ready_after = [], ready_after_polls

    async def poll(self, timeout_ms):
        self.timeouts.append(timeout_ms)
        if self.ready_after is not None and len(self.timeouts) > self.ready_after:
            await asyncio.sleep(min(timeout_ms, 50) / 1000)  # slept through the wake-up, then looked
            return 1
        await asyncio.sleep(timeout_ms / 1000)
        return 0


def channel(socket):
    ch = SlicedPollChannel.__new__(SlicedPollChannel)  # the channel without a live ZeroMQ context
    ch.socket = socket

    async def recv():
        return {"parent_header": {"msg_id": "m"}, "content": {}}

    ch._recv = recv
    return ch


def test_a_waiting_reply_is_found_within_one_slice_of_a_long_time_limit():
    sock = MissedWakeUpSocket(ready_after_polls=0)
    t0 = time.monotonic()
    msg = asyncio.run(channel(sock).get_msg(timeout=600))
    assert msg["parent_header"]["msg_id"] == "m"
    assert time.monotonic() - t0 < 2 * SLICE
    assert all(t <= SLICE * 1000 for t in sock.timeouts)


def test_the_time_limit_still_holds():
    sock = MissedWakeUpSocket()
    t0 = time.monotonic()
    with pytest.raises(Empty):
        asyncio.run(channel(sock).get_msg(timeout=2.5))
    took = time.monotonic() - t0
    # 1 s, 1 s, 0.5 s (and, when the millisecond rounding leaves a sliver before the deadline, one more 0-ms look)
    assert 2.4 < took < 2.5 + SLICE and sock.timeouts[:2] == [1000, 1000] and len(sock.timeouts) in (3, 4)


def test_a_zero_timeout_looks_once():
    sock = MissedWakeUpSocket()
    with pytest.raises(Empty):
        asyncio.run(channel(sock).get_msg(timeout=0))
    assert sock.timeouts == [0]


def test_the_manager_hands_out_sliced_clients():
    kc = SlicedPollKernelManager().client()
    assert issubclass(kc.shell_channel_class, SlicedPollChannel)
    assert issubclass(kc.iopub_channel_class, SlicedPollChannel)


def test_papermill_finds_the_engine_by_name():
    from papermill.engines import papermill_engines

    assert papermill_engines.get_engine("forensics") is notebook_engine.SlicedPollEngine


def test_a_notebook_runs_through_the_engine(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 6 * 7\nprint(x)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    src, out = tmp_path / "in.ipynb", tmp_path / "out.ipynb"
    nbformat.write(nb, src)
    execute_notebook(str(src), str(out), kernel_name="python3", progress_bar=False, execution_timeout=120)
    got = nbformat.read(out, as_version=4)
    assert got.cells[0].outputs[0]["text"] == "42\n"
