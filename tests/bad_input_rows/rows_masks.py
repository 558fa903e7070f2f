"""Bad inputs for tutor_lib.masks: size guards, clamped blocks, strict flags, named errors."""

import numpy as np

from bad_input_rows import error, result
from tutor_lib.limits import TooLargeError
from tutor_lib.masks import (
    block_local_mask,
    block_mask,
    block_random_mask,
    causal_mask,
    compose_layers,
    density,
    dilated_mask,
    fixed_mask,
    global_mask,
    keys_per_query,
    local_mask,
    mask_stats,
    random_mask,
    receptive_field,
    strided_mask,
    tile_mask,
    tile_savings,
    tile_sparsity,
)

BIG = 100_000  # an n×n mask of 9.3 GiB: over the default 4 GiB limit
C8 = causal_mask(8)
# a (20000, 20000) boolean mask that takes no memory (a broadcast view of one True)
HUGE_VIEW = np.broadcast_to(np.ones((1, 1), dtype=bool), (20_000, 20_000))


def _is(expected):
    return lambda got: np.array_equal(got, expected)


ROWS = [
    # the factories: every one refuses an n×n mask over the limit, naming the call
    error(
        local_mask,
        BIG,
        3,
        3,
        raises=TooLargeError,
        name="local_mask(n=100000) needs 9.3 GiB",
        why="n = 100000",
    ),
    error(causal_mask, BIG, raises=TooLargeError, name="causal_mask", why="n = 100000"),
    error(dilated_mask, BIG, 1, 1, 2, raises=TooLargeError, name="dilated_mask", why="n = 100000"),
    error(block_mask, BIG, 8, raises=TooLargeError, name="block_mask", why="n = 100000"),
    error(
        block_local_mask,
        BIG,
        8,
        1,
        1,
        raises=TooLargeError,
        name="block_local_mask",
        why="n = 100000",
    ),
    error(strided_mask, BIG, 8, raises=TooLargeError, name="strided_mask", why="n = 100000"),
    error(fixed_mask, BIG, 8, raises=TooLargeError, name="fixed_mask", why="n = 100000"),
    error(global_mask, BIG, 2, raises=TooLargeError, name="global_mask", why="n = 100000"),
    error(random_mask, BIG, 2, 0, raises=TooLargeError, name="random_mask", why="n = 100000"),
    error(
        block_random_mask,
        BIG,
        64,
        3,
        0,
        raises=TooLargeError,
        name="block_random_mask",
        why="n = 100000",
    ),
    # types, ranges, flags
    error(local_mask, 8, -1, 0, name="left", why="negative left"),
    error(local_mask, 8.0, 1, 1, raises=TypeError, name="n", why="float n"),
    error(local_mask, 8, 1, True, raises=TypeError, name="right", why="bool right"),
    error(causal_mask, 0, name="n", why="n = 0"),
    error(dilated_mask, 8, 1, 1, 0, name="dilation", why="dilation 0"),
    error(block_mask, 8, 0, name="block", why="block 0"),
    error(strided_mask, 8, 2, causal="False", raises=TypeError, name="causal", why='"False"'),
    error(fixed_mask, 8, 4, 1, causal=0, raises=TypeError, name="causal", why="causal=0"),
    error(fixed_mask, 8, 4, 5, name="summary", why="summary > stride"),
    error(global_mask, 8, [9], name="tokens", why="index out of range"),
    error(global_mask, 8, [1.5], raises=TypeError, name="tokens", why="float index"),
    error(global_mask, 8, "01", raises=TypeError, name="tokens", why="a string"),
    error(random_mask, 8, 2, -1, name="seed", why="negative seed"),
    error(block_random_mask, 8, 0, 1, 0, name="block", why="block 0"),
    error(block_local_mask, 8, 2, -1, 0, name="left_blocks", why="negative"),
    result(local_mask, 4, 10**9, 10**9, check=lambda m: m.all(), why="a window wider than n"),
    result(random_mask, 5, 99, 0, check=lambda m: m.all(), why="more random keys than n"),
    result(block_mask, 5, 10**9, check=lambda m: m.all(), why="block > n is one block"),
    result(block_random_mask, 5, 10**9, 1, 0, check=lambda m: m.all(), why="block > n"),
    result(block_local_mask, 5, 10**9, 0, 0, check=lambda m: m.all(), why="block > n"),
    # analysis
    error(density, np.zeros((0, 3), dtype=bool), name="mask", why="empty"),
    error(density, np.ones((2, 2)), raises=TypeError, name="mask", why="float mask"),
    error(keys_per_query, np.ones(3, dtype=bool), name="mask", why="1-D"),
    error(compose_layers, [], raises=TypeError, name="masks", why="empty list"),
    error(compose_layers, C8, raises=TypeError, name="masks", why="an array, not a list"),
    error(compose_layers, [C8, causal_mask(4)], name="masks[1]", why="sizes differ"),
    error(
        compose_layers,
        [HUGE_VIEW],
        raises=TooLargeError,
        name="compose_layers",
        why="n = 20000 needs 9.7 GiB",
    ),
    error(receptive_field, C8, -1, name="layers", why="negative layers"),
    error(receptive_field, C8, 1.0, raises=TypeError, name="layers", why="float layers"),
    error(receptive_field, C8[:4], 2, name="square", why="not square"),
    error(
        receptive_field,
        HUGE_VIEW,
        2,
        raises=TooLargeError,
        name="receptive_field",
        why="n = 20000 needs 9.7 GiB",
    ),
    result(receptive_field, C8, 10**18, check=_is(C8), why="10**18 layers: log-many squarings"),
    error(tile_mask, C8, 0, name="block", why="block 0"),
    error(tile_mask, np.ones((4, 4), dtype=int), 2, raises=TypeError, name="mask", why="ints"),
    result(
        tile_mask,
        C8,
        10**5,
        check=_is(np.ones((1, 1), dtype=bool)),
        why="block 10**5 is clamped (asked for 9 GiB)",
    ),
    result(tile_sparsity, C8, 10**5, check=lambda s: s == 0.0, why="one tile"),
    result(tile_savings, C8, 10**5, check=lambda s: s == 0.0, why="one tile saves nothing"),
    result(tile_savings, C8, 1, check=lambda s: s == 1 - density(C8), why="block 1: per entry"),
    error(tile_savings, C8, -2, name="block", why="negative block"),
    error(mask_stats, C8, causal_mask(4), 2, name="receptive", why="shapes differ"),
    error(mask_stats, C8, C8, 0, name="tile", why="tile 0"),
    result(
        mask_stats,
        C8,
        receptive_field(C8, 1),
        10**6,
        check=lambda s: s["tile_sparsity"] == 0.0 and s["keys_max"] == 8,
        why="huge tile",
    ),
]
