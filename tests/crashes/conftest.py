import json
import os
import warnings

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SAMPLES = os.path.join(ROOT, "sample_data", "crashes")


@pytest.fixture(scope="session")
def manifest():
    with open(os.path.join(SAMPLES, "manifest.json")) as f:
        return json.load(f)


@pytest.fixture(scope="session")
def crash_set():
    """Every committed transcript, loaded once for the whole session."""
    from forensics.crashes.load import load_folder

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_folder(SAMPLES)


@pytest.fixture(scope="session")
def table(crash_set, manifest):
    c = crash_set.crashes.copy()
    c["name"] = c["file"].map(os.path.basename)
    for k in ("program", "build", "style", "class"):
        c["m_" + k] = c["name"].map(lambda n, k=k: manifest[n][k])
    return c
