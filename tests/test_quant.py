"""tutor_lib.quant against independent references: per-slice loops, exact Python-int matmuls, closed
forms, and the float matmul it approximates. Bounds are property tests over bits, schemes and axes."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from oracles import assert_close_f64, dense_reference

from tutor_lib.costs import MIB, MISTRAL_7B_LIKE, ModelShape, kv_cache_bytes
from tutor_lib.quant import (
    SCHEMES,
    activation_scales,
    compress_kv,
    compressed_causal_mask,
    dequantize,
    fake_quantize,
    int8_matmul,
    kv_cache_quant_bytes,
    llm_int8_matmul,
    outlier_activations,
    outlier_columns,
    quantize,
    quantize_kv,
    quantized_bytes,
    quantized_matmul,
    relative_error,
    weight_only_matvec,
)
from tutor_lib.quant.core import MAX_INNER

EPS = np.finfo(np.float64).eps


def _axis_choices(ndim: int) -> list:
    """None, every single axis (also negative), and every tuple of distinct axes."""
    axes = list(range(ndim))
    tuples = [c for r in range(1, ndim + 1) for c in itertools.combinations(axes, r)]
    return [None, *axes, *(a - ndim for a in axes), *tuples]


@st.composite
def data_and_axis(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    x = draw(
        hnp.arrays(
            np.float64,
            shape,
            elements=st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False),
        )
    )
    return x, draw(st.sampled_from(_axis_choices(len(shape))))


def _reduced_shape(shape, axis) -> tuple[int, ...]:
    kept = set() if axis is None else {a % len(shape) for a in np.atleast_1d(axis).tolist()}
    return tuple(s if i in kept else 1 for i, s in enumerate(shape))


# ---- quantize / dequantize ---------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(data_and_axis(), st.integers(2, 8), st.booleans())
def test_round_trip_error_is_at_most_half_a_step(data, bits, symmetric):
    x, axis = data
    q, scale, zero_point = quantize(x, bits, axis=axis, symmetric=symmetric)
    assert scale.shape == zero_point.shape == _reduced_shape(x.shape, axis)
    assert np.all(scale > 0)
    if symmetric:
        assert q.dtype == np.int8 and np.all(np.abs(q) <= 2 ** (bits - 1) - 1)
        assert np.all(zero_point == 0)
    else:
        assert q.dtype == np.uint8 and np.all(q <= 2**bits - 1)
    x_hat = dequantize(q, scale, zero_point)
    # |x - x̂| <= scale / 2, up to the float rounding of x / scale
    bound = scale / 2 * (1 + 1e-12) + 4 * EPS * np.abs(x)
    assert np.all(np.abs(x - x_hat) <= bound)


@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize(
    "shape,axis", [((6, 5), 0), ((6, 5), 1), ((6, 5), -1), ((3, 4, 5), (0, 2))]
)
def test_axis_keeps_its_own_scale_like_quantizing_each_slice_alone(shape, axis, symmetric):
    """axis = the axes whose entries keep their own scale: each slice quantized on its own
    (one scale for the slice) must give the same q, scale and zero point."""
    x = np.random.default_rng(1).standard_normal(shape) * np.arange(1, shape[-1] + 1)
    q, scale, zp = quantize(x, 5, axis=axis, symmetric=symmetric)
    kept = tuple(a % len(shape) for a in np.atleast_1d(axis).tolist())
    for index in itertools.product(*(range(shape[a]) for a in kept)):
        where = [slice(None)] * len(shape)
        for a, i in zip(kept, index, strict=True):
            where[a] = i
        where = tuple(where)
        q1, s1, z1 = quantize(x[where], 5, symmetric=symmetric)
        np.testing.assert_array_equal(q[where], q1)
        assert np.all(scale[tuple(0 if w == slice(None) else w for w in where)] == s1)
        assert np.all(zp[tuple(0 if w == slice(None) else w for w in where)] == z1)


def test_per_channel_of_a_tokens_by_channels_matrix_is_axis_1():
    x = np.array([[1.0, -20.0, 0.5], [-2.0, 10.0, 0.25]])  # (tokens, channels)
    _, scale, _ = quantize(x, 8, axis=1)
    np.testing.assert_allclose(scale, [[2 / 127, 20 / 127, 0.5 / 127]])
    _, scale, _ = quantize(x, 8, axis=0)
    np.testing.assert_allclose(scale, [[20 / 127], [10 / 127]])
    _, scale, _ = quantize(x, 8)
    np.testing.assert_allclose(scale, [[20 / 127]])


def test_hand_worked_values():
    q, scale, zp = quantize(np.array([-1.0, 0.0, 0.5, 1.0]), 8)
    np.testing.assert_array_equal(q, [-127, 0, 64, 127])  # 63.5 rounds half to even
    assert scale.item() == pytest.approx(1 / 127) and zp.item() == 0
    q, scale, zp = quantize(np.array([0.0, 1.0, 2.0, 3.0]), 2, symmetric=False)
    np.testing.assert_array_equal(q, [0, 1, 2, 3])
    assert (scale.item(), zp.item()) == (1.0, 0)
    q, scale, zp = quantize(np.array([-1.0, 2.0]), 2, symmetric=False)
    np.testing.assert_array_equal(q, [0, 3])
    assert (scale.item(), zp.item()) == (1.0, 1)
    q, scale, zp = quantize(np.array([10.0, 13.0]), 2, symmetric=False)  # the range need not hold 0
    np.testing.assert_allclose(dequantize(q, scale, zp), [10.0, 13.0], rtol=1e-14)


@pytest.mark.parametrize("symmetric", [True, False])
def test_zero_is_exact_and_constant_or_zero_slices_are_fine(symmetric):
    x = np.array([[0.0, 0.0, 0.0], [0.0, -3.3, 7.1], [5.0, 5.0, 5.0]])
    x_hat = fake_quantize(x, 3, axis=0, symmetric=symmetric)
    assert np.all(x_hat[x == 0] == 0)
    np.testing.assert_allclose(x_hat[2], 5.0)
    assert np.all(np.isfinite(x_hat))


def test_extreme_magnitudes_stay_finite_and_within_the_bound():
    x = np.array([[1e308, -1e308, 1.0], [1e-300, 2e-300, 0.0], [1e15, 1e15 + 1, 1e15 + 2]])
    for symmetric in (True, False):
        q, scale, zp = quantize(x, 8, axis=0, symmetric=symmetric)
        x_hat = dequantize(q, scale, zp)
        assert np.all(np.isfinite(x_hat))
        assert np.all(np.abs(x - x_hat) <= scale / 2 * (1 + 1e-12) + 4 * EPS * np.abs(x))


def test_error_roughly_halves_with_each_bit():
    x = np.random.default_rng(2).standard_normal(20_000)
    errors = [np.abs(fake_quantize(x, b) - x).mean() for b in range(2, 9)]
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all(ratios > 1.6) and np.all(ratios[1:] < 2.4), ratios


def test_float32_input_gives_float32_scale_and_float16_is_promoted():
    x = np.linspace(-1, 1, 7, dtype=np.float32)
    assert quantize(x)[1].dtype == np.float32
    assert fake_quantize(x).dtype == np.float32
    assert quantize(x.astype(np.float16))[1].dtype == np.float32


def test_asymmetric_beats_symmetric_on_one_sided_data():
    x = np.random.default_rng(3).uniform(0, 1, 1000)  # e.g. after a ReLU
    sym = relative_error(fake_quantize(x, 4), x)
    asym = relative_error(fake_quantize(x, 4, symmetric=False), x)
    assert asym < 0.6 * sym


def test_per_channel_beats_per_tensor_when_a_column_is_an_outlier():
    x = np.random.default_rng(4).standard_normal((64, 32))
    x[:, 5] *= 50
    normal = np.arange(32) != 5
    per_tensor = fake_quantize(x, 8)
    per_channel = fake_quantize(x, 8, axis=1)
    assert relative_error(per_channel, x) < relative_error(per_tensor, x)
    # the other columns suffer most: per tensor they sit on a grid 50x too coarse
    err_t = relative_error(per_tensor[:, normal], x[:, normal])
    err_c = relative_error(per_channel[:, normal], x[:, normal])
    assert err_c < err_t / 10


# ---- int8 matmul --------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(1, 40), st.integers(1, 6), st.integers(0, 10**6))
def test_int8_matmul_is_exact(m, k, p, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(-128, 128, (m, k), dtype=np.int8)
    b = rng.integers(-128, 128, (k, p), dtype=np.int8)
    a[0, 0] = b[0, 0] = -128  # the extreme product 2^14
    c = int8_matmul(a, b)
    assert c.dtype == np.int32
    exact = [
        [sum(int(a[i, t]) * int(b[t, j]) for t in range(k)) for j in range(p)] for i in range(m)
    ]
    np.testing.assert_array_equal(c, np.array(exact))


def test_int8_matmul_equals_the_float_matmul_of_the_dequantized_values():
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((8, 50)), rng.standard_normal((50, 6))
    (xq, sx, _), (wq, sw, _) = quantize(x, 8, axis=0), quantize(w, 8, axis=1)
    assert_close_f64(
        sx * sw * int8_matmul(xq, wq),
        fake_quantize(x, 8, axis=0) @ fake_quantize(w, 8, axis=1),
        1e-12,
    )


def test_negative_control_int8_products_in_int8_overflow():
    """Why the accumulator is int32: the same product kept in int8 wraps around."""
    a = np.full((1, 4), 100, dtype=np.int8)
    b = np.full((4, 1), 100, dtype=np.int8)
    assert int8_matmul(a, b)[0, 0] == 40_000
    assert (a @ b)[0, 0] != 40_000


def test_int8_matmul_refuses_what_could_overflow_int32():
    with pytest.raises(ValueError, match="a_q"):
        int8_matmul(np.zeros((1, MAX_INNER + 1), np.int8), np.zeros((MAX_INNER + 1, 1), np.int8))
    assert 127 * 127 * MAX_INNER < 2**31 and 128 * 128 * (MAX_INNER + 1) >= 2**31


# ---- outliers and LLM.int8 ----------------------------------------------------------------------


def _outlier_problem(magnitude=60.0, seed=0):
    x = outlier_activations(64, 256, magnitude, channels=2, seed=seed)
    w = np.random.default_rng(seed + 100).standard_normal((256, 96)) / 16
    return x, w, x @ w


def test_outlier_activations_put_the_outliers_in_whole_channels():
    x = outlier_activations(200, 32, 40.0, channels=3, seed=7)
    big = np.abs(x.mean(axis=0)) > 20
    assert big.sum() == 3 and np.all(np.abs(x[:, big]) > 30)
    np.testing.assert_array_equal(outlier_columns(x), np.flatnonzero(big))
    np.testing.assert_array_equal(x, outlier_activations(200, 32, 40.0, channels=3, seed=7))
    assert outlier_columns(outlier_activations(50, 8, 0.0, channels=2), threshold=50.0).size == 0


def test_outlier_columns_matches_a_loop():
    x = np.random.default_rng(8).standard_normal((10, 12)) * 3
    expected = [j for j in range(12) if any(abs(x[i, j]) >= 6.0 for i in range(10))]
    np.testing.assert_array_equal(outlier_columns(x), expected)


def test_llm_int8_beats_plain_int8_with_outliers():
    x, w, y = _outlier_problem(60.0)
    llm = relative_error(llm_int8_matmul(x, w), y)
    vector = relative_error(quantized_matmul(x, w, scheme="token"), y)
    tensor = relative_error(quantized_matmul(x, w, scheme="tensor"), y)
    assert llm < vector / 5 and vector < tensor
    assert llm < 0.01 < vector


def test_llm_int8_limits():
    x, w, y = _outlier_problem(60.0)
    # no outliers (threshold inf): plain vector-wise int8, bit for bit
    np.testing.assert_array_equal(
        llm_int8_matmul(x, w, threshold=math.inf), quantized_matmul(x, w, scheme="token")
    )
    # every column an outlier: the float matmul itself
    assert_close_f64(llm_int8_matmul(x, w, threshold=1e-9), y, 1e-12)


def test_llm_int8_outlier_part_is_exact_and_the_rest_is_vector_wise():
    x, w, y = _outlier_problem(60.0, seed=3)
    cols = outlier_columns(x)
    rest = np.setdiff1d(np.arange(x.shape[1]), cols)
    expected = x[:, cols] @ w[cols] + quantized_matmul(x[:, rest], w[rest], scheme="token")
    assert_close_f64(llm_int8_matmul(x, w), expected, 1e-12)


def test_quantized_matmul_schemes_against_fake_quantization():
    rng = np.random.default_rng(9)
    x, w = rng.standard_normal((12, 40)), rng.standard_normal((40, 7))
    expected = {
        "tensor": fake_quantize(x, 6) @ fake_quantize(w, 6),
        "token": fake_quantize(x, 6, axis=0) @ fake_quantize(w, 6, axis=1),
        "channel": fake_quantize(x, 6, axis=1) @ fake_quantize(w, 6, axis=1),
        "llm.int8": fake_quantize(x, 6, axis=0) @ fake_quantize(w, 6, axis=1),  # no |x| >= 6
    }
    assert set(expected) == set(SCHEMES)
    for scheme, want in expected.items():
        assert_close_f64(quantized_matmul(x, w, 6, scheme=scheme), want, 1e-12)


def test_error_ordering_across_outlier_magnitudes():
    for magnitude in (20.0, 60.0, 100.0):
        x, w, y = _outlier_problem(magnitude, seed=1)
        err = {s: relative_error(quantized_matmul(x, w, scheme=s), y) for s in SCHEMES}
        assert err["llm.int8"] < err["token"] < err["tensor"]
        assert err["channel"] < err["token"]


# ---- KV cache -----------------------------------------------------------------------------------


def _keys_with_outlier_channels(seed=0, n=256, d=64):
    rng = np.random.default_rng(seed)
    k = rng.standard_normal((2, n, d))  # (heads, tokens, channels)
    k[..., [3, 17, 40]] += np.array([15.0, -12.0, 20.0])  # channels large for every token
    return k, rng.standard_normal((2, n, d + 8))


def test_quantize_kv_is_keys_per_channel_and_values_per_token():
    k, v = _keys_with_outlier_channels()
    (kq, ks, kz), (vq, vs, vz) = quantize_kv(k, v, 3)
    assert ks.shape == (2, 1, 64) and vs.shape == (2, 256, 1)
    for got, want in zip((kq, ks, kz), quantize(k, 3, axis=(0, 2), symmetric=False), strict=True):
        np.testing.assert_array_equal(got, want)
    for got, want in zip((vq, vs, vz), quantize(v, 3, axis=(0, 1), symmetric=False), strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("bits", [2, 3, 4, 8])
def test_per_channel_keys_beat_per_token_keys_with_outlier_channels(bits):
    k, v = _keys_with_outlier_channels(seed=bits)
    (k_parts, _) = quantize_kv(k, v, bits)
    per_channel = dequantize(*k_parts)
    per_token = fake_quantize(k, bits, axis=(0, 1), symmetric=False)
    q = np.random.default_rng(0).standard_normal((2, 8, 64))
    scores = q @ k.swapaxes(-1, -2)
    assert relative_error(per_channel, k) < relative_error(per_token, k)
    assert relative_error(q @ per_channel.swapaxes(-1, -2), scores) < relative_error(
        q @ per_token.swapaxes(-1, -2), scores
    )


def test_kv_cache_quant_bytes_payload_and_a_counted_number_of_scales():
    tiny = ModelShape(n_layers=2, d_model=16, n_heads=4, d_ff=8, vocab_size=10, n_kv_heads=2)
    tokens, group = 10, 3
    got = kv_cache_quant_bytes(tiny, tokens, 4, group=group, scale_bytes=2)
    assert got["payload"] == kv_cache_bytes(tiny, tokens, 0.5)
    pairs = 0
    for _layer, _head in itertools.product(range(2), range(2)):
        pairs += len(range(0, tokens, group)) * 4  # keys: per channel (d_h = 4), token groups
        pairs += tokens * len(range(0, 4, group))  # values: per token, channel groups
    assert got["scales"] == pairs * 2 * 2 and got["total"] == got["payload"] + got["scales"]


def test_mistral_kv_cache_at_32k_tokens():
    fp16 = kv_cache_bytes(MISTRAL_7B_LIKE, 32_768)
    assert fp16 == 4096 * MIB
    two_bit = kv_cache_quant_bytes(MISTRAL_7B_LIKE, 32_768, 2, group=128)
    assert two_bit["payload"] == fp16 // 8
    assert 6 < fp16 / two_bit["total"] < 8  # scales cost something


# ---- memory-compressed attention ----------------------------------------------------------------


def test_compress_kv_is_a_strided_mean():
    rng = np.random.default_rng(10)
    k, v = rng.standard_normal((3, 11, 4)), rng.standard_normal((3, 11, 6))
    for stride in (1, 2, 3, 4, 11, 20):
        kc, vc = compress_kv(k, v, stride)
        slots = math.ceil(11 / stride)
        assert kc.shape == (3, slots, 4) and vc.shape == (3, slots, 6)
        for j in range(slots):
            np.testing.assert_allclose(kc[:, j], k[:, j * stride : (j + 1) * stride].mean(axis=1))
            np.testing.assert_allclose(vc[:, j], v[:, j * stride : (j + 1) * stride].mean(axis=1))
    np.testing.assert_array_equal(compress_kv(k, v, 1)[0], k)


def test_compressed_attention_at_the_limit_is_full_attention():
    rng = np.random.default_rng(11)
    q, k, v = (rng.standard_normal((9, 5)) for _ in range(3))
    kc, vc = compress_kv(k, v, 1)
    assert_close_f64(dense_reference(q, kc, vc), dense_reference(q, k, v))
    assert_close_f64(
        dense_reference(q, kc, vc, compressed_causal_mask(9, 1)),
        dense_reference(q, k, v, causal=True),
    )
    kc, vc = compress_kv(k, v, 3)
    assert np.abs(dense_reference(q, kc, vc) - dense_reference(q, k, v)).max() > 1e-3  # it changes


@pytest.mark.parametrize("n,stride", [(1, 1), (7, 3), (9, 3), (10, 4), (5, 8)])
def test_compressed_causal_mask_matches_a_loop(n, stride):
    mask = compressed_causal_mask(n, stride)
    slots = math.ceil(n / stride)
    expected = [
        [all(t <= i for t in range(j * stride, min((j + 1) * stride, n))) for j in range(slots)]
        for i in range(n)
    ]
    np.testing.assert_array_equal(mask, np.array(expected))
    np.testing.assert_array_equal(compressed_causal_mask(n, 1), np.tril(np.ones((n, n), bool)))


# ---- weight-only decoding -----------------------------------------------------------------------


@pytest.mark.parametrize("block_rows", [1, 7, 256, 1000])
@pytest.mark.parametrize("x_shape", [(40,), (3, 40)])
def test_weight_only_matvec_equals_the_dequantized_product(block_rows, x_shape):
    g = torch.Generator().manual_seed(0)
    w = torch.randn(33, 40, dtype=torch.float64, generator=g)
    scale = w.abs().amax(dim=1) / 127
    w_q = torch.round(w / scale[:, None]).to(torch.int8)
    x = torch.randn(*x_shape, dtype=torch.float64, generator=g)
    y = weight_only_matvec(w_q, scale, x, block_rows=block_rows)
    expected = x @ (scale[:, None] * w_q.double()).T
    assert y.shape == expected.shape and y.dtype == torch.float64
    assert_close_f64(y.numpy(), expected.numpy(), 1e-12)
    y32 = weight_only_matvec(w_q, scale.float(), x.float(), block_rows=block_rows)
    assert y32.dtype == torch.float32
    np.testing.assert_allclose(y32.numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)


def test_relative_error_closed_form():
    assert relative_error(np.array([3.0, 4.0]), np.array([0.0, 4.0])) == pytest.approx(0.75)
    assert relative_error(np.ones((2, 2)), np.ones((2, 2))) == 0.0


# ---- what the explorer draws --------------------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
def test_activation_scales_are_the_steps_of_each_scheme(scheme):
    x = outlier_activations(12, 10, 30.0, channels=2, seed=4)
    scales = activation_scales(x, 5, scheme=scheme)
    assert scales.shape == x.shape
    kept = scales == 0  # LLM.int8 keeps these in float
    if scheme == "llm.int8":
        np.testing.assert_array_equal(np.flatnonzero(kept.all(axis=0)), outlier_columns(x))
    else:
        assert not kept.any()
    constant_along = {"tensor": (0, 1), "token": (1,), "channel": (0,), "llm.int8": ()}[scheme]
    for axis in constant_along:
        assert np.all(scales == np.take(scales, [0], axis=axis))
    # each entry's round-trip error in the scheme's quantized matmul is within its half step
    x_hat = {
        "tensor": fake_quantize(x, 5),
        "token": fake_quantize(x, 5, axis=0),
        "channel": fake_quantize(x, 5, axis=1),
    }.get(scheme)
    if x_hat is not None:
        assert np.all(np.abs(x - x_hat) <= scales / 2 * (1 + 1e-12))


def test_quantized_bytes_by_hand():
    assert quantized_bytes(64, 64, 8, scheme="tensor") == {
        "values": 4096,
        "scales": 2,
        "outliers": 0,
        "total": 4098,
    }
    assert quantized_bytes(64, 64, 4, scheme="channel")["total"] == 2048 + 128
    got = quantized_bytes(64, 64, 8, scheme="llm.int8", outliers=2)
    assert got == {"values": 64 * 62, "scales": 128, "outliers": 64 * 2 * 2, "total": 4352}
    assert quantized_bytes(3, 3, 3, scheme="token")["values"] == 4  # 27 bits round up to 4 bytes


@pytest.mark.parametrize("group", [1, 3, 4, 7, 100])
def test_quantize_kv_groups_are_independent_runs(group):
    """Each run of `group` tokens (keys) or channels (values) is quantized on its own."""
    rng = np.random.default_rng(12)
    k, v = rng.standard_normal((2, 10, 5)), rng.standard_normal((2, 10, 9))
    (kq, ks, kz), (vq, vs, vz) = quantize_kv(k, v, 3, group=group)
    k_hat, v_hat = dequantize(kq, ks, kz), dequantize(vq, vs, vz)
    for start in range(0, 10, group):
        run = slice(start, start + group)
        np.testing.assert_allclose(
            k_hat[:, run], fake_quantize(k[:, run], 3, axis=(0, 2), symmetric=False), rtol=1e-12
        )
    for start in range(0, 9, group):
        run = slice(start, start + group)
        np.testing.assert_allclose(
            v_hat[..., run], fake_quantize(v[..., run], 3, axis=(0, 1), symmetric=False), rtol=1e-12
        )
    assert np.all(np.abs(k - k_hat) <= np.broadcast_to(ks, k.shape) / 2 * (1 + 1e-12))
    if group >= 10:  # one run over the whole axis: the ungrouped scheme
        for got, want in zip(quantize_kv(k, v, 3)[0], (kq, ks, kz), strict=True):
            np.testing.assert_array_equal(
                np.broadcast_to(got, k.shape), np.broadcast_to(want, k.shape)
            )
    if group == 1:  # every number its own run: exact
        assert_close_f64(k_hat, k, 1e-12)


def test_smaller_key_groups_follow_drifting_channels_better():
    k, v = _keys_with_outlier_channels(seed=5)
    k = k + np.linspace(0, 10, k.shape[1])[None, :, None]  # channels drift along the sequence
    errors = [
        relative_error(dequantize(*quantize_kv(k, v, 2, group=g)[0]), k) for g in (256, 64, 16)
    ]
    assert errors[0] > errors[1] > errors[2]
