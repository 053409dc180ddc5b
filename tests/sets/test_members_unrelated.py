"""A folder of unrelated captures (years apart) is said to look like separate captures, not a lost rotation."""
import shutil
import warnings

from forensics.sets import load_set
from support import require_wild


def test_files_years_apart_are_not_called_a_lost_rotation(tmp_path):
    # two public captures (chrissanders/packets, wild: skipped when absent) recorded years apart
    rels = ["chrissanders+packets/synscan.pcapng", "chrissanders+packets/http_espn_fail.pcapng"]
    for rel, path in require_wild("network", rels).items():
        shutil.copy(path, tmp_path / rel.split("/")[-1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = load_set(str(tmp_path))
    gaps = [w for w in s.provenance.warnings if "no packet for" in w]
    assert len(gaps) == 1 and "look like separate captures, not rotations of one" in gaps[0]
    assert " h) between the end of" in gaps[0]
