"""Which sections of the crash triage notebook run when inputs are missing (an incident has one transcript)."""
import os
import shutil
import warnings

import matplotlib

matplotlib.use("Agg")

from forensics.crashes import plots  # noqa: E402

from support import SAMPLE  # noqa: E402

SAMPLES = str(SAMPLE / "crashes")

FILE = "worker_crash__g-O0__cmds.txt"
SAME_BUG = ("double_free__g-O0__cmds.txt", "double_free__nog-O2__live.txt")
DIFFERENT_BUGS = ("strlen_greet__g-O0__cmds.txt", "strlen_header__g-O0__cmds.txt")


def _one_transcript(tmp_path):
    shutil.copy(os.path.join(SAMPLES, FILE), tmp_path / FILE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return plots.load_transcripts(tmp_path)


def test_sample_defaults_run_every_section(crash_set):
    why = plots.sections(crash_set, FILE, SAME_BUG, DIFFERENT_BUGS)
    assert why and all(v is None for v in why.values())


def test_no_folder_skips_everything_with_a_sentence(capsys):
    cs = plots.load_transcripts(None)
    assert cs.crashes.empty
    why = plots.sections(cs, None, None, None)
    assert all(isinstance(v, str) and v.startswith("Skipped") for v in why.values())
    assert plots.runs(why, "classes") is False
    assert capsys.readouterr().out.strip() == why["classes"]
    plots.next_steps(cs.crashes)  # an empty table, no error


def test_one_transcript_as_an_incident_gives_it(tmp_path, capsys):
    cs = _one_transcript(tmp_path)
    why = plots.sections(cs, FILE, None, None)
    for section in ("table", "classes", "buckets", "stack", "stack_picker", "next_steps"):
        assert why[section] is None, section
    assert "SAME_BUG" in why["pairs"] and "two transcripts" in why["pair_picker"]
    assert why["suggestions"]
    assert plots.runs(why, "stack") and capsys.readouterr().out == ""
    assert not plots.crash_stack(cs.frames, FILE).empty
    plots.class_counts(cs.crashes)
    plots.stack_picker(cs)  # builds headless


def test_file_and_pairs_not_loaded(tmp_path):
    cs = _one_transcript(tmp_path)
    why = plots.sections(cs, "nope.txt", SAME_BUG, None)
    assert "nope.txt" in why["stack"]
    assert "double_free__g-O0__cmds.txt" in why["pairs"] and "not among the loaded" in why["pairs"]
    assert plots.pair_problem(cs, ("a",), "SAME_BUG").startswith("Skipped SAME_BUG: it should name exactly two")


def test_explain_pairs_matches_the_sample_text_and_skips_missing(crash_set):
    from forensics.crashes.bucket import explain_shared_bucket

    text = plots.explain_pairs(crash_set, SAME_BUG=SAME_BUG, DIFFERENT_BUGS=DIFFERENT_BUGS)
    assert text == (explain_shared_bucket(crash_set.crashes, *SAME_BUG) + "\n\n"
                    + explain_shared_bucket(crash_set.crashes, *DIFFERENT_BUGS))
    partial = plots.explain_pairs(crash_set, SAME_BUG=SAME_BUG, DIFFERENT_BUGS=None)
    assert partial.endswith("Skipped DIFFERENT_BUGS: no pair of files was given.")
    assert plots.sections(crash_set, FILE, SAME_BUG, None)["pairs"] is None
