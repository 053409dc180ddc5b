"""Sanitizer reports (AddressSanitizer, MemorySanitizer, ...) as the gdb lines they mean.

A sanitizer prints ``==42==ERROR: AddressSanitizer: heap-use-after-free on address 0x… at pc …``,
then ``READ of size 8 at 0x… thread T2`` (or, for a fault, ``==42==The signal is caused by a WRITE
memory access.``) and the access stack, one ``#0 0x4f07b4 in func file.c:56:13`` or ``#1 0x53b84d
(/path/prog+0x53b84d)`` line per frame; then the ``freed by`` / ``previously allocated by`` stacks and
the shadow map. :func:`sanitizer_to_gdb` rewrites the access stack into gdb frames (``#0  0x4f07b4 in
func () at file.c:56`` or ``from /path/prog``), a ``SEGV`` report into ``Thread N received signal
SIGSEGV`` plus a ``$_siginfo``-style line holding the sanitizer's own address, and indents the other
stacks so they are kept as text but never read as the crash stack. The report's kind, access and
thread stay on their own lines for the parser (``sanitizer_facts``).

>>> print(sanitizer_to_gdb("==7==ERROR: AddressSanitizer: heap-use-after-free on address 0x6020 at pc 0x4f bp 0x1 sp 0x2\\n"
...                        "READ of size 4 at 0x6020 thread T0\\n"
...                        "    #0 0x4f07b4 in lookup /src/map.c:56:13\\n"
...                        "    #1 0x4f0900 in main /src/main.c:9\\n\\n"
...                        "freed by thread T0 here:\\n"
...                        "    #0 0x7ff4e609ea in free (/usr/lib64/libasan.so.5+0x119ea)"))
==7==ERROR: AddressSanitizer: heap-use-after-free on address 0x6020 at pc 0x4f bp 0x1 sp 0x2
READ of size 4 at 0x6020 thread T0
#0  0x4f07b4 in lookup () at /src/map.c:56
#1  0x4f0900 in main () at /src/main.c:9
<BLANKLINE>
freed by thread T0 here:
        #0 0x7ff4e609ea in free (/usr/lib64/libasan.so.5+0x119ea)
"""
from __future__ import annotations

import re

# "==42==ERROR: AddressSanitizer: SEGV on unknown address 0x000000000000 (pc … T0)"; old ASan: "==42== ERROR: …"
# a tracker's markdown may turn "==42==ERROR: …" into a heading ("## ERROR: …"): the pid is then lost
HEADER = re.compile(r"^\s*(?:==\d+==\s*|#{1,6} +)ERROR: (?P<tool>\w+Sanitizer): (?P<kind>[\w-]+)"
                    r"(?: on (?:unknown )?address (?P<addr>0x[0-9a-fA-F]+))?(?P<rest>.*)$")
ACCESS = re.compile(r"^\s*(?:#{1,6} +)?(?P<rw>READ|WRITE) of size (?P<size>\d+) at (?P<addr>0x[0-9a-fA-F]+) thread T(?P<t>\d+)")
SIGNAL_ACCESS = re.compile(r"^\s*==\d+==The signal is caused by a (?P<rw>READ|WRITE|UNKNOWN) memory access")
# "==N==Hint: address points to the zero page." / "…caused by a dereference of a high value address"
HINT = re.compile(r"^\s*==\d+==Hint: (?:(?P<zero>address points to the zero page)|this fault was caused by a "
                  r"dereference of a high value address)")
_THREAD = re.compile(r"(?:\bT(?P<t>\d+)\)| in thread T(?P<t2>\d+):?)\s*$")
# "attempting double-free on 0x…", "attempting free on address which was not malloc()-ed: 0x…"
_ATTEMPTING = [(re.compile(r"^ double-free\b"), "double-free"), (re.compile(r"^ free on address which was not malloc"), "bad-free")]


def _kind(m: re.Match) -> str:
    kind = m.group("kind")
    if kind == "attempting":
        for rx, name in _ATTEMPTING:
            if rx.match(m.group("rest") or ""):
                return name
    return kind


def _thread(m: re.Match) -> int | None:
    t = _THREAD.search(m.group("rest") or "")
    return int(t.group("t") or t.group("t2")) if t else None
