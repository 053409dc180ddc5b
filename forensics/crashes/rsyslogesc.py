"""A record forwarded through rsyslog with its control characters escaped, as a paste carries it.

rsyslog's ``$EscapeControlCharactersOnReceive`` (on by default) writes each control character of a message as ``#``
and its three octal digits: a systemd-coredump message, one record holding the whole ``Stack trace of thread N:``
list, reaches ``/var/log/syslog`` as one line with ``#012`` for every newline (``#011`` for a tab). A paste of that
line is often hard-wrapped at a fixed width, even inside a token (``#01`` / ``2``): the physical line breaks of such a
record are then the paste's, not the producer's, so the record's lines are joined back (no separator: the wrap added
none) up to the next record's own start, and the escapes are undone.

>>> print(unescape_rsyslog("prog[7]: Process 7 (a) of user 1 dumped core.#012#012Stack trace of thread 7:#01\\n2#0  0x1 f (a + 0x1)"))
prog[7]: Process 7 (a) of user 1 dumped core.
<BLANKLINE>
Stack trace of thread 7:
#0  0x1 f (a + 0x1)
"""
from __future__ import annotations

import re

_ESCAPED = re.compile(r"#01[12]")
# the start of a syslog record of its own: a time stamp (RFC 3164's "Mar  3 10:00:00", ISO 8601) or "tag[pid]: "
_RECORD = re.compile(r"^(?:\w{3} [ \d]\d \d\d:\d\d:\d\d |\d{4}-\d\d-\d\d[T ]\d\d:\d\d|[\w.@/-]+\[\d+\]: )")


def unescape_rsyslog(text: str) -> str:
    """``text`` with rsyslog-escaped records (two or more ``#012`` on a line) joined and unescaped; else unchanged."""
    lines = text.split("\n")
    if not any(len(_ESCAPED.findall(ln)) >= 2 for ln in lines):
        return text
    body = [ln for ln in lines if ln.strip()]
    if body and all(ln.lstrip().startswith(">") for ln in body):
        lines = [re.sub(r"^\s*> ?", "", ln) for ln in lines]       # a quoted reply: one level of quoting
    out: list[str] = []
    joining = False
    for ln in lines:
        head = re.sub(r"^\s*> ?", "", ln)
        if joining and ln.strip() and not _RECORD.match(head):
            out[-1] += ln.strip("\n")
            continue
        out.append(ln)
        joining = len(_ESCAPED.findall(ln)) >= 2
    return "\n".join(out).replace("#012", "\n").replace("#011", "\t")
