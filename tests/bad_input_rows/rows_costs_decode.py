"""Bad inputs for tutor_lib.costs' decoding and roofline functions."""

import math

from bad_input_rows import error, result
from tutor_lib.costs import (
    GPT3_175B,
    MISTRAL_7B_LIKE,
    decode_critical_batch,
    decode_step_bytes,
    decode_step_flops,
    matmul_cost,
    roofline_seconds,
)

M = MISTRAL_7B_LIKE

ROWS = [
    error(decode_step_bytes, "mistral", 8, raises=TypeError, name="shape", why="not a ModelShape"),
    error(decode_step_bytes, M, -1, name="context", why="negative context"),
    error(decode_step_bytes, M, 8, batch=0, name="batch", why="zero batch"),
    error(decode_step_bytes, M, 8, bytes_per_value=0, name="bytes_per_value", why="zero bytes"),
    result(
        decode_step_bytes, GPT3_175B, 10**12, check=lambda b: b > 10**18, why="exact at 10¹² tokens"
    ),
    error(decode_step_flops, M, 2.5, raises=TypeError, name="context", why="float context"),
    error(decode_step_flops, M, 8, batch=-2, name="batch", why="negative batch"),
    error(decode_critical_batch, M, 8, 0.0, 1e9, name="flops_per_second", why="zero rate"),
    error(decode_critical_batch, M, 8, 1e9, math.nan, name="bytes_per_second", why="NaN bandwidth"),
    error(decode_critical_batch, M, -8, 1e9, 1e9, name="context", why="negative context"),
    result(decode_critical_batch, M, 10**9, 1e15, 1e9, check=lambda b: b == math.inf, why="never"),
    result(decode_critical_batch, M, 0, 1.0, 1e18, check=lambda b: b == 1, why="always"),
    error(matmul_cost, 0, 4, 4, name="batch", why="zero batch"),
    error(matmul_cost, 1, 4.0, 4, raises=TypeError, name="d_in", why="float d_in"),
    error(matmul_cost, 1, 4, 4, bytes_per_value=-1, name="bytes_per_value", why="negative bytes"),
    result(
        matmul_cost, 10**12, 10**6, 10**6, check=lambda c: c["flops"] == 2 * 10**24, why="exact"
    ),
    error(
        roofline_seconds,
        math.nan,
        1,
        flops_per_second=1,
        bytes_per_second=1,
        name="flops",
        why="NaN FLOPs",
    ),
    error(
        roofline_seconds,
        1,
        -1,
        flops_per_second=1,
        bytes_per_second=1,
        name="nbytes",
        why="negative bytes",
    ),
    error(
        roofline_seconds,
        1,
        1,
        flops_per_second=math.inf,
        bytes_per_second=1,
        name="flops_per_second",
        why="infinite rate",
    ),
]
