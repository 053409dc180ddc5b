"""Native pcap / pcapng reader: the file's bytes -> one numpy record per packet.

The file is read in chunks (a few MB at a time, so memory stays flat for big
captures) and each chunk is walked by a compiled loop that splits records and
decodes headers (:mod:`forensics.network.decode`). Frames are numbered from 1
in file order, as Wireshark numbers them. A file cut mid-record keeps every
complete record and reports the byte offset where it stops.
"""
from __future__ import annotations

import dataclasses
import os

import numba
import numpy as np

from ..artifact import open_readonly, sha256_of
from ..errors import ArtifactError
from ..progress import progress
from .compressed import Decompressed, compression_of
from .decode import PACKET_DTYPE, decode_packet
from .linklayer import PCAPNG_CUSTOM_BLOCK
from .numba_cache import drop_stale_cache, skip_extension_scan

# numba caches each compiled walker with the decoder compiled into it, but keys the cache on this
# file's contents only: numba_cache drops the walkers' cache when decode.py or linklayer.py change.
drop_stale_cache()
skip_extension_scan()  # ~0.1 s of numba's start-up, when no package extends numba

#: Bytes parsed per step (and the memory-mapped window kept resident): 4 MiB kept pcap summary's peak
#: RSS 20 MiB under 8 MiB's at the same speed.
CHUNK = 4 << 20
#: Larger records than this are taken as corruption, not as packets (Wireshark's own limit is 256 KiB).
MAX_RECORD = 1 << 20

# Walker status codes.
NEED_MORE, OUT_FULL, BAD_RECORD, META_BLOCK = 0, 1, 2, 3

PCAP_MAGIC = {
    b"\xd4\xc3\xb2\xa1": (False, 1000),
    b"\xa1\xb2\xc3\xd4": (True, 1000),
    b"\x4d\x3c\xb2\xa1": (False, 1),
    b"\xa1\xb2\x3c\x4d": (True, 1),
}
PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
#: Section header versions Wireshark's reader accepts (1.2 was written by some early writers).
SHB_VERSIONS = ((1, 0), (1, 2))


@dataclasses.dataclass
class RawCapture:
    """What the reader found: packet records plus facts about the file."""

    records: np.ndarray           # PACKET_DTYPE, one per frame, frame = index + 1
    format: str                   # "pcap" or "pcapng"
    linktypes: list               # link type of each interface
    snaplens: list
    warnings: list                # (byte offset, reason)
    bytes_read: int
    sha256: str | None = None     # when read with a BackgroundHash


@numba.njit(cache=True, inline="always")
def _rd32(b, i, big):
    if big:
        return (np.int64(b[i]) << 24) | (np.int64(b[i + 1]) << 16) | (np.int64(b[i + 2]) << 8) | np.int64(b[i + 3])
    return (np.int64(b[i + 3]) << 24) | (np.int64(b[i + 2]) << 16) | (np.int64(b[i + 1]) << 8) | np.int64(b[i])


@numba.njit(cache=True, inline="always")
def _rd16(b, i, big):
    if big:
        return (np.int64(b[i]) << 8) | np.int64(b[i + 1])
    return (np.int64(b[i + 1]) << 8) | np.int64(b[i])


@numba.njit(cache=True, nogil=True)
def walk_pcap(b, nbytes, pos, big, frac_ns, linktype, out, n, extra, swap):
    """Split pcap records in ``b[pos:nbytes]``; returns (pos, n, status). ``extra``: bytes after the
    16-byte record header (a variant's, see :func:`pcap_variant`); ``swap``: the captured and original
    lengths are in the other order (1: always, 2: when the captured one is the larger; pcap before 2.3)."""
    cap = out.shape[0]
    hdr = 16 + extra
    while True:
        if n >= cap:
            return pos, n, OUT_FULL
        if pos + hdr > nbytes:
            return pos, n, NEED_MORE
        incl = _rd32(b, pos + 8, big)
        orig = _rd32(b, pos + 12, big)
        if swap == 1 or (swap == 2 and incl > orig):
            incl, orig = orig, incl
        if incl > MAX_RECORD:
            return pos, n, BAD_RECORD
        if pos + hdr + incl > nbytes:
            return pos, n, NEED_MORE
        sec = _rd32(b, pos, big)
        frac = _rd32(b, pos + 4, big)
        out[n].ts = sec * 1000000000 + frac * frac_ns
        decode_packet(b, pos + hdr, incl, max(orig, incl), linktype, out, n)
        n += 1
        pos += hdr + incl


