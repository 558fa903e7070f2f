"""Bad inputs for what lesson 10 added to tutor_lib.compare: patterns, predicted memory, budget,
decode, retrieval through the methods, the A16 summary rows."""

import math

import numpy as np

from bad_input_rows import error, result
from tutor_lib.chunking import retrieval_task
from tutor_lib.compare import (
    a16_rows,
    bigbird_mask,
    bigbird_pairs,
    bigbird_random_blocks,
    bigbird_tile_work,
    bigbird_tiles,
    cheapest_fitting,
    decode_cost,
    default_itemsize,
    fit_table,
    get_method,
    longest_fitting_n,
    method_retrieval,
    pareto_front,
    predicted_memory,
    strided_mask,
    strided_pairs,
    strided_stride,
    strided_tile_work,
    strided_tiles,
    tile_work,
    window_tile_work,
    window_tiles,
)

TASK = retrieval_task(16, [1, 5, 15], seed=0)
RESULT = {"rows": [], "ns": [8], "heads": 1, "d": 4}

ROWS = [
    # patterns
    error(window_tiles, 0, 1, 1, 4, name="n", why="n = 0"),
    error(window_tiles, 8, -1, 1, 4, name="left", why="negative left"),
    error(window_tiles, 8, 1, 1, 0, name="block", why="block 0"),
    error(window_tiles, 2**40, 1, 1, 1, raises=Exception, name="window_tiles", why="2^80 tiles"),
    result(window_tiles, 5, 0, 0, 99, check=lambda t: t.shape == (1, 1), why="block > n"),
    error(strided_stride, 0, name="n", why="n = 0"),
    result(strided_stride, 1, check=lambda s: s == 1, why="n = 1"),
    error(strided_mask, 2.5, raises=TypeError, name="n", why="float n"),
    result(strided_mask, 1, check=lambda m: m.tolist() == [[True]], why="n = 1"),
    error(strided_pairs, -3, name="n", why="negative n"),
    error(strided_tiles, 8, 0, name="block", why="block 0"),
    error(bigbird_mask, 0, name="n", why="n = 0"),
    error(bigbird_mask, 2**20, raises=Exception, name="bigbird_mask", why="a 1 TiB mask"),
    result(bigbird_pairs, 2**17, check=lambda p: p > 0, why="n = 2^17 without the mask"),
    error(bigbird_random_blocks, 0, 3, 0, name="count", why="count 0"),
    error(bigbird_random_blocks, 4, -1, 0, name="num_random", why="negative"),
    result(bigbird_random_blocks, 2, 5, 0, check=lambda b: b.shape == (2, 2), why="r > count"),
    error(bigbird_tiles, 100, 7, name="block", why="not the pattern's block"),
    result(bigbird_tiles, 5, 5, check=lambda t: t.tolist() == [[True]], why="n < block"),
    error(window_tile_work, 8, 1, -2, 4, name="right", why="negative right"),
    result(
        window_tile_work,
        2**24,
        128,
        128,
        128,
        check=lambda w: w[1].max() == 384,
        why="n = 2^24 in O(n / block)",
    ),  # fmt: skip
    error(strided_tile_work, 8, 0, name="block", why="block 0"),
    result(strided_tile_work, 1, 5, check=lambda w: w[1].tolist() == [1], why="n = 1"),
    error(bigbird_tile_work, 0, name="n", why="n = 0"),
    result(bigbird_tile_work, 2**22, check=lambda w: w[1][0] == 2**22, why="global row: all"),
    error(tile_work, np.ones((2, 2), bool), 10, 4, name="tiles", why="wrong tile shape"),
    error(tile_work, np.ones((1, 1), bool), 0, 4, name="n", why="n = 0"),
    # predicted memory
    error(predicted_memory, "flash", 8, 4, name="name", why="unknown method"),
    error(predicted_memory, 3, 8, 4, raises=TypeError, name="name", why="an int method"),
    error(predicted_memory, "SDPA", 0, 4, name="n", why="n = 0"),
    error(predicted_memory, "SDPA", 8, 4, heads=0, name="heads", why="heads 0"),
    error(predicted_memory, "SDPA", 8, 4, itemsize=0, name="itemsize", why="itemsize 0"),
    result(predicted_memory, "SDPA", 1, 1, check=lambda b: b == 8, why="n = d = 1"),
    result(default_itemsize, get_method("SDPA"), check=lambda b: b == 4, why="torch: fp32"),
    error(default_itemsize, "SDPA", raises=AttributeError, name="backend", why="a name"),
    # budget
    error(pareto_front, [], name="points", why="no points"),
    error(pareto_front, [[1, math.nan]], name="points", why="NaN"),
    error(pareto_front, [1, 2, 3], name="points", why="1-D"),
    result(pareto_front, [[5.0]], check=lambda f: f.tolist() == [0], why="one point"),
    error(longest_fitting_n, 3, 10, raises=TypeError, name="memory", why="not callable"),
    error(longest_fitting_n, abs, math.nan, raises=TypeError, name="budget", why="NaN"),
    error(longest_fitting_n, abs, 10, n_max=0, name="n_max", why="n_max 0"),
    result(longest_fitting_n, abs, -1, check=lambda n: n == 0, why="nothing fits"),
    result(longest_fitting_n, abs, math.inf, n_max=7, check=lambda n: n == 7, why="all fit"),
    error(fit_table, 0, 4, 1e6, name="n", why="n = 0"),
    error(fit_table, 8, 4, -1, name="budget", why="negative budget"),
    error(fit_table, 8, 4, math.nan, name="budget", why="NaN budget"),
    error(fit_table, 8, 4, 1e6, measured=[1], raises=TypeError, name="measured", why="a list"),
    error(fit_table, 8, 4, 1e6, methods="SDPA", raises=TypeError, name="methods", why="a str"),
    result(fit_table, 8, 4, 0, check=lambda t: not any(r["fits"] for r in t), why="budget 0"),
    error(cheapest_fitting, 8, 4, 1e6, exact="yes", raises=TypeError, name="exact", why='"yes"'),
    result(cheapest_fitting, 8, 4, 0, check=lambda m: m is None, why="nothing fits"),
    # decode
    error(decode_cost, "SDPA", 0, 4, 4, name="t", why="t = 0"),
    error(decode_cost, "nope", 1, 4, 4, name="name", why="unknown method"),
    error(decode_cost, "SDPA", 1, 4, 4, itemsize=0, name="itemsize", why="itemsize 0"),
    result(decode_cost, "Linformer", 5, 4, 4, check=lambda c: c["flops"] is None, why="no step"),
    # retrieval through a method
    error(method_retrieval, "SDPA", {"q": 1}, raises=TypeError, name="task", why="not a task"),
    error(method_retrieval, "SDPA", TASK, batch=0, name="batch", why="batch 0"),
    error(method_retrieval, None, TASK, raises=TypeError, name="method", why="None"),
    result(method_retrieval, "SDPA", TASK, batch=100, check=lambda ok: ok.all(), why="batch > T"),
    # the A16 rows
    error(a16_rows, [], n=8, raises=TypeError, name="result", why="a list"),
    error(a16_rows, RESULT, n=8, name="n", why="nothing measured at n"),
    error(a16_rows, RESULT, n=0, name="n", why="n = 0"),
]
