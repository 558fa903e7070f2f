"""Sparse patterns run by ``sparse.block_sparse_attention`` in the method table, counted without
building the n × n mask: the Sparse Transformer's strided + local heads and a BigBird-style pattern.

A tile-skipping kernel's work and memory follow its **tile mask** (lesson 04: a tile is computed
if any entry in it is allowed). For these patterns the tile mask has a closed form, so the FLOPs
and bytes can be predicted at n = 128k, where the (n, n) token mask alone would be 16 GiB:

* :func:`window_tiles`, :func:`strided_tiles`, :func:`bigbird_tiles`: ``(⌈n/B⌉, ⌈n/B⌉)`` bool;
* :func:`tile_work`: rows per query tile and keys gathered for it, from a tile mask;
* :func:`strided_pairs`, :func:`bigbird_pairs`: allowed (query, key) pairs, what the *model*
  must compute (FLOPs = 2 · pairs · (d_k + d_v));
* :func:`strided_mask`, :func:`bigbird_mask`: the token masks themselves, for running them.
"""

from __future__ import annotations

import math

import numpy as np

from tutor_lib import masks
from tutor_lib._validate import check_int
from tutor_lib.limits import guard_bytes

__all__ = [
    "BIGBIRD",
    "bigbird_mask",
    "bigbird_pairs",
    "bigbird_random_blocks",
    "bigbird_tile_work",
    "bigbird_tiles",
    "strided_mask",
    "strided_pairs",
    "strided_stride",
    "strided_tile_work",
    "strided_tiles",
    "tile_work",
    "window_tile_work",
    "window_tiles",
]

# BigBird-style: blocks of 32 tokens; each query block sees its neighbour blocks (3), the first
# block (global: its rows and columns are full) and 3 random blocks (HF's default count; HF's
# blocks are 64 tokens, ours 32 so that the pattern stays sparse at notebook lengths). The random
# blocks may repeat window or global ones (lesson 04's block_random_mask draws them the same way).
BIGBIRD = {"block": 32, "window_blocks": 1, "global_blocks": 1, "random_blocks": 3, "seed": 0}


