"""Undo what trackers, mail clients and debugger front-ends do to a pasted transcript.

People paste gdb output into issues: indented as a markdown code block, inside ``` fences, with
``(gdb) bt`` prompts, ANSI colours from gef/pwndbg, HTML entities and markdown escapes added by a
tracker migration (``#&#8203;1``, ``\\#1``, ``\\_\\_GI_raise``), frames whose arguments continue on
the next line (gdb wraps at the terminal width, mail clients at 72 columns), or frames without the
leading ``#``. :func:`normalize_paste` turns all of that back into the lines gdb printed, so the
line parser only meets gdb's own shapes. It never adds facts: every kept character came from the
paste (LLDB and Go text is translated separately, in :mod:`.lldb` and :mod:`.golang`).

>>> print(normalize_paste("    (gdb) bt\\n    #0  f (a=1,\\n        b=2) at x.c:3\\n"))
bt
#0  f (a=1, b=2) at x.c:3
<BLANKLINE>
"""
from __future__ import annotations

import html
import re

from .rsyslogesc import unescape_rsyslog
from .gefregs import gef_register_lines
from .gopaste import undo_go_paste
from .applegdb import apple_gdb_stop
from .execinfo import strip_record_prefixes
from .signature import cut_signature_prefixes

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
_HTML_COLOUR = re.compile(r"<(?:font|span)\s+(?:color|style|class)=[\"'][^\"'<>]*[\"']\s*>", re.I)
_HTML_TAG = re.compile(r"</?(?:font|span)(?:\s+[a-z-]+=(?:\"[^\"]*\"|'[^']*'))*\s*>", re.I)
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\ufeff]")
_MD_ESCAPE = re.compile(r"\\([#_`<>*\[\]()|~-])")
_MD_BOLD_GI = re.compile(r"\*\*(GI|IA)\*\*\\?_")           # "**GI**\_assert_fail": markdown ate "__GI__"
# a frame's name that a tracker's markdown converter re-wrote "__" to "**" ("#8 0x… in **assert_fail_base (…"): no C or
# C++ symbol starts with "*", so the name's leading "**" is the "__" a converter took for bold
_MD_BOLD_FRAME_NAME = re.compile(r"^(\s*#\d+\s+(?:0x[0-9a-fA-F]+ in )?)\*\*(?=[A-Za-z_])", re.M)
_PROMPT = re.compile(r"^(?:\((?:gdb|rr|pernosco|lldb|dlv|cuda-gdb)\)|pwndbg>|gef➤|gdb-peda\$|gdb\$|>>>)\s?")
_NO_HASH_FRAME = re.compile(r"^(\d{1,5})(\s+)(0x[0-9a-fA-F]+ in \s?\S)")
_SPACED_HASH = re.compile(r"^# (\d{1,5})\s+(?=0x[0-9a-fA-F]+ in \S)")     # "# 0  0x… in f ()": a space after '#'
# "0x… in f (a=1) at t.c:193        p->next = q;": the source line glued onto the stop line
_GLUED_SOURCE = re.compile(r"^(?P<frame>.* at \S+:(?P<line>\d+))\s{2,}(?P<src>\S.*)$")
_FRAME = re.compile(r"^#\d+\s")
# gef's trace panel "[#0] 0x555555555139 → main()" and pwndbg's "► 0   0x555555555139 main+16"
_GEF_FRAME = re.compile(r"^\[#(?P<no>\d+)\] (?P<pc>0x[0-9a-fA-F]+) → (?P<body>.+?)\s*$")
_PWNDBG_FRAME = re.compile(r"^(?:[►▶>]\s*)?(?P<no>\d+)\s+(?P<pc>0x[0-9a-fA-F]+)\s+(?P<func>[^\s+()]+)(?:\+\d+)?\s*$")
# (a C++ name's template arguments may hold spaces: "gmx::Dist<float, 14u>::makeTable() ()")
# (a C++ function in an anonymous namespace: "(anonymous namespace)::Reverse(v8::Arguments const&) ()"; a stop line
# wrapped after its "at", the file:line alone on the next line)
_STOP_FRAME = re.compile(r"^(?:0x[0-9a-fA-F]+ in )?(?:\(anonymous namespace\)::)?[A-Za-z_~?<](?:[^\s(<]|<[^()\n]*>)*(?:\([^)]*\))? "
                         r"\((?:.*\)(?: at \S+:\d+| from \S+| at)?\s*|[^)]*,)$")
