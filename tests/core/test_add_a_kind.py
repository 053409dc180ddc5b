"""CONTRIBUTING.md's "Adding an artifact kind", followed for a toy kind: one entry + its subpackage.

The toy kind ("toy-log": text files whose first line is ``TOYLOG 1``) lives in a package written to a
temporary folder; nothing in forensics is edited. Its entry alone makes detect, load, the CLI,
the loader safety net and an incident's load report, timeline and notebooks know it.
"""
import json
import sys
import textwrap

import pytest

import forensics
from forensics import kinds
from forensics.cli import main

TOY = {
    "__init__.py": '"""Toy logs: ``TOYLOG 1`` then ``<ISO time> <level> <text>`` lines."""\n',
    "sniff.py": textwrap.dedent('''
        def sniff(head):
            if head.startswith(b"TOYLOG 1\\n"):
                return "toylog v1", "'TOYLOG 1' first line"
            return None
        '''),
    "load.py": textwrap.dedent('''
        from dataclasses import dataclass
        import pandas as pd
        from forensics.artifact import open_readonly, provenance_for
        from forensics.errors import ArtifactError

        @dataclass
        class ToyLog:
            lines: pd.DataFrame
            provenance: object

        def load_toy(path, **options):
            prov = provenance_for(path, parser="toykind")
            with open_readonly(path) as f:
                text = f.read().decode("utf-8", "replace").splitlines()[1:]
            rows = []
            for n, line in enumerate(text, 2):
                if line == "BOOM":
                    raise ValueError("a defect the loader's author did not foresee")
                parts = line.split(" ", 2)
                if len(parts) != 3:
                    prov.warn(f"line {n}", "not '<time> <level> <text>'")
                    continue
                rows.append({"time": pd.Timestamp(parts[0]), "level": parts[1], "text": parts[2]})
            if not rows and text:
                raise ArtifactError(path, "line 2", "no toy log lines")
            df = pd.DataFrame(rows, columns=["time", "level", "text"])
            return ToyLog(prov.attach(df), prov)
        '''),
    "timeline.py": textwrap.dedent('''
        import pandas as pd

        def events(result):
            bad = result.lines[result.lines["level"] == "ERROR"]
            return pd.DataFrame({"time": bad["time"], "end": bad["time"], "kind": "toy-error",
                                 "severity": "error", "detail": bad["text"], "ref": bad.index.astype(str),
                                 "source_rows": [[int(i)] for i in bad.index]})
        '''),
    "cli.py": textwrap.dedent('''
        def cmd_lines(args):
            from .load import load_toy
            return load_toy(args.file).lines.assign(time=lambda d: d["time"].astype(str))

        def register(sub, common):
            p = sub.add_parser("toy", help="toy logs")
            s = p.add_subparsers(dest="toy_command", required=True)
            q = s.add_parser("lines", parents=[common])
            q.add_argument("file")
            q.set_defaults(func=cmd_lines)
        '''),
}

GOOD = "TOYLOG 1\n2026-11-26T06:10:50Z INFO started\n2026-11-26T06:10:53Z ERROR disk full\n"


@pytest.fixture
def toy_kind(tmp_path, monkeypatch):
    pkg = tmp_path / "site" / "toykind"
    pkg.mkdir(parents=True)
    for name, text in TOY.items():
        (pkg / name).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    saved = list(kinds.KINDS)
    # the one entry (what CONTRIBUTING says to add to forensics/kinds.py)
    kinds.add(kinds.Kind("toy-log", "crashes", "toy log (first line TOYLOG 1)", loader="toykind.load:load_toy",
                         cli="toykind.cli", sniff="toykind.sniff:sniff", timeline="toykind.timeline:events"))
    yield tmp_path
    kinds.KINDS[:] = saved
    for mod in [m for m in sys.modules if m == "toykind" or m.startswith("toykind.")]:
        del sys.modules[mod]


def test_detect_load_and_kinds_view(toy_kind):
    p = toy_kind / "app.log"
    p.write_text(GOOD)
    assert forensics.detect(p) == "toy-log"
    assert forensics.sniff(p).format == "toylog v1"
    assert "toy-log" in forensics.KINDS and "toy-log" in forensics.registry.LOADERS
    r = forensics.load(p)
    assert list(r.lines["level"]) == ["INFO", "ERROR"]
    assert r.provenance.kind == "toy-log" and r.lines.attrs["provenance"]["sha256"] == r.provenance.sha256


def test_cli_group_comes_from_the_entry(toy_kind, capsys):
    p = toy_kind / "app.log"
    p.write_text(GOOD)
    assert main(["toy", "lines", str(p), "--format", "json"]) == 0
    assert [r["text"] for r in json.loads(capsys.readouterr().out)] == ["started", "disk full"]
    assert main(["info", str(p), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["kind"] == "toy-log"


def test_safety_net_turns_a_loader_defect_into_an_artifact_error(toy_kind):
    p = toy_kind / "bad.log"
    p.write_text("TOYLOG 1\nBOOM\n")
    with pytest.raises(forensics.ArtifactError) as e:
        forensics.load(p)
    assert e.value.path == str(p) and "toy-log loader" in str(e.value) and "ValueError" in str(e.value)
    q = toy_kind / "empty.log"
    q.write_text("TOYLOG 1\nnonsense\n")
    with pytest.raises(forensics.ArtifactError, match="no toy log lines"):
        forensics.load(q)


def test_the_entry_is_validated():
    with pytest.raises(ValueError, match="family"):
        kinds.add(kinds.Kind("x", "nonsense", "x", loader="m:f"))
    with pytest.raises(ValueError, match="already"):
        kinds.add(kinds.Kind("pcap", "network", "x", loader="m:f"))


def test_an_incident_reads_the_new_kind_through_its_entry(toy_kind):
    d = toy_kind / "incident"
    d.mkdir()
    (d / "app.log").write_text(GOOD)
    (d / "incident.toml").write_text('title = "toy"\n[[artifacts]]\nfile = "app.log"\nkind = "toy-log"\n'
                                     'service = "toy-svc"\nhost = "toy-1"\n')
    inc = forensics.open_incident(d)
    assert inc.load_report.set_index("file").loc["app.log", "artifact_kind"] == "crashes"  # the entry's family
    tl = inc.timeline
    row = tl[tl["kind"] == "toy-error"].iloc[0]
    assert row["time"] == forensics.incident.model.to_utc("2026-11-26T06:10:53Z")
    assert (row["service"], row["host"], row["detail"], row["time_source"]) == ("toy-svc", "toy-1", "disk full", "artifact")
    assert not inc.notes
