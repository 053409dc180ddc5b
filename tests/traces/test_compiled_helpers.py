"""The compiled helpers the fast readers are built from give what the plain numpy / Arrow code gave."""
import numpy as np
import pyarrow as pa
import pytest
from numba import njit

from forensics.traces.json_bytes import borrowed, borrowed_f, gather, gather_many
from forensics.traces.string_take import take_strings
from forensics.traces.tag_rows import last_rows, spans_and_rows


def test_take_strings_is_the_dictionary_cast():
    d = pa.array(["a", None, "\u00e9t\u00e9", "", "span.kind"], type=pa.large_string())
    codes = np.array([0, 1, 2, 3, 4, 4, 1, 0, 2])
    want = pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), d).cast(pa.large_string())
    got = take_strings(codes, d)
    got.validate(full=True)
    assert got.equals(want) and got.null_count == 2
    assert take_strings(np.array([1, 0]), d[3:]).to_pylist() == ["span.kind", ""]  # a sliced dictionary
    assert take_strings(np.zeros(0, np.int64), d).to_pylist() == []
    with pytest.raises(IndexError):
        take_strings(np.array([5]), d)


def test_last_rows_is_the_last_tag_of_each_key_per_span():
    rng = np.random.default_rng(7)
    tag_span = np.sort(rng.integers(0, 50, 2000))
    special = rng.integers(-1, 7, 2000).astype(np.int32)
    last = last_rows(tag_span, special, 60, 7)
    for codes in ((0,), (5, 6), (1, 2, 3)):
        sp, rows = spans_and_rows(last, *codes)
        # the plain way: rows with one of the codes, the last of each span
        cand = np.flatnonzero(np.isin(special, codes))
        want = {}
        for r in cand:
            want[tag_span[r]] = r
        assert sp.tolist() == sorted(want) and rows.tolist() == [want[s] for s in sorted(want)]


@njit
def _sum_borrowed(a):
    v = borrowed(a)
    t = 0
    for i in range(len(v)):
        t += v[i]
    return t


@njit
def _col_borrowed(a, c):
    v = borrowed_f(a)
    return v[:, c].sum()


def test_borrowed_views_see_the_same_data_and_refuse_strided_arrays():
    a = np.arange(10, dtype=np.int64)
    assert _sum_borrowed(a) == 45
    t = np.asfortranarray(np.arange(12, dtype=np.int32).reshape(4, 3))
    assert _col_borrowed(t, 1) == t[:, 1].sum()
    with pytest.raises(ValueError):
        _sum_borrowed(a[::2])
    with pytest.raises(ValueError):
        _col_borrowed(np.ascontiguousarray(t), 1)


def test_gathers_decode_escapes_and_constants():
    doc = b'"plain" "tab\\tq\\"" "\\u00e9\\ud83d\\ude00"'
    b = np.frombuffer(doc, dtype=np.uint8)
    consts = np.frombuffer(b"CHILD_OF", dtype=np.uint8)
    q = [i for i, c in enumerate(doc) if c == 34 and doc[i - 1] != 92]  # the unescaped quotes
    starts = np.array([q[0] + 1, q[2] + 1, -1, -2, q[4] + 1])
    ends = np.array([q[1], q[3], -1, 8, q[5]])  # (-2, 8: the constant consts[0:8])
    ok, ascii_only, offsets, data, valid = gather(b, starts, ends, consts)
    arr = pa.LargeStringArray.from_buffers(5, pa.py_buffer(offsets), pa.py_buffer(data),
                                           pa.py_buffer(np.packbits(valid, bitorder="little")))
    assert ok and not ascii_only
    assert arr.to_pylist() == ["plain", 'tab\tq"', None, "CHILD_OF", "\u00e9\U0001F600"]
    S = np.asfortranarray(np.stack([starts, starts[::-1]], axis=1))
    E = np.asfortranarray(np.stack([ends, ends[::-1]], axis=1))
    ok, ascii_cols, offs, data, valid = gather_many(b, S, E, consts)
    cols = [pa.LargeStringArray.from_buffers(5, pa.py_buffer(np.ascontiguousarray(offs[k])), pa.py_buffer(data),
                                             pa.py_buffer(np.packbits(valid[k], bitorder="little"))).to_pylist()
            for k in range(2)]
    assert ok and cols[0] == arr.to_pylist() and cols[1] == arr.to_pylist()[::-1]
