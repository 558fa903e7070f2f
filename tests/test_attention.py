"""tutor_lib.attention against independent oracles (dense torch reference, SDPA, torch's own layers).

Everything numeric is float64 with max-abs error <= 1e-10 (tests/oracles.py). Shapes, seeds and masks
come from hypothesis, including n = 1, n_q != n_k, d_k != d_v, leading batch/head dims, broadcast masks
and fully masked rows.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import (
    arange_mask,
    assert_close_f64,
    causal_lower_right_mask,
    dense_reference,
    sdpa_reference,
)

from tutor_lib.attention import (
    attention,
    causal_mask,
    merge_heads,
    multi_head_attention,
    random_attention_weights,
    row_stats,
    softmax,
    split_heads,
)

FAST = settings(max_examples=30, deadline=None)


# ----------------------------------------------------------------------------- strategies
@st.composite
def problems(draw, *, same_lead: bool = False, masks: bool = True):
    """Random (q, k, v, mask) with leading dims, n_q/n_k/d_k/d_v in 1..6 and a broadcastable mask.

    With ``same_lead=False`` k/v may carry size-1 leading dims that broadcast against q's.
    """
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    n_q, n_k, d_k, d_v = (draw(st.integers(1, 6)) for _ in range(4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kv_lead = lead if same_lead else tuple(draw(st.sampled_from([s, 1])) for s in lead)
    q = rng.standard_normal((*lead, n_q, d_k))
    k = rng.standard_normal((*kv_lead, n_k, d_k))
    v = rng.standard_normal((*kv_lead, n_k, d_v))
    mask = None
    if masks and draw(st.booleans()):
        shapes = [(n_q, n_k), (1, n_k), (n_q, 1), (*lead, n_q, n_k), (*(1 for _ in lead), n_q, n_k)]
        density = draw(st.sampled_from([0.0, 0.3, 0.7, 1.0]))
        mask = rng.random(draw(st.sampled_from(shapes))) < density
    return q, k, v, mask


def _broadcast_qkv(q, k, v):
    lead = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    return tuple(np.broadcast_to(a, (*lead, *a.shape[-2:])).copy() for a in (q, k, v))


def _weights_reference(q, k, mask=None, *, causal=False, scale=None):
    """Attention weights from the dense oracle: attending to V = I returns the weight matrix itself."""
    q, k, _ = _broadcast_qkv(q, k, k)
    eye = np.broadcast_to(np.eye(k.shape[-2]), (*k.shape[:-2], k.shape[-2], k.shape[-2])).copy()
    return dense_reference(q, k, eye, mask, causal=causal, scale=scale)


# ----------------------------------------------------------------------------- softmax
@FAST
@given(
    shape=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    seed=st.integers(0, 2**32 - 1),
    magnitude=st.sampled_from([1.0, 30.0, 1000.0]),
)
def test_softmax_rows_sum_to_one_and_shift_invariant(shape, seed, magnitude):
    rng = np.random.default_rng(seed)
    x = magnitude * rng.standard_normal(shape)
    p = softmax(x)
    assert (p >= 0).all()
    assert_close_f64(p.sum(axis=-1), np.ones(shape[:-1]))
    assert_close_f64(p, torch.softmax(torch.from_numpy(x), dim=-1).numpy())
    shift = 1e3 * rng.standard_normal((*shape[:-1], 1))  # one constant per row
    assert_close_f64(softmax(x + shift), p)


def test_softmax_axis_argument():
    x = np.random.default_rng(1).standard_normal((3, 4, 5))
    for axis in (0, 1, 2, -1):
        assert_close_f64(
            softmax(x, axis=axis), torch.softmax(torch.from_numpy(x), dim=axis).numpy()
        )


def test_softmax_huge_logits_closed_form():
    x = np.array([[1000.0, 999.0, 998.0], [-1000.0, -1001.0, -1003.0]])
    e = np.exp(np.array([[0.0, -1.0, -2.0], [0.0, -1.0, -3.0]]))
    with np.errstate(
        over="raise", invalid="raise", divide="raise"
    ):  # no overflow, no inf - inf anywhere inside
        p = softmax(x)
    assert_close_f64(p, e / e.sum(axis=-1, keepdims=True))


def test_naive_softmax_fails_on_huge_logits():
    """Negative control: the closed-form check above can fail; a softmax without max-subtraction does."""
    x = np.array([1000.0, 999.0, 998.0])
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(x) / np.exp(x).sum()
    assert np.isnan(naive).any()


def test_softmax_minus_inf_entries_and_all_masked_rows():
    x = np.array([[0.5, -np.inf, 1.5, -np.inf], [-np.inf] * 4])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        p = softmax(x)
    e = np.exp([0.5, 1.5])
    assert_close_f64(p[0], np.array([e[0], 0.0, e[1], 0.0]) / e.sum())
    assert np.array_equal(p[1], np.zeros(4))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_softmax_rejects_nan_and_plus_inf(bad):
    with pytest.raises(ValueError, match="x"):
        softmax(np.array([0.0, bad, 1.0]))


# ----------------------------------------------------------------------------- attention vs oracles
@FAST
@given(problem=problems(), causal=st.booleans(), scale=st.sampled_from([None, 0.05, 1.0, 3.0]))
def test_attention_matches_dense_reference(problem, causal, scale):
    q, k, v, mask = problem
    out = attention(q, k, v, mask, causal=causal, scale=scale)
    assert_close_f64(
        out, dense_reference(*_broadcast_qkv(q, k, v), mask, causal=causal, scale=scale)
    )


@FAST
@given(problem=problems(same_lead=True), causal=st.booleans(), scale=st.sampled_from([None, 0.5]))
def test_attention_matches_sdpa(problem, causal, scale):
    q, k, v, mask = problem
    n_q, n_k = q.shape[-2], k.shape[-2]
    sdpa_mask = mask
    if causal:  # torch's own bottom-right definition, densified
        lower_right = causal_lower_right_mask(n_q, n_k)
        sdpa_mask = lower_right if mask is None else mask & lower_right
    expected = sdpa_reference(q, k, v, sdpa_mask, scale=scale)
    assert_close_f64(attention(q, k, v, mask, causal=causal, scale=scale), expected)


@pytest.mark.parametrize(
    ("lead", "n_q", "n_k", "d_k", "d_v"),
    [
        ((), 1, 1, 1, 1),  # n = 1: the output is v itself
        ((), 1, 7, 4, 4),  # one decoding step
        ((), 5, 2, 3, 6),  # n_q > n_k, d_k < d_v
        ((), 3, 8, 6, 2),  # n_q < n_k, d_k > d_v
        ((2,), 4, 4, 5, 3),  # batch
        ((2, 3), 4, 6, 8, 8),  # batch and heads
    ],
)
def test_attention_edge_shapes(lead, n_q, n_k, d_k, d_v):
    rng = np.random.default_rng(n_q * 100 + n_k)
    q = rng.standard_normal((*lead, n_q, d_k))
    k = rng.standard_normal((*lead, n_k, d_k))
    v = rng.standard_normal((*lead, n_k, d_v))
    out = attention(q, k, v)
    assert out.shape == (*lead, n_q, d_v)
    assert_close_f64(out, dense_reference(q, k, v))
    assert_close_f64(out, sdpa_reference(q, k, v))
    if n_k == 1:  # one key gets weight 1 whatever the scores
        assert_close_f64(out, np.broadcast_to(v, out.shape))


def test_fully_masked_rows_give_zero_output_and_zero_weights():
    rng = np.random.default_rng(3)
    q, k, v = (
        rng.standard_normal((2, 5, 4)),
        rng.standard_normal((2, 6, 4)),
        rng.standard_normal((2, 6, 3)),
    )
    mask = rng.random((2, 5, 6)) < 0.5
    mask[0, 1] = False  # query 1 of batch 0 may attend to nothing
    mask[1, 4] = False
    mask[1, 0] = True
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out, weights = attention(q, k, v, mask, return_weights=True)
    assert not np.isnan(out).any() and not np.isnan(weights).any()
    assert np.array_equal(out[0, 1], np.zeros(3)) and np.array_equal(out[1, 4], np.zeros(3))
    assert np.array_equal(weights[0, 1], np.zeros(6)) and np.array_equal(weights[1, 4], np.zeros(6))
    assert_close_f64(out, dense_reference(q, k, v, mask))
    assert_close_f64(out, sdpa_reference(q, k, v, mask))


def test_everything_masked_gives_zeros():
    rng = np.random.default_rng(4)
    q, k, v = (rng.standard_normal((3, 2)) for _ in range(3))
    out, weights = attention(q, k, v, np.zeros((3, 3), dtype=bool), return_weights=True)
    assert np.array_equal(out, np.zeros((3, 2))) and np.array_equal(weights, np.zeros((3, 3)))


def test_huge_logits_do_not_overflow():
    rng = np.random.default_rng(5)
    q, k, v = rng.standard_normal((6, 8)), rng.standard_normal((9, 8)), rng.standard_normal((9, 3))
    mask = rng.random((6, 9)) < 0.6
    mask[:, 0] = True
    for m in (None, mask):
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            out, weights = attention(1000 * q, k, v, m, return_weights=True)
        assert np.isfinite(out).all()
        assert_close_f64(out, dense_reference(1000 * q, k, v, m))
        assert_close_f64(weights, _weights_reference(1000 * q, k, m))


def test_custom_scale_and_default_scale():
    rng = np.random.default_rng(6)
    q, k, v = (
        rng.standard_normal((4, 16)),
        rng.standard_normal((5, 16)),
        rng.standard_normal((5, 2)),
    )
    assert_close_f64(attention(q, k, v, scale=0.25), attention(q, k, v))  # 1/sqrt(16)
    assert_close_f64(attention(q, k, v, scale=2.0), dense_reference(q, k, v, scale=2.0))
    assert_close_f64(attention(q, k, v, scale=2.0), attention(2.0 * q, k, v, scale=1.0))
    assert np.abs(attention(q, k, v, scale=2.0) - attention(q, k, v)).max() > 1e-3  # scale matters


@FAST
@given(problem=problems(), causal=st.booleans())
def test_return_weights(problem, causal):
    q, k, v, mask = problem
    out, weights = attention(q, k, v, mask, causal=causal, return_weights=True)
    assert_close_f64(out, attention(q, k, v, mask, causal=causal))
    assert_close_f64(weights, _weights_reference(q, k, mask, causal=causal))
    assert_close_f64(out, weights @ v)
    sums = weights.sum(axis=-1)
    assert np.all((np.abs(sums - 1) <= 1e-12) | (sums == 0)), sums
    empty = sums == 0
    assert np.all(out[empty] == 0)


# ----------------------------------------------------------------------------- causal
@pytest.mark.parametrize(("n_q", "n_k"), [(1, 1), (1, 6), (2, 7), (4, 4), (6, 3), (5, 1)])
def test_causal_mask_is_bottom_right(n_q, n_k):
    expected = arange_mask(n_q, n_k, lambda i, j: j <= i + n_k - n_q)
    assert causal_mask(n_q, n_k).dtype == bool
    assert np.array_equal(causal_mask(n_q, n_k), expected)
    assert np.array_equal(causal_mask(n_q, n_k), causal_lower_right_mask(n_q, n_k))


def test_causal_mask_square_default():
    assert np.array_equal(causal_mask(5), np.tril(np.ones((5, 5), dtype=bool)))


@pytest.mark.parametrize(("n_q", "n_k"), [(1, 6), (3, 7), (5, 5), (7, 3), (4, 1)])
def test_causal_matches_sdpa_lower_right(n_q, n_k):
    rng = np.random.default_rng(n_q + 10 * n_k)
    q = rng.standard_normal((2, n_q, 4))
    k, v = rng.standard_normal((2, n_k, 4)), rng.standard_normal((2, n_k, 3))
    out = attention(q, k, v, causal=True)
    assert_close_f64(out, sdpa_reference(q, k, v, causal_lower_right_mask(n_q, n_k)))
    assert_close_f64(out, dense_reference(q, k, v, causal=True))


@pytest.mark.parametrize(("n_q", "n_k"), [(1, 6), (3, 7), (5, 5), (1, 1), (7, 3)])
def test_causal_vs_sdpa_is_causal_top_left(n_q, n_k):
    rng = np.random.default_rng(n_q + 10 * n_k + 1)
    q = rng.standard_normal((n_q, 4))
    k, v = rng.standard_normal((n_k, 4)), rng.standard_normal((n_k, 3))
    tq, tk, tv = (torch.from_numpy(a) for a in (q, k, v))
    top_left = F.scaled_dot_product_attention(tq, tk, tv, is_causal=True).numpy()
    ours = attention(q, k, v, causal=True)
    if n_q == n_k:
        assert_close_f64(ours, top_left)
    else:
        assert np.abs(ours - top_left).max() > 1e-3  # they really disagree


def test_causal_first_rows_empty_when_more_queries_than_keys():
    rng = np.random.default_rng(7)
    q, k, v = rng.standard_normal((6, 3)), rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    out, weights = attention(q, k, v, causal=True, return_weights=True)
    assert np.array_equal(out[:4], np.zeros((4, 4))) and np.array_equal(
        weights[:4], np.zeros((4, 2))
    )
    assert np.all(np.abs(out[4:]).sum(axis=-1) > 0)
    assert_close_f64(weights[4:].sum(axis=-1), np.ones(2))


def test_decode_step_equals_last_row_of_full_causal_attention():
    """KV-cache view: one new query (n_q = 1) sees every cached key, like the last row of the prefill."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 7, 4))
    v = rng.standard_normal((2, 7, 5))
    full = attention(x, x, v, causal=True)
    step = attention(x[:, -1:], x, v, causal=True)
    assert_close_f64(step, full[:, -1:])
    assert_close_f64(step, attention(x[:, -1:], x, v))  # n_q = 1 causal == unmasked


