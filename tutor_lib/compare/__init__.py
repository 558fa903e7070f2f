"""Every attention method side by side (lesson 10 and ``make bench``): which technique, when?

* :mod:`tutor_lib.compare.methods`: what a method entry is (:class:`Method`) and the FLOP
  formulas (what each variant must compute, and what its implementation computes);
* :mod:`tutor_lib.compare.table`: :data:`METHODS`, one entry per variant of lessons 01–08;
* :mod:`tutor_lib.compare.measuring`: :func:`measure_methods` measures them at several lengths on
  the same inputs (time in alternating rounds, memory, max error vs exact attention, fraction of
  the machine's matmul rate) and returns plain data;
* :mod:`tutor_lib.compare.errors`: the error vs exact attention on its own (:func:`max_error`).
"""

from tutor_lib.compare.errors import error_on_rows, exact_rows, max_error, sample_rows
from tutor_lib.compare.measuring import measure_methods, random_qkv
from tutor_lib.compare.methods import (
    BACKENDS,
    Method,
    banded_flops,
    block_sparse_window_flops,
    chunked_linear_flops,
    dense_flops,
    linear_flops,
    window_pairs,
)
from tutor_lib.compare.table import (
    CHUNK,
    FLASH_BLOCKS,
    K_PROJ,
    KV_BITS,
    LOCAL_CHUNK,
    METHODS,
    NUM_FEATURES,
    RING_DEVICES,
    SPARSE_BLOCK,
    STRIDE,
    WINDOW,
    get_method,
)

__all__ = [
    "BACKENDS",
    "CHUNK",
    "FLASH_BLOCKS",
    "K_PROJ",
    "KV_BITS",
    "LOCAL_CHUNK",
    "METHODS",
    "NUM_FEATURES",
    "RING_DEVICES",
    "SPARSE_BLOCK",
    "STRIDE",
    "WINDOW",
    "Method",
    "banded_flops",
    "block_sparse_window_flops",
    "chunked_linear_flops",
    "dense_flops",
    "error_on_rows",
    "exact_rows",
    "get_method",
    "linear_flops",
    "max_error",
    "measure_methods",
    "random_qkv",
    "sample_rows",
    "window_pairs",
]
