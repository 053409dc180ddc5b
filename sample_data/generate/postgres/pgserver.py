"""A throw-away PostgreSQL 15 for the generators in this folder (``generate.py``, ``why.py``).

Needs Debian's postgresql-15 server binaries (``apt-get install -y postgresql-15``; :func:`ensure_postgres`
installs it when it is missing and we run as root) and /usr/bin/psql. The cluster lives in a fresh
``/tmp/<prefix>*`` folder, listens on 127.0.0.1 only, and runs as the ``postgres`` user when we are root
(the server refuses to run as root).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HOST = "127.0.0.1"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PSQL = "/usr/bin/psql"


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def as_server_user(cmd):
    """The server refuses to run as root: run its binaries as `postgres` when we are root."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def ensure_postgres():
    if (PG_BIN / "postgres").exists():
        return
    if os.geteuid() != 0:
        sys.exit("PostgreSQL 15 is missing: apt-get install -y postgresql-15 (as root)")
    run(["apt-get", "install", "-y", "postgresql-15"], stdout=subprocess.DEVNULL)


class Server:
    """``initdb`` + ``postgresql.auto.conf`` (``options`` on top of the listening address, port and socket
    folder) + ``pg_ctl start``; :meth:`stop` stops it, :meth:`remove` deletes the cluster."""

    def __init__(self, port: int, options: dict, prefix: str = "fx-pg-", boot_log: str = "log"):
        self.port, self.options, self.boot_log = port, options, boot_log
        self.tmp = Path(tempfile.mkdtemp(prefix=prefix))
        self.data = self.tmp / "data"
        if os.geteuid() == 0:
            shutil.chown(self.tmp, "postgres", "postgres")

    def _ctl(self, *args):
        return [str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args]

    def start(self):
        run(as_server_user([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                            "--encoding=UTF8", "--locale=C.UTF-8", "-N"]), stdout=subprocess.DEVNULL)
        opts = {"listen_addresses": HOST, "port": self.port, "unix_socket_directories": str(self.tmp),
                **self.options}
        with open(self.data / "postgresql.auto.conf", "a") as f:
            f.writelines(f"{k} = '{v}'\n" for k, v in opts.items())
        run(as_server_user(self._ctl("-w", "-l", str(self.tmp / self.boot_log), "start")), stdout=subprocess.DEVNULL)

    def restart(self):
        """A clean restart (empties shared_buffers; pg_stat_statements keeps its counters)."""
        run(as_server_user(self._ctl("-w", "-m", "fast", "-l", str(self.tmp / self.boot_log), "restart")),
            stdout=subprocess.DEVNULL)

    def stop(self):
        subprocess.run(as_server_user(self._ctl("-m", "fast", "-w", "stop")), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    def remove(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def psql(self, sql: str, *flags, db="shop") -> str:
        """One command through real psql (no psqlrc), its output as text."""
        out = subprocess.run([PSQL, "-X", "-h", HOST, "-p", str(self.port), "-U", "postgres", "-d", db, *flags,
                              "-c", sql], check=True, capture_output=True, text=True)
        return out.stdout