_SIGNAL = re.compile(r"^(?:Program|Thread \d+(?: \"[^\"]*\")?) (?:received|terminated with) signal ")
_CONT = re.compile(r"^\s+(?:at |from |\(\) |\(\)$|\()")      # "    (this=0x…, __x=0x…)": the argument list
# a bt pasted without its "#N" numbers: frame-shaped lines right under the bt command
_MD_BOLD_LINE = re.compile(r"^\s*\*\*([^\s*](?:.*[^\s*])?)\*\*\s*$")     # not glog's "*** SIGSEGV … ***"
_MODULE_FRAME = re.compile(r"^#(?P<no>\d+)\s+(?P<pc>0x[0-9a-fA-F]+)\s+(?P<func>)"
                           r"\((?P<mod>[^\s()+]+) \+ 0x[0-9a-fA-F]+\)\s*$")
# a logger's columns in front of every line (an app's log, a test harness): "2021-02-18 23:24:12 - ", "00000122\t22:39:53\t[19892] ",
# "[12:00:01.123] "; a date needs a time after it (a bare date is data)
_LOG_PREFIX = re.compile(r"^(?:\d+\t)?\[?(?:\d{4}[-/]\d\d[-/]\d\d[ T])?\d\d:\d\d:\d\d(?:[.,]\d{1,9})?\]?"
                         r"(?:[ \t]+-(?:[ \t]|$)|\t| |$)(?:\[\d+\](?:[ \t]|$))?"
                         # Android Studio's logcat: "pid-tid/package " before the "A/DEBUG: " tag (the tag stays)
                         r"(?:\d+-\d+(?:/\S+)? +(?=[VDIWEFA]/))?")
# a logger's record columns after the clock: uptime/counter numbers, a thread id, the level and one bracketed tag
# ("364.658051 T:1587278832  NOTICE: [plugin.x] …", "12 tid=77 ERROR [worker] …"); the level word is required
_LOG_LEVEL_PREFIX = re.compile(r"^\s*(?:\d[\d.:,]*\s+)*(?:(?:T|tid|TID|pid|PID)[:=]\d+\s+)?"
                               r"(?:DEBUG|INFO|NOTICE|WARNING|WARN|ERROR|FATAL|SEVERE|CRITICAL|[DIWEF]/\w+):?"
                               r"(?: +(?P<tag>\[[^\]\n]+\]))?(?: |$)")
