"""forensics report: a postmortem computed from the incident, readable offline, checked in headless Chromium.

Run on both sample incidents, every staged incident under sample_data/incidents/, and an incident
handed over the way a user would (sample artifacts under names and folders of their own, an
incident.toml written from docs/incidents.md, an on-call note): no sample prose, no placeholder,
every artifact covered (or the report says why not), the chain stated, no absolute machine path.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from narrative import canned, user_incident, visible_text
from support import SAMPLE, run_cli

import forensics
from forensics.incident.notebook_plan import plan
from forensics.incident.report import CHROMIUM_FLAGS, chromium, write_report

CHROMIUM = chromium()
STAGED = sorted(p for p in (SAMPLE / "incidents").iterdir() if (p / "incident.toml").exists())
#: what each sample's postmortem must state (computed from its evidence, so a regression shows here)
KEY_FINDINGS = {
    "checkout-latency": ["missing_index", "DROP INDEX orders_customer_id_idx", "PoolTimeout", "null-deref-read",
                         "ship_order", "retransmi", "span-statement", "crash-preceding"],
    "catalog-leak": ["catalog_svc.py:47", "assertion-failure", "catalog killed", "ConnectionRefusedError",
                     "heap-latency", "gateway-link.pcap", "db-link.pcap"],
}
PLACEHOLDERS = ["interactive picker", "open the notebook to use it", "VBox(children", "print(", "open_incident(",
                "Traceback", " nan ", "NaN", "None", "e+0"]


@pytest.fixture(scope="module")
def user_folder(tmp_path_factory):
    return user_incident(tmp_path_factory.mktemp("handed-over") / "booking-api")


@pytest.fixture(scope="module")
def reports(user_folder, tmp_path_factory):
    """folder → (report html, write_report's answer), each written once."""
    out = {}
    dest = tmp_path_factory.mktemp("reports")
    for folder in STAGED + [user_folder]:
        path = dest / f"{folder.name}.html"
        out[folder] = (None, write_report(folder, str(path)))
        out[folder] = (path.read_text(encoding="utf-8"), out[folder][1])
    return out


def _folders():
    return [pytest.param(p, id=p.name) for p in STAGED] + [pytest.param("user", id="handed-over")]


def _get(reports, user_folder, which):
    folder = user_folder if which == "user" else which
    return folder, *reports[folder]


@pytest.mark.parametrize("which", _folders())
def test_report_is_computed_from_the_incident(reports, user_folder, which):
    folder, page, info = _get(reports, user_folder, which)
    text = visible_text(page)
    assert not canned(text, folder), "sample narrative in the report"
    for p in PLACEHOLDERS:
        assert p not in text, p
    assert str(Path(folder).resolve()) not in page and str(SAMPLE.parent.resolve()) + "/sample_data/incidents" not in page
    inc = forensics.open_incident(folder)
    for a in inc.artifacts:  # every artifact covered, or the report says why not
        assert a.provenance is None or a.provenance.sha256 in page, a.file
        if a.status in ("loaded", "warnings"):
            assert a.file not in info["not_covered"], (a.file, info["not_covered"])
            assert any(a.file in s for s in info["sections"]), (a.file, info["sections"])
        else:
            assert f"{a.file} is not analysed in a section of its own" in text, a.file
    # summary first, then the chain, the timeline, the artifacts, open questions, provenance
    order = [text.index(h) for h in ("Summary", "Causal chain", "Timeline", "Open questions", "Appendix: provenance")]
    assert order == sorted(order)
    assert "What happened" in text and " → " in text and "confidence" in text
    assert info["chain"], "no chain stated"


@pytest.mark.parametrize("name", sorted(KEY_FINDINGS))
def test_sample_reports_state_their_findings(reports, name):
    page, info = reports[SAMPLE / "incidents" / name]
    text = visible_text(page)
    for key in KEY_FINDINGS[name]:
        assert key in text, key


def test_every_capture_is_covered(reports):
    """catalog-leak has two captures: each gets its section with the worst flow's time-sequence graph."""
    page, info = reports[SAMPLE / "incidents" / "catalog-leak"]
    for cap in ("db-link.pcap", "gateway-link.pcap"):
        assert f"Network capture {cap}" in info["sections"]
    assert visible_text(page).count("The worst connection, stream") == 2


def test_widget_views_have_static_figures(reports):
    page, _ = reports[SAMPLE / "incidents" / "checkout-latency"]
    text = visible_text(page)
    for caption in ("The worst connection, stream", "The slowest request:", "The first failing request:",
                    "The crash thread's stack", "Service map"):
        assert caption in text, caption
    assert page.count("data:image/png;base64,") >= 7


def test_self_contained_and_escaped(reports):
    for page, _ in reports.values():
        assert "<script" not in page.lower()
        assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)  # nothing from the network
        assert "$" not in re.sub(r"<style>.*?</style>", "", page, flags=re.S)  # SQL $1, gdb $_siginfo: never maths
    page, _ = reports[SAMPLE / "incidents" / "checkout-latency"]
    assert "customer_id = &#36;1" in page


