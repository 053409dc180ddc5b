#!/usr/bin/env python3
"""``coredumpctl info`` of real crashes, made by the real systemd tools on a machine without systemd as PID 1.

    python sample_data/generate/crashes/coredumpctl.py

Needs ``apt-get install -y systemd-coredump`` (Debian 12: systemd 252). CAUTION: that package's
postinst runs systemd-sysctl, which points the kernel's core_pattern at systemd-coredump for the whole
machine; this script never touches core_pattern — set it back yourself (``cat
/proc/sys/kernel/core_pattern``; ``echo core > /proc/sys/kernel/core_pattern``) if you installed it.

How the chain is rebuilt by hand, each piece the one systemd would start:

1. ``systemd-journald`` (the journal: /run/log/journal), started here when its socket is not served;
2. ``systemd-socket-activate --seqpacket -a -l /run/systemd/coredump /lib/systemd/systemd-coredump`` —
   what ``systemd-coredump.socket`` + ``systemd-coredump@.service`` do;
3. each program crashes under gdb; while gdb holds it stopped at the fault (so ``/proc/PID`` still
   describes it, as during a real core dump) gdb writes its core and hands it to
   ``/lib/systemd/systemd-coredump PID UID GID SIGNAL TIME RLIMIT HOST DUMPABLE`` on stdin — exactly the
   argv and stdin the kernel's ``|/lib/systemd/systemd-coredump %P %u %g %s %t %c %h %d`` pipe gives;
4. ``coredumpctl -D /run/log/journal info PID`` prints the report, saved as
   ``sample_data/crashes/<program>__g-O0__coredumpctl.txt`` (expected class in ``manifest.json``).

The processes this script started are stopped at the end; the cores systemd-coredump stored under
/var/lib/systemd/coredump are removed.
"""
from __future__ import annotations

import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate as g  # noqa: E402

OUT = os.path.join(g.ROOT, "sample_data", "crashes")
COREDUMP = "/lib/systemd/systemd-coredump"
JOURNAL_DIR = "/run/log/journal"
PROGRAMS = ["null_read", "assert_fail", "double_free", "worker_crash", "divide_by_zero"]
FEED = r'''
import gdb, os, subprocess, time
inf = gdb.selected_inferior()
signo = int(gdb.parse_and_eval("$_siginfo.si_signo"))
core = os.path.join(os.environ["FX_TMP"], "core.%d" % inf.pid)
gdb.execute("generate-core-file " + core, to_string=True)
args = [os.environ["FX_COREDUMP"], str(inf.pid), str(os.getuid()), str(os.getgid()), str(signo),
        str(int(time.time())), "9223372036854775808", os.uname().nodename, "1"]
with open(core, "rb") as f:
    r = subprocess.run(args, stdin=f, capture_output=True, text=True)
print("FX-PID", inf.pid, "rc", r.returncode, r.stderr.strip())
'''


def served(path, kind) -> bool:
    """Someone listens on this unix socket (a stale socket file left by a stopped daemon does not count)."""
    import socket
    s = socket.socket(socket.AF_UNIX, kind)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def start(cmd, log):
    return subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)


def main():
    if not os.path.exists(COREDUMP):
        sys.exit("needs systemd-coredump: apt-get install -y systemd-coredump (then check core_pattern, see above)")
    started = []
    tmp = tempfile.mkdtemp(prefix="fx-cd-")
    # systemd-coredump reads the executable's symbols as its own unprivileged user: let it see the binaries
    os.chmod(tmp, 0o755)
    mpath = os.path.join(OUT, "manifest.json")
    with open(mpath) as f:
        manifest = json.load(f)
    try:
        if not served("/run/systemd/journal/socket", __import__("socket").SOCK_DGRAM):
            os.makedirs("/run/systemd/journal", exist_ok=True)
            started.append(start(["/lib/systemd/systemd-journald"], os.path.join(tmp, "journald.log")))
        if not served("/run/systemd/coredump", __import__("socket").SOCK_SEQPACKET):
            if os.path.exists("/run/systemd/coredump"):
                os.unlink("/run/systemd/coredump")
            started.append(start(["systemd-socket-activate", "--seqpacket", "-a", "-l", "/run/systemd/coredump",
                                  COREDUMP], os.path.join(tmp, "socket.log")))
        time.sleep(2)
        feed = os.path.join(tmp, "feed.py")
        with open(feed, "w") as f:
            f.write(FEED)
        env = dict(os.environ, FX_TMP=tmp, FX_COREDUMP=COREDUMP)
        for name in PROGRAMS:
            exe = g.build(name, "g-O0", tmp)
            out = g.sh([g.GDB, "-batch", "-nx", "-ex", "run", "-ex", f"source {feed}", exe], cwd=tmp, env=env)
            pid = next((ln.split()[1] for ln in out.splitlines() if ln.startswith("FX-PID")), None)
            if pid is None:
                print(f"  {name}: no core handed over\n{out[-800:]}")
                continue
            time.sleep(1)
            info = subprocess.run(["coredumpctl", "-D", JOURNAL_DIR, "--no-pager", "info", pid],
                                  capture_output=True, text=True).stdout
            fn = f"{name}__g-O0__coredumpctl.txt"
            with open(os.path.join(OUT, fn), "w") as f:
                f.write(g.clean(info, tmp))
            cls, sub = g.EXPECTED[name]
            manifest[fn] = {"program": name, "build": "g-O0", "style": "coredumpctl", "class": cls,
                            "subclass_hint": sub, "command": f"coredumpctl -D {JOURNAL_DIR} info PID"}
            print(f"  {fn}")
            for p in glob.glob(f"/var/lib/systemd/coredump/core.{name}.*.{pid}.*"):
                os.unlink(p)
    finally:
        for p in started:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=10)
        subprocess.run(["rm", "-rf", tmp])
    with open(mpath, "w") as f:
        json.dump(dict(sorted(manifest.items())), f, indent=1)


if __name__ == "__main__":
    main()