_FRAME = re.compile(r"^\s*#(?P<no>\d+) (?P<pc>0x[0-9a-fA-F]+)(?: in (?P<rest>.+?)| +\((?P<mod>[^()]+)\))?\s*$")
_MODULE = re.compile(r"^(?P<func>.*?)\s*\((?P<mod>[^()]*?)\+(?P<off>0x[0-9a-fA-F]+)\)$")
_FILE = re.compile(r"^(?P<func>.*?) (?P<file>[^\s()]+?):(?P<line>\d+)(?::\d+)?$")
_BUILD_ID = re.compile(r"\s*\(BuildId: [0-9a-fA-F]+\)\s*$")
_SIGNALS = {"SEGV": ("SIGSEGV", 11), "BUS": ("SIGBUS", 7), "FPE": ("SIGFPE", 8), "ILL": ("SIGILL", 4),
            "ABRT": ("SIGABRT", 6)}


# the report's last line, which names the kind again: what is left when a paste lost the header
SUMMARY = re.compile(r"^\s*SUMMARY: (?P<tool>\w+Sanitizer): (?P<kind>[\w-]+)", re.M)


# the tail AddressSanitizer prints after every report: the shadow legend, then "==PID==ABORTING"
_ASAN_TAIL = re.compile(r"^\s*Shadow byte legend \(one shadow byte represents \d+ application bytes\):[\s\S]*?^\s*==\d+==ABORTING\s*$", re.M)
CUT_KIND = "kind-not-shown"


def looks_like_sanitizer(text: str) -> bool:
    return bool(_ASAN_TAIL.search(text)) or bool(re.search(r"^\s*(?:==\d+==\s*|#{1,6} +)ERROR: \w+Sanitizer: ", text, re.M)) or \
        (bool(SUMMARY.search(text) and re.search(r"^\s*SUMMARY: ", text, re.M))
         and bool(re.search(r"^\s*#\d+ 0x[0-9a-fA-F]+ in ", text, re.M)))


def _frame(m: re.Match) -> str:
    """One sanitizer frame as gdb prints it: ``#N  0xPC in func () at file:line`` or ``from module``."""
    no, pc, rest = m.group("no"), m.group("pc"), m.group("rest")
    if rest is None:
        mod = (m.group("mod") or "").rsplit("+", 1)[0]
        return f"#{no}  {pc} in ?? ()" + (f" from {mod}" if mod else "")
    rest = _BUILD_ID.sub("", rest)
    mm = _MODULE.match(rest)
    if mm:
        func = re.sub(r"\+0x[0-9a-fA-F]+$", "", mm.group("func").strip()) or "??"
        mod = mm.group("mod").split(":", 1)[0]        # "dyld:x86_64" names dyld
        return f"#{no}  {pc} in {func} () from {mod}"
    mf = _FILE.match(rest)
    if mf:
        return f"#{no}  {pc} in {mf.group('func').strip()} () at {mf.group('file')}:{mf.group('line')}"
    return f"#{no}  {pc} in {rest.strip()} ()"


def sanitizer_to_gdb(text: str) -> str:
    """Rewrite the first sanitizer report's access stack into gdb lines (other lines kept, see above)."""
    out, state, sig_line = [], "before", None
    if not re.search(r"^\s*(?:==\d+==\s*|#{1,6} +)ERROR: \w+Sanitizer: ", text, re.M):
        state = "stack"      # the header was cut off (only the SUMMARY names the kind): the stack comes first
    for ln in text.split("\n"):
        if state == "before":
            m = HEADER.match(ln)
            if m:
                out.append(ln.strip())
                state = "stack"
                kind = _kind(m)
                if kind in _SIGNALS:
                    sig, signo = _SIGNALS[kind]
                    t = _thread(m)
                    n = t + 1 if t is not None else 1
                    sig_line = [f"Thread {n} received signal {sig}, {m.group('tool')}: {kind}."]
                    if m.group("addr"):
                        sig_line.append(f"$0 = {{si_signo = {signo}, si_errno = 0, si_code = 1, "
                                        f"_sigfault = {{si_addr = {m.group('addr')}}}}}")
                    # else "SEGV on unknown address (pc …)": ASan printed no address (the signal
                    # carried none it trusted); its Hint line may still say zero page vs high address
                    out.extend(sig_line)
                continue
            out.append(ln)
            continue
        m = _FRAME.match(ln)
        if state == "stack":
            if m:
                out.append(_frame(m))
                continue
            if out and re.match(r"#\d+ ", out[-1]) and (not ln.strip() or not ln.startswith(" ")):
                state = "after"    # the access stack ended: what follows is other stacks and the shadow map
        if state == "after" and m:
            out.append("    " + ln.strip() if ln.startswith("#") else "    " + ln)
            continue
        out.append(ln.strip() if state == "stack" and (ACCESS.match(ln) or SIGNAL_ACCESS.match(ln)) else ln)
    return "\n".join(out)


