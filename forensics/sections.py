"""Notebook sections that run only when their inputs are there.

A notebook pointed at an incident gets ``None`` for inputs the incident does not have; each section
then prints one sentence saying it was skipped and why, and the rest of the notebook runs.
"""
from __future__ import annotations


def is_set(value) -> bool:
    """An input is set unless it is None or empty.

    >>> [is_set(v) for v in ("a.pcap", None, "", [], ["x"])]
    [True, False, False, False, True]
    """
    return value is not None and not (isinstance(value, (str, list, tuple)) and len(value) == 0)


def runs(why: dict, section: str) -> bool:
    """True when ``section`` can run; otherwise print why it is skipped and return False.

    >>> runs({"pairs": "Skipped: one transcript."}, "pairs")
    Skipped: one transcript.
    False
    """
    reason = why.get(section)
    if reason:
        print(reason)
    return not reason
