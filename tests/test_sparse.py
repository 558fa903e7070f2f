"""tutor_lib.sparse: the banded and block-sparse kernels equal dense attention with the same mask
(float64, forward and gradients), do only the work their pattern needs, and never build n×n."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import assert_close_f64, dense_masked_torch, dense_reference, sdpa_reference, torch_qkv
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from tutor_lib import masks
from tutor_lib.sparse import block_sparse_attention, default_query_block, sliding_window_attention

SETTINGS = settings(max_examples=40, deadline=None)


def _flops(fn, *args, **kwargs) -> int:
    with FlopCounterMode(display=False) as counter:
        fn(*args, **kwargs)
    return counter.get_total_flops()


# ---- sliding_window_attention --------------------------------------------------------------------


@SETTINGS
@given(
    n=st.integers(1, 70),
    left=st.integers(0, 80),
    right=st.integers(0, 80),
    d_k=st.integers(1, 6),
    d_v=st.integers(1, 6),
    block=st.one_of(st.none(), st.integers(1, 17)),
    lead=st.sampled_from([(), (2,), (2, 3)]),
    seed=st.integers(0, 999),
)
def test_sliding_window_equals_dense_with_local_mask(n, left, right, d_k, d_v, block, lead, seed):
    q, k, v = torch_qkv(lead, n, n, d_k, d_v, seed)
    out = sliding_window_attention(q, k, v, left=left, right=right, block=block)
    assert_close_f64(out.numpy(), dense_reference(q, k, v, masks.local_mask(n, left, right)))


def test_sliding_window_limits_equal_full_and_causal_attention():
    n = 37
    q, k, v = torch_qkv((2,), n, n, 8, 5, seed=1)
    full = sliding_window_attention(q, k, v, left=n - 1, right=n - 1)
    assert_close_f64(full.numpy(), sdpa_reference(q, k, v))  # window = n: plain attention
    wide = sliding_window_attention(q, k, v, left=10 * n, right=3 * n, block=8)
    assert_close_f64(wide.numpy(), sdpa_reference(q, k, v))  # wider than n: clipped
    causal = sliding_window_attention(q, k, v, left=n - 1, right=0)
    assert_close_f64(causal.numpy(), dense_reference(q, k, v, causal=True))


@pytest.mark.parametrize("backend", [SDPBackend.MATH, SDPBackend.FLASH_ATTENTION])
def test_sliding_window_same_with_either_sdpa_backend(backend):
    q, k, v = torch_qkv((3,), 45, 45, 6, 6, seed=15)  # flash needs d_k == d_v (else SDPA uses math)
    with sdpa_kernel(backend):
        out = sliding_window_attention(q, k, v, left=6, right=2, block=8)
    assert_close_f64(out.numpy(), dense_reference(q, k, v, masks.local_mask(45, 6, 2)))


def test_sliding_window_broadcasts_leading_dims():
    q, _, _ = torch_qkv((2, 3), 20, 20, 4, 4, seed=2)
    _, k, v = torch_qkv((1, 3), 20, 20, 4, 4, seed=3)
    out = sliding_window_attention(q, k, v, left=3, right=1)
    ref = dense_reference(
        q, k.expand(2, 3, 20, 4), v.expand(2, 3, 20, 4), masks.local_mask(20, 3, 1)
    )
    assert_close_f64(out.numpy(), ref)


def test_sliding_window_negative_control_off_by_one_is_caught():
    n, left = 30, 4
    q, k, v = torch_qkv((), n, n, 4, 4, seed=4)
    out = sliding_window_attention(q, k, v, left=left, right=0).numpy()
    wrong = dense_reference(q, k, v, masks.local_mask(n, left - 1, 0))  # the "q - k < W" convention
    assert np.abs(out - wrong).max() > 1e-3


@pytest.mark.parametrize("d_v", [3, 5])  # d_v = d_k = 5 runs SDPA's fused kernel, 3 its math path
@pytest.mark.parametrize("n,left,right,block", [(1, 0, 0, None), (19, 3, 2, 4), (40, 7, 0, None)])
def test_sliding_window_gradients_equal_dense_masked(n, left, right, block, d_v):
    q, k, v = torch_qkv((2,), n, n, 5, d_v, seed=5, grad=True)
    upstream = torch.randn(
        2, n, d_v, dtype=torch.float64, generator=torch.Generator().manual_seed(6)
    )
    out = sliding_window_attention(q, k, v, left=left, right=right, block=block)
    grads = torch.autograd.grad((out * upstream).sum(), (q, k, v))
    ref = dense_masked_torch(q, k, v, masks.local_mask(n, left, right))
    ref_grads = torch.autograd.grad((ref * upstream).sum(), (q, k, v))
    for got, expected in zip(grads, ref_grads, strict=True):
        assert_close_f64(got.numpy(), expected.numpy())


def test_sliding_window_float32_close_to_float64():
    q, k, v = torch_qkv((4,), 300, 300, 64, 64, seed=7)
    ref = sliding_window_attention(q, k, v, left=20, right=20).numpy()
    out = sliding_window_attention(q.float(), k.float(), v.float(), left=20, right=20)
    assert out.dtype == torch.float32
    assert np.abs(out.double().numpy() - ref).max() < 1e-5


def test_sliding_window_work_grows_linearly_dense_quadratically():
    def cost(fn, n, **kw):
        q, k, v = torch_qkv((), n, n, 16, 16, seed=0, dtype=torch.float32)
        with sdpa_kernel(SDPBackend.MATH):  # plain matmuls, which FlopCounterMode can see
            return _flops(fn, q, k, v, **kw)

    def dense(q, k, v):
        return torch.softmax(q @ k.T, -1) @ v

    banded = [cost(sliding_window_attention, n, left=32, right=32) for n in (256, 512, 1024)]
    assert banded[1] == 2 * banded[0] and banded[2] == 2 * banded[1]  # O(n · w · d)
    full = [cost(dense, n) for n in (256, 512)]
    assert full[1] == 4 * full[0]  # O(n² · d)
    # per query: 2 (d_k + d_v) (B + left + right) multiply-adds, B + 64 at most 1.5× the 65-key band
    block = default_query_block(32, 32, 256)
    assert banded[0] == 2 * (16 + 16) * 256 * (block + 64) and block + 64 <= 1.5 * 65


MEMORY_CAP_SCRIPT = textwrap.dedent(
    """
    import resource, sys
    import torch
    from tutor_lib.sparse import sliding_window_attention

    def vm_bytes():
        for line in open("/proc/self/status"):
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024

    n, d, left, right = 32768, 16, 64, 64
    torch.manual_seed(0)
    q, k, v = (torch.randn(1, n, d) for _ in range(3))
    headroom = 2 * 1024**3  # 2 GiB more address space; an n x n float32 tensor is 4 GiB
    limit = vm_bytes() + headroom
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        torch.empty(n, n)
        print("n x n allocated")
    except RuntimeError:
        print("n x n refused")
    out = sliding_window_attention(q, k, v, left=left, right=right)
    rows = [0, 1, 5000, n - 1]
    err = 0.0
    for i in rows:
        lo, hi = max(0, i - left), min(n, i + right + 1)
        w = torch.softmax(q[0, i] @ k[0, lo:hi].T / d**0.5, -1)
        err = max(err, (w @ v[0, lo:hi] - out[0, i]).abs().max().item())
    print("ok", tuple(out.shape), err < 1e-5)
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc and RLIMIT_AS")
def test_sliding_window_32k_runs_under_a_cap_that_refuses_an_n_by_n_tensor():
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_CAP_SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.split("\n")
    assert "n x n refused" in lines  # the cap bites: dense attention could not even hold scores
    assert "ok (1, 32768, 16) True" in lines


