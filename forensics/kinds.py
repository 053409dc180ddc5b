"""Every artifact kind the workbench knows, in one table.

One :class:`Kind` entry per kind that :func:`forensics.detect` can return. Everything else
reads from here: the loader registry (:mod:`forensics.registry`), the CLI's command groups
(:mod:`forensics.cli`), the incident timeline and links (:mod:`forensics.incident`), and the
report's choice of notebooks and parameters. Adding a kind is one entry here plus its
subpackage (CONTRIBUTING.md, "Adding an artifact kind").

Functions are named as ``"module:function"`` strings and imported only when used, so that
``import forensics`` (and ``import forensics.incident``) pulls in no kind's heavy
dependencies (numba, pglast, networkx, …).

Fields:

``name``
    the detected kind (``forensics.detect(path)``), e.g. ``"pcapng"``
``family``
    ``network`` | ``traces`` | ``postgres`` | ``memory`` | ``crashes``: the incident timeline's
    ``artifact_kind``; kinds of one family share a notebook and the incident's links
``description``
    what the kind is, for users (``forensics.KINDS``, error messages)
``loader``
    ``"module:function"`` called as ``loader(path, **options)``; returns an object with
    ``provenance`` and DataFrames; raises only :class:`~forensics.errors.ArtifactError`
``cli``
    module with ``register(subparsers, common)`` adding ``forensics <group> …`` (several kinds
    may share one)
``notebook``, ``notebook_param``
    file name in ``notebooks/`` and the parameter of that notebook that takes a file of this kind
``timeline``
    ``"module:function"``: ``builder(result) -> pd.DataFrame`` with columns ``time`` (UTC,
    tz-aware), ``end``, ``kind``, ``severity`` (info|warning|error|critical), ``detail``, ``ref``,
    ``source_rows``, optional ``service``/``host`` (see :mod:`forensics.incident.timeline`).
    Optional too: ``time_source`` (how the content dated it), ``crash_class``, ``server``/``client``
    (``ip:port``/``ip``, named by the incident's endpoints), ``service_hint`` (used when nobody names
    the service), ``at = "interval"`` (placed from the previous artifact's time to this one's). A
    missing ``time`` means "when the artifact was taken" (manifest ``time``, else mtime, flagged).
    A builder of paired evidence takes ``previous=`` too (the earlier artifact's result).
``links``
    ``"module:function"``: ``links(incident) -> list[dict]`` (optional; see
    :mod:`forensics.incident.links`)
``sniff``
    ``"module:function"``: ``sniff(head: bytes) -> (format, evidence) | None``, for a kind that
    :func:`forensics.artifact.sniff`'s built-in rules do not know (tried only when none matched;
    decide from content — magic bytes, keys, markers — never from the file name)
"""
from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Callable

FAMILIES = ("network", "traces", "postgres", "memory", "crashes")


@dataclass(frozen=True)
class Kind:
    """One artifact kind and where its code lives (see the module docstring for each field)."""

    name: str
    family: str
    description: str
    loader: str | Callable
    cli: str | None = None
    notebook: str | None = None
    notebook_param: str | None = None
    timeline: str | None = None
    links: str | None = None
    sniff: str | Callable | None = None


