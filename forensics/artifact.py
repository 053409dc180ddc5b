"""Provenance, read-only opening and content sniffing of evidence files.

Evidence is sacred: files are only ever opened read-only, never written, and
every loaded result carries a :class:`Provenance` (path, size, SHA-256, kind,
parser, warnings) — on the loader's result object and in each DataFrame's
``attrs["provenance"]``, which pandas keeps through filter, merge and concat.

Kinds are decided from content (magic bytes, JSON keys, text markers), never
from the file name.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import gzip
import hashlib
import io
import mmap
import os
import re
import threading
import warnings as _warnings
import zlib
from dataclasses import dataclass, field

from .errors import ArtifactError
from . import kinds as _kinds
from .kinds import DESCRIPTIONS

#: Every kind :func:`detect` can return, with what it means (a live view of :mod:`forensics.kinds`).
KINDS = DESCRIPTIONS

#: Bytes per hash step: read into one reused buffer that stays in the CPU's L2 cache for the hash
#: (fresh 1 MiB ``bytes`` per read were 5-20 % slower on a 1.4 GB capture; network/hashing.py).
HASH_CHUNK = 128 << 10
#: Files above this size get a progress bar while they load (smaller ones load in well under a second).
PROGRESS_THRESHOLD = 16 << 20
_HEAD = 64 << 10


class ArtifactWarning(UserWarning):
    """A file loaded, but not all of it was valid; the message says where."""


def _utcnow() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


@dataclass
class Provenance:
    """Where a result came from, recorded when the file was loaded.

    ``warnings`` lists, in words, every place where the loader stopped or
    skipped something (``"byte 1,048,580: record cut short — truncated capture?"``).
    """

    path: str
    size: int
    sha256: str
    kind: str | None = None
    format: str | None = None
    parser: str | None = None
    parser_version: str | None = None
    loaded_at: str = field(default_factory=_utcnow)
    mtime: float | None = None
    warnings: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)

    @classmethod
    def of(cls, path, kind=None, format=None, parser=None) -> "Provenance":
        """Size and SHA-256 of ``path`` (hashed in chunks, opened read-only)."""
        from . import __version__

        path = os.fspath(path)
        st = _stat(path)
        return cls(
            path=os.path.abspath(path),
            size=st.st_size,
            sha256=sha256_of(path),
            kind=kind,
            format=format,
            parser=parser,
            parser_version=__version__,
            mtime=st.st_mtime,
        )

    def warn(self, location, reason: str) -> str:
        """Record (and emit as an :class:`ArtifactWarning`) a problem found while loading."""
        msg = str(ArtifactError(None, location, reason))
        self.warnings.append(msg)
        _warnings.warn(f"{os.path.basename(self.path)}: {msg}", ArtifactWarning, stacklevel=2)
        return msg

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def attach(self, *frames):
        """Put this provenance into each DataFrame's ``attrs``; returns the frames."""
        d = self.to_dict()
        for df in frames:
            if df is not None:
                df.attrs["provenance"] = d
        return frames[0] if len(frames) == 1 else frames


def _stat(path: str) -> os.stat_result:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ArtifactError(path, None, "no such file") from None
    except OSError as e:
        raise ArtifactError(path, None, f"cannot read: {e.strerror}") from None
    if not os.path.isfile(path):
        raise ArtifactError(path, None, "not a regular file")
    return st


def open_readonly(path):
    """Open ``path`` for binary reading only (``O_RDONLY``); raises :class:`ArtifactError`."""
    path = os.fspath(path)
    _stat(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise ArtifactError(path, None, f"cannot open: {e.strerror}") from None
    return os.fdopen(fd, "rb")


def map_readonly(path) -> memoryview | bytes:
    """The file's bytes, memory-mapped read-only (``b""`` for an empty file).

    Wrap with ``numpy.frombuffer`` for columnar parsing without copying.
    """
    with open_readonly(path) as f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            return b""
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)


def sha256_of(path) -> str:
    early = early_hash(path)
    if early is not None:
        return early.result()
    h = hashlib.sha256()
    buf = bytearray(HASH_CHUNK)
    view = memoryview(buf)
    with open_readonly(path) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


#: Bytes per read of a :class:`BackgroundHash` (see there for the measurement).
BACKGROUND_CHUNK = 4 << 20


