"""Test session set-up; shared helpers live in support.py."""
import support  # noqa: F401  (sets MPLBACKEND and FORENSICS_PROGRESS for every test)
