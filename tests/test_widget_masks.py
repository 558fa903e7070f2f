"""mask_explorer(): driven like a learner would (set a control's .value), no kernel needed.

The masks on the widget are checked against arange-rule oracles, the receptive field against graph
search, and the PNG bytes must change when (and only when) something drawn changes.
"""

from __future__ import annotations

import itertools

import ipywidgets as widgets
import numpy as np
import pytest
from oracles import arange_mask, reach_brute_force

from tutor_lib import masks
from tutor_lib.widgets import mask_explorer
from tutor_lib.widgets.masks import (
    PART_CONTROLS,
    PATTERNS,
    VISIBLE,
    MaskExplorer,
    pattern_mask,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ALWAYS = {"n", "layers", "tile"}


def _png(explorer) -> bytes:
    data = bytes(explorer.image.value)
    assert data.startswith(PNG_SIGNATURE)
    return data


def _shown(explorer) -> set[str]:
    return {name for name, c in explorer.controls.items() if c.layout.display != "none"}


def _set(explorer, **values):
    with explorer.hold():  # one redraw for all the values
        for name, value in values.items():
            explorer.controls[name].value = value


def test_default_view_is_a_local_window_with_consistent_data():
    e = mask_explorer()
    assert isinstance(e, MaskExplorer) and e.pattern.value == "local"
    n, left, right = (e.controls[k].value for k in ("n", "left", "right"))
    np.testing.assert_array_equal(
        e.mask, arange_mask(n, n, lambda i, j: (j - i >= -left) & (j - i <= right))
    )
    np.testing.assert_array_equal(
        e.receptive, reach_brute_force(e.mask, e.controls["layers"].value)
    )
    np.testing.assert_array_equal(e.tiles, masks.tile_mask(e.mask, e.controls["tile"].value))
    assert e.stats["density"] == pytest.approx(e.mask.mean())
    assert e.stats["keys_max"] == left + right + 1
    assert e.notes == [] and "⚠" not in e.info.value
    assert (
        f"tile sparsity {masks.tile_sparsity(e.mask, e.controls['tile'].value):.0%}" in e.info.value
    )
    _png(e)


def test_controls_are_standard_keyboard_friendly_widgets():
    e = mask_explorer()
    assert isinstance(e.pattern, widgets.Dropdown)
    for control in e.controls.values():
        assert isinstance(control, (widgets.IntSlider, widgets.Checkbox))
    assert set(PATTERNS.values()) == set(VISIBLE)


def test_every_pattern_shows_only_its_sliders_and_changes_the_picture():
    e = mask_explorer(n=32)
    seen_masks, seen_images = [], set()
    for pattern in PATTERNS.values():
        e.pattern.value = pattern
        expected = ALWAYS | set(VISIBLE[pattern])
        if pattern == "combine":
            expected |= {
                c for part, extra in PART_CONTROLS.items() if e.controls[part].value for c in extra
            }
            if e.controls["causal"].value:
                expected.discard("right")  # the future side of the window is cut by & causal
        assert _shown(e) == expected, pattern
        assert pattern in {v for v in PATTERNS.values()} and e.about.value
        seen_masks.append(e.mask.copy())
        seen_images.add(_png(e))
        assert "could not draw" not in e.info.value
    assert len(seen_images) == len(PATTERNS)  # every pattern draws something different
    for a, b in itertools.combinations(seen_masks, 2):
        assert not np.array_equal(a, b)


@pytest.mark.parametrize(
    "pattern,values,rule",
    [
        ("causal", {"left": 5}, lambda i, j: (j <= i) & (i - j <= 5)),
        (
            "dilated",
            {"left": 2, "right": 1, "dilation": 3},
            lambda i, j: ((j - i) % 3 == 0) & (j - i >= -6) & (j - i <= 3),
        ),
        ("block", {"block": 6}, lambda i, j: i // 6 == j // 6),
        ("strided", {"stride": 5, "causal": True}, lambda i, j: (j <= i) & ((i - j) % 5 == 0)),
        ("strided", {"stride": 5, "causal": False}, lambda i, j: (i - j) % 5 == 0),
        (
            "fixed",
            {"stride": 6, "summary": 2},
            lambda i, j: (j <= i) & ((i // 6 == j // 6) | (j % 6 >= 4)),
        ),
        (
            "longformer",
            {"left": 3, "right": 3, "global_tokens": 2},
            lambda i, j: (np.abs(i - j) <= 3) | (i < 2) | (j < 2),
        ),
    ],
)
def test_pattern_masks_match_arange_oracles(pattern, values, rule):
    e = mask_explorer(pattern=pattern, n=40)
    _set(e, **values)
    np.testing.assert_array_equal(e.mask, arange_mask(40, 40, rule))


def test_bigbird_is_built_from_blocks():
    e = mask_explorer(pattern="bigbird", n=48)
    _set(e, block=8, global_tokens=1, random_blocks=2, seed=4)
    expected = (
        masks.block_local_mask(48, 8, 1, 1)
        | masks.global_mask(48, 1)
        | masks.block_random_mask(48, 8, 2, seed=4)
    )
    np.testing.assert_array_equal(e.mask, expected)
    # every 8 × 8 tile is all True or all False outside the global row and column
    inner = e.mask[1:, 1:][7:, 7:].reshape(5, 8, 5, 8)
    assert (inner.all(axis=(1, 3)) | ~inner.any(axis=(1, 3))).all()
    assert set(_shown(e)) >= {"block", "global_tokens", "random_blocks", "seed"}
    assert "num_random" not in _shown(e) and "left" not in _shown(e)
    before_mask, before_png = e.mask.copy(), _png(e)
    e.controls["seed"].value = 5  # another draw of the random blocks
    assert not np.array_equal(e.mask, before_mask) and _png(e) != before_png
    assert "6 block(s) of 8 tokens, 1 global token(s), 2 random block(s)" in e.info.value


def test_every_bigbird_slider_shows_its_effect_even_when_the_mask_is_dense():
    """At n = 32 in blocks of 16 the window of 3 blocks covers everything: the mask cannot change,
    so the summary line must (the browser test moves every slider and expects a visible change)."""
    e = mask_explorer(pattern="bigbird", n=32)
    for name in ("block", "global_tokens", "random_blocks", "seed"):
        info, mask = e.info.value, e.mask.copy()
        e.controls[name].value += 1
        assert e.info.value != info, name
        assert mask.all() and e.mask.all()


def test_bigbird_blocks_keep_tiles_empty_where_random_keys_do_not():
    """The lesson's point: at the same density, random blocks leave tiles empty, random keys
    do not (the explorer's 'combine' still offers per-token random keys for the contrast)."""
    e = mask_explorer(pattern="bigbird", n=128, tile=16)
    _set(e, block=16, global_tokens=2, random_blocks=1, seed=0)
    blocks = e.stats["tile_sparsity"]
    keys = masks.block_local_mask(128, 16, 1, 1) | masks.global_mask(128, 2)
    keys |= masks.random_mask(128, 16, seed=0)
    assert blocks > 0.3 and masks.tile_sparsity(keys, 16) < 0.1


def test_sliders_change_the_right_data():
    e = mask_explorer(pattern="causal", n=48, layers=1, tile=8)
    mask, png = e.mask.copy(), _png(e)
    e.controls["layers"].value = 4  # receptive field grows to 4 · left, the mask does not change
    np.testing.assert_array_equal(e.mask, mask)
    left = e.controls["left"].value
    np.testing.assert_array_equal(
        e.receptive, arange_mask(48, 48, lambda i, j: (j <= i) & (i - j <= 4 * left))
    )
    assert e.stats["reach_back"] == 4 * left
    assert _png(e) != png
    png, tiles = _png(e), e.tiles.copy()
    e.controls["tile"].value = 16  # tiles change, the token mask does not
    np.testing.assert_array_equal(e.mask, mask)
    assert e.tiles.shape == (3, 3) and tiles.shape == (6, 6)
    assert e.stats["tile_sparsity"] == pytest.approx(masks.tile_sparsity(mask, 16))
    assert e.stats["flops_saved"] == pytest.approx(masks.tile_savings(mask, 16))
    assert _png(e) != png
    e.controls["n"].value = 100
    assert e.mask.shape == e.receptive.shape == (100, 100)


def test_hidden_slider_changes_nothing():
    e = mask_explorer(pattern="local")
    mask, png = e.mask.copy(), _png(e)
    e.controls["dilation"].value = 5  # not used by the local window
    np.testing.assert_array_equal(e.mask, mask)
    assert _png(e) == png


@pytest.mark.parametrize(
    "pattern,values,note",
    [
        ("longformer", {"n": 8, "global_tokens": 12}, "global_tokens = 12 > n = 8"),
        ("bigbird", {"n": 8, "block": 16}, "block = 16 > n = 8"),
        ("bigbird", {"n": 16, "block": 4, "random_blocks": 6}, "random_blocks = 6 > the number"),
        ("fixed", {"stride": 4, "summary": 7}, "summary = 7 > stride = 4"),
        ("block", {"n": 10, "block": 40}, "block = 40 > n = 10"),
        ("strided", {"n": 9, "stride": 20}, "stride = 20 > n = 9"),
        ("local", {"n": 8, "tile": 30}, "tile = 30 > n = 8"),
        ("local", {"n": 10, "left": 30}, "clipped"),
    ],
)
def test_impossible_values_are_clamped_with_a_visible_note(pattern, values, note):
    e = mask_explorer(pattern=pattern)
    _set(e, **values)
    assert any(note in text for text in e.notes), e.notes
    assert "⚠" in e.info.value and note.replace(">", "&gt;") in e.info.value
    assert "could not draw" not in e.info.value
    n = e.controls["n"].value
    assert e.mask.shape == (n, n)
    if pattern == "longformer":
        assert e.mask.all()  # every token is global
    if pattern == "bigbird" and e.controls["block"].value >= n:
        assert e.mask.all()  # one block: the window of blocks covers everything


def test_combine_parts_and_causal_toggle():
    e = mask_explorer(pattern="combine", n=40)
    _set(e, left=3, right=0, stride=5, causal=True)
    np.testing.assert_array_equal(e.mask, masks.local_mask(40, 3, 0) | masks.strided_mask(40, 5))
    assert "stride" in _shown(e) and "global_tokens" not in _shown(e)
    e.controls["use_global"].value = True
    assert "global_tokens" in _shown(e)
    g = e.controls["global_tokens"].value
    expected = (
        masks.local_mask(40, 3, 0) | masks.strided_mask(40, 5) | masks.global_mask(40, g)
    ) & masks.causal_mask(40)
    np.testing.assert_array_equal(e.mask, expected)
    assert "right" not in _shown(e)  # causal: the window's right side would change nothing
    e.controls["causal"].value = False
    assert e.mask[0, -1]  # a global column is visible from the first query again
    assert "right" in _shown(e)
    for part in PART_CONTROLS:
        e.controls[part].value = False
    assert not e.mask.any() and "no part ticked" in e.info.value
    np.testing.assert_array_equal(e.receptive, np.eye(40, dtype=bool))  # residual only


def test_extreme_values_never_raise():
    """Every pattern × the extremes of every slider, through the pure functions the widget calls."""
    e = mask_explorer()
    sliders = {k: c for k, c in e.controls.items() if isinstance(c, widgets.IntSlider)}
    base = {name: c.value for name, c in e.controls.items()}
    for pattern in PATTERNS.values():
        names = [k for k in (*ALWAYS, *VISIBLE[pattern], "left", "right", "stride") if k in sliders]
        for name, n in itertools.product(sorted(set(names)), (8, 128)):
            for value in (sliders[name].min, sliders[name].max):
                params = base | {"n": n, name: value}
                mask, _ = pattern_mask(pattern, params)
                assert mask.shape == (params["n"], params["n"]) and mask.dtype == bool
                reach = masks.receptive_field(mask, params["layers"])
                masks.mask_stats(mask, reach, min(params["tile"], params["n"]))


def test_widget_at_extreme_sizes_draws_without_a_warning():
    e = mask_explorer(pattern="bigbird")
    for n, tile, layers, block in [(8, 2, 8, 2), (128, 64, 1, 64), (128, 2, 8, 1)]:
        _set(e, n=n, tile=tile, layers=layers, block=block)
        assert "could not draw" not in e.info.value and "⚠" not in e.info.value
        assert e.mask.shape == (n, n)
        _png(e)


def test_pattern_mask_rejects_unknown_pattern():
    e = mask_explorer()
    params = {name: c.value for name, c in e.controls.items()}
    with pytest.raises(ValueError, match="pattern"):
        pattern_mask("spiral", params)
