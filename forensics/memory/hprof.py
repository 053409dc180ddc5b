"""Java heap dumps (HPROF): ``jmap -dump``, ``jcmd GC.heap_dump [-gz]``, ``-XX:+HeapDumpOnOutOfMemoryError``.

:func:`read_hprof` streams the dump once through the numba scanner
(:mod:`forensics.memory.hprof_scan`) into numpy columns: one row per object
(id, class, kind, length, shallow size), one per reference, one per GC root.
The file is read 16 MiB at a time; gzip dumps (``-gz``: a series of gzip
members) are decompressed chunk by chunk, never whole. Both ``JAVA PROFILE
1.0.1`` and ``1.0.2`` (segmented) with 4- or 8-byte ids are read; a dump cut
short (an OOM-killed JVM, a full disk) loads up to the last whole record with
a warning that says where it ends.

Shallow sizes are what HotSpot allocates, so the class histogram equals
``jmap -histo:live`` (:func:`histogram`): HPROF records field *values*, not
the object layout, so the layout is recomputed — 12-byte headers and 4-byte
references with compressed oops (assumed when every object address is below
32 GiB, as on heaps under 32 GB), 16-byte array headers, 8-byte alignment,
fields packed largest first into the holes the way JDK 15+ lays them out, plus
the JVM's injected fields that HPROF omits (:data:`INJECTED`).

>>> dump = read_hprof("sample_data/memory/hprof_t1.hprof.gz")
>>> dump.id_size, dump.version
(8, '1.0.2')
>>> h = histogram(dump)
>>> h.iloc[0]["name"]
'[B'
"""
from __future__ import annotations

import os
import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numba import typed, types

from ..artifact import Provenance, open_readonly, provenance_for
from ..errors import ArtifactError
from ..progress import progress
from . import hprof_scan as hs

MAGIC = b"JAVA PROFILE 1.0."
CHUNK = 16 << 20
PRIM_NAMES = {4: "[Z", 5: "[C", 6: "[F", 7: "[D", 8: "[B", 9: "[S", 10: "[I", 11: "[J"}
PRIM_SIZES = {4: 1, 5: 2, 6: 4, 7: 8, 8: 1, 9: 2, 10: 4, 11: 8}
ROOT_TYPES = {0xFF: "unknown", 0x01: "JNI global", 0x02: "JNI local", 0x03: "Java frame (local variable)",
              0x04: "native stack", 0x05: "system class", 0x06: "thread block", 0x07: "busy monitor",
              0x08: "thread", 0x89: "interned string", 0x8A: "finalizing", 0x8B: "debugger",
              0x8C: "reference cleanup", 0x8D: "VM internal", 0x8E: "JNI monitor", 0x90: "unreachable"}
@dataclass
class HprofDump:
    """One heap dump as columns.

    ``objects``: ``id`` (uint64), ``cls`` (histogram class code, index into ``class_names``),
    ``kind`` (0 instance, 1 object array, 2 primitive array, 3 class), ``length`` (array
    elements, or instance field bytes), ``size`` (shallow bytes as HotSpot allocates them),
    ``offset`` (of the object's data in the — decompressed — dump), ``hash`` (content hash of
    byte[]/char[]), ``type_id`` (the class id or primitive type the record names).
    Objects are in dump order (``sorted_ids``/``id_order`` find one by id); ``edge_to`` holds object
    indexes, CSR by source via ``first_edge``; ``roots`` is a DataFrame (type, object index, thread serial).
    """

    path: str
    provenance: Provenance
    version: str
    id_size: int
    timestamp_ms: int
    compressed_oops: bool
    objects: dict
    class_names: np.ndarray
    classes: pd.DataFrame
    first_edge: np.ndarray
    edge_to: np.ndarray
    roots: pd.DataFrame
    strings: dict
    fields: pd.DataFrame
    info: dict = field(default_factory=dict)
    sorted_ids: np.ndarray | None = None     # object ids in increasing order …
    id_order: np.ndarray | None = None       # … and the object index of each

    @property
    def n(self) -> int:
        return len(self.objects["id"])