# syslog's short format in front of every line, one program throughout ("Mar  3 10:00:01 host prog[42]: "); two
# programs interleaved (a journal excerpt) keep their columns: the lines are not one report
_JOURNAL_PREFIX = re.compile(r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ (?P<who>[^\s:\[]+(?:\[\d+\])?): ?")
_INLINE_FENCE = re.compile(r"^\s*```(?!`)(\S.*?)```\s*$|^\s*`(?!`)([^`]*\S)`\s*$")   # ```span``` or a whole line in `code`
# a raw stack of module-relative pcs (CaptureStackBackTrace, a Windows handler's list): "#8   0x00007FF7619761E8  prog.exe"
_PC_MODULE_FRAME = re.compile(r"^#(?P<no>\d+)\s+(?P<pc>0x[0-9a-fA-F]+)\s+(?P<mod>[\w.+-]+\.(?:exe|dll|sys|so(?:\.[\d.]+)?|dylib))\s*$", re.I)
_FRAME_REF_COPY = re.compile(r"^(\s*#(\d+)\s+)\[\2\]\s+(?=0x[0-9a-fA-F]+ in |\S+ \()")
_GLUED_FENCE = re.compile(r"^\s*(?:```|~~~)(?![`~])\s*(?=\S+\s+\S)")
_BT_COMMAND = re.compile(r"^(?:bt|backtrace|where|bt full|backtrace full|bt \d+)\s*$")


def _dedent(lines: list[str]) -> list[str]:
    """Drop the indentation common to every non-blank line (markdown code blocks, quoted mail)."""
    widths = []
    for ln in lines:
        if ln.strip():
            widths.append(len(ln) - len(ln.lstrip(" \t")))
    if not widths:
        return lines
    cut = min(widths)
    return [ln[cut:] if ln.strip() else "" for ln in lines] if cut else lines


def _balance(s: str) -> int:
    depth, in_str, prev = 0, False, ""
    for c in s:
        if in_str:
            if c == '"' and prev != "\\":
                in_str = False
        elif c == '"':
            in_str = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        prev = c
    return depth


def _join_pretty_values(lines: list[str]) -> list[str]:
    """``set print pretty on`` prints ``$1 = {`` and one member per line: join such a value into the
    one-line form gdb prints by default (``$1 = {si_signo = 11, si_errno = 0, ...}``)."""
    out, k = [], 0
    while k < len(lines):
        ln = lines[k]
        if re.match(r"^\$\d+ = \{\s*$", ln):
            depth, parts, j = 0, [], k
            while j < len(lines) and j - k < 2000:
                depth += lines[j].count("{") - lines[j].count("}")
                parts.append(lines[j].strip())
                j += 1
                if depth <= 0:
                    break
            joined = " ".join(parts)
            joined = re.sub(r"\{\s+", "{", re.sub(r"\s+\}", "}", joined))
            out.append(joined)
            k = j
            continue
        out.append(ln)
        k += 1
    return out


_BARE_FRAME = re.compile(r"^(?:> ?)?(0x[0-9a-fA-F]+ in (?:\?\?|[A-Za-z_~<]).*)$")


def _number_bare_frames(lines: list[str]) -> list[str]:
    """A run of three or more ``0x… in f (…) from lib`` lines with no ``#N`` anywhere (a bt copied
    without its numbers and without the command): number them as gdb did. A lone such line is a
    stop line, not a bt, and is left alone."""
    if any(_FRAME.match(ln) for ln in lines):
        return lines
    hits = [k for k, ln in enumerate(lines) if _BARE_FRAME.match(ln)]
    if len(hits) < 3:
        return lines
    # the run must be contiguous apart from continuation lines ("    at file.c:12", "    from lib.so")
    for a, b in zip(hits, hits[1:]):
        if any(not _CONT.match(lines[j]) for j in range(a + 1, b)):
            return lines
    out = list(lines)
    for n, k in enumerate(hits):
        out[k] = f"#{n}  {_BARE_FRAME.match(lines[k]).group(1)}"
    return out


def _wrapped_at_in(prev: str, nxt: str) -> bool:
    """gdb wraps a long frame line at its screen width where it may break (``wrap_here``): after ``in``, and before
    the argument list — ``#1  0x… in`` / ``ns::f(std::vector<int> const&)`` / ``()``: the pieces are one frame."""
    if prev.rstrip().endswith(" in"):
        return True
    fn = prev.split(" in ", 1)[-1]
    return bool(re.match(r"^\(.*\)(?: at \S+:\d+| from \S+)?$", nxt)) and prev.rstrip().endswith(")") \
        and " (" not in fn and "(" in fn and " at " not in fn and " from " not in fn


def _unitalic(lines: list[str]) -> list[str]:
    """A paste wrapped whole in markdown italics (``_panic: …`` … ``+0xebe_``): the two underscores dropped."""
    body = [k for k, ln in enumerate(lines) if ln.strip()]
    if len(body) < 2:
        return lines
    a, b = body[0], body[-1]
    if re.match(r"^\s*_[A-Za-z]", lines[a]) and re.search(r"[A-Za-z0-9)]_$", lines[b]):
        lines = list(lines)
        lines[a] = lines[a].replace("_", "", 1)
        lines[b] = lines[b][:-1]
    return lines


def _strip_log_prefixes(lines: list[str]) -> list[str]:
    """A log's time-stamp columns on (nearly) every line come off, so the gdb or sanitizer lines inside read as
    themselves (3+ lines, 90 % of them prefixed: one time-stamped line among gdb's is left alone)."""
    body = [ln for ln in lines if ln.strip()]
    if len(body) < 3:
        return lines
    hits = [_JOURNAL_PREFIX.match(ln) for ln in lines]
    if len({h.group("who") for h in hits if h}) == 1 and sum(1 for h in hits if h) >= 0.9 * len(body):
        return [ln[h.end():] if h else ln for ln, h in zip(lines, hits)]
    hits = [_LOG_PREFIX.match(ln) for ln in lines]
    if sum(1 for ln, h in zip(lines, hits) if h and ln.strip()) < 0.9 * len(body):
        return lines
    lines = [ln[h.end():] if h else ln for ln, h in zip(lines, hits)]
    # the record's level (and tag) columns after the clock, when every line carries the same tag
    hits = [_LOG_LEVEL_PREFIX.match(ln) for ln in lines]
    if sum(1 for ln, h in zip(lines, hits) if h and ln.strip()) >= 0.9 * len(body) and \
            len({h.group("tag") for h in hits if h}) == 1:
        lines = [ln[h.end():] if h else ln for ln, h in zip(lines, hits)]
    return lines


def normalize_paste(text: str) -> str:
    """The gdb lines inside a pasted transcript, one per line (see the module docstring)."""
    if _HTML_COLOUR.search(text):
        # a terminal's "copy as HTML" (<font color="#0000CD">0x…</font>): drop the colour markup; gdb's own
        # "<optimized out>" and "<main_arena>" were escaped (&lt;…&gt;) in such a paste and come back below
        text = _HTML_TAG.sub("", text)
    if "&#" in text or "&lt;" in text or "&gt;" in text or "&amp;" in text or "&nbsp;" in text:
        text = html.unescape(text)
    text = unescape_rsyslog(_ZERO_WIDTH.sub("", _ANSI.sub("", text)).replace("\r\n", "\n").replace("\r", "\n"))
    if "\\" in text:
        text = _MD_ESCAPE.sub(r"\1", _MD_BOLD_GI.sub(r"__\1__", text))
    if "**" in text:
        text = _MD_BOLD_FRAME_NAME.sub(r"\1__", text)
    # fence lines go; a one-line span in triple backticks ("```prog: fatal error: …```") keeps what it quotes
    lines = [_INLINE_FENCE.sub(lambda m: m.group(1) or m.group(2), ln.rstrip()) for ln in text.split("\n")]
    # (an opening fence with the first line glued to it, "```Thread 1 "gwc" received signal …", keeps that line: a
    # language tag is one word)
    lines = [_GLUED_FENCE.sub("", ln) for ln in lines]
    lines = [ln for ln in lines if not ln.lstrip().startswith(("```", "~~~"))]
    body = [ln for ln in lines if ln.strip()]
    if body and sum(ln.lstrip().startswith(">") for ln in body) >= 0.8 * len(body):
        # a quoted reply (mail, markdown "> "): drop one level of quoting
        lines = [re.sub(r"^\s*> ?", "", ln) for ln in lines]
    lines = [ln[1:] if ln.startswith("`") and not ln.startswith("``") else ln for ln in lines]
    # a mail reply that numbered each frame again as a reference, "#3 [3] 0x… in f ()": the copy goes
    lines = [_FRAME_REF_COPY.sub(r"\1", ln) for ln in lines]
    lines = undo_go_paste(_strip_log_prefixes(lines))       # a flattened or glued Go report
    lines = cut_signature_prefixes(_unitalic(lines))
    lines = _join_pretty_values(_dedent(lines))
    lines = apple_gdb_stop(gef_register_lines(_number_bare_frames(strip_record_prefixes(lines))))
    out: list[str] = []
    after_signal = False
    unnumbered = None      # the next frame number of a bt pasted without numbers
    for ln in lines:
        s = ln
        # a prompt may follow output on the same line ("[New Thread 1 (LWP 2)](gdb) bt")
        k = s.find("(gdb) ")
        if k > 0 and s[:k].rstrip().endswith("]"):
            out.append(s[:k].rstrip())
            s = s[k:]
        if s.lstrip().startswith("** "):
            s = s.lstrip()[3:]     # a markdown bold marker put in front of the line that matters
        b = _MD_BOLD_LINE.match(s)
        if b:
            s = b.group(1)         # "**Thread 4 "x" received signal SIGSEGV, Segmentation fault.**": a whole line in bold
        m = _PC_MODULE_FRAME.match(s.lstrip())
        if m:
            s = f"#{m.group('no')}  {m.group('pc')} in ?? () from {m.group('mod')}"
        m = _MODULE_FRAME.match(s.lstrip())
        if m:
            # "#0  0x… (prog + 0x12ca2ba)" (coredumpctl's shape, its "n/a" or name cut): no function, a module offset
            s = f"#{m.group('no')}  {m.group('pc')} in {m.group('func') or '??'} () from {m.group('mod')}"
        m = _PROMPT.match(s.lstrip())
        if m:
            s = s.lstrip()[m.end():]
        stripped = _SPACED_HASH.sub(r"#\1  ", s.lstrip())
        if stripped != s.lstrip():
            s = stripped
        m = _GEF_FRAME.match(stripped)
        if m:
            body = m.group("body")
            s = stripped = f"#{m.group('no')}  {m.group('pc')} in {body if '(' in body else body + ' ()'}"
        m = _PWNDBG_FRAME.match(stripped)
        if m:
            s = stripped = f"#{m.group('no')}  {m.group('pc')} in {m.group('func')} ()"
        if _FRAME.match(stripped) or _NO_HASH_FRAME.match(stripped):
            s = stripped
        m = _NO_HASH_FRAME.match(s)
        if m:
            s = "#" + s
        if unnumbered is not None:
            # (or numbered in order with the "#" lost, "1  QWidget::actions (this=…) at …": markdown or a quote ate it)
            n = re.match(r"^(\d{1,5}) +(?=\S)", s)
            if n and int(n.group(1)) == unnumbered and _STOP_FRAME.match(s[n.end():].rstrip()):
                s = s[n.end():]
            if not _FRAME.match(s) and s.strip() and _STOP_FRAME.match(s.rstrip()):
                s = f"#{unnumbered}  {s.rstrip()}"
                unnumbered += 1
            else:
                unnumbered = None
        if _BT_COMMAND.match(s.strip()):
            unnumbered = 0
        # frame #0 printed right under the signal line, without "#0"
        if after_signal and not _FRAME.match(s) and not s.startswith("["):
            g = _GLUED_SOURCE.match(s)
            if g and _STOP_FRAME.match(g.group("frame")):
                out.extend(["#0  " + g.group("frame"), f"{g.group('line')}\t{g.group('src')}"])
                after_signal = False
                continue
            if _STOP_FRAME.match(s):
                s = "#0  " + s
        if s.startswith("Attaching to "):
            after_signal = True    # gdb -p prints where the attached thread stands, like a stop
        elif s.startswith(("[", "Using host libthread_db", "Reading symbols", "Loaded symbols")) or not s.strip():
            pass   # [Switching to ...], [New LWP ...], libthread_db lines and blanks keep the stop context
        else:
            after_signal = bool(_SIGNAL.match(s))
        # continuation of a wrapped frame: unbalanced parentheses, or "at file:line" / "from lib" alone
        if out and _FRAME.match(out[-1]) and s.strip() and not _FRAME.match(s):
            prev = out[-1]
            depth = _balance(prev)
            if (depth > 0 and prev.count("\x00") == 0 and len(prev) < 8000) or _CONT.match(ln) or \
                    (re.match(r"^at \S+:\d+\s*$", s.strip()) and " at " not in prev) or \
                    (prev.rstrip().endswith(") at") and re.match(r"^\S+:\d+\s*$", s.strip())) or \
                    _wrapped_at_in(prev, s.strip()):
                out[-1] = prev + ("" if prev.endswith((" ", "(")) else " ") + s.strip()
                continue
        out.append(s)
    return "\n".join(out)

