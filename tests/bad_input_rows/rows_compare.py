"""Bad inputs for tutor_lib.compare (the method table, FLOP formulas, errors, measure_methods),
and for the measure functions it added (op_times, matmul_rate's numpy dtypes)."""

import numpy as np
import torch

from bad_input_rows import Row, error, result
from tutor_lib.compare import (
    Method,
    banded_flops,
    block_diagonal_pairs,
    block_sparse_window_flops,
    chunked_linear_flops,
    dense_flops,
    error_on_rows,
    exact_rows,
    get_method,
    linear_flops,
    max_error,
    measure_methods,
    random_qkv,
    sample_rows,
    window_pairs,
)
from tutor_lib.limits import TooLargeError
from tutor_lib.measure import matmul_rate, op_times

Q = np.ones((2, 5, 4))
OUT = np.zeros((2, 5, 4))
ROWS3 = np.array([0, 2, 4])
FIELDS = dict(
    name="m",
    family="f",
    lesson="00",
    exact=True,
    causal=False,
    backend="torch",
    make=lambda n, dtype: None,
    flops=dense_flops,
)


def _bad_method(changes: dict, name: str, why: str, raises=ValueError) -> Row:
    """A row for Method(**FIELDS with ``changes``) (its ``name`` field clashes with error()'s)."""
    return Row(Method, (), {**FIELDS, **changes}, raises=raises, name=name, why=why)