# --------------------------------------------------------------------------- scanning

_GROUPS = {
    hs.W_OBJ: [("obj_id", np.uint64), ("obj_cls", np.uint64), ("obj_kind", np.uint8), ("obj_len", np.int64),
               ("obj_off", np.int64), ("obj_hash", np.uint64)],
    hs.W_EDGE: [("edge_src", np.int32), ("edge_dst", np.uint64)],
    hs.W_ROOT: [("root_type", np.uint8), ("root_id", np.uint64), ("root_extra", np.int64)],
    hs.W_CLS: [("cls_id", np.uint64), ("cls_super", np.uint64), ("cls_loader", np.uint64), ("cls_isize", np.int64),
               ("cls_fstart", np.int64), ("cls_fcount", np.int64), ("cls_sstart", np.int64), ("cls_scount", np.int64),
               ("ref_start", np.int64), ("ref_count", np.int64), ("ref_total", np.int64)],
    hs.W_FLD: [("fld_name", np.uint64), ("fld_type", np.uint8)],
    hs.W_UTF: [("utf_id", np.uint64), ("utf_start", np.int64), ("utf_len", np.int64)],
    hs.W_POOL: [("pool", np.uint8)],
    hs.W_LOAD: [("load_serial", np.int64), ("load_cls", np.uint64), ("load_name", np.uint64)],
    hs.W_DEF: [("def_obj", np.int64), ("def_start", np.int64)],
    hs.W_DEFB: [("defb", np.uint8)],
    hs.W_REF: [("ref_offs", np.int64)],
}
_COUNT = {hs.W_OBJ: hs.S_NOBJ, hs.W_EDGE: hs.S_NEDGE, hs.W_ROOT: hs.S_NROOT, hs.W_CLS: hs.S_NCLS, hs.W_FLD: hs.S_NFLD,
          hs.W_UTF: hs.S_NUTF, hs.W_POOL: hs.S_NPOOL, hs.W_LOAD: hs.S_NLOAD, hs.W_DEF: hs.S_NDEF, hs.W_DEFB: hs.S_NDEFB,
          hs.W_REF: hs.S_NREF}
_ORDER = ["obj_id", "obj_cls", "obj_kind", "obj_len", "obj_off", "obj_hash", "edge_src", "edge_dst",
          "root_type", "root_id", "root_extra", "cls_id", "cls_super", "cls_loader", "cls_isize", "cls_fstart",
          "cls_fcount", "cls_sstart", "cls_scount", "fld_name", "fld_type", "cls_index", "ref_start", "ref_count",
          "ref_total", "ref_offs", "utf_id", "utf_start", "utf_len", "pool", "load_serial", "load_cls", "load_name",
          "def_obj", "def_start", "defb"]


class _Scanner:
    """Output columns that grow on demand, and the scan loop over one buffer at a time."""

    def __init__(self, id_size: int, expect_bytes: int):
        guess = max(expect_bytes, 1 << 16)
        caps = {hs.W_OBJ: guess // 48, hs.W_EDGE: guess // 16, hs.W_ROOT: 4096, hs.W_CLS: 4096, hs.W_FLD: 32768,
                hs.W_UTF: 32768, hs.W_POOL: 1 << 20, hs.W_LOAD: 4096, hs.W_DEF: 64, hs.W_DEFB: 4096, hs.W_REF: 32768}
        self.cols = {}
        for w, group in _GROUPS.items():
            for name, dt in group:
                self.cols[name] = np.zeros(max(int(caps[w]), 64), dt)
        self.cols["cls_index"] = typed.Dict.empty(types.uint64, types.int64)
        self.state = np.zeros(hs.STATE_SLOTS, np.int64)
        self.id_size = id_size

    def grow(self, which: int):
        n = int(self.state[_COUNT[which]])
        for name, dt in _GROUPS[which]:
            old = self.cols[name]
            new = np.zeros(max(2 * len(old), 64), dt)
            new[:n] = old[:n]
            self.cols[name] = new

    def run(self, buf: np.ndarray, pos: int, base: int) -> tuple[int, int]:
        while True:
            status, pos = hs.scan(buf, pos, len(buf), base, self.id_size, self.state, *[self.cols[k] for k in _ORDER])
            if status != hs.NEED_SPACE:
                return status, pos
            self.grow(int(self.state[hs.S_WHICH]))

    def used(self, name: str) -> np.ndarray:
        for w, group in _GROUPS.items():
            if any(n == name for n, _ in group):
                return self.cols[name][: int(self.state[_COUNT[w]])]
        raise KeyError(name)


