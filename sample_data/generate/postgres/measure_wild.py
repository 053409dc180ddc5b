"""Wild pg_stat_statements pastes: how many load with every labelled number right.

    .venv/bin/python sample_data/generate/postgres/measure_wild.py          # this tree
    PYTHONPATH=/tmp/old-tree .venv/bin/python sample_data/generate/postgres/measure_wild.py   # another commit

(`git archive COMMIT forensics | tar -x -C /tmp/old-tree` gives another commit's package.) Run from the repo root.
The pastes are third-party text, not committed (tests/postgres/wild/MANIFEST.tsv lists them); they are found
the way the tests find them (tests/support.py) and the script stops, saying how many are missing, without them.
"""
import json, sys, warnings
from pathlib import Path
import forensics
from forensics.postgres.load import load_pgss
from forensics.errors import ArtifactError
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests"))
import support  # noqa: E402
W = Path("tests/postgres/wild/pgss"); exp = json.loads((W / "expected.json").read_text())
found = support.wild_files("postgres", [f"pgss/{name}" for name in exp])
if len(found) < len(exp):
    sys.exit(support.missing_wild_reason("postgres", len(exp) - len(found), len(exp)))
ok = refused = wrong = 0
for name, want in sorted(exp.items()):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            s = load_pgss(found[f"pgss/{name}"]).statements
        except ArtifactError:
            refused += 1; continue
    good = len(s) == want["rows"] and list(s["calls"]) == want["calls"] and all(
        abs(a - b) < 1e-6 for a, b in zip(s["total_exec_time"], want["total_exec_time"]))
    ok += good; wrong += not good
print(f"{forensics.__file__.split('/forensics/')[0]}: {ok}/{len(exp)} right, {wrong} wrong, {refused} refused")
