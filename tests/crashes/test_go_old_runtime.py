"""Go before 1.4: the runtime's frames are in .goc/.c files under GOROOT/src/pkg/runtime."""
from __future__ import annotations

from forensics.crashes.frames import _is_go_runtime
from forensics.crashes.load import load_text


def test_a_pre_1_4_runtime_frame_in_a_goc_file_is_the_runtime():
    # our own snippet of the shape: sync's semaphore wait implemented in runtime/sema.goc
    assert _is_go_runtime("sync.runtime_Semacquire", "/usr/local/go/src/pkg/runtime/sema.goc")
    assert not _is_go_runtime("main.main", "/home/me/go/src/example.com/app/main.go")
    assert not _is_go_runtime("worker.(*Pool).wait", "/home/me/go/src/worker/pool.go")  # a GOPATH package


def test_two_pre_1_4_hangs_in_sync_waits_are_keyed_on_their_own_frames():
    def hang(fn, path):
        return ("fatal error: all goroutines are asleep - deadlock!\n\ngoroutine 1 [semacquire]:\n"
                "sync.runtime_Semacquire(0xc20801e1b0)\n\t/usr/local/go/src/pkg/runtime/sema.goc:256 +0x53\n"
                "sync.(*WaitGroup).Wait(0x6a2c40)\n\t/usr/local/go/src/pkg/sync/waitgroup.go:132 +0x169\n"
                f"{fn}()\n\t{path}:93 +0x983\n")
    a = load_text(hang("main.main", "/home/me/go/src/example.com/tool/main.go"))
    b = load_text(hang("example.com/db.(*DB).run", "/home/me/go/src/example.com/db/db.go"))
    assert a.crash["bucket"] != b.crash["bucket"]
    assert a.crash["top_own_frame"] == "main.main"
