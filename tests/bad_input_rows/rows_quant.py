"""Bad inputs for tutor_lib.quant."""

import math

import numpy as np
import torch

from bad_input_rows import error, result
from tutor_lib.costs import MISTRAL_7B_LIKE
from tutor_lib.quant import (
    activation_scales,
    compress_kv,
    compressed_causal_mask,
    dequantize,
    fake_quantize,
    int8_matmul,
    kv_cache_quant_bytes,
    llm_int8_matmul,
    outlier_activations,
    outlier_columns,
    quantize,
    quantize_kv,
    quantized_bytes,
    quantized_matmul,
    relative_error,
    weight_only_matvec,
)

X = np.arange(12.0).reshape(3, 4) - 5
W = np.ones((4, 2))
I8 = np.ones((2, 3), np.int8)
K, V = np.zeros((2, 5, 4)), np.ones((2, 5, 3))
W_Q, SCALE = torch.ones(3, 4, dtype=torch.int8), torch.ones(3)

ROWS = [
    error(quantize, X, 1, name="bits", why="1 bit"),
    error(quantize, X, 9, name="bits", why="9 bits"),
    error(quantize, X, 8.0, raises=TypeError, name="bits", why="float bits"),
    error(quantize, X, axis=2, name="axis", why="axis out of range"),
    error(quantize, X, axis=-3, name="axis", why="negative axis out of range"),
    error(quantize, X, axis=(0, 0), name="axis", why="repeated axis"),
    error(quantize, X, axis=1.0, raises=TypeError, name="axis", why="float axis"),
    error(quantize, X, symmetric="no", raises=TypeError, name="symmetric", why="string flag"),
    error(quantize, np.array([1.0, np.nan]), name="x", why="NaN"),
    error(quantize, np.zeros(0), name="x", why="empty"),
    error(quantize, "abc", raises=TypeError, name="x", why="a string"),
    result(quantize, 2.5, check=lambda r: r[0] == 127, why="a 0-d scalar"),
    error(dequantize, X, 1.0, 0, raises=TypeError, name="q", why="float q"),
    error(dequantize, I8, np.ones(4), 0, name="q", why="scale does not broadcast"),
    error(dequantize, I8, 1.0, 0.5, raises=TypeError, name="zero_point", why="float zero point"),
    result(
        dequantize,
        np.array([255], np.uint8),
        1.0,
        np.array([300], np.int32),
        check=lambda r: r[0] == -45,
        why="uint8 minus zero point does not wrap",
    ),
    error(fake_quantize, X, 0, name="bits", why="0 bits"),
    error(int8_matmul, I8.astype(np.int16), I8.T, raises=TypeError, name="a_q", why="int16"),
    error(int8_matmul, I8, X, raises=TypeError, name="b_q", why="float b"),
    error(int8_matmul, I8, I8, name="k", why="inner dims differ"),
    error(int8_matmul, I8[0], I8.T, name="a_q", why="1-D"),
    error(relative_error, X, X[:2], name="approx", why="shapes differ"),
    error(relative_error, X, np.zeros_like(X), name="exact", why="exact all zeros"),
    error(outlier_activations, 0, 4, 1.0, name="n", why="no tokens"),
    error(outlier_activations, 4, 4, 1.0, channels=5, name="channels", why="more than d"),
    error(outlier_activations, 4, 4, -1.0, name="magnitude", why="negative"),
    error(outlier_activations, 4, 4, math.inf, name="magnitude", why="inf"),
    error(outlier_activations, 10**6, 10**6, 1.0, name="outlier_activations", why="8 TB"),
    error(outlier_columns, X[0], name="x", why="1-D"),
    error(outlier_columns, X, 0.0, name="threshold", why="zero threshold"),
    error(outlier_columns, X, math.nan, name="threshold", why="NaN threshold"),
    result(outlier_columns, X, math.inf, check=lambda r: r.size == 0, why="inf: no outliers"),
    error(llm_int8_matmul, X, W.T, name="w", why="w not (d_in, d_out)"),
    error(llm_int8_matmul, X, W, "6", raises=TypeError, name="threshold", why="string"),
    result(llm_int8_matmul, X, W, 0.5, check=lambda r: np.allclose(r, X @ W), why="all outliers"),
    error(quantized_matmul, X, W, scheme="row", name="scheme", why="unknown scheme"),
    error(quantized_matmul, X, W, 16, name="bits", why="16 bits"),
    error(quantize_kv, K, V[:, :4], name="k", why="different token counts"),
    error(quantize_kv, K[0, 0], V[0, 0], name="k", why="1-D"),
    error(quantize_kv, K, V, 1, name="bits", why="1 bit"),
    error(kv_cache_quant_bytes, MISTRAL_7B_LIKE, -1, 4, name="tokens", why="negative tokens"),
    error(kv_cache_quant_bytes, MISTRAL_7B_LIKE, 8, 16, name="bits", why="16 bits"),
    error(kv_cache_quant_bytes, MISTRAL_7B_LIKE, 8, 4, group=0, name="group", why="group 0"),
    error(kv_cache_quant_bytes, "mistral", 8, 4, raises=TypeError, name="shape", why="string"),
    result(
        kv_cache_quant_bytes,
        MISTRAL_7B_LIKE,
        0,
        4,
        check=lambda r: r["total"] == 0,
        why="empty cache",
    ),
    error(compress_kv, K, V, 0, name="stride", why="stride 0"),
    error(compress_kv, K, V[..., :2, :], 2, name="k", why="different token counts"),
    result(compress_kv, K, V, 100, check=lambda r: r[1].shape == (2, 1, 3), why="stride > n"),
    error(compressed_causal_mask, 0, 2, name="n", why="n = 0"),
    error(compressed_causal_mask, 5, 0, name="stride", why="stride 0"),
    error(compressed_causal_mask, 10**6, 1, name="compressed_causal_mask", why="a 1 TB mask"),
    error(
        weight_only_matvec,
        W_Q.float(),
        SCALE,
        torch.ones(4),
        raises=TypeError,
        name="w_q",
        why="float weights",
    ),
    error(
        weight_only_matvec,
        np.ones((3, 4), np.int8),
        SCALE,
        torch.ones(4),
        raises=TypeError,
        name="w_q",
        why="numpy weights",
    ),
    error(weight_only_matvec, W_Q, SCALE, torch.ones(5), name="x", why="d_in differs"),
    error(weight_only_matvec, W_Q, SCALE[:2], torch.ones(4), name="scale", why="scale length"),
    error(
        weight_only_matvec,
        W_Q,
        SCALE,
        torch.ones(4, dtype=torch.int32),
        raises=TypeError,
        name="x",
        why="integer x",
    ),
    error(
        weight_only_matvec,
        W_Q,
        SCALE,
        torch.ones(4),
        block_rows=0,
        name="block_rows",
        why="block 0",
    ),
]

ROWS += [
    error(activation_scales, X, scheme="rows", name="scheme", why="unknown scheme"),
    error(activation_scales, X[0], name="x", why="1-D"),
    error(activation_scales, X, 1, name="bits", why="1 bit"),
    error(quantized_bytes, 0, 4, 8, name="n", why="n = 0"),
    error(quantized_bytes, 4, 4, 8, scheme="llm.int8", outliers=5, name="outliers", why="> d"),
    error(quantized_bytes, 4, 4, 8, scheme="x", name="scheme", why="unknown scheme"),
]
ROWS += [
    error(quantize_kv, K, V, 2, group=0, name="group", why="group 0"),
    error(quantize_kv, K, V, 2, group=2.0, raises=TypeError, name="group", why="float group"),
]
