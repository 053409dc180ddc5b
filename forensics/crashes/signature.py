"""Known producers' signature lines found wherever they sit on a pasted line.

A runtime's last words reach a tracker behind whatever wrote them down: syslog's ``host prog[pid]: ``, a
journald or logger column set (``[12:00:01.223 UTC] :0 : Fatal: ``, ``11:17:24 ERROR unknown   ``), a shell
prompt, or the reporter's own sentence around a copied message. The readers match those lines at the start
of a line, so :func:`cut_signature_prefixes` cuts the text in front of a signature that only its producer
prints (Qt's ``ASSERT failure in``, Rust's ``has overflowed its stack``, glibc's malloc_printerr and fortify
messages, libstdc++'s terminate), in one place for every reader. It never adds text, and leaves alone
lines where the signature is quoted data: a frame's argument (``#5 … fmt="free(): invalid pointer"``), a
gdb value (``$1 = "…"``), or anything inside quotes or parentheses — except a markdown code span holding the
message to the end of the line (``Output: `…```), which is how a reporter quotes what the program printed.

>>> cut_signature_prefixes(['crunch[77]: thread \\'main\\' has overflowed its stack'])
["thread 'main' has overflowed its stack"]
>>> cut_signature_prefixes(["Output: `thread '<unknown>' has overflowed its stack`"])
["thread '<unknown>' has overflowed its stack"]
>>> cut_signature_prefixes(['#5  0x1 in __libc_message (fmt=0x2 "free(): invalid pointer")'])[0][:2]
'#5'
"""
from __future__ import annotations

import re

SIGNATURE = re.compile(
    r"ASSERT failure in [^\n]+?: \"[^\n]*\",? file \S+, line \d+|ASSERT: \"[^\n]*\" in file \S+, line \d+"   # Qt
    r"|thread '[^'\n]*'(?: \(\d+\))? has overflowed its stack|fatal runtime error: stack overflow"       # Rust
    r"|free\(\): (?:invalid (?:pointer|size|next size)|double free detected)|double free or corruption \(\w+\)"
    r"|malloc\(\): (?:corrupted|memory corruption|unaligned)|munmap_chunk\(\): invalid pointer"           # glibc
    r"|corrupted size vs\. prev_size|\*\*\* (?:stack smashing|buffer overflow) detected \*\*\*"
    r"|terminate called (?:after throwing an instance of '|without an active exception)")               # libstdc++
# what a line starting with these is: gdb's own frame / value / prompt lines carry a message as data
_DATA_LINE = re.compile(r"^\s*(?:#\d|\$\d|\(gdb\)|0x[0-9a-fA-F]+ in )")
_MAX_PREFIX = 200


def cut_signature_prefixes(lines: list[str]) -> list[str]:
    """``lines`` with the text in front of each known producer's signature cut (see the module docstring)."""
    out = []
    for ln in lines:
        m = SIGNATURE.search(ln) if len(ln) < 4000 else None
        if m and 0 < m.start() <= _MAX_PREFIX and not _DATA_LINE.match(ln):
            head = ln[:m.start()]
            # the reporter's "Output: `<message>`": a markdown code span opening at the signature and closing the line
            # holds the program's output (glibc's own "*** Error in `prog': …" quoting opens elsewhere)
            span = head.endswith("`") and not head.endswith("``") and ln.rstrip().endswith("`") \
                and "`" not in ln[m.start():].rstrip()[:-1]
            quoted = head.count('"') % 2 or head.count("'") % 2 or head.count("(") > head.count(")") \
                or head.count("`") % 2 or head.rstrip().endswith(("=", "<"))
            if span and not (head[:-1].count('"') % 2 or head[:-1].count("`") % 2):
                ln = ln[m.start():].rstrip()[:-1]
            elif not quoted:
                ln = ln[m.start():]
        out.append(ln)
    return out