ROWS = [
    # Method: every field checked when the entry is made
    _bad_method(dict(backend="jax"), name="backend", why="unknown backend"),
    _bad_method(dict(exact="yes"), raises=TypeError, name="exact", why='"yes"'),
    _bad_method(dict(make=None), raises=TypeError, name="make", why="make is None"),
    _bad_method(dict(flops=3), raises=TypeError, name="flops", why="flops an int"),
    _bad_method(dict(flops_done="x"), raises=TypeError, name="flops_done", why="a str"),
    _bad_method(dict(max_n=0), name="max_n", why="max_n 0"),
    _bad_method(dict(name=""), name="name", why="empty name"),
    _bad_method(dict(lesson=4), raises=TypeError, name="lesson", why="an int lesson"),
    Row(Method, (), FIELDS, check=lambda m: m.computed_flops(4, 2, 2) == 128, why="well formed"),
    error(get_method, "flash", name="name", why="unknown method"),
    error(get_method, 3, raises=TypeError, name="name", why="an int"),
    result(get_method, "SDPA", check=lambda m: m.baseline and m.exact, why="the baseline"),
    # FLOP formulas
    error(dense_flops, 0, 4, 4, name="n", why="n = 0"),
    error(dense_flops, 4, 4, 4, causal=1, raises=TypeError, name="causal", why="causal 1"),
    result(dense_flops, 1, 1, 1, check=lambda f: f == 4, why="one pair"),
    error(window_pairs, 4, -1, 0, name="left", why="negative left"),
    error(block_diagonal_pairs, 4, 0, name="chunk", why="chunk 0"),
    result(block_diagonal_pairs, 5, 10**9, check=lambda p: p == 25, why="one chunk: n²"),
    result(window_pairs, 3, 10**9, 10**9, check=lambda p: p == 9, why="huge window: n²"),
    error(banded_flops, 8, 4, 4, left=1, right=1, block=0, name="block", why="block 0"),
    error(banded_flops, 8, 0, 4, left=1, right=1, block=2, name="d_k", why="d_k 0"),
    error(block_sparse_window_flops, 8, 4, 4, left=1, right=-2, block=2, name="right", why="<0"),
    result(
        block_sparse_window_flops,
        4,
        1,
        1,
        left=0,
        right=0,
        block=10**6,
        check=lambda f: f == 64,
        why="one tile covers n",
    ),
    error(linear_flops, 8, 0, 4, name="features", why="no features"),
    error(chunked_linear_flops, 8, 4, 4, chunk=0, piece=8, name="chunk", why="chunk 0"),
    error(
        chunked_linear_flops,
        8,
        4,
        4,
        chunk=2,
        piece=1.5,
        raises=TypeError,
        name="piece",
        why="float piece",
    ),
    # errors against exact attention
    error(sample_rows, 0, 3, name="n", why="n = 0"),
    error(sample_rows, 5, 0, name="count", why="no rows"),
    error(exact_rows, Q, Q, Q, [5], name="rows", why="row out of range"),
    error(exact_rows, Q, Q, Q, [], name="rows", why="no rows"),
    error(exact_rows, Q, Q, Q, [0.5], name="rows", why="float row"),
    error(exact_rows, Q[:, :3], Q, Q, [0], name="same length", why="n_q != n_k"),
    error(exact_rows, "q", Q, Q, [0], raises=TypeError, name="q", why="a string"),
    error(exact_rows, Q, Q, Q, [0], causal="no", raises=TypeError, name="causal", why='"no"'),
    error(error_on_rows, OUT, np.zeros((2, 2, 4)), ROWS3, name="shape", why="rows vs exact"),
    error(error_on_rows, OUT, np.zeros((2, 3, 4)), [7, 8, 9], name="rows", why="rows beyond n"),
    result(error_on_rows, OUT, np.ones((2, 3, 4)), ROWS3, check=lambda e: e == 1.0, why="1"),
    error(max_error, np.zeros((2, 5, 3)), Q, Q, Q, name="shape", why="wrong d_v"),
    error(max_error, OUT, Q, Q, np.full((2, 5, 4), np.nan), name="v", why="NaN in v"),
    result(max_error, np.ones((2, 5, 4)), Q, Q, Q, check=lambda e: e < 1e-12, why="uniform"),
    # measure_methods and its inputs
    error(random_qkv, 0, 1, 4, name="n", why="n = 0"),
    error(random_qkv, 10**6, 64, 10**4, raises=TooLargeError, name="random_qkv", why="5 TB"),
    error(measure_methods, [], name="ns", why="no lengths"),
    error(measure_methods, [8, 8], name="ns", why="twice the same n"),
    error(measure_methods, 8, raises=TypeError, name="ns", why="an int"),
    error(measure_methods, [8], ["nope"], name="name", why="unknown method"),
    error(measure_methods, [8], "SDPA", raises=TypeError, name="methods", why="a bare name"),
    error(measure_methods, [8], ["SDPA", "SDPA"], name="methods", why="a method twice"),
    error(measure_methods, [8], ["SDPA"], rounds=0, name="rounds", why="no rounds"),
    error(measure_methods, [8, 16], ["SDPA"], rounds={8: 1}, name="rounds", why="n missing"),
    error(measure_methods, [8], ["SDPA"], heads=0, name="heads", why="no heads"),
    error(
        measure_methods,
        [8],
        ["SDPA"],
        dtype=torch.int32,
        raises=TypeError,
        name="dtype",
        why="int dtype",
    ),
    error(measure_methods, [8], ["SDPA"], error_rows=0, name="error_rows", why="no rows"),
    error(
        measure_methods, [8], ["SDPA"], timer=2, raises=TypeError, name="timer", why="not a clock"
    ),
    error(
        measure_methods,
        [8],
        ["SDPA"],
        progress="bar",
        raises=TypeError,
        name="progress",
        why="a string",
    ),
    result(
        measure_methods,
        [1],
        ["SDPA", "window, banded", "chunked (numpy)"],
        rounds=1,
        check=lambda r: len(r["rows"]) == 3 and all(row["max_error"] < 1e-5 for row in r["rows"]),
        why="n = 1: every method is exact",
    ),
    # measure additions
    error(op_times, "fn", raises=TypeError, name="fn", why="a string"),
    result(op_times, lambda: None, check=lambda d: d == {}, why="no operator"),
    error(matmul_rate, 64, dtype=torch.int32, raises=TypeError, name="dtype", why="torch int"),
    error(matmul_rate, 64, dtype=np.int64, raises=TypeError, name="dtype", why="numpy int"),
    error(matmul_rate, 64, dtype="banana", raises=TypeError, name="dtype", why="not a dtype"),
    error(matmul_rate, 64, timer=None, raises=TypeError, name="timer", why="no clock"),
    result(matmul_rate, 64, dtype=np.float32, check=lambda r: r > 0, why="numpy float32"),
]