#: Record-header variants that share the standard (microsecond) magic number, in the order Wireshark's
#: ``libpcap_try_variants`` tries them: (bytes after the 16-byte header, name). ss990417 (Red Hat 6.1's
#: patched libpcap) adds interface index, protocol and packet type; Nokia IPSO adds 4 bytes.
STANDARD_VARIANTS = ((0, ""), (8, "ss990417"), (4, "Nokia"))
#: Wireshark's largest record for most link types (``wtap_max_snaplen_for_encap``) and its sanity limit
#: on the original length, both used only to guess the variant.
_WTAP_MAX_SNAPLEN, _MAX_ORIG = 262144, 128 * 1024 * 1024


def pcap_lengths_swapped(major: int, minor: int) -> int:
    """0, or 1 (always) / 2 (when incl > orig) for files written before pcap 2.3 swapped the two lengths."""
    if major == 543 or (major == 2 and minor < 3):
        return 1
    return 2 if (major, minor) == (2, 3) else 0


def _demerit(buf, total, big, hdr, snaplen, swap, whole) -> int:
    """Wireshark's ``libpcap_try``: how wrong the first three record headers look with ``hdr``-byte headers
    (0 = fine). ``whole``: ``buf`` holds the rest of the file (its end is the file's end)."""
    order = "big" if big else "little"
    pos = 0
    for _ in range(3):
        if pos >= total:
            return 0  # end of file: fewer records than tried, taken as this format
        if pos + hdr > total:
            return 1 if whole else 0
        usec, incl, orig = (int.from_bytes(bytes(buf[pos + i:pos + i + 4]), order) for i in (4, 8, 12))
        if swap == 1 or (swap == 2 and incl > orig):
            incl, orig = orig, incl
        bad = (usec >= 1000000) + (incl > _WTAP_MAX_SNAPLEN) + (orig > _MAX_ORIG) + (incl > snaplen) + (incl > orig)
        if bad:
            return bad
        if pos + hdr + incl > total:
            return 1 if whole else 0
        pos += hdr + incl
    return 0


def pcap_variant(buf, total, big, snaplen, swap, whole):
    """(extra header bytes, variant name) of a standard-magic pcap, decided from its first records as
    Wireshark does: the first variant whose headers look right, else the least wrong one."""
    best, best_bad = STANDARD_VARIANTS[0], None
    for v in STANDARD_VARIANTS:
        bad = _demerit(buf, total, big, 16 + v[0], snaplen, swap, whole)
        if bad == 0:
            return v
        if best_bad is None or bad < best_bad:
            best, best_bad = v, bad
    return best


