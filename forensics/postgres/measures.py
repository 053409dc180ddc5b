"""The measures :func:`forensics.postgres.analysis.rank` ranks by, and the dump columns each is computed from.

Apart from the analysis (pandas) so that the ``forensics pgss`` parser can list them at no import cost.
"""
from __future__ import annotations

#: Metrics :func:`rank` knows, and whether bigger is worse (hit_ratio: smaller is worse).
METRICS = {
    "total_exec_time": "desc", "mean_exec_time": "desc", "calls": "desc", "total_plan_time": "desc",
    "temp_blks_written": "desc", "shared_blks_read": "desc", "io_time": "desc", "hit_ratio": "asc",
    "elapsed": "desc", "rows": "desc", "wal_bytes": "desc", "stddev_exec_time": "desc",
}
#: Metrics that add up across statements (a share of their total means something).
_ADDITIVE_METRICS = {"total_exec_time", "calls", "total_plan_time", "temp_blks_written", "shared_blks_read",
                     "io_time", "elapsed", "rows", "wal_bytes"}
_IO_TIMES = ["shared_blk_read_time", "shared_blk_write_time", "local_blk_read_time", "local_blk_write_time",
             "temp_blk_read_time", "temp_blk_write_time"]
#: The dump columns each measure is computed from (any one of them for io_time).
MEASURE_INPUTS = {"total_exec_time": ["total_exec_time"], "mean_exec_time": ["mean_exec_time"], "calls": ["calls"],
                  "total_plan_time": ["total_plan_time"], "temp_blks_written": ["temp_blks_written"],
                  "shared_blks_read": ["shared_blks_read"], "io_time": _IO_TIMES,
                  "hit_ratio": ["shared_blks_hit", "shared_blks_read"], "elapsed": ["total_exec_time"],
                  "rows": ["rows"], "wal_bytes": ["wal_bytes"], "stddev_exec_time": ["stddev_exec_time"]}
