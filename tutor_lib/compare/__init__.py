"""Every attention method side by side (lesson 10 and ``make bench``): which technique, when?

* :mod:`tutor_lib.compare.methods`: what a method entry is (:class:`Method`) and the FLOP
  formulas (what each variant must compute, and what its implementation computes);
* :mod:`tutor_lib.compare.table`: :data:`METHODS`, one entry per variant of lessons 01–09;
* :mod:`tutor_lib.compare.patterns`: the strided and BigBird-style patterns' tiles and pairs in
  closed form (their cost at any n without the n × n mask);
* :mod:`tutor_lib.compare.measuring`: :func:`measure_methods` measures them at several lengths on
  the same inputs (time in alternating rounds, memory, max error vs exact attention, fraction of
  the machine's matmul rate) and returns plain data;
* :mod:`tutor_lib.compare.errors`: the error vs exact attention on its own (:func:`max_error`);
* :mod:`tutor_lib.compare.memory`: the memory each method is predicted to use
  (:func:`predicted_memory`, the quantity :func:`measure_methods` measures, at any n);
* :mod:`tutor_lib.compare.budget`: which methods fit a byte budget (:func:`fit_table`), the
  longest length that fits, a decision rule, the Pareto front;
* :mod:`tutor_lib.compare.decode`: one decoding step's FLOPs and cache per method;
* :mod:`tutor_lib.compare.retrieval`: lesson 09's retrieval task through every method;
* :mod:`tutor_lib.compare.summary`: the reference summary table (§A16) filled with measurements;
* :mod:`tutor_lib.compare.published`: Long Range Arena's published figures (TPU), quoted.
"""

from tutor_lib.compare.budget import cheapest_fitting, fit_table, longest_fitting_n, pareto_front
from tutor_lib.compare.decode import DECODE_KINDS, decode_cost
from tutor_lib.compare.errors import error_on_rows, exact_rows, max_error, sample_rows
from tutor_lib.compare.measuring import measure_methods, random_qkv
from tutor_lib.compare.memory import MEMORY_MODELS, default_itemsize, predicted_memory
from tutor_lib.compare.methods import (
    BACKENDS,
    Method,
    banded_flops,
    block_diagonal_pairs,
    block_sparse_window_flops,
    chunked_linear_flops,
    dense_flops,
    linear_flops,
    window_pairs,
)
from tutor_lib.compare.patterns import (
    BIGBIRD,
    bigbird_mask,
    bigbird_pairs,
    bigbird_random_blocks,
    bigbird_tile_work,
    bigbird_tiles,
    strided_mask,
    strided_pairs,
    strided_stride,
    strided_tile_work,
    strided_tiles,
    tile_work,
    window_tile_work,
    window_tiles,
)
from tutor_lib.compare.published import (
    LRA_ACCURACY,
    LRA_NAMES,
    LRA_SOURCE,
    LRA_SPEED_4K,
    LRA_TASKS,
)
from tutor_lib.compare.retrieval import method_retrieval
from tutor_lib.compare.summary import A16_GROUPS, a16_rows
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
    "A16_GROUPS",
    "BACKENDS",
    "BIGBIRD",
    "CHUNK",
    "DECODE_KINDS",
    "FLASH_BLOCKS",
    "K_PROJ",
    "KV_BITS",
    "LOCAL_CHUNK",
    "LRA_ACCURACY",
    "LRA_NAMES",
    "LRA_SOURCE",
    "LRA_SPEED_4K",
    "LRA_TASKS",
    "MEMORY_MODELS",
    "METHODS",
    "NUM_FEATURES",
    "RING_DEVICES",
    "SPARSE_BLOCK",
    "STRIDE",
    "WINDOW",
    "Method",
    "a16_rows",
    "banded_flops",
    "bigbird_mask",
    "bigbird_pairs",
    "bigbird_random_blocks",
    "bigbird_tile_work",
    "bigbird_tiles",
    "block_diagonal_pairs",
    "block_sparse_window_flops",
    "cheapest_fitting",
    "chunked_linear_flops",
    "decode_cost",
    "default_itemsize",
    "dense_flops",
    "error_on_rows",
    "exact_rows",
    "fit_table",
    "get_method",
    "linear_flops",
    "longest_fitting_n",
    "max_error",
    "measure_methods",
    "method_retrieval",
    "pareto_front",
    "predicted_memory",
    "random_qkv",
    "sample_rows",
    "strided_mask",
    "strided_pairs",
    "strided_stride",
    "strided_tile_work",
    "strided_tiles",
    "tile_work",
    "window_pairs",
    "window_tile_work",
    "window_tiles",
]
