"""tutor_lib.linear: every form of linear attention equals an independent masked-quadratic oracle
(float64), the causal chunked form never builds an n×n tensor, Performer's features are unbiased for
exp(xᵀy) and its error falls as m grows, Linformer with identity projections is softmax attention."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import assert_close_f64, dense_reference, torch_qkv

from tutor_lib.linear import (
    DEFAULT_CHUNK,
    PIECE_CHUNKS,
    associativity_crossover,
    associativity_flops,
    elu_feature_map,
    linear_attention,
    linear_attention_from_features,
    linear_attention_recurrent,
    linear_attention_step,
    linformer_attention,
    linformer_projection,
    performer_attention,
    performer_error,
    performer_features,
    quadratic_linear_attention,
    random_projection,
    recurrent_state_bytes,
)
from tutor_lib.measure import count_flops, saved_bytes

SETTINGS = settings(max_examples=25, deadline=None)


def _phi_oracle(x):
    """elu(x) + 1 written without elu: x + 1 for x > 0, exp(x) otherwise."""
    return torch.where(x > 0, x + 1, torch.exp(x.clamp(max=0)))


def kernel_oracle(q, k, v, *, causal=False, phi=_phi_oracle):
    """y_i = Σ_j sim_ij v_j / Σ_j sim_ij with sim_ij = φ(q_i)·φ(k_j), over the allowed keys
    (bottom-right causal via an arange mask); rows with no allowed key → 0. Written with einsum."""
    q, k, v = (torch.as_tensor(t, dtype=torch.float64) for t in (q, k, v))
    sim = torch.einsum("...id,...jd->...ij", phi(q), phi(k))
    n_q, n_k = sim.shape[-2:]
    if causal:
        i = torch.arange(n_q)[:, None] + (n_k - n_q)
        sim = sim * (torch.arange(n_k)[None, :] <= i)
    total = sim.sum(-1, keepdim=True)
    weights = sim / torch.where(total > 0, total, torch.ones_like(total))
    return torch.einsum("...ij,...jd->...id", weights, v).detach().numpy()


# ---- linear_attention: non-causal and causal == the masked-quadratic oracle ---------------------


@SETTINGS
@given(
    n_q=st.integers(1, 40),
    n_k=st.integers(1, 40),
    d_k=st.integers(1, 6),
    d_v=st.integers(1, 6),
    causal=st.booleans(),
    chunk=st.one_of(st.none(), st.integers(1, 45)),
    lead=st.sampled_from([(), (2,), (2, 3)]),
    seed=st.integers(0, 999),
)
def test_linear_attention_equals_quadratic_oracle(n_q, n_k, d_k, d_v, causal, chunk, lead, seed):
    q, k, v = torch_qkv(lead, n_q, n_k, d_k, d_v, seed)
    expected = kernel_oracle(q, k, v, causal=causal)
    out = linear_attention(q, k, v, causal=causal, chunk=chunk)
    assert out.shape == (*lead, n_q, d_v)
    assert_close_f64(out.numpy(), expected)
    assert_close_f64(quadratic_linear_attention(q, k, v, causal=causal).numpy(), expected)


@SETTINGS
@given(
    n_q=st.integers(1, 30),
    n_k=st.integers(1, 30),
    d_v=st.integers(1, 5),
    lead=st.sampled_from([(), (3,)]),
    seed=st.integers(0, 999),
)
def test_recurrent_equals_chunked_equals_masked_quadratic(n_q, n_k, d_v, lead, seed):
    q, k, v = torch_qkv(lead, n_q, n_k, 4, d_v, seed)
    expected = kernel_oracle(q, k, v, causal=True)
    assert_close_f64(linear_attention_recurrent(q, k, v).numpy(), expected)
    for chunk in (1, 3, 8, max(n_q, n_k)):
        assert_close_f64(linear_attention(q, k, v, causal=True, chunk=chunk).numpy(), expected)


def test_chunk_limits_one_chunk_and_one_token_per_chunk():
    q, k, v = torch_qkv((2,), 50, 50, 8, 5, seed=3)
    one_chunk = linear_attention(q, k, v, causal=True, chunk=50)  # = tril(φQφKᵀ) V, normalized
    per_token = linear_attention(q, k, v, causal=True, chunk=1)  # = the recurrence, batched
    huge = linear_attention(q, k, v, causal=True, chunk=10_000)  # clipped to n
    assert_close_f64(one_chunk.numpy(), kernel_oracle(q, k, v, causal=True))
    assert_close_f64(per_token.numpy(), linear_attention_recurrent(q, k, v).numpy())
    assert_close_f64(huge.numpy(), one_chunk.numpy())
    assert DEFAULT_CHUNK >= 1


def test_long_causal_input_processed_in_pieces_equals_the_oracle():
    """n = 2500 > PIECE_CHUNKS · DEFAULT_CHUNK: the state is carried across pieces."""
    q, k, v = torch_qkv((2,), 2500, 2500, 8, 4, seed=19)
    assert 2500 > PIECE_CHUNKS * DEFAULT_CHUNK
    expected = kernel_oracle(q, k, v, causal=True)
    assert_close_f64(linear_attention(q, k, v, causal=True).numpy(), expected)
    q2 = q[:, -700:]  # bottom-right: 700 queries after a 1800-key prefix, also in pieces
    assert_close_f64(linear_attention(q2, k, v, causal=True, chunk=16).numpy(), expected[:, -700:])


def test_causal_differs_from_non_causal_and_last_row_agrees():
    """Negative control: causal must differ (the oracle can tell them apart); the last query sees
    every key in both, so its row is the same."""
    q, k, v = torch_qkv((), 20, 20, 4, 3, seed=4)
    c = linear_attention(q, k, v, causal=True)
    nc = linear_attention(q, k, v)
    assert (c - nc).abs().max() > 1e-3
    assert_close_f64(c[-1].numpy(), nc[-1].numpy())


def test_bottom_right_causal_queries_without_keys_give_zero():
    q, k, v = torch_qkv((2,), 9, 4, 3, 2, seed=5)  # queries 0 … 4 see no key
    out = linear_attention(q, k, v, causal=True)
    assert torch.equal(out[:, :5], torch.zeros(2, 5, 2, dtype=torch.float64))
    one = linear_attention(q[:, -1:], k, v, causal=True)  # a decode step sees every key
    assert_close_f64(one.numpy(), linear_attention(q[:, -1:], k, v).numpy())


def test_zero_normalizer_gives_zero_not_nan():
    q, k, v = torch_qkv((), 6, 6, 3, 2, seed=6)
    out = linear_attention(-q.abs(), k, v, feature_map=torch.relu)  # φ(q) = 0 for every query
    assert torch.equal(out, torch.zeros_like(out))
    out = linear_attention(-q.abs(), k, v, causal=True, feature_map=torch.relu)
    assert torch.equal(out, torch.zeros_like(out))


def test_custom_feature_map_with_more_features_than_dims():
    def phi(x):  # d' = 2·d_k
        return torch.cat([torch.relu(x), torch.relu(-x)], dim=-1) + 0.1

    q, k, v = torch_qkv((2,), 11, 13, 3, 4, seed=7)
    for causal in (False, True):
        expected = kernel_oracle(q, k, v, causal=causal, phi=phi)
        assert_close_f64(
            linear_attention(q, k, v, causal=causal, feature_map=phi).numpy(), expected
        )
        pq, pk = phi(q), phi(k)
        got = linear_attention_from_features(pq, pk, v, causal=causal)
        assert_close_f64(got.numpy(), expected)
    assert_close_f64(
        linear_attention_recurrent(q, k, v, feature_map=phi).numpy(),
        kernel_oracle(q, k, v, causal=True, phi=phi),
    )


def test_elu_feature_map_is_elu_plus_one_and_positive():
    x = torch.linspace(-30, 30, 601, dtype=torch.float64)
    # elu computes expm1(x) + 1: exact to ~1e-16 absolute (not relative) for very negative x
    assert_close_f64(elu_feature_map(x).numpy(), _phi_oracle(x).numpy(), tol=1e-15)
    assert bool((elu_feature_map(x) > 0).all())


def test_gradients_equal_the_quadratic_form():
    q, k, v = torch_qkv((2,), 40, 40, 4, 3, seed=8, grad=True)
    grad_out = randn_like_out = torch.randn(
        2, 40, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
    )
    for causal, chunk in ((False, None), (True, 5), (True, 1)):  # chunk 1: 40 > 32 chunks, pieces
        fast = torch.autograd.grad(
            linear_attention(q, k, v, causal=causal, chunk=chunk), (q, k, v), grad_out
        )
        slow = torch.autograd.grad(
            quadratic_linear_attention(q, k, v, causal=causal), (q, k, v), randn_like_out
        )
        for a, b in zip(fast, slow, strict=True):
            assert_close_f64(a.numpy(), b.numpy())


def test_float32_chunked_stays_close_to_float64_at_long_n():
    q, k, v = torch_qkv((1,), 4096, 4096, 16, 16, seed=9)
    exact = linear_attention(q, k, v, causal=True)
    approx = linear_attention(q.float(), k.float(), v.float(), causal=True).double()
    assert float((approx - exact).abs().max() / exact.abs().max()) < 1e-4


# ---- the RNN view ------------------------------------------------------------------------------


def test_step_is_the_state_update_then_the_read():
    q, k, v = torch_qkv((2,), 1, 1, 3, 4, seed=10)
    q, k, v = q[:, 0], k[:, 0], v[:, 0]  # (2, 3), (2, 3), (2, 4)
    g = torch.Generator().manual_seed(2)
    s = torch.rand(2, 3, 4, generator=g, dtype=torch.float64)
    z = torch.rand(2, 3, generator=g, dtype=torch.float64) + 1
    out, s2, z2 = linear_attention_step(s, z, q, k, v)
    pq, pk = _phi_oracle(q), _phi_oracle(k)
    s_ref = s + torch.einsum("bi,bj->bij", pk, v)
    z_ref = z + pk
    out_ref = torch.einsum("bi,bij->bj", pq, s_ref) / (pq * z_ref).sum(-1, keepdim=True)
    for got, ref in ((out, out_ref), (s2, s_ref), (z2, z_ref)):
        assert_close_f64(got.numpy(), ref.numpy())


def test_decoding_with_the_state_equals_the_full_causal_forward():
    q, k, v = torch_qkv((2,), 30, 30, 4, 4, seed=11)
    s, z = torch.zeros(2, 4, 4, dtype=torch.float64), torch.zeros(2, 4, dtype=torch.float64)
    outs = []
    for t in range(30):
        out, s, z = linear_attention_step(s, z, q[:, t], k[:, t], v[:, t])
        outs.append(out)
        assert s.shape == (2, 4, 4) and z.shape == (2, 4)  # constant-size state
    assert_close_f64(torch.stack(outs, 1).numpy(), linear_attention(q, k, v, causal=True).numpy())


def test_state_bytes_formula_matches_the_tensors():
    s, z = torch.zeros(8, 64, 64), torch.zeros(8, 64)  # 8 heads, fp32
    assert recurrent_state_bytes(64, 64, num_heads=8) == s.nbytes + z.nbytes
    assert recurrent_state_bytes(64, 32, num_heads=2, n_layers=3, bytes_per_value=2) == (
        3 * 2 * (64 * 32 + 64) * 2
    )


# ---- no n×n tensor -------------------------------------------------------------------------------


def test_flop_counts_match_the_associativity_model():
    for n_q, n_k, d_k, d_v in [(64, 64, 16, 16), (100, 37, 8, 5), (1, 300, 4, 4)]:
        q, k, v = torch_qkv((), n_q, n_k, d_k, d_v, seed=12)
        model = associativity_flops(n_q, n_k, d_k, d_v)
        assert count_flops(linear_attention, q, k, v) == model["linear"]
        assert count_flops(quadratic_linear_attention, q, k, v) == model["quadratic"]


def test_causal_flops_and_saved_bytes_grow_linearly_in_n():
    flops, saved = [], []
    for n in (1024, 2048, 4096):
        q, k, v = torch_qkv((), n, n, 16, 16, seed=n, dtype=torch.float32, grad=True)
        flops.append(count_flops(linear_attention, q, k, v, causal=True))
        saved.append(saved_bytes(linear_attention, q, k, v, causal=True))
    for series in (flops, saved):
        assert series[1] / series[0] == pytest.approx(2, rel=0.02)
        assert series[2] / series[1] == pytest.approx(2, rel=0.02)
    # negative control: the quadratic form keeps n×n for backward, 4x per doubling
    quad = [
        saved_bytes(quadratic_linear_attention, *torch_qkv((), n, n, 16, 16, 0, grad=True))
        for n in (512, 1024)
    ]
    assert quad[1] / quad[0] > 3.5


def test_associativity_crossover_is_the_first_n_where_linear_is_cheaper():
    for dp, d_v in [(64, 64), (16, 16), (256, 64), (1, 1), (3, 100), (128, 7)]:
        n = associativity_crossover(dp, d_v)
        cheaper = [
            m
            for m in range(1, 4 * n + 10)
            if (f := associativity_flops(m, m, dp, d_v))["linear"] < f["quadratic"]
        ]
        assert cheaper[0] == n and cheaper == list(range(n, 4 * n + 10))


NO_NXN = textwrap.dedent(
    """
    import resource, sys, torch
    from tutor_lib.costs import GIB
    from tutor_lib.linear import linear_attention, performer_attention

    def vm_bytes():
        for line in open("/proc/self/status"):
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024

    n, d = 40_000, 64
    q, k, v = (torch.randn(1, n, d) for _ in range(3))  # fp32: an n×n matrix is 6.0 GiB
    linear_attention(q[:, :500], k[:, :500], v[:, :500], causal=True)  # threads, arenas: warm up
    performer_attention(q[:, :500], k[:, :500], v[:, :500], num_features=64, seed=0, causal=True)
    # from here on the process may map at most 1 GiB more than it has: far below n·n·4 bytes
    resource.setrlimit(resource.RLIMIT_AS, (vm_bytes() + GIB, resource.RLIM_INFINITY))
    out = linear_attention(q, k, v, causal=True)
    out = linear_attention(q, k, v)
    out = performer_attention(q, k, v, num_features=64, seed=0, causal=True)
    print("linear ok", tuple(out.shape), bool(torch.isfinite(out).all()))
    try:
        q @ k.transpose(-1, -2)  # the n×n score matrix
    except RuntimeError as err:
        print("n x n refused:", "can't allocate" in str(err))
    """
)


def test_causal_linear_attention_at_n_40k_under_a_memory_cap_no_nxn_would_fit():
    """A child process caps its address space (RLIMIT_AS) at 1 GiB above what it has mapped after
    start-up and a small warm-up. An n×n fp32 matrix at n = 40k needs 6 GiB, so any attempt to build
    one fails immediately (the allocator gets ENOMEM, no swapping, no hang). The linear forms run;
    the negative control shows the cap does refuse the n×n product."""
    proc = subprocess.run(
        [sys.executable, "-c", NO_NXN], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "linear ok (1, 40000, 64) True" in proc.stdout, proc.stdout
    assert "n x n refused: True" in proc.stdout, proc.stdout


# ---- Performer -----------------------------------------------------------------------------------


def test_random_projection_rows_are_gaussian_and_orthogonal_in_blocks():
    w = random_projection(12, 4, seed=0)
    assert w.shape == (12, 4) and w.dtype == torch.float64
    for block in (w[:4], w[4:8], w[8:]):
        gram = block @ block.T
        assert_close_f64(gram - torch.diag(torch.diagonal(gram)), torch.zeros(4, 4))
    assert torch.equal(random_projection(12, 4, seed=0), w)
    assert not torch.equal(random_projection(12, 4, seed=1), w)
    # E[ωωᵀ] = I for both kinds: averaged over 3000 rows, within a few standard errors
    for orthogonal in (True, False):
        rows = torch.cat(
            [random_projection(6, 3, seed=s, orthogonal=orthogonal) for s in range(500)]
        )
        second = (rows.T @ rows / rows.shape[0]).numpy()
        assert np.abs(second - np.eye(3)).max() < 0.12


@pytest.mark.parametrize("orthogonal", [True, False])
def test_performer_features_estimate_exp_dot_without_bias(orthogonal):
    """Mean of φ(x)ᵀφ(y) over 3000 fixed seeds vs exp(xᵀy), for 3 pairs: within 4 standard errors
    of the mean (the seeds are fixed, so the test is deterministic; 4σ leaves room for another RNG)."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, generator=g, dtype=torch.float64) * 0.6  # 3 pairs (x_p, y_p)
    y = torch.randn(3, 4, generator=g, dtype=torch.float64) * 0.6
    est = np.array(
        [
            (performer_features(x, w) * performer_features(y, w)).sum(-1).numpy()  # (3,)
            for w in (random_projection(8, 4, seed=s, orthogonal=orthogonal) for s in range(3000))
        ]
    )  # (3000, 3)
    exact = torch.exp((x * y).sum(-1)).numpy()
    sem = est.std(axis=0, ddof=1) / np.sqrt(est.shape[0])
    assert np.all(np.abs(est.mean(0) - exact) < 4 * sem), (est.mean(0), exact, sem)
    # negative control: without the exp(−‖x‖²/2) factor the same test must fail
    biased = est * torch.exp(0.5 * (x * x).sum(-1) + 0.5 * (y * y).sum(-1)).numpy()
    assert np.all(np.abs(biased.mean(0) - exact) > 10 * sem)


