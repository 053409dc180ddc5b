"""Incident fixtures: each sample incident opened once per session."""
import warnings

import pytest
from support import SAMPLE

import forensics

INCIDENTS = ["checkout-latency", "catalog-leak", "invoice-export"]


@pytest.fixture(scope="session")
def incidents():
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", forensics.ArtifactWarning)
        for name in INCIDENTS:
            inc = forensics.open_incident(SAMPLE / "incidents" / name)
            inc.timeline, inc.links  # build once
            out[name] = inc
    return out
