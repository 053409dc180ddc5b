"""Parts of a V8 snapshot read from the file on demand: strings, and single fields of chosen nodes/edges.

A 245 MB snapshot holds millions of strings and edge names that a diff never
looks at; these readers keep byte offsets (or nothing) and decode only what a
caller asks for. Split from :mod:`forensics.memory.v8`.
"""
from __future__ import annotations

import json
import os

import numpy as np

from ..artifact import open_readonly
from ..errors import ArtifactError
from .jsonscan import ChunkReader


class StringTable:
    """The snapshot's ``strings`` array, decoded lazily from byte offsets into the file."""

    def __init__(self, path: str, starts: np.ndarray, lens: np.ndarray, every: int = 1, count: int | None = None):
        self.path = path
        self.starts = starts      # byte offset of each string's opening quote (of every ``every``-th one)
        self.lens = lens          # its length including the quotes (every == 1 only)
        self.every = every
        self.count = len(starts) if count is None else count
        self._cache: dict[int, str] = {}

    def __len__(self) -> int:
        return self.count

    def _sparse(self, want: list[int]) -> None:
        """Decode strings from the nearest kept offset, reading on through the strings before them."""
        dec = json.JSONDecoder()
        blocks: dict[int, list[int]] = {}
        for i in want:
            if 0 <= i < self.count:
                blocks.setdefault(i // self.every, []).append(i)
            else:
                self._cache[i] = f"(string #{i} missing)"
        with open_readonly(self.path) as f:
            for b, idx in sorted(blocks.items()):
                last = max(idx) - b * self.every
                size = 1 << 14
                while True:
                    f.seek(int(self.starts[b]))
                    raw = f.read(size)
                    text = raw.decode("utf-8", "replace")
                    got, pos = [], 0
                    try:
                        while len(got) <= last:
                            while pos < len(text) and text[pos] in ", \n\r\t":
                                pos += 1
                            val, pos = dec.raw_decode(text, pos)
                            got.append(val if isinstance(val, str) else str(val))
                    except ValueError:
                        if len(raw) == size:      # the window ended inside a string: read more
                            size *= 4
                            continue
                    break
                for i in idx:
                    k = i - b * self.every
                    self._cache[i] = got[k] if k < len(got) else f"(string #{i} missing)"

    def get_many(self, indices) -> dict[int, str]:
        """``{index: text}`` for the given string indices (missing ones get a placeholder)."""
        want = sorted({int(i) for i in indices} - self._cache.keys())
        if want and self.every > 1:
            self._sparse(want)
            want = []
        if want:
            with open_readonly(self.path) as f:
                for i in want:
                    if 0 <= i < len(self.starts):
                        f.seek(int(self.starts[i]))
                        raw = f.read(int(self.lens[i]))
                        try:
                            self._cache[i] = json.loads(raw)
                        except (ValueError, UnicodeDecodeError):
                            self._cache[i] = raw[1:-1].decode("utf-8", "replace")
                    else:
                        self._cache[i] = f"(string #{i} missing)"
        return {int(i): self._cache[int(i)] for i in indices}

    def __getitem__(self, i: int) -> str:
        return self.get_many([i])[int(i)]


class LazyEdgeNames:
    """One field of selected records (``name_or_index`` of edges, ``name`` of nodes), re-read from the file:
    the full column is not kept.

    ``load(edges)`` reads the values of those edges in one pass over the ``edges``
    array — jumping over long stretches with no wanted record when ``marks`` (the file
    offset of every :data:`~.jsonscan.MARK_EVERY`-th record, from the first parse) are
    known; ``names[e]`` then returns one (``KeyError`` for an edge not loaded).
    """

    def __init__(self, path: str, at: int, nf: int, field: int, marks: np.ndarray | None = None):
        self.path, self.at, self.nf, self.field = path, at, nf, field
        self.marks = marks
        self._values: dict[int, int] = {}

    def load(self, edges) -> None:
        from .jsonscan import JUMP, MARK_EVERY, pick_ints

        want = np.unique(np.asarray([e for e in np.asarray(edges, dtype=np.int64).tolist()
                                     if e >= 0 and e not in self._values], dtype=np.int64))
        if not len(want):
            return
        out = np.zeros(len(want), np.int64)
        state = np.zeros(5, np.int64)
        marks = self.marks
        # with marks: small reads, and a jump whenever the next wanted record is 4 marks or more ahead
        gap = 4 * MARK_EVERY if marks is not None else 1 << 62
        with open_readonly(self.path) as f:
            reader = ChunkReader(f, os.fstat(f.fileno()).st_size, chunk=1 << 16 if marks is not None else 8 << 20)
            first = int(want[0]) // MARK_EVERY if marks is not None else 0
            if first and first < len(marks) and marks[first] > self.at:
                reader.seek(int(marks[first]))
                state[3] = first * MARK_EVERY * self.nf
            else:
                reader.seek(self.at)
                if reader.take() != 91:
                    raise ArtifactError(self.path, self.at, "the array moved: the file changed since it was read")
            while True:
                if reader.pos >= reader.n and not reader.refill():
                    break
                r = pick_ints(reader.buf, reader.pos, reader.n, self.nf, self.field, want, out, state, gap)
                if r == reader.n:
                    reader.pos = reader.n
                    continue
                if r == JUMP:
                    b = int(want[int(state[4])]) // MARK_EVERY
                    reader.seek(int(marks[b]))
                    state[3] = b * MARK_EVERY * self.nf
                    continue
                if r < -1:
                    raise ArtifactError(self.path, reader.base - r - 1, "the array changed since it was read")
                break
        got = int(state[4])
        self._values.update(zip(want[:got].tolist(), out[:got].tolist()))

    def __getitem__(self, e) -> int:
        e = int(e)
        if e not in self._values:
            self.load([e])
        return self._values[e]
