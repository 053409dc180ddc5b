"""Wild-capture agreement: our loader against tshark over a folder of captures made by others.

    .venv/bin/python benchmarks/network_wild.py DIR [DIR...] [--json out.json] [--list]

For every ``*.pcap*`` / ``*.cap*`` / ``*.pcapng*`` file (recursively) it runs tshark once (default
preferences, empty profile: ``-T fields`` of frame number, ``tcp.stream`` and the ``tcp.analysis.*``
flags, as the committed ``*.tshark.csv`` labels are made) and ``load_capture`` in this process, then
reports: files tshark reads, files we load / refuse (``ArtifactError``) / crash on (anything else),
frame-count and stream-count agreement, and per-flag F1 pooled over every file both read.
Not part of the test suite (it takes minutes on tcpdump's ~830 test captures); the suite runs the
selection listed in ``tests/network/wild/``. ``--list`` prints each file whose loading, frame count,
stream count or flags differ from tshark's. docs/network.md ("On fresh captures") gives the runs over
captures the rules were not written on.
"""
from __future__ import annotations

import argparse
import collections
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from forensics.artifact import ArtifactWarning  # noqa: E402
from forensics.errors import ArtifactError  # noqa: E402
from forensics.network.compare import COMPARED, read_tshark_labels  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sample_data", "generate", "network"))
from generate import TSHARK_FIELDS  # noqa: E402

CAPTURE_ENDINGS = (".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz", ".pcap.zst", ".pcapng.zst",
                   ".pcap.lz4", ".pcapng.lz4", ".cap.gz", ".ntar", ".ntar.gz")


def captures(dirs):
    for d in dirs:
        if os.path.isfile(d):
            yield d
            continue
        for root, _, files in os.walk(d):
            for f in sorted(files):
                if f.lower().endswith(CAPTURE_ENDINGS):
                    yield os.path.join(root, f)


def tshark_labels(path, home):
    """(labels frame or None, return code, last stderr line) — tshark with an empty profile."""
    cmd = ["tshark", "-n", "-r", path, "-T", "fields", "-E", "header=y", "-E", "separator=,", "-E", "occurrence=f"]
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=home)
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    err = [line for line in r.stderr.splitlines() if line.strip() and "Running as user" not in line]
    if r.returncode not in (0, 2) or not r.stdout.strip():
        return None, r.returncode, err[-1] if err else ""
    return read_tshark_labels(io.StringIO(r.stdout)), r.returncode, err[-1] if err else ""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--json", help="write the per-file results here")
    ap.add_argument("--list", action="store_true", help="print one line per file that disagrees")
    args = ap.parse_args(argv)
    from forensics.network.load import load_capture

    home = tempfile.mkdtemp(prefix="fx-tshark-home-")
    tot = collections.Counter()
    flag = {f: collections.Counter() for f in COMPARED}
    rows = []
    refusals = collections.Counter()
    t0 = time.time()
    for path in captures(args.dirs):
        row = {"file": path}
        theirs, rc, err = tshark_labels(path, home)
        row["tshark_rc"], row["tshark_err"] = rc, err
        row["tshark_reads"] = theirs is not None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ArtifactWarning)
                cap = load_capture(path)
            row["ours"] = "loaded"
            ours = cap.packets
        except ArtifactError as e:
            row["ours"], row["why"] = "refused", str(e.reason)[:120]
            ours = None
        except Exception as e:  # noqa: BLE001 - counted: a crash is a bug to fix
            row["ours"], row["why"] = "crashed", f"{type(e).__name__}: {e}"[:160]
            ours = None
        tot["files"] += 1
        tot["tshark_reads"] += row["tshark_reads"]
        tot[row["ours"]] += 1
        if theirs is not None and ours is None:
            tot["tshark_reads_we_" + row["ours"]] += 1
            refusals[row.get("why", "")[:60]] += 1
        if theirs is not None and ours is not None:
            row["frames"], row["frames_tshark"] = len(ours), len(theirs)
            row["streams"] = int(ours["stream"].max() + 1) if len(ours) else 0
            row["streams_tshark"] = int(theirs["stream"].max() + 1) if len(theirs) else 0
            tot["both_read"] += 1
            tot["frames_equal"] += row["frames"] == row["frames_tshark"]
            tot["streams_equal"] += row["streams"] == row["streams_tshark"]
            tot["tcp_frames_tshark"] += int((theirs["stream"] >= 0).sum())
            m = ours[["frame", "stream"] + COMPARED].merge(theirs[["frame", "stream"] + COMPARED], on="frame",
                                                           suffixes=("", "_ts"), how="outer")
            row["stream_frames_differ"] = int((m["stream"].fillna(-1) != m["stream_ts"].fillna(-1)).sum())
            tot["stream_frames_differ"] += row["stream_frames_differ"]
            bad = []
            for f in COMPARED:
                a = m[f].fillna(False).astype(bool).to_numpy()
                b = m[f + "_ts"].fillna(False).astype(bool).to_numpy()
                flag[f]["ours"] += int(a.sum())
                flag[f]["tshark"] += int(b.sum())
                flag[f]["both"] += int((a & b).sum())
                if (a != b).any():
                    bad.append(f"{f}:{int(a.sum())}/{int(b.sum())}")
            row["flag_differences"] = bad
        rows.append(row)
        if args.list and (row["ours"] != "loaded" and row["tshark_reads"] or row.get("flag_differences")
                          or row.get("streams") != row.get("streams_tshark")
                          or row.get("frames") != row.get("frames_tshark")):
            print(f"  {os.path.basename(path)}: ours={row['ours']} {row.get('why', '')} "
                  f"streams {row.get('streams')}/{row.get('streams_tshark')} frames {row.get('frames')}/"
                  f"{row.get('frames_tshark')} {' '.join(row.get('flag_differences', []))}", file=sys.stderr)
    f1 = {}
    for f in COMPARED:
        c = flag[f]
        p = c["both"] / c["ours"] if c["ours"] else 1.0
        r = c["both"] / c["tshark"] if c["tshark"] else 1.0
        f1[f] = {"ours": c["ours"], "tshark": c["tshark"], "both": c["both"],
                 "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}
    summary = {"totals": dict(tot), "flags": f1, "refusal_reasons": dict(refusals.most_common(20)),
               "seconds": round(time.time() - t0, 1)}
    print(json.dumps(summary, indent=1))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"summary": summary, "files": rows}, fh, indent=1, default=str)


if __name__ == "__main__":
    main()
