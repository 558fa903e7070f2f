"""Checks for lesson 04 (sparse patterns): a dilated window, the receptive field, tile sparsity, and
a pattern to design (few tiles, every pair connected in two layers)."""

from __future__ import annotations

import numpy as np

from tutor_lib import masks
from tutor_lib.exercises._answers import register_answers
from tutor_lib.exercises._core import Case, compare_arrays, run_check

__all__ = [
    "check_dilated_mask",
    "check_receptive_field",
    "check_tile_sparsity",
    "check_two_hop_pattern",
]


def _dilated_cases() -> list[Case]:
    hint = (
        "list, for one query far from the edges, the offsets j - i it keeps (section 3's figure "
        "shows them): which rule do they all follow, and how far does the farthest one reach?"
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
        "what does a position see after 0 layers? What does one more layer add, and which part "
        "of a layer lets a position keep what it already had?"
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
        "which tile does entry (i, j) fall into? A tile can be skipped only if none of its "
        "entries is True; count tiles, not entries, and mind the short tiles at the edges"
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


TWO_HOP_SPARSITY = 0.8  # at least this fraction of block × block tiles must be skippable


def _compare_two_hop(got, expected) -> str | None:
    """``expected`` is (n, block): the mask must be (n, n) boolean, keep ≥ 80 % of its tiles empty,
    give every query a key, and connect every input to every output through two layers."""
    n, block = expected
    problem = compare_arrays(got, np.zeros((n, n), dtype=bool))
    if problem is not None and not problem.startswith("wrong entry"):
        return problem  # wrong shape or dtype
    mask = np.asarray(got)
    sparsity = masks.tile_sparsity(mask, block)
    if sparsity < TWO_HOP_SPARSITY:
        return f"tile sparsity {sparsity:.1%} < {TWO_HOP_SPARSITY:.0%}"
    if not mask.any(axis=1).all():
        return f"query {int(np.flatnonzero(~mask.any(axis=1))[0])} has no key at all"
    reach = masks.receptive_field(mask, 2)
    if not reach.all():
        i, j = (int(a) for a in np.argwhere(~reach)[0])
        return f"after 2 layers input {j} still cannot reach output {i}"
    return None


def check_two_hop_pattern(fn) -> bool:
    """Check ``fn(n, block)``: a boolean (n, n) mask whose ``block × block`` tiles are at least 80 %
    empty and through which, in two layers (with residual connections), every input reaches every
    output."""
    hint = (
        "a two-layer path i → k → j needs a middle position k that reads j and is read by i; "
        "how few middle positions could serve every pair, and which tiles do their rows and "
        "columns touch?"
    )
    sizes = [(160, 16), (640, 64), (1024, 64), (1000, 64), (96, 8), (768, 48)]
    cases = [
        Case(f"n={n}, block={b} ({-(-n // b)} × {-(-n // b)} tiles)", (n, b), (n, b), hint)
        for n, b in sizes
    ]
    return run_check(fn, cases, compare=_compare_two_hop)


def _window_and_stripes(n, block):
    # the Sparse Transformer's two heads, both directions: connected, but stripes touch every tile
    return masks.local_mask(n, block, block) | masks.strided_mask(n, block, causal=False)


register_answers(
    check_two_hop_pattern,
    reference=masks.global_mask,  # global_mask(n, block): one tile row and one tile column
    wrong=_window_and_stripes,
    mistake="window + stripes connect every pair but touch every tile (tile sparsity 0)",
)