def _header(head: bytes, path) -> tuple[str, int, int, int]:
    """(version, id size, timestamp ms, header length) of ``JAVA PROFILE 1.0.x\\0 u4 idsize u8 time``."""
    if not head.startswith(MAGIC):
        raise ArtifactError(path, 0, "not an HPROF heap dump (no 'JAVA PROFILE 1.0.' header)")
    nul = head.find(b"\0", 0, 64)
    if nul < 0 or len(head) < nul + 13:
        raise ArtifactError(path, len(head), "HPROF header cut short")
    version = head[len(MAGIC) - 4:nul].decode("ascii", "replace")
    id_size = int.from_bytes(head[nul + 1:nul + 5], "big")
    if id_size not in (4, 8):
        raise ArtifactError(path, nul + 1, f"identifier size {id_size} (HPROF uses 4 or 8)")
    ts = int.from_bytes(head[nul + 5:nul + 13], "big")
    return version, id_size, ts, nul + 13


def _is_gzip(path) -> bool:
    with open_readonly(path) as f:
        return f.read(2) == b"\x1f\x8b"


def _gzip_chunks(path, prov: Provenance, bar):
    """Decompressed bytes of a (multi-member) gzip file, chunk by chunk; a cut or corrupt stream is a warning."""
    with open_readonly(path) as f:
        d = zlib.decompressobj(wbits=31)
        consumed = 0          # compressed bytes fully used
        started = False       # inside a member
        while True:
            raw = f.read(4 << 20)
            if not raw:
                if started and not d.eof:
                    prov.warn(consumed, "the gzip stream ends inside a member (no trailer): the compressed dump "
                              "was cut short")
                return
            bar.update(len(raw))
            data = raw
            while data:
                started = True
                try:
                    out = d.decompress(data, CHUNK)
                except zlib.error as e:
                    prov.warn(consumed, f"gzip data is corrupt ({e}); loaded what came before")
                    return
                if out:
                    yield out
                if d.eof:
                    consumed += len(data) - len(d.unused_data)
                    data = d.unused_data
                    d = zlib.decompressobj(wbits=31)
                    started = False
                    if data and data[:1] != b"\x1f":
                        prov.warn(consumed, "bytes after the last gzip member are not gzip; ignored")
                        return
                else:
                    consumed += len(data) - len(d.unconsumed_tail)
                    data = d.unconsumed_tail


def _plain_chunks(path, bar):
    """The file's bytes, 16 MiB at a time (read, not mapped: mapped pages would count as the process's memory)."""
    with open_readonly(path) as f:
        while raw := f.read(CHUNK):
            bar.update(len(raw))
            yield raw