@numba.njit(cache=True, nogil=True)
def walk_pcapng(b, nbytes, pos, big, if_link, if_snap, if_mul, if_shift, if_div, if_off, if_base, n_if, out, n):
    """Split pcapng blocks; packet blocks are decoded, custom blocks become frames without a network
    layer (as Wireshark numbers them), SHB/IDB hand back to Python (META_BLOCK), other blocks are skipped."""
    cap = out.shape[0]
    while True:
        if pos + 12 > nbytes:
            return pos, n, NEED_MORE
        btype = _rd32(b, pos, big)
        if btype == 0x0A0D0D0A or btype == 1:
            return pos, n, META_BLOCK
        blen = _rd32(b, pos + 4, big)
        if blen < 12 or blen % 4 != 0 or blen > MAX_RECORD + 64:
            return pos, n, BAD_RECORD
        if pos + blen > nbytes:
            return pos, n, NEED_MORE
        if btype == 0xBAD or btype == 0x40000BAD:  # Custom Block: a frame in Wireshark, no packet data
            if n >= cap:
                return pos, n, OUT_FULL
            decode_packet(b, pos + 12, 0, 0, PCAPNG_CUSTOM_BLOCK, out, n)
            out[n].caplen = blen - 16
            out[n].wirelen = blen - 16
            n += 1
        elif btype == 6 or btype == 3 or btype == 2:
            if n >= cap:
                return pos, n, OUT_FULL
            if btype == 3:
                iface = 0
                orig = _rd32(b, pos + 8, big)
                data = pos + 12
                incl = min(orig, blen - 16)
                if n_if > 0 and if_snap[if_base] > 0:
                    incl = min(incl, if_snap[if_base])
                ticks = np.int64(0)
                tsknown = False
            else:
                if blen < 32:
                    return pos, n, BAD_RECORD
                if btype == 6:
                    iface = _rd32(b, pos + 8, big)
                else:
                    iface = _rd16(b, pos + 8, big)
                hi = _rd32(b, pos + 12, big)
                lo = _rd32(b, pos + 16, big)
                incl = _rd32(b, pos + 20, big)
                orig = _rd32(b, pos + 24, big)
                data = pos + 28
                if incl > blen - 32:
                    return pos, n, BAD_RECORD
                ticks = np.int64((np.uint64(hi) << np.uint64(32)) | np.uint64(lo))
                tsknown = True
            if iface >= n_if:
                return pos, n, BAD_RECORD
            g = if_base + iface
            if tsknown:
                if if_shift[g] > 0:  # 2^-k second units
                    ts = np.int64(float(ticks) * 1e9 / (2.0 ** if_shift[g]))
                elif if_div[g] > 1:
                    ts = ticks // if_div[g]
                else:
                    ts = ticks * if_mul[g]
                out[n].ts = ts + if_off[g] * 1000000000
            decode_packet(b, data, incl, max(orig, incl), if_link[g], out, n)
            n += 1
        pos += blen


def _grow(out: np.ndarray, need: int) -> np.ndarray:
    bigger = np.zeros(max(need, int(out.shape[0] * 1.6) + 1024), dtype=PACKET_DTYPE)
    bigger[: out.shape[0]] = out
    return bigger


class _Interfaces:
    """pcapng interfaces (per section) as arrays the compiled walker can index."""

    def __init__(self):
        self.link, self.snap, self.mul, self.shift, self.div, self.off = [], [], [], [], [], []
        self.base = 0  # first interface of the current section

    def new_section(self):
        self.base = len(self.link)

    def add(self, link, snap, tsresol, tsoffset):
        self.link.append(link)
        self.snap.append(snap)
        self.off.append(tsoffset)
        if tsresol & 0x80:
            self.mul.append(1), self.shift.append(tsresol & 0x7F), self.div.append(1)
        else:
            k = tsresol
            if k <= 9:
                self.mul.append(10 ** (9 - k)), self.shift.append(0), self.div.append(1)
            else:
                self.mul.append(1), self.shift.append(0), self.div.append(10 ** min(k - 9, 18))

    def arrays(self):
        f = lambda v: np.asarray(v, dtype=np.int64) if v else np.zeros(1, np.int64)
        return (f(self.link), f(self.snap), f(self.mul), f(self.shift), f(self.div), f(self.off),
                self.base, len(self.link) - self.base)


def _parse_idb(path, body: bytes, big: bool, pos: int):
    e = ">" if big else "<"
    if len(body) < 8:
        raise ArtifactError(path, pos, "interface description block too short")
    link = int.from_bytes(body[0:2], "big" if big else "little")
    snap = int.from_bytes(body[4:8], "big" if big else "little")
    tsresol, tsoffset = 6, 0
    p = 8
    while p + 4 <= len(body):
        code = int.from_bytes(body[p:p + 2], "big" if big else "little")
        ln = int.from_bytes(body[p + 2:p + 4], "big" if big else "little")
        val = body[p + 4:p + 4 + ln]
        if code == 0:
            break
        if code == 9 and ln >= 1:
            tsresol = val[0]
        elif code == 14 and ln == 8:
            tsoffset = int(np.frombuffer(val, dtype=e + "i8")[0])
        p += 4 + ((ln + 3) & ~3)
    return link, snap, tsresol, tsoffset


