"""From scanned HPROF columns to a :class:`~forensics.memory.hprof.HprofDump`: names, HotSpot sizes, the graph.

HPROF stores field values, not how HotSpot laid the object out, so shallow
sizes are recomputed the way the JVM allocates (what ``jmap -histo`` counts):

* headers: 12 bytes (mark word + compressed class pointer) on a 64-bit JVM,
  8 on a 32-bit one (4-byte ids); arrays add a 4-byte length (16 / 12);
* references: 4 bytes with compressed oops, 8 without. HPROF always writes
  8-byte ids on 64-bit JVMs, so compressed oops are assumed when every object
  address is below 32 GiB (HotSpot's limit for them) — pass
  ``compressed_oops=`` to override;
* fields: JDK 15+'s FieldLayoutBuilder — primitives largest first, then
  references, each into the first hole that fits (holes of superclasses
  included), object size rounded up to 8;
* fields the JVM injects into a few JDK classes (:data:`INJECTED`) are not
  in HPROF but take room; ``java.lang.Class`` objects (one per CLASS DUMP,
  plus the primitive mirrors dumped as instances) also hold the static fields.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from . import hprof_resolve as hr
from . import hprof_scan as hs
from .hprof import PRIM_NAMES, PRIM_SIZES, ROOT_TYPES, HprofDump

#: Fields HotSpot injects (javaClasses.hpp ``*_INJECTED_FIELDS``, JDK 17): sizes in bytes, "ref" for a reference.
INJECTED = {
    "java.lang.Class": [8, 8, 4, 4, "ref", "ref", "ref"],   # klass, array_klass, oop_size, static_oop_field_count,
                                                             # protection_domain, signers, source_file
    "java.lang.ClassLoader": [8],                            # loader_data
    "java.lang.Module": [8],                                 # module_entry
    "java.lang.invoke.MemberName": [8],                      # vmindex
    "java.lang.invoke.ResolvedMethodName": ["ref", 8],       # vmholder, vmtarget
    "java.lang.invoke.MethodHandleNatives$CallSiteContext": [8, 8],  # vmdependencies, last_cleanup
    "java.lang.StackFrameInfo": [2],                         # version
    "java.lang.InternalError": [1],                          # during_unsafe_access
}
#: Classes annotated ``@jdk.internal.vm.annotation.Contended`` (whole class or a field group): HotSpot pads
#: them with ``ContendedPaddingWidth`` (128) bytes before and after — invisible in HPROF.
CONTENDED = {"java.lang.Thread": 256, "java.util.concurrent.ForkJoinPool": 256,
             "java.util.concurrent.ConcurrentHashMap$CounterCell": 256, "java.util.concurrent.atomic.Striped64$Cell": 256,
             "java.util.concurrent.Exchanger$Node": 256}
_TYPE_SIZE = {4: 1, 5: 2, 6: 4, 7: 8, 8: 1, 9: 2, 10: 4, 11: 8}
COMPRESSED_OOPS_LIMIT = 32 << 30


def _align(x: int, a: int = 8) -> int:
    return (x + a - 1) // a * a


class _Layout:
    """Field offsets as HotSpot's FieldLayoutBuilder assigns them (JDK 15+): first hole that fits."""

    def __init__(self, end: int, holes=()):
        self.end = end
        self.holes = list(holes)

    def place(self, size: int) -> None:
        for i, (a, b) in enumerate(self.holes):
            s = _align(a, size)
            if s + size <= b:
                self.holes[i:i + 1] = [h for h in ((a, s), (s + size, b)) if h[1] > h[0]]
                return
        s = _align(self.end, size)
        if s > self.end:
            self.holes.append((self.end, s))
        self.end = s + size

    def extend(self, prim_sizes, n_refs: int, ref: int) -> "_Layout":
        child = _Layout(self.end, self.holes)
        for s in sorted(prim_sizes, reverse=True):
            child.place(s)
        for _ in range(n_refs):
            child.place(ref)
        return child


_HIDDEN = re.compile(r"\+(0x[0-9a-fA-F]+)$")


