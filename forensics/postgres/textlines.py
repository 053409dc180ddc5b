"""A text file read in blocks of whole lines, so a log of any size is parsed in bounded memory.

Each block is cut after its last newline (a line, and so a UTF-8 character, is never split), decoded
with bytes that are not UTF-8 replaced by U+FFFD (warned once), ``\\r\\n`` read as ``\\n`` and a leading
byte-order mark dropped — what reading the whole text would give, one block at a time.
"""
from __future__ import annotations

from ..artifact import Provenance, open_readonly
from ..errors import ArtifactError

BLOCK = 4 << 20


def decode(data: bytes, prov: Provenance | None, first: bool, warned: list) -> str:
    text = data.decode("utf-8", errors="replace")
    if not warned and "\ufffd" in text and b"\xef\xbf\xbd" not in data:
        warned.append(True)
        if prov is not None:
            prov.warn(None, "bytes that are not UTF-8 were replaced by U+FFFD")
    text = text.replace("\r\n", "\n")
    return text.lstrip("\ufeff") if first else text


class LineBlocks:
    """Iterate ``(number of the first line, [lines])`` over ``path``, ``block`` bytes at a time.

    After the iteration, ``lines`` is the number of lines read and ``cut`` tells whether the last one
    had no newline (a file cut short mid-line, or written without a final newline).

    >>> import os
    >>> here = os.path.join(os.path.dirname(__file__), "..", "..", "sample_data", "postgres", "why")
    >>> blocks = LineBlocks(os.path.join(here, "server.stderr.log"), None, block=4096)
    >>> sum(len(lines) for _, lines in blocks) == blocks.lines, blocks.cut
    (True, False)
    """

    def __init__(self, path, prov: Provenance | None, bar=None, block: int = BLOCK):
        self.path, self.prov, self.bar, self.block = path, prov, bar, max(block, 4096)
        self.lines, self.cut = 0, False

    def __iter__(self):
        warned: list = []
        first, pieces = True, []
        with open_readonly(self.path) as f:
            while True:
                data = f.read(self.block)
                if self.bar is not None:
                    self.bar.update(len(data))
                if first and b"\x00" in data[:4096]:
                    raise ArtifactError(self.path, data.index(b"\x00"), "binary data (NUL bytes), not a text file")
                if not data:
                    break
                end = data.rfind(b"\n")
                if end < 0:  # no line ends in this block: keep it for the next
                    pieces.append(data)
                    continue
                whole = b"".join(pieces + [data[:end + 1]])
                pieces = [data[end + 1:]] if end + 1 < len(data) else []
                lines = decode(whole, self.prov, first, warned).split("\n")[:-1]
                first = False
                yield from self._emit(lines)
        rest = b"".join(pieces)
        if rest:
            self.cut = True
            yield from self._emit(decode(rest, self.prov, first, warned).split("\n"))

    def _emit(self, lines):
        if lines:
            start = self.lines + 1
            self.lines += len(lines)
            yield start, lines
