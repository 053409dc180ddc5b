"""Write notebooks/02_dependency_map.ipynb with nbformat, then run tools/nb_refresh.py on it.

    .venv/bin/python sample_data/generate/traces/make_notebook.py
    .venv/bin/python tools/nb_refresh.py notebooks/02_dependency_map.ipynb
"""
import os

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
md, code = new_markdown_cell, new_code_cell

cells = [
    md("""# Dependency map: which services call which, and where the time goes

This notebook reads a trace export — a Jaeger UI download (`{"data": [...]}`), an `/api/traces/{id}`
response, Jaeger api_v2 proto-JSON, OTLP JSON (also `{"result": ...}` from Jaeger's api_v3, or the
OTel Collector's JSON Lines) or Zipkin v2 — and answers, in order:

1. **Who calls whom?** The service map, drawn from the parent/child links between spans.
2. **Which requests were slow, and why?** The slowest traces, and the *critical path* of one of them:
   the chain of work that the request actually waited for, computed as Jaeger UI does.
3. **Where is the time spent?** Self time per service: time inside a service's own spans, not waiting
   for the services it called.
4. **What explains the failures?** The error that appears in the failing traces and not in the others.

The sample is a small checkout system (frontend, auth, recommend, orders, inventory, a queue worker and a
real PostgreSQL) instrumented with the OpenTelemetry SDK; see `sample_data/generate/traces/`."""),
    md("## Parameters\n\nThe trace file to read, relative to this notebook. Any of the shapes above works."),
    code('trace_file = "../sample_data/traces/checkout.jaeger.json"', metadata={"tags": ["parameters"]}),
    code("""%matplotlib inline
import matplotlib
import matplotlib.pyplot as plt
import pandas as pd

from forensics.traces import load_traces
from forensics.traces import analysis, plots
from forensics.traces.critical_path import critical_path

pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 60)"""),
    md("""## Load

The loader decides the shape from the content, builds the trace trees the way Jaeger UI does (a span's
parent is its first reference found in the trace; spans whose parent is missing become extra roots and are
counted as *orphans*), and records the file's SHA-256 with every table. Clock skew — a child that starts
before its parent, or ends after it although it is synchronous — is listed, never silently corrected."""),
    code("""# NBVAL_CHECK_OUTPUT
ts = load_traces(trace_file)
print("shapes:", ts.shapes)
print("traces:", ts.spans["trace_id"].nunique(), " spans:", len(ts.spans), " services:", sorted(ts.spans["service"].unique()))
print("orphans:", len(ts.orphans), " children outside their parent:", len(ts.skew), " load warnings:", len(ts.provenance.warnings))"""),
    md("""## The service map

Each arrow is a call from one service to another: a span whose parent span belongs to a different service.
The arrow's **width** is the number of calls, its **colour** the share of those calls that failed; node size
is the number of spans. A retried call shows up as more calls than requests (orders → inventory here)."""),
    code("""graph = analysis.dependency_graph(ts)
plots.plot_service_map(graph)
plt.show()"""),
    code("""# NBVAL_CHECK_OUTPUT
deps = analysis.dependencies(ts)
print(deps.to_string(index=False))"""),
    md("""## The slowest traces

One row per trace: the root span's service and operation, the trace's wall-clock duration, how many spans
and services it touched, and whether its root failed."""),
    code("""# NBVAL_CHECK_OUTPUT
summary = analysis.trace_summary(ts)
print(summary[["trace_id", "root_operation", "duration_us", "spans", "errors", "root_error"]].head(8).to_string(index=False))"""),
    md("""## The critical path of one trace

Pick a trace (the slowest first). Each bar is a span, indented by depth and coloured by service; a red
outline marks an error. The **black** segments are the critical path: at each span, the child that finished
last is what the span waited for; stepping back from there to the sibling that finished before it started,
and so on. Work that ran in parallel off the path (here `recommend`, beside `orders`) could be slower without
making the request slower. Messages handed to the queue worker are not on the path: a consumer does not hold
up its producer."""),
    code("""picker = plots.trace_picker(ts, summary["trace_id"].head(10))
picker"""),
    md("The same chart for the slowest trace, drawn directly (so it also appears in headless runs and reports):"),
    code("""plots.plot_gantt(ts.trace(summary["trace_id"].iloc[0]))
plt.show()"""),
    code("""# NBVAL_CHECK_OUTPUT
slowest = summary["trace_id"].iloc[0]
cp = critical_path(ts, slowest)
by_span = (cp.groupby(["service", "operation"], sort=False)["duration_us"].sum().sort_values(ascending=False))
print(f"critical path of {slowest}: {cp['duration_us'].sum()} µs in {len(cp)} sections")
print(by_span.head(6).to_string())"""),
    md("""## Where the time is spent

*Self time* is a span's duration minus the time its children covered: the work a service did itself.
Summed per service it tells you whose code (or database) to look at. The second table is the share of all
critical-path time each service owns — time that requests really waited for."""),
    code("""stats = analysis.service_stats(ts)
plots.plot_self_time(stats)
plt.show()"""),
    code("""# NBVAL_CHECK_OUTPUT
print(stats[["service", "spans", "errors", "error_rate", "self_us", "self_share"]].round(3).to_string(index=False))
print()
print(analysis.critical_share(ts).round(3).to_string(index=False))"""),
    code("""# Per operation, like Jaeger UI's trace statistics table (over all loaded traces)
analysis.operation_stats(ts).head(10)"""),
    md("""## What explains the failures

A trace *fails* when its root span is an error. For every error signature (service, operation, message):
how many failing traces hold it (coverage) and how many of the traces that hold it failed (precision).
Errors with precision 0 happened in requests that still succeeded — retried or asynchronous work."""),
    code("""# NBVAL_CHECK_OUTPUT
errors = analysis.error_correlation(ts)
show = errors.assign(message=errors["message"].str.split("\\n").str[0].str.slice(0, 50))
print(show[["service", "operation", "message", "failing_traces", "ok_traces", "coverage", "precision"]].to_string(index=False))"""),
    md("""## Failing versus succeeding requests

Spans of the two groups matched by their path of service/operation from the root. Jaeger UI's trace
comparison shows counts only; here each path also has its mean duration in both groups. `only_a` rows
are steps the failing requests never reached."""),
    code("""ok_ids = summary.loc[~summary["root_error"], "trace_id"]
bad_ids = summary.loc[summary["root_error"], "trace_id"]
diff = analysis.compare(ts.spans[ts.spans["trace_id"].isin(ok_ids)], ts.spans[ts.spans["trace_id"].isin(bad_ids)])
diff[["path", "count_a", "count_b", "mean_us_a", "mean_us_b", "change"]]"""),
    md("""## Trace shape and network time (jaeger-analytics' metrics)

Depth and service depth per trace, and — where both the client and the server are instrumented — the gap
between a client span and its server span: the time on the wire and in the server's HTTP stack. A negative
gap would mean the two hosts' clocks disagree."""),
    code("""gaps = analysis.network_gaps(ts)
gaps.groupby(["client_service", "server_service"])[["request_gap_us", "response_gap_us"]].median()"""),
    md("""## Conclusions

The sentences below are computed from the loaded file, so they change when you point the notebook at
another export."""),
    code("""# NBVAL_CHECK_OUTPUT
for line in analysis.findings(ts):
    print("-", line)"""),
    md("""**Reading the sample.** Checkout requests spend most of their waiting time in `orders` and
`inventory`: the order service waits for the inventory reservation, which is retried after a 503, and then
for its PostgreSQL insert. The recommendation call runs in parallel and is almost never on the critical
path, so making it faster would not help. Failed checkouts are all explained by one error — the inventory
shard returning *inventory shard unavailable* — while the 503s and the worker's database error happen in
requests that still succeed (retried, or asynchronous after the response). Next steps: look at the
inventory service's shard around the failing traces' times, and at why every third reservation needs a
retry."""),
]

nb = new_notebook(cells=cells, metadata={
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"}})
path = os.path.join(ROOT, "notebooks", "02_dependency_map.ipynb")
nbformat.write(nb, path)
print("wrote", path)
