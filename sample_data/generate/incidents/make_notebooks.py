"""Write notebooks/00_incident_overview.ipynb and notebooks/training/incident_replay.ipynb with nbformat.

    .venv/bin/python sample_data/generate/incidents/make_notebooks.py
    .venv/bin/python tools/nb_refresh.py notebooks/00_incident_overview.ipynb notebooks/training/incident_replay.ipynb
"""
import os

import nbformat as nbf

NOTEBOOKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "notebooks")
md = nbf.v4.new_markdown_cell


def code(src, tags=None):
    c = nbf.v4.new_code_cell(src)
    if tags:
        c.metadata["tags"] = tags
    return c


def write(cells, path):
    nb = nbf.v4.new_notebook()
    nb.cells = cells
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbf.write(nb, path)


overview = [
    md("# Incident overview\n\nOne incident, every artifact side by side: what loaded, one timeline of events from all of "
       "them (in UTC), and the links between artifacts that speak of the same thing. Change `incident` below to any "
       "folder of artifacts (an `incident.toml` manifest is optional)."),
    code('incident = "../sample_data/incidents/checkout-latency"  # a folder of artifacts', tags=["parameters"]),
    code("%matplotlib inline\nimport html\n\nimport matplotlib\nimport matplotlib.pyplot as plt\nimport pandas as pd\n"
         "from IPython.display import HTML, display\n\nimport forensics\n"
         "from forensics.incident_plots import plot_timeline, replay_picker, timeline_html\n\n"
         "inc = forensics.open_incident(incident)"),
    code("# NBVAL_CHECK_OUTPUT\nprint(inc)"),
    md("## What loaded\n\nEach file of the folder, what it was recognised as (from its content, not its name), and "
       "whether it loaded. A file that failed does not stop the others; its error says where and why. "
       "`warnings` counts places where a loader skipped something."),
    code('inc.load_report[["file", "kind", "artifact_kind", "status", "warnings", "error", "size"]]'),
    md("## The story so far\n\nThe manifest's summary and time window (all artifacts share one clock)."),
    code('start, end = inc.window\ndisplay(HTML(f"<p><b>{html.escape(inc.title)}</b></p><p>{html.escape(inc.summary)}</p>"\n'
         '             f"<p>Window: {start} → {end} ({(end - start).total_seconds():.0f} s)</p>"))'),
    md("## Timeline\n\nOne lane per service and artifact kind. Marker shape is the event kind (retransmissions, resets, "
       "error and slow spans, query findings, heap growth, crashes), colour its severity; a faded bar shows how long "
       "a burst lasted. Dotted vertical lines are events the manifest records (a deploy, a kill). Read it left to "
       "right: the first severe marker is usually not the cause — look for what changed just before it."),
    code("fig = plot_timeline(inc)\nplt.show()"),
    md("How many events of each kind each artifact contributed:"),
    code('inc.timeline.groupby(["artifact_kind", "kind"]).size().rename("events").to_frame()'),
    code('# NBVAL_CHECK_OUTPUT\n# which kinds of event each artifact kind contributed (counts above depend on detector tuning)\n'
         'for (ak, k), _ in inc.timeline.groupby(["artifact_kind", "kind"]):\n    print(f"{ak:20s} {k}")'),
    md("The most severe events, in time order (every row points back to its source rows through `ref` and "
       "`source_rows`):"),
    code('from forensics.incident_timeline import key_events\n\n'
         'display(HTML(timeline_html(key_events(inc.timeline, 25))))'),
    md("## Links between artifacts\n\nRows of different artifacts that speak of the same thing, each with how sure the "
       "link is (0–1) and why: endpoints (ip:port → service), flows with retransmissions ↔ the spans that were in "
       "flight, db spans ↔ pg_stat_statements rows (same statement fingerprint), a crash ↔ what failed just before "
       "it, heap growth ↔ GC pauses and slow spans, resets ↔ failed calls."),
    code('# NBVAL_CHECK_OUTPUT\nprint("link types found:", ", ".join(sorted(inc.links_frame["link"].unique())))'),
    code('lf = inc.links_frame.sort_values("confidence", ascending=False)\n'
         'display(HTML(lf.groupby("link").head(3)[["link", "confidence", "reason", "a_kind", "a_ref", "b_kind", "b_ref"]]'
         '.to_html(index=False, escape=True)))'),
    md("## Replay\n\nDrag the slider to see the events up to a moment of the incident (in a live notebook)."),
    code("replay_picker(inc)"),
    md("## Where to go next\n\nEach artifact kind has a notebook that goes deeper. The ones that apply here:"),
    code('from forensics.incident import NOTEBOOKS\n\nfor kind, nb in NOTEBOOKS.items():\n'
         '    files = [a.file for a in inc.loaded(kind)]\n    if files:\n'
         '        print(f"{nb:28s} for {kind}: {\', \'.join(files)}")\n'
         'print("training/incident_replay.ipynb  to replay this incident as an exercise")'),
    md("`forensics report FOLDER -o report.html` runs this notebook and the ones above on the incident and writes one "
       "self-contained HTML report, with a provenance appendix (every artifact's size, SHA-256 and parser)."),
]

