"""The method table: every attention variant of lessons 01–09, one :class:`Method` entry each.

Adding a method (lesson 09's chunking, say) is one ``Method(...)`` entry in :data:`METHODS`; the
benchmark, lesson 10's comparison and the tests pick it up from here. The settings below are the
ones the per-lesson benchmarks (``bench/bench_*.py``) use too.
"""

from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F

from tutor_lib import masks
from tutor_lib.attention import attention
from tutor_lib.chunking import chunked_local_attention, ring_attention
from tutor_lib.compare.methods import (
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
    bigbird_tile_work,
    strided_mask,
    strided_pairs,
    strided_tile_work,
)
from tutor_lib.linear import (
    DEFAULT_CHUNK,
    PIECE_CHUNKS,
    linear_attention,
    linformer_attention,
    linformer_projection,
    performer_attention,
)
from tutor_lib.quant import compress_kv, dequantize, quantize_kv
from tutor_lib.sparse import block_sparse_attention, default_query_block, sliding_window_attention
from tutor_lib.tiled import chunked_attention, flash_attention

__all__ = [
    "METHODS",
    "get_method",
    "WINDOW",
    "FLASH_BLOCKS",
    "CHUNK",
    "SPARSE_BLOCK",
    "NUM_FEATURES",
    "K_PROJ",
    "STRIDE",
    "KV_BITS",
    "LOCAL_CHUNK",
    "RING_DEVICES",
]

WINDOW = (128, 128)  # (left, right): 257 keys per query (bench_sliding_window)
FLASH_BLOCKS = (128, 512)  # (block_q, block_k) of flash_attention (bench_flash)
CHUNK = 256  # query and key chunk of the numpy chunked_attention (bench_flash's memory target)
SPARSE_BLOCK = 128  # tiles of block_sparse_attention
NUM_FEATURES = 256  # Performer's random features m
K_PROJ = 256  # Linformer's projected length k
STRIDE = 4  # memory-compressed attention: one slot per 4 tokens
KV_BITS = 4  # KIVI-style KV quantization (keys per channel, values per token, groups of 128)
LOCAL_CHUNK = 256  # lesson 09's chunked local attention (Liu et al. 2018 used chunks of 256)
RING_DEVICES = 4  # ring attention, simulated over 4 devices (fewer when n < 4)

# -- the FLOPs each entry must do, and what its implementation computes (per (batch, head) row) --


def _window_flops(n: int, d_k: int, d_v: int) -> int:
    return 2 * window_pairs(n, *WINDOW) * (d_k + d_v)  # 4·n·w·d, w = left + right + 1


def _banded_done(n: int, d_k: int, d_v: int) -> int:
    block = default_query_block(*(min(w, n - 1) for w in WINDOW), n)
    return banded_flops(n, d_k, d_v, left=WINDOW[0], right=WINDOW[1], block=block)


def _block_sparse_done(n: int, d_k: int, d_v: int) -> int:
    left, right = WINDOW
    return block_sparse_window_flops(n, d_k, d_v, left=left, right=right, block=SPARSE_BLOCK)


def _elu_flops(n: int, d_k: int, d_v: int) -> int:
    return linear_flops(n, d_k, d_v)  # elu + 1 keeps d' = d_k features


def _elu_causal_done(n: int, d_k: int, d_v: int) -> int:
    return chunked_linear_flops(
        n, d_k, d_v, chunk=DEFAULT_CHUNK, piece=PIECE_CHUNKS * DEFAULT_CHUNK
    )


def _performer_flops(n: int, d_k: int, d_v: int) -> int:
    # features of Q and K (2·n·m·d_k each), then linear attention with m features
    return 4 * n * NUM_FEATURES * d_k + linear_flops(n, NUM_FEATURES, d_v)


def _linformer_flops(n: int, d_k: int, d_v: int) -> int:
    k = min(K_PROJ, n)  # E K and F V (2·k·n·d each), then n × k scores and weights
    return 4 * n * k * (d_k + d_v)


