#!/usr/bin/env python3
"""Build small crashing C/C++ programs and capture real gdb transcripts of them.

    python sample_data/generate/crashes/generate.py [--only NAME ...] [--out DIR]

Needs gcc, g++ and /usr/bin/gdb (Debian's libc6-dbg makes libc frames show their
arguments; the ``bt`` style turns libc debug info off to look like a machine without it).

For every program in ``programs/`` and every build (``-g``/no ``-g`` × ``-O0``/``-O2``,
plus one stripped ``-O2 -s`` build) it:

1. runs the program under gdb (``gdb -batch -ex run -ex bt ...``) — the *live* transcript —
   and writes a core with ``generate-core-file`` (independent of /proc/sys/kernel/core_pattern);
   Where /proc/sys/kernel/core_pattern writes a plain file, the g-O2 and stripped builds also
   crash on their own (ASLR on) and the kernel's core is read with the command file (*kcore*);
2. opens that core the ways analysts do: ``gdb -batch -x cmds.gdb BINARY CORE`` (*cmds*),
   ``gdb -batch -ex bt BINARY CORE`` (*bt*), ``gdb -batch -ex 'thread apply all bt full'``
   (*allbtfull*).

Hangs are captured differently: the deadlock is snapshotted by attaching gdb to the hung
process (*attach*), and ``hung_wait`` runs under ``timeout -s ABRT 2`` with gdb attached, so
gdb sees the external SIGABRT arrive.

Transcripts go to ``sample_data/crashes/<program>__<build>__<style>.txt`` and the expected class
of each to ``sample_data/crashes/manifest.json``. Binaries and cores stay in a temp dir.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
PROGRAMS = os.path.join(HERE, "programs")
GDB = "/usr/bin/gdb"

# program -> (class it must get, subclass hint, extra cflags)
EXPECTED = {
    "null_read": ("null-deref-read", ""),
    "null_write": ("null-deref-write", ""),
    "wild_read": ("wild-pointer", ""),
    "noncanonical": ("wild-pointer", "non-canonical"),
    "bad_pc": ("bad-pc", ""),
    "stack_overflow": ("stack-overflow", "recursion"),
    "assert_fail": ("assertion-failure", ""),
    "double_free": ("heap-corruption", "double-free"),
    "heap_overflow": ("heap-corruption", "corrupted-top-size"),
    "invalid_free": ("heap-corruption", "invalid-pointer"),
    "stack_smash": ("stack-buffer-overrun", ""),
    "uncaught_exception": ("uncaught-exception", ""),
    "divide_by_zero": ("divide-by-zero", ""),
    "illegal_instruction": ("illegal-instruction", ""),
    "bus_error": ("bus-error", "truncated-mapping"),
    "explicit_abort": ("abort", ""),
    "worker_crash": ("null-deref-read", ""),
    "deadlock": ("deadlock", "lock-order"),
    "hung_wait": ("deadlock", "external-signal"),
    "strlen_greet": ("null-deref-read", "in-libc:strlen"),
    "strlen_header": ("null-deref-read", "in-libc:strlen"),
}
EXTRA_CFLAGS = {
    "stack_smash": ["-fstack-protector-strong", "-D_FORTIFY_SOURCE=2"],
    "worker_crash": ["-pthread"], "deadlock": ["-pthread"],
}
BUILDS = {
    "g-O0": ["-g", "-O0"],
    "g-O2": ["-g", "-O2"],
    "nog-O0": ["-O0"],
    "nog-O2": ["-O2"],
    "strip-O2": ["-O2", "-s"],
}
# styles beyond live + cmds only for these builds (keeps the committed set small)
EXTRA_STYLE_BUILDS = ("g-O0", "nog-O2")

CMDS = """set pagination off
set width 0
info program
bt full
info threads
thread apply all bt
info registers
p $_siginfo
x/i $pc
info sharedlibrary
info proc mappings
frame 1
info args
info locals
"""
# The recursion has tens of thousands of frames: only the g-O0 plain `bt` prints them all.
CMDS_RECURSION = CMDS.replace("bt full\n", "bt full 25\n").replace("thread apply all bt\n", "thread apply all bt 40\n")

LIVE = ["-ex", "run", "-ex", "bt", "-ex", "info registers", "-ex", "p $_siginfo", "-ex", "x/i $pc"]
LIVE_RECURSION = ["-ex", "run", "-ex", "bt 40", "-ex", "info registers rip rsp", "-ex", "p $_siginfo", "-ex", "x/i $pc"]

STACK_LIMIT = 1 << 20     # 1 MiB stack for the recursion: ~21,000 frames at -O0


def sh(cmd, timeout=300, limit_stack=False, **kw):
    def pre():
        os.setsid()
        if limit_stack:
            resource.setrlimit(resource.RLIMIT_STACK, (STACK_LIMIT, STACK_LIMIT))
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=pre, **kw)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
    return out.decode("utf-8", "replace")


def clean(text: str, tmp: str) -> str:
    """Replace the temp build dir by a stable path so regenerating gives small diffs."""
    return text.replace(tmp, "/tmp/fx-cr-build")


def build(name: str, build_name: str, tmp: str) -> str:
    src = os.path.join(PROGRAMS, name + (".cpp" if os.path.exists(os.path.join(PROGRAMS, name + ".cpp")) else ".c"))
    out_dir = os.path.join(tmp, build_name)
    os.makedirs(out_dir, exist_ok=True)
    exe = os.path.join(out_dir, name)
    cc = "g++" if src.endswith(".cpp") else "gcc"
    flags = BUILDS[build_name] + EXTRA_CFLAGS.get(name, [])
    # a relative source name keeps frames short ("at walk.c:9") and the transcripts machine-independent
    subprocess.run([cc, *flags, "-o", exe, os.path.basename(src)], check=True, cwd=PROGRAMS)
    return exe


def write(out_dir, name, build_name, style, text, tmp, manifest, cmd):
    fn = f"{name}__{build_name}__{style}.txt"
    with open(os.path.join(out_dir, fn), "w") as f:
        f.write(clean(text, tmp))
    cls, sub = EXPECTED[name]
    manifest[fn] = {"program": name, "build": build_name, "style": style, "class": cls,
                    "subclass_hint": sub, "command": clean(" ".join(cmd), tmp)}


def core_styles(name, build_name, exe, core, tmp, out_dir, manifest, recursion=False):
    cmds = os.path.join(tmp, "cmds.gdb")
    with open(cmds, "w") as f:
        f.write(CMDS_RECURSION if recursion else CMDS)
    cmd = [GDB, "-batch", "-nx", "-x", cmds, exe, core]
    write(out_dir, name, build_name, "cmds", sh(cmd), tmp, manifest, [GDB, "-batch", "-x", "cmds.gdb", exe, "CORE"])
    if build_name not in EXTRA_STYLE_BUILDS:
        return
    bt = "bt" if not recursion or build_name == "g-O0" else "bt 100"
    # a machine without libc debug symbols: point gdb's debug dir nowhere
    cmd = [GDB, "-batch", "-nx", "-iex", "set debug-file-directory /nonexistent", "-ex", bt, exe, core]
    write(out_dir, name, build_name, "bt", sh(cmd, timeout=900), tmp, manifest, [GDB, "-batch", "-ex", bt, exe, "CORE"])
    tab = "thread apply all bt full" + (" 25" if recursion else "")
    cmd = [GDB, "-batch", "-nx", "-ex", tab, exe, core]
    write(out_dir, name, build_name, "allbtfull", sh(cmd), tmp, manifest, [GDB, "-batch", "-ex", tab, exe, "CORE"])


def crash_under_gdb(name, build_name, exe, tmp, out_dir, manifest):
    core = os.path.join(tmp, f"{name}.{build_name}.core")
    recursion = name == "stack_overflow"
    live = LIVE_RECURSION if recursion else LIVE
    cmd = [GDB, "-batch", "-nx", "-ex", "set pagination off", *live, "-ex", f"generate-core-file {core}", exe]
    text = sh(cmd, limit_stack=recursion, cwd=tmp)
    write(out_dir, name, build_name, "live", text, tmp, manifest, [GDB, "-batch", *live, exe])
    if os.path.exists(core):
        core_styles(name, build_name, exe, core, tmp, out_dir, manifest, recursion)
        os.unlink(core)


KCORE_BUILDS = ("g-O2", "strip-O2")


def kernel_core(name, build_name, exe, tmp, out_dir, manifest):
    """Let the kernel write the core (ASLR on, no gdb involved in the crash) when
    /proc/sys/kernel/core_pattern writes a plain file; skipped when it pipes to a handler."""
    try:
        with open("/proc/sys/kernel/core_pattern") as f:
            pattern = f.read().strip()
    except OSError:
        pattern = "|"
    if pattern.startswith("|") or "/" in pattern:
        print(f"  kernel core skipped (core_pattern {pattern!r})")
        return
    run_dir = tempfile.mkdtemp(prefix="kcore-", dir=tmp)
    recursion = name == "stack_overflow"

    def limits():
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        if recursion:
            resource.setrlimit(resource.RLIMIT_STACK, (STACK_LIMIT, STACK_LIMIT))

    try:
        subprocess.run([exe], cwd=run_dir, preexec_fn=limits, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=60)
    except subprocess.TimeoutExpired:
        return
    cores = [f for f in os.listdir(run_dir) if f == "core" or f.startswith("core.")]
    if not cores:
        print("  no kernel core written")
        return
    cmds = os.path.join(tmp, "cmds.gdb")
    with open(cmds, "w") as f:
        f.write(CMDS_RECURSION if recursion else CMDS)
    core = os.path.join(run_dir, cores[0])
    text = sh([GDB, "-batch", "-nx", "-x", cmds, exe, core])
    write(out_dir, name, build_name, "kcore", text, tmp, manifest, [GDB, "-batch", "-x", "cmds.gdb", exe, "core"])
    shutil.rmtree(run_dir, ignore_errors=True)


def attach_deadlock(name, build_name, exe, tmp, out_dir, manifest):
    core = os.path.join(tmp, f"{name}.{build_name}.core")
    proc = subprocess.Popen([exe], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)   # both threads now hold one lock and wait for the other
        ex = ["-ex", "set pagination off", "-ex", "info threads", "-ex", "thread apply all bt",
              "-ex", f"generate-core-file {core}"]
        text = sh([GDB, "-batch", "-nx", "-p", str(proc.pid), *ex])
        write(out_dir, name, build_name, "attach", text, tmp, manifest,
              [GDB, "-batch", "-p", "PID", "-ex", "info threads", "-ex", "thread apply all bt"])
    finally:
        proc.kill()
        proc.wait()
    if os.path.exists(core):
        core_styles(name, build_name, exe, core, tmp, out_dir, manifest)
        os.unlink(core)


def attach_timeout(name, build_name, exe, tmp, out_dir, manifest):
    """`timeout -s ABRT 3 prog`, with gdb attached so it sees the external signal arrive."""
    core = os.path.join(tmp, f"{name}.{build_name}.core")
    tproc = subprocess.Popen(["timeout", "-s", "ABRT", "3", exe], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        child = subprocess.run(["pgrep", "-P", str(tproc.pid)], capture_output=True, text=True).stdout.split()
        if not child:
            raise RuntimeError("timeout's child not found")
        ex = ["-ex", "set pagination off", "-ex", "continue", "-ex", "bt", "-ex", "info registers",
              "-ex", "p $_siginfo", "-ex", f"generate-core-file {core}"]
        text = sh([GDB, "-batch", "-nx", "-p", child[0], *ex], timeout=60)
        write(out_dir, name, build_name, "attach", text, tmp, manifest,
              [GDB, "-batch", "-p", "PID", "-ex", "continue", "-ex", "bt", "-ex", "info registers", "-ex", "p $_siginfo"])
    finally:
        try:
            tproc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            tproc.kill()
            tproc.wait()
    if os.path.exists(core):
        core_styles(name, build_name, exe, core, tmp, out_dir, manifest)
        os.unlink(core)


@contextlib.contextmanager
def updating_manifest(out_dir: str):
    """``(manifest, tmp)`` for a generator that adds samples to ``out_dir``: its manifest.json as a dict and a
    scratch folder; on leaving, the scratch folder is removed and the manifest written back, sorted."""
    mpath = os.path.join(out_dir, "manifest.json")
    with open(mpath) as f:
        manifest = json.load(f)
    tmp = tempfile.mkdtemp(prefix="fx-cr-")
    try:
        yield manifest, tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    with open(mpath, "w") as f:
        json.dump(dict(sorted(manifest.items())), f, indent=1)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="*", help="program names to (re)generate")
    ap.add_argument("--out", default=os.path.join(ROOT, "sample_data", "crashes"))
    ap.add_argument("--kernel-cores-only", action="store_true", help="only (re)make the kernel-core transcripts")
    args = ap.parse_args(argv)
    for tool in ("gcc", "g++", GDB, "timeout", "pgrep"):
        if not shutil.which(tool):
            sys.exit(f"missing {tool}")
    os.makedirs(args.out, exist_ok=True)
    man_path = os.path.join(args.out, "manifest.json")
    manifest = {}
    if os.path.exists(man_path):
        with open(man_path) as f:
            manifest = json.load(f)
    names = args.only or list(EXPECTED)
    manifest = {k: v for k, v in manifest.items()
                if v["program"] not in names or (args.kernel_cores_only and v["style"] != "kcore")}
    tmp = tempfile.mkdtemp(prefix="fx-cr-gen-")
    try:
        for name in names:
            for build_name in BUILDS:
                exe = build(name, build_name, tmp)
                print(f"{name} {build_name}", flush=True)
                if name not in ("deadlock", "hung_wait") and build_name in KCORE_BUILDS:
                    kernel_core(name, build_name, exe, tmp, args.out, manifest)
                if args.kernel_cores_only:
                    continue
                if name == "deadlock":
                    attach_deadlock(name, build_name, exe, tmp, args.out, manifest)
                elif name == "hung_wait":
                    attach_timeout(name, build_name, exe, tmp, args.out, manifest)
                else:
                    crash_under_gdb(name, build_name, exe, tmp, args.out, manifest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    with open(man_path, "w") as f:
        json.dump(dict(sorted(manifest.items())), f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
