"""An incident: its evidence (:class:`~forensics.incident.model.Evidence`) and the views that join it.

>>> import forensics
>>> inc = forensics.open_incident("sample_data/incidents/checkout-latency")
>>> sorted(set(inc.load_report["artifact_kind"]))
['crashes', 'network', 'postgres', 'traces']
>>> inc.timeline[inc.timeline["kind"] == "crash"]["time_source"].iloc[0]
'incident.toml'

Each view is built once, on first use: :attr:`Incident.endpoints` (who is who),
:attr:`Incident.timeline` (one UTC timeline) and :attr:`Incident.links` (rows of different
artifacts that speak of the same thing). Problems met while building them go to
:attr:`Incident.notes`, never into an artifact's provenance.
"""
from __future__ import annotations

from functools import cached_property

import pandas as pd

from .endpoints import endpoint_table, lookup_host, lookup_service
from .links import find_links
from .model import NOTEBOOKS, Evidence, load_evidence
from .timeline import build_timeline, has_own_clock


class Incident(Evidence):
    """Every artifact of one incident, loaded, with one timeline and cross-artifact links."""

    @cached_property
    def endpoints(self) -> pd.DataFrame:
        """ip, port → service, host: from the manifest, trace tags and well-known ports (with source)."""
        return endpoint_table(self)

    def service_for(self, ip, port=None) -> str | None:
        """The service at ``ip:port`` (or owning ``ip``), as far as the evidence says."""
        return lookup_service(self.endpoints, ip, port)

    def host_for(self, ip) -> str | None:
        """The host name known for ``ip`` (manifest or trace process tags)."""
        return lookup_host(self.endpoints, ip)

    @cached_property
    def timeline(self) -> pd.DataFrame:
        """One row per event from every artifact, in UTC; see :mod:`forensics.incident.timeline`."""
        return build_timeline(self)

    @cached_property
    def links(self) -> list[dict]:
        """Cross-artifact links: {"a", "b", "type", "reason", "confidence"}; see :mod:`forensics.incident.links`."""
        return find_links(self)

    @property
    def window(self) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        """The manifest's time window, else the span of the events dated by their own clock (packets,
        spans, a transcript's text), else of the whole timeline (manifest times, mtimes)."""
        start, end = self.manifest_window
        if start is None or end is None:
            tl = self.timeline
            clocked = tl[tl["time_source"].map(has_own_clock)]
            tl = clocked if len(clocked) else tl
            if len(tl):
                start = start or tl["time"].min()
                end = end or tl["time"].max()
        return start, end

    @property
    def links_frame(self) -> pd.DataFrame:
        """:attr:`links` flattened for display (a_kind, a_ref, b_kind, b_ref, confidence, link, reason)."""
        rows = [{"a_kind": l["a"]["artifact_kind"], "a_ref": l["a"]["ref"], "b_kind": l["b"]["artifact_kind"],
                 "b_ref": l["b"]["ref"], "confidence": l["confidence"], "link": l.get("type"), "reason": l["reason"]}
                for l in self.links]
        cols = ["a_kind", "a_ref", "b_kind", "b_ref", "confidence", "link", "reason"]
        return pd.DataFrame(rows, columns=cols)

    def notebooks(self) -> list[str]:
        """The per-artifact notebooks that apply to what this incident holds."""
        families = {a.artifact_kind for a in self.loaded()}
        return [nb for fam, nb in NOTEBOOKS.items() if fam in families]


def open_incident(folder, progress_bar: bool | None = None, **options) -> Incident:
    """Load every artifact of an incident folder.

    Raises :class:`~forensics.errors.ArtifactError` only when ``folder`` is not a folder or its
    manifest is not valid TOML; problems with single artifacts are reported in
    :attr:`Incident.load_report` instead.
    """
    manifest, artifacts = load_evidence(folder, progress_bar=progress_bar, **options)
    return Incident(folder, manifest, artifacts)
