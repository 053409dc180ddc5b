"""Write notebooks/01_retransmissions.ipynb with nbformat (then run tools/nb_refresh.py on it).

    .venv/bin/python sample_data/generate/network/make_notebook.py
    .venv/bin/python tools/nb_refresh.py notebooks/01_retransmissions.ipynb
"""
import os

import nbformat as nbf

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
md = nbf.v4.new_markdown_cell
code = nbf.v4.new_code_cell

cells = [
    md("""# Retransmissions: which connections suffered, how badly, when — and is it the network or the capture?

This notebook loads a packet capture (pcap or pcapng), labels every TCP segment the way
Wireshark 4.x does (retransmission, fast / spurious retransmission, out-of-order, duplicate ACK,
zero window, ...), and turns those labels into an answer: **where packets were lost, in which
direction, when, and whether the capture itself can be trusted**.

Change `PCAP` below to your own capture. Everything runs locally; nothing needs Wireshark."""),
    code("""# Inputs (paths relative to this notebook's folder)
PCAP = "../sample_data/network/bulk_loss_receiver.pcapng"
LABELS = None          # optional: a tshark fields CSV to compare with (the sample captures have one)
BIN = "100ms"          # time bin for the loss-over-time plot""", metadata={"tags": ["parameters"]}),
    code("""import os
import matplotlib
import matplotlib.pyplot as plt
import pandas as pd

from forensics.network.load import load_capture
from forensics.network import analysis, plots
from forensics.network.cli import summarize
from forensics.network.compare import compare_flags, read_tshark_labels

pd.set_option("display.width", 160)
cap = load_capture(PCAP)   # shows a progress bar for big files
packets, flows = cap.packets, cap.flows"""),
    md("""## 1. What is in the capture

One count per Wireshark flag. `retransmission` includes the fast and spurious ones, as in Wireshark."""),
    code("""# NBVAL_CHECK_OUTPUT
for k, v in summarize(cap).items():
    print(f"{k:24} {v}")"""),
    md("""## 2. Can we trust the capture?

Before blaming the network, check the capture:

* **cut short** — the file ends in the middle of a packet (a capture killed mid-write); everything before it is loaded.
* **snaplen** — packets stored shorter than they were; harmless here, lengths come from the IP header.
* **holes** (`lost_segment`, "previous segment not captured") — a segment starts after the end of the last one.
  If a retransmission fills the hole later, the packet really was lost before the capture point.
  If nothing ever fills it, *the capture* missed it.
* **ACKed unseen** (`ack_lost_segment`) — the receiver acknowledged data we never saw: a capture gap."""),
    code("""# NBVAL_CHECK_OUTPUT
for k, v in analysis.capture_quality(cap).items():
    print(f"{k:28} {v}")"""),
    md("""## 3. The worst connections

Flows sorted by retransmission rate (Wireshark labels per data segment). `not_advancing_*` is the
label-free view: data segments, per direction, that did not move the sequence number forward —
resent or reordered, whatever a tool calls them."""),
    code("""# NBVAL_CHECK_OUTPUT
worst = analysis.worst_flows(flows, n=10)
print(worst.round(4).to_string(index=False))"""),
    md("""## 4. One connection, segment by segment (Stevens time-sequence graph)

Each blue bar is a data segment (from its first to its last byte). Green: what the receiver had
acknowledged; grey dashes: the right edge of the window the receiver advertised. Red dots are
retransmissions, orange out-of-order segments, purple ticks duplicate ACKs, black crosses zero windows.
A flat green line with purple ticks followed by red dots is the classic loss → dup-ACKs → fast retransmit.
Pick another flow in the dropdown."""),
    code("""def draw(stream):
    fig, ax = plt.subplots(figsize=(11, 4.5))
    plots.time_sequence(packets, stream, ax=ax)

default = int(worst["stream"].iloc[0]) if len(worst) else None
picker = plots.flow_picker(flows, draw, default=default)"""),
    md("""## 5. Retransmissions over time, against the round-trip time

Bars: retransmissions (red) and duplicate ACKs (purple) per interval. Line: median ACK RTT.
Loss that comes with a rising RTT points at a filling queue (congestion); loss at flat RTT
points at a lossy link."""),
    code("""timeline = analysis.loss_timeline(packets, BIN)
ax = plots.loss_over_time(timeline)
plt.show()"""),
    md("""## 6. Labels depend on where the capture was taken

Wireshark decides "retransmission" vs "out-of-order" from timing (a segment that fills a gap within
one handshake RTT of the newest segment is *out-of-order*; otherwise a *retransmission*). So:

* **at the sender**, most repairs after a loss arrive within one RTT and are labelled *out-of-order*,
  even though they are retransmissions — and no *lost segment* appears, because the loss is downstream;
* **at the receiver**, the hole shows first (*previous segment not captured*) and the fill-in later.

The label-free columns count the same events regardless of labels. Per direction:"""),
    code("""# NBVAL_CHECK_OUTPUT
view = pd.DataFrame({
    "wireshark_retransmissions": [int(flows["retransmission"].sum())],
    "wireshark_out_of_order": [int(flows["out_of_order"].sum())],
    "wireshark_lost_segment": [int(flows["lost_segment"].sum())],
    "not_advancing_c2s": [int(flows["not_advancing_c2s"].sum())],
    "not_advancing_s2c": [int(flows["not_advancing_s2c"].sum())],
    "bytes_captured_twice_c2s": [int(flows["dup_bytes_c2s"].sum())],
    "bytes_captured_twice_s2c": [int(flows["dup_bytes_s2c"].sum())],
}).T.rename(columns={0: "count"})
print(view.to_string())"""),
    md("""## 7. Agreement with Wireshark

The sample captures come with tshark's own labels (`*.tshark.csv`, written by tshark 4.0 with default
preferences). Frame by frame, each flag's F1 score against them:"""),
    code("""# NBVAL_CHECK_OUTPUT
labels = LABELS or os.path.splitext(PCAP)[0] + ".tshark.csv"
if os.path.exists(labels):
    report = compare_flags(packets, read_tshark_labels(labels))
    print(report[(report.ours > 0) | (report.tshark > 0)][["flag", "ours", "tshark", "f1"]].round(3).to_string(index=False))
else:
    print("no tshark labels next to this capture")"""),
    md("""## 8. Conclusion

The same facts in words: network loss or capture gap, which side, when."""),
    code("""# NBVAL_CHECK_OUTPUT
print(analysis.diagnose(cap))"""),
]

nb = nbf.v4.new_notebook(cells=cells, metadata={
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "language_info": {"name": "python"}})
path = os.path.join(ROOT, "notebooks", "01_retransmissions.ipynb")
os.makedirs(os.path.dirname(path), exist_ok=True)
nbf.write(nb, path)
print(path)
