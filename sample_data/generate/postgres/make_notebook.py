"""Write notebooks/03_slow_queries.ipynb (then run tools/nb_refresh.py on it).

    .venv/bin/python sample_data/generate/postgres/make_notebook.py
    .venv/bin/python tools/nb_refresh.py notebooks/03_slow_queries.ipynb
"""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO = Path(__file__).resolve().parents[3]
CHECK = "# NBVAL_CHECK_OUTPUT\n"

cells = [
    new_markdown_cell(
        "# Slow queries: which statements caused the incident?\n\n"
        "`pg_stat_statements` counts, per statement, how often it ran and how long it took — **since the last "
        "reset**, which may be weeks ago. This notebook takes two dumps of it (one from before the incident, one "
        "from after), in whatever form they were pasted (`\\copy` CSV, psql's table, `\\x` records, `-A` output, "
        "`json_agg`, a runbook query), works out what happened *between* them, and ranks the statements by the "
        "time they took, how often they ran, how long they spent planning, how much they spilled to disk and how "
        "often they missed the cache.\n\n"
        "Set the paths in the next cell to your own dumps (relative to this folder). The sample dumps come from a "
        "real PostgreSQL 15 running a workload with a known story (`sample_data/generate/postgres/generate.py`)."),
    new_code_cell(
        '# Dumps of pg_stat_statements: any form, any extension version (PostgreSQL 9.4 to 18).\n'
        'BEFORE = "../sample_data/postgres/before.csv"\n'
        'AFTER = "../sample_data/postgres/after.aligned.txt"\n'
        '# Optional pg_stat_statements_info dumps taken at the same moments (PostgreSQL 14+), or None.\n'
        'BEFORE_INFO = "../sample_data/postgres/before.info.csv"\n'
        'AFTER_INFO = "../sample_data/postgres/after.info.csv"\n'
        'MIN_BLOCKS = 1000   # hit ratio: only statements that touched at least this many 8 kB blocks\n'
        'TOP = 10', metadata={"tags": ["parameters"]}),
    new_code_cell(
        "import matplotlib.pyplot as plt\n"
        "import pandas as pd\n\n"
        "from forensics.postgres.analysis import cumulative_vs_interval, delta, rank, worst_by_measure\n"
        "from forensics.postgres.load import load_pgss\n"
        "from forensics.postgres import plots\n\n"
        "pd.set_option('display.max_colwidth', 70)\n"
        "pd.set_option('display.width', 160)"),
    new_markdown_cell(
        "## Load\n\nEach dump becomes the same table: one row per statement entry, with the column names of the "
        "newest extension version (older names such as `total_time` are renamed; columns an old version did not "
        "have are left empty, not zero). The loader says which form it read and which extension version the "
        "columns match."),
    new_code_cell(
        CHECK +
        "before = load_pgss(BEFORE, info=BEFORE_INFO)\n"
        "after = load_pgss(AFTER, info=AFTER_INFO)\n"
        "for d in (before, after):\n"
        "    print(f\"{d.provenance.path.rsplit('/', 1)[-1]}: {d.form}, extension {d.version.version} \"\n"
        "          f\"(PostgreSQL {d.version.servers}), {len(d.statements)} entries, \"\n"
        "          f\"{len(d.provenance.warnings)} warnings\")"),
    new_markdown_cell(
        "## Cumulative or interval?\n\n"
        "The *after* dump alone mixes the incident with everything since the last reset: here the nightly "
        "revenue report, run 40 times before the incident, still tops the cumulative totals. Subtracting the "
        "*before* dump leaves only what ran during the incident, and there the order-history lookup is far "
        "ahead. **Trust the interval**: it is the only view that describes the incident window. (Entries that "
        "first appeared during the interval are kept whole and flagged `is_new`; a counter that went *down* — a "
        "reset, or an entry evicted and back — is kept whole and warned about, never turned into a negative.)"),
    new_code_cell(CHECK + "cumulative_vs_interval(before, after, top=5)"),
    new_code_cell(
        "interval = delta(before, after)\n"
        "ranked = rank(interval, by='total_exec_time')\n"
        "ranked[['rank', 'query', 'calls', 'total_exec_time', 'mean_exec_time', 'share', 'cum_share', 'is_new']].head(TOP)"),
    new_markdown_cell(
        "## How few statements explain the time\n\n"
        "Blue bars are each statement's share of the interval's execution time; the red line adds them up. "
        "When the line crosses 80% after one or two bars, those one or two statements *are* the incident. Grey "
        "bars are nested statements (run inside a function or procedure): their time is already part of their "
        "caller's, so they add nothing to the red line — counting them again would inflate the total."),
    new_code_cell("plots.pareto(ranked, top=TOP)\nplt.show()"),
    new_markdown_cell(
        "## The worst statement by each measure\n\n"
        "* **total_exec_time** — where the database's time went;\n"
        "* **calls** — what ran most often (an N+1 loop shows up here, not in time);\n"
        "* **total_plan_time** — planning, which execution time does not include;\n"
        "* **temp_blks_written** — sorts and hashes that spilled to disk past `work_mem`;\n"
        "* **hit_ratio** (lowest first) — how often the data was *not* in shared buffers."),
    new_code_cell(
        CHECK +
        "worst = worst_by_measure(interval, min_blocks=MIN_BLOCKS)\n"
        "pd.DataFrame({'measure': worst['measure'],\n"
        "              'worst statement': [plots.short(q, 60) if pd.notna(q) else '—' for q in worst['query']],\n"
        "              'findings': [', '.join(f.split(':')[0] for f in fs) or n for fs, n in zip(worst['findings'], worst['note'])]})"),
    new_markdown_cell(
        "## Mean time against calls\n\n"
        "Each dot is a statement; its area is its total time, and the dotted diagonals are equal total time. "
        "Far right and low: cheap statements run very often (the N+1 page). High up: slow statements — a few "
        "runs of a report, or many runs of a lookup that scans instead of using an index."),
    new_code_cell("plots.mean_vs_calls(interval)\nplt.show()"),
    new_markdown_cell(
        "## Findings in plain words\n\n"
        "Each finding comes from a documented threshold (`forensics.postgres.findings.THRESHOLDS`) — e.g. "
        "*missing index* means more than 1,000 blocks read per call and more than 100 per row returned, where an "
        "index lookup touches about 4. They are hints to confirm with `EXPLAIN (ANALYZE, BUFFERS)`, not verdicts."),
    new_code_cell(
        CHECK +
        "for _, r in rank(interval, by='elapsed').iterrows():\n"
        "    for f in r['findings']:\n"
        "        code, text = f.split(': ', 1)\n"
        "        print(f\"#{r['rank']:<2} {plots.short(r['query'], 50):<50}  {code}\")"),
    new_code_cell(
        "for _, r in rank(interval, by='elapsed').head(6).iterrows():\n"
        "    print(f\"#{r['rank']} {plots.short(r['query'], 90)}\")\n"
        "    for f in r['findings']:\n"
        "        print('    -', f)"),
    new_markdown_cell(
        "## Same statement, several queryids\n\n"
        "`queryid` depends on the server and even on parameter types: the driver here sent small numbers as "
        "`int2` and large ones as `int8`, so one range query got three queryids. Grouping by the pglast "
        "fingerprint of the text puts them back together (and matches statements across servers or against "
        "logs). Texts that do not parse are kept, with `fingerprint_ok = False`."),
    new_code_cell(
        CHECK +
        "g = rank(interval, by='total_exec_time', group='fingerprint')\n"
        "g.loc[g['entries'] > 1, ['query', 'entries', 'queryids', 'calls']]"
        ".assign(query=lambda x: x['query'].map(lambda q: plots.short(q, 50)))"),
    new_markdown_cell("## Explore\n\nPick a measure to rank the interval by."),
    new_code_cell("plots.measure_picker(interval, min_blocks=MIN_BLOCKS, top=TOP)"),
    new_markdown_cell(
        "## What to check next\n\n"
        "1. Run `EXPLAIN (ANALYZE, BUFFERS)` on the top statement with realistic parameters: a `Seq Scan` with a "
        "selective filter confirms the missing index (`CREATE INDEX CONCURRENTLY ...`).\n"
        "2. For the N+1 statement, find the code path that loops (application traces show one span per call) "
        "and batch it with `= ANY($1)` or a join.\n"
        "3. For spills, compare `temp_blks_written` per call with `work_mem`; raise it for that role or query, "
        "or reduce the rows sorted.\n"
        "4. For a low hit ratio, check the table's size against `shared_buffers` and whether the scan is needed.\n"
        "5. For plan-heavy statements, use prepared statements or lower `join_collapse_limit`.\n"
        "6. Failing statements (planned, never completed) are in the server log, not in pg_stat_statements.\n\n"
        "The same ranking from a shell: `forensics pgss rank AFTER --baseline BEFORE --by calls --format json`."),
]

nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                         "language": "python"}})
nbformat.write(nb, REPO / "notebooks" / "03_slow_queries.ipynb")
print("wrote notebooks/03_slow_queries.ipynb")
