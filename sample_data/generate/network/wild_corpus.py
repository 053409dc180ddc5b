"""Copy the wild capture corpus into tests/network/wild/ and label it with tshark.

    .venv/bin/python sample_data/generate/network/wild_corpus.py MIRROR_ROOT [--labels-only]

``MIRROR_ROOT`` holds bare git mirrors named ``owner+name/repo`` (what the search tool's ``fetch``
brings, e.g. ``/work/.mirror``). Every capture listed in ``tests/network/wild/SELECTION.tsv``
(repository, commit, path, licence, why it is there) is read with ``git show COMMIT:PATH`` and
written, unchanged, to ``tests/network/wild/<owner+name>/<path with / as __>`` (on disk only: the
folder's .gitignore keeps third-party files out of git, ``MANIFEST.tsv`` lists them); its size and
SHA-256 go to ``SOURCES.tsv`` beside it. Then tshark (default preferences, empty profile) labels
each one as the sample captures are labelled (``FILE.tshark.csv.gz``: frame number, ``tcp.stream``
and the ``tcp.analysis.*`` fields; see ``generate.tshark_labels``). Where tshark cannot read a
file, ``FILE.tshark.err`` holds its one-line reason instead, and the tests expect an
``ArtifactError`` from us too.

The captures are other people's work: tcpdump's test captures (BSD licence: its notice is kept as
``the-tcpdump-group+tcpdump/LICENSE``), PcapPlusPlus's (Unlicense) and Chris Sanders' ``packets``
repository (free to use with attribution, as its README asks), tunnel traces of Zeek's test suite
(BSD licence: its notice is kept as ``zeek+zeek/COPYING``), and a few captures first measured as fresh ones
(docs/network.md): Suricata's verification suite (OISF/suricata-verify, MIT: ``LICENSE.txt`` kept),
gopacket's pcapng tests (BSD licence: ``LICENSE`` kept) and arkime's test captures (Apache-2.0:
``LICENSE`` kept).
"""
from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
WILD = os.path.join(ROOT, "tests", "network", "wild")
sys.path.insert(0, HERE)

from generate import TSHARK_FIELDS  # noqa: E402

LICENCE_FILES = {"the-tcpdump-group/tcpdump": "LICENSE", "seladb/PcapPlusPlus": "LICENSE",
                 "chrissanders/packets": "README.md", "zeek/zeek": "COPYING", "OISF/suricata-verify": "LICENSE.txt",
                 "google/gopacket": "LICENSE", "arkime/arkime": "LICENSE"}


def local_name(repo: str, path: str) -> str:
    return os.path.join(repo.replace("/", "+"), path.replace("/", "__"))


def git_show(mirror_root: str, repo: str, commit: str, path: str) -> bytes:
    git_dir = os.path.join(mirror_root, repo.replace("/", "+"), "repo")
    return subprocess.run(["git", "--git-dir", git_dir, "show", f"{commit}:{path}"], check=True,
                          capture_output=True).stdout


def label(path: str, home: str) -> None:
    """FILE.tshark.csv.gz (tshark's per-frame labels, gzip: they are mostly empty fields), or
    FILE.tshark.err when tshark cannot read it; FILE is the capture's whole name."""
    base = path
    cmd = ["tshark", "-n", "-r", path, "-T", "fields", "-E", "header=y", "-E", "separator=,", "-E", "occurrence=f"]
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    r = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, HOME=home, XDG_CONFIG_HOME=home))
    err = [x for x in r.stderr.splitlines() if x.strip() and "Running as user" not in x]
    for stale in (base + ".tshark.csv.gz", base + ".tshark.err"):
        if os.path.exists(stale):
            os.remove(stale)
    if r.returncode in (0, 2) and r.stdout.strip():
        with gzip.GzipFile(base + ".tshark.csv.gz", "wb", mtime=0) as fh:  # mtime 0: the same bytes each run
            fh.write(r.stdout.encode())
        if r.returncode == 2 and err:  # read, but cut short: tshark's message is kept beside the labels
            with open(base + ".tshark.err", "w") as fh:
                fh.write("read: " + err[-1] + "\n")
    else:
        with open(base + ".tshark.err", "w") as fh:
            fh.write("refused: " + (err[-1] if err else f"exit {r.returncode}") + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mirror_root", nargs="?", default="/work/.mirror")
    ap.add_argument("--labels-only", action="store_true", help="re-label the committed files, copy nothing")
    args = ap.parse_args(argv)
    with open(os.path.join(WILD, "SELECTION.tsv")) as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t")]
    sources = []
    home = tempfile.mkdtemp(prefix="fx-tshark-home-")
    for r in rows:
        dest = os.path.join(WILD, local_name(r["repo"], r["path"]))
        if not args.labels_only:
            data = git_show(args.mirror_root, r["repo"], r["commit"], r["path"])
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with open(dest, "wb") as fh:
                fh.write(data)
        with open(dest, "rb") as fh:
            data = fh.read()
        sources.append({"file": local_name(r["repo"], r["path"]), "repo": r["repo"], "commit": r["commit"],
                        "path": r["path"], "licence": r["licence"], "bytes": len(data),
                        "sha256": hashlib.sha256(data).hexdigest(), "why": r["why"]})
        label(dest, home)
    if not args.labels_only:
        for repo, lic in LICENCE_FILES.items():
            commits = {r["commit"] for r in rows if r["repo"] == repo}
            if commits:
                data = git_show(args.mirror_root, repo, sorted(commits)[0], lic)
                with open(os.path.join(WILD, repo.replace("/", "+"), "LICENSE" if lic == "LICENSE" else lic), "wb") as fh:
                    fh.write(data)
    with open(os.path.join(WILD, "SOURCES.tsv"), "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(sources[0]), delimiter="\t")
        w.writeheader()
        w.writerows(sources)
    # MANIFEST.tsv (tools/wild_corpus.py's list of third-party files): the captures and the licence copies
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import wild_corpus as shared

    entries = [{"file": s["file"], "bytes": s["bytes"], "sha256": s["sha256"],
                "source": f"{s['repo']}@{s['commit']}:{s['path']}", "licence": s["licence"]} for s in sources]
    for repo, lic in LICENCE_FILES.items():
        rel = os.path.join(repo.replace("/", "+"), lic)
        commits = sorted({r["commit"] for r in rows if r["repo"] == repo})
        if commits and os.path.exists(os.path.join(WILD, rel)):
            entries.append({"file": rel, "bytes": os.path.getsize(os.path.join(WILD, rel)),
                            "sha256": shared.sha256(os.path.join(WILD, rel)), "source": f"{repo}@{commits[0]}:{lic}",
                            "licence": next(r["licence"] for r in rows if r["repo"] == repo)})
    shared.write_manifest(os.path.join(WILD, "MANIFEST.tsv"), entries)
    print(f"{len(sources)} captures, {sum(s['bytes'] for s in sources):,} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