KINDS: list[Kind] = [
    Kind("pcap", "network", "libpcap capture (tcpdump -w)",
         loader="forensics.network.load:load_capture", cli="forensics.network.cli",
         notebook="01_retransmissions.ipynb", notebook_param="PCAP",
         timeline="forensics.network.events:events"),
    Kind("pcapng", "network", "pcapng capture (Wireshark, dumpcap)",
         loader="forensics.network.load:load_capture", cli="forensics.network.cli",
         notebook="01_retransmissions.ipynb", notebook_param="PCAP",
         timeline="forensics.network.events:events"),
    Kind("jaeger-json", "traces", "Jaeger trace export (UI download, /api/traces, api_v2 proto-JSON)",
         loader="forensics.traces.load:load_traces", cli="forensics.traces.cli",
         notebook="02_dependency_map.ipynb", notebook_param="TRACES",
         timeline="forensics.traces.events:events"),
    Kind("otlp-json", "traces", "OpenTelemetry OTLP JSON traces (resourceSpans, api_v3)",
         loader="forensics.traces.load:load_traces", cli="forensics.traces.cli",
         notebook="02_dependency_map.ipynb", notebook_param="TRACES",
         timeline="forensics.traces.events:events"),
    Kind("zipkin-json", "traces", "Zipkin v2 JSON spans",
         loader="forensics.traces.load:load_traces", cli="forensics.traces.cli",
         notebook="02_dependency_map.ipynb", notebook_param="TRACES",
         timeline="forensics.traces.events:events"),
    Kind("pg_stat_statements", "postgres", "pg_stat_statements dump (csv, psql aligned/expanded/unaligned, JSON)",
         loader="forensics.postgres.load:load_pgss", cli="forensics.postgres.cli",
         notebook="03_slow_queries.ipynb", notebook_param="AFTER",
         timeline="forensics.postgres.events:events", links="forensics.postgres.links:statement_links",
         sniff="forensics.postgres.sniff:sniff_pgss_paste"),
    Kind("pg_plan", "postgres", "PostgreSQL EXPLAIN plan (text as psql prints it or bare, JSON, YAML, XML)",
         loader="forensics.postgres.plan:load_plan", cli="forensics.postgres.cli",
         notebook="03_slow_queries.ipynb", notebook_param="PLANS",
         timeline="forensics.postgres.hooks:plan_timeline", links="forensics.postgres.hooks:plan_links",
         sniff="forensics.postgres.sniff:sniff_plan"),
    Kind("pg_log", "postgres", "PostgreSQL server log (stderr with any log_line_prefix, csvlog, jsonlog)",
         loader="forensics.postgres.serverlog:load_log", cli="forensics.postgres.cli",
         notebook="03_slow_queries.ipynb", notebook_param="SERVER_LOG",
         timeline="forensics.postgres.log_analysis:timeline", links="forensics.postgres.hooks:lock_wait_links",
         sniff="forensics.postgres.sniff:sniff_log"),
    Kind("pg_activity", "postgres", "pg_stat_activity / pg_locks snapshot (csv or psql), or a blocking-pairs table",
         loader="forensics.postgres.activity:load_activity", cli="forensics.postgres.cli",
         notebook="03_slow_queries.ipynb", notebook_param="ACTIVITY",
         timeline="forensics.postgres.hooks:activity_timeline", sniff="forensics.postgres.sniff:sniff_activity"),
    Kind("gdb-output", "crashes", "GDB batch output (bt, thread apply all bt, registers, siginfo)",
         loader="forensics.crashes.load:load_gdb", cli="forensics.crashes.cli",
         notebook="04_crash_triage.ipynb", notebook_param="TRANSCRIPTS",
         sniff="forensics.crashes.sniff:sniff_crash",
         timeline="forensics.crashes.events:events"),
    Kind("v8-heapsnapshot", "memory", "V8 .heapsnapshot (Node, Chrome)",
         loader="forensics.memory.load:load_heap", cli="forensics.memory.cli",
         notebook="05_heap_growth.ipynb", notebook_param="TARGET",
         timeline="forensics.memory.events:events"),
    Kind("jvm-histogram", "memory", "JVM class histogram (jmap -histo, jcmd GC.class_histogram)",
         loader="forensics.memory.load:load_heap", cli="forensics.memory.cli",
         notebook="05_heap_growth.ipynb", notebook_param="JVM_HISTOGRAMS",
         timeline="forensics.memory.events:events"),
    Kind("tracemalloc-text", "memory", "Python tracemalloc statistics text",
         loader="forensics.memory.load:load_heap", cli="forensics.memory.cli",
         notebook="05_heap_growth.ipynb", notebook_param="TRACEMALLOC",
         timeline="forensics.memory.events:events"),
    Kind("pprof", "memory", "Go pprof profile (gzipped profile.proto)",
         loader="forensics.memory.load:load_heap", cli="forensics.memory.cli",
         notebook="05_heap_growth.ipynb", notebook_param="PPROF",
         timeline="forensics.memory.events:events", sniff="forensics.memory.sniff:sniff_pprof_text"),
    Kind("hprof", "memory", "Java heap dump (HPROF: jmap -dump, jcmd GC.heap_dump [-gz], HeapDumpOnOutOfMemoryError)",
         loader="forensics.memory.load:load_heap", cli="forensics.memory.cli",
         notebook="05_heap_growth.ipynb", notebook_param="HPROF_AFTER", sniff="forensics.memory.sniff:sniff_hprof",
         timeline="forensics.memory.events:events"),
    Kind("python-pickle", "memory", "Python pickle (e.g. tracemalloc Snapshot.dump) — refused, never unpickled",
         loader="forensics.memory.load:load_heap", cli="forensics.memory.cli"),
]

#: CLI modules that are not one kind's (listed after the kinds' own, in this order)
EXTRA_CLI = ["forensics.incident.cli", "forensics.sets.cli", "forensics.columnar.cli"]


def by_name() -> dict[str, Kind]:
    """{detected kind: entry} — rebuilt on each call, so entries added at run time count."""
    return {k.name: k for k in KINDS}


def get(name: str | None) -> Kind | None:
    """The entry of detected kind ``name`` (None when unknown)."""
    return by_name().get(name) if name else None


def family_of(name: str | None) -> str | None:
    """The family of a detected kind (``"pcapng"`` → ``"network"``); None when unknown."""
    k = get(name)
    return k.family if k else None


def descriptions() -> dict[str, str]:
    """{detected kind: description}, in table order (what ``forensics.KINDS`` shows)."""
    return {k.name: k.description for k in KINDS}


class _Descriptions(Mapping):
    """A live read-only view {detected kind: description} of the table (``forensics.KINDS``)."""

    def __getitem__(self, name):
        return descriptions()[name]

    def __iter__(self):
        return iter(descriptions())

    def __len__(self):
        return len(KINDS)

    def __repr__(self):
        return repr(descriptions())


DESCRIPTIONS: Mapping[str, str] = _Descriptions()


def cli_modules() -> list[str]:
    """Every CLI module, each once, in table order, then :data:`EXTRA_CLI`."""
    out = []
    for k in KINDS:
        if k.cli and k.cli not in out:
            out.append(k.cli)
    return out + [m for m in EXTRA_CLI if m not in out]


def notebooks() -> dict[str, str]:
    """{family: notebook file} for the per-artifact notebooks, in table order."""
    out = {}
    for k in KINDS:
        if k.notebook and k.family not in out:
            out[k.family] = k.notebook
    return out


def add(kind: Kind, replace: bool = False) -> Kind:
    """Add an entry at run time (third-party kinds); refuses to shadow one unless ``replace``."""
    if kind.family not in FAMILIES:
        raise ValueError(f"family must be one of {', '.join(FAMILIES)}, not {kind.family!r}")
    old = get(kind.name)
    if old is not None:
        if not replace:
            raise ValueError(f"kind {kind.name!r} is already in the table")
        KINDS[KINDS.index(old)] = kind
    else:
        KINDS.append(kind)
    return kind


def resolve(target: str | Callable | None) -> Callable | None:
    """Import a ``"module:function"`` name (a callable is returned as is; None stays None)."""
    if target is None or callable(target):
        return target
    mod_name, func_name = target.split(":")
    return getattr(importlib.import_module(mod_name), func_name)
