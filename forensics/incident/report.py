"""``forensics report FOLDER -o report.html``: one self-contained HTML postmortem of an incident.

Runs, with papermill, the overview notebook and every per-artifact notebook that applies to what
the folder holds (parameters injected: the incident folder, or the matching artifact paths), then
writes one HTML file without code cells: plots embedded as data URIs, no script or stylesheet
loaded from the network (nbconvert's CDN links for MathJax, require.js, mermaid and the widget
manager are removed), artifact text escaped (pandas and nbconvert escape what they render; the
sections written here use :func:`html.escape`), and an appendix with every artifact's path,
size, SHA-256 and parser version.

>>> write_report("sample_data/incidents/checkout-latency", "report.html")   # doctest: +SKIP
"""
from __future__ import annotations

import ast
import html
import os
import re
import sys
import tempfile
import time

import nbformat

from .. import __version__
from ..artifact import sniff
from ..progress import progress, watched
from .model import ARTIFACT_KIND, NOTEBOOKS
from .timeline import key_events, pgss_pairs
from .views import open_incident

NOTEBOOK_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "notebooks")
OVERVIEW = "00_incident_overview.ipynb"
_EXTERNAL_SCRIPT = re.compile(r"<script\b[^>]*\bsrc\s*=\s*(?:[\"']?(?:https?:)?//[^>]*|\"\"|'')\s*>\s*</script>", re.I | re.S)
_MATHJAX_CONFIG = re.compile(r"<script\b[^>]*type=[\"']text/x-mathjax-config[\"'][^>]*>.*?</script>", re.I | re.S)
_INLINE_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.I | re.S)
_EXTERNAL_LINK = re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?(?:https?:)?//[^>]*>", re.I | re.S)


