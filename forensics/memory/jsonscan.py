"""Streaming scanners for the big JSON arrays of a V8 heap snapshot.

A ``.heapsnapshot`` is one JSON object whose ``nodes`` and ``edges`` arrays hold
millions of integers and whose ``strings`` array holds every heap string.
``json.load`` would build a Python int per value (about 7x the file size in
RAM), so these numba kernels parse the integers straight into numpy arrays from
fixed-size chunks of the file, and record only the byte offsets of strings
(they are decoded lazily, a few thousand at a time).

Each kernel is resumable: it works on one chunk, keeps its state in a small
array, and tells the caller whether it stopped at the closing ``]``, at the end
of the chunk (read more) or at a bad byte (negative: ``-(index + 1)``).
"""
from __future__ import annotations

import numpy as np
from numba import njit

#: bytes read per chunk; small enough to keep peak RSS low, big enough to amortise calls.
CHUNK = 8 << 20

# state slots for parse_ints
_FIELD, _ROW = 3, 4
#: parse_ints slot of a field that is checked but not kept
DROP = -100
#: parse_ints records the file offset of every MARK_EVERY-th record (for re-reading single fields)
MARK_EVERY = 1024
#: parse_ints slots from SECOND on go to the second table
SECOND = 64
#: pick_ints: the next wanted record is far ahead; seek to its mark
JUMP = -(1 << 40)


