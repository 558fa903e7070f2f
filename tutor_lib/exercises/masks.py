"""Checks for lesson 04 (sparse patterns): a dilated window, the receptive field, tile sparsity."""

from __future__ import annotations

import numpy as np

from tutor_lib import masks
from tutor_lib.exercises._answers import register_answers
from tutor_lib.exercises._core import Case, run_check

__all__ = ["check_dilated_mask", "check_receptive_field", "check_tile_sparsity"]


def _dilated_cases() -> list[Case]:
    hint = (
        "with i = np.arange(n)[:, None] and j = np.arange(n)[None, :], the offset j - i must be a "
        "multiple of dilation AND lie in [-left * dilation, right * dilation]"
    )
    params = [(8, 1, 1, 2), (12, 2, 0, 3), (5, 0, 0, 1), (9, 3, 3, 1), (1, 2, 2, 2), (20, 2, 1, 4)]
    return [
        Case(
            f"n={n}, left={le}, right={r}, dilation={d}",
            (n, le, r, d),
            masks.dilated_mask(n, le, r, d),
            hint,
        )
        for n, le, r, d in params
    ]


def check_dilated_mask(fn) -> bool:
    """Check ``fn(n, left, right, dilation)``: the boolean (n, n) dilated sliding-window mask."""
    return run_check(fn, _dilated_cases())


def _dilated_mask_undilated_reach(n, left, right, dilation):
    offset = np.arange(n)[None, :] - np.arange(n)[:, None]  # j - i
    return (offset % dilation == 0) & (offset >= -left) & (offset <= right)


register_answers(
    check_dilated_mask,
    reference=masks.dilated_mask,
    wrong=_dilated_mask_undilated_reach,
    mistake="window not stretched by the dilation (|j - i| ≤ left/right, not left·dilation)",
)


def _receptive_cases() -> list[Case]:
    hint = (
        "start from the identity, then multiply by (mask | I) once per layer and keep "
        "'> 0' (a boolean matrix product); the residual connection is the '| I'"
    )
    n = 16
    cases = [
        ("causal window left=2, 3 layers", masks.local_mask(n, 2, 0), 3),
        ("block-diagonal chunks of 4, 2 layers", masks.block_mask(n, 4), 2),
        (
            "strided (4) | local (3 back), 2 layers",
            masks.strided_mask(n, 4) | masks.local_mask(n, 3, 0),
            2,
        ),
        (
            "a mask with an empty diagonal, 1 layer",
            masks.local_mask(n, 1, 1) & ~masks.local_mask(n, 0, 0),
            1,
        ),
        ("bidirectional window ±1, 5 layers", masks.local_mask(n, 1, 1), 5),
        ("0 layers", masks.local_mask(n, 2, 0), 0),
    ]
    return [
        Case(text, (m, layers), masks.receptive_field(m, layers), hint) for text, m, layers in cases
    ]


def check_receptive_field(fn) -> bool:
    """Check ``fn(mask, layers)``: which inputs reach each position after ``layers`` layers that
    all use ``mask``, with residual connections (a boolean (n, n) array)."""
    return run_check(fn, _receptive_cases())


def _receptive_field_without_residual(mask, layers):
    reach = np.asarray(mask, dtype=bool)
    for _ in range(layers - 1):
        reach = (reach.astype(np.int64) @ np.asarray(mask, dtype=np.int64)) > 0
    return reach


register_answers(
    check_receptive_field,
    reference=masks.receptive_field,
    wrong=_receptive_field_without_residual,
    mistake="no residual connection (mask ** layers instead of (mask | I) ** layers)",
)


def _tile_cases() -> list[Case]:
    hint = (
        "pad the mask with False up to a multiple of block, reshape to "
        "(rows/block, block, cols/block, block), a tile is active if .any() over axes (1, 3); "
        "the answer is the fraction of tiles that are NOT active"
    )
    cases = [
        ("causal n=8, block 4", masks.causal_mask(8), 4),
        ("causal window n=16 left=3, block 4", masks.local_mask(16, 3, 0), 4),
        ("causal n=10, block 4 (edge tiles are smaller)", masks.causal_mask(10), 4),
        ("block-diagonal chunks of 4, block 4", masks.block_mask(16, 4), 4),
        ("random keys, block 4", masks.random_mask(16, 3, seed=1), 4),
        ("block 1 (every entry is its own tile)", masks.strided_mask(9, 3), 1),
    ]
    return [Case(text, (m, b), masks.tile_sparsity(m, b), hint) for text, m, b in cases]


def check_tile_sparsity(fn) -> bool:
    """Check ``fn(mask, block)``: the fraction of ``block × block`` tiles that are entirely False."""
    return run_check(fn, _tile_cases())


def _tile_sparsity_of_entries(mask, block):
    return float(1.0 - np.asarray(mask, dtype=bool).mean())


register_answers(
    check_tile_sparsity,
    reference=masks.tile_sparsity,
    wrong=_tile_sparsity_of_entries,
    mistake="fraction of False entries instead of entirely-False tiles",
)
