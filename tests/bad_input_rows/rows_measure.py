"""Bad inputs for tutor_lib.measure."""

import numpy as np
import torch

from bad_input_rows import error, result
from tutor_lib.measure import (
    allocated_bytes,
    count_flops,
    flop_counts_by_op,
    loglog_slope,
    matmul_rate,
    matvec_bandwidth,
    peak_bytes,
    saved_bytes,
    sweep,
    time_call,
)

XS = np.array([1.0, 2.0, 4.0])
A = torch.ones(4, 4)

ROWS = [
    error(allocated_bytes, 3, raises=TypeError, name="fn", why="not callable"),
    error(matmul_rate, 10**6, name="n", why="a matrix of 8 TB"),
    error(matmul_rate, 1.5, raises=TypeError, name="n", why="float size"),
    error(matvec_bandwidth, 10**7, name="rows", why="rows too large"),
    error(matvec_bandwidth, 4096, 0, name="cols", why="zero columns"),
    error(peak_bytes, "np.ones", raises=TypeError, name="fn", why="a string"),
    result(peak_bytes, np.ones, 1024, check=lambda b: b >= 8 * 1024, why="sees numpy"),
    error(saved_bytes, None, raises=TypeError, name="fn", why="None"),
    result(saved_bytes, torch.matmul, A, A, check=lambda b: b == 0, why="no grad: nothing saved"),
    error(count_flops, 3, raises=TypeError, name="fn", why="an int"),
    result(count_flops, torch.matmul, A, A, check=lambda f: f == 2 * 4**3, why="2·n³"),
    error(flop_counts_by_op, [], raises=TypeError, name="fn", why="a list"),
    result(
        flop_counts_by_op,
        torch.matmul,
        A,
        A,
        check=lambda d: sum(d.values()) == 128,
        why="by operator",
    ),
    error(time_call, np.ones, 4, repeat=10**9, name="repeat", why="a billion runs"),
    error(time_call, np.ones, 4, repeat=0, name="repeat", why="zero runs"),
    error(time_call, np.ones, 4, warmup=-1, name="warmup", why="negative warm-up"),
    error(time_call, np.ones, 4, reduce="mean", name="reduce", why="unknown reduce"),
    error(time_call, np.ones, 4, timer=1.0, raises=TypeError, name="timer", why="not a clock"),
    error(loglog_slope, XS, [1.0, 2.0], name="same length", why="lengths differ"),
    error(loglog_slope, XS, [1.0, np.nan, 2.0], name="finite", why="NaN"),
    error(loglog_slope, XS, [1.0, -2.0, 4.0], name="> 0", why="negative y"),
    error(loglog_slope, [2.0, 2.0], [1.0, 2.0], name="distinct", why="one x"),
    error(loglog_slope, [], [], name="xs", why="empty"),
    error(loglog_slope, "12", [1.0], raises=TypeError, name="xs", why="a string"),
    result(
        loglog_slope, [1, 2, 4], [1, 4, 16], check=lambda p: abs(p - 2) < 1e-12, why="ints: slope 2"
    ),
    error(sweep, len, [], name="ns", why="no lengths"),
    error(sweep, len, 5, raises=TypeError, name="ns", why="an int, not a list"),
    error(sweep, lambda n: n, [1.5], raises=TypeError, name="ns", why="float length"),
    error(
        sweep,
        lambda n: n,
        [1],
        progress="bar",
        raises=TypeError,
        name="progress",
        why="progress is a string",
    ),
    result(
        sweep,
        lambda n: n * n,
        (n for n in (2, 3)),
        check=lambda c: c["value"].tolist() == [4, 9],
        why="a generator of ns",
    ),
]
