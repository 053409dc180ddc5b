#!/usr/bin/env python3
"""AddressSanitizer reports of the crash programs: what a build with ``-fsanitize=address`` prints.

    python sample_data/generate/crashes/sanitizers.py

Needs gcc with libasan (Debian: ``gcc`` pulls ``libasan8``). Each program in ``PROGRAMS`` is built
``-g -O0 -fsanitize=address -fno-omit-frame-pointer`` and run once; its stderr (the sanitizer's
report) is written to ``sample_data/crashes/<program>__asan-O0__asan.txt`` and its expected class to
``manifest.json``, next to the gdb transcripts of ``generate.py``. ASan's classes map onto ours:
a SEGV on a zero-page address is a NULL read or write, heap-use-after-free a wild (freed) pointer,
heap-buffer-overflow / double-free / a free of a non-heap address heap corruption,
stack-buffer-overflow a stack buffer overrun, stack-overflow a stack overflow.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate as g  # noqa: E402

OUT = os.path.join(g.ROOT, "sample_data", "crashes")
# program -> (class, subclass hint): ASan's verdict, which is not always glibc's
PROGRAMS = {
    "null_read": ("null-deref-read", "SEGV:read"), "null_write": ("null-deref-write", "SEGV:write"),
    "use_after_free": ("wild-pointer", "heap-use-after-free:read"),
    "heap_overflow": ("heap-corruption", "heap-buffer-overflow:write"),
    "double_free": ("heap-corruption", "double-free"), "invalid_free": ("heap-corruption", "bad-free"),
    "stack_smash": ("stack-buffer-overrun", "stack-buffer-overflow:write"),
    "stack_overflow": ("stack-overflow", "stack-overflow"), "divide_by_zero": ("divide-by-zero", "FPE"),
    "wild_read": ("wild-pointer", "SEGV:read"),
}
FLAGS = ["-g", "-O0", "-fsanitize=address", "-fno-omit-frame-pointer"]
ENV = {"ASAN_OPTIONS": "detect_leaks=0:symbolize=1:handle_abort=1"}


def main():
    if shutil.which("gcc") is None:
        sys.exit("needs gcc with AddressSanitizer (apt-get install -y gcc)")
    with g.updating_manifest(OUT) as (manifest, tmp):
        for name, (cls, sub) in PROGRAMS.items():
            src = name + ".c"
            exe = os.path.join(tmp, "asan-O0", name)
            os.makedirs(os.path.dirname(exe), exist_ok=True)
            extra = g.EXTRA_CFLAGS.get(name, [])
            subprocess.run(["gcc", *FLAGS, *[x for x in extra if "FORTIFY" not in x], "-o", exe, src],
                           check=True, cwd=g.PROGRAMS)
            text = g.sh([exe], env=dict(os.environ, **ENV), cwd=tmp, limit_stack=name == "stack_overflow")
            fn = f"{name}__asan-O0__asan.txt"
            with open(os.path.join(OUT, fn), "w") as f:
                # ASan prints the absolute source path: keep it as short as gdb's ("null_read.c:12")
                f.write(g.clean(text, tmp).replace(g.PROGRAMS + os.sep, ""))
            manifest[fn] = {"program": name, "build": "asan-O0", "style": "asan", "class": cls, "subclass_hint": sub,
                            "command": g.clean(f"ASAN_OPTIONS={ENV['ASAN_OPTIONS']} {exe}", tmp)}
            print(f"  {fn}")


if __name__ == "__main__":
    main()
