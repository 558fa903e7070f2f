"""Predicted memory of every method of the table: the same quantity :func:`measure_methods` measures.

* numpy methods: the ``tracemalloc`` peak of one call, i.e. its largest set of temporaries alive at
  once plus the output. Dense attention holds three n × n arrays at its peak (the scores, their
  exponentials and the weights, ``attention.softmax``); the exact chunked forms hold three per
  chunk or device. These models count the arrays that grow with n and leave out a few small
  temporaries (tests: within 15 % of the measured peak).
* torch methods: the bytes autograd saves for the backward pass (q, k, v excluded), which training
  must keep. These models list what each kernel saves, tensor by tensor (tests: exactly the
  measured bytes): SDPA's fused kernel keeps only its output and one logsumexp per query; the dense
  mask is kept as an n × n float bias; the banded kernel keeps its key/value spans; a block-sparse
  kernel keeps, for every query tile, the scores of the keys it gathers.

:func:`predicted_memory` (``method, n, d, *, heads, itemsize``) → bytes, at any n: no
array is built, so it answers for n = 128k what the measurement answers for n = 1k.
"""

from __future__ import annotations

from tutor_lib._validate import check_int
from tutor_lib.compare.methods import Method
from tutor_lib.compare.patterns import bigbird_tile_work, strided_tile_work, window_tile_work
from tutor_lib.compare.table import (
    CHUNK,
    K_PROJ,
    LOCAL_CHUNK,
    NUM_FEATURES,
    RING_DEVICES,
    SPARSE_BLOCK,
    STRIDE,
    WINDOW,
    get_method,
)
from tutor_lib.linear import DEFAULT_CHUNK, PIECE_CHUNKS
from tutor_lib.sparse import default_query_block

__all__ = ["MEMORY_MODELS", "predicted_memory", "default_itemsize"]


def _out_lse(n, d_v, h, b):  # SDPA's fused kernel saves its output and a logsumexp per query
    return h * n * (d_v + 1) * b


def _numpy_dense(n_q, n_k, d_v, h, b):
    """Peak of one ``attention`` call: the softmax holds three (n_q, n_k) arrays (the scores, their
    exponentials, the weights); then the scores and weights stay while the output is made."""
    return h * b * max(3 * n_q * n_k, 2 * n_q * n_k + n_q * d_v)


def _blockwise(n, block_q, block_k, d_v, h, b, states=True):
    """Exact blockwise numpy (chunked, ring): the output, allocated first, plus one block's three
    score arrays and, with ``states``, the running (max, sum, accumulator) before and after a merge."""
    state = 2 * h * block_q * (d_v + 2) * b if states else 0
    return h * n * d_v * b + 3 * h * block_q * block_k * b + state