@njit(cache=True, nogil=True, boundscheck=False)
def parse_ints(buf, pos, end, out, div, state, minval, maxval, slot, out8, marks, base, out2):
    """Parse comma-separated integers from ``buf[pos:end]`` into the columns of ``out``.

    The array is a flattened table of ``len(slot)`` fields per record: field
    ``f`` of record ``r`` goes to ``out[slot[f], r]`` when ``0 <= slot[f] < SECOND``, to the
    second table ``out2[slot[f] - SECOND, r]`` (same dtype: columns that are freed at another time) when
    ``slot[f] >= SECOND``, to the ``uint8`` table ``out8[-1 - slot[f], r]`` when ``-64 <= slot[f] < 0`` (type codes),
    and is checked but not kept when ``slot[f] == DROP``. Values are divided by
    ``div[field]`` on the way (V8 stores edge targets as offsets into the node
    array; a remainder is an error). Each kept field is a contiguous row.
    ``marks[r // MARK_EVERY]`` gets the file offset (``base`` + index) of every
    :data:`MARK_EVERY`-th record, so that one field of a few records can be re-read
    later without parsing the array from its start (:func:`pick_ints`).

    ``buf[end]`` must exist and not be a digit (the caller cuts chunks after a
    separator, or puts a 0 there): numbers never straddle ``end``, so the digit loop
    needs no bounds check — the reason this is about 30 % faster than a byte-at-a-time
    state machine. ``state`` carries ``(field, row)`` from one chunk to the next.

    Returns the index of the closing ``]``, ``end`` when the chunk ran out,
    ``-(i + 1)`` for a bad byte at ``i``, ``-(i + 1) - 2**40`` when there are
    more records than ``out`` holds, ``-(i + 1) - 2**41`` when a value does not
    fit ``[minval, maxval]`` (the caller retries with a wider dtype) and
    ``-(i + 1) - 2**42`` for a value that ``div`` does not divide, and
    ``-(i + 1) - 2**43`` for a value over 255 in a ``uint8`` field.
    """
    nf = len(slot)
    rows = out.shape[1] if out.shape[0] else (out2.shape[1] if out2.shape[0] else out8.shape[1])
    nmarks = len(marks)
    field = state[_FIELD]
    row = state[_ROW]
    i = pos
    while True:
        # separators before the next number (at most a few bytes)
        c = buf[i]
        while c < 48 or c > 57:
            if i >= end:
                state[_FIELD] = field
                state[_ROW] = row
                return end
            if c == 93:
                state[_FIELD] = field
                state[_ROW] = row
                return i
            if c == 45:
                break
            if not (c == 44 or c == 10 or c == 32 or c == 13 or c == 9):
                state[_FIELD] = field
                state[_ROW] = row
                return -(i + 1)
            i += 1
            c = buf[i]
        neg = False
        if c == 45:
            neg = True
            i += 1
            c = buf[i]
            if c < 48 or c > 57:      # a lone '-'
                state[_FIELD] = field
                state[_ROW] = row
                return -i
        if field == 0 and row % MARK_EVERY == 0 and row // MARK_EVERY < nmarks:
            marks[row // MARK_EVERY] = base + i - (1 if neg else 0)
        s = i
        val = np.int64(0)
        while c >= 48 and c <= 57:    # buf[end] is not a digit: no bounds check needed
            val = val * 10 + (np.int64(c) - 48)
            i += 1
            c = buf[i]
        if i - s > 18:
            state[_FIELD] = field
            state[_ROW] = row
            return -(i + 1)
        v = -val if neg else val
        code = 0
        if row >= rows:
            code = -(i + 1) - (1 << 40)
        elif v < minval or v > maxval:
            code = -(i + 1) - (1 << 41)
        else:
            q = div[field]
            if q != 1:
                if v % q != 0:
                    code = -(i + 1) - (1 << 42)
                v = v // q
            sl = slot[field]
            if sl >= SECOND:
                out2[sl - SECOND, row] = v
            elif sl >= 0:
                out[sl, row] = v
            elif sl != DROP:
                if v > 255:
                    code = -(i + 1) - (1 << 43)
                else:
                    out8[-1 - sl, row] = v
        if code != 0:
            state[_FIELD] = field
            state[_ROW] = row
            return code
        field += 1
        if field == nf:
            field = 0
            row += 1


@njit(cache=True, nogil=True)
def pick_ints(buf, pos, end, nf, field, wanted, out, state, gap):
    """Re-read one field of selected records from a flattened integer table (``wanted``: sorted record numbers).

    ``state`` = (value, digits, negative, values seen, next wanted). Returns the
    index of the closing ``]``, ``end`` when the chunk ran out (call again with the
    next one), ``-1`` once every wanted value was read, ``-(i + 1)`` for a bad byte,
    and :data:`JUMP` at a record boundary when the next wanted record is more than
    ``gap`` records ahead (the caller seeks to its mark and sets ``state[3]``).
    """
    val = state[0]
    innum = state[1]
    neg = state[2]
    k = state[3]
    j = state[4]
    i = pos
    while i < end:
        c = buf[i]
        if c >= 48 and c <= 57:
            val = val * 10 + (c - 48)
            innum += 1
        elif c == 44 or c == 10 or c == 32 or c == 13 or c == 9 or c == 93:
            if innum:
                if k % nf == field and j < len(wanted) and k // nf == wanted[j]:
                    out[j] = -val if neg else val
                    j += 1
                    while j < len(wanted) and wanted[j] == wanted[j - 1]:
                        out[j] = out[j - 1]
                        j += 1
                    if j == len(wanted):
                        state[4] = j
                        return -1
                k += 1
                val = 0
                innum = 0
                neg = 0
                if k % nf == 0 and j < len(wanted) and wanted[j] - k // nf > gap:
                    state[0] = 0
                    state[1] = 0
                    state[2] = 0
                    state[3] = k
                    state[4] = j
                    return JUMP
            if c == 93:
                state[3] = k
                state[4] = j
                return i
        elif c == 45 and innum == 0:
            neg = 1
        else:
            return -(i + 1)
        i += 1
    state[0] = val
    state[1] = innum
    state[2] = neg
    state[3] = k
    state[4] = j
    return end


@njit(cache=True, nogil=True)
def count_byte(buf, n, c):
    """How many of ``buf[:n]`` equal ``c`` (the GIL released: bytes.count holds it)."""
    k = 0
    for i in range(n):
        k += buf[i] == c
    return k


@njit(cache=True, nogil=True)
def find_byte(buf, n, c):
    """Index of the first ``c`` in ``buf[:n]``, or -1."""
    for i in range(n):
        if buf[i] == c:
            return i
    return -1


# state slots for scan_strings
_INSTR, _ESC, _NSTR = 0, 1, 2


@njit(cache=True, nogil=True)
def scan_strings(buf, pos, end, base, starts, lens, state, every=1):
    """Record the absolute offset and length of each JSON string in an array of strings.

    ``starts[k]`` is the offset of the opening quote, ``lens[k]`` the length up to
    one past the closing quote (``uint32`` starts suffice for files under 4 GiB). With ``every > 1``
    only every ``every``-th string's start is kept (``starts[k // every]``) and no lengths. Returns the index of the closing ``]``, ``end`` when the
    chunk ran out, ``-(i + 1)`` for a bad byte, or ``-(i + 1) - 2**40`` when the
    output arrays are full (grow them and call again from ``i``).
    """
    instr = state[_INSTR]
    esc = state[_ESC]
    n = state[_NSTR]
    cap = starts.shape[0]
    i = pos
    while i < end:
        c = buf[i]
        if instr:
            if esc:
                esc = 0
            elif c == 92:
                esc = 1
            elif c == 34:
                if every == 1:
                    lens[n] = base + i + 1 - starts[n]
                n += 1
                instr = 0
        else:
            if c == 34:
                if n // every >= cap:
                    state[_INSTR] = 0
                    state[_ESC] = 0
                    state[_NSTR] = n
                    return -(i + 1) - (1 << 40)
                if n % every == 0:
                    starts[n // every] = base + i
                instr = 1
            elif c == 93:
                state[_INSTR] = 0
                state[_NSTR] = n
                return i
            elif not (c == 44 or c == 32 or c == 10 or c == 13 or c == 9):
                state[_NSTR] = n
                return -(i + 1)
        i += 1
    state[_INSTR] = instr
    state[_ESC] = esc
    state[_NSTR] = n
    return end


# state slots for skip_value
_DEPTH, _SINSTR, _SESC, _DONE = 0, 1, 2, 3


@njit(cache=True, nogil=True)
def skip_value(buf, pos, end, state):
    """Skip one JSON array or object (strings respected); returns the index just after it, or ``end``.

    ``state[3]`` becomes 1 once the value is complete.
    """
    depth = state[_DEPTH]
    instr = state[_SINSTR]
    esc = state[_SESC]
    i = pos
    while i < end:
        c = buf[i]
        if instr:
            if esc:
                esc = 0
            elif c == 92:
                esc = 1
            elif c == 34:
                instr = 0
        elif c == 34:
            instr = 1
        elif c == 91 or c == 123:
            depth += 1
        elif c == 93 or c == 125:
            depth -= 1
            if depth == 0:
                state[_DEPTH] = 0
                state[_SINSTR] = 0
                state[_SESC] = 0
                state[_DONE] = 1
                return i + 1
        i += 1
    state[_DEPTH] = depth
    state[_SINSTR] = instr
    state[_SESC] = esc
    return end


class ChunkReader:
    """A read-only file seen through one reusable buffer of :data:`CHUNK` bytes."""

    def __init__(self, f, size: int, chunk: int = CHUNK, bar=None):
        self.f = f
        self.size = size
        self.chunk = chunk
        self.raw = bytearray(chunk + 1)     # + a 0 after the valid bytes: parse_ints' sentinel
        self.buf = np.frombuffer(self.raw, dtype=np.uint8)
        self.base = 0      # file offset of buf[0]
        self.n = 0         # valid bytes in buf
        self.pos = 0       # cursor in buf
        self.bar = bar

    @property
    def offset(self) -> int:
        """File offset of the cursor."""
        return self.base + self.pos

    def seek(self, offset: int) -> None:
        """Move the cursor to a file offset (the buffer is refilled from there)."""
        self.f.seek(offset)
        self.base, self.n, self.pos = offset, 0, 0

    def refill(self) -> bool:
        """Read the next chunk (the cursor must be at the end of the current one)."""
        self.base += self.n
        got = self.f.readinto(memoryview(self.raw)[:self.chunk])
        if self.bar is not None and got:
            self.bar.update(got)
        self.n = got or 0
        self.raw[self.n] = 0
        self.pos = 0
        return self.n > 0

    def refill_keep(self) -> bool:
        """Move the unread bytes (``buf[pos:n]``, a few) to the front and read more after them;
        False when the file has nothing more."""
        keep = self.n - self.pos
        self.raw[:keep] = self.raw[self.pos:self.n]
        self.base += self.pos
        got = self.f.readinto(memoryview(self.raw)[keep:self.chunk])
        if self.bar is not None and got:
            self.bar.update(got)
        self.n = keep + (got or 0)
        self.raw[self.n] = 0
        self.pos = 0
        return bool(got)

    def cut(self) -> int:
        """Index just past the last whole number in the buffer: the last non-digit byte
        (``n`` when the buffer ends with one), or -1 when the buffer holds nothing but digits."""
        raw = self.raw
        k = self.n
        while k > self.pos:
            c = raw[k - 1]
            if c < 48 or c > 57:
                return k - 1 if k < self.n else k
            k -= 1
        return -1

    def peek(self) -> int | None:
        """The next non-blank byte (not consumed), or None at end of file."""
        while True:
            while self.pos < self.n:
                c = self.raw[self.pos]
                if c not in (32, 10, 13, 9):
                    return c
                self.pos += 1
            if not self.refill():
                return None

    def take(self) -> int | None:
        c = self.peek()
        if c is not None:
            self.pos += 1
        return c

    def read_small(self, limit: int = 1 << 20) -> bytes:
        """Bytes of the JSON value at the cursor (an object, array or string) up to ``limit`` long."""
        state = np.zeros(4, dtype=np.int64)
        parts = []
        total = 0
        first = self.peek()
        if first is None:
            return b""
        if first == 34:  # a string: scan to the unescaped closing quote
            out = bytearray(b'"')
            self.pos += 1
            esc = False
            while len(out) <= limit:
                if self.pos >= self.n and not self.refill():
                    return b""
                c = self.raw[self.pos]
                self.pos += 1
                out.append(c)
                if esc:
                    esc = False
                elif c == 92:
                    esc = True
                elif c == 34:
                    return bytes(out)
            return b""
        if first not in (91, 123):  # a number, true, false or null
            out = bytearray()
            while len(out) <= 64:
                if self.pos >= self.n and not self.refill():
                    return bytes(out)
                c = self.raw[self.pos]
                if c in (44, 93, 125, 32, 10, 13, 9):
                    return bytes(out)
                out.append(c)
                self.pos += 1
            return b""
        while total <= limit:
            if self.pos >= self.n and not self.refill():
                return b""
            stop = skip_value(self.buf, self.pos, self.n, state)
            parts.append(bytes(self.raw[self.pos:stop]))
            total += stop - self.pos
            self.pos = stop
            if state[3]:
                return b"".join(parts)
        return b""

    def skip(self) -> bool:
        """Skip the array/object at the cursor; False when the file ends first."""
        if self.peek() not in (91, 123):
            return bool(self.read_small(64))
        state = np.zeros(4, dtype=np.int64)
        while True:
            if self.pos >= self.n and not self.refill():
                return False
            self.pos = skip_value(self.buf, self.pos, self.n, state)
            if state[3]:
                return True
