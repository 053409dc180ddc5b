"""Helpers the incident stage scripts share: build the worker, run it under gdb, tcpdump, the manifest."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import threading
import time

from netlab import HERE, ns_exec

BUILD = "/tmp/fx-inc-build"


def iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def build_worker() -> str:
    os.makedirs(BUILD, exist_ok=True)
    out = os.path.join(BUILD, "worker")
    subprocess.run(["gcc", "-g", "-O0", "-pthread", "-Wall", "-o", out, os.path.join(HERE, "worker.c")], check=True)
    return out


class GdbRun:
    """The worker run live under ``gdb -batch``; notes the wall-clock time the signal arrived."""

    COMMANDS = ["set pagination off", "set width 0", None, "bt full", "info threads", "thread apply all bt",
                "info registers", "p $_siginfo"]

    def __init__(self, ns, binary, args, transcript, worker_log):
        cmds = []
        for c in self.COMMANDS:
            cmds += ["-ex", c if c else "run " + " ".join(args) + f" 2>{worker_log}"]
        self.transcript = transcript
        self.signal_time = None
        self.proc = subprocess.Popen(ns_exec(ns, "gdb", "-batch", "-nx", *cmds, binary), stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self._t = threading.Thread(target=self._pump, daemon=True)
        self._t.start()

    def _pump(self):
        with open(self.transcript, "wb") as f:
            for line in self.proc.stdout:
                if b" received signal " in line and self.signal_time is None:
                    self.signal_time = time.time()
                f.write(line)

    def finish(self, timeout=30):
        if self.proc.poll() is None and self.signal_time is None:
            import signal as _s

            os.killpg(self.proc.pid, _s.SIGKILL)
        self.proc.wait(timeout)
        self._t.join(timeout)


def tcpdump(lab, ns, ifname, out, bpf, snaplen=256):
    return lab.spawn(ns, ["tcpdump", "-i", ifname, "-s", snaplen, "-U", "-n", "-Z", "root", "-w", out, *bpf.split()],
                     log=out + ".log")


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, str) and "\n" in v:
        return '"""\n' + v.replace("\\", "\\\\").replace('"""', '\\"\\"\\"') + '"""'
    return json.dumps(v, ensure_ascii=False)  # JSON string escapes are valid TOML basic strings


def write_toml(path, top: dict, tables: dict[str, dict] = None, arrays: dict[str, list[dict]] = None):
    """Enough TOML for a manifest: top-level keys, [tables] and [[arrays of tables]]."""
    lines = [f"{k} = {toml_value(v)}" for k, v in top.items()]
    for name, t in (tables or {}).items():
        lines += ["", f"[{name}]"] + [f"{k} = {toml_value(v)}" for k, v in t.items()]
    for name, rows in (arrays or {}).items():
        for r in rows:
            lines += ["", f"[[{name}]]"] + [f"{k} = {toml_value(v)}" for k, v in r.items() if v is not None]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    import tomllib

    with open(path, "rb") as f:
        tomllib.load(f)  # fail here, not in a user's notebook
