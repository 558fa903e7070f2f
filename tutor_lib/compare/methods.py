"""The method table: every attention variant of lessons 01–08, one :class:`Method` entry each.

An entry says what a method is (family, lesson, exact or model-changing, the exact attention it is
compared with), how to run it at a length n (``make(n, dtype)`` returns ``fn(q, k, v) -> out``,
with any per-length setting such as a projection or a mask built once, outside the timed call),
which library it runs on (so how its memory is measured: ``tracemalloc`` for numpy, the bytes
autograd saves for torch) and the FLOPs it **must** do: the arithmetic of its own model, not what a
particular implementation spends (a dense mask computes n² scores; the model needs only the band).

Shapes: ``q, k (..., n, d_k)``, ``v (..., n, d_v)`` (self-attention, n_q = n_k = n); the FLOP
formulas are per (batch, head) row. Adding a method is one ``Method(...)`` line in :data:`METHODS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F

from tutor_lib import masks
from tutor_lib._validate import check_bool, check_int
from tutor_lib.attention import attention
from tutor_lib.linear import (
    linear_attention,
    linformer_attention,
    linformer_projection,
    performer_attention,
)
from tutor_lib.quant import compress_kv, dequantize, quantize_kv
from tutor_lib.sparse import block_sparse_attention, sliding_window_attention
from tutor_lib.tiled import chunked_attention, flash_attention

__all__ = [
    "Method",
    "METHODS",
    "BACKENDS",
    "get_method",
    "dense_flops",
    "window_pairs",
    "WINDOW",
    "FLASH_BLOCKS",
    "CHUNK",
    "NUM_FEATURES",
    "K_PROJ",
    "STRIDE",
    "KV_BITS",
]

BACKENDS = ("torch", "numpy")  # torch: timed against SDPA, saved bytes; numpy: tracemalloc peak

# Settings shared with the per-lesson benchmarks (bench/bench_*.py use the same values)
WINDOW = (128, 128)  # (left, right): 257 keys per query (bench_sliding_window)
FLASH_BLOCKS = (128, 512)  # (block_q, block_k) of flash_attention (bench_flash)
CHUNK = 256  # query and key chunk of the numpy chunked_attention (bench_flash's memory target)
NUM_FEATURES = 256  # Performer's random features m
K_PROJ = 256  # Linformer's projected length k
STRIDE = 4  # memory-compressed attention: one slot per 4 tokens
KV_BITS = 4  # KIVI-style KV quantization (keys per channel, values per token, groups of 128)


@dataclass(frozen=True)
class Method:
    """One row of the comparison.

    ``make(n, dtype)`` → ``fn(q, k, v) -> out`` for inputs of length n (torch tensors of ``dtype``
    for ``backend="torch"``, float64 numpy arrays for ``"numpy"``); ``flops(n, d_k, d_v)`` → the
    FLOPs the method must do per (batch, head) row; ``exact``: equal to softmax attention up to
    rounding (False: the method changes the model); ``causal``: compared with causal attention;
    ``max_n``: longest length it is run at (memory or time); ``baseline``: the SDPA row that
    other methods' times are divided by; ``flops_done(n, d_k, d_v)``: what this implementation
    computes when that is more than the method must do (a dense mask computes every score;
    default: ``flops``), used to predict run times.
    """

    name: str
    family: str
    lesson: str
    exact: bool
    causal: bool
    backend: str
    make: Callable[[int, torch.dtype], Callable]
    flops: Callable[[int, int, int], int]
    settings: str = ""
    max_n: int | None = None
    baseline: bool = False
    flops_done: Callable[[int, int, int], int] | None = None

    def __post_init__(self):
        for field_name in ("name", "family", "lesson", "settings"):
            if not isinstance(getattr(self, field_name), str):
                raise TypeError(f"{field_name} must be a str")
        if not self.name:
            raise ValueError("name must not be empty")
        for field_name in ("exact", "causal", "baseline"):
            check_bool(getattr(self, field_name), field_name)
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {self.backend!r}")
        for field_name in ("make", "flops", "flops_done"):
            if field_name == "flops_done" and self.flops_done is None:
                continue
            if not callable(getattr(self, field_name)):
                raise TypeError(f"{field_name} must be callable")
        if self.max_n is not None:
            check_int(self.max_n, "max_n", minimum=1)


def dense_flops(n: int, d_k: int, d_v: int, *, causal: bool = False) -> int:
    """FLOPs of softmax attention per row: 2·d_k per score (QKᵀ) + 2·d_v per weight (PV) over the
    n² pairs, or the n(n+1)/2 pairs j ≤ i when ``causal`` (4·n²·d for d_k = d_v = d)."""
    n = check_int(n, "n", minimum=1)
    pairs = n * (n + 1) // 2 if check_bool(causal, "causal") else n * n
    return 2 * pairs * (check_int(d_k, "d_k", minimum=1) + check_int(d_v, "d_v", minimum=1))


def window_pairs(n: int, left: int, right: int) -> int:
    """(i, j) pairs with -left <= j - i <= right inside [0, n): Σ_i (min(n−1, i+right) −
    max(0, i−left) + 1), about n·(left + right + 1) away from the edges."""
    n = check_int(n, "n", minimum=1)
    left, right = check_int(left, "left", minimum=0), check_int(right, "right", minimum=0)
    i = np.arange(n, dtype=np.int64)
    return int(np.sum(np.minimum(n - 1, i + right) - np.maximum(0, i - left) + 1))


def _window_flops(n: int, d_k: int, d_v: int) -> int:
    # 2·(d_k + d_v) per allowed pair: 4·n·w·d for w = left + right + 1 keys
    return 2 * window_pairs(n, *WINDOW) * (d_k + d_v)


def _linear_flops(n: int, features: int, d_v: int) -> int:
    # S = φ(K)ᵀ[V, 1] and φ(Q) S: 2·n·d'·(d_v + 1) each (causal: the same, as prefix sums)
    return 4 * n * features * (d_v + 1)


def _elu_flops(n: int, d_k: int, d_v: int) -> int:
    return _linear_flops(n, d_k, d_v)  # elu + 1 keeps d' = d_k features


def _performer_flops(n: int, d_k: int, d_v: int) -> int:
    # features of Q and K (2·n·m·d_k each), then linear attention with m features
    return 4 * n * NUM_FEATURES * d_k + _linear_flops(n, NUM_FEATURES, d_v)


def _linformer_flops(n: int, d_k: int, d_v: int) -> int:
    k = min(K_PROJ, n)  # E K, F V (2·k·n·d each), then n × k scores and weights
    return 2 * k * n * (d_k + d_v) + 2 * n * k * (d_k + d_v)


def _compressed_flops(n: int, d_k: int, d_v: int) -> int:
    return 2 * n * -(-n // STRIDE) * (d_k + d_v)  # n queries × ⌈n/stride⌉ slots


# -- how each method is run at length n (anything built per n stays out of the timed call) -------


def _sdpa(n, dtype, *, causal=False):
    return partial(F.scaled_dot_product_attention, is_causal=causal)


def _flash(n, dtype):
    return lambda q, k, v: flash_attention(
        q, k, v, block_q=FLASH_BLOCKS[0], block_k=FLASH_BLOCKS[1]
    )[0]


def _window_dense_mask(n, dtype):
    allowed = torch.from_numpy(masks.local_mask(n, *WINDOW))  # (n, n) bool, True = may attend
    return partial(F.scaled_dot_product_attention, attn_mask=allowed)


def _window_banded(n, dtype):
    return partial(sliding_window_attention, left=WINDOW[0], right=WINDOW[1])


def _window_block_sparse(n, dtype):
    allowed = masks.local_mask(n, *WINDOW)
    return lambda q, k, v: block_sparse_attention(q, k, v, allowed, block=128)


def _linformer(n, dtype):
    e = linformer_projection(min(K_PROJ, n), n, seed=0, dtype=dtype)  # (k, n), E = F
    return lambda q, k, v: linformer_attention(q, k, v, e, e)


def _kv_quantized(n, dtype):
    def run(q, k, v):
        k_parts, v_parts = quantize_kv(k, v, KV_BITS, group=128)
        return attention(q, dequantize(*k_parts), dequantize(*v_parts))

    return run


def _compressed(n, dtype):
    return lambda q, k, v: attention(q, *compress_kv(k, v, STRIDE))


W = f"left = right = {WINDOW[0]} ({sum(WINDOW) + 1} keys)"
METHODS: tuple[Method, ...] = (
    Method(
        name="SDPA",
        family="dense, fused kernel",
        lesson="05",
        exact=True,
        causal=False,
        backend="torch",
        make=_sdpa,
        flops=dense_flops,
        settings="F.scaled_dot_product_attention",
        baseline=True,
    ),
    Method(
        name="SDPA causal",
        family="dense, fused kernel",
        lesson="05",
        exact=True,
        causal=True,
        backend="torch",
        make=partial(_sdpa, causal=True),
        flops=partial(dense_flops, causal=True),
        settings="is_causal=True",
        baseline=True,
    ),
    Method(
        name="dense (numpy)",
        family="dense reference",
        lesson="01",
        exact=True,
        causal=False,
        backend="numpy",
        make=lambda n, dtype: attention,
        flops=dense_flops,
        settings="tutor_lib.attention",
        max_n=4096,
    ),
    Method(
        name="chunked (numpy)",
        family="exact, memory-efficient",
        lesson="05",
        exact=True,
        causal=False,
        backend="numpy",
        make=lambda n, dtype: partial(chunked_attention, query_chunk=CHUNK, key_chunk=CHUNK),
        flops=dense_flops,
        settings=f"chunks {CHUNK} × {CHUNK}",
        max_n=4096,
    ),
    Method(
        name="flash_attention",
        family="exact, memory-efficient",
        lesson="05",
        exact=True,
        causal=False,
        backend="torch",
        make=_flash,
        flops=dense_flops,
        settings=f"block_q = {FLASH_BLOCKS[0]}, block_k = {FLASH_BLOCKS[1]}",
    ),
    Method(
        name="window, dense mask",
        family="sparse pattern, dense work",
        lesson="04",
        exact=False,
        causal=False,
        backend="torch",
        make=_window_dense_mask,
        flops=_window_flops,
        settings=f"SDPA attn_mask, {W}",
        flops_done=dense_flops,
    ),
    Method(
        name="window, banded",
        family="sparse kernel",
        lesson="04",
        exact=False,
        causal=False,
        backend="torch",
        make=_window_banded,
        flops=_window_flops,
        settings=W,
    ),
    Method(
        name="window, block-sparse",
        family="sparse kernel",
        lesson="04",
        exact=False,
        causal=False,
        backend="torch",
        make=_window_block_sparse,
        flops=_window_flops,
        settings=f"{W}, tiles 128 × 128",
    ),
    Method(
        name="linear (elu+1)",
        family="linear attention",
        lesson="06",
        exact=False,
        causal=False,
        backend="torch",
        make=lambda n, dtype: linear_attention,
        flops=_elu_flops,
        settings="φ(x) = elu(x) + 1",
    ),
    Method(
        name="linear (elu+1) causal",
        family="linear attention",
        lesson="06",
        exact=False,
        causal=True,
        backend="torch",
        make=lambda n, dtype: partial(linear_attention, causal=True),
        flops=_elu_flops,
        settings="φ(x) = elu(x) + 1, chunked prefix sums",
    ),
    Method(
        name="Performer",
        family="linear attention (estimates softmax)",
        lesson="06",
        exact=False,
        causal=False,
        backend="torch",
        make=lambda n, dtype: partial(performer_attention, num_features=NUM_FEATURES, seed=0),
        flops=_performer_flops,
        settings=f"m = {NUM_FEATURES} random features",
    ),
    Method(
        name="Linformer",
        family="low-rank projection",
        lesson="06",
        exact=False,
        causal=False,
        backend="torch",
        make=_linformer,
        flops=_linformer_flops,
        settings=f"k = {K_PROJ}, random E = F",
    ),
    Method(
        name="memory-compressed (numpy)",
        family="memory compression",
        lesson="08",
        exact=False,
        causal=False,
        backend="numpy",
        make=_compressed,
        flops=_compressed_flops,
        settings=f"K, V averaged over stride {STRIDE}",
        max_n=8192,
    ),
    Method(
        name=f"KV {KV_BITS}-bit (numpy)",
        family="quantization",
        lesson="08",
        exact=False,
        causal=False,
        backend="numpy",
        make=_kv_quantized,
        flops=dense_flops,
        settings="KIVI: K per channel, V per token, groups of 128",
        max_n=4096,
    ),
)

_BY_NAME = {method.name: method for method in METHODS}


def get_method(name: str) -> Method:
    """The entry of :data:`METHODS` called ``name``."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a method name (str), got {type(name).__name__}")
    if name not in _BY_NAME:
        raise ValueError(f"name must be one of {sorted(_BY_NAME)}, got {name!r}")
    return _BY_NAME[name]