class BackgroundHash:
    """SHA-256 of ``path`` in a daemon thread; :meth:`result` waits for the hex digest.

    SHA-256 is one sequential chain, so on a big artifact it is the longest single job; run
    beside the parser it costs no wall time (``hashlib`` releases the GIL while it hashes).
    Reads go into one reused :data:`BACKGROUND_CHUNK` buffer: while the other thread runs Python
    (imports, pandas) it holds the GIL, and each piece costs a wait for it, so big pieces win —
    ``forensics pcap summary`` of the 1.4 GB benchmark capture, idle machine: 2.38–2.46 s with
    128 KiB pieces, 2.18–2.20 s with 1 MiB, 1.97–2.05 s with 4 MiB, 2.13–2.22 s with 16 MiB.
    """

    def __init__(self, path, after: "BackgroundHash | None" = None):
        self.path = os.fspath(path)
        self._f = open_readonly(self.path)  # raises ArtifactError here, in the caller, for a missing file
        self._after = after  # start when that one is done: one hashing core, not one per file
        self._stop = False
        self._digest = None
        self._error = None
        self._thread = threading.Thread(target=self._run, name="sha256", daemon=True)
        self._thread.start()

    def _run(self):
        if self._after is not None:
            self._after._thread.join()
            self._after = None
        h = hashlib.sha256()
        buf = bytearray(BACKGROUND_CHUNK)
        view = memoryview(buf)
        try:
            with self._f as f:
                while not self._stop:
                    n = f.readinto(buf)
                    if not n:
                        self._digest = h.hexdigest()
                        return
                    h.update(view[:n])
        except OSError as e:
            self._error = e

    def result(self) -> str:
        """The hex digest (waits for the thread); :class:`ArtifactError` if the file could not be read."""
        self._thread.join()
        if self._error is not None:
            raise ArtifactError(self.path, None, f"cannot read while hashing: {self._error}")
        if self._digest is None:
            raise RuntimeError("hash cancelled")
        return self._digest

    def cancel(self) -> None:
        """Stop at the next piece (nothing to wait for); :meth:`result` must not be called after."""
        self._stop = True


#: Hashes started before anything asked for them (the CLI starts its big file arguments' hashes
#: first thing, so they run while Python imports pandas and numba), by the file's identity.
_EARLY: dict = {}

#: Files smaller than this are hashed when asked: their hash is quicker than a thread's start-up.
EARLY_HASH_MIN = 16 << 20


def _identity(path):
    st = os.stat(path)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def start_early_hashes(paths) -> int:
    """Start the SHA-256 of each regular file in ``paths`` of at least :data:`EARLY_HASH_MIN` bytes.

    Anything that is not such a file is passed over (these are command-line words, not yet known
    to be paths). They run one after another on one thread (the other core parses). Returns how
    many hashes were started. :func:`sha256_of` and :func:`early_hash` hand out their results.
    """
    started, last = 0, None
    for p in paths:
        try:
            if not isinstance(p, (str, os.PathLike)) or not os.path.isfile(p):
                continue
            key = _identity(p)
            if key[2] < EARLY_HASH_MIN or key in _EARLY:
                continue
            _EARLY[key] = last = BackgroundHash(p, after=last)
            started += 1
        except (OSError, ArtifactError, ValueError):
            continue  # unreadable here: the command itself will say so
    return started


def early_hash(path):
    """The :class:`BackgroundHash` started early for this very file (same device, inode, size and
    mtime), or None."""
    if not _EARLY:
        return None
    try:
        return _EARLY.get(_identity(path))
    except (OSError, ValueError):
        return None


def read_head(path, n: int = _HEAD) -> bytes:
    with open_readonly(path) as f:
        return f.read(n)


# --------------------------------------------------------------------------- sniffing

@dataclass(frozen=True)
class Detection:
    """What :func:`sniff` decided, and why (``evidence`` is for the user)."""

    kind: str | None
    format: str | None
    evidence: str


_PCAP_MAGIC = {
    b"\xd4\xc3\xb2\xa1": "pcap (µs, little-endian)",
    b"\xa1\xb2\xc3\xd4": "pcap (µs, big-endian)",
    b"\x4d\x3c\xb2\xa1": "pcap (ns, little-endian)",
    b"\xa1\xb2\x3c\x4d": "pcap (ns, big-endian)",
}

