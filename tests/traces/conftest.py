"""Shared helpers for the trace tests: paths of the generated exports and a tiny trace builder."""
import json
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "sample_data", "traces")


@pytest.fixture(scope="session")
def data_dir():
    return DATA


@pytest.fixture
def make_trace(tmp_path):
    """Write a Jaeger UI JSON file from compact span tuples and return its path.

    Each span: dict(id, start, dur, refs=[(type, id)], kind=None, service="svc", op=None, error=False,
    host=None).
    """
    counter = {"n": 0}

    def make(spans, trace_id="t1"):
        procs, out = {}, []
        for s in spans:
            svc, host = s.get("service", "svc"), s.get("host")
            key = f"{svc}|{host}"
            if key not in procs:
                tags = [{"key": "hostname", "type": "string", "value": host}] if host else []
                procs[key] = (f"p{len(procs) + 1}", {"serviceName": svc, "tags": tags})
            tags = []
            if s.get("kind"):
                tags.append({"key": "span.kind", "type": "string", "value": s["kind"]})
            if s.get("error"):
                tags.append({"key": "error", "type": "bool", "value": True})
            out.append({"traceID": trace_id, "spanID": s["id"], "operationName": s.get("op", s["id"]),
                        "references": [{"refType": t, "traceID": trace_id, "spanID": r} for t, r in s.get("refs", [])],
                        "startTime": s["start"], "duration": s["dur"], "tags": tags, "logs": [],
                        "processID": procs[key][0]})
        doc = {"data": [{"traceID": trace_id, "spans": out, "processes": {p: d for p, d in procs.values()}}]}
        counter["n"] += 1
        path = tmp_path / f"case{counter['n']}.json"
        path.write_text(json.dumps(doc))
        return str(path)

    return make