def _banded(n, d_k, d_v, h, b):
    left, right = (min(w, n - 1) for w in WINDOW)
    size = default_query_block(left, right, n)  # queries per block B
    blocks, span = -(-n // size), size + left + right
    padded_q = h * blocks * size * d_k if n % size else 0  # queries padded to whole blocks
    return b * (
        blocks * size * span  # the band as an additive mask, (blocks, B, span)
        + (h * blocks * size + left + right) * (d_k + d_v)  # one padded buffer each for K and V
        + h * blocks * size * (d_v + 1)  # output and logsumexp of the padded queries
        + padded_q
    )


def _tiled(work, d_k, d_v, h, b):
    """What ``block_sparse_attention`` saves per query tile of R rows gathering K keys: the key
    indices (int64), the gathered K and V, the (R, K) bool mask, the scores, their exponentials
    and the weights, and per row the max, the normalizer and an "any key allowed" flag."""
    rows, keys = work
    active = keys > 0
    rows, keys = rows[active], keys[active]
    per_tile = (
        8 * keys
        + h * keys * (d_k + d_v) * b
        + rows * keys
        + 3 * h * rows * keys * b
        + h * rows * (2 * b + 1)
    )
    return int(per_tile.sum())


def _linear(n, d_k, d_v, h, b):
    e = d_v + 1  # [V, 1]: the normalizer rides along as one more column
    # [V, 1] and φ(K), φ(Q) (n rows each), S = φ(K)ᵀ[V, 1], then the division's operands
    return b * h * (n * e + 2 * n * d_k + d_k * e + n + n * e) + h * n


def _causal_piece(length, d_k, e, h, b):
    c = min(DEFAULT_CHUNK, length)
    chunks = -(-length // c)
    padded = chunks * c
    # [V, 1], φK, φQ and the output (padded to whole chunks), the C × C causal scores of every
    # chunk, the state before each chunk, and the division's normalizer (+ its bool mask)
    return b * h * (2 * padded * e + 2 * padded * d_k + padded * c + chunks * d_k * e + length) + (
        h * length
    )


def _linear_causal(n, d_k, d_v, h, b):
    step = PIECE_CHUNKS * DEFAULT_CHUNK
    lengths = [min(step, n - start) for start in range(0, n, step)] if n > step else [n]
    return sum(_causal_piece(length, d_k, d_v + 1, h, b) for length in lengths)


def _performer(n, d_k, d_v, h, b):
    m, e = NUM_FEATURES, d_v + 1
    return (
        b
        * (
            d_k * m  # the random projection W
            + 2 * h * n * d_k  # q and k scaled by d_k^(−1/4)
            + 4 * h * n * m  # feature logits and exp features, for Q and for K
            + h * n  # each query's logit maximum
            + h  # the keys' one maximum
            + h * n * e  # [V, 1]
            + h * m * e  # S = φ(K)ᵀ[V, 1]
            + h * n * e  # the numerator, and the normalizer below
            + h * n
        )
        + h * n
    )


def _linformer(n, d_k, d_v, h, b):
    k = min(K_PROJ, n)  # E (k, n) once (a view per head), E K and F V, SDPA's output + logsumexp
    return b * (k * n + h * k * (d_k + d_v)) + _out_lse(n, d_v, h, b)


def _ring(n, d_k, d_v, h, b):
    block = -(-n // min(RING_DEVICES, n))  # one device at work: its queries against one K/V block
    return _blockwise(n, block, block, d_v, h, b)


def _chunked(n, d_k, d_v, h, b):
    c = min(CHUNK, n)  # one query chunk against one key chunk
    return _blockwise(n, c, c, d_v, h, b)


def _local_chunks(n, d_k, d_v, h, b):
    c = min(LOCAL_CHUNK, n)  # one chunk at a time, no running state
    return _blockwise(n, c, c, d_v, h, b, states=False)


def _compressed(n, d_k, d_v, h, b):
    slots = -(-n // STRIDE)  # n queries against ⌈n / stride⌉ averaged keys and values
    return _numpy_dense(n, slots, d_v, h, b) + h * slots * (d_k + d_v) * b


def _kv_quantized(n, d_k, d_v, h, b):
    # dense attention on the dequantized K and V, with the quantized parts still alive: per value
    # of K a uint8 code, its group's float64 scale and int32 zero point (repeated over the group);
    # per value of V a uint8 code (its per-token scales are small)
    quantized = h * n * (d_k * (1 + 8 + 4) + d_v)
    return _numpy_dense(n, n, d_v, h, b) + h * n * (d_k + d_v) * b + quantized


def _window_tiles(n, d_k, d_v, h, b):
    return _tiled(window_tile_work(n, *WINDOW, SPARSE_BLOCK), d_k, d_v, h, b)


def _strided_tiles(n, d_k, d_v, h, b):
    return _tiled(strided_tile_work(n, SPARSE_BLOCK), d_k, d_v, h, b)


def _bigbird_tiles(n, d_k, d_v, h, b):
    return _tiled(bigbird_tile_work(n), d_k, d_v, h, b)


# method name → bytes(n, d_k, d_v, heads, itemsize); a test checks that every entry has one
MEMORY_MODELS = {
    "SDPA": lambda n, d_k, d_v, h, b: _out_lse(n, d_v, h, b),
    "SDPA causal": lambda n, d_k, d_v, h, b: _out_lse(n, d_v, h, b),
    "dense (numpy)": lambda n, d_k, d_v, h, b: _numpy_dense(n, n, d_v, h, b),
    "chunked (numpy)": _chunked,
    "flash_attention": lambda n, d_k, d_v, h, b: _out_lse(n, d_v, h, b),
    "window, dense mask": lambda n, d_k, d_v, h, b: n * n * b + _out_lse(n, d_v, h, b),
    "window, banded": _banded,
    "window, block-sparse": _window_tiles,
    "linear (elu+1)": _linear,
    "linear (elu+1) causal": _linear_causal,
    "Performer": _performer,
    "Linformer": _linformer,
    "memory-compressed (numpy)": _compressed,
    "KV 4-bit (numpy)": _kv_quantized,
    "strided + local, block-sparse": _strided_tiles,
    "BigBird, block-sparse": _bigbird_tiles,
    "chunked local (numpy)": _local_chunks,
    "ring (numpy)": _ring,
}


def default_itemsize(method: Method) -> int:
    """Bytes per value the comparison runs a method in: 8 (float64) for numpy, 4 (float32)
    for torch."""
    return 8 if method.backend == "numpy" else 4


def predicted_memory(
    method: Method | str, n: int, d: int, *, heads: int = 1, itemsize: int | None = None
) -> int:
    """Bytes ``method`` (an entry of :data:`METHODS` or its name) is predicted to use at length n
    with ``heads`` heads of d_k = d_v = d (batch 1), as :func:`measure_methods` runs it: the
    tracemalloc peak of one call (numpy) or the bytes autograd saves (torch). ``itemsize``: bytes
    per value (default :func:`default_itemsize`). (With d_k ≠ d_v, SDPA leaves its fused CPU
    kernel for the math path, which saves the n × n weights: the models assume d_k = d_v.)"""
    method = get_method(method) if isinstance(method, str) else method
    if not isinstance(method, Method):
        raise TypeError(f"method must be a Method entry or its name, got {type(method).__name__}")
    if method.name not in MEMORY_MODELS:
        raise ValueError(f"method {method.name!r} has no memory model (add it to MEMORY_MODELS)")
    n, d = check_int(n, "n", minimum=1), check_int(d, "d", minimum=1)
    heads = check_int(heads, "heads", minimum=1)
    itemsize = default_itemsize(method) if itemsize is None else itemsize
    itemsize = check_int(itemsize, "itemsize", minimum=1, maximum=16)
    return int(MEMORY_MODELS[method.name](n, d, d, heads, itemsize))