# ---- block_sparse_attention ----------------------------------------------------------------------


@SETTINGS
@given(
    n_q=st.integers(1, 50),
    n_k=st.integers(1, 50),
    block=st.integers(1, 20),
    density=st.floats(0.0, 0.6),
    lead=st.sampled_from([(), (3,), (2, 2)]),
    seed=st.integers(0, 999),
)
def test_block_sparse_equals_dense_with_same_mask(n_q, n_k, block, density, lead, seed):
    rng = np.random.default_rng(seed)
    mask = rng.random((n_q, n_k)) < density * rng.random((n_q, 1))  # rows of varying density
    q, k, v = torch_qkv(lead, n_q, n_k, 4, 3, seed)
    out = block_sparse_attention(q, k, v, mask, block=block)
    assert_close_f64(out.numpy(), dense_reference(q, k, v, mask))


@pytest.mark.parametrize(
    "name,mask",
    [
        ("causal", masks.causal_mask(45)),
        (
            "bigbird",
            masks.local_mask(45, 3, 3) | masks.global_mask(45, 2) | masks.random_mask(45, 3, 0),
        ),
        ("strided+local", masks.strided_mask(45, 7) | masks.local_mask(45, 6, 0)),
        ("block random", masks.block_random_mask(45, 8, 2, 1)),
        ("empty rows", masks.block_mask(45, 9) & ~masks.global_mask(45, [3, 4, 40])),
        ("all masked", np.zeros((45, 45), dtype=bool)),
        ("dense", np.ones((45, 45), dtype=bool)),
    ],
)
def test_block_sparse_patterns_and_gradients(name, mask):
    q, k, v = torch_qkv((2,), 45, 45, 6, 4, seed=8, grad=True)
    out = block_sparse_attention(q, k, v, mask, block=8)
    assert_close_f64(
        out.detach().numpy(), dense_reference(q.detach(), k.detach(), v.detach(), mask)
    )
    empty = ~mask.any(axis=1)
    assert (out.detach().numpy()[:, empty] == 0).all()  # no allowed key → output 0
    upstream = torch.randn(
        2, 45, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(9)
    )
    grads = torch.autograd.grad((out * upstream).sum(), (q, k, v), allow_unused=True)
    ref = dense_masked_torch(q, k, v, mask)
    ref_grads = torch.autograd.grad((ref * upstream).sum(), (q, k, v))
    for got, expected in zip(grads, ref_grads, strict=True):
        got = torch.zeros_like(expected) if got is None else got
        assert_close_f64(got.numpy(), expected.numpy())


