"""An incident folder: every artifact loaded side by side, one timeline, cross-artifact links.

>>> import forensics
>>> inc = forensics.open_incident("sample_data/incidents/checkout-latency")   # doctest: +SKIP
>>> inc.load_report[["file", "artifact_kind", "status"]]                      # doctest: +SKIP
>>> inc.timeline[["time", "artifact_kind", "kind", "service", "detail"]]        # doctest: +SKIP
>>> inc.links[:1]                                                               # doctest: +SKIP

Modules, each depending only on the ones before it (no cycles; ``tests/core/test_imports.py``):

- :mod:`.model` — the manifest and the artifacts as loaded (:class:`Evidence`, :class:`Artifact`)
- :mod:`.endpoints` — ip:port → service/host; flows and span attributes shared by what follows
- :mod:`.timeline` — one UTC timeline (each kind's builder named in :mod:`forensics.kinds`)
- :mod:`.identifiers` — trace/span ids written in the evidence (logs, SQL comments, HTTP headers)
- :mod:`.links` — rows of different artifacts that speak of the same thing, with reasons, ranked
- :mod:`.views` — :class:`Incident` (evidence + endpoints, timeline, links) and :func:`open_incident`
- :mod:`.plots`, :mod:`.training`, :mod:`.report`, :mod:`.cli` — what people look at

``import forensics.incident`` loads no kind's heavy dependencies (numba, pglast, networkx, …):
those come in only when an artifact of that kind is loaded or analysed.
"""
from ..lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {
    **{n: ".model" for n in ("ANSWERS", "ARTIFACT_KIND", "MANIFEST", "NOTEBOOKS", "Artifact", "Evidence",
                            "read_answers", "read_manifest")},
    "Incident": ".views", "open_incident": ".views"})

__all__ = ["open_incident", "Incident", "Evidence", "Artifact", "read_manifest", "read_answers", "MANIFEST",
           "ANSWERS", "ARTIFACT_KIND", "NOTEBOOKS"]
