"""An incident folder: every artifact loaded side by side, one timeline, cross-artifact links.

>>> import forensics
>>> inc = forensics.open_incident("sample_data/incidents/checkout-latency")   # doctest: +SKIP
>>> inc.load_report[["file", "artifact_kind", "status"]]                      # doctest: +SKIP
>>> inc.timeline[["time", "artifact_kind", "kind", "service", "detail"]]        # doctest: +SKIP
>>> inc.links[:1]                                                               # doctest: +SKIP
[{'a': {'artifact_kind': 'traces', 'ref': '…'}, 'b': {'artifact_kind': 'pg_stat_statements', 'ref': '…'},
  'reason': '…', 'confidence': 0.9}]

The folder may hold an ``incident.toml`` manifest (title, time window, endpoints
``ip``/``port`` → ``service``/``host``, artifacts with their kind, role and time,
training questions); without one, every file is sniffed by content. One bad
artifact never stops the others: each gets a row in :attr:`Incident.load_report`
with its status, warnings and error.
"""
from __future__ import annotations

import dataclasses
import os
import tomllib
from functools import cached_property

import pandas as pd

from . import kinds
from .artifact import Provenance, sniff
from .errors import ArtifactError

MANIFEST = "incident.toml"
ANSWERS = "answers.toml"
#: files that describe the incident rather than being evidence
NOT_EVIDENCE = {MANIFEST, ANSWERS, "README.md", "README", ".gitattributes"}

# the incident's names for the families of forensics.kinds (until the incident package speaks families)
_LEGACY = {"network": "pcap", "traces": "traces", "postgres": "pg_stat_statements", "memory": "heap",
           "crashes": "gdb"}
#: detector kind -> the artifact family the timeline and links speak of (from forensics.kinds)
ARTIFACT_KIND = {k.name: _LEGACY[k.family] for k in kinds.KINDS}

#: which notebooks apply to which artifact family (for "where to go next" and the report)
NOTEBOOKS = {_LEGACY[f]: nb for f, nb in kinds.notebooks().items()}


@dataclasses.dataclass
class Artifact:
    """One file of the incident and what became of loading it.

    ``status`` is ``loaded``, ``warnings`` (loaded, but part of it was skipped),
    ``error`` (nothing usable; ``error`` says why) or ``skipped`` (not evidence
    this workbench reads).
    """

    file: str
    path: str
    kind: str | None = None
    artifact_kind: str | None = None
    status: str = "pending"
    error: str | None = None
    result: object = None
    meta: dict = dataclasses.field(default_factory=dict)
    provenance: Provenance | None = None

    @property
    def warnings(self) -> list[str]:
        return list(self.provenance.warnings) if self.provenance is not None else []

    @property
    def time(self) -> pd.Timestamp | None:
        """When the artifact was taken: the manifest's ``time``, else None."""
        return _ts(self.meta.get("time"))


def _ts(value) -> pd.Timestamp | None:
    if value in (None, ""):
        return None
    try:
        t = pd.Timestamp(value)
    except (ValueError, TypeError):
        return None
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def read_manifest(folder) -> dict:
    """The parsed ``incident.toml`` of ``folder`` ({} when there is none)."""
    path = os.path.join(os.fspath(folder), MANIFEST)
    if not os.path.exists(path):
        return {}
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ArtifactError(path, None, f"incident manifest is not valid TOML: {e}") from None


def read_answers(folder) -> dict:
    """Training answers (``answers.toml``): {"answers": {question id: choice}, "debrief": text}."""
    path = os.path.join(os.fspath(folder), ANSWERS)
    if not os.path.exists(path):
        return {}
    with open(path, "rb") as f:
        return tomllib.load(f)


