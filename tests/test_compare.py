"""tutor_lib.compare: the method table and ``measure_methods``, against independent references.

* every exact entry equals dense softmax attention (tests/oracles.py) in float64 to ≤ 1e-10; the
  window entries equal dense attention with the window mask, and plain attention once the window
  covers the sequence (the baseline at the limit); every model-changing entry really differs;
* the error ``measure_methods`` reports for each method equals an independent computation (the
  method run by the test on the same inputs, against the oracle), exact methods ≤ 1e-10;
* the FLOP formulas equal ``masks`` counts and PyTorch's FlopCounterMode on the real kernels;
* times, ratios and FLOP fractions follow from the clock (a fake one makes them exact); memory is
  tracemalloc for numpy and the saved bytes (a closed form) for torch.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import F64_TOL, assert_close_f64, dense_reference

from tutor_lib import masks
from tutor_lib.compare import (
    METHODS,
    WINDOW,
    Method,
    banded_flops,
    block_diagonal_pairs,
    block_sparse_window_flops,
    chunked_linear_flops,
    dense_flops,
    exact_rows,
    get_method,
    linear_flops,
    max_error,
    measure_methods,
    random_qkv,
    sample_rows,
    window_pairs,
)
from tutor_lib.limits import TooLargeError
from tutor_lib.linear import linear_attention
from tutor_lib.measure import count_flops
from tutor_lib.sparse import block_sparse_attention, sliding_window_attention

HEADS, D = 2, 8
EXACT = [m for m in METHODS if m.exact]
CHANGES = [m for m in METHODS if not m.exact]
WINDOWS = [m for m in METHODS if m.name.startswith("window")]


def _name(method: Method) -> str:
    return method.name


def _output(method: Method, q, k, v) -> np.ndarray:
    """The method's output on float64 torch q, k, v (numpy methods get the same values)."""
    fn = method.make(q.shape[-2], torch.float64)
    if method.backend == "numpy":
        return np.asarray(fn(q.numpy(), k.numpy(), v.numpy()))
    with torch.no_grad():
        return fn(q, k, v).numpy()


def test_the_table_is_well_formed():
    names = [m.name for m in METHODS]
    assert len(names) == len(set(names)) >= 12
    assert {(m.causal, m.baseline) for m in METHODS if m.baseline} == {(False, True), (True, True)}
    assert {m.backend for m in METHODS} == {"torch", "numpy"}
    assert get_method("SDPA").exact and not get_method("window, banded").exact
    assert any(m.causal and not m.exact for m in METHODS)  # causal linear attention


@pytest.mark.parametrize("n", [1, 37, 130])
@pytest.mark.parametrize("method", EXACT, ids=_name)
def test_exact_methods_equal_dense_attention_in_float64(method, n):
    q, k, v = random_qkv(n, HEADS, D, seed=3)
    expected = dense_reference(q, k, v, causal=method.causal)
    assert_close_f64(_output(method, q, k, v), expected)


@pytest.mark.parametrize("method", WINDOWS, ids=_name)
def test_window_methods_are_dense_attention_with_the_window_mask(method):
    q, k, v = random_qkv(300, HEADS, D, seed=1)  # 300 > 257: the window clips
    expected = dense_reference(q, k, v, mask=masks.local_mask(300, *WINDOW))
    assert_close_f64(_output(method, q, k, v), expected)
    q, k, v = random_qkv(WINDOW[0] + 1, HEADS, D, seed=1)  # every key inside the window
    assert_close_f64(_output(method, q, k, v), dense_reference(q, k, v))


@pytest.mark.parametrize("method", CHANGES, ids=_name)
def test_model_changing_methods_differ_from_exact_attention(method):
    """Negative control: the error measure sees a different model (far above rounding)."""
    q, k, v = random_qkv(300, HEADS, D, seed=2)
    assert max_error(_output(method, q, k, v), q, k, v, causal=method.causal) > 1e-3


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 60),
    count=st.integers(1, 70),
    causal=st.booleans(),
    seed=st.integers(0, 10**6),
)
def test_errors_on_sampled_rows_equal_an_independent_computation(n, count, causal, seed):
    rng = np.random.default_rng(seed)
    q, k, v = (rng.standard_normal((HEADS, n, D)) for _ in range(3))
    out = rng.standard_normal((HEADS, n, D))
    rows = sample_rows(n, count)
    exact = dense_reference(q, k, v, causal=causal)
    assert_close_f64(exact_rows(q, k, v, rows, causal=causal), exact[..., rows, :])
    expected = np.max(np.abs(out[..., rows, :] - exact[..., rows, :]))
    assert max_error(out, q, k, v, causal=causal, rows=rows) == pytest.approx(expected, abs=1e-12)
    assert max_error(exact, q, k, v, causal=causal) <= F64_TOL