def test_causal_combines_with_mask_by_and():
    rng = np.random.default_rng(9)
    q, k, v = rng.standard_normal((4, 3)), rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    mask = rng.random((4, 6)) < 0.6
    assert_close_f64(
        attention(q, k, v, mask, causal=True), attention(q, k, v, mask & causal_mask(4, 6))
    )


# ----------------------------------------------------------------------------- dtype and inputs
def test_float32_input_keeps_float32():
    rng = np.random.default_rng(10)
    q, k, v = (rng.standard_normal((2, 5, 8)).astype(np.float32) for _ in range(3))
    out, weights = attention(q, k, v, causal=True, return_weights=True)
    assert out.dtype == np.float32 and weights.dtype == np.float32
    assert attention(q, k, v, scale=0.5).dtype == np.float32
    assert softmax(q).dtype == np.float32
    w = [rng.standard_normal((8, 8)).astype(np.float32) for _ in range(4)]
    assert multi_head_attention(q, *w, num_heads=2).dtype == np.float32
    # float32 result close to the float64 reference (a few float32 ulps, not exact)
    ref = dense_reference(
        q.astype(np.float64), k.astype(np.float64), v.astype(np.float64), causal=True
    )
    assert np.abs(out - ref).max() < 1e-5


def test_inputs_are_not_modified_and_torch_tensors_work():
    rng = np.random.default_rng(11)
    q, k, v = (rng.standard_normal((3, 4)) for _ in range(3))
    copies = [a.copy() for a in (q, k, v)]
    out = attention(q, k, v, causal=True)
    assert all(np.array_equal(a, c) for a, c in zip((q, k, v), copies, strict=True))
    from_torch = attention(*(torch.from_numpy(a) for a in (q, k, v)), causal=True)
    assert_close_f64(from_torch, out)


