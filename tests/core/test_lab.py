"""`make lab` serves JupyterLab: start it headless on a free loopback port, fetch pages, stop it."""
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from support import REPO

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, token):
    req = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, r.read().decode()


def test_make_lab_serves_jupyterlab_on_the_notebooks(tmp_path):
    port, token = free_port(), "forensics-test-token"
    log = open(tmp_path / "lab.log", "w+")
    proc = subprocess.Popen(
        ["make", "-s", "lab", f"LAB_PORT={port}", f"LAB_ARGS=--IdentityProvider.token={token}"],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")})
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                status, page = get(f"{base}/lab", token)
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"JupyterLab did not come up:\n{log.read()[-3000:]}")
                time.sleep(0.5)
        assert status == 200 and "JupyterLab" in page
        status, body = get(f"{base}/api/contents/notebooks", token)
        names = {item["name"] for item in json.loads(body)["content"]}
        assert status == 200 and {"00_start_here.ipynb", "00_incident_overview.ipynb"} <= names
        status, page = get(f"{base}/lab/tree/notebooks/00_incident_overview.ipynb", token)
        assert status == 200 and "JupyterLab" in page  # where `make lab` sends the browser
        log.seek(0)
        out = log.read()
        assert f"http://127.0.0.1:{port}/lab" in out  # the URL is printed for the user
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