def read_capture(path, *, progress_desc="reading capture", consume=None, chunk_records=1 << 16,
                 hasher: BackgroundHash | None = None) -> RawCapture:
    """Read every packet record of a pcap or pcapng file (see module docstring).

    With ``consume``, records are handed over in batches of ``chunk_records``
    (``consume(batch)``; the batch's buffer is reused afterwards) and the result
    holds no records: memory stays flat whatever the file size. With ``hasher``,
    the file's SHA-256 is computed from the same reads (``hasher.finish`` is called here).
    A gzip, zstd or lz4 file is decompressed as a stream (:mod:`forensics.network.compressed`).
    """
    sha = hasher
    with open_readonly(path) as raw_file:
        size = os.fstat(raw_file.fileno()).st_size
        f = raw_file
        head = f.read(24)
        comp = compression_of(head)
        if comp:  # .pcap.gz, .zst, .lz4: decompressed as a stream; the evidence hash is of the file itself
            raw_file.seek(0)
            f = Decompressed(raw_file, comp)
            head = f.read(24)
            if hasher is not None:
                hasher.close()
                hasher = None
        if head[:4] in PCAP_MAGIC:
            if len(head) < 24:
                raise ArtifactError(path, 0, f"pcap file header cut short ({len(head)} of 24 bytes)")
            if hasher is not None:
                hasher.feed(head)
            raw = _read_pcap(path, f, head, size, progress_desc, consume, chunk_records, hasher)
        elif head[:4] == PCAPNG_SHB:
            if comp:
                raw_file.seek(0)
                f = Decompressed(raw_file, comp)
            else:
                f.seek(0)
            raw = _read_pcapng(path, f, size, progress_desc, consume, chunk_records, hasher)
        else:
            raw = None
        if raw is not None:
            if comp:
                raw.format += f" ({comp})"
                if f.error:
                    raw.warnings.append((f"decompressed byte {f.tell():,}", f.error + "; loaded what came before"))
                if sha is not None:
                    raw.sha256 = sha256_of(path)
            elif hasher is not None:
                raw.sha256 = hasher.finish(f)
            return raw
    what = f"a {comp} stream that is not a capture" if comp else "not a pcap or pcapng capture"
    raise ArtifactError(path, 0, f"{what} (starts with {head[:8].hex(' ') or 'nothing'})")