# ----------------------------------------------------------------------------- properties
@FAST
@given(problem=problems(), causal=st.booleans())
def test_output_in_convex_hull_of_allowed_values(problem, causal):
    q, k, v, mask = problem
    q, k, v = _broadcast_qkv(q, k, v)
    out, weights = attention(q, k, v, mask, causal=causal, return_weights=True)
    n_q, n_k = q.shape[-2], k.shape[-2]
    allowed = np.ones((*q.shape[:-2], n_q, n_k), dtype=bool)
    if mask is not None:
        allowed = allowed & mask
    if causal:
        allowed = allowed & causal_mask(n_q, n_k)
    vv = np.broadcast_to(v[..., None, :, :], (*allowed.shape, v.shape[-1]))  # (..., n_q, n_k, d_v)
    lo = np.where(allowed[..., None], vv, np.inf).min(axis=-2)
    hi = np.where(allowed[..., None], vv, -np.inf).max(axis=-2)
    has_key = allowed.any(axis=-1)
    assert np.all(out[has_key] >= lo[has_key] - 1e-12)
    assert np.all(out[has_key] <= hi[has_key] + 1e-12)
    assert np.all(out[~has_key] == 0)


@FAST
@given(problem=problems(same_lead=True), seed=st.integers(0, 1000))
def test_permuting_keys_and_values_together_changes_nothing(problem, seed):
    q, k, v, mask = problem
    perm = np.random.default_rng(seed).permutation(k.shape[-2])
    full = None if mask is None else np.broadcast_to(mask, (*q.shape[:-1], k.shape[-2]))
    permuted_mask = None if full is None else full[..., perm]
    out = attention(q, k[..., perm, :], v[..., perm, :], permuted_mask)
    assert_close_f64(out, attention(q, k, v, mask))