class Incident:
    """Every artifact of one incident, loaded; see :func:`open_incident`."""

    def __init__(self, folder, manifest: dict, artifacts: list[Artifact]):
        self.folder = os.path.abspath(os.fspath(folder))
        self.manifest = manifest
        self.artifacts = artifacts
        #: problems met while joining artifacts (a link finder that failed, …)
        self.notes: list[str] = []

    def __repr__(self):
        ok = sum(a.status in ("loaded", "warnings") for a in self.artifacts)
        return f"<Incident {self.name!r}: {ok}/{len(self.artifacts)} artifacts loaded>"

    # ---------------------------------------------------------------- what it is
    @property
    def name(self) -> str:
        return self.manifest.get("id") or os.path.basename(self.folder)

    @property
    def title(self) -> str:
        return self.manifest.get("title") or self.name

    @property
    def summary(self) -> str:
        return self.manifest.get("summary", "")

    @property
    def window(self) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        """The manifest's time window, else the span of the timeline."""
        w = self.manifest.get("window") or {}
        start, end = _ts(w.get("start")), _ts(w.get("end"))
        if start is None or end is None:
            tl = self.timeline
            if len(tl):
                start = start or tl["time"].min()
                end = end or tl["time"].max()
        return start, end

    @property
    def questions(self) -> list[dict]:
        return list(self.manifest.get("questions") or [])

    def answers(self) -> dict:
        """The training answers (kept in a separate file so that the questions can be shown first)."""
        return read_answers(self.folder)

    # ---------------------------------------------------------------- artifacts
    def loaded(self, artifact_kind: str | None = None) -> list[Artifact]:
        """Artifacts that loaded (with or without warnings), optionally of one family."""
        return [a for a in self.artifacts if a.status in ("loaded", "warnings")
                and (artifact_kind is None or a.artifact_kind == artifact_kind)]

    def artifact(self, file: str) -> Artifact:
        for a in self.artifacts:
            if a.file == file:
                return a
        raise KeyError(file)

    @property
    def load_report(self) -> pd.DataFrame:
        """One row per file: kind, status, warnings, error, size, sha256, parser."""
        rows = []
        for a in self.artifacts:
            p = a.provenance
            rows.append({
                "file": a.file, "kind": a.kind, "artifact_kind": a.artifact_kind, "status": a.status,
                "warnings": len(a.warnings), "warning_text": "; ".join(a.warnings), "error": a.error,
                "size": p.size if p else (os.path.getsize(a.path) if os.path.isfile(a.path) else None),
                "sha256": p.sha256 if p else None, "format": p.format if p else None,
                "parser": p.parser if p else None, "parser_version": p.parser_version if p else None,
            })
        return pd.DataFrame(rows)

    @property
    def provenance(self) -> list[dict]:
        """Every artifact's provenance (path, size, sha256, parser, version, warnings)."""
        out = []
        for a in self.artifacts:
            if a.provenance is not None:
                d = a.provenance.to_dict()
                d["file"] = a.file
                d["status"] = a.status
                out.append(d)
            else:
                out.append({"file": a.file, "path": a.path, "status": a.status, "error": a.error})
        return out

    # ---------------------------------------------------------------- joined views
    @cached_property
    def endpoints(self) -> pd.DataFrame:
        """ip, port → service, host: from the manifest, trace tags and well-known ports (with source)."""
        from .incident_links import endpoint_table

        return endpoint_table(self)

    def service_for(self, ip, port=None) -> str | None:
        """The service at ``ip:port`` (or owning ``ip``), as far as the evidence says."""
        from .incident_links import lookup_service

        return lookup_service(self.endpoints, ip, port)

    def host_for(self, ip) -> str | None:
        """The host name known for ``ip`` (manifest or trace process tags)."""
        from .incident_links import lookup_host

        return lookup_host(self.endpoints, ip)

    @cached_property
    def timeline(self) -> pd.DataFrame:
        """One row per event from every artifact, in UTC; see :mod:`forensics.incident_timeline`."""
        from .incident_timeline import build_timeline

        return build_timeline(self)

    @cached_property
    def links(self) -> list[dict]:
        """Cross-artifact links: {"a", "b", "reason", "confidence"}; see :mod:`forensics.incident_links`."""
        from .incident_links import find_links

        return find_links(self)

    @property
    def links_frame(self) -> pd.DataFrame:
        """:attr:`links` flattened for display (a_kind, a_ref, b_kind, b_ref, confidence, reason)."""
        rows = [{"a_kind": l["a"]["artifact_kind"], "a_ref": l["a"]["ref"], "b_kind": l["b"]["artifact_kind"],
                 "b_ref": l["b"]["ref"], "confidence": l["confidence"], "link": l.get("type"), "reason": l["reason"]}
                for l in self.links]
        cols = ["a_kind", "a_ref", "b_kind", "b_ref", "confidence", "link", "reason"]
        return pd.DataFrame(rows, columns=cols)

    def notebooks(self) -> list[str]:
        """The per-artifact notebooks that apply to what this incident holds."""
        kinds = {a.artifact_kind for a in self.loaded()}
        return [nb for k, nb in NOTEBOOKS.items() if k in kinds]