def _estimate(size):
    return max(1024, min(size // 60, 50_000_000))


class BackgroundHash:
    """SHA-256 of the bytes as they are read, computed in a worker thread (hashlib releases
    the GIL), so the evidence hash costs no second pass over the file."""

    def __init__(self):
        import hashlib
        from concurrent.futures import ThreadPoolExecutor

        self._h = hashlib.sha256()
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._last = None

    def feed(self, data):
        """Hash ``data`` (bytes or a memoryview) in the background; call :meth:`wait` before changing it."""
        self.wait()
        self._last = self._pool.submit(self._h.update, data)

    def wait(self):
        if self._last is not None:
            self._last.result()
            self._last = None

    def close(self):
        self.wait()
        self._pool.shutdown()

    def finish(self, f) -> str:
        """Hash whatever the parser did not read (it stops at a corrupt record), then the digest."""
        while chunk := f.read(CHUNK):
            self.feed(chunk)
        self.wait()
        self._pool.shutdown()
        return self._h.hexdigest()


#: Files at least this big are memory-mapped instead of copied chunk by chunk into a buffer.
MMAP_FROM = 32 << 20


def _chunks(f, size, bar, hasher=None):
    """Yield (buffer, valid bytes, file offset of buffer start); caller says how much it consumed."""
    if size >= MMAP_FROM and not hasattr(f, "raw_delta"):
        yield from _mapped_chunks(f, size, bar, hasher)
        return
    buf = bytearray(CHUNK)
    keep = 0
    base = f.tell()
    while True:
        n = f.readinto(memoryview(buf)[keep:])
        total = keep + (n or 0)
        if hasher is not None and n:
            hasher.feed(memoryview(buf)[keep:total])  # hashed while the caller parses the same bytes
        bar.update(f.raw_delta() if hasattr(f, "raw_delta") else (n or 0))
        consumed = yield buf, total, base, not n
        if hasher is not None:
            hasher.wait()  # the buffer is about to change
        if consumed is None:
            return
        rest = total - consumed
        if rest > len(buf) // 2:  # one record bigger than half the buffer: grow
            nb = bytearray(len(buf) * 2)
            nb[:rest] = buf[consumed:total]
            buf = nb
        else:
            buf[:rest] = buf[consumed:total]
        keep = rest
        base += consumed


def _mapped_chunks(f, size, bar, hasher=None):
    """:func:`_chunks` over a read-only memory map: no copy of the file's bytes; pages already parsed
    are dropped from the mapping as the read moves on, so resident memory stays about one window."""
    import mmap

    mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    whole = np.frombuffer(mm, dtype=np.uint8)
    base = f.tell()
    dropped = 0
    total = base
    try:
        while True:
            end = min(total + CHUNK, size)
            if hasher is not None and end > total:
                hasher.feed(memoryview(mm)[total:end])  # hashed while the caller parses the same bytes
            bar.update(end - total)
            eof = end >= size and total >= size
            total = end
            consumed = yield whole[base:], total - base, base, eof
            if consumed is None:
                return
            base += consumed
            if base - dropped >= CHUNK and hasattr(mm, "madvise"):
                if hasher is not None:
                    hasher.wait()
                cut = (base // mmap.PAGESIZE) * mmap.PAGESIZE
                mm.madvise(mmap.MADV_DONTNEED, dropped, cut - dropped)
                dropped = cut
    finally:
        if hasher is not None:
            hasher.wait()
        f.seek(total)  # BackgroundHash.finish hashes from here what was never fed
        del whole
        try:
            mm.close()
        except BufferError:  # a view of it is still alive somewhere; the GC closes it
            pass


def _read_pcap(path, f, head, size, desc, consume, chunk_records, hasher):
    big, frac_ns = PCAP_MAGIC[head[:4]]
    order = "big" if big else "little"
    major, minor = int.from_bytes(head[4:6], order), int.from_bytes(head[6:8], order)
    if major < 2:  # Wireshark: "pcap: major version N unsupported"
        raise ArtifactError(path, 4, f"pcap major version {major} is unsupported (Wireshark reads 2.0 and later)")
    swap = pcap_lengths_swapped(major, minor)
    extra, variant = 0, ""
    snaplen = int.from_bytes(head[16:20], order)
    link_raw = int.from_bytes(head[20:24], order)
    # The upper bits carry the FCS length (libpcap's LT_FCS_*); any link type loads: those this
    # reader does not decode give packets whose network layer is undecoded, counted per link type.
    linktype = link_raw & 0x03FFFFFF
    out = np.zeros(chunk_records if consume else _estimate(size), dtype=PACKET_DTYPE)
    done = 0
    n = 0
    warnings = []
    with progress(size, desc, size_bytes=size) as bar:
        gen = _chunks(f, size, bar, hasher)
        buf, total, base, eof = next(gen)
        if frac_ns == 1000:  # the standard magic is shared by record-header variants: guessed as Wireshark does
            extra, variant = pcap_variant(buf, total, big, snaplen, swap, whole=total < len(buf))
        while True:
            arr = np.frombuffer(buf, dtype=np.uint8)
            pos = 0
            while True:
                pos, n, status = walk_pcap(arr, total, pos, big, frac_ns, linktype, out, n, extra, swap)
                if status == OUT_FULL:
                    if consume:
                        consume(out[:n])
                        done += n
                        out[:] = 0
                        n = 0
                    else:
                        out = _grow(out, n + 1)
                    continue
                break
            if status == BAD_RECORD:
                incl = int.from_bytes(bytes(buf[pos + 8:pos + 12]), order)
                warnings.append((base + pos, f"record {done + n + 1:,} claims {incl:,} captured bytes, more than any "
                                 f"packet can hold; stopped reading there, {done + n:,} packets loaded — corrupt capture?"))
                break
            if eof:
                if pos < total:
                    warnings.append((base + pos, f"file ends inside record {done + n + 1:,} ({total - pos:,} bytes of it "
                                     f"present); loaded the {done + n:,} complete records — truncated capture?"))
                break
            buf, total, base, eof = gen.send(pos)
        gen.close()
    fmt = f"pcap ({variant} record headers)" if variant else "pcap"
    if consume:
        consume(out[:n])
        return RawCapture(None, fmt, [linktype], [snaplen], warnings, size)
    return RawCapture(out[:n], fmt, [linktype], [snaplen], warnings, size)


def _read_pcapng(path, f, size, desc, consume, chunk_records, hasher):
    ifs = _Interfaces()
    out = np.zeros(chunk_records if consume else _estimate(size), dtype=PACKET_DTYPE)
    done = 0
    n = 0
    big = False
    warnings = []
    seen_shb = False
    with progress(size, desc, size_bytes=size) as bar:
        gen = _chunks(f, size, bar, hasher)
        buf, total, base, eof = next(gen)
        while True:
            arr = np.frombuffer(buf, dtype=np.uint8)
            pos = 0
            stop = False
            while True:
                la, sn, mu, sh, dv, of, fb, ni = ifs.arrays()
                pos, n, status = walk_pcapng(arr, total, pos, big, la, sn, mu, sh, dv, of, fb, ni, out, n)
                if status == OUT_FULL:
                    if consume:
                        consume(out[:n])
                        done += n
                        out[:] = 0
                        n = 0
                    else:
                        out = _grow(out, n + 1)
                    continue
                if status == META_BLOCK:
                    if pos + 12 > total:
                        status = NEED_MORE
                        break
                    if bytes(buf[pos:pos + 4]) == PCAPNG_SHB:
                        bom = bytes(buf[pos + 8:pos + 12])
                        if bom == b"\x1a\x2b\x3c\x4d":
                            big = True
                        elif bom == b"\x4d\x3c\x2b\x1a":
                            big = False
                        else:
                            if not seen_shb:
                                raise ArtifactError(path, base + pos + 8, "pcapng byte-order magic is neither order")
                            status, stop = BAD_RECORD, True
                            break
                        if pos + 16 > total:
                            status = NEED_MORE
                            break
                        version = (int.from_bytes(bytes(buf[pos + 12:pos + 14]), "big" if big else "little"),
                                   int.from_bytes(bytes(buf[pos + 14:pos + 16]), "big" if big else "little"))
                        if version not in SHB_VERSIONS:  # Wireshark stops there: "unknown SHB version"
                            why = (f"pcapng section header version {version[0]}.{version[1]} is unknown "
                                   f"(Wireshark reads 1.0 and 1.2)")
                            if not seen_shb:
                                raise ArtifactError(path, base + pos + 12, why)
                            warnings.append((base + pos, f"{why}; stopped reading there, {done + n:,} packets "
                                             f"loaded, as Wireshark stops"))
                            status, stop = NEED_MORE, True
                            break
                        seen_shb = True
                        ifs.new_section()
                    elif not seen_shb:
                        raise ArtifactError(path, 0, "pcapng file does not start with a section header")
                    blen = int.from_bytes(bytes(buf[pos + 4:pos + 8]), "big" if big else "little")
                    if blen < 12 or blen % 4 or blen > MAX_RECORD:
                        status, stop = BAD_RECORD, True
                        break
                    if pos + blen > total:
                        status = NEED_MORE
                        break
                    if bytes(buf[pos:pos + 4]) != PCAPNG_SHB:
                        link, snap, res, toff = _parse_idb(path, bytes(buf[pos + 8:pos + blen - 4]), big, base + pos)
                        ifs.add(link, snap, res, toff)
                    pos += blen
                    continue
                break
            if stop and status != BAD_RECORD:  # a section Wireshark does not read: the warning is written
                break
            if status == BAD_RECORD:
                warnings.append((base + pos, f"block after packet {done + n:,} is malformed (bad length or unknown "
                                 f"interface); stopped reading there, {done + n:,} packets loaded — corrupt capture?"))
                break
            if eof:
                if pos < total:
                    warnings.append((base + pos, f"file ends inside a block ({total - pos:,} bytes of it present); "
                                     f"loaded the {done + n:,} complete packets — truncated capture?"))
                break
            buf, total, base, eof = gen.send(pos)
        gen.close()
    if not seen_shb:
        raise ArtifactError(path, 0, "pcapng section header cut short")
    if consume:
        consume(out[:n])
        return RawCapture(None, "pcapng", list(ifs.link), list(ifs.snap), warnings, size)
    return RawCapture(out[:n], "pcapng", list(ifs.link),
                      list(ifs.snap), warnings, size)
