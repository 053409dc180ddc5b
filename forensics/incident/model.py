"""The evidence of an incident folder: its manifest and every artifact as loaded (no analysis).

The bottom layer of :mod:`forensics.incident` — it imports nothing else of the package:
``model`` → :mod:`.endpoints` → :mod:`.timeline` → :mod:`.links` → :mod:`.views` (the
:class:`~forensics.incident.views.Incident` with its joined views) → plots, training, report, cli.

The folder may hold an ``incident.toml`` manifest (title, time window, endpoints
``ip``/``port`` → ``service``/``host``, artifacts with their kind, role and time,
training questions); without one, every file is sniffed by content. One bad
artifact never stops the others: each gets a row in :attr:`Evidence.load_report`
with its status, warnings and error.
"""
from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping

import pandas as pd

from .. import kinds, registry
from ..artifact import Provenance, sniff
from ..errors import ArtifactError
from ..progress import progress

MANIFEST = "incident.toml"
ANSWERS = "answers.toml"
#: files that describe the incident rather than being evidence
NOT_EVIDENCE = {MANIFEST, ANSWERS, "README.md", "README", ".gitattributes"}

#: the names an incident.toml may use for a family besides the family itself (older manifests)
FAMILY_ALIASES = {"pcap": "network", "gdb": "crashes", "heap": "memory", "pg_stat_statements": "postgres"}


def family_of(name: str | None) -> str | None:
    """The family a manifest ``kind`` means: a detected kind, a family, or an older alias."""
    if not name:
        return None
    return kinds.family_of(name) or (name if name in kinds.FAMILIES else FAMILY_ALIASES.get(name))


class _FamilyOfKind(Mapping):
    """{detected kind: family}, a live view of :mod:`forensics.kinds`."""

    def __getitem__(self, name):
        return kinds.by_name()[name].family

    def __iter__(self):
        return iter(kinds.by_name())

    def __len__(self):
        return len(kinds.KINDS)


class _Notebooks(Mapping):
    """{family: per-artifact notebook}, a live view of :mod:`forensics.kinds`."""

    def __getitem__(self, family):
        return kinds.notebooks()[family]

    def __iter__(self):
        return iter(kinds.notebooks())

    def __len__(self):
        return len(kinds.notebooks())


#: detected kind → family (the timeline's ``artifact_kind``)
ARTIFACT_KIND: Mapping[str, str] = _FamilyOfKind()
#: family → the per-artifact notebook that reads it ("where to go next", the report)
NOTEBOOKS: Mapping[str, str] = _Notebooks()


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
    #: tables derived once from ``result`` for the incident's views (a capture's flows, span attributes)
    derived: dict = dataclasses.field(default_factory=dict)

    @property
    def warnings(self) -> list[str]:
        return list(self.provenance.warnings) if self.provenance is not None else []

    @property
    def time(self) -> pd.Timestamp | None:
        """When the artifact was taken: the manifest's ``time``, else None."""
        return to_utc(self.meta.get("time"))

    @property
    def family(self) -> str | None:
        return self.artifact_kind


def to_utc(value) -> pd.Timestamp | None:
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


class Evidence:
    """Every artifact of one incident folder, loaded; the joined views are on
    :class:`forensics.incident.views.Incident`."""

    def __init__(self, folder, manifest: dict, artifacts: list[Artifact]):
        self.folder = os.path.abspath(os.fspath(folder))
        self.manifest = manifest
        self.artifacts = artifacts
        #: problems met while analysing and joining artifacts (a timeline builder or link finder that
        #: failed, a manifest that disagrees with the content) — the evidence's provenance is not touched
        self.notes: list[str] = [f"{a.file}: {a.meta['declared_kind_mismatch']}" for a in artifacts
                                 if a.meta.get("declared_kind_mismatch")]

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
    def manifest_window(self) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        """The manifest's ``[window]`` start and end (None where it gives none)."""
        w = self.manifest.get("window") or {}
        return to_utc(w.get("start")), to_utc(w.get("end"))

    @property
    def questions(self) -> list[dict]:
        return list(self.manifest.get("questions") or [])

    def answers(self) -> dict:
        """The training answers (kept in a separate file so that the questions can be shown first)."""
        return read_answers(self.folder)

    # ---------------------------------------------------------------- artifacts
    def loaded(self, family: str | None = None) -> list[Artifact]:
        """Artifacts that loaded (with or without warnings), optionally of one family
        (``network``, ``traces``, ``postgres``, ``memory``, ``crashes``; a detected kind or an older
        alias such as ``pcap`` means its family)."""
        fam = family_of(family) if family else None
        return [a for a in self.artifacts if a.status in ("loaded", "warnings")
                and (family is None or a.artifact_kind == fam)]

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
    path = os.path.abspath(os.path.join(folder, rel))
    a = Artifact(file=rel, path=path, meta=dict(meta))
    if not os.path.isfile(path):
        a.status, a.error = "error", f"listed in {MANIFEST} but not in the folder"
        return a
    try:
        det = sniff(path)
        a.kind = det.kind
        a.artifact_kind = kinds.family_of(det.kind)
        if det.kind is None:
            if meta.get("kind"):  # the manifest says it is evidence: failing to read it is an error
                a.status, a.error = "error", f"{MANIFEST} lists it as {meta['kind']}, but it is not: {det.evidence}"
            else:
                a.status, a.error = "skipped", f"not a known artifact: {det.evidence}"
            a.provenance = Provenance.of(path)
            return a
        declared = meta.get("kind")
        if declared and family_of(declared) != a.artifact_kind:
            # the manifest's word against the content's: noted on the incident, not in the evidence's provenance
            a.meta["declared_kind_mismatch"] = f"{MANIFEST} says {declared}, content says {det.kind}"
        a.result = registry.load(path, kind=det.kind, **options)  # only ArtifactError (registry's safety net)
        a.provenance = getattr(a.result, "provenance", None) or Provenance.of(path, kind=det.kind)
        a.status = "warnings" if a.provenance.warnings else "loaded"
    except ArtifactError as e:
        a.status, a.error = "error", str(e)
    except TypeError as e:  # an option given to open_incident that this kind's loader does not take
        a.status, a.error = "error", f"the {a.kind} loader does not take the options given: {e}"
    if a.provenance is None:
        try:
            a.provenance = Provenance.of(path, kind=a.kind)
        except ArtifactError:
            pass
    return a


def load_evidence(folder, progress_bar: bool | None = None, **options) -> tuple[dict, list[Artifact]]:
    """The manifest and every artifact of ``folder``, loaded.

    Raises :class:`ArtifactError` only when ``folder`` is not a folder or its
    manifest is not valid TOML; problems with single artifacts are in each
    artifact's ``status`` and ``error``.
    """
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
    return manifest, artifacts