training = [
    md("# Incident replay (training)\n\nReplay a staged incident step by step, the way an on-call engineer would meet "
       "it, then answer the questions. Answers are checked when you press *Check* (they are not shown first); each "
       "question has a hint; the debrief opens when every answer is right. Set `auto_answer = True` to fill in "
       "the answers (used by the test suite)."),
    code('incident = "../../sample_data/incidents/checkout-latency"\nauto_answer = False', tags=["parameters"]),
    code("%matplotlib inline\nimport html\n\nimport matplotlib.pyplot as plt\nfrom IPython.display import HTML, display\n\n"
         "import forensics\nfrom forensics.incident_plots import plot_timeline, replay_picker, timeline_html\n"
         "from forensics.incident_training import Quiz\n\ninc = forensics.open_incident(incident)\n"
         "tl = inc.timeline"),
    code("# NBVAL_CHECK_OUTPUT\nprint(inc.title)"),
    md("## Step 0 — the page\n\nThis is all you know when you are paged:"),
    code('start, end = inc.window\ndisplay(HTML(f"<blockquote>{html.escape(inc.summary)}</blockquote>"\n'
         '             f"<p>Window: {start:%H:%M:%S} → {end:%H:%M:%S} UTC</p>"))'),
    md("## Step 1 — what evidence you have\n\nThe files someone collected, and whether each one loaded."),
    code('inc.load_report[["file", "artifact_kind", "status", "warnings"]]'),
    md("## Step 2 — what users saw (traces)\n\nError spans and slow spans, grouped in bursts per service and "
       "operation. Which came first, and what do the error messages say?"),
    code('display(HTML(timeline_html(tl[tl["artifact_kind"] == "traces"], max_rows=20)))'),
    md("## Step 3 — the network (packet captures)\n\nRetransmission bursts and resets per TCP stream. Is the network "
       "the cause, or a bystander? Compare the times with step 2."),
    code('display(HTML(timeline_html(tl[tl["artifact_kind"] == "pcap"], max_rows=20)))'),
    md("## Step 4 — the database (pg_stat_statements)\n\nFindings for the interval between the two snapshots: only "
       "what ran *during* the incident counts."),
    code('display(HTML(timeline_html(tl[tl["artifact_kind"] == "pg_stat_statements"], max_rows=20)))'),
    md("## Step 5 — memory (heap snapshots) and the crash\n\nWhat grew between heap snapshots, and what the crashed "
       "process died of."),
    code('display(HTML(timeline_html(tl[tl["kind"].isin(["heap-growth", "gc-pause", "crash", "note"])], max_rows=30)))'),
    md("## Step 6 — everything on one clock\n\nThe whole timeline, and the links the workbench found between "
       "artifacts (with how sure each one is)."),
    code("fig = plot_timeline(inc)\nplt.show()"),
    code('lf = inc.links_frame.sort_values("confidence", ascending=False)\n'
         'display(HTML(lf.groupby("link").head(2)[["link", "confidence", "reason"]].to_html(index=False, escape=True)))'),
    code("replay_picker(inc)"),
    md("## Questions\n\nPick an answer and press *Check*. Stuck? Press *Hint*."),
    code("quiz = Quiz(inc, auto_answer=auto_answer)\nquiz.widget()"),
    code('# NBVAL_CHECK_OUTPUT\nright, total = quiz.score()\nprint(f"{total} questions; {right} answered correctly so far")'),
    md("## Debrief\n\nOpens once every answer is right (run this cell again after answering)."),
    code('text = quiz.debrief()\ndisplay(HTML(f"<p>{html.escape(text)}</p>" if text else '
         '"<p><i>Answer every question correctly, then run this cell again.</i></p>"))'),
]

write(overview, os.path.join(NOTEBOOKS, "00_incident_overview.ipynb"))
write(training, os.path.join(NOTEBOOKS, "training", "incident_replay.ipynb"))
print("wrote notebooks")
