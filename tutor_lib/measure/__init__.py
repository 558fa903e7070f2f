"""Measuring instead of asserting (the code lives in :mod:`tutor_lib.measure.timing`)."""

from tutor_lib.measure.timing import (
    SavedTensor,
    allocated_bytes,
    count_flops,
    flop_counts_by_op,
    linear_batch_times,
    loglog_slope,
    matmul_rate,
    matvec_bandwidth,
    op_times,
    peak_bytes,
    saved_bytes,
    saved_tensors,
    sweep,
    time_call,
)

__all__ = [
    "peak_bytes",
    "SavedTensor",
    "saved_tensors",
    "saved_bytes",
    "allocated_bytes",
    "op_times",
    "count_flops",
    "flop_counts_by_op",
    "time_call",
    "matmul_rate",
    "matvec_bandwidth",
    "linear_batch_times",
    "loglog_slope",
    "sweep",
]
