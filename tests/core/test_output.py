import json
import math

import numpy as np
import pandas as pd

from forensics.output import render


def test_json_has_no_nan_and_iso_times():
    df = pd.DataFrame({"t": pd.to_datetime(["2026-11-26T05:00:00"], utc=True), "x": [math.nan],
                       "n": np.array([3], dtype=np.int64)})
    out = json.loads(render(df, "json"))
    assert out == [{"t": "2026-11-26T05:00:00+00:00", "x": None, "n": 3}]


def test_dict_renders_in_all_formats():
    d = {"packets": 10, "warnings": ["byte 24: cut short"]}
    assert json.loads(render(d, "json")) == d
    assert render(d, "csv").splitlines() == ["packets,warnings", '10,"[""byte 24: cut short""]"']
    assert "byte 24: cut short" in render(d, "table")


def test_empty_table():
    assert render(pd.DataFrame({"a": []}), "table") == "(no rows)"
