"""tutor_lib.tiled: online softmax, chunked attention and FlashAttention-style tiles are EXACT.

Every result is compared with an independent dense reference (tests/oracles.py: torch softmax on the
full score matrix, SDPA, torch autograd), in float64 to ≤ 1e-10, on random shapes including n = 1,
lengths that are not multiples of the blocks, n_q ≠ n_k, d_k ≠ d_v, causal masks with fully masked
rows and huge logits. The naive per-block softmax is the negative control: the same tests reject it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracles import (
    arange_mask,
    assert_close_f64,
    causal_lower_right_mask,
    dense_masked_torch,
    dense_reference,
    numpy_qkv,
    sdpa_reference,
)
from torch.nn.attention import SDPBackend, sdpa_kernel

import tutor_lib.tiled.flash as flash_module
from tutor_lib import masks
from tutor_lib.costs import MIB
from tutor_lib.measure import count_flops, peak_bytes, saved_bytes
from tutor_lib.tiled import (
    block_state,
    chunked_attention,
    finalize,
    flash_attention,
    flash_attention_backward,
    initial_state,
    merge_partials,
    naive_blockwise_attention,
    online_softmax_states,
    online_softmax_update,
    tiles_visited,
)

SETTINGS = settings(max_examples=30, deadline=None)
# the slab fixture only sets a module constant, the same for every example
WAVE_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
shapes = st.fixed_dictionaries(
    {
        "lead": st.sampled_from([(), (2,), (2, 3)]),
        "n_q": st.integers(1, 40),
        "n_k": st.integers(1, 40),
        "d_k": st.integers(1, 6),
        "d_v": st.integers(1, 6),
        "block_q": st.integers(1, 17),
        "block_k": st.integers(1, 17),
        "causal": st.booleans(),
        "seed": st.integers(0, 999),
    }
)


def _tensors(arrays, grad=False):
    return [torch.tensor(a, requires_grad=grad) for a in arrays]


def _causal(n_q, n_k):
    """Bottom-right causal mask from an index rule (query i sits at position i + n_k - n_q)."""
    return arange_mask(n_q, n_k, lambda i, j: j <= i + n_k - n_q)


def test_the_causal_oracle_is_torchs_causal_lower_right():
    for n_q, n_k in ((3, 7), (7, 3), (5, 5)):
        np.testing.assert_array_equal(_causal(n_q, n_k), causal_lower_right_mask(n_q, n_k))


# ---- online softmax ------------------------------------------------------------------------------


@SETTINGS
@given(n_k=st.integers(1, 50), block=st.integers(1, 60), seed=st.integers(0, 999))
def test_last_online_state_is_the_full_rows_max_and_normalizer(n_k, block, seed):
    rng = np.random.default_rng(seed)
    scores, values = rng.standard_normal((3, n_k)) * 5, rng.standard_normal((n_k, 4))
    steps = list(online_softmax_states(scores, block, values))
    assert len(steps) == math.ceil(n_k / block)
    assert steps[-1]["block"] == ((len(steps) - 1) * block, n_k)
    s = torch.tensor(scores)
    np.testing.assert_allclose(steps[-1]["max"], s.amax(-1).numpy(), rtol=0, atol=0)
    full = torch.exp(s - s.amax(-1, keepdim=True)).sum(-1).numpy()
    np.testing.assert_allclose(steps[-1]["normalizer"], full, rtol=1e-13)
    assert_close_f64(steps[-1]["output"], (torch.softmax(s, -1) @ torch.tensor(values)).numpy())
    for before, after in zip(steps, steps[1:], strict=False):  # the chain is consistent
        np.testing.assert_array_equal(after["max_before"], before["max"])
        assert np.all(after["max"] >= after["max_before"]) and np.all(after["rescale"] <= 1)


def test_rescale_factor_is_exp_of_the_max_increase():
    steps = list(online_softmax_states(np.array([0.0, 1.0, 5.0, 2.0]), 2))
    assert steps[0]["max"] == 1.0 and steps[0]["rescale"] == 0.0  # nothing to rescale yet
    assert steps[1]["max"] == 5.0 and steps[1]["rescale"] == pytest.approx(math.exp(1.0 - 5.0))
    # ℓ₂ = ℓ₁ e^{1−5} + e^{5−5} + e^{2−5}
    expected = (math.exp(-1) + 1) * math.exp(-4) + 1 + math.exp(-3)
    assert steps[1]["normalizer"] == pytest.approx(expected, rel=1e-14)


@SETTINGS
@given(n_k=st.integers(2, 30), cut=st.integers(1, 29), seed=st.integers(0, 999))
def test_merge_partials_is_exact_and_order_free_in_numpy_and_torch(n_k, cut, seed):
    cut = min(cut, n_k - 1)
    rng = np.random.default_rng(seed)
    s, v = rng.standard_normal((4, n_k)) * 10, rng.standard_normal((n_k, 3))
    s[1, :cut] = -np.inf  # a row whose first part is fully masked
    for xp_s, xp_v in ((s, v), (torch.tensor(s), torch.tensor(v))):
        a, b = block_state(xp_s[:, :cut], xp_v[:cut]), block_state(xp_s[:, cut:], xp_v[cut:])
        out_ab, lse_ab = finalize(merge_partials(a, b))
        out_ba, lse_ba = finalize(merge_partials(b, a))
        out_all, lse_all = finalize(block_state(xp_s, xp_v))
        for got in (out_ab, out_ba):
            assert_close_f64(np.asarray(got), np.asarray(out_all))
        assert_close_f64(np.asarray(lse_ab), np.asarray(lse_ba))
        ref = torch.logsumexp(torch.tensor(s), -1).numpy()
        assert_close_f64(np.asarray(lse_ab), ref)


def test_states_that_saw_nothing_give_zero_output_and_minus_inf_logsumexp():
    s = np.full((2, 3), -np.inf)
    state = online_softmax_update(initial_state(np.zeros(2), 4), s, np.ones((3, 4)))
    out, lse = finalize(state)
    assert np.all(out == 0) and np.all(np.isneginf(lse)) and not np.isnan(out).any()
    t_out, t_lse = finalize(
        merge_partials(
            initial_state(torch.zeros(2), 4),
            block_state(torch.tensor(s), torch.ones(3, 4, dtype=torch.float64)),
        )
    )
    assert torch.all(t_out == 0) and torch.all(torch.isneginf(t_lse))


def test_merge_rejects_a_state_with_and_one_without_values():
    with pytest.raises(ValueError, match="acc"):
        merge_partials(
            block_state(np.zeros((1, 2))), block_state(np.zeros((1, 2)), np.ones((2, 3)))
        )
    with pytest.raises(TypeError, match="state"):
        merge_partials({"max": 0}, block_state(np.zeros((1, 2))))


# ---- chunked_attention (numpy) -------------------------------------------------------------------


@SETTINGS
@given(shapes)
def test_chunked_attention_equals_dense(p):
    q, k, v = numpy_qkv(p["lead"], p["n_q"], p["n_k"], p["d_k"], p["d_v"], p["seed"])
    out = chunked_attention(
        q, k, v, query_chunk=p["block_q"], key_chunk=p["block_k"], causal=p["causal"]
    )
    assert_close_f64(out, dense_reference(q, k, v, causal=p["causal"]))


def test_chunked_attention_equals_sdpa_and_its_limit_is_dense_attention():
    q, k, v = numpy_qkv((2,), 33, 45, 8, 5, seed=3)
    assert_close_f64(
        chunked_attention(q, k, v, query_chunk=7, key_chunk=10), sdpa_reference(q, k, v)
    )
    whole = chunked_attention(q, k, v, query_chunk=33, key_chunk=45)  # one tile
    assert_close_f64(whole, dense_reference(q, k, v))
    mask = _causal(33, 45)
    got = chunked_attention(q, k, v, query_chunk=4, key_chunk=9, causal=True)
    assert_close_f64(got, sdpa_reference(q, k, v, mask))


def test_chunked_attention_broadcasts_leading_dims_and_keeps_float32():
    rng = np.random.default_rng(0)
    q = rng.standard_normal((3, 1, 6, 4)).astype(np.float32)
    k = rng.standard_normal((1, 2, 9, 4)).astype(np.float32)
    v = rng.standard_normal((1, 1, 9, 2)).astype(np.float32)
    out = chunked_attention(q, k, v, query_chunk=4, key_chunk=4)
    assert out.shape == (3, 2, 6, 2) and out.dtype == np.float32
    np.testing.assert_allclose(out, dense_reference(q, k, v), atol=1e-6)


def test_huge_logits_stay_finite_and_exact():
    q, k, v = numpy_qkv((2,), 50, 50, 16, 8, seed=7, scale=1.0)
    q, k = q * 40, k * 40  # scores of a few thousand: a plain exp overflows
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(q @ np.swapaxes(k, -1, -2) / 4)
    assert not np.isfinite(naive).all()
    ref = dense_reference(q, k, v, causal=True)
    assert_close_f64(chunked_attention(q, k, v, query_chunk=8, key_chunk=16, causal=True), ref)
    out, lse = flash_attention(*_tensors((q, k, v)), block_q=8, block_k=16, causal=True)
    assert_close_f64(out.numpy(), ref)
    assert torch.isfinite(lse).all()


def test_chunked_attention_peak_memory_is_tiles_plus_output():
    """tracemalloc bytes are deterministic: peak = output + a constant set by the chunks alone."""
    d, chunk = 64, 256
    rng = np.random.default_rng(0)
    overhead = {}
    for n in (1024, 4096):
        q, k, v = (rng.standard_normal((n, d)) for _ in range(3))
        # the first call of a shape allocates a few one-off Python objects: measure the second
        peak_bytes(chunked_attention, q, k, v, query_chunk=chunk, key_chunk=chunk)
        peak = peak_bytes(chunked_attention, q, k, v, query_chunk=chunk, key_chunk=chunk)
        overhead[n] = peak - n * d * 8  # minus the float64 output
    assert len(set(overhead.values())) == 1, overhead  # grows exactly like the output: linear
    assert overhead[4096] <= 4 * chunk * chunk * 8  # at most 4 score tiles
    total = overhead[4096] + 4096 * d * 8
    assert total <= 5.1 * MIB
    assert total <= 0.04 * 4096 * 4096 * 8  # ≤ 4 % of one n×n float64 score matrix


# ---- the negative control ------------------------------------------------------------------------


def test_naive_per_block_softmax_is_wrong_and_the_tests_notice():
    q, k, v = numpy_qkv((), 16, 64, 8, 8, seed=0, scale=1.5)
    ref = dense_reference(q, k, v)
    naive = naive_blockwise_attention(q, k, v, key_chunk=16)
    err = float(np.abs(naive - ref).max())
    assert err > 0.05, err  # far from the 1e-10 the exact methods meet
    with pytest.raises(AssertionError, match="max abs error"):
        assert_close_f64(naive, ref)
    assert_close_f64(naive_blockwise_attention(q, k, v, key_chunk=64), ref)  # one block: exact


# ---- flash_attention (torch) ---------------------------------------------------------------------


@pytest.fixture(params=[flash_module.SLAB_BYTES, 64], ids=["one wave", "many waves"])
def slab(request, monkeypatch):
    """Run the flash tests with the real slab and with a tiny one (many waves of query blocks)."""
    monkeypatch.setattr(flash_module, "SLAB_BYTES", request.param)
    return request.param


@WAVE_SETTINGS
@given(p=shapes)
def test_flash_attention_equals_dense_and_its_logsumexp_is_torchs(slab, p):
    arrays = numpy_qkv(p["lead"], p["n_q"], p["n_k"], p["d_k"], p["d_v"], p["seed"])
    out, lse = flash_attention(
        *_tensors(arrays), block_q=p["block_q"], block_k=p["block_k"], causal=p["causal"]
    )
    assert_close_f64(out.numpy(), dense_reference(*arrays, causal=p["causal"]))
    q, k, _ = _tensors(arrays)
    scores = q @ k.transpose(-1, -2) / math.sqrt(p["d_k"])
    if p["causal"]:
        scores = scores.masked_fill(~torch.from_numpy(_causal(p["n_q"], p["n_k"])), -math.inf)
    ref = torch.logsumexp(scores, -1)
    assert torch.equal(torch.isneginf(lse), torch.isneginf(ref))  # rows with no key: -inf
    assert_close_f64(lse.nan_to_num(neginf=0).numpy(), ref.nan_to_num(neginf=0).numpy())


@pytest.mark.parametrize("backend", [SDPBackend.MATH, SDPBackend.FLASH_ATTENTION])
def test_flash_attention_equals_both_sdpa_backends_in_float64(backend):
    arrays = numpy_qkv((2, 3), 70, 50, 16, 16, seed=1)  # SDPA's CPU flash kernel needs d_k == d_v
    q, k, v = _tensors(arrays)
    mask = torch.from_numpy(_causal(70, 50))  # bottom-right causal as an explicit boolean mask
    with sdpa_kernel(backend):
        ref = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    out, _ = flash_attention(q, k, v, block_q=16, block_k=32, causal=True)
    rows = mask.any(-1)  # SDPA gives NaN or 0 for queries with no key depending on the backend
    assert_close_f64(out[..., rows, :].numpy(), ref[..., rows, :].numpy())


def test_flash_attention_equals_sdpa_in_float64_and_float32():
    arrays = numpy_qkv((2, 3), 70, 70, 16, 8, seed=1)
    out, _ = flash_attention(*_tensors(arrays), block_q=16, block_k=32, causal=True)
    assert_close_f64(out.numpy(), sdpa_reference(*arrays, masks.causal_mask(70)))
    q, k, v = (torch.tensor(a, dtype=torch.float32) for a in arrays)
    out32, _ = flash_attention(q, k, v, block_q=16, block_k=32)
    sdpa32 = torch.nn.functional.scaled_dot_product_attention(q, k, v)
    ref = torch.tensor(sdpa_reference(*arrays))
    # float32: within 2× the error of PyTorch's own float32 kernel (FlashAttention's test criterion)
    assert (out32.double() - ref).abs().max() <= 2 * (sdpa32.double() - ref).abs().max() + 1e-7
    assert out32.dtype == torch.float32


def test_worker_threads_agree_with_one_thread_and_restore_the_thread_count():
    arrays = numpy_qkv((3, 2), 40, 33, 8, 8, seed=9)  # 6 (batch, head) rows: split over the workers
    threads = torch.get_num_threads()
    out, lse = flash_attention(*_tensors(arrays), block_q=8, block_k=8, causal=True)
    assert torch.get_num_threads() == threads
    torch.set_num_threads(1)
    try:
        out_1, lse_1 = flash_attention(*_tensors(arrays), block_q=8, block_k=8, causal=True)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(out, out_1) and torch.equal(lse, lse_1)  # same ops on the same rows


def test_flash_attention_limits_and_half_precision():
    arrays = numpy_qkv((), 20, 20, 4, 4, seed=2)
    ref = dense_reference(*arrays)
    assert_close_f64(flash_attention(*_tensors(arrays), block_q=20, block_k=20)[0].numpy(), ref)
    assert_close_f64(flash_attention(*_tensors(arrays), block_q=500, block_k=500)[0].numpy(), ref)
    bf16 = [torch.tensor(a, dtype=torch.bfloat16) for a in arrays]
    out, lse = flash_attention(*bf16, block_q=8, block_k=8)
    assert out.dtype == torch.bfloat16 and lse.dtype == torch.float32
    assert (out.double() - torch.tensor(ref)).abs().max() < 0.05


def test_flash_attention_does_the_dense_flops_and_saves_no_score_matrix():
    n, d = 256, 32
    q, k, v = (torch.randn(1, n, d, requires_grad=True) for _ in range(3))
    assert count_flops(flash_attention, q, k, v, block_q=64, block_k=64) == 4 * n * n * d
    fwd_bwd = count_flops(
        lambda: flash_attention(q, k, v, block_q=64, block_k=64)[0].sum().backward()
    )
    assert fwd_bwd == 4 * n * n * d + 10 * n * n * d  # backward: recompute S, then 4 matmuls
    saved = saved_bytes(flash_attention, q, k, v, block_q=64, block_k=64)
    assert saved == 4 * n * d * 4 + n * 4  # q, k, v, out and the logsumexp: no n×n
    dense = saved_bytes(lambda: torch.softmax(q @ k.transpose(1, 2), -1) @ v)
    assert dense >= n * n * 4


# ---- backward ------------------------------------------------------------------------------------


@WAVE_SETTINGS
@given(p=shapes, lse_grad=st.booleans())
def test_flash_backward_equals_autograd_of_the_dense_reference(slab, p, lse_grad):
    arrays = numpy_qkv(p["lead"], p["n_q"], p["n_k"], p["d_k"], p["d_v"], p["seed"])
    blocks = {"block_q": p["block_q"], "block_k": p["block_k"], "causal": p["causal"]}
    q, k, v = _tensors(arrays, grad=True)
    allowed = _causal(p["n_q"], p["n_k"]) if p["causal"] else np.ones((p["n_q"], p["n_k"]), bool)
    ref_out = dense_masked_torch(q, k, v, allowed)
    rng = torch.Generator().manual_seed(p["seed"])
    grad_out = torch.randn(ref_out.shape, generator=rng, dtype=torch.float64)
    loss = (ref_out * grad_out).sum()
    grad_lse = None
    if lse_grad:  # also differentiate Σ g_i·logsumexp_i (rows with no key contribute nothing)
        scores = (q @ k.transpose(-1, -2) / math.sqrt(p["d_k"])).masked_fill(
            ~torch.from_numpy(allowed), -math.inf
        )
        lse_ref = torch.logsumexp(scores, -1)
        grad_lse = torch.randn(lse_ref.shape, generator=rng, dtype=torch.float64)
        loss = loss + (torch.where(torch.isfinite(lse_ref), lse_ref, 0) * grad_lse).sum()
    expected = torch.autograd.grad(loss, (q, k, v))
    with torch.no_grad():
        out, lse = flash_attention(q, k, v, **blocks)
    grads = flash_attention_backward(q, k, v, out, lse, grad_out, **blocks, grad_logsumexp=grad_lse)
    for got, want in zip(grads, expected, strict=True):
        assert_close_f64(got.numpy(), want.numpy())


def test_autograd_wrapper_backward_through_out_and_logsumexp():
    arrays = numpy_qkv((2,), 30, 23, 8, 5, seed=4)
    q, k, v = _tensors(arrays, grad=True)
    out, lse = flash_attention(q, k, v, block_q=8, block_k=8, causal=True)
    (out.square().sum() + lse.nan_to_num(neginf=0).sum()).backward()
    q2, k2, v2 = _tensors(arrays, grad=True)
    allowed = _causal(30, 23)
    ref = dense_masked_torch(q2, k2, v2, allowed)
    scores = (q2 @ k2.transpose(-1, -2) / math.sqrt(8)).masked_fill(
        ~torch.from_numpy(allowed), -math.inf
    )
    lse_ref = torch.logsumexp(scores, -1)
    (ref.square().sum() + torch.where(torch.isfinite(lse_ref), lse_ref, 0).sum()).backward()
    for a, b in ((q, q2), (k, k2), (v, v2)):
        assert_close_f64(a.grad.numpy(), b.grad.numpy())


def test_gradcheck_and_broadcast_leading_dims_get_summed_gradients():
    g = torch.Generator().manual_seed(0)
    q = torch.randn(2, 3, 5, 4, dtype=torch.float64, generator=g, requires_grad=True)
    k = torch.randn(1, 3, 7, 4, dtype=torch.float64, generator=g, requires_grad=True)
    v = torch.randn(3, 7, 2, dtype=torch.float64, generator=g, requires_grad=True)
    fn = lambda q, k, v: flash_attention(q, k, v, block_q=2, block_k=3, causal=True)[0]  # noqa: E731
    assert torch.autograd.gradcheck(fn, (q, k, v))
    out, lse = flash_attention(q, k, v, block_q=2, block_k=3)
    grads = flash_attention_backward(
        q, k, v, out.detach(), lse.detach(), torch.ones_like(out), block_q=2, block_k=3
    )
    assert [g.shape for g in grads] == [q.shape, k.shape, v.shape]
    out.sum().backward()
    for got, t in zip(grads, (q, k, v), strict=True):
        assert_close_f64(got.numpy(), t.grad.numpy())


# ---- the tile schedule ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n_q, n_k, bq, bk", [(16, 16, 4, 4), (10, 23, 3, 5), (23, 10, 4, 3), (5, 5, 8, 8)]
)
def test_tiles_visited_are_the_tiles_with_an_allowed_pair(n_q, n_k, bq, bk):
    assert tiles_visited(n_q, n_k, bq, bk).all()
    grid = tiles_visited(n_q, n_k, bq, bk, causal=True)
    mask = _causal(n_q, n_k)
    padded = np.zeros((grid.shape[0] * bq, grid.shape[1] * bk), dtype=bool)
    padded[:n_q, :n_k] = mask
    expected = padded.reshape(grid.shape[0], bq, grid.shape[1], bk).any(axis=(1, 3))
    np.testing.assert_array_equal(grid, expected)
    if bq == bk and n_q == n_k:
        np.testing.assert_array_equal(grid, masks.tile_mask(mask, bq))


def test_flash_attention_skips_future_tiles_under_causal():
    n, d, block = 256, 16, 32
    q, k, v = (torch.randn(n, d) for _ in range(3))
    full = count_flops(flash_attention, q, k, v, block_q=block, block_k=block)
    causal = count_flops(flash_attention, q, k, v, block_q=block, block_k=block, causal=True)
    visited = tiles_visited(n, n, block, block, causal=True)
    assert causal == full * visited.mean()  # only the visited tiles are computed
    assert visited.mean() == pytest.approx((8 * 9 / 2) / 64)
