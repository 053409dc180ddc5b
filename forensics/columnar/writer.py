"""``forensics export``: every loaded artifact's frames as Parquet, with provenance in the metadata.

>>> from forensics.columnar import export
>>> export(["sample_data/incidents/checkout-latency"], "out/")     # doctest: +SKIP

What a path becomes:

* a file → one artifact (its kind's loader);
* a folder of one kind of evidence (rotated captures, hourly trace exports, pgss snapshots)
  → one artifact, the set (:func:`forensics.sets.load_set`);
* a folder with an ``incident.toml``, or mixing kinds → an incident: each file one artifact,
  plus the incident's ``timeline``, ``links`` and ``load_report``.

Besides the tables, ``DIR/artifacts/`` holds one row per artifact (source, kind, sha256,
size, warnings, tables, the provenance as JSON). Writing is per artifact and table, so
memory is one artifact at a time; a file that fails to load is reported and skipped.
"""
from __future__ import annotations

import json
import os

import pandas as pd

from ..errors import ArtifactError
from .parquet import safe_name, write_frame
from .artifact_tables import incident_tables, tables_of


def _provenance_dict(result) -> dict:
    prov = getattr(result, "provenance", None)
    return prov.to_dict() if prov is not None else {}


def _sources(path: str, options: dict):
    """Yield (artifact id, source path, loaded result | None, error | None) for one input path."""
    from ..sets.members import list_members

    name = safe_name(os.path.basename(os.path.normpath(path)))
    if os.path.isdir(path):
        listing = list_members(path)
        incident = os.path.exists(os.path.join(path, "incident.toml")) or len(listing.families()) > 1
        if not incident:
            from ..sets import load_set

            yield name, path, load_set(path, **options), None
            return
        from .. import open_incident

        inc = open_incident(path, progress_bar=False)
        for a in inc.artifacts:
            art = safe_name(f"{name}__{a.file}")
            if a.result is not None:
                yield art, a.path, a.result, None
            elif a.status == "error":
                yield art, a.path, None, a.error
        yield safe_name(f"{name}__incident"), path, inc, None
        return
    from ..registry import load

    yield name, path, load(path), None


def _capture_set(folder: str) -> bool:
    """A folder of captures only (no incident.toml): exported by the cluster's workers when there is one."""
    from ..sets.members import list_members

    if os.path.exists(os.path.join(folder, "incident.toml")):
        return False
    return list_members(folder).families() == {"network"}


def export_path(path: str, out_dir: str, set_options: dict) -> list[dict]:
    """Export everything under one input path (see the module docstring); rows as :func:`export` returns.
    Runs wherever it is called: in this process, or as one task on a worker."""
    rows, manifest = [], []
    if not os.path.exists(path):
        raise ArtifactError(path, None, "no such file or folder")
    try:
        opts = set_options if os.path.isdir(path) else {}
        if opts.get("scheduler") and _capture_set(path):  # the workers write their own rows (no gather here)
            from ..sets.cluster_export import export_set_on_cluster

            return export_set_on_cluster(path, out_dir, safe_name(os.path.basename(os.path.normpath(path))),
                                         opts["scheduler"], opts.get("workers"))
        for art, src, result, error in _sources(path, opts):
            if result is None:
                rows.append({"artifact": art, "table": None, "rows": 0, "files": 0, "days": 0, "error": error})
                continue
            is_incident = hasattr(result, "artifacts") and hasattr(result, "timeline")
            prov = {} if is_incident else _provenance_dict(result)
            frames = incident_tables(result) if is_incident else tables_of(result)
            meta = {"source": os.path.abspath(src), "provenance": prov}
            for table, df in frames.items():
                files = write_frame(df, out_dir, table, art, meta)
                days = {os.path.basename(os.path.dirname(f)) for f in files}
                rows.append({"artifact": art, "table": table, "rows": len(df), "files": len(files),
                             "days": len(days), "error": None})
            manifest.append({"artifact": art, "source": os.path.abspath(src),
                             "kind": "incident" if is_incident else prov.get("kind"),
                             "sha256": prov.get("sha256"), "size": prov.get("size"),
                             "warnings": len(prov.get("warnings", [])), "tables": sorted(frames),
                             "provenance": json.dumps(prov, default=str)})
    except ArtifactError as e:
        rows.append({"artifact": safe_name(os.path.basename(path)), "table": None, "rows": 0, "files": 0,
                     "days": 0, "error": str(e)})
    for one in manifest:
        write_frame(pd.DataFrame([one]), out_dir, "artifacts", one["artifact"], {})
    return rows


def export(paths, out_dir, *, workers=None, scheduler=None) -> pd.DataFrame:
    """Write every artifact under ``paths`` to ``out_dir`` as Parquet; one row per table written
    (artifact, table, rows, files, days), plus rows for artifacts that failed (``error``).

    With several paths and ``workers`` > 1 or a Dask ``scheduler``, each path is one task: the
    worker loads it and writes its Parquet itself (on a cluster, ``out_dir`` must be shared).
    With one path, a capture set inside it uses the workers for its decode and TCP analysis; on a
    Dask ``scheduler`` the workers also write its packets and flows themselves
    (:mod:`forensics.sets.cluster_export`), so this process never holds the packets table.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = [os.fspath(p) for p in paths]
    out_dir = os.path.abspath(os.fspath(out_dir))
    os.makedirs(out_dir, exist_ok=True)
    for p in paths:
        if not os.path.exists(p):
            raise ArtifactError(p, None, "no such file or folder")
    spread = len(paths) > 1 and (scheduler or (workers and int(workers) > 1))
    if spread:
        from ..parallel import executor

        with executor(workers, scheduler) as ex:
            per_path = ex.map(export_path, [(os.path.abspath(p), out_dir, {}) for p in paths])
    else:
        opts = {"workers": workers, "scheduler": scheduler} if (workers or scheduler) else {}
        per_path = [export_path(p, out_dir, opts) for p in paths]
    rows = [r for rs in per_path for r in rs]
    return pd.DataFrame(rows, columns=["artifact", "table", "rows", "files", "days", "error"])