def test_artifact_text_is_escaped(reports, user_folder):
    """A hostile string in the manifest (the handed-over incident's summary) reaches the report only as text."""
    page, _ = reports[user_folder]
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "query &#36;1" in page


def test_cli_report_and_pdf(tmp_path):
    out = tmp_path / "r.html"
    args = ["report", SAMPLE / "incidents" / "checkout-latency", "-o", out, "--format", "json"]
    if CHROMIUM:
        args += ["--pdf", tmp_path / "r.pdf"]
    r = run_cli(*args)
    assert r.returncode == 0, r.stderr
    answer = json.loads(r.stdout)
    assert answer["not_covered"] == {} and answer["chain"] and out.exists()
    assert "forensics report: wrote" in r.stderr  # progress on stderr
    if CHROMIUM:
        assert (tmp_path / "r.pdf").read_bytes()[:5] == b"%PDF-"


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (make test installs it)")
@pytest.mark.parametrize("which", _folders())
def test_report_in_headless_chromium(reports, user_folder, which, tmp_path):
    folder, page, info = _get(reports, user_folder, which)
    html_path = tmp_path / "report.html"
    html_path.write_text(page, encoding="utf-8")
    shot = tmp_path / "report.png"
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        common = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
                  "--virtual-time-budget=3000"]
        dom = subprocess.run(common + ["--dump-dom", f"file://{html_path}"], capture_output=True, text=True,
                             timeout=120)
        pic = subprocess.run(common + ["--window-size=1280,2400", "--hide-scrollbars", f"--screenshot={shot}",
                                       f"file://{html_path}"], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0 and pic.returncode == 0, dom.stderr[-2000:] + pic.stderr[-2000:]
    console = [l for l in dom.stderr.splitlines() if "CONSOLE" in l or "Uncaught" in l or "Failed to load" in l]
    assert not console, console
    shown = visible_text(dom.stdout)
    assert "What happened" in shown and info["chain"][0] in shown  # the chain is stated in the rendered page
    assert shot.stat().st_size > 50_000  # a page was drawn, not a blank one
    keep = os.environ.get("FORENSICS_KEEP_SCREENSHOTS")
    if keep:  # look at them: FORENSICS_KEEP_SCREENSHOTS=/tmp/shots pytest tests/incident/test_report.py
        os.makedirs(keep, exist_ok=True)
        shutil.copy(shot, os.path.join(keep, f"{Path(folder).name}.png"))


def test_plan_uses_the_declared_parameters(incidents, tmp_path):
    """Each kind's notebook gets the incident's files through the parameter forensics/kinds.py declares."""
    from forensics import kinds

    inc = incidents["checkout-latency"]
    steps = {s["notebook"]: s["parameters"] for s in plan(inc, scratch=str(tmp_path))}
    assert steps["00_incident_overview.ipynb"] == {"INCIDENT": os.path.abspath(inc.folder)}
    for k in kinds.KINDS:
        if k.notebook in steps and any(a.kind == k.name for a in inc.loaded(k.family)):
            assert steps[k.notebook].get(k.notebook_param), (k.notebook, k.notebook_param)
    for params in steps.values():  # every injected path is one of the incident's artifacts (or a folder of them)
        for v in params.values():
            for p in (v if isinstance(v, list) else [v]):
                if isinstance(p, str) and os.path.isabs(p) and os.path.isfile(p):
                    assert os.path.dirname(p) == os.path.abspath(inc.folder)