def test_performer_error_falls_like_one_over_sqrt_m():
    q, k, v = torch_qkv((1,), 256, 256, 16, 16, seed=13, sigma=0.5)
    ms = [16, 64, 256, 1024]
    errors = [performer_error(q, k, v, num_features=m, seeds=range(6)).mean() for m in ms]
    assert all(a > b for a, b in zip(errors, errors[1:], strict=False)), errors
    slope = np.polyfit(np.log(ms), np.log(errors), 1)[0]
    assert -0.65 < slope < -0.3, slope
    assert errors[-1] < 0.12


def test_performer_attention_is_linear_attention_on_its_features():
    """The stabilising constants cancel: equal to the quadratic form on performer_features
    (unstabilised), causal and not, with the √scale pre-scaling of q and k."""
    q, k, v = torch_qkv((2,), 17, 21, 8, 3, seed=14, sigma=0.5)
    w = random_projection(32, 8, seed=3)
    root = 8**-0.25
    phi = lambda x: performer_features(x * root, w)  # noqa: E731
    for causal in (False, True):
        got = performer_attention(q, k, v, num_features=32, seed=3, causal=causal)
        expected = kernel_oracle(q, k, v, causal=causal, phi=phi)
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_performer_with_many_features_approaches_softmax_attention():
    q, k, v = torch_qkv((), 32, 32, 8, 8, seed=15, sigma=0.5)
    exact = dense_reference(q, k, v, causal=True)
    approx = performer_attention(q, k, v, num_features=8192, seed=0, causal=True).numpy()
    assert np.linalg.norm(approx - exact) / np.linalg.norm(exact) < 0.05


