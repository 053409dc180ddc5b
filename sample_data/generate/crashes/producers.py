#!/usr/bin/env python3
"""Crash transcripts from the other producers: LLDB, the Go runtime, Delve, and more gdb shapes.

    python sample_data/generate/crashes/producers.py        # adds to sample_data/crashes/ + manifest.json

Needs, besides gcc and gdb (see generate.py): ``apt-get install -y lldb golang delve`` (Debian 12:
lldb 14, Go 1.19, Delve 1.20). The script installs them with apt-get when run as root and they are
missing; ``make test`` never needs them (the transcripts are committed).

What it runs (every transcript is the real tool's output; only the temp build dir is renamed):

* ``lldb --batch -o run -k bt -k 'thread backtrace all' -k 'register read' -k 'disassemble -p -c 1'``
  on C programs from ``programs/`` (*lldb*);
* Go programs in ``programs/go/`` run plainly with ``GOTRACEBACK=all`` (*go*: the runtime's own
  panic / fatal error report), under gdb (*gdb*: ``-ex run -ex bt -ex 'p $_siginfo'``) and under
  Delve (*dlv*: ``continue``, ``bt``, ``goroutines`` fed on stdin);
* gdb with ``set print pretty on`` before ``p $_siginfo`` (*pretty*: the siginfo on many lines);
* the deadlock run under gdb and stopped with SIGINT, as ^C in a terminal does, then ``bt`` and
  ``thread apply all bt`` (*sigint*).

systemd's ``coredumpctl info`` is made by ``coredumpctl.py`` (journald and systemd-coredump started by
hand, the core handed over in the kernel's pipe form, core_pattern left alone) and AddressSanitizer
reports by ``sanitizers.py``.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import generate as g  # noqa: E402  (the C build and helpers)

OUT = os.path.join(g.ROOT, "sample_data", "crashes")
GO_PROGRAMS = os.path.join(g.PROGRAMS, "go")
LLDB_PROGRAMS = ["null_write", "assert_fail", "double_free", "worker_crash", "uncaught_exception",
                 "divide_by_zero", "stack_smash"]
GO_EXPECTED = {"nil_deref": ("null-deref-read", ""), "deadlock_go": ("deadlock", "go-all-goroutines-asleep"),
               "cgo_null": ("null-deref-read", "")}
LLDB = ["lldb", "--batch", "-o", "run", "-k", "bt", "-k", "thread backtrace all", "-k", "register read",
        "-k", "disassemble -p -c 1", "--"]


def ensure_tools():
    missing = [t for t in ("lldb", "go", "dlv") if shutil.which(t) is None]
    if missing and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "lldb", "golang", "delve"], check=True)
    missing = [t for t in ("lldb", "go", "dlv") if shutil.which(t) is None]
    if missing:
        sys.exit(f"needs {', '.join(missing)}: apt-get install -y lldb golang delve")


def put(manifest, name, build, style, text, tmp, cmd, expected):
    fn = f"{name}__{build}__{style}.txt"
    with open(os.path.join(OUT, fn), "w") as f:
        f.write(g.clean(text, tmp).replace(GO_PROGRAMS, "/src/go"))
    cls, sub = expected
    manifest[fn] = {"program": name, "build": build, "style": style, "class": cls, "subclass_hint": sub,
                    "command": g.clean(" ".join(cmd), tmp)}
    print(f"  {fn}")


def lldb_styles(tmp, manifest):
    for name in LLDB_PROGRAMS:
        exe = g.build(name, "g-O0", tmp)
        cmd = LLDB + [exe]
        put(manifest, name, "g-O0", "lldb", g.sh(cmd, cwd=tmp), tmp, cmd, g.EXPECTED[name])


def gdb_extra_styles(tmp, manifest):
    for name in ("null_read", "null_write"):
        exe = g.build(name, "g-O0", tmp)
        cmd = [g.GDB, "-batch", "-nx", "-ex", "set pagination off", "-ex", "run", "-ex", "bt",
               "-ex", "set print pretty on", "-ex", "p $_siginfo", "-ex", "x/i $pc", exe]
        put(manifest, name, "g-O0", "pretty", g.sh(cmd, cwd=tmp), tmp, cmd, g.EXPECTED[name])
    for build in ("g-O0", "nog-O2"):
        exe = g.build("deadlock", build, tmp)
        cmd = [g.GDB, "-batch", "-nx", "-ex", "set pagination off", "-ex", "run", "-ex", "bt",
               "-ex", "thread apply all bt", exe]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp, start_new_session=True)
        time.sleep(3)   # the threads are deadlocked by now
        pid = subprocess.run(["pgrep", "-P", str(p.pid), "-x", "deadlock"], capture_output=True, text=True).stdout.split()
        for x in pid:
            os.kill(int(x), signal.SIGINT)      # what ^C in the terminal delivers to the inferior
        try:
            out, _ = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, _ = p.communicate()
        put(manifest, "deadlock", build, "sigint", out.decode("utf-8", "replace"), tmp, cmd + ["(SIGINT after 3 s)"],
            g.EXPECTED["deadlock"])


def go_styles(tmp, manifest):
    env = dict(os.environ, GOCACHE=os.path.join(tmp, "gocache"), GOPATH=os.path.join(tmp, "gopath"),
               GO111MODULE="off", GOTRACEBACK="all", CGO_ENABLED="1")
    for src, name in (("nil_deref.go", "nil_deref"), ("deadlock.go", "deadlock_go"), ("cgo_null.go", "cgo_null")):
        exe = os.path.join(tmp, name)
        # -N -l: no optimisation or inlining, so the frames name the functions of the source
        subprocess.run(["go", "build", "-gcflags=all=-N -l", "-o", exe, src], check=True, cwd=GO_PROGRAMS, env=env)
        ver = subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True, env=env).stdout.strip()
        build = ver.replace("go", "go", 1) or "go"
        expected = GO_EXPECTED[name]
        put(manifest, name, build, "go", g.sh([exe], cwd=tmp, env=env), tmp, [exe], expected)
        if name != "deadlock_go":
            cmd = [g.GDB, "-batch", "-nx", "-ex", "set pagination off", "-ex", "run", "-ex", "bt",
                   "-ex", "p $_siginfo", "-ex", "x/i $pc", exe]
            put(manifest, name, build, "gdb", g.sh(cmd, cwd=tmp, env=env), tmp, cmd, expected)
        if name == "nil_deref":
            cmd = ["dlv", "exec", "--allow-non-terminal-interactive=true", exe]
            p = subprocess.run(cmd, input=b"continue\nbt\ngoroutines\nexit\n", stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, cwd=tmp, env=env, timeout=120)
            put(manifest, name, build, "dlv", p.stdout.decode("utf-8", "replace"), tmp,
                cmd + ["<<< continue; bt; goroutines"], expected)


def main():
    ensure_tools()
    with g.updating_manifest(OUT) as (manifest, tmp):
        lldb_styles(tmp, manifest)
        gdb_extra_styles(tmp, manifest)
        go_styles(tmp, manifest)


if __name__ == "__main__":
    main()
