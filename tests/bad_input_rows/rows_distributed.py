"""Bad inputs for tutor_lib.distributed: named errors before any process is started."""

import torch

from bad_input_rows import error, result
from tutor_lib.distributed import WorkerError, format_report, launch, ring_attention

X = torch.zeros(3, 2)

ROWS = [
    error(ring_attention, X, X, X, raises=RuntimeError, name="process group", why="no group"),
    error(launch, 0, 8, name="world_size", why="no processes"),
    error(launch, 17, 64, name="world_size", why="too many processes"),
    error(launch, 4, 3, name="n", why="fewer tokens than processes"),
    error(launch, 2, 8, d=0, name="d", why="d 0"),
    error(launch, 2, 8, dtype="int8", name="dtype", why="int dtype"),
    error(launch, 2, 8, causal="y", raises=TypeError, name="causal", why="str flag"),
    error(launch, 2, 8, timeout=0.0, name="timeout", why="zero timeout"),
    error(launch, 2, 8, timeout=float("nan"), name="timeout", why="NaN timeout"),
    error(launch, 2, 8, fail_rank=2, name="fail_rank", why="no such rank"),
    error(launch, 2, 8, fail_how="explode", name="fail_how", why="unknown failure"),
    error(launch, 2, 100_000, name="launch", why="dense check too large"),
    result(WorkerError, "rank 1 failed", 1, [7, 8], check=lambda e: e.rank == 1, why="made"),
    error(format_report, {}, raises=TypeError, name="result", why="not a launch result"),
]
