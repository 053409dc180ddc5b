"""The wild corpora: check them, restore them from fetched repositories, pack them for a shared folder.

Artifacts other people made are third-party material, and this workplace keeps such material out of our
commits. So each kind commits only what we wrote about its corpus, in ``tests/<kind>/wild/``:

- ``MANIFEST.tsv`` — one row per file: ``file`` (path under ``tests/<kind>/wild/``), ``bytes``, ``sha256``,
  ``source`` (``owner/repo@commit:path`` for a file from a public repository, or the URL of the post a paste
  came from), ``licence`` (as the source states it, or a quotation note);
- the labels (tshark's answers, labels read from a thread, expected edges …) and a README;
- a ``.gitignore`` that keeps the files themselves out of git.

The tests look for the files in ``tests/<kind>/wild/``, then ``$FORENSICS_WILD/<kind>/``, then
``../shared/wild/<kind>/`` beside the checkout, and skip (saying how many are missing) when they are absent.

    .venv/bin/python tools/wild_corpus.py check                 # present / missing / changed, per kind
    .venv/bin/python tools/wild_corpus.py restore --mirrors /work/.mirror
                                                                # files from fetched repositories' git dirs
    .venv/bin/python tools/wild_corpus.py pack -o wild.tar      # the present files, for ../shared/wild/

``restore`` reads ``git --git-dir <mirrors>/<owner>+<repo>/... show <commit>:<path>`` and writes the file only
when its SHA-256 matches the manifest. Pastes (sources that are URLs) are restored by hand from the URL.
"""
from __future__ import annotations

import argparse
import csv
import glob
import hashlib
import os
import subprocess
import sys
import tarfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIELDS = ["file", "bytes", "sha256", "source", "licence"]


def manifests() -> dict[str, str]:
    """``{kind: manifest path}`` for every kind with a wild corpus."""
    out = {}
    for p in sorted(glob.glob(os.path.join(REPO, "tests", "*", "wild", "MANIFEST.tsv"))):
        out[p.split(os.sep)[-3]] = p
    return out


def rows(manifest: str) -> list[dict]:
    with open(manifest, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def write_manifest(manifest: str, entries: list[dict]) -> None:
    with open(manifest, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, FIELDS, delimiter="\t", lineterminator="\n", extrasaction="ignore")
        w.writeheader()
        for e in sorted(entries, key=lambda e: e["file"]):
            w.writerow(e)


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _state(kind: str, row: dict) -> str:
    path = os.path.join(REPO, "tests", kind, "wild", row["file"])
    if not os.path.isfile(path):
        return "missing"
    return "ok" if sha256(path) == row["sha256"] else "changed"


def cmd_check(args) -> int:
    bad = 0
    for kind, m in manifests().items():
        counts: dict[str, int] = {}
        for r in rows(m):
            s = _state(kind, r)
            counts[s] = counts.get(s, 0) + 1
            if s == "changed":
                print(f"{kind}: {r['file']}: SHA-256 differs from the manifest", file=sys.stderr)
        bad += counts.get("changed", 0)
        print(f"{kind}: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
    return 1 if bad else 0


def _mirror(mirrors: str, repo: str) -> str | None:
    # The exact <owner>+<name> folder only: a prefix glob would take jaeger-ui for jaeger.
    hits = [os.path.join(mirrors, repo.replace("/", "+"))]
    for h in hits:
        for cand in (h, *glob.glob(os.path.join(h, "*.git")), *glob.glob(os.path.join(h, "*"))):
            if os.path.isfile(os.path.join(cand, "HEAD")):
                return cand
    return None


def cmd_restore(args) -> int:
    restored = failed = 0
    for kind, m in manifests().items():
        for r in rows(m):
            if _state(kind, r) == "ok" or "@" not in r["source"] or r["source"].startswith("http"):
                continue
            repo, rest = r["source"].split("@", 1)
            commit, path = rest.split(":", 1)
            gitdir = _mirror(args.mirrors, repo)
            if gitdir is None:
                print(f"{kind}: {r['file']}: no fetched copy of {repo} under {args.mirrors}", file=sys.stderr)
                failed += 1
                continue
            blob = subprocess.run(["git", "--git-dir", gitdir, "show", f"{commit}:{path}"], capture_output=True)
            if blob.returncode or hashlib.sha256(blob.stdout).hexdigest() != r["sha256"]:
                print(f"{kind}: {r['file']}: {repo}@{commit}:{path} missing or not the manifest's bytes",
                      file=sys.stderr)
                failed += 1
                continue
            dest = os.path.join(REPO, "tests", kind, "wild", r["file"])
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with open(dest, "wb") as f:
                f.write(blob.stdout)
            restored += 1
    print(f"restored {restored}, could not restore {failed}")
    return 1 if failed else 0


def cmd_pack(args) -> int:
    n = 0
    with tarfile.open(args.output, "w") as tar:
        for kind, m in manifests().items():
            for r in rows(m):
                if _state(kind, r) == "ok":
                    tar.add(os.path.join(REPO, "tests", kind, "wild", r["file"]), arcname=f"{kind}/{r['file']}")
                    n += 1
    print(f"{n} files in {args.output} (unpack into ../shared/wild/ or $FORENSICS_WILD)")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("check").set_defaults(func=cmd_check)
    r = sub.add_parser("restore")
    r.add_argument("--mirrors", default="/work/.mirror")
    r.set_defaults(func=cmd_restore)
    p = sub.add_parser("pack")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=cmd_pack)
    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