def _scan_file(path, prov: Provenance) -> tuple[_Scanner, dict]:
    gz = _is_gzip(path)
    info = {"compressed": gz}
    with progress(prov.size, "reading HPROF", size_bytes=prov.size) as bar:
        chunks = _gzip_chunks(path, prov, bar) if gz else _plain_chunks(path, bar)
        buf = np.zeros(0, np.uint8)
        base = 0
        sc = None
        status, pos = hs.DONE, 0
        for chunk in chunks:
            buf = np.concatenate([buf, np.frombuffer(chunk, np.uint8)]) if len(buf) else np.frombuffer(chunk, np.uint8)
            if sc is None:
                if len(buf) < 64:
                    continue
                version, id_size, ts, hl = _header(bytes(buf[:64]), path)
                sc = _Scanner(id_size, prov.size * (4 if gz else 1))
                pos = hl
            status, pos = sc.run(buf, pos, base)
            if status == hs.BAD:
                break
            base += pos
            buf = buf[pos:].copy()
            pos = 0
        if sc is None:
            version, id_size, ts, hl = _header(bytes(buf[:64]), path)
            sc = _Scanner(id_size, 1 << 16)
            status, pos = sc.run(buf, hl, 0)
        info["end"] = _finish(sc, status, pos, base, base + len(buf), prov, path, decompressed=gz)
    info.update(version=version, id_size=id_size, timestamp_ms=ts)
    return sc, info


def _finish(sc: _Scanner, status, pos, base, total, prov, path, decompressed=False) -> int:
    """Turn the scanner's last status into a warning (cut short) or an error (corrupt at the start)."""
    where = base + pos
    unit = " of the decompressed dump" if decompressed else ""
    st = sc.state
    tag = int(st[hs.S_TAG])
    if status == hs.BAD:
        reason = hs.ERRORS.get(int(st[hs.S_ERR]), "corrupt record")
        msg = f"{reason} (tag 0x{tag:02X}); the dump is read up to here"
        if st[hs.S_NOBJ] == 0 and st[hs.S_NUTF] == 0:
            raise ArtifactError(path, f"byte {where:,}{unit}", msg)
        prov.warn(f"byte {where:,}{unit}", msg + " — corrupt dump?")
    elif status == hs.NEED_DATA or st[hs.S_SEG] > 0 or st[hs.S_SKIP] > 0:
        inside = f"a heap-dump sub-record (tag 0x{tag:02X})" if st[hs.S_SEG] > 0 else f"a record (tag 0x{tag:02X})"
        prov.warn(f"byte {where:,}{unit}", f"the dump ends inside {inside} after {total:,} bytes; loaded every whole "
                  "record before it — truncated dump (the JVM killed while dumping, a full disk)?")
    return where


# --------------------------------------------------------------------------- assembling

def read_hprof(path, prov: Provenance | None = None, compressed_oops: bool | None = None) -> HprofDump:
    """Read an HPROF heap dump (plain or gzip) into columns; see :class:`HprofDump`.

    ``compressed_oops``: the reference size HotSpot used (None: decided from the object addresses).
    Raises :class:`ArtifactError`; a dump cut short loads with a warning in ``prov.warnings``.
    """
    from .hprof_model import assemble

    path = os.fspath(path)
    prov = prov or provenance_for(path, parser="forensics.memory.hprof")
    sc, info = _scan_file(path, prov)
    return assemble(path, prov, sc, info, compressed_oops)


def histogram(dump: HprofDump) -> pd.DataFrame:
    """Instances and shallow bytes per class, as ``jmap -histo`` prints them (largest first).

    Columns: ``rank, name, readable, count, bytes`` — ``name`` in jmap's spelling
    (``[B``, ``[Ljava.lang.Object;``, ``java.util.HashMap$Node``).
    """
    from .jvm import readable

    o = dump.objects
    k = len(dump.class_names)
    counts = np.bincount(o["cls"], minlength=k)
    sizes = np.bincount(o["cls"], weights=o["size"], minlength=k).astype(np.int64)
    keep = counts > 0
    df = pd.DataFrame({"name": dump.class_names[keep], "count": counts[keep].astype(np.int64), "bytes": sizes[keep]})
    df = df.sort_values(["bytes", "count", "name"], ascending=[False, False, True], kind="stable").reset_index(drop=True)
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    df.insert(2, "readable", df["name"].map(readable).astype("str"))
    df["name"] = df["name"].astype("str")
    return df
