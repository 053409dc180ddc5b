#!/usr/bin/env python3
"""What other producers print when one of the crash programs dies: real samples for the non-gdb readers.

    python sample_data/generate/crashes/runtimes.py

Run after ``generate.py`` (it adds to the same folder and ``manifest.json``). Each producer is used only
when it is installed (none is installed by ``make test``; Debian: ``apt-get install -y valgrind`` for
Valgrind; Python, Node and a JDK as the distribution ships them; Rust from rustup or ``apt-get install
-y cargo``):

* *valgrind*: the ``-g -O0`` builds under ``valgrind --tool=memcheck`` (its error report and
  ``Process terminating with default action of signal N``);
* *ubsan*: ``-fsanitize=undefined -fno-sanitize-recover=all`` builds stopping at their ``runtime error:``;
* *kernel*: the ``-O2`` builds crashing on their own, and the lines the kernel logged for that pid
  (``dmesg``: ``segfault at … error 6 in …``, ``traps: … trap divide error …``; needs
  ``/proc/sys/debug/exception-trace`` = 1, read only);
* *python*: faulthandler's report of a NULL read through ctypes and of ``os.abort()``;
* *v8*: Node running out of heap (``FATAL ERROR: … JavaScript heap out of memory`` and its native stack);
* *jvm*: the JVM's fatal-error banner for a write through ``sun.misc.Unsafe`` to address 0;
* *rust*: a panic with ``RUST_BACKTRACE=1``.

The expected class is what the printed text supports: faulthandler and the JVM banner give no
fault address, so their SIGSEGV is ``unknown`` (as for gdb's plain ``bt`` of a build without arguments).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate as g  # noqa: E402

OUT = os.path.join(g.ROOT, "sample_data", "crashes")
VALGRIND = {"null_read": "null-deref-read", "null_write": "null-deref-write", "wild_read": "wild-pointer",
            "divide_by_zero": "divide-by-zero", "assert_fail": "assertion-failure",
            "uncaught_exception": "uncaught-exception", "bad_pc": "bad-pc"}
KERNEL = {"null_read": "null-deref-read", "null_write": "null-deref-write", "wild_read": "wild-pointer",
          "noncanonical": "wild-pointer", "divide_by_zero": "divide-by-zero", "bad_pc": "bad-pc"}
PY_SEGV = "import ctypes, faulthandler\nfaulthandler.enable()\n\ndef read_at(addr):\n    return ctypes.string_at(addr)\n\n" \
          "def main():\n    read_at(0)\n\nmain()\n"
PY_ABRT = "import faulthandler, os\nfaulthandler.enable()\n\ndef give_up():\n    os.abort()\n\ngive_up()\n"
NODE_OOM = "const keep = [];\nfunction grow() { for (;;) keep.push(new Array(1e5).fill(1)); }\ngrow();\n"
JAVA = """import java.lang.reflect.Field;

public class NullStore {
    static void store(sun.misc.Unsafe u) { u.putAddress(0L, 42L); }

