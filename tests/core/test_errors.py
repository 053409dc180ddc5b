import pickle

import pytest

from forensics import ArtifactError


def test_message_names_file_location_and_reason():
    e = ArtifactError("/evidence/capture.pcap", 1_048_580,
                      "record header claims 2,000,000,000 bytes; file ends at 1,050,000 — truncated capture?")
    assert str(e) == ("capture.pcap: byte 1,048,580: record header claims 2,000,000,000 bytes; "
                      "file ends at 1,050,000 — truncated capture?")
    assert e.path == "/evidence/capture.pcap" and e.location == 1_048_580


@pytest.mark.parametrize("location, expected", [("line 12", "a.txt: line 12: bad"), (None, "a.txt: bad")])
def test_text_and_missing_locations(location, expected):
    assert str(ArtifactError("a.txt", location, "bad")) == expected


def test_is_a_value_error_and_survives_pickling():
    e = ArtifactError("x.json", "$.data[0]", "no spans")
    assert isinstance(e, ValueError)
    again = pickle.loads(pickle.dumps(e))  # our own exception object, not evidence
    assert (again.path, again.location, again.reason) == (e.path, e.location, e.reason)
