"""Compressed captures (gzip, zstd, lz4 frames) read as a stream, as Wireshark reads them.

The compression is recognised from the content (magic bytes), never from the file name. The
decompressed bytes go through the same chunked reader as a plain capture, so memory stays flat;
file offsets in warnings then count decompressed bytes and say so. A compressed stream that
is cut short or corrupt ends the read there with a located warning (the packets before it load).
"""
from __future__ import annotations

import gzip
import zlib

MAGIC = {b"\x1f\x8b": "gzip", b"\x28\xb5\x2f\xfd": "zstd", b"\x04\x22\x4d\x18": "lz4"}
_CAPTURE_MAGIC = {b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d",
                  b"\x0a\x0d\x0d\x0a"}


def compression_of(head: bytes) -> str | None:
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    return MAGIC.get(head[:4])


def _errors():
    errs = [OSError, EOFError, zlib.error, ValueError, RuntimeError]
    try:
        import zstandard

        errs.append(zstandard.ZstdError)
    except ImportError:  # pragma: no cover - a declared dependency
        pass
    return tuple(errs)


def peek(head: bytes, n: int = 64) -> bytes:
    """The first ``n`` decompressed bytes of a compressed file's head (b"" when they cannot be had)."""
    kind = compression_of(head)
    try:
        if kind == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, n)
        if kind == "zstd":
            import zstandard

            return zstandard.ZstdDecompressor().decompressobj().decompress(head)[:n]
        if kind == "lz4":
            import lz4.frame

            return lz4.frame.LZ4FrameDecompressor().decompress(head, max_length=n)
    except _errors():
        return b""
    return b""


def sniff_compressed_capture(head: bytes):
    """(kind, format, evidence) when ``head`` is a compressed pcap/pcapng, else None."""
    kind = compression_of(head)
    if kind is None:
        return None
    inner = peek(head, 64)
    if inner[:4] not in _CAPTURE_MAGIC:
        return None
    what = "pcapng" if inner[:4] == b"\x0a\x0d\x0d\x0a" else "pcap"
    return what, f"{what} ({kind}-compressed)", f"{kind} stream holding a {what} header"


class Decompressed:
    """A read-only stream of the decompressed bytes of ``raw`` (an open binary file).

    ``tell`` counts decompressed bytes; ``raw_delta`` the compressed bytes consumed since the last call
    (for progress bars); ``error`` says where and why the stream broke, if it did.
    """

    def __init__(self, raw, kind: str):
        self.raw, self.kind = raw, kind
        self.error = None
        self._pos = 0
        self._raw_seen = raw.tell()
        if kind == "gzip":
            self._s = gzip.GzipFile(fileobj=raw, mode="rb")
        elif kind == "zstd":
            import zstandard

            self._s = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
        else:
            import lz4.frame

            self._s = lz4.frame.LZ4FrameFile(raw, "rb")

    def readinto(self, buf) -> int:
        if self.error:
            return 0
        mv = memoryview(buf).cast("B")
        n = 0
        # small steps, so that a stream cut short still gives everything before the cut
        while n < len(mv):
            try:
                piece = self._s.read1(min(len(mv) - n, 1 << 16))
            except _errors() as e:
                self.error = (f"the {self.kind} stream is cut short or corrupt after {self._pos + n:,} decompressed "
                              f"bytes ({type(e).__name__}: {str(e)[:80]})")
                break
            if not piece:
                break
            mv[n:n + len(piece)] = piece
            n += len(piece)
        self._pos += n
        return n

    def read(self, n: int = -1) -> bytes:
        out = bytearray(max(n, 0) if n >= 0 else 1 << 20)
        if n < 0:
            chunks = []
            while k := self.readinto(out):
                chunks.append(bytes(out[:k]))
            return b"".join(chunks)
        k = self.readinto(memoryview(out))
        return bytes(out[:k])

    def seek(self, pos: int):
        if pos != self._pos:
            raise OSError("a compressed capture is read forwards only")
        return pos

    def tell(self) -> int:
        return self._pos

    def raw_delta(self) -> int:
        now = self.raw.tell()
        d, self._raw_seen = now - self._raw_seen, now
        return d
