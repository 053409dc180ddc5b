"""forensics report: which notebooks run with which parameters, and the HTML in headless Chromium."""
import os
import re
import shutil
import subprocess
import warnings

import pytest
from support import SAMPLE, run_cli

import forensics
from forensics.incident.report import make_self_contained, plan

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
KEY_FINDINGS = {
    "checkout-latency": ["missing_index", "DROP INDEX orders_customer_id_idx", "PoolTimeout", "null-deref-read",
                         "ship_order", "retransmi"],
    "catalog-leak": ["catalog_svc.py:47", "assertion-failure", "catalog killed", "GC pause", "RST"],
}


def test_plan_points_notebooks_at_the_incident(incidents, tmp_path):
    inc = incidents["checkout-latency"]
    steps = {s["notebook"]: s["parameters"] for s in plan(inc, scratch=str(tmp_path))}
    assert steps["00_incident_overview.ipynb"] == {"incident": inc.folder}
    for params in steps.values():  # every injected path is one of the incident's artifacts (or a folder of them)
        for v in params.values():
            for p in (v if isinstance(v, list) else [v]):
                if isinstance(p, str) and os.path.isabs(p) and os.path.isfile(p):
                    assert os.path.dirname(p) == inc.folder


def test_self_contained_strips_network_loads():
    page = ('<link rel="stylesheet" href="https://cdn.example/x.css"><script src="https://cdn.example/x.js"></script>'
            '<script src=""></script><script type="module">import m from "https://cdn.example/m.mjs"</script>'
            '<script>var ok = 1;</script>')
    out = make_self_contained(page)
    assert "cdn.example" not in out and "var ok = 1" in out and 'src=""' not in out


def _chromium(path):
    r = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                        "--disable-extensions", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=3000",
                        "--dump-dom", f"file://{path}"], capture_output=True, text=True, timeout=120)
    console = [l for l in r.stderr.splitlines() if "CONSOLE" in l or "Uncaught" in l]
    return r, console


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (make test installs it)")
@pytest.mark.parametrize("name", ["checkout-latency", "catalog-leak"])
def test_report_in_headless_chromium(tmp_path, name):
    out = tmp_path / f"{name}.html"
    # the overview always runs; the per-artifact notebooks are other modules' and have their own tests
    r = run_cli("report", SAMPLE / "incidents" / name, "-o", out, "--only", "none", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert "running 00_incident_overview.ipynb" in r.stderr  # progress is shown
    page = out.read_text()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)  # nothing from the network
    assert "<h1>Appendix: provenance</h1>" in page
    inc = forensics.open_incident(SAMPLE / "incidents" / name)
    for a in inc.artifacts:
        assert a.provenance.sha256 in page
    assert "print(" not in page and "open_incident(" not in page  # no code cells
    assert "VBox(children" not in page  # widgets are not dumped as their Python repr
    res, console = _chromium(out)
    assert res.returncode == 0, res.stderr[-2000:]
    assert not console, console
    dom = res.stdout
    for key in KEY_FINDINGS[name]:
        assert key in dom, key
    assert "<img" in dom and "data:image/png;base64" in dom  # plots embedded


def test_artifact_text_is_escaped(tmp_path):
    """A hostile string inside an artifact reaches the report only as text."""
    from forensics.incident.report import key_findings_html

    d = tmp_path / "inc"
    shutil.copytree(SAMPLE / "incidents" / "checkout-latency", d)
    toml = (d / "incident.toml").read_text().replace('summary = "', 'summary = "<script>alert(1)</script> ', 1)
    (d / "incident.toml").write_text(toml)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inc = forensics.open_incident(d)
        html = key_findings_html(inc)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