@pytest.mark.parametrize("n, count", [(1, 5), (10, 10), (10, 3), (4096, 256), (100, 2)])
def test_sample_rows_spreads_distinct_rows_from_first_to_last(n, count):
    rows = sample_rows(n, count)
    assert rows[0] == 0 and rows[-1] == n - 1
    assert len(set(rows.tolist())) == len(rows) == min(n, count)
    assert np.all(np.diff(rows) > 0)


def test_measure_methods_reports_the_errors_an_independent_computation_gives():
    ns = [40, 300]
    result = measure_methods(ns, heads=HEADS, d=D, rounds=1, dtype=torch.float64, error_rows=300)
    assert {(r["method"], r["n"]) for r in result["rows"]} == set(
        itertools.product([m.name for m in METHODS], ns)
    )
    for row in result["rows"]:
        method, n = get_method(row["method"]), row["n"]
        q, k, v = random_qkv(n, HEADS, D)
        reference = dense_reference(q, k, v, causal=method.causal)
        expected = np.max(np.abs(_output(method, q, k, v) - reference))
        assert row["max_error"] == pytest.approx(expected, rel=1e-9, abs=1e-14), row["method"]
        if method.exact:
            assert row["max_error"] <= F64_TOL, row["method"]
        else:
            assert row["max_error"] > 1e-3 or n <= WINDOW[0] + 1, row["method"]


