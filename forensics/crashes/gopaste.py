"""What a tracker or a log did to the Go runtime's crash report, undone before the Go reader sees it (a log's
columns in front of every line, syslog's short format too, come off before, in ``paste._strip_log_prefixes``).

- A report flattened onto one line (a tracker that joined the lines with blanks) is cut back into the
  runtime's lines: the ``goroutine N [state]:`` headers, each call ``pkg.f(args)`` and its ``file.go:N +0x..``.
- A program's progress text that the runtime's ``panic:`` line was glued to (stdout without a newline, then
  stderr) is put on its own line, when a goroutine header follows it as the runtime prints it.
- A Go program on Android built with gomobile writes its stderr to logcat under the tag ``GoLog``
  (``golang.org/x/mobile/internal/mobileinit``: one record per line), so ``adb logcat``'s columns
  (``03-14 09:26:53.589  4100  4188 E GoLog   : ``, the threadtime format's date, time, pid, tid, level and tag) stand
  in front of every line of the runtime's report: they come off, even on a report cut to its one ``fatal error:`` line.
- The Go runtime on Android writes its own stderr to logcat under the tag ``Go`` (``runtime/write_err_android.go``),
  and Android Studio's logcat view prints a record as ``07-04 13:52:59.933 1866-0/com.app E/Go: text`` with the
  record's further lines under it indented by four spaces: the columns and that indent come off (a ``GoLog`` record
  of the same view too), when every line is such a record or its continuation.
"""
from __future__ import annotations

import re

_HEADER = r"goroutine \d+ \[[^\]\n]*\]:"
_GLUED_HEADER = re.compile(rf"\S\s+(?={_HEADER})")
_HEADER_LINE = re.compile(rf"^\s*{_HEADER}\s*$")
# the runtime's file column: "/src/x/y.go:12 +0x1f" (".s" for assembly); a call's argument list before it
_FILE_AFTER_CALL = re.compile(r"(?<=\))\s+(?=\S+\.(?:go|s):\d+(?: \+0x[0-9a-fA-F]+)?(?:\s|$))")
_FILE_END = re.compile(r"(\.(?:go|s):\d+(?: \+0x[0-9a-fA-F]+)?)\s+(?=\S)")
_CREATED_FILE = re.compile(r"^(created by \S+)\s+(?=\S+\.(?:go|s):\d+)")
_GOLOG = re.compile(r"^\s*\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\s+\d+\s+\d+ [VDIWEF] GoLog\s*: ?")
# Android Studio's logcat view: "MM-DD hh:mm:ss.mmm pid-tid/package L/Tag: "; a record's further lines indented by 4
_STUDIO_GO = re.compile(r"^\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \d+-\d+/\S+ [VDIWEF]/Go(?:Log)?: ?")
_GLUED_PANIC = re.compile(r"^(?P<pre>.*\S)\s+(?P<rt>panic: \S.*)$")


def _unflatten(ln: str) -> list[str]:
    if not (re.search(_HEADER, ln) and _GLUED_HEADER.search(ln) and re.search(r"\.go:\d+", ln)
            and re.search(r"(?:^|\s)(?:panic|fatal error): ", ln)):
        return [ln]
    ln = re.sub(rf"\s*({_HEADER})\s*", r"\n\n\1\n", ln.strip())
    out = []
    for part in ln.split("\n"):
        if _HEADER_LINE.match(part) or not part.strip():
            out.append(part)
            continue
        part = _FILE_END.sub(r"\1\n", _FILE_AFTER_CALL.sub("\n\t", part))
        for p in part.split("\n"):
            c = _CREATED_FILE.match(p)
            out.extend([c.group(1), "\t" + p[c.end():]] if c else [p])
    return out


def _unglue_panic(lines: list[str]) -> list[str]:
    out = []
    for k, ln in enumerate(lines):
        m = _GLUED_PANIC.match(ln)
        nxt = next((x for x in lines[k + 1:k + 3] if x.strip()), "")
        if m and not ln.lstrip().startswith("panic: ") and _HEADER_LINE.match(nxt):
            out.extend([m.group("pre"), m.group("rt")])
        else:
            out.append(ln)
    return out


def undo_go_paste(lines: list[str]) -> list[str]:
    """The lines of a pasted Go crash report as the runtime printed them (other pastes unchanged)."""
    body = [ln for ln in lines if ln.strip()]
    if body and all(_GOLOG.match(ln) for ln in body):
        lines = [ln[_GOLOG.match(ln).end():] if ln.strip() else ln for ln in lines]
    if body and _STUDIO_GO.match(body[0]) and all(_STUDIO_GO.match(ln) or ln.startswith("    ") for ln in body):
        lines = [ln[_STUDIO_GO.match(ln).end():] if _STUDIO_GO.match(ln) else ln[4:] for ln in lines]
    if not any("goroutine " in ln or "panic: " in ln for ln in lines):
        return lines
    lines = [p for ln in lines for p in _unflatten(ln)]
    return _unglue_panic(lines)
