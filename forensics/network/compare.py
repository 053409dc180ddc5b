"""Frame-by-frame agreement with tshark: precision, recall and F1 per flag.

Example: ``compare_flags(load_capture(p).packets, read_tshark_labels(labels_csv))``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .flags import FLAG_NAMES

#: Flags compared with tshark (the FLAG_NAMES plus RST, which tshark shows as tcp.flags.reset).
COMPARED = FLAG_NAMES + ["reset"]


def read_tshark_labels(path_or_text) -> pd.DataFrame:
    """tshark ``-T fields`` CSV (as written by the generator) -> one row per frame, 0/1 per flag."""
    df = pd.read_csv(path_or_text, dtype=str, keep_default_na=False)
    out = pd.DataFrame({"frame": df["frame.number"].astype(np.int64),
                        "stream": pd.to_numeric(df["tcp.stream"], errors="coerce").fillna(-1).astype(np.int64)})
    for name in FLAG_NAMES:
        col = f"tcp.analysis.{name}"
        out[name] = (df[col] != "") if col in df else False
    out["reset"] = df["tcp.flags.reset"].isin(["1", "True", "true"]) if "tcp.flags.reset" in df else False
    if "tcp.analysis.duplicate_ack_num" in df:
        out["dup_ack_num"] = pd.to_numeric(df["tcp.analysis.duplicate_ack_num"], errors="coerce").fillna(0).astype(np.int64)
        out["dup_ack_frame"] = pd.to_numeric(df["tcp.analysis.duplicate_ack_frame"], errors="coerce").fillna(0).astype(np.int64)
    if "tcp.analysis.ack_rtt" in df:
        out["ack_rtt"] = pd.to_numeric(df["tcp.analysis.ack_rtt"], errors="coerce")
        out["acked_frame"] = pd.to_numeric(df["tcp.analysis.acks_frame"], errors="coerce").fillna(0).astype(np.int64)
    return out


def compare_flags(ours: pd.DataFrame, theirs: pd.DataFrame, flags=None) -> pd.DataFrame:
    """Per flag: count in each, true positives, precision, recall, F1, and the first differing frames."""
    flags = flags or COMPARED
    m = ours[["frame"] + flags].merge(theirs[["frame"] + flags], on="frame", suffixes=("", "_ts"), how="outer")
    rows = []
    for f in flags:
        a = m[f].fillna(False).astype(bool).to_numpy()
        b = m[f + "_ts"].fillna(False).astype(bool).to_numpy()
        tp = int((a & b).sum())
        prec = tp / a.sum() if a.sum() else 1.0
        rec = tp / b.sum() if b.sum() else 1.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        diff = m["frame"].to_numpy()[a != b]
        rows.append({"flag": f, "ours": int(a.sum()), "tshark": int(b.sum()), "both": tp, "precision": prec,
                     "recall": rec, "f1": f1, "differing_frames": diff[:10].tolist()})
    return pd.DataFrame(rows)
