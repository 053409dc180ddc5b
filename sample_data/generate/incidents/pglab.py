"""A throw-away PostgreSQL 15 with pg_stat_statements, inside a lab namespace.

Data dir ``/tmp/fx-inc-pg-<name>``; listens on the namespace's address only; owned by the
``postgres`` OS user (initdb refuses root). Snapshots are exported with psql's
``\\copy (SELECT ...) TO ... csv header`` exactly as an on-call engineer would.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time

from netlab import ns_exec

BIN = "/usr/local/bin"
PGSS_QUERY = ("SELECT s.*, d.datname, r.rolname FROM pg_stat_statements s "
              "JOIN pg_database d ON d.oid = s.dbid JOIN pg_roles r ON r.oid = s.userid "
              "ORDER BY s.total_exec_time DESC")


def _as_postgres(args, **kw):
    return subprocess.run(["runuser", "-u", "postgres", "--", *[str(a) for a in args]], **kw)


class Postgres:
    def __init__(self, ns: str, name: str, host: str, port: int = 5432):
        self.ns, self.host, self.port = ns, host, port
        self.datadir = f"/tmp/fx-inc-pg-{name}"
        self.sockdir = f"/tmp/fx-inc-pgsock-{name}"

    def start(self):
        for d in (self.datadir, self.sockdir):
            shutil.rmtree(d, ignore_errors=True)
        os.makedirs(self.sockdir)
        shutil.chown(self.sockdir, "postgres", "postgres")
        _as_postgres([f"{BIN}/initdb", "-D", self.datadir, "-U", "postgres", "-A", "trust", "--no-sync"],
                     check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(self.datadir, "postgresql.conf"), "a") as f:
            f.write(f"""
listen_addresses = '{self.host}'
port = {self.port}
unix_socket_directories = '{self.sockdir}'
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
track_io_timing = on
max_connections = 40
shared_buffers = 64MB
fsync = off
jit = off
log_min_duration_statement = 200
log_line_prefix = '%m [%p] %h '
""")
        with open(os.path.join(self.datadir, "pg_hba.conf"), "a") as f:
            f.write("host all all 10.77.0.0/16 trust\n")
        cmd = ns_exec(self.ns, "runuser", "-u", "postgres", "--", f"{BIN}/pg_ctl", "-D", self.datadir,
                      "-l", os.path.join(self.datadir, "server.log"), "-w", "start")
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)

    def psql(self, sql: str, db="shop", check=True, capture=False):
        cmd = ns_exec(self.ns, "runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
                      "-h", self.sockdir, "-p", str(self.port), "-d", db, "-c", sql)
        return subprocess.run(cmd, check=check, capture_output=capture, text=True)

    def snapshot(self, out_path: str):
        """pg_stat_statements (with database and role names) as CSV, via psql \\copy."""
        tmp = os.path.join(self.sockdir, os.path.basename(out_path))
        self.psql(f"\\copy ({PGSS_QUERY}) TO '{tmp}' csv header")
        shutil.copyfile(tmp, out_path)
        return time.time()

    def stop(self):
        subprocess.run(ns_exec(self.ns, "runuser", "-u", "postgres", "--", f"{BIN}/pg_ctl", "-D", self.datadir,
                               "-m", "fast", "-w", "stop"), check=False, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    def cleanup(self):
        self.stop()
        for d in (self.datadir, self.sockdir):
            shutil.rmtree(d, ignore_errors=True)