def _compressed_flops(n: int, d_k: int, d_v: int) -> int:
    return 2 * n * -(-n // STRIDE) * (d_k + d_v)  # n queries × ⌈n/stride⌉ slots


def _local_chunk_flops(n: int, d_k: int, d_v: int) -> int:
    return 2 * block_diagonal_pairs(n, LOCAL_CHUNK) * (d_k + d_v)  # chunks of m, the last short


def _tiled_flops(work, d_k: int, d_v: int) -> int:
    rows, keys = work  # each query tile against the keys it gathers
    return 2 * int(rows @ keys) * (d_k + d_v)


def _strided_flops(n: int, d_k: int, d_v: int) -> int:
    return 2 * strided_pairs(n) * (d_k + d_v)


def _strided_done(n: int, d_k: int, d_v: int) -> int:
    return _tiled_flops(strided_tile_work(n, SPARSE_BLOCK), d_k, d_v)


def _bigbird_flops(n: int, d_k: int, d_v: int) -> int:
    return 2 * bigbird_pairs(n) * (d_k + d_v)


def _bigbird_done(n: int, d_k: int, d_v: int) -> int:
    return _tiled_flops(bigbird_tile_work(n), d_k, d_v)


# -- how each entry runs at length n (anything built per n stays out of the timed call) ---------


def _sdpa(n, dtype, *, causal=False):
    return partial(F.scaled_dot_product_attention, is_causal=causal)


def _flash(n, dtype):
    block_q, block_k = FLASH_BLOCKS
    return lambda q, k, v: flash_attention(q, k, v, block_q=block_q, block_k=block_k)[0]


def _window_dense_mask(n, dtype):
    allowed = torch.from_numpy(masks.local_mask(n, *WINDOW))  # (n, n) bool, True = may attend
    return partial(F.scaled_dot_product_attention, attn_mask=allowed)


def _window_banded(n, dtype):
    return partial(sliding_window_attention, left=WINDOW[0], right=WINDOW[1])


def _window_block_sparse(n, dtype):
    allowed = masks.local_mask(n, *WINDOW)  # (n, n) bool
    return lambda q, k, v: block_sparse_attention(q, k, v, allowed, block=SPARSE_BLOCK)


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


def _ring(n, dtype):
    return lambda q, k, v: ring_attention(q, k, v, min(RING_DEVICES, n))


def _strided(n, dtype):
    allowed = strided_mask(n)  # (n, n) bool: local head | strided head, causal
    return lambda q, k, v: block_sparse_attention(q, k, v, allowed, block=SPARSE_BLOCK)


def _bigbird(n, dtype):
    allowed = bigbird_mask(n)  # (n, n) bool
    return lambda q, k, v: block_sparse_attention(q, k, v, allowed, block=BIGBIRD["block"])


_W = f"left = right = {WINDOW[0]} ({sum(WINDOW) + 1} keys)"
_EXACT, _CHANGES = True, False
# One entry per method, its fields in Method's order, so that the table reads as a table:
# name, family, lesson, exact?, causal?, backend, make(n, dtype), FLOPs it must do, settings
# fmt: off
METHODS: tuple[Method, ...] = (
    Method("SDPA", "dense, fused kernel", "05", _EXACT, False, "torch", _sdpa, dense_flops,
           "F.scaled_dot_product_attention", baseline=True),
    Method("SDPA causal", "dense, fused kernel", "05", _EXACT, True, "torch",
           partial(_sdpa, causal=True), partial(dense_flops, causal=True), "is_causal=True",
           baseline=True),
    Method("dense (numpy)", "dense reference", "01", _EXACT, False, "numpy",
           lambda n, dtype: attention, dense_flops, "tutor_lib.attention", max_n=4096),
    Method("chunked (numpy)", "exact, memory-efficient", "05", _EXACT, False, "numpy",
           lambda n, dtype: partial(chunked_attention, query_chunk=CHUNK, key_chunk=CHUNK),
           dense_flops, f"chunks {CHUNK} × {CHUNK}", max_n=4096),
    Method("flash_attention", "exact, memory-efficient", "05", _EXACT, False, "torch", _flash,
           dense_flops, f"block_q = {FLASH_BLOCKS[0]}, block_k = {FLASH_BLOCKS[1]}"),
    Method("window, dense mask", "sparse pattern, dense work", "04", _CHANGES, False, "torch",
           _window_dense_mask, _window_flops, f"SDPA attn_mask, {_W}", flops_done=dense_flops),
    Method("window, banded", "sparse kernel", "04", _CHANGES, False, "torch", _window_banded,
           _window_flops, _W, flops_done=_banded_done),
    Method("window, block-sparse", "sparse kernel", "04", _CHANGES, False, "torch",
           _window_block_sparse, _window_flops, f"{_W}, tiles {SPARSE_BLOCK}",
           flops_done=_block_sparse_done),
    Method("linear (elu+1)", "linear attention", "06", _CHANGES, False, "torch",
           lambda n, dtype: linear_attention, _elu_flops, "φ(x) = elu(x) + 1"),
    Method("linear (elu+1) causal", "linear attention", "06", _CHANGES, True, "torch",
           lambda n, dtype: partial(linear_attention, causal=True), _elu_flops,
           f"chunks of {DEFAULT_CHUNK}", flops_done=_elu_causal_done),
    Method("Performer", "random features (estimates softmax)", "06", _CHANGES, False, "torch",
           lambda n, dtype: partial(performer_attention, num_features=NUM_FEATURES, seed=0),
           _performer_flops, f"m = {NUM_FEATURES} features"),
    Method("Linformer", "low-rank projection", "06", _CHANGES, False, "torch", _linformer,
           _linformer_flops, f"k = {K_PROJ}, random E = F"),
    Method("memory-compressed (numpy)", "memory compression", "08", _CHANGES, False, "numpy",
           _compressed, _compressed_flops, f"K, V averaged over {STRIDE} tokens", max_n=4096),
    Method(f"KV {KV_BITS}-bit (numpy)", "quantization", "08", _CHANGES, False, "numpy",
           _kv_quantized, dense_flops, "KIVI: K per channel, V per token, groups of 128",
           max_n=4096),
    Method("strided + local, block-sparse", "sparse kernel", "04", _CHANGES, True, "torch",
           _strided, _strided_flops, f"Sparse Transformer, l ≈ √n, tiles {SPARSE_BLOCK}",
           max_n=8192, flops_done=_strided_done),
    Method("BigBird, block-sparse", "sparse kernel", "04", _CHANGES, False, "torch", _bigbird,
           _bigbird_flops, f"blocks of {BIGBIRD['block']}: 3 window + 1 global + "
           f"{BIGBIRD['random_blocks']} random", max_n=8192, flops_done=_bigbird_done),
    Method("chunked local (numpy)", "chunking", "09", _CHANGES, False, "numpy",
           lambda n, dtype: partial(chunked_local_attention, chunk=LOCAL_CHUNK),
           _local_chunk_flops, f"chunks of {LOCAL_CHUNK}, no attention across"),
    Method("ring (numpy)", "exact, sequence parallel", "09", _EXACT, False, "numpy", _ring,
           dense_flops, f"{RING_DEVICES} devices simulated, online softmax", max_n=4096),
)
# fmt: on

_BY_NAME = {method.name: method for method in METHODS}


def get_method(name: str) -> Method:
    """The entry of :data:`METHODS` called ``name``."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a method name (str), got {type(name).__name__}")
    if name not in _BY_NAME:
        raise ValueError(f"name must be one of {sorted(_BY_NAME)}, got {name!r}")
    return _BY_NAME[name]
