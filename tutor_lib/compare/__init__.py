"""Every attention method side by side (lesson 10 and ``make bench``): which technique, when?

* :mod:`tutor_lib.compare.methods`: the method table, one :class:`Method` entry per variant of
  lessons 01–08 (family, lesson, exact or model-changing, how to run it, the FLOPs it must do);
* :mod:`tutor_lib.compare.measuring`: :func:`measure_methods` measures them at several lengths on
  the same inputs (time in alternating rounds, memory, max error vs exact attention, fraction of
  the machine's matmul rate) and returns plain data; :func:`max_error` and :func:`exact_rows` are
  the error measurement on its own.
"""

from tutor_lib.compare.measuring import (
    Step,
    exact_rows,
    max_error,
    measure_methods,
    sample_rows,
)
from tutor_lib.compare.methods import (
    BACKENDS,
    CHUNK,
    FLASH_BLOCKS,
    K_PROJ,
    KV_BITS,
    METHODS,
    NUM_FEATURES,
    STRIDE,
    WINDOW,
    Method,
    dense_flops,
    get_method,
    window_pairs,
)

__all__ = [
    "BACKENDS",
    "CHUNK",
    "FLASH_BLOCKS",
    "K_PROJ",
    "KV_BITS",
    "METHODS",
    "NUM_FEATURES",
    "STRIDE",
    "WINDOW",
    "Method",
    "Step",
    "dense_flops",
    "exact_rows",
    "get_method",
    "max_error",
    "measure_methods",
    "sample_rows",
    "window_pairs",
]