def test_elu_linear_attention_is_a_different_model_from_softmax():
    q, k, v = torch_qkv((), 64, 64, 16, 16, seed=16)
    diff = np.abs(linear_attention(q, k, v).numpy() - dense_reference(q, k, v)).max()
    assert diff > 0.1


# ---- Linformer -----------------------------------------------------------------------------------


@SETTINGS
@given(
    n_q=st.integers(1, 30),
    n_k=st.integers(1, 30),
    d_k=st.integers(1, 5),
    d_v=st.integers(1, 5),
    lead=st.sampled_from([(), (2,), (2, 3)]),
    seed=st.integers(0, 999),
)
def test_linformer_with_identity_projections_is_softmax_attention(n_q, n_k, d_k, d_v, lead, seed):
    q, k, v = torch_qkv(lead, n_q, n_k, d_k, d_v, seed)
    eye = torch.eye(n_k, dtype=torch.float64)
    assert_close_f64(linformer_attention(q, k, v, eye, eye).numpy(), dense_reference(q, k, v))


def test_linformer_with_projections_equals_attention_on_projected_keys():
    q, k, v = torch_qkv((2,), 20, 40, 6, 3, seed=17)
    e, f = linformer_projection(8, 40, seed=0), linformer_projection(8, 40, seed=1)
    assert e.shape == (8, 40) and not torch.equal(e, f)
    expected = dense_reference(
        q, torch.einsum("pn,bnd->bpd", e, k), torch.einsum("pn,bnd->bpd", f, v)
    )
    assert_close_f64(linformer_attention(q, k, v, e, f).numpy(), expected)


def test_linformer_is_not_causal_a_future_value_changes_the_first_output():
    q, k, v = torch_qkv((), 16, 16, 4, 4, seed=18)
    e, f = linformer_projection(4, 16, seed=0), linformer_projection(4, 16, seed=1)
    v2 = v.clone()
    v2[-1] += 1.0  # change only the last token
    first = linformer_attention(q, k, v, e, f)[0] - linformer_attention(q, k, v2, e, f)[0]
    assert first.abs().max() > 1e-3
    # control: causal linear attention's first output ignores the last token
    assert torch.equal(
        linear_attention(q, k, v, causal=True)[0], linear_attention(q, k, v2, causal=True)[0]
    )
