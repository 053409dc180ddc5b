"""Write notebooks/04_crash_triage.ipynb (then run tools/nb_refresh.py on it)."""
import os

import nbformat as nbf

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "..", "notebooks", "04_crash_triage.ipynb")

md = nbf.v4.new_markdown_cell
code = nbf.v4.new_code_cell

cells = [
    md("# Crash triage: what killed each process, and which crashes are the same bug\n\n"
       "Point this notebook at a folder of **gdb text output** — `gdb -batch -x cmds BINARY CORE` transcripts, plain "
       "`bt`, `thread apply all bt full` dumps, live `gdb -ex run` sessions or `gdb -p PID` snapshots of a hung "
       "process. For each file it says what the process died of (the *class*), where the signal came from, which "
       "thread crashed and in whose code, and it groups files that are the same bug into *buckets*.\n\n"
       "The sample folder holds real transcripts of small C/C++ programs that crash in every class "
       "(see `sample_data/generate/crashes/`)."),
    code('TRANSCRIPTS = "../sample_data/crashes"        # a folder of gdb transcripts\n'
         'FILE = "worker_crash__g-O0__cmds.txt"            # a file whose stack to show\n'
         'SAME_BUG = ("double_free__g-O0__cmds.txt", "double_free__nog-O2__live.txt")\n'
         'DIFFERENT_BUGS = ("strlen_greet__g-O0__cmds.txt", "strlen_header__g-O0__cmds.txt")\n'
         '# Any of these may be None (an incident report has one transcript and no sample pairs):\n'
         '# the sections that need it then say they were skipped.',
         metadata={"tags": ["parameters"]}),
    code("import warnings\n\nimport matplotlib\nimport pandas as pd\n\n"
         "from forensics.crashes import plots\n\n"
         "pd.set_option(\"display.max_colwidth\", 80)\n"
         "with warnings.catch_warnings():\n    warnings.simplefilter(\"ignore\")   # load warnings are kept in each file's provenance\n"
         "    cs = plots.load_transcripts(TRANSCRIPTS)\n"
         "why = plots.sections(cs, FILE, SAME_BUG, DIFFERENT_BUGS)   # section -> None, or why it is skipped"),
    code("# NBVAL_CHECK_OUTPUT\n"
         "print(f\"{len(cs.crashes)} transcripts loaded, {len(cs.errors)} refused, \"\n"
         "      f\"{cs.crashes['class'].nunique()} classes, {len(cs.buckets)} buckets\")"),
    md("## The crash table\n\nOne row per file. **origin** says where the signal came from: `kernel` (a real fault), "
       "`self` (the program raised it — abort, assert, glibc checks), `external` (another process sent it, e.g. "
       "`timeout -s ABRT` or a watchdog) or `snapshot` (gdb attached to a live process: no signal at all). "
       "**top_own_frame** is the first frame in the program's own code once libc, allocator, assert and lock-wait "
       "frames are dropped."),
    code("plots.crash_table(cs.crashes).head(25) if plots.runs(why, \"table\") else None"),
    md("## Classes\n\nWhat the processes died of, coloured by the exploitability hint (CERT `exploitable`/CASR "
       "tradition: *exploitable*, *probably*, *probably not*, *unknown*)."),
    code("# NBVAL_CHECK_OUTPUT\nif plots.runs(why, \"classes\"):\n"
         "    print(cs.crashes[\"class\"].value_counts().sort_index().to_string())"),
    code("if plots.runs(why, \"classes\"):\n    plots.class_counts(cs.crashes)"),
    md("## Buckets\n\nFiles in one bucket are the same bug: same class family and same first own frame (for hangs: "
       "the own frames of the threads blocked on locks; without symbols: `program@page-offset`). "
       "The **why** column names the frame that keyed the bucket and the frames dropped above it."),
    code("# NBVAL_CHECK_OUTPUT\nif plots.runs(why, \"buckets\"):\n"
         "    print(cs.buckets[[\"bucket\", \"n_files\", \"class\"]].head(12).to_string(index=False))"),
    code("if plots.runs(why, \"buckets\"):\n    plots.bucket_sizes(cs.buckets)"),
    md("## The crash thread's stack\n\nThe stack of the thread that got the signal. `is_own` marks the program's "
       "code; `repeat` says how many identical frames a row stands for (runaway recursion is collapsed). "
       "Pick any file in the widget below."),
    code("# NBVAL_CHECK_OUTPUT\nif plots.runs(why, \"stack\"):\n"
         "    print(plots.crash_stack(cs.frames, FILE)[[\"frame\", \"norm_function\", \"is_own\", \"repeat\"]].to_string(index=False))"),
    code("plots.stack_picker(cs) if plots.runs(why, \"stack_picker\") else None"),
    md("## Why two files share a bucket (or do not)\n\nThe same double free built at `-O0` with debug info and at "
       "`-O2` without it lands in one bucket; two different bugs that both die inside `strlen` do not."),
    code("# NBVAL_CHECK_OUTPUT\nif plots.runs(why, \"pairs\"):\n"
         "    print(plots.explain_pairs(cs, SAME_BUG=SAME_BUG, DIFFERENT_BUGS=DIFFERENT_BUGS))"),
    code("plots.bucket_pair_picker(cs) if plots.runs(why, \"pair_picker\") else None"),
    md("## Possible merges (never applied)\n\nA fuzzy score over the normalised own frames (CASR's position-dependent "
       "model) *suggests* buckets that may be one bug. Nothing is merged automatically — review them."),
    code("cs.suggestions.head(10) if plots.runs(why, \"suggestions\") else None"),
    md("## What to do next, per class"),
    code("plots.next_steps(cs.crashes) if plots.runs(why, \"next_steps\") else None"),
]
nb = nbf.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                "language": "python"}})
nbf.write(nb, OUT)
print(OUT)
