"""Structured sparse attention masks (numpy): which keys each query may see.

Every factory returns a boolean ``(n, n)`` self-attention mask, **True = may attend** (as SDPA's
``attn_mask``); row ``i`` is query ``i``, column ``j`` is key ``j``. Offsets are ``j - i`` (key minus
query): negative = the past, positive = the future.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from tutor_lib import attention as _attention
from tutor_lib._validate import check_bool, check_int
from tutor_lib.limits import guard_bytes

__all__ = [
    "causal_mask",
    "local_mask",
    "dilated_mask",
    "block_mask",
    "block_local_mask",
    "strided_mask",
    "fixed_mask",
    "global_mask",
    "random_mask",
    "block_random_mask",
]


# A band of rows holds at most this many entries (or n²/32, whichever is larger): the int
# temporaries of a rule (j - i, …) then take a quarter of the output's bytes, not 8× them.
_BAND_ENTRIES = 2**16


def _row_bands(n: int) -> list[np.ndarray]:
    """Query indices ``i`` as (rows, 1) columns, a band of rows at a time, covering 0 … n - 1."""
    rows = max(1, max(_BAND_ENTRIES, n * n // 32) // n)
    return [np.arange(start, min(start + rows, n))[:, None] for start in range(0, n, rows)]


def _build(n: int, rule, what: str, hint: str = "") -> np.ndarray:
    """The boolean (n, n) mask ``rule(i, j)``, i (rows, 1) query and j (1, n) key indices.

    Built a band of rows at a time, so the peak memory is about the n² bytes of the output; the
    output is checked against the byte limit first (:func:`tutor_lib.set_max_bytes`).
    """
    guard_bytes(n * n, what, hint=hint or "a smaller n shows the same pattern")
    out = np.empty((n, n), dtype=bool)
    j = np.arange(n)[None, :]  # (1, n) key index
    for i in _row_bands(n):
        out[i[0, 0] : i[-1, 0] + 1] = rule(i, j)  # (rows, n)
    return out


def causal_mask(n: int) -> np.ndarray:
    """Decoder (GPT) mask ``(n, n)``: key ``j`` allowed iff ``j <= i``.

    The square case of :func:`tutor_lib.attention.causal_mask` (bottom-right aligned).
    """
    n = check_int(n, "n", minimum=1)
    return _attention.causal_mask(n)


def local_mask(n: int, left: int, right: int) -> np.ndarray:
    """Sliding window ``(n, n)``: key ``j`` allowed iff ``-left <= j - i <= right`` (edges clipped).

    Each query away from the edges sees ``left + right + 1`` keys (itself included).

    * **Longformer** (Beltagy et al. 2020), bidirectional: ``left = right = w // 2``, i.e.
      ``w + 1`` keys; ``allenai/longformer-base-4096`` uses w = 512.
    * **Mistral 7B** (Jiang et al. 2023), causal sliding window: ``right = 0``; the paper's
      "positions i - W … i" is ``left = W`` (W + 1 keys, W = 4096). Codebases that write
      ``q - k < W`` mean ``left = W - 1`` (W keys). Off-by-one conventions differ; this function
      states its own.
    """
    n = check_int(n, "n", minimum=1)
    left = check_int(left, "left", minimum=0)
    right = check_int(right, "right", minimum=0)
    return _build(
        n,
        lambda i, j: (j >= i - left) & (j <= i + right),  # -left <= j - i <= right
        f"local_mask(n={n})",
        hint="tutor_lib.sparse.sliding_window_attention computes the window without the mask",
    )


def dilated_mask(n: int, left: int, right: int, dilation: int) -> np.ndarray:
    """Dilated sliding window ``(n, n)``: offsets ``j - i`` that are multiples of ``dilation`` in
    ``[-left·dilation, right·dilation]``; ``left + right + 1`` keys away from the edges.

    **Longformer**'s dilated window (a few heads in upper layers): same number of keys as the plain
    window, ``dilation`` times the reach. ``dilation = 1`` is :func:`local_mask`.
    """
    n = check_int(n, "n", minimum=1)
    left = check_int(left, "left", minimum=0)
    right = check_int(right, "right", minimum=0)
    dilation = check_int(dilation, "dilation", minimum=1)

    def rule(i, j):
        offset = j - i  # (rows, n)
        in_reach = (offset >= -left * dilation) & (offset <= right * dilation)
        return in_reach & (offset % dilation == 0)

    return _build(n, rule, f"dilated_mask(n={n})")


def block_mask(n: int, block: int) -> np.ndarray:
    """Block-diagonal (chunked) mask ``(n, n)``: ``i`` and ``j`` share a chunk of ``block`` tokens.

    **Liu et al. 2018** ("Generating Wikipedia…") local attention in chunks of 256; also what plain
    sequence chunking computes. The last block is shorter when ``block`` does not divide ``n``.
    """
    n = check_int(n, "n", minimum=1)
    block = check_int(block, "block", minimum=1)
    return _build(n, lambda i, j: i // block == j // block, f"block_mask(n={n})")


def strided_mask(n: int, stride: int, causal: bool = True) -> np.ndarray:
    """Sparse Transformer's **strided** head ``(n, n)``: ``(i - j) % stride == 0`` (and ``j <= i``).

    **Child et al. 2019**, A(2) = {j <= i : (i - j) mod l = 0}: parallel *stripes* every
    ``stride`` positions, **not** a band (the band is the other head,
    ``local_mask(n, stride - 1, 0)``). Together the two heads reach every earlier token in two
    layers with O(n·√n) work when stride ≈ √n.
    """
    n = check_int(n, "n", minimum=1)
    stride = check_int(stride, "stride", minimum=1)
    causal = check_bool(causal, "causal")

    def rule(i, j):
        mask = (i - j) % stride == 0  # (rows, n)
        return mask & (j <= i) if causal else mask

    return _build(n, rule, f"strided_mask(n={n})")


def fixed_mask(n: int, stride: int, summary: int = 1, causal: bool = True) -> np.ndarray:
    """Sparse Transformer's **fixed** pattern ``(n, n)``: the union of its two heads.

    **Child et al. 2019**: A(1) = same block, ``j // stride == i // stride``; A(2) = the "summary"
    columns ``j % stride >= stride - summary`` (the last ``summary`` tokens of every block), which
    every later query can read. ``causal`` keeps only ``j <= i``.
    """
    n = check_int(n, "n", minimum=1)
    stride = check_int(stride, "stride", minimum=1)
    summary = check_int(summary, "summary", minimum=1, maximum=stride)
    causal = check_bool(causal, "causal")

    def rule(i, j):
        mask = (i // stride == j // stride) | (j % stride >= stride - summary)  # (rows, n)
        return mask & (j <= i) if causal else mask

    return _build(n, rule, f"fixed_mask(n={n})")


def _global_indices(n: int, tokens) -> np.ndarray:
    if isinstance(tokens, numbers.Integral) and not isinstance(tokens, bool):
        return np.arange(check_int(tokens, "tokens", minimum=0, maximum=n))
    if isinstance(tokens, bool) or not isinstance(tokens, (Sequence, np.ndarray)):
        kind = type(tokens).__name__
        raise TypeError(f"tokens must be an int or a sequence of indices, got {kind}")
    idx = np.asarray(tokens)
    if idx.size and not np.issubdtype(idx.dtype, np.integer):
        raise TypeError(f"tokens must hold integer indices, got dtype {idx.dtype}")
    if idx.ndim != 1 or (idx.size and (idx.min() < 0 or idx.max() >= n)):
        raise ValueError(f"tokens must be a 1-D list of indices in [0, {n}), got {tokens!r}")
    return idx.astype(int)


def global_mask(n: int, tokens: int | Sequence[int]) -> np.ndarray:
    """Global tokens ``(n, n)``: their rows **and** columns are all True (everything else False).

    ``tokens`` is an int g (the first g positions, e.g. [CLS]) or a list of indices. **Longformer**
    (task tokens such as [CLS] and the question) and **BigBird** (g global tokens) make global
    attention symmetric: a global token sees every token and every token sees it. Combine with a
    window: ``local_mask(...) | global_mask(...)``.
    """
    n = check_int(n, "n", minimum=1)
    idx = _global_indices(n, tokens)
    guard_bytes(n * n, f"global_mask(n={n})", hint="a smaller n shows the same pattern")
    is_global = np.zeros(n, dtype=bool)
    is_global[idx] = True
    return is_global[:, None] | is_global[None, :]


def random_mask(n: int, num_random: int, seed: int) -> np.ndarray:
    """Random keys ``(n, n)``: each query gets exactly ``min(num_random, n)`` distinct keys.

    **BigBird** (Zaheer et al. 2020) adds r random keys per query to a window and global tokens;
    its real implementation picks random *blocks* (3 blocks of 64 tokens, see
    :func:`block_random_mask`), because single-token gathers are slow on accelerators. Same
    ``seed`` → same mask.
    """
    n = check_int(n, "n", minimum=1)
    r = min(check_int(num_random, "num_random", minimum=0), n)
    seed = check_int(seed, "seed", minimum=0)
    guard_bytes(n * n, f"random_mask(n={n})", hint="a smaller n shows the same pattern")
    rng = np.random.default_rng(seed)
    mask = np.zeros((n, n), dtype=bool)
    for i in _row_bands(n):  # one band of rows at a time: the same numbers as rng.random((n, n))
        rows = slice(i[0, 0], i[-1, 0] + 1)
        keys = np.argsort(rng.random((len(i), n)), axis=1)[:, :r]  # (rows, r) distinct keys
        np.put_along_axis(mask[rows], keys, True, axis=1)
    return mask


def block_random_mask(n: int, block: int, num_random: int, seed: int) -> np.ndarray:
    """BigBird-style random **blocks** ``(n, n)``: each query block of ``block`` tokens sees
    ``min(num_random, number of blocks)`` distinct random key blocks (HF default: 3 blocks of 64).

    Every random key lands in a whole tile, so a tile-skipping kernel keeps the savings.
    """
    n = check_int(n, "n", minimum=1)
    block = check_int(block, "block", minimum=1)
    block = min(block, n)  # a block longer than the sequence is the whole sequence
    num_blocks = -(-n // block)  # ceil(n / block)
    guard_bytes(n * n, f"block_random_mask(n={n})", hint="a smaller n shows the same pattern")
    coarse = random_mask(num_blocks, num_random, seed)  # (blocks, blocks)
    return _build(n, lambda i, j: coarse[i // block, j // block], f"block_random_mask(n={n})")


def block_local_mask(n: int, block: int, left_blocks: int, right_blocks: int) -> np.ndarray:
    """BigBird's window **of blocks** ``(n, n)``: query block b sees the key blocks
    ``b - left_blocks … b + right_blocks`` (BigBird: 3 blocks, ``left_blocks = right_blocks = 1``).

    Token i is in block ``i // block``; the last block may be short. Equal to
    ``local_mask(n // block, left_blocks, right_blocks)`` with every entry blown up to a
    ``block × block`` tile when ``block`` divides n.
    """
    n = check_int(n, "n", minimum=1)
    block = check_int(block, "block", minimum=1)
    left_blocks = check_int(left_blocks, "left_blocks", minimum=0)
    right_blocks = check_int(right_blocks, "right_blocks", minimum=0)

    def rule(i, j):
        offset = j // block - i // block  # (rows, n) key block minus query block
        return (offset >= -left_blocks) & (offset <= right_blocks)

    return _build(n, rule, f"block_local_mask(n={n})")