def java_name(internal: str) -> str:
    """jmap's spelling of an HPROF class name: dots for slashes, ``/0x…`` for a hidden class's ``+0x…``.

    >>> java_name("java/util/HashMap$Node"), java_name("[Ljava/lang/Object;")
    ('java.util.HashMap$Node', '[Ljava.lang.Object;')
    >>> java_name("LeakyHeap$$Lambda$14+0x0000000800c03000")
    'LeakyHeap$$Lambda$14/0x0000000800c03000'
    """
    return _HIDDEN.sub(r"/\1", internal.replace("/", "."))


def _strings(sc) -> dict:
    ids, starts, lens, pool = sc.used("utf_id"), sc.used("utf_start"), sc.used("utf_len"), sc.used("pool")
    raw = pool.tobytes()
    return {int(i): raw[s:s + n].decode("utf-8", "replace") for i, s, n in zip(ids.tolist(), starts.tolist(), lens.tolist())}


def assemble(path, prov, sc, info, compressed_oops) -> HprofDump:
    """Names, HotSpot sizes and the CSR reference graph from the scanner's columns (see the module docstring)."""
    I = info["id_size"]
    strings = _strings(sc)
    load_cls, load_name = sc.used("load_cls"), sc.used("load_name")
    name_of_class = {int(c): java_name(strings.get(int(n), f"(class name #{int(n)} missing)"))
                     for c, n in zip(load_cls.tolist(), load_name.tolist())}
    C = {k: sc.used(k) for k in ("cls_id", "cls_super", "cls_loader", "cls_isize", "cls_fstart", "cls_fcount",
                                 "cls_sstart", "cls_scount")}
    fld_name, fld_type = sc.used("fld_name"), sc.used("fld_type")
    n_cls = len(C["cls_id"])

    # references of instances whose class came later in the dump
    n_def = int(sc.state[hs.S_NDEF])
    if n_def:
        cap = int(sc.state[hs.S_NEDGE]) + int(sc.used("obj_len")[sc.used("def_obj")].sum()) // I + 1
        if cap > len(sc.cols["edge_dst"]):
            for k, dt in (("edge_src", np.int32), ("edge_dst", np.uint64)):
                new = np.zeros(cap, dt)
                new[: int(sc.state[hs.S_NEDGE])] = sc.used(k)
                sc.cols[k] = new
        ref_offs = np.zeros(len(sc.cols["ref_offs"]) + len(fld_type) * 8 + 64, np.int64)
        ref_offs[: int(sc.state[hs.S_NREF])] = sc.used("ref_offs")
        e, bad = hr.decode_deferred(sc.used("def_obj"), sc.used("def_start"), sc.cols["defb"], sc.used("obj_cls"),
                                    sc.used("obj_len"), I, C["cls_super"], C["cls_fstart"], C["cls_fcount"],
                                    sc.cols["fld_type"], sc.cols["cls_index"], sc.cols["ref_start"],
                                    sc.cols["ref_count"], sc.cols["ref_total"], ref_offs, int(sc.state[hs.S_NREF]),
                                    sc.cols["edge_src"], sc.cols["edge_dst"], int(sc.state[hs.S_NEDGE]))
        sc.state[hs.S_NEDGE] = e
        if bad:
            prov.warn("instance dumps", f"{bad:,} instances name a class whose CLASS DUMP is missing or does not match "
                      "their field bytes; their references are not followed")

    obj_id = sc.used("obj_id")
    kind = sc.used("obj_kind")
    cls_ref = sc.used("obj_cls")
    length = sc.used("obj_len")
    if compressed_oops is None:
        compressed_oops = I == 8 and (len(obj_id) == 0 or int(obj_id.max()) < COMPRESSED_OOPS_LIMIT)
    ref = 4 if (I == 4 or compressed_oops) else 8
    header = 8 if I == 4 else 12
    arr_header = header + 4

    # class names and histogram codes: one code per CLASS DUMP, then primitive arrays without one
    cls_names = [name_of_class.get(int(c), f"(class 0x{int(c):x} without a name)") for c in C["cls_id"].tolist()]
    by_name = {n: i for i, n in enumerate(cls_names)}
    prim_code = {}
    names = list(cls_names)
    for t, pn in PRIM_NAMES.items():
        if pn not in by_name:
            by_name[pn] = len(names)
            names.append(pn)
        prim_code[t] = by_name[pn]
    if "java.lang.Class" not in by_name:
        by_name["java.lang.Class"] = len(names)
        names.append("java.lang.Class")
    class_code = by_name["java.lang.Class"]
    unknown_code = len(names)
    names.append("(unknown class)")

    # instance sizes per class from the layout model
    cls_pos = {int(c): i for i, c in enumerate(C["cls_id"].tolist())}
    layouts: dict[int, _Layout] = {}

    def layout(i: int, depth: int = 0) -> _Layout:
        if i in layouts:
            return layouts[i]
        sup = cls_pos.get(int(C["cls_super"][i]), -1)
        parent = layout(sup, depth + 1) if sup >= 0 and depth < 64 else _Layout(header)
        fs, fc = int(C["cls_fstart"][i]), int(C["cls_fcount"][i])
        types_ = fld_type[fs:fs + fc].tolist()
        prims = [_TYPE_SIZE[t] for t in types_ if t != hs.T_OBJECT and t in _TYPE_SIZE]
        refs = sum(1 for t in types_ if t == hs.T_OBJECT)
        for s in INJECTED.get(cls_names[i], []):
            if s == "ref":
                refs += 1
            else:
                prims.append(4 if (I == 4 and s == 8) else s)  # intptr fields on a 32-bit JVM
        lay = parent.extend(prims, refs, ref)
        if cls_names[i] in CONTENDED:   # padded, and subclasses do not fill its holes
            lay.end = _align(lay.end) + CONTENDED[cls_names[i]]
            lay.holes = []
        layouts[i] = lay
        return lay

    inst_size = np.array([_align(layout(i).end) for i in range(n_cls)], dtype=np.int64)
    class_base = int(inst_size[by_name["java.lang.Class"]]) if by_name["java.lang.Class"] < n_cls else 96
    mirror = np.empty(n_cls, np.int64)
    for i in range(n_cls):
        ss, sn = int(C["cls_sstart"][i]), int(C["cls_scount"][i])
        # HotSpot lists pseudo-statics such as <resolved_references> (the constant pool's cache): not in the mirror
        st = [t & 0x7F for t, nm in zip(fld_type[ss:ss + sn].tolist(), fld_name[ss:ss + sn].tolist())
              if not strings.get(int(nm), "").startswith("<")]
        if not st:
            mirror[i] = class_base
            continue
        # static references first, contiguously (one oop map block), then primitives largest first, each appended:
        # HotSpot's static layout never fills holes (its search starts at the layout's last block), so the 4-byte
        # gap an odd number of compressed references leaves before a long stays empty
        end = class_base + ref * sum(1 for t in st if t == hs.T_OBJECT)
        for size in sorted((_TYPE_SIZE[t] for t in st if t != hs.T_OBJECT and t in _TYPE_SIZE), reverse=True):
            end = _align(end, size) + size
        mirror[i] = _align(end)

    # per object: histogram code and shallow size
    cls_sorted = np.argsort(C["cls_id"], kind="stable")
    sorted_cls_ids = C["cls_id"][cls_sorted]

    def code_of(ids):
        k = np.searchsorted(sorted_cls_ids, ids)
        k = np.minimum(k, max(len(sorted_cls_ids) - 1, 0))
        hit = (sorted_cls_ids[k] == ids) if len(sorted_cls_ids) else np.zeros(len(ids), bool)
        return np.where(hit, cls_sorted[k] if len(cls_sorted) else 0, unknown_code), hit

    code = np.full(len(obj_id), unknown_code, np.int64)
    size = np.zeros(len(obj_id), np.int64)
    m = (kind == hs.K_INSTANCE) | (kind == hs.K_OBJARRAY)
    c, hit = code_of(cls_ref[m])
    code[m] = c
    ci = np.where(hit, c, 0)
    inst = kind[m] == hs.K_INSTANCE
    sz = np.where(inst, np.where(hit, inst_size[ci] if n_cls else 0, _align(header + length[m])),
                  (arr_header + length[m] * ref + 7) // 8 * 8)
    size[m] = sz
    # primitive mirrors (int.class, …) are dumped as instances of java.lang.Class
    mirrors_as_inst = m.copy()
    mirrors_as_inst[m] = inst & (c == class_code)
    size[mirrors_as_inst] = class_base
    p = kind == hs.K_PRIMARRAY
    t = cls_ref[p].astype(np.int64)
    elem = np.zeros(16, np.int64)
    lut = np.full(16, unknown_code, np.int64)
    for tt, s in PRIM_SIZES.items():
        elem[tt] = s
        lut[tt] = prim_code[tt]
    tt = np.clip(t, 0, 15)
    code[p] = lut[tt]
    size[p] = (arr_header + length[p] * elem[tt] + 7) // 8 * 8
    k = kind == hs.K_CLASS
    code[k] = class_code
    ck, _ = code_of(obj_id[k])
    size[k] = mirror[np.minimum(ck, n_cls - 1)] if n_cls else class_base

    # objects stay in dump order (HotSpot writes them by address); an id index finds them, and the edges —
    # written object by object, so already grouped by source — become CSR without a sort
    id_order = np.argsort(obj_id, kind="stable").astype(np.int32 if len(obj_id) < 2**31 else np.int64)
    ids = obj_id[id_order]
    dup = np.flatnonzero(ids[1:] == ids[:-1])
    if len(dup):
        prov.warn("heap dump", f"{len(dup):,} object ids appear twice (first 0x{int(ids[dup[0]]):x}); "
                  "references go to the first copy")
    src, dst_id = sc.used("edge_src"), sc.used("edge_dst")
    first, dst, dangling = hr.resolve_edges(ids, id_order, src, dst_id, len(obj_id))
    if dangling < 0:   # references decoded after the scan (classes dumped late): group them first
        eo = np.argsort(src, kind="stable")
        first, dst, dangling = hr.resolve_edges(ids, id_order, src[eo], dst_id[eo], len(obj_id))
        del eo
    sc.cols["edge_src"] = sc.cols["edge_dst"] = None   # the scanner's copies are no longer needed
    del src, dst_id

    objects = {"id": obj_id, "cls": code.astype(np.int32), "kind": kind, "length": length, "size": size,
               "offset": sc.used("obj_off"), "hash": sc.used("obj_hash"), "type_id": cls_ref}
    del code

    rt, rid, rx = sc.used("root_type"), sc.used("root_id"), sc.used("root_extra")
    rj = np.minimum(np.searchsorted(ids, rid), max(len(ids) - 1, 0))
    rok = ids[rj] == rid if len(ids) else np.zeros(len(rid), bool)
    roots = pd.DataFrame({"type": pd.array([ROOT_TYPES.get(int(x), f"0x{int(x):02X}") for x in rt.tolist()], dtype="str"),
                          "object": np.where(rok, id_order[rj] if len(ids) else -1, -1).astype(np.int64), "object_id": rid,
                          "thread_serial": rx})

    classes = pd.DataFrame({"class_id": C["cls_id"], "name": pd.array(cls_names, dtype="str"),
                            "super_id": C["cls_super"], "loader_id": C["cls_loader"], "instance_size": inst_size,
                            "hprof_instance_size": C["cls_isize"], "field_start": C["cls_fstart"],
                            "field_count": C["cls_fcount"], "static_start": C["cls_sstart"],
                            "static_count": C["cls_scount"]})
    fields = pd.DataFrame({"name": pd.array([strings.get(int(n), f"#{int(n)}") for n in fld_name.tolist()], dtype="str"),
                           "type": (fld_type & 0x7F).astype(np.int64), "static": (fld_type & 0x80) > 0})
    info = {**info, "objects": len(obj_id), "references": len(dst), "dangling_references": dangling, "roots": len(rid),
            "classes": n_cls, "segments": int(sc.state[hs.S_NSEG]), "reference_size": ref}
    return HprofDump(path, prov, info["version"], I, info["timestamp_ms"], bool(compressed_oops), objects,
                     np.array(names, dtype=object), classes, first, dst, roots, strings, fields, info,
                     sorted_ids=ids, id_order=id_order)