# --------------------------------------------------------------------------- which notebooks, which parameters
def notebook_parameters(path) -> dict:
    """The literal assignments of a notebook's ``parameters`` cell (names → default values)."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            out = {}
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:
                return {}
            for node in tree.body:
                if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                    try:
                        out[node.targets[0].id] = ast.literal_eval(node.value)
                    except ValueError:
                        out[node.targets[0].id] = None
            return out
    return {}


def _kind_of_default(value, nb_dir):
    """The artifact family a default parameter value points at (a file, a list of files, or a folder).

    Returns ``(family, shape, detector_kind)``; shape is "file", "list" or "folder".
    """
    paths = value if isinstance(value, (list, tuple)) else [value]
    for v in paths:
        if not isinstance(v, str):
            continue
        p = os.path.normpath(os.path.join(nb_dir, v))
        if os.path.isdir(p):
            for f in sorted(os.listdir(p)):
                fp = os.path.join(p, f)
                if os.path.isfile(fp):
                    try:
                        k = ARTIFACT_KIND.get(sniff(fp).kind)
                    except Exception:
                        k = None
                    if k:
                        return k, "folder", None
        elif os.path.isfile(p):
            try:
                det = sniff(p).kind
            except Exception:
                det = None
            if ARTIFACT_KIND.get(det):
                return ARTIFACT_KIND[det], "list" if isinstance(value, (list, tuple)) else "file", det
    return None, None, None


def plan_parameters(inc, notebook_path, scratch) -> dict | None:
    """Parameters to inject into a per-artifact notebook so that it reads this incident's files.

    Each parameter whose default points at an artifact (file, list of files, folder) is pointed at the
    incident's artifacts of the same family; ``before``/``baseline`` and ``after`` names of
    pg_stat_statements get the two snapshots. None when the notebook takes nothing we have.
    """
    nb_dir = os.path.dirname(os.path.abspath(notebook_path))
    params, folders = {}, {}
    defaults = notebook_parameters(notebook_path)
    for name, default in defaults.items():
        if name in ("incident", "incident_folder", "folder") and isinstance(default, str):
            params[name] = inc.folder
            continue
        kind, shape, _ = _kind_of_default(default, nb_dir)
        if kind is None:
            continue
        if shape == "folder":
            folders[os.path.normpath(os.path.join(nb_dir, default))] = name
    for name, default in defaults.items():
        if name in params:
            continue
        kind, shape, det = _kind_of_default(default, nb_dir)
        if kind is None:
            # a file name inside a folder parameter (e.g. the transcript to show): one of ours;
            # another input we have nothing for (an info file of the sample server): None
            names = default if isinstance(default, (list, tuple)) else [default]
            inside = [n for n in names if isinstance(n, str) and any(os.path.exists(os.path.join(f, n)) for f in folders)]
            if inside and isinstance(default, str):
                params[name] = "__FIRST_IN_FOLDER__"
            elif inside or (isinstance(default, str) and os.path.isfile(os.path.join(nb_dir, default))):
                params[name] = None
            continue
        arts = inc.loaded(kind)
        exact = [a for a in arts if a.kind == det]
        if exact:
            arts = exact
        elif kind == "memory" and det is not None:
            arts = []  # heap formats are not interchangeable (a V8 input cannot take a tracemalloc diff)
        if not arts:
            params[name] = None
            continue
        if kind == "postgres" and pgss_pairs(inc):
            before, after = pgss_pairs(inc)[0]
            low = name.lower()
            pick = before if ("before" in low or "baseline" in low) else after
            params[name] = [a.path for a in (before, after)] if shape == "list" else pick.path
        elif shape == "folder":
            d = os.path.join(scratch, f"{kind}-{name}")
            os.makedirs(d, exist_ok=True)
            for a in arts:
                link = os.path.join(d, os.path.basename(a.path))
                if not os.path.exists(link):
                    os.symlink(a.path, link)
            params[name] = d
        elif shape == "list":
            params[name] = [a.path for a in sorted(arts, key=lambda a: (a.time is None, a.time, a.file))]
        else:  # one file: the artifact with the most events on the timeline
            tl = inc.timeline
            params[name] = max(arts, key=lambda a: (int((tl["artifact"] == a.file).sum()), a.file)).path
    for name, value in list(params.items()):
        if value == "__FIRST_IN_FOLDER__":
            folder = next((params[n] for n in folders.values() if n in params), None)
            files = sorted(os.listdir(folder)) if folder else []
            params[name] = files[0] if files else None
    mapped = [v for k, v in params.items() if k not in ("incident", "incident_folder", "folder") and v
              and k not in [n for n, d in defaults.items() if not _kind_of_default(d, nb_dir)[0]]]
    return params if mapped or "incident" in params else None


def plan(inc, notebook_dir: str = NOTEBOOK_DIR, scratch: str | None = None) -> list[dict]:
    """The notebooks the report runs, in order, each with the parameters it gets."""
    scratch = scratch or tempfile.mkdtemp(prefix="forensics-report-")
    steps = []
    overview = os.path.join(notebook_dir, OVERVIEW)
    if os.path.exists(overview):
        steps.append({"notebook": OVERVIEW, "path": overview, "parameters": {"incident": inc.folder}})
    for kind, name in NOTEBOOKS.items():
        path = os.path.join(notebook_dir, name)
        if not os.path.exists(path) or not inc.loaded(kind):
            continue
        params = plan_parameters(inc, path, scratch)
        if params:
            steps.append({"notebook": name, "path": path, "parameters": params})
    return steps


# --------------------------------------------------------------------------- HTML
def _section_cell(title: str, body_html: str):
    """A code cell whose only output is our own (already escaped) HTML; exported without input."""
    cell = nbformat.v4.new_code_cell(source="")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": f"<h1>{html.escape(title)}</h1>{body_html}"})]
    return cell


def provenance_html(inc, steps) -> str:
    rows = []
    for p in inc.provenance:
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(p.get(k, '') if p.get(k) is not None else ''))}</td>" for k in
                                     ("file", "path", "size", "sha256", "kind", "format", "parser", "parser_version",
                                      "status")) +
                    f"<td>{html.escape('; '.join(p.get('warnings') or []) or (p.get('error') or ''))}</td></tr>")
    head = "".join(f"<th>{h}</th>" for h in ("file", "path", "size (bytes)", "sha256", "kind", "format", "parser",
                                             "parser version", "status", "warnings / error"))
    nbs = "".join(f"<li>{html.escape(s['notebook'])}: {html.escape(s.get('status', ''))} — parameters "
                  f"{html.escape(repr(s['parameters']))}</li>" for s in steps)
    return (f"<p>forensics {html.escape(__version__)}; incident folder {html.escape(inc.folder)}; generated "
            f"{html.escape(time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()))}.</p>"
            f"<table class='provenance'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f"<p>Notebooks run:</p><ul>{nbs}</ul>")


def key_findings_html(inc) -> str:
    """The events that matter most and the surest links, as escaped HTML."""
    top = key_events(inc.timeline, 15)
    items = "".join(f"<li><b>{html.escape(r.time.strftime('%H:%M:%S.%f')[:-3])}Z</b> [{html.escape(str(r.kind))}, "
                    f"{html.escape(str(r.service))}] {html.escape(str(r.detail))}</li>" for r in top.itertuples())
    prefer = ["span-statement", "crash-preceding", "reset-error", "heap-latency", "retransmissions-span", "endpoint"]
    links = sorted(inc.links, key=lambda l: (-l["confidence"], prefer.index(l["type"]) if l["type"] in prefer else 99))
    seen, litems = set(), []
    for l in links:
        if l["type"] in seen and len(litems) >= 4:
            continue
        seen.add(l["type"])
        litems.append(f"<li>{html.escape(l['type'])} ({l['confidence']:.2f}): {html.escape(l['reason'])}</li>")
        if len(litems) >= 8:
            break
    return (f"<p>{html.escape(inc.summary)}</p><h2>Most severe events</h2><ul>{items}</ul>"
            f"<h2>Strongest links between artifacts</h2><ul>{''.join(litems)}</ul>")


def make_self_contained(body: str) -> str:
    """Drop every script/stylesheet that would be fetched from the network."""
    body = _EXTERNAL_SCRIPT.sub("", body)
    body = _MATHJAX_CONFIG.sub("", body)  # MathJax itself is not loaded
    body = _INLINE_SCRIPT.sub(lambda m: "" if re.search(r"(?:https?:)?//[\w.-]+\.\w+/", m.group(1)) and
                              ("import" in m.group(1) or "src" in m.group(1) or "require" in m.group(1)) else m.group(0),
                              body)
    return _EXTERNAL_LINK.sub("", body)


def to_html(nb, title: str) -> str:
    from nbconvert import HTMLExporter

    nb.metadata.pop("widgets", None)  # widget state would pull the widget manager from a CDN
    for cell in nb.cells:
        if cell.cell_type == "code":
            for out in cell.get("outputs", []):
                data = out.get("data", {})
                if "application/vnd.jupyter.widget-view+json" in data:  # a static page cannot run a picker
                    data.clear()
                    data["text/html"] = "<p><i>(an interactive picker here: open the notebook to use it)</i></p>"
    exp = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                       exclude_output_prompt=True, embed_images=True)
    exp.mathjax_url = ""
    exp.require_js_url = ""
    if hasattr(exp, "mermaid_js_url"):
        exp.mermaid_js_url = ""
    nb.metadata["title"] = title
    body, _ = exp.from_notebook_node(nb)
    return make_self_contained(body)


# --------------------------------------------------------------------------- the whole thing
def _say(msg: str):
    print(f"forensics report: {msg}", file=sys.stderr, flush=True)


def write_report(folder, output="report.html", timeout: int = 180, notebook_dir: str = NOTEBOOK_DIR,
                 kernel_name: str = "python3", only: list[str] | None = None) -> dict:
    """Run the notebooks that apply and write the HTML report; returns what ran and where it went.

    ``only`` limits the run to these notebook names (the overview is always included).
    """
    inc = open_incident(folder)
    with tempfile.TemporaryDirectory(prefix="forensics-report-") as scratch:
        return _run_and_write(inc, output, timeout, notebook_dir, kernel_name, only, scratch)


def _run_and_write(inc, output, timeout, notebook_dir, kernel_name, only, scratch) -> dict:
    import papermill as pm

    steps = plan(inc, notebook_dir, scratch)
    if only:
        steps = [s for s in steps if s["notebook"] == OVERVIEW or s["notebook"] in only
                 or s["notebook"].removesuffix(".ipynb") in only]
    merged = nbformat.v4.new_notebook()
    merged.cells.append(_section_cell(f"Incident report: {inc.title}", key_findings_html(inc)))
    bar = progress(len(steps), "running notebooks", unit="notebook", enabled=watched())
    with bar:
        for i, step in enumerate(steps, 1):
            _say(f"[{i}/{len(steps)}] running {step['notebook']}")
            out_path = os.path.join(scratch, f"{i:02d}-{step['notebook']}")
            try:
                pm.execute_notebook(step["path"], out_path, parameters=step["parameters"], kernel_name=kernel_name,
                                    cwd=os.path.dirname(step["path"]), progress_bar=False, log_output=False,
                                    execution_timeout=timeout, report_mode=True)
                step["status"] = "ok"
            except Exception as e:  # one failing notebook must not sink the report
                step["status"] = f"failed: {type(e).__name__}: {str(e).strip().splitlines()[-1] if str(e).strip() else ''}"
                _say(f"{step['notebook']} {step['status']}")
            if os.path.exists(out_path):
                nb = nbformat.read(out_path, as_version=4)
                merged.cells.append(_section_cell(step["notebook"].removesuffix(".ipynb").replace("_", " "),
                                                  "" if step["status"] == "ok" else
                                                  f"<p><b>This notebook stopped:</b> {html.escape(step['status'])}</p>"))
                merged.cells.extend(c for c in nb.cells if "parameters" not in c.metadata.get("tags", [])
                                    and "injected-parameters" not in c.metadata.get("tags", []))
            bar.update(1)
    merged.cells.append(_section_cell("Appendix: provenance", provenance_html(inc, steps)))
    _say("writing HTML")
    page = to_html(merged, f"Incident report: {inc.title}")
    with open(output, "w", encoding="utf-8") as f:
        f.write(page)
    _say(f"wrote {output} ({len(page.encode()):,} bytes)")
    return {"path": os.path.abspath(output), "notebooks": steps, "bytes": len(page.encode())}