@FAST
@given(problem=problems(same_lead=True), seed=st.integers(0, 1000), causal=st.booleans())
def test_permuting_queries_permutes_outputs(problem, seed, causal):
    q, k, v, mask = problem
    n_q, n_k = q.shape[-2], k.shape[-2]
    perm = np.random.default_rng(seed).permutation(n_q)
    full = np.ones((*q.shape[:-2], n_q, n_k), dtype=bool) if mask is None else mask
    full = np.broadcast_to(full, (*q.shape[:-2], n_q, n_k))
    if causal:  # a causal query keeps its own row of the mask when it moves
        full = full & causal_mask(n_q, n_k)
    out = attention(q[..., perm, :], k, v, full[..., perm, :])
    assert_close_f64(out, attention(q, k, v, mask, causal=causal)[..., perm, :])


# ----------------------------------------------------------------------------- heads
@FAST
@given(
    lead=st.lists(st.integers(1, 3), max_size=2),
    n=st.integers(1, 5),
    num_heads=st.integers(1, 4),
    d_head=st.integers(1, 4),
    seed=st.integers(0, 1000),
)
def test_split_merge_heads_round_trip(lead, n, num_heads, d_head, seed):
    x = np.random.default_rng(seed).standard_normal((*lead, n, num_heads * d_head))
    heads = split_heads(x, num_heads)
    assert heads.shape == (*lead, num_heads, n, d_head)
    for h in range(num_heads):  # head h holds columns h*d_head ... (h+1)*d_head - 1
        assert np.array_equal(heads[..., h, :, :], x[..., h * d_head : (h + 1) * d_head])
    assert np.array_equal(merge_heads(heads), x)
    assert np.array_equal(split_heads(merge_heads(heads), num_heads), heads)


