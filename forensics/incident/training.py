"""Training replay: an incident's questions as ipywidgets, answers checked without showing them first.

Questions live in ``incident.toml`` (``[[questions]]`` with id, text, choices, hint); answers and the
debrief in ``answers.toml``, read only when a trainee presses *Check*. ``auto_answer=True`` picks
the right choices and checks them (so the notebook runs top to bottom unattended, under nbval or
papermill).

>>> q = Quiz(inc, auto_answer=True)   # doctest: +SKIP
>>> q.score()                          # doctest: +SKIP
(5, 5)
"""
from __future__ import annotations

import html


class Quiz:
    """One incident's questions; :meth:`widget` shows them, :meth:`score` counts right answers."""

    def __init__(self, inc, auto_answer: bool = False):
        self.inc = inc
        self.questions = inc.questions
        self._answers = None
        self.results: dict[str, bool] = {}
        self._debrief_out = None
        self._radios = {}
        self._feedback = {}
        if auto_answer:
            for q in self.questions:
                self.check(q["id"], self._answer(q["id"]))

    def _answer(self, qid):
        if self._answers is None:  # read lazily: nothing about the answers is in memory before a check
            self._answers = self.inc.answers()
        return (self._answers.get("answers") or {}).get(qid)

    def check(self, qid: str, choice) -> bool:
        """Record and return whether ``choice`` answers question ``qid``."""
        ok = choice is not None and choice == self._answer(qid)
        self.results[qid] = ok
        if qid in self._feedback:
            self._show_feedback(qid, ok)
        self._maybe_debrief()
        return ok

    def score(self) -> tuple[int, int]:
        return sum(self.results.values()), len(self.questions)

    def all_correct(self) -> bool:
        return bool(self.questions) and all(self.results.get(q["id"]) for q in self.questions)

    def debrief(self) -> str | None:
        """The debrief text, once every question has been answered correctly."""
        return (self.inc.answers().get("debrief") or "") if self.all_correct() else None

    # ------------------------------------------------------------------ widgets
    def _show_feedback(self, qid, ok):
        fb = self._feedback[qid]
        fb.value = ("<span style='color:#1a7f37'>✔ correct</span>" if ok else
                    "<span style='color:#b42318'>✘ not quite — try again, or take the hint</span>")

    def _maybe_debrief(self):
        if self._debrief_out is None:
            return
        text = self.debrief()
        self._debrief_out.value = (f"<h3>Debrief</h3><p>{html.escape(text)}</p>" if text else
                                   "<p><i>The debrief opens when every answer is right.</i></p>")

    def widget(self):
        import ipywidgets as W

        boxes = []
        for n, q in enumerate(self.questions, 1):
            qid = q["id"]
            radio = W.RadioButtons(options=list(q.get("choices") or []), value=None, layout=W.Layout(width="auto"))
            check = W.Button(description="Check", button_style="primary")
            hint_btn = W.Button(description="Hint")
            hint = W.HTML("")
            fb = W.HTML("")
            self._radios[qid], self._feedback[qid] = radio, fb
            if qid in self.results:
                if self.results[qid]:
                    radio.value = self._answer(qid)
                self._show_feedback(qid, self.results[qid])

            def on_check(_, qid=qid, radio=radio):
                self.check(qid, radio.value)

            def on_hint(_, q=q, hint=hint):
                hint.value = f"<i>Hint: {html.escape(q.get('hint', 'no hint for this one'))}</i>"

            check.on_click(on_check)
            hint_btn.on_click(on_hint)
            boxes.append(W.VBox([W.HTML(f"<b>Q{n}. {html.escape(q['text'])}</b>"), radio,
                                 W.HBox([check, hint_btn]), fb, hint]))
        self._debrief_out = W.HTML("")
        self._maybe_debrief()
        return W.VBox(boxes + [self._debrief_out])
