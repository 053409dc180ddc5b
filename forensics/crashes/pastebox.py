"""Classify what an analyst pastes: :func:`classify_paste` (pure, tested) and the notebook's textarea.

>>> r = classify_paste("Program received signal SIGSEGV, Segmentation fault.\\n#0  0x1139 in f (p=0x0) at t.c:2\\n")
>>> r["class"], r["top_own_frame"]
('null-deref-read', 'f')
>>> classify_paste("hello")["error"].startswith("<paste>: not a crash transcript")
True
"""
from __future__ import annotations

import warnings

from ..errors import ArtifactError

FIELDS = ["signal", "origin", "class", "subclass", "crash_thread", "top_own_frame", "bucket", "exploitability",
          "reason", "bucket_why"]


def classify_paste(text: str) -> dict:
    """One dict per paste: the classification fields, the warnings, or ``error`` (why it was refused)."""
    from .load import load_text

    if not text or not text.strip():
        return {"error": "nothing pasted"}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            c = load_text(text)
    except ArtifactError as e:
        return {"error": str(e)}
    row = c.crash
    out = {k: row.get(k) for k in FIELDS}
    out["warnings"] = list(c.provenance.warnings)
    out["format"] = c.provenance.format
    return out


def paste_box(rows: int = 12):
    """A textarea and a button; the classification of the pasted text is shown under it."""
    import ipywidgets as w
    from IPython.display import display

    area = w.Textarea(placeholder="paste gdb / LLDB / Go crash output here", layout=w.Layout(width="100%"), rows=rows)
    button = w.Button(description="Classify", button_style="primary")
    out = w.Output()

    def run(_=None):
        out.clear_output()
        with out:
            r = classify_paste(area.value)
            if "error" in r:
                print(r["error"])
                return
            for k in ["format"] + FIELDS:
                print(f"{k:>15}: {r.get(k)}")
            for m in r["warnings"]:
                print(f"        warning: {m}")

    button.on_click(run)
    box = w.VBox([area, button, out])
    display(box)
    return box