def _torch_mha(w_q, w_k, w_v, w_o, num_heads):
    d_model = w_q.shape[0]
    mha = torch.nn.MultiheadAttention(
        d_model, num_heads, bias=False, batch_first=True, dtype=torch.float64
    )
    with torch.no_grad():  # torch computes x @ W.T, we compute x @ w: load the transposes
        mha.in_proj_weight.copy_(torch.from_numpy(np.concatenate([w_q.T, w_k.T, w_v.T])))
        mha.out_proj.weight.copy_(torch.from_numpy(w_o.T))
    return mha


@FAST
@given(
    batch=st.sampled_from([(), (1,), (3,)]),
    n=st.integers(1, 6),
    num_heads=st.integers(1, 4),
    d_head=st.integers(1, 4),
    causal=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_multi_head_attention_matches_torch(batch, n, num_heads, d_head, causal, seed):
    rng = np.random.default_rng(seed)
    d_model = num_heads * d_head
    x = rng.standard_normal((*batch, n, d_model))
    weights = [rng.standard_normal((d_model, d_model)) / np.sqrt(d_model) for _ in range(4)]
    mha = _torch_mha(*weights, num_heads)
    # nn.MultiheadAttention's boolean attn_mask means True = NOT allowed: the opposite of ours
    blocked = None if not causal else torch.from_numpy(~causal_mask(n))
    xt = torch.from_numpy(x)
    with torch.no_grad():
        expected, _ = mha(xt, xt, xt, attn_mask=blocked, need_weights=False)
    out = multi_head_attention(x, *weights, num_heads, causal=causal)
    assert out.shape == x.shape
    assert_close_f64(out, expected.numpy())


def test_multi_head_attention_with_mask_matches_torch_and_single_head_limit():
    rng = np.random.default_rng(12)
    n, d_model, num_heads = 5, 6, 3
    x = rng.standard_normal((2, n, d_model))
    weights = [rng.standard_normal((d_model, d_model)) for _ in range(4)]
    mask = (rng.random((n, n)) < 0.5) | np.eye(n, dtype=bool)  # every query keeps one key
    with torch.no_grad():
        xt = torch.from_numpy(x)
        expected, _ = _torch_mha(*weights, num_heads)(
            xt, xt, xt, attn_mask=torch.from_numpy(~mask), need_weights=False
        )
    assert_close_f64(multi_head_attention(x, *weights, num_heads, mask=mask), expected.numpy())
    w_q, w_k, w_v, w_o = weights  # one head == plain attention on the projections
    single = dense_reference(x @ w_q, x @ w_k, x @ w_v, mask) @ w_o
    assert_close_f64(multi_head_attention(x, *weights, 1, mask=mask), single)


# ----------------------------------------------------------------------------- bad input
def _qkv(n_q=3, n_k=4, d_k=2, d_v=5):
    rng = np.random.default_rng(0)
    return (
        rng.standard_normal((n_q, d_k)),
        rng.standard_normal((n_k, d_k)),
        rng.standard_normal((n_k, d_v)),
    )


def test_bad_shapes_raise_value_error_naming_the_argument():
    q, k, v = _qkv()
    with pytest.raises(ValueError, match="d_k"):
        attention(q, np.ones((4, 3)), v)
    with pytest.raises(ValueError, match="n_k"):
        attention(q, k, np.ones((5, 5)))
    with pytest.raises(ValueError, match="q"):
        attention(np.ones(2), k, v)
    with pytest.raises(ValueError, match="mask"):
        attention(q, k, v, np.ones((3, 5), dtype=bool))
    with pytest.raises(ValueError, match="mask"):
        attention(q, k, v, np.ones((2, 3), dtype=bool))
    with pytest.raises(ValueError, match="leading"):
        attention(np.ones((2, 3, 2)), np.ones((3, 4, 2)), np.ones((3, 4, 5)))


@pytest.mark.parametrize("scale", [0.0, -1.0, np.inf, np.nan])
def test_non_positive_or_non_finite_scale(scale):
    with pytest.raises(ValueError, match="scale"):
        attention(*_qkv(), scale=scale)


def test_wrong_kinds_raise_type_error_naming_the_argument():
    q, k, v = _qkv()
    with pytest.raises(TypeError, match="mask"):
        attention(q, k, v, np.ones((3, 4)))  # a float (additive) mask
    with pytest.raises(TypeError, match="mask"):
        attention(q, k, v, np.ones((3, 4), dtype=int))
    with pytest.raises(TypeError, match="q"):
        attention("not an array", k, v)
    with pytest.raises(TypeError, match="v"):
        attention(q, k, None)
    with pytest.raises(TypeError, match="x"):
        softmax("abc")


def test_heads_bad_input():
    x = np.ones((4, 6))
    with pytest.raises(ValueError, match="num_heads"):
        split_heads(x, 4)
    with pytest.raises(ValueError, match="num_heads"):
        split_heads(x, 0)
    with pytest.raises(TypeError, match="num_heads"):
        split_heads(x, 2.0)
    with pytest.raises(ValueError, match="x"):
        merge_heads(x)  # needs (..., h, n, d_h)
    w = np.eye(6)
    with pytest.raises(ValueError, match="num_heads"):
        multi_head_attention(x, w, w, w, w, num_heads=4)


@pytest.mark.parametrize("which", ["w_q", "w_k", "w_v", "w_o"])
def test_multi_head_attention_wrong_weight_shape(which):
    x = np.ones((4, 6))
    weights = {name: np.eye(6) for name in ("w_q", "w_k", "w_v", "w_o")}
    weights[which] = np.eye(5)
    with pytest.raises(ValueError, match=which):
        multi_head_attention(x, **weights, num_heads=2)


def test_causal_mask_bad_sizes():
    with pytest.raises(ValueError, match="n_q"):
        causal_mask(0)
    with pytest.raises(ValueError, match="n_k"):
        causal_mask(2, 0)
    with pytest.raises(TypeError, match="n_q"):
        causal_mask(2.5)


# -- random_attention_weights and row_stats (what the attention explorer shows) ---------------


def test_scaling_statistics_over_seeds():
    """With 1/sqrt(d_k) the score std stays ~1 for every d_k; without it, it grows like sqrt(d_k)."""
    seeds = range(8)
    for d_k in (4, 64, 512):
        scaled = [random_attention_weights(16, d_k, seed=s)[0].std() for s in seeds]
        raw = [
            random_attention_weights(16, d_k, sqrt_scaling=False, seed=s)[0].std() for s in seeds
        ]
        assert 0.8 < np.mean(scaled) < 1.2, (d_k, np.mean(scaled))
        assert 0.8 < np.mean(raw) / np.sqrt(d_k) < 1.2, (d_k, np.mean(raw))

    def mean_max_weight(d_k, sqrt_scaling):
        return np.mean(
            [
                row_stats(random_attention_weights(16, d_k, sqrt_scaling=sqrt_scaling, seed=s)[1])[
                    "max_weight"
                ]
                for s in seeds
            ]
        )

    # scaled: the peakiness does not depend on d_k; unscaled: it climbs towards one-hot
    assert abs(mean_max_weight(4, True) - mean_max_weight(512, True)) < 0.15
    assert mean_max_weight(512, False) > mean_max_weight(4, False) + 0.3


def test_row_stats_closed_forms():
    uniform = np.full((4, 4), 0.25)
    stats = row_stats(uniform)
    assert stats["entropy_bits"] == pytest.approx(2.0)
    assert stats["max_entropy_bits"] == pytest.approx(2.0)
    assert stats["max_weight"] == pytest.approx(0.25)
    one_hot = np.eye(3)
    assert row_stats(one_hot)["entropy_bits"] == pytest.approx(0.0)
    assert row_stats(one_hot)["max_weight"] == pytest.approx(1.0)
    causal_uniform = np.tril(np.ones((4, 4))) / np.arange(1, 5)[:, None]  # row i: i+1 equal weights
    expected = np.mean(np.log2(np.arange(1, 5)))
    stats = row_stats(causal_uniform, np.tril(np.ones((4, 4), dtype=bool)))
    assert stats["entropy_bits"] == pytest.approx(expected)  # uniform over the allowed keys ...
    assert stats["max_entropy_bits"] == pytest.approx(expected)  # ... is the most possible
    assert row_stats(causal_uniform)["max_entropy_bits"] == pytest.approx(2.0)  # no mask: 4 keys