_RE_GDB = re.compile(
    rb"^(?:#\d+\s+(?:0x[0-9a-fA-F]+ in )?\S+ \(|Program (?:received|terminated with) signal |"
    rb"Core was generated by |Thread \d+ \(Thread 0x|\[Thread debugging using libthread_db|"
    rb"\[New LWP \d+\]|GNU gdb |\s*Id\s+Target Id\s+Frame)",
    re.M,
)
_RE_PPROF_TOP = re.compile(rb"^\s*flat\s+flat%\s+sum%\s+cum\s+cum%\s*$", re.M)
_RE_JVM = re.compile(rb"#instances\s+#bytes\s+class name", re.I)
_RE_TRACEMALLOC = re.compile(
    rb"size=-?\d[\d.]* [KMGT]?i?B(?: \([+-]\d[\d.]* [KMGT]?i?B\))?, count=-?\d+"
)
_RE_PGSS_TEXT = re.compile(rb"\bqueryid\b|\btotal_(?:exec_)?time\b", re.I)
_RE_PGSS_CALLS = re.compile(rb"\bcalls\b", re.I)
# psql pads the header to the widest query text: past 64 KiB, `calls` is beyond the head.
_RE_PGSS_KEY = re.compile(rb"\buserid\s*\|\s*dbid\s*\|", re.I)


def _pg_sniff():
    from .postgres import sniff  # light (re only): plans, logs and activity snapshots have their own kinds

    return sniff


def _sniff_json(head: bytes) -> Detection | None:
    h = head
    if b'"snapshot"' in h and b'"node_fields"' in h:
        return Detection("v8-heapsnapshot", "v8 heapsnapshot", 'JSON with "snapshot".meta.node_fields')
    if b'"resourceSpans"' in h:
        fmt = "otlp (api_v3 result)" if re.search(rb'"result"\s*:', h) else "otlp"
        return Detection("otlp-json", fmt, 'JSON with "resourceSpans"')
    if b'"operationName"' in h or b'"spanID"' in h:
        fmt = "jaeger api_v2 proto-JSON" if b'"spanId"' in h else "jaeger ui"
        return Detection("jaeger-json", fmt, 'JSON with Jaeger span keys ("operationName"/"spanID")')
    if b'"traceId"' in h and (b'"localEndpoint"' in h or b'"remoteEndpoint"' in h
                              or re.search(rb'"id"\s*:\s*"[0-9a-fA-F]{16}"', h)):
        return Detection("zipkin-json", "zipkin v2", 'JSON with Zipkin v2 span keys ("traceId", "id", endpoints)')
    if b'"queryid"' in h.lower() and b'"calls"' in h.lower():
        return Detection("pg_stat_statements", "json", 'JSON with "queryid" and "calls" keys')
    return None


def sniff(path) -> Detection:
    """Decide what an artifact is from its first bytes.

    Returns a :class:`Detection` whose ``kind`` is ``None`` when nothing matched;
    ``evidence`` then says what the file looks like.
    """
    head = read_head(path)
    d = _sniff_head(head)
    if d.kind is None and head:
        for entry in _kinds.KINDS:  # kinds added by an entry with its own sniffer
            if entry.sniff is not None:
                try:
                    hit = _kinds.resolve(entry.sniff)(head)
                except Exception:  # a missing or defective sniffer must not stop the others from deciding
                    continue
                if hit:
                    return Detection(entry.name, hit[0], hit[1])
    return d