def _candidate_files(folder: str, manifest: dict) -> list[tuple[str, dict]]:
    listed = {}
    for entry in manifest.get("artifacts") or []:
        if isinstance(entry, dict) and entry.get("file"):
            listed[os.path.normpath(entry["file"])] = entry
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for f in sorted(files):
            rel = os.path.normpath(os.path.relpath(os.path.join(root, f), folder))
            if f.startswith(".") or (rel in NOT_EVIDENCE and root == folder):
                continue
            found.append(rel)
    out = [(rel, listed.get(rel, {})) for rel in found]
    out += [(rel, meta) for rel, meta in listed.items() if rel not in found]  # listed but missing
    return out


def load_artifact(folder: str, rel: str, meta: dict, **options) -> Artifact:
    """Load one file; never raises for bad evidence (the error goes into the returned Artifact)."""
    from . import registry

    path = os.path.abspath(os.path.join(folder, rel))
    a = Artifact(file=rel, path=path, meta=dict(meta))
    if not os.path.isfile(path):
        a.status, a.error = "error", f"listed in {MANIFEST} but not in the folder"
        return a
    try:
        det = sniff(path)
        a.kind = det.kind
        a.artifact_kind = ARTIFACT_KIND.get(det.kind)
        if det.kind is None:
            if meta.get("kind"):  # the manifest says it is evidence: failing to read it is an error
                a.status, a.error = "error", f"{MANIFEST} lists it as {meta['kind']}, but it is not: {det.evidence}"
            else:
                a.status, a.error = "skipped", f"not a known artifact: {det.evidence}"
            a.provenance = Provenance.of(path)
            return a
        declared = meta.get("kind")
        if declared and ARTIFACT_KIND.get(declared, declared) != a.artifact_kind:
            a.meta["declared_kind_mismatch"] = f"{MANIFEST} says {declared}, content says {det.kind}"
        a.result = registry.load(path, kind=det.kind, **options)
        a.provenance = getattr(a.result, "provenance", None) or Provenance.of(path, kind=det.kind)
        if "declared_kind_mismatch" in a.meta:
            a.provenance.warnings.append(a.meta["declared_kind_mismatch"])
        a.status = "warnings" if a.provenance.warnings else "loaded"
    except ArtifactError as e:
        a.status, a.error = "error", str(e)
    except Exception as e:  # a defect in one loader must not hide the other artifacts
        a.status, a.error = "error", f"internal error in the {a.kind} loader: {type(e).__name__}: {e}"
    if a.provenance is None:
        try:
            a.provenance = Provenance.of(path, kind=a.kind)
        except ArtifactError:
            pass
    return a


def open_incident(folder, progress_bar: bool | None = None, **options) -> Incident:
    """Load every artifact of an incident folder.

    Raises :class:`ArtifactError` only when ``folder`` is not a folder or its
    manifest is not valid TOML; problems with single artifacts are reported
    in :attr:`Incident.load_report` instead.
    """
    from .progress import progress

    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise ArtifactError(folder, None, "not a folder (an incident is a folder of artifacts)")
    manifest = read_manifest(folder)
    candidates = _candidate_files(folder, manifest)
    artifacts = []
    with progress(len(candidates), "loading incident", unit="file", enabled=progress_bar) as bar:
        for rel, meta in candidates:
            artifacts.append(load_artifact(folder, rel, meta, **options))
            bar.update(1)
    return Incident(folder, manifest, artifacts)