def _tiles_count(n: int, block: int, what: str) -> tuple[int, int, int]:
    n = check_int(n, "n", minimum=1)
    block = min(check_int(block, "block", minimum=1), n)
    count = -(-n // block)
    guard_bytes(  # two int64 (count, count) index differences and their comparisons
        24 * count * count, f"{what}(n={n}, block={block})", hint="use a larger block"
    )
    return n, block, count


def _diff_range(n: int, block: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) of i − j over query tile a (rows) and key tile b (columns): every integer between
    them occurs, since both index ranges are contiguous. Shapes (count, count)."""
    start = np.arange(count, dtype=np.int64) * block
    stop = np.minimum(start + block, n) - 1  # last index of each tile
    return start[:, None] - stop[None, :], stop[:, None] - start[None, :]


def window_tiles(n: int, left: int, right: int, block: int) -> np.ndarray:
    """Tiles of ``block`` that the window ``-left <= j - i <= right`` touches."""
    n, block, count = _tiles_count(n, block, "window_tiles")
    left, right = check_int(left, "left", minimum=0), check_int(right, "right", minimum=0)
    lo, hi = _diff_range(n, block, count)  # of i − j; the window needs i − j in [−right, left]
    return (lo <= left) & (hi >= -right)


def strided_stride(n: int) -> int:
    """The stride l of the strided pattern at length n: the power of two nearest √n (the paper's
    l ≈ √n, which gives O(n√n) pairs)."""
    n = check_int(n, "n", minimum=1)
    return 1 << max(0, round(math.log2(math.sqrt(n))))


def strided_mask(n: int) -> np.ndarray:
    """Sparse Transformer, strided, causal, both heads in one mask (n, n): the local head
    A⁽¹⁾ᵢ = {max(0, i − l), …, i} (l + 1 keys) and the strided head {j ≤ i : (i − j) mod l = 0},
    l = :func:`strided_stride`."""
    stride = strided_stride(n)
    return masks.local_mask(n, stride, 0) | masks.strided_mask(n, stride, causal=True)


def strided_pairs(n: int) -> int:
    """Allowed pairs of :func:`strided_mask` without building it: per query i, min(i, l) + 1 local
    keys and ⌊i/l⌋ + 1 stripe keys, minus those in both (j = i, and j = i − l when i ≥ l)."""
    stride = strided_stride(n)
    i = np.arange(n, dtype=np.int64)
    both = 1 + (i >= stride)
    return int(np.sum(np.minimum(i, stride) + 1 + i // stride + 1 - both))


def strided_tiles(n: int, block: int) -> np.ndarray:
    """Tiles of ``block`` that :func:`strided_mask` touches: tile (a, b) is active if some
    difference i − j ≥ 0 it contains is ≤ l (local head) or a multiple of l (strided head)."""
    n, block, count = _tiles_count(n, block, "strided_tiles")
    stride = strided_stride(n)
    lo, hi = _diff_range(n, block, count)
    lo = np.maximum(lo, 0)  # causal: only differences i − j ≥ 0 are allowed
    return (hi >= lo) & ((lo <= stride) | (hi // stride * stride >= lo))


def _bigbird_block(n: int) -> int:
    return min(BIGBIRD["block"], check_int(n, "n", minimum=1))


def bigbird_random_blocks(count: int, num_random: int, seed: int) -> np.ndarray:
    """(count, min(num_random, count)) int: for each query block, distinct random key blocks, drawn
    without replacement one column at a time (the k-th draw picks among the count − k blocks not
    taken yet), vectorized over the rows: O(count · r) work, so it runs at 128k tokens too."""
    count = check_int(count, "count", minimum=1)
    r = min(check_int(num_random, "num_random", minimum=0), count)
    rng = np.random.default_rng(check_int(seed, "seed", minimum=0))
    taken = np.empty((count, r), dtype=np.int64)
    for k in range(r):
        x = rng.integers(0, count - k, size=count)  # the x-th block not taken yet, per row
        for prev in np.sort(taken[:, :k], axis=1).T:  # skip over the taken ones, smallest first
            x += x >= prev
        taken[:, k] = x
    return taken


def _bigbird_coarse(count: int) -> np.ndarray:
    """The BigBird-style pattern between blocks: (count, count) bool."""
    b = BIGBIRD
    guard_bytes(count * count, f"the BigBird-style pattern of {count} blocks")
    i = np.arange(count)
    coarse = np.zeros((count, count), dtype=bool)  # no (count, count) int temporaries
    for offset in range(-b["window_blocks"], b["window_blocks"] + 1):  # window of blocks
        rows = i[max(0, -offset) : count - max(0, offset)]
        coarse[rows, rows + offset] = True
    coarse[: b["global_blocks"]] = True  # global blocks: their rows and their columns
    coarse[:, : b["global_blocks"]] = True
    random = bigbird_random_blocks(count, b["random_blocks"], b["seed"])
    coarse[i[:, None], random] = True
    return coarse


def bigbird_mask(n: int) -> np.ndarray:
    """The BigBird-style token mask (n, n): window of blocks, global first block, random blocks
    (:data:`BIGBIRD`), each entry of the block pattern blown up to a block × block tile."""
    block = _bigbird_block(n)
    guard_bytes(n * n, f"bigbird_mask(n={n})", hint="bigbird_tiles works at any n")
    coarse = _bigbird_coarse(-(-n // block))
    blocks = np.arange(n) // block
    return coarse[blocks[:, None], blocks[None, :]]


def bigbird_tiles(n: int, block: int) -> np.ndarray:
    """Tiles of ``block`` that :func:`bigbird_mask` touches (``block`` must be the pattern's own
    block, :data:`BIGBIRD`'s, or n when n is shorter: then tiles and blocks coincide)."""
    if check_int(block, "block", minimum=1) != _bigbird_block(n) and block < n:
        raise ValueError(f"block must be the pattern's block {_bigbird_block(n)}, got {block}")
    n, block, count = _tiles_count(n, block, "bigbird_tiles")
    return _bigbird_coarse(count)


def tile_work(tiles: np.ndarray, n: int, block: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, keys) per query tile: the tile's query count (the last one may be short) and the
    number of keys ``block_sparse_attention`` gathers for it (the active key tiles' lengths)."""
    n = check_int(n, "n", minimum=1)
    block = min(check_int(block, "block", minimum=1), n)
    tiles = np.asarray(tiles, dtype=bool)
    count = -(-n // block)
    if tiles.shape != (count, count):
        raise ValueError(f"tiles must have shape {(count, count)} for n={n}, block={block}")
    sizes = np.minimum(block, n - np.arange(count, dtype=np.int64) * block)  # (count,)
    # keys = Σ_b tiles[a, b] · sizes[b]: every tile is `block` long but the last
    keys = np.count_nonzero(tiles, axis=1) * block - tiles[:, -1] * (block - sizes[-1])
    return sizes, keys


def _sizes(n: int, block: int) -> tuple[int, int, np.ndarray]:
    n = check_int(n, "n", minimum=1)
    block = min(check_int(block, "block", minimum=1), n)
    count = -(-n // block)
    return n, block, np.minimum(block, n - np.arange(count, dtype=np.int64) * block)


def window_tile_work(n: int, left: int, right: int, block: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`tile_work` of :func:`window_tiles` in O(n / block): query tile [s, e) touches the
    key tiles from the one holding s − left to the one holding e − 1 + right (a contiguous run)."""
    n, block, rows = _sizes(n, block)
    left, right = check_int(left, "left", minimum=0), check_int(right, "right", minimum=0)
    start = np.arange(rows.size, dtype=np.int64) * block
    first = np.maximum(0, start - left) // block * block  # first key of the first tile touched
    last = np.minimum(n, (np.minimum(n - 1, start + rows - 1 + right) // block + 1) * block)
    return rows, last - first


def strided_tile_work(n: int, block: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`tile_work` of :func:`strided_tiles` in O(n / block): between two whole tiles δ apart
    the differences i − j are δ·B − (B − 1) … δ·B + (B − 1), so whether a tile is touched depends
    on δ alone; only the last, possibly short, query tile is computed on its own."""
    n, block, rows = _sizes(n, block)
    stride, count = strided_stride(n), rows.size
    delta = np.arange(count, dtype=np.int64)
    lo, hi = np.maximum(delta * block - (block - 1), 0), delta * block + (block - 1)
    active = (lo <= stride) | (hi // stride * stride >= lo)  # (count,) by tile distance δ
    keys = block * np.cumsum(active)  # row a: key tiles a − δ for δ = 0 … a, all whole
    a, end = count - 1, n - 1  # the last query tile [a·B, n) against key tiles b = 0 … a
    b_start = delta * block
    lo = np.maximum(a * block - np.minimum(b_start + block, n) + 1, 0)
    hi = end - b_start
    last = (hi >= lo) & ((lo <= stride) | (hi // stride * stride >= lo))
    keys[a] = int(np.sum(last * np.minimum(block, n - b_start)))
    return rows, keys


def bigbird_tile_work(n: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`tile_work` of :func:`bigbird_tiles` in O(n / block · 7): each query block's key
    blocks are the union of its window, the global block and its random blocks (row 0, global,
    sees every block)."""
    b = BIGBIRD
    n, block, rows = _sizes(n, _bigbird_block(n))
    count = rows.size
    a = np.arange(count, dtype=np.int64)[:, None]
    window = a + np.arange(-b["window_blocks"], b["window_blocks"] + 1)[None, :]
    glob = np.broadcast_to(np.arange(b["global_blocks"]), (count, b["global_blocks"]))
    random = bigbird_random_blocks(count, b["random_blocks"], b["seed"])
    blocks = np.sort(np.concatenate([np.clip(window, -1, count), glob, random], axis=1), axis=1)
    valid = (blocks >= 0) & (blocks < count)
    valid[:, 1:] &= blocks[:, 1:] != blocks[:, :-1]  # each key block once
    keys = np.where(valid, rows[np.clip(blocks, 0, count - 1)], 0).sum(axis=1)
    keys[: min(b["global_blocks"], count)] = n  # global rows see everything
    return rows, keys


def bigbird_pairs(n: int) -> int:
    """Allowed pairs of :func:`bigbird_mask` without building it: Σ over active block pairs of
    rows · columns."""
    rows, keys = bigbird_tile_work(n)
    return int(np.sum(rows * keys))
