"""OCaml native code: the runtime's frames are library code, the program's compiled OCaml functions its own.

ocamlopt names a compiled function ``caml<Module>__<name>_<n>`` (``camlSegfault__aux_1061``: ``caml`` then the
module's capitalised name); the runtime linked into every OCaml program names its C functions ``caml_*``
(``caml_make_vect``, ``caml_major_collection_slice``) and its collector's internals without a prefix
(``mark_slice``, ``sweep_slice``). When a stack shows compiled OCaml code, those runtime frames are no one's own.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

_OCAML_CODE = re.compile(r"^caml[A-Z]\w*__\w+$")
_OCAML_RUNTIME = re.compile(r"^(?:caml_\w+|mark_slice\w*|sweep_slice|clean_slice|do_some_marking|oldify_\w+|"
                            r"invert_root|do_compaction\w*|compact_heap\w*|ephe_\w+)$")


def mark_ocaml_runtime(frames: pd.DataFrame) -> None:
    """Mark the OCaml runtime's frames as library code, in place, when compiled OCaml code is on a stack."""
    if frames.empty:
        return
    names = frames["norm_function"].tolist()
    if not any(isinstance(n, str) and _OCAML_CODE.match(n) for n in names):
        return
    hit = np.array([isinstance(n, str) and bool(_OCAML_RUNTIME.match(n)) for n in names], dtype=bool)
    frames.loc[hit, "is_library"] = True
    frames.loc[hit, "is_own"] = False
