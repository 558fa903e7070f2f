"""tutor_lib.masks against dense arange/set oracles, closed-form counts, graph search and torch's
FlexAttention (``create_mask`` / ``create_block_mask``); plus bad inputs and plot orientation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import arange_mask, reach_brute_force
from torch.nn.attention.flex_attention import create_block_mask, create_mask

from tutor_lib import attention, masks

SETTINGS = settings(max_examples=40, deadline=None)
lengths = st.integers(1, 40)
sides = st.integers(0, 45)


def _keys(mask) -> np.ndarray:
    return mask.sum(axis=1)


# ---- causal and local windows ---------------------------------------------------------------------


def test_causal_mask_is_the_attention_module_mask():
    for n in (1, 2, 7):
        np.testing.assert_array_equal(masks.causal_mask(n), attention.causal_mask(n))
        np.testing.assert_array_equal(masks.causal_mask(n), np.tril(np.ones((n, n), bool)))
    assert masks.density(masks.causal_mask(10)) == pytest.approx(11 / 20)  # (n + 1) / (2n)


@SETTINGS
@given(n=lengths, left=sides, right=sides)
def test_local_mask_matches_oracles(n, left, right):
    got = masks.local_mask(n, left, right)
    np.testing.assert_array_equal(
        got, arange_mask(n, n, lambda i, j: (j - i >= -left) & (j - i <= right))
    )
    ones = np.ones((n, n), dtype=bool)
    np.testing.assert_array_equal(got, np.triu(ones, -left) & np.tril(ones, right))  # band form
    i = np.arange(n)
    np.testing.assert_array_equal(
        _keys(got), np.minimum(i, left) + np.minimum(n - 1 - i, right) + 1
    )


def test_window_conventions_count_keys_away_from_edges():
    n, w = 64, 16
    longformer = masks.local_mask(n, w // 2, w // 2)  # ±w/2 → w + 1 keys
    assert set(_keys(longformer)[w:-w]) == {w + 1}
    mistral = masks.local_mask(n, w, 0)  # positions i - W … i → W + 1 keys
    assert set(_keys(mistral)[w:]) == {w + 1}
    codebase = masks.local_mask(n, w - 1, 0)  # q - k < W → W keys
    np.testing.assert_array_equal(codebase, arange_mask(n, n, lambda i, j: (i >= j) & (i - j < w)))
    assert set(_keys(codebase)[w:]) == {w}
    # edges are clipped: the first query of a causal window sees only itself
    assert _keys(mistral)[0] == 1


def test_full_window_is_dense_and_causal_window_limit_is_causal():
    n = 9
    assert masks.local_mask(n, n - 1, n - 1).all()
    assert masks.local_mask(n, 100, 100).all()
    np.testing.assert_array_equal(masks.local_mask(n, n - 1, 0), masks.causal_mask(n))
    np.testing.assert_array_equal(masks.local_mask(n, 0, 0), np.eye(n, dtype=bool))


# ---- dilated, block, strided, fixed -------------------------------------------------------------


@SETTINGS
@given(n=lengths, left=st.integers(0, 12), right=st.integers(0, 12), dilation=st.integers(1, 6))
def test_dilated_mask_matches_set_definition(n, left, right, dilation):
    got = masks.dilated_mask(n, left, right, dilation)
    offsets = {k * dilation for k in range(-left, right + 1)}
    expected = np.array([[(j - i) in offsets for j in range(n)] for i in range(n)], dtype=bool)
    np.testing.assert_array_equal(got, expected)
    i = np.arange(n)
    counts = np.minimum(left, i // dilation) + np.minimum(right, (n - 1 - i) // dilation) + 1
    np.testing.assert_array_equal(_keys(got), counts)
    if dilation == 1:
        np.testing.assert_array_equal(got, masks.local_mask(n, left, right))


@SETTINGS
@given(n=lengths, block=st.integers(1, 50))
def test_block_mask_is_block_diagonal(n, block):
    got = masks.block_mask(n, block)
    np.testing.assert_array_equal(got, arange_mask(n, n, lambda i, j: i // block == j // block))
    starts = (np.arange(n) // block) * block
    np.testing.assert_array_equal(_keys(got), np.minimum(block, n - starts))  # last block short
    if block >= n:
        assert got.all()


@SETTINGS
@given(n=lengths, stride=st.integers(1, 12), causal=st.booleans())
def test_strided_mask_matches_paper_definition(n, stride, causal):
    got = masks.strided_mask(n, stride, causal=causal)
    expected = np.zeros((n, n), dtype=bool)
    for i in range(n):
        for j in range(n):
            expected[i, j] = (i - j) % stride == 0 and (j <= i or not causal)
    np.testing.assert_array_equal(got, expected)
    if causal:
        np.testing.assert_array_equal(_keys(got), np.arange(n) // stride + 1)


def test_strided_is_stripes_not_a_band():
    n, stride = 32, 4
    strided = masks.strided_mask(n, stride)
    band = masks.local_mask(n, stride - 1, 0)  # the local head: the previous `stride` keys
    i, j = 20, 20 - 3 * stride
    assert strided[i, j] and not band[i, j]  # strided reaches far back …
    assert band[i, i - 1] and not strided[i, i - 1]  # … but skips the neighbours
    assert not np.array_equal(strided, band)


@SETTINGS
@given(n=lengths, stride=st.integers(1, 10), data=st.data())
def test_fixed_mask_is_block_plus_summary_columns(n, stride, data):
    summary = data.draw(st.integers(1, stride))
    got = masks.fixed_mask(n, stride, summary)
    same_block = arange_mask(n, n, lambda i, j: i // stride == j // stride)
    summary_col = arange_mask(n, n, lambda i, j: j % stride >= stride - summary)
    np.testing.assert_array_equal(got, (same_block | summary_col) & masks.causal_mask(n))
    # keys: the block so far, plus `summary` columns in every earlier (complete) block
    i = np.arange(n)
    np.testing.assert_array_equal(_keys(got), i % stride + 1 + (i // stride) * summary)
    both = masks.fixed_mask(n, stride, summary, causal=False)
    np.testing.assert_array_equal(both, same_block | summary_col)


# ---- global and random --------------------------------------------------------------------------


@pytest.mark.parametrize("tokens", [0, 1, 3, [0], [2, 5], (1, 1, 4), np.array([6])])
def test_global_mask_rows_and_columns(tokens):
    n = 7
    got = masks.global_mask(n, tokens)
    idx = sorted(set(range(tokens))) if isinstance(tokens, int) else sorted(set(np.ravel(tokens)))
    g = len(idx)
    assert got[idx].all() and got[:, idx].all()
    others = [i for i in range(n) if i not in idx]
    assert not got[np.ix_(others, others)].any()
    np.testing.assert_array_equal(_keys(got)[others], np.full(len(others), g))  # each sees g
    assert (_keys(got)[idx] == n).all()


def test_longformer_is_window_or_global():
    n, w, g = 40, 8, 2
    mask = masks.local_mask(n, w // 2, w // 2) | masks.global_mask(n, g)
    expected = arange_mask(n, n, lambda i, j: (np.abs(i - j) <= w // 2) | (i < g) | (j < g))
    np.testing.assert_array_equal(mask, expected)


@SETTINGS
@given(n=st.integers(1, 30), num_random=st.integers(0, 40), seed=st.integers(0, 10_000))
def test_random_mask_exact_count_and_seeded(n, num_random, seed):
    got = masks.random_mask(n, num_random, seed)
    assert (_keys(got) == min(num_random, n)).all()
    np.testing.assert_array_equal(got, masks.random_mask(n, num_random, seed))


def test_random_mask_depends_on_seed():
    assert not np.array_equal(masks.random_mask(32, 4, 0), masks.random_mask(32, 4, 1))


@pytest.mark.parametrize("n,block,num_random", [(64, 8, 3), (50, 8, 2), (20, 8, 9), (10, 3, 0)])
def test_block_random_mask_picks_whole_blocks(n, block, num_random):
    got = masks.block_random_mask(n, block, num_random, seed=3)
    tiles = masks.tile_mask(got, block)
    num_blocks = -(-n // block)
    assert (tiles.sum(axis=1) == min(num_random, num_blocks)).all()
    # every active tile is full: the mask is constant on each block × block tile
    upsampled = np.repeat(np.repeat(tiles, block, 0), block, 1)[:n, :n]
    np.testing.assert_array_equal(got, upsampled)


# ---- density, receptive field --------------------------------------------------------------------


def test_density_and_keys_per_query_hand_checked():
    mask = np.array([[True, False, False], [True, True, False], [False, True, True]])
    assert masks.density(mask) == pytest.approx(5 / 9)
    np.testing.assert_array_equal(masks.keys_per_query(mask), [1, 2, 2])


@SETTINGS
@given(
    n=st.integers(1, 14), layers=st.integers(0, 5), p=st.floats(0.0, 0.4), seed=st.integers(0, 99)
)
def test_receptive_field_matches_graph_search(n, layers, p, seed):
    mask = np.random.default_rng(seed).random((n, n)) < p
    np.testing.assert_array_equal(
        masks.receptive_field(mask, layers), reach_brute_force(mask, layers)
    )
    np.testing.assert_array_equal(
        masks.compose_layers([mask] * max(layers, 1)), reach_brute_force(mask, max(layers, 1))
    )


@pytest.mark.parametrize("left,layers", [(1, 1), (3, 2), (2, 5), (4, 4)])
def test_causal_window_reaches_layers_times_left(left, layers):
    n = 40
    reach = masks.receptive_field(masks.local_mask(n, left, 0), layers)
    span = layers * left  # L · W
    np.testing.assert_array_equal(reach, arange_mask(n, n, lambda i, j: (j <= i) & (i - j <= span)))


def test_bidirectional_and_dilated_reach():
    n, w, layers, d = 60, 2, 3, 3
    reach = masks.receptive_field(masks.local_mask(n, w, w), layers)
    np.testing.assert_array_equal(
        reach, arange_mask(n, n, lambda i, j: np.abs(i - j) <= layers * w)
    )
    dil = masks.receptive_field(masks.dilated_mask(n, w, w, d), layers)  # l · d · w, multiples of d
    expected = arange_mask(
        n, n, lambda i, j: (np.abs(i - j) <= layers * d * w) & ((i - j) % d == 0)
    )
    np.testing.assert_array_equal(dil, expected)


@SETTINGS
@given(n=st.integers(2, 60), stride=st.integers(2, 9))
def test_strided_plus_local_reaches_every_earlier_token_in_two_layers(n, stride):
    local = masks.local_mask(n, stride - 1, 0)
    strided = masks.strided_mask(n, stride)
    causal = masks.causal_mask(n)
    np.testing.assert_array_equal(masks.receptive_field(local | strided, 2), causal)  # merged head
    np.testing.assert_array_equal(masks.compose_layers([local, strided]), causal)  # alternating
    np.testing.assert_array_equal(masks.compose_layers([strided, local]), causal)
    if n > stride + 1:  # negative controls: one layer, or strided alone, does not cover
        assert not np.array_equal(masks.receptive_field(local | strided, 1), causal)
        assert not np.array_equal(masks.receptive_field(strided, 2), causal)


def test_receptive_field_zero_layers_and_residual():
    n = 6
    np.testing.assert_array_equal(
        masks.receptive_field(masks.causal_mask(n), 0), np.eye(n, dtype=bool)
    )
    empty = np.zeros((n, n), dtype=bool)
    np.testing.assert_array_equal(masks.receptive_field(empty, 3), np.eye(n, dtype=bool))


# ---- tiles ---------------------------------------------------------------------------------------


def test_tile_mask_hand_checked():
    np.testing.assert_array_equal(
        masks.tile_mask(masks.causal_mask(4), 2), [[True, False], [True, True]]
    )
    assert masks.tile_sparsity(masks.causal_mask(4), 2) == 0.25
    window = masks.local_mask(10, 2, 0)  # 3 × 3 tiles of 4 (the last row/column of tiles is 2 wide)
    np.testing.assert_array_equal(masks.tile_mask(window, 4), [[1, 0, 0], [1, 1, 0], [0, 1, 1]])
    assert masks.tile_sparsity(window, 4) == pytest.approx(4 / 9)
    # computed entries: 16 + 16 + 16 + 8 + 4 = 60 of 100
    assert masks.tile_savings(window, 4) == pytest.approx(0.4)
    assert masks.tile_sparsity(masks.random_mask(32, 2, 0), 8) == 0.0  # random keys hit every tile


@SETTINGS
@given(n=st.integers(1, 40), block=st.integers(1, 12), seed=st.integers(0, 99))
def test_tile_mask_any_rule_and_savings(n, block, seed):
    mask = np.random.default_rng(seed).random((n, n)) < 0.05
    tiles = masks.tile_mask(mask, block)
    for a in range(tiles.shape[0]):
        for b in range(tiles.shape[1]):
            assert (
                tiles[a, b] == mask[a * block : (a + 1) * block, b * block : (b + 1) * block].any()
            )
    if n % block == 0:
        assert masks.tile_savings(mask, block) == pytest.approx(masks.tile_sparsity(mask, block))
    if block == 1:
        assert masks.tile_savings(mask, 1) == pytest.approx(1 - masks.density(mask))


def _flex(mask_mod, n, block=128):
    return create_block_mask(mask_mod, None, None, n, n, device="cpu", BLOCK_SIZE=block)


def test_tile_sparsity_matches_flexattention_block_mask():
    n, w = 1024, 256

    def causal(b, h, q, k):
        return q >= k

    def causal_swa(b, h, q, k):  # Mistral-style code: q - k < W, i.e. left = W - 1
        return (q >= k) & (q - k < w)

    expected = _flex(causal, n).sparsity() / 100
    assert masks.tile_sparsity(masks.causal_mask(n), 128) == pytest.approx(expected)
    swa = masks.local_mask(n, w - 1, 0)
    for block in (128, 64):
        expected = _flex(causal_swa, n, block).sparsity() / 100
        assert masks.tile_sparsity(swa, block) == pytest.approx(expected)


def test_tile_sparsity_published_figures_at_2048():
    n, w = 2048, 256
    assert masks.tile_sparsity(masks.causal_mask(n), 128) == 0.46875  # 120 of 256 tiles skipped
    swa = masks.local_mask(n, w - 1, 0)
    assert masks.tile_sparsity(swa, 128) == 211 / 256  # 45 tiles computed: 1 + 2 + 14 · 3
    assert round(masks.tile_sparsity(swa, 128), 3) == 0.824  # the 82.4 % in algorithms.md
    assert round(masks.tile_sparsity(swa, 64), 3) == 0.854  # and 85.4 % at 64 × 64 tiles
    # the token mask is ~87.5 % empty, more than the tiles: a kernel cannot skip all of it
    assert 1 - masks.density(swa) > masks.tile_sparsity(swa, 128)


def test_masks_match_flexattention_mask_mods():
    n, w, d, stride, g = 48, 8, 2, 5, 3
    mods = {
        "causal": (lambda b, h, q, k: q >= k, masks.causal_mask(n)),
        "longformer window": (
            lambda b, h, q, k: (q - k).abs() <= w // 2,
            masks.local_mask(n, w // 2, w // 2),
        ),
        "dilated": (
            lambda b, h, q, k: ((q - k).abs() <= d * (w // 2)) & ((q - k) % d == 0),
            masks.dilated_mask(n, w // 2, w // 2, d),
        ),
        "strided": (
            lambda b, h, q, k: (q >= k) & ((q - k) % stride == 0),
            masks.strided_mask(n, stride),
        ),
        "global": (lambda b, h, q, k: (q < g) | (k < g), masks.global_mask(n, g)),
    }
    for name, (mod, ours) in mods.items():
        theirs = create_mask(mod, None, None, n, n, device="cpu")[0, 0].numpy()
        np.testing.assert_array_equal(ours, theirs, err_msg=name)


# ---- bad inputs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fn,args,match",
    [
        (masks.causal_mask, (0,), "n"),
        (masks.local_mask, (0, 1, 1), "n"),
        (masks.local_mask, (8, -1, 1), "left"),
        (masks.local_mask, (8, 1, -2), "right"),
        (masks.dilated_mask, (8, 1, 1, 0), "dilation"),
        (masks.dilated_mask, (8, -1, 1, 2), "left"),
        (masks.block_mask, (8, 0), "block"),
        (masks.block_mask, (-3, 2), "n"),
        (masks.strided_mask, (8, 0), "stride"),
        (masks.fixed_mask, (8, 4, 5), "summary"),
        (masks.fixed_mask, (8, 0), "stride"),
        (masks.global_mask, (8, 9), "tokens"),
        (masks.global_mask, (8, [0, 8]), "tokens"),
        (masks.global_mask, (8, [-1]), "tokens"),
        (masks.random_mask, (8, -1, 0), "num_random"),
        (masks.random_mask, (8, 2, -1), "seed"),
        (masks.block_random_mask, (8, 0, 1, 0), "block"),
        (masks.receptive_field, (np.eye(3, dtype=bool), -1), "layers"),
        (masks.receptive_field, (np.ones((2, 3), dtype=bool), 1), "square"),
        (masks.tile_mask, (np.eye(3, dtype=bool), 0), "block"),
        (masks.tile_sparsity, (np.ones(3, dtype=bool), 2), "mask"),
        (masks.compose_layers, ([np.eye(3, dtype=bool), np.eye(4, dtype=bool)],), "masks"),
    ],
)
def test_bad_values_raise_value_error(fn, args, match):
    with pytest.raises(ValueError, match=match):
        fn(*args)


@pytest.mark.parametrize(
    "fn,args,match",
    [
        (masks.local_mask, (8.0, 1, 1), "n"),
        (masks.local_mask, (8, 1.5, 1), "left"),
        (masks.global_mask, (8, [0.5]), "tokens"),
        (masks.global_mask, (8, "ab"), "tokens"),
        (masks.density, (np.ones((2, 2)),), "mask"),
        (masks.tile_mask, (np.ones((4, 4), dtype=int), 2), "mask"),
        (masks.compose_layers, (np.eye(3, dtype=bool),), "masks"),
    ],
)
def test_wrong_kinds_raise_type_error(fn, args, match):
    with pytest.raises(TypeError, match=match):
        fn(*args)


# ---- plot orientation ----------------------------------------------------------------------------


def test_plot_tiles_puts_queries_on_rows():
    from matplotlib.figure import Figure

    from tutor_lib.plots.masks import TILE_COLOURS, plot_tiles, tile_levels

    mask = masks.causal_mask(8)
    ax = plot_tiles(mask, 4, ax=Figure().add_subplot())
    image = np.asarray(ax.images[0].get_array())
    np.testing.assert_array_equal(image, tile_levels(mask, 4))
    assert image[0, -1] == 0 and image[-1, 0] == 2  # top right skipped, bottom left allowed
    assert image[0, 1] == 1  # above the diagonal inside a computed diagonal tile: wasted work
    assert ax.get_ylabel() == "query i" and ax.get_xlabel() == "key j"
    assert ax.yaxis_inverted()  # row 0 (the first query) at the top
    assert ax.images[0].get_clim() == (0, 2) and len(TILE_COLOURS) == 3