    public static void main(String[] args) throws Exception {
        Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
        f.setAccessible(true);
        store((sun.misc.Unsafe) f.get(null));
    }
}
"""
RUST = "fn load_config(v: Option<u32>) -> u32 {\n    v.unwrap()\n}\n\nfn main() {\n    println!(\"{}\", load_config(None));\n}\n"


def _entry(manifest, fn, program, build, style, cls, sub, cmd, tmp):
    manifest[fn] = {"program": program, "build": build, "style": style, "class": cls, "subclass_hint": sub,
                    "command": g.clean(cmd, tmp)}
    print(f"  {fn}")


def _save(fn, text, tmp):
    with open(os.path.join(OUT, fn), "w") as f:
        f.write(g.clean(text, tmp).replace(g.PROGRAMS + os.sep, ""))


def valgrind(manifest, tmp):
    if shutil.which("valgrind") is None:
        return print("valgrind not installed: skipped (apt-get install -y valgrind)")
    for name, cls in VALGRIND.items():
        exe = g.build(name, "g-O0", tmp)
        cmd = ["valgrind", "--tool=memcheck", "--leak-check=no", exe]
        text = g.sh(cmd, cwd=tmp)
        fn = f"{name}__g-O0__valgrind.txt"
        _save(fn, re.sub(r"^==\d+==", "==4242==", text, flags=re.M), tmp)    # the pid changes every run
        _entry(manifest, fn, name, "g-O0", "valgrind", cls, "", " ".join(cmd), tmp)


def ubsan(manifest, tmp):
    """UBSan stopping at the first check that fails (``-fno-sanitize-recover``): its ``runtime error:`` line."""
    if shutil.which("gcc") is None:
        return print("gcc not installed: skipped")
    for name, cls in (("null_read", "null-deref-read"), ("null_write", "null-deref-write"),
                      ("divide_by_zero", "divide-by-zero")):
        exe = os.path.join(tmp, "ubsan-O0", name)
        os.makedirs(os.path.dirname(exe), exist_ok=True)
        flags = ["-g", "-O0", "-fsanitize=undefined", "-fno-sanitize-recover=all"]
        subprocess.run(["gcc", *flags, "-o", exe, name + ".c"], check=True, cwd=g.PROGRAMS)
        text = g.sh([exe], cwd=tmp, env=dict(os.environ, UBSAN_OPTIONS="print_stacktrace=1"))
        fn = f"{name}__ubsan-O0__ubsan.txt"
        _save(fn, text, tmp)
        _entry(manifest, fn, name, "ubsan-O0", "ubsan", cls, "", f"UBSAN_OPTIONS=print_stacktrace=1 {exe}", tmp)


def kernel(manifest, tmp):
    try:
        with open("/proc/sys/debug/exception-trace") as f:
            if f.read().strip() != "1":
                return print("kernel does not log unhandled signals (debug.exception-trace = 0): skipped")
    except OSError:
        return print("no /proc/sys/debug/exception-trace: skipped")
    for name, cls in KERNEL.items():
        exe = g.build(name, "nog-O2", tmp)
        p = subprocess.Popen([exe], cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        p.wait()
        log = subprocess.run(["dmesg"], capture_output=True, text=True).stdout
        mine = [ln for ln in log.split("\n") if f"[{p.pid}]" in ln]
        if not mine:
            print(f"  {name}: no kernel line for pid {p.pid}: skipped")
            continue
        fn = f"{name}__nog-O2__kernel.txt"
        _save(fn, "\n".join(mine) + "\n", tmp)
        _entry(manifest, fn, name, "nog-O2", "kernel", cls, "", f"{exe}; dmesg | grep '\\[PID\\]'", tmp)


def python(manifest, tmp):
    for prog, src, cls in (("py_null_read", PY_SEGV, "unknown"), ("py_abort", PY_ABRT, "abort")):
        path = os.path.join(tmp, prog + ".py")
        with open(path, "w") as f:
            f.write(src)
        text = g.sh([sys.executable, path], cwd=tmp)
        fn = f"{prog}__cpython__python.txt"
        _save(fn, text, tmp)
        _entry(manifest, fn, prog, "cpython", "python", cls, "", f"python3 {prog}.py", tmp)


def node(manifest, tmp):
    if shutil.which("node") is None:
        return print("node not installed: skipped")
    path = os.path.join(tmp, "node_oom.js")
    with open(path, "w") as f:
        f.write(NODE_OOM)
    text = g.sh(["node", "--max-old-space-size=24", path], cwd=tmp, timeout=120)
    _save("node_oom__node__v8.txt", re.sub(r"^<--- Last few GCs --->.*?(?=^FATAL ERROR|\Z)", "", text, flags=re.M | re.S), tmp)
    _entry(manifest, "node_oom__node__v8.txt", "node_oom", "node", "v8", "abort", "", "node --max-old-space-size=24 node_oom.js", tmp)


def jvm(manifest, tmp):
    if shutil.which("java") is None:
        return print("java not installed: skipped")
    path = os.path.join(tmp, "NullStore.java")
    with open(path, "w") as f:
        f.write(JAVA)
    text = g.sh(["java", "-XX:-CreateCoredumpOnCrash", "-XX:ErrorFile=" + os.path.join(tmp, "hs_err.log"), path],
                cwd=tmp, timeout=300)
    banner = "\n".join(ln for ln in text.split("\n") if ln.startswith("#") or not ln.strip()) + "\n"
    _save("jvm_null_store__java__jvm.txt", banner, tmp)
    _entry(manifest, "jvm_null_store__java__jvm.txt", "jvm_null_store", "java", "jvm", "unknown", "",
           "java NullStore.java", tmp)


def rust(manifest, tmp):
    cargo = shutil.which("cargo") or os.path.expanduser("~/.cargo/bin/cargo")
    if not os.path.exists(cargo):
        return print("cargo not installed: skipped")
    proj = os.path.join(tmp, "cfgtool")
    subprocess.run([cargo, "new", "-q", "--vcs", "none", proj], check=True)
    with open(os.path.join(proj, "src", "main.rs"), "w") as f:
        f.write(RUST)
    subprocess.run([cargo, "build", "-q", "--offline"], cwd=proj, check=True)
    text = g.sh([os.path.join(proj, "target", "debug", "cfgtool")], cwd=proj, env=dict(os.environ, RUST_BACKTRACE="1"))
    _save("rust_panic__debug__rust.txt", text, tmp)
    _entry(manifest, "rust_panic__debug__rust.txt", "rust_panic", "debug", "rust", "abort", "rust-panic",
           "RUST_BACKTRACE=1 target/debug/cfgtool", tmp)


def main():
    with g.updating_manifest(OUT) as (manifest, tmp):
        for step in (valgrind, ubsan, kernel, python, node, jvm, rust):
            step(manifest, tmp)


if __name__ == "__main__":
    main()