def sanitizer_facts(lines) -> dict:
    """The report's tool, kind, address, access and thread, from the lines :func:`sanitizer_to_gdb` kept."""
    facts: dict = {}
    for ln in lines:
        if "Sanitizer" in ln and "facts" not in facts:
            m = HEADER.match(ln)
            if m:
                # "attempting double-free on 0x…" names its address later in the line; "(pc 0x… bp …)"
                # is where the code was, never the address accessed
                before_pc = (m.group("rest") or "").split("(pc ", 1)[0]
                addr = m.group("addr") or (re.search(r"\b(0x[0-9a-fA-F]+)", before_pc) or [None, None])[1]
                facts.update(sanitizer=m.group("tool"), sanitizer_kind=_kind(m),
                             sanitizer_addr=int(addr, 16) if addr else None, facts=True)
                if _thread(m) is not None:
                    facts["sanitizer_thread"] = _thread(m)
                continue
        if "facts" in facts and "sanitizer_hint" not in facts:
            h = HINT.match(ln)
            if h:
                facts["sanitizer_hint"] = "zero-page" if h.group("zero") else "high-address"
        if "facts" in facts and "access" not in facts:
            m = ACCESS.match(ln) or SIGNAL_ACCESS.match(ln)
            if m and m.group("rw") != "UNKNOWN":
                facts["access"] = m.group("rw").lower()
                if "t" in m.groupdict() and m.group("t") is not None:
                    facts["sanitizer_thread"] = int(m.group("t"))
                    facts["access_size"] = int(m.group("size"))
    if "sanitizer_kind" not in facts:
        for ln in lines:
            m = SUMMARY.match(ln)
            if m and m.group("kind") not in ("undefined-behavior", "detected"):
                # the header was cut off: the SUMMARY line still names the tool and the kind
                facts.update(sanitizer=m.group("tool"), sanitizer_kind=m.group("kind"), sanitizer_addr=None)
                break
    if "sanitizer_kind" not in facts and _ASAN_TAIL.search("\n".join(lines)):
        # only ASan's tail is left (the header with the kind, and the stacks, were above the excerpt): a report, no kind
        facts.update(sanitizer="AddressSanitizer", sanitizer_kind=CUT_KIND, sanitizer_addr=None)
    facts.pop("facts", None)
    return facts


#: sanitizer report kinds -> (class, exploitability, rule); a SEGV/BUS/FPE report is read as that signal
_SANITIZER_CLASS = [
    (r"^heap-use-after-free$|^use-after-poison$", "wild-pointer", "UseAfterFree"),
    (r"^(?:heap-buffer-overflow|double-free|bad-free|alloc-dealloc-mismatch|new-delete-type-mismatch|"
     r"calloc-overflow|malloc-exceeded|allocation-size-too-big)$", "heap-corruption", "HeapError"),
    (r"^(?:dynamic-)?stack-buffer-(?:overflow|underflow)$|^stack-use-after-(?:return|scope)$",
     "stack-buffer-overrun", "StackBufferOverflow"),
    (r"^global-buffer-overflow$|^container-overflow$|^intra-object-overflow$", "wild-pointer", "SourceAv"),
    (r"^stack-overflow$", "stack-overflow", "StackOverflow"),
]


def sanitizer_class(facts: dict) -> tuple:
    """(class, subclass, exploitability, rule, reason) for a sanitizer report that names no signal."""
    kind, access = facts["sanitizer_kind"], facts.get("access")
    sub = kind + (f":{access}" if access else "")
    where = facts.get("sanitizer_addr")
    what = f"{facts['sanitizer']} reports {kind}" + (f" on 0x{where:x}" if where is not None else "") + \
        (f" ({access.upper()} of {facts['access_size']} bytes)" if access and facts.get("access_size") else "")
    for pattern, cls, rule in _SANITIZER_CLASS:
        if re.match(pattern, kind):
            expl = "exploitable" if access == "write" or cls == "heap-corruption" else "probably"
            if cls == "stack-overflow":
                expl = "probably not"
            return cls, sub, expl, rule, what
    if kind == CUT_KIND:
        return "unknown", kind, "unknown", "UncategorizedSignal", \
            f"only the tail of an {facts['sanitizer']} report (shadow legend, ABORTING): the line naming its kind is not in the text"
    return "unknown", sub, "unknown", "UncategorizedSignal", what + ": a report kind with no class rule"
