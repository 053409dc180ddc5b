"""`make lab` serves JupyterLab: start it headless on a free loopback port, fetch pages, stop it."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import types
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
        ["make", "-s", "lab", f"LAB_PORT={port}", f"LAB_TOKEN={token}"],
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
        # MathJax is off: SQL's $1 … $2 and gdb's $_siginfo are text, not maths, in every output
        config = json.loads(re.search(r'id="jupyter-config-data"[^>]*>(.*?)</script>', page, re.S).group(1))
        assert "@jupyterlab/mathjax-extension:plugin" in config.get("disabledExtensions", []), config.get(
            "disabledExtensions")
        status, body = get(f"{base}/api/contents/notebooks", token)
        names = {item["name"] for item in json.loads(body)["content"]}
        assert status == 200 and {"00_start_here.ipynb", "00_incident_overview.ipynb"} <= names
        status, page = get(f"{base}/lab/tree/notebooks/00_incident_overview.ipynb", token)
        assert status == 200 and "JupyterLab" in page  # where `make lab` sends the browser
        status, body = get(f"{base}/api/contents/lab", token)  # the untracked working copies
        names = {item["name"] for item in json.loads(body)["content"]}
        assert {"00_start_here.ipynb", "00_incident_overview.ipynb", "training"} <= names
        log.seek(0)
        out = log.read()
        printed = re.search(rf"http://127\.0\.0\.1:{port}/lab/tree/\S+", out)
        assert printed, out[-2000:]  # the URL is printed for the user
        # a browser with no cookie, following redirects, lands on JupyterLab with the overview to open
        with urllib.request.urlopen(printed.group(0), timeout=10) as r:
            assert r.status == 200 and "JupyterLab" in r.read().decode()
            assert r.url.startswith(f"{base}/lab/tree/lab/00_incident_overview.ipynb"), r.url
        status, _ = get(f"{base}/api/contents/lab/00_incident_overview.ipynb", token)
        assert status == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def test_saving_a_tracked_notebook_strips_its_outputs():
    """JupyterLab's save of notebooks/*.ipynb goes through the same strip as tools/nb_refresh.py."""
    import importlib.util

    import nbformat

    spec = importlib.util.spec_from_file_location("lab_config", REPO / "tools" / "jupyter" / "jupyter_server_config.py")
    mod = importlib.util.module_from_spec(spec)
    config = types.SimpleNamespace(FileContentsManager=types.SimpleNamespace())
    mod.get_config = lambda: config  # what Jupyter's config loader provides
    spec.loader.exec_module(mod)
    assert config.FileContentsManager.pre_save_hook is mod.strip_tracked_notebooks
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1", execution_count=3, outputs=[
        nbformat.v4.new_output("execute_result", data={"text/plain": "2"}, execution_count=3)])])
    for path, kept in (("notebooks/01_x.ipynb", False), ("lab/01_x.ipynb", True)):
        model = {"type": "notebook", "content": nbformat.reads(nbformat.writes(nb), as_version=4)}
        mod.strip_tracked_notebooks(model, path)
        assert bool(model["content"].cells[0].outputs) is kept, path