def _sniff_head(head: bytes) -> Detection:
    if not head:
        return Detection(None, None, "the file is empty")
    magic = head[:4]
    if magic in _PCAP_MAGIC:
        return Detection("pcap", _PCAP_MAGIC[magic], "pcap magic number")
    if magic == b"\x0a\x0d\x0d\x0a":
        return Detection("pcapng", "pcapng", "pcapng section header block")
    if head[:2] == b"\x1f\x8b" or magic in (b"\x28\xb5\x2f\xfd", b"\x04\x22\x4d\x18"):
        from .network.compressed import sniff_compressed_capture  # .pcap.gz / .zst / .lz4

        hit = sniff_compressed_capture(head)
        if hit:
            return Detection(*hit)
    if head[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(head)) as g:
                inner = g.read(64)
        except (OSError, EOFError, gzip.BadGzipFile, zlib.error):  # zlib.error: a corrupt deflate stream
            inner = b""
        # profile.proto starts with the key of one of its fields: length-delimited 1-6, 11, 13
        # (sample_type, sample, ..., period_type — Go's runtime/pprof writes period_type first)
        # or varint 7-10, 12-14.
        if inner[:1] and inner[0] in {f << 3 | 2 for f in (1, 2, 3, 4, 5, 6, 11, 13)} | {f << 3 for f in (7, 8, 9, 10, 12, 13, 14)}:
            return Detection("pprof", "pprof profile.proto (gzip)", "gzip holding a protobuf message")
        return Detection(None, None, "a gzip-compressed file that is not a pprof profile")
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return Detection("python-pickle", f"pickle protocol {head[1]}", "pickle protocol header")
    if b"\x00" in head[:4096]:
        return Detection(None, None, f"binary data starting {head[:8].hex(' ')}, not a known capture or profile")

    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] == b"{" or re.match(rb"\[\s*[\[{\"\d\]-]", stripped):
        d = _sniff_json(stripped)
        if d is not None:
            if stripped[:1] == b"{" and re.search(rb"\}\s*\n\s*\{", stripped[:_HEAD]) and d.kind != "v8-heapsnapshot":
                d = Detection(d.kind, f"{d.format} (JSON Lines)", d.evidence + ", one object per line")
            return d
        keys = sorted(set(m.decode("utf-8", "replace") for m in re.findall(rb'"([A-Za-z_][\w.]{0,40})"\s*:', stripped)))[:12]
        return Detection(None, None, "JSON, but with none of the known keys" + (f" (keys seen: {', '.join(keys)})" if keys else ""))

    if _RE_PPROF_TOP.search(head):
        return Detection("pprof", "pprof -top text report", "'flat flat% sum% cum cum%' header of a pprof report")
    if _RE_JVM.search(head):
        fmt = "jcmd GC.class_histogram" if re.search(rb"^\d+:\s*$", head, re.M) else "jmap -histo"
        return Detection("jvm-histogram", fmt, "'#instances #bytes class name' header")
    if _RE_TRACEMALLOC.search(head):
        return Detection("tracemalloc-text", "tracemalloc statistics", "'size=… count=…' statistic lines")
    if _RE_GDB.search(head):
        return Detection("gdb-output", "gdb transcript", "gdb frame/thread/signal lines")
    if _RE_PGSS_TEXT.search(head) and (_RE_PGSS_CALLS.search(head) or _RE_PGSS_KEY.search(head)) \
            and not _pg_sniff().looks_like_plan(head):  # a plan's Group Key may name pgss columns
        if re.search(rb"^-\[ RECORD \d+ \]", head, re.M):
            fmt = "psql expanded"
        elif re.match(rb"\s*[A-Za-z_]\w*\|[^|\n]*\n[A-Za-z_]\w*\|", head):  # psql -A -x: name|value lines
            fmt = "psql unaligned expanded"
        elif re.search(rb"^[-+]+\s*$", head, re.M) or re.search(rb"^-{3,}\+", head, re.M):
            fmt = "psql aligned"
        elif head.split(b"\n", 1)[0].count(b"|") >= 2:
            fmt = "psql unaligned"
        else:
            fmt = "csv"
        return Detection("pg_stat_statements", fmt, "queryid/calls/total time columns")
    first = head.split(b"\n", 1)[0][:60].decode("utf-8", "replace")
    return Detection(None, None, f"text starting {first!r}, with no marker of a known kind")


def detect(path) -> str:
    """The kind of artifact at ``path``, decided from content, not name.

    Raises :class:`ArtifactError` (saying what the file looks like and which
    kinds are known) when it is none of :data:`KINDS`.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "whatever.txt")
    >>> _ = open(p, "wb").write(bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"))
    >>> detect(p)
    'pcap'
    """
    d = sniff(path)
    if d.kind is None:
        raise ArtifactError(path, None, f"not a known artifact: {d.evidence}. Known kinds: {', '.join(KINDS)}")
    return d.kind


def provenance_for(path, parser: str) -> Provenance:
    """Provenance with kind and format filled in by sniffing — what loaders start with."""
    d = sniff(path)
    return dataclasses.replace(Provenance.of(path), kind=d.kind, format=d.format, parser=parser)


def inventory(folder, recursive: bool = True):
    """One row per file under ``folder``: file, kind (None if unknown), format, size, sha256.

    Sniffs content only (nothing is parsed), so it is quick even on big folders.
    Hidden files and generator sources (``generate/``) are skipped.

    >>> inv = inventory("sample_data/incidents/invoice-export")
    >>> inv.set_index("file").loc[["export-link.pcap", "traces.json"], "kind"].tolist()
    ['pcap', 'jaeger-json']
    """
    import pandas as pd

    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise ArtifactError(folder, None, "not a folder")
    rows = []
    walker = os.walk(folder) if recursive else [(folder, [], os.listdir(folder))]
    for root, dirs, files in walker:
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "generate")
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = os.path.join(root, name)
            if not os.path.isfile(path):
                continue
            d = sniff(path)
            rows.append({"file": os.path.relpath(path, folder), "kind": d.kind, "format": d.format,
                         "size": os.path.getsize(path), "sha256": sha256_of(path)})
    return pd.DataFrame(rows, columns=["file", "kind", "format", "size", "sha256"])
