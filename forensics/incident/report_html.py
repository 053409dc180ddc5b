"""The postmortem as one self-contained HTML page: no script at all, figures as data URIs, text escaped.

Nothing is loaded from the network (no MathJax, no fonts, no stylesheets), so the page opens
offline and prints to PDF as it shows. Every piece of artifact text goes through
:func:`html.escape` (tables through :func:`forensics.display.html_table`, which also turns ``$``
into an entity), and the body is marked ``mathjax_ignore`` for viewers that typeset maths.
"""
from __future__ import annotations

import base64
import html
import time

from ..display import TABLE_CSS, html_table, timestamp
from .postmortem import Step

PAGE_CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; line-height: 1.45;
  max-width: 1180px; margin: 1.5em auto; padding: 0 1.2em; color: #1d1d1f; overflow-wrap: break-word;
  word-break: normal; hyphens: none; }
h1 { font-size: 1.7em; margin-bottom: 0.1em; } h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.15em;
  margin-top: 1.8em; } h3 { margin-top: 1.4em; }
.meta { color: #666; font-size: 0.9em; }
nav ol { columns: 2; font-size: 0.92em; }
.chain { background: #f6f8fa; border-left: 4px solid #c0392b; padding: 0.6em 0.9em; }
.step { margin: 0.6em 0 1em 0; } .step .when { color: #555; font-variant-numeric: tabular-nums; }
.sev-critical { color: #8e0000; font-weight: 600; } .sev-error { color: #c0392b; font-weight: 600; }
.sev-warning { color: #a65e00; }
.evidence { margin: 0.25em 0 0 1.2em; font-size: 0.93em; } .none { color: #777; font-style: italic; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #444; font-size: 0.9em; }
.scroll { overflow-x: auto; }
blockquote { border-left: 3px solid #bbb; margin: 0.5em 0; padding: 0.2em 0.8em; color: #333; }
@media print { body { max-width: none; margin: 0; } nav { display: none; } h2 { break-after: avoid; }
  figure, table { break-inside: avoid; } .scroll { overflow: visible; } }
"""


def esc(text) -> str:
    return html.escape(str(text), quote=True).replace("$", "&#36;")


def figure(png: bytes, caption: str) -> str:
    data = base64.b64encode(png).decode()
    return (f"<figure><img alt='{esc(caption)}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{esc(caption)}</figcaption></figure>")


def blocks_html(blocks) -> str:
    out = []
    for b in blocks:
        if b[0] == "p":
            out.append(f"<p>{esc(b[1])}</p>")
        elif b[0] == "list":
            out.append("<ul>" + "".join(f"<li>{esc(x)}</li>" for x in b[1]) + "</ul>")
        elif b[0] == "table":
            _, frame, caption, kw = b
            out.append(f"<div class='scroll'><p><b>{esc(caption)}</b></p>"
                       f"{html_table(frame, max_rows=kw.get('max_rows', 15), max_colwidth=kw.get('max_colwidth', 100))}"
                       f"</div>")
        elif b[0] == "figure":
            out.append(figure(b[1], b[2]))
    return "".join(out)


def _sev(sev: str) -> str:
    return f"<span class='sev-{esc(sev)}'>{esc(sev)}</span>"


def chain_html(steps: list[Step]) -> str:
    if not steps:
        return "<p class='none'>No artifact recorded an error or critical event: there is no chain to state.</p>"
    out = ["<ol>"]
    for i, s in enumerate(steps):
        ev = []
        for li in s.links_in:
            for r in li["summary"]:
                ev.append(f"<li>joined to step {[x.artifact for x in steps].index(li['to']) + 1} ({esc(li['to'])}) by "
                          f"{r['links']:,} {esc(r['type'])} link(s), confidence {r['confidence']:.2f}: "
                          f"{esc(r['reason'])}</li>")
        if i and not s.links_in:
            ev.append("<li class='none'>no link joins this step to an earlier one: ordered by time only "
                      "(confidence unknown).</li>")
        if s.unreliable_time:
            ev.append("<li class='none'>its time is the file's modification time (no clock in the content or the "
                      "manifest): its place in this order is unknown.</li>")
        outside = sorted(((li["to"], r) for li in s.links_out for r in li["summary"] if not r["identity"]),
                         key=lambda x: -x[1]["confidence"])
        for to, r in outside[:3]:
            ev.append(f"<li>also linked to {esc(to)} (outside the chain) by {r['links']:,} {esc(r['type'])} "
                      f"link(s), confidence {r['confidence']:.2f}: {esc(r['reason'])}</li>")
        if len(outside) > 3:
            rest = ", ".join(sorted({f"{to} ({r['type']})" for to, r in outside[3:]}))
            ev.append(f"<li>{len(outside) - 3:,} more link group(s) outside the chain: {esc(rest)}</li>")
        when = esc(timestamp(s.time)) + (" (file time)" if s.unreliable_time else "")
        if s.end is not None and (s.end - s.time).total_seconds() >= 1:
            when += f" → {esc(timestamp(s.end))}"
        out.append(f"<li class='step'><span class='when'>{when} UTC</span> · {_sev(s.severity)} · "
                   f"<b>{esc(s.family)}</b>{' · ' + esc(s.service) if s.service else ''} · {esc(s.artifact)} "
                   f"({s.events:,} error/critical event(s))<br>{esc(s.headline)}"
                   f"<ul class='evidence'>{''.join(ev)}</ul></li>")
    out.append("</ol>")
    return "".join(out)


def page(title: str, meta: str, summary_html: str, chain: str, timeline_html: str, sections, questions,
         provenance_frame, method: list[str]) -> str:
    toc = ["<li><a href='#summary'>Summary</a></li>", "<li><a href='#chain'>Causal chain</a></li>",
           "<li><a href='#timeline'>Timeline</a></li>"]
    toc += [f"<li><a href='#{esc(s.anchor)}'>{esc(s.title)}</a></li>" for s in sections]
    toc += ["<li><a href='#questions'>Open questions</a></li>", "<li><a href='#provenance'>Appendix: provenance</a></li>",
            "<li><a href='#method'>Appendix: method</a></li>"]
    body = [f"<header><h1>{esc(title)}</h1><p class='meta'>{esc(meta)}</p></header>",
            f"<nav><ol>{''.join(toc)}</ol></nav>",
            f"<section id='summary'><h2>Summary</h2>{summary_html}</section>",
            f"<section id='chain'><h2>Causal chain</h2>{chain}</section>",
            f"<section id='timeline'><h2>Timeline</h2>{timeline_html}</section>"]
    for s in sections:
        body.append(f"<section id='{esc(s.anchor)}'><h2>{esc(s.title)}</h2>{blocks_html(s.blocks)}</section>")
    qs = "".join(f"<li>{esc(q)}</li>" for q in questions) or "<li class='none'>The evidence leaves no question of the kinds this report looks for (unlinked steps, weak links, unlinked warnings, load problems, file-time clocks, events outside the window).</li>"
    body.append(f"<section id='questions'><h2>Open questions</h2><ul>{qs}</ul></section>")
    body.append("<section id='provenance'><h2>Appendix: provenance</h2><p>Every file of the incident folder "
                "(paths relative to it), as opened read-only: size, SHA-256, what it was recognised as, the parser "
                "and where each event's time came from.</p><div class='scroll'>"
                + html_table(provenance_frame[["file", "size", "exact size (bytes)", "sha256"]], max_rows=None,
                             max_colwidth=64)
                + html_table(provenance_frame.drop(columns=["size", "exact size (bytes)", "sha256"]), max_rows=None,
                             max_colwidth=200) + "</div></section>")
    body.append("<section id='method'><h2>Appendix: method</h2><ul>"
                + "".join(f"<li>{esc(m)}</li>" for m in method) + "</ul></section>")
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{esc(title)}</title><style>{PAGE_CSS}{TABLE_CSS}</style></head>"
            f"<body class='mathjax_ignore tex2jax_ignore'>{''.join(body)}</body></html>")


def generated_note(inc, version: str) -> str:
    return (f"Incident folder {inc.name} · {len(inc.artifacts):,} file(s) · generated "
            f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC by forensics {version}")
