"""The tile schedule of FlashAttention-style attention: which tiles a query block visits, in order.

The score matrix is cut into ``block_q × block_k`` tiles. Without ``causal`` every tile is computed.
Under ``causal`` (bottom-right aligned: query i sees keys j ≤ i + n_k − n_q) a tile entirely in the
future is skipped, and only the tiles that cross the diagonal need the mask. :func:`key_blocks` lists
the key blocks with the query rows that see them; :func:`wave_steps` orders the steps the way
:func:`tutor_lib.tiled.flash_attention` runs them (waves of query blocks, each over the key blocks);
:func:`tiles_visited` is the grid of computed tiles that the lesson's widget and IO model draw.

Pure Python and numpy: nothing here touches a score.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from tutor_lib._validate import check_bool, check_int

__all__ = ["tiles_visited"]


def key_blocks(
    n_q: int, n_k: int, block_q: int, block_k: int, causal: bool
) -> Iterator[tuple[int, int, int, int]]:
    """For each key block: (k0, k1, r0, r_diag). Rows ≥ r0 (whole query blocks) see some of the
    block; rows in [r0, r_diag) hold tiles that cross the diagonal and need the causal mask."""
    offset = n_k - n_q  # query i sees keys j <= i + offset
    for k0 in range(0, n_k, block_k):
        k1 = min(k0 + block_k, n_k)
        if not causal:
            yield k0, k1, 0, 0
            continue
        first = max(0, k0 - offset)  # first query that sees key k0
        if first >= n_q:
            return  # this key block and all later ones are in every query's future
        r0 = first // block_q * block_q
        r_diag = min(n_q, -(-max(0, k1 - 1 - offset) // block_q) * block_q)  # sees all of it
        yield k0, k1, r0, max(r0, r_diag)


def wave_steps(
    n_q: int, n_k: int, block_q: int, block_k: int, causal: bool, wave_rows: int
) -> Iterator[tuple[int, int, int, int, int, int]]:
    """The schedule: (w0, w1, s0, d1, k0, k1) per step, wave by wave. A wave is a run of
    ``wave_rows`` query rows [w0, w1) (whole query blocks); within it, rows [s0, w1) see key block
    [k0, k1) and rows [s0, d1) need the causal mask."""
    blocks = list(key_blocks(n_q, n_k, block_q, block_k, causal))
    for w0 in range(0, n_q, wave_rows):
        w1 = min(w0 + wave_rows, n_q)
        for k0, k1, r0, r_diag in blocks:
            s0 = max(w0, r0)
            if s0 < w1:
                yield w0, w1, s0, min(w1, max(s0, r_diag)), k0, k1


def tiles_visited(n_q: int, n_k: int, block_q: int, block_k: int, causal: bool = False):
    """Boolean (tiles along queries, tiles along keys) grid: True where a tile is computed.

    Without ``causal`` every tile is; with it, tiles entirely in the future are skipped
    (bottom-right aligned causal mask).
    """
    n_q, n_k = check_int(n_q, "n_q", minimum=1), check_int(n_k, "n_k", minimum=1)
    block_q = check_int(block_q, "block_q", minimum=1)
    block_k = check_int(block_k, "block_k", minimum=1)
    causal = check_bool(causal, "causal")
    grid = np.zeros((-(-n_q // block_q), -(-n_k // block_k)), dtype=bool)
    for k0, _, r0, _ in key_blocks(n_q, n_k, block_q, block_k, causal):
        grid[r0 // block_q :, k0 // block_k] = True
    return grid
