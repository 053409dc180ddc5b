"""Go before 1.4: the runtime's frames are in .goc/.c files under GOROOT/src/pkg/runtime."""
from __future__ import annotations

from forensics.crashes.frames import _is_go_runtime


def test_a_pre_1_4_runtime_frame_in_a_goc_file_is_the_runtime():
    # our own snippet of the shape: sync's semaphore wait implemented in runtime/sema.goc
    assert _is_go_runtime("sync.runtime_Semacquire", "/usr/local/go/src/pkg/runtime/sema.goc")
    assert not _is_go_runtime("main.main", "/home/me/go/src/example.com/app/main.go")
    assert not _is_go_runtime("worker.(*Pool).wait", "/home/me/go/src/worker/pool.go")  # a GOPATH package