class _Clock:
    """A fake clock: every reading is one second after the previous one."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_times_ratios_and_flop_fractions_follow_from_the_clock():
    clock = _Clock()
    names = ["SDPA", "window, banded", "dense (numpy)", "linear (elu+1) causal", "SDPA causal"]
    result = measure_methods([16, 32], names, heads=3, d=4, rounds={16: 2, 32: 3}, timer=clock)
    rate = 2 * 1024**3 / 1.0  # matmul_rate: 2·n³ FLOPs in one fake second
    assert result["matmul_rate"] == {"float32": rate, "float64": rate}
    assert result["timer"] == "_Clock" or "Clock" in result["timer"]
    for row in result["rows"]:
        method = get_method(row["method"])
        assert row["median_s"] == row["min_s"] == 1.0
        assert row["rounds"] == {16: 2, 32: 3}[row["n"]]
        assert row["ratio_vs_sdpa"] == 1.0
        assert row["baseline"] == ("SDPA causal" if method.causal else "SDPA")
        assert row["flops"] == 3 * method.flops(row["n"], 4, 4)
        assert row["matmul_fraction"] == pytest.approx(row["flops"] / rate)
        assert row["memory_kind"] == ("peak" if method.backend == "numpy" else "saved")
        assert row["dtype"] == ("float64" if method.backend == "numpy" else "float32")


def test_without_a_baseline_there_is_no_ratio():
    result = measure_methods([8], ["window, banded"], heads=1, d=4, rounds=1)
    assert result["rows"][0]["ratio_vs_sdpa"] is None and result["rows"][0]["baseline"] is None


def _tiny(**fields) -> Method:
    base = dict(
        name="tiny",
        family="test",
        lesson="00",
        exact=True,
        causal=False,
        backend="torch",
        make=lambda n, dtype: torch.nn.functional.scaled_dot_product_attention,
        flops=dense_flops,
    )
    return Method(**{**base, **fields})


def test_methods_are_skipped_above_max_n_or_when_a_size_guard_refuses():
    def refuses(n, dtype):
        raise TooLargeError("refused(n) needs 9 GiB")

    methods = [_tiny(max_n=20), _tiny(name="guarded", make=refuses)]
    result = measure_methods([16, 32], methods, heads=1, d=4, rounds=1)
    assert [(r["method"], r["n"]) for r in result["rows"]] == [("tiny", 16)]
    reasons = {(s["method"], s["n"]): s["reason"] for s in result["skipped"]}
    assert reasons[("tiny", 32)] == "n > max_n = 20"
    assert "refused" in reasons[("guarded", 16)] and "refused" in reasons[("guarded", 32)]


def test_progress_wraps_every_step_with_its_estimated_cost():
    seen = []

    def progress(steps):
        seen.extend(steps)
        return steps

    names = ["SDPA", "chunked (numpy)"]
    measure_methods([16, 64], names, heads=1, d=4, rounds={16: 2, 64: 3}, progress=progress)
    kinds = [(s.n, s.kind) for s in seen]
    assert (
        kinds
        == [(16, "first call")] * 2
        + [(16, "round")] * 2
        + [(64, "first call")] * 2
        + [(64, "round")] * 3
    )
    assert all(s.cost > 0 for s in seen) and seen[-1].cost > seen[2].cost  # n = 64 costs more
    assert str(seen[0]) == "n = 16: SDPA"


def test_memory_is_the_saved_bytes_for_torch_and_a_tracemalloc_peak_for_numpy():
    n, heads, d = 64, 2, 8
    names = ["SDPA", "flash_attention", "window, dense mask"]
    result = measure_methods([n], names, heads=heads, d=d, rounds=1, dtype=torch.float64)
    memory = {row["method"]: row["memory_bytes"] for row in result["rows"]}
    out_and_logsumexp = heads * n * (d + 1) * 8  # what SDPA and flash keep besides q, k, v
    assert memory["SDPA"] == memory["flash_attention"] == out_and_logsumexp
    assert memory["window, dense mask"] >= n * n * 8  # the mask, as SDPA's float bias
    n = 1024  # numpy: one float64 score matrix is 8 MiB, a 256 × 256 tile 0.5 MiB
    result = measure_methods([n], ["dense (numpy)", "chunked (numpy)"], heads=1, d=d, rounds=1)
    memory = {row["method"]: row["memory_bytes"] for row in result["rows"]}
    assert memory["dense (numpy)"] >= n * n * 8 > 2 * memory["chunked (numpy)"] > 0


# -- FLOP formulas against independent counts -----------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 80), left=st.integers(0, 90), right=st.integers(0, 90))
def test_window_pairs_counts_the_local_mask(n, left, right):
    assert window_pairs(n, left, right) == int(masks.local_mask(n, left, right).sum())


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 80), chunk=st.integers(1, 90))
def test_block_diagonal_pairs_counts_the_block_mask(n, chunk):
    assert block_diagonal_pairs(n, chunk) == int(masks.block_mask(n, chunk).sum())


@pytest.mark.parametrize("n, d_k, d_v", [(1, 3, 5), (17, 8, 8), (40, 4, 6)])
def test_dense_flops_match_the_flop_counter_and_the_causal_mask(n, d_k, d_v):
    q, k = torch.randn(n, d_k), torch.randn(n, d_k)
    v = torch.randn(n, d_v)
    sdpa = torch.nn.functional.scaled_dot_product_attention
    assert dense_flops(n, d_k, d_v) == count_flops(sdpa, q, k, v)
    pairs = int(masks.causal_mask(n).sum())
    assert dense_flops(n, d_k, d_v, causal=True) == 2 * pairs * (d_k + d_v)


def _counted(fn, n, d_k, d_v, heads=2):
    q, k = (torch.randn(1, heads, n, d_k, dtype=torch.float64) for _ in range(2))
    v = torch.randn(1, heads, n, d_v, dtype=torch.float64)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # flash_attention's worker threads are invisible to the counter
    try:
        return count_flops(fn, q, k, v) // heads
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize(
    "n, left, right, block, d_k, d_v",
    [(1, 0, 0, 4, 3, 2), (50, 3, 7, 8, 4, 4), (100, 20, 0, 16, 8, 5), (33, 40, 40, 64, 4, 4)],
)
def test_sparse_kernel_flops_match_the_flop_counter(n, left, right, block, d_k, d_v):
    def banded(q, k, v):
        return sliding_window_attention(q, k, v, left=left, right=right, block=block)

    def tiled(q, k, v):
        return block_sparse_attention(q, k, v, masks.local_mask(n, left, right), block=block)

    kw = dict(left=left, right=right, block=block)
    assert banded_flops(n, d_k, d_v, **kw) == _counted(banded, n, d_k, d_v)
    assert block_sparse_window_flops(n, d_k, d_v, **kw) == _counted(tiled, n, d_k, d_v)


@pytest.mark.parametrize("n", [1, 5, 64, 100, 2048, 2100])
def test_linear_flops_match_the_flop_counter(n):
    d_k, d_v = 6, 5
    assert linear_flops(n, d_k, d_v) == _counted(linear_attention, n, d_k, d_v)

    def causal(q, k, v):
        return linear_attention(q, k, v, causal=True)

    done = chunked_linear_flops(n, d_k, d_v, chunk=64, piece=2048)
    assert done == _counted(causal, n, d_k, d_v) >= linear_flops(n, d_k, d_v)


@pytest.mark.parametrize("n", [20, 300])
@pytest.mark.parametrize(
    "method", [m for m in METHODS if m.backend == "torch" and m.name != "SDPA causal"], ids=_name
)
def test_what_each_torch_entry_computes_matches_the_flop_counter(method, n):
    """``computed_flops`` (flops_done, else flops) is what the kernel really multiplies. SDPA
    causal is left out: the counter sees SDPA's math path, which computes every score."""
    fn = method.make(n, torch.float64)
    assert method.computed_flops(n, D, D) == _counted(fn, n, D, D)
    assert method.computed_flops(n, D, D) >= method.flops(n, D, D)