def test_block_sparse_equals_full_attention_when_block_is_n():
    q, k, v = torch_qkv((), 33, 33, 5, 5, seed=10)
    mask = masks.local_mask(33, 4, 2)
    assert_close_f64(
        block_sparse_attention(q, k, v, mask, block=33).numpy(), dense_reference(q, k, v, mask)
    )
    ones = np.ones((33, 33), dtype=bool)
    assert_close_f64(
        block_sparse_attention(q, k, v, ones, block=64).numpy(), sdpa_reference(q, k, v)
    )


@pytest.mark.parametrize("mask_name", ["causal", "window", "block random", "random"])
def test_block_sparse_computes_only_active_tiles(mask_name):
    n, block, d_k, d_v = 96, 16, 8, 4
    mask = {
        "causal": masks.causal_mask(n),
        "window": masks.local_mask(n, 10, 0),
        "block random": masks.block_random_mask(n, block, 2, 0),
        "random": masks.random_mask(n, 2, 0),
    }[mask_name]
    q, k, v = torch_qkv((), n, n, d_k, d_v, seed=11, dtype=torch.float32)
    flops = _flops(block_sparse_attention, q, k, v, mask, block=block)
    computed = (1 - masks.tile_savings(mask, block)) * n * n  # score entries in active tiles
    assert flops == round(2 * (d_k + d_v) * computed)  # QKᵀ and PV, nothing else


def test_block_sparse_negative_control_tile_mask_alone_is_wrong():
    # Applying only the tile mask (forgetting the token mask inside active tiles) changes the answer.
    n, block = 40, 8
    mask = masks.local_mask(n, 3, 0)
    coarse = np.repeat(np.repeat(masks.tile_mask(mask, block), block, 0), block, 1)
    q, k, v = torch_qkv((), n, n, 4, 4, seed=12)
    out = block_sparse_attention(q, k, v, mask, block=block).numpy()
    assert np.abs(out - dense_reference(q, k, v, coarse)).max() > 1e-3
    assert_close_f64(out, dense_reference(q, k, v, mask))


def test_block_sparse_accepts_torch_mask():
    q, k, v = torch_qkv((), 12, 12, 3, 3, seed=13)
    mask = masks.causal_mask(12)
    out = block_sparse_attention(q, k, v, torch.from_numpy(mask), block=5)
    assert_close_f64(out.numpy(), dense_reference(q, k, v, mask))


# ---- bad inputs ----------------------------------------------------------------------------------


def _t(*shape, dtype=torch.float64):
    return torch.zeros(shape, dtype=dtype)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"q": _t(5, 4), "k": _t(6, 4), "v": _t(6, 4)}, "same length"),
        ({"q": _t(5, 4), "k": _t(5, 3), "v": _t(5, 4)}, "d_k"),
        ({"q": _t(5, 4), "k": _t(5, 4), "v": _t(4, 4)}, "n_k"),
        ({"q": _t(4), "k": _t(4), "v": _t(4)}, "q"),
        ({"q": _t(2, 5, 4), "k": _t(3, 5, 4), "v": _t(3, 5, 4)}, "leading"),
        ({"left": -1}, "left"),
        ({"right": -3}, "right"),
        ({"block": 0}, "block"),
        ({"scale": -1.0}, "scale"),
    ],
)
def test_sliding_window_bad_values(kwargs, match):
    args = {"q": _t(5, 4), "k": _t(5, 4), "v": _t(5, 4), "left": 1, "right": 1} | kwargs
    with pytest.raises(ValueError, match=match):
        sliding_window_attention(args.pop("q"), args.pop("k"), args.pop("v"), **args)


@pytest.mark.parametrize(
    "q,match",
    [
        (np.zeros((5, 4)), "q"),
        (torch.zeros(5, 4, dtype=torch.int64), "q"),
        (_t(5, 4, dtype=torch.float32), "dtype"),
    ],
)
def test_sliding_window_wrong_kinds(q, match):
    with pytest.raises(TypeError, match=match):
        sliding_window_attention(q, _t(5, 4), _t(5, 4), left=1, right=1)


def test_block_sparse_bad_inputs():
    q, k, v = _t(6, 4), _t(7, 4), _t(7, 2)
    with pytest.raises(ValueError, match="mask"):
        block_sparse_attention(q, k, v, np.ones((6, 6), dtype=bool), block=2)
    with pytest.raises(TypeError, match="mask"):
        block_sparse_attention(q, k, v, np.ones((6, 7)), block=2)
    with pytest.raises(ValueError, match="block"):
        block_sparse_attention(q, k, v, np.ones((6, 7), dtype=bool), block=0)
    with pytest.raises(TypeError, match="k"):
        block_sparse_attention(q, np.zeros((7, 4)), v, np.ones((6, 7), dtype=bool), block=2)
