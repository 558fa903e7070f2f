"""What lesson 10 adds to tutor_lib.compare, against independent references.

* patterns: the closed-form tiles and pair counts equal ``masks.tile_mask`` and the sums of the
  token masks, and the token masks equal the papers' definitions written here with index rules;
* memory: every torch entry's predicted bytes equal the bytes autograd really saves (exactly), every
  numpy entry's the tracemalloc peak (within 15 %);
* budget: the Pareto front and the longest fitting length against brute force; fit_table and the
  decision rule against a filter written here;
* decode: one step's FLOPs against PyTorch's FLOP counter, the linear state against
  ``linear_attention_step``'s, the quantized cache against ``quant.kv_cache_quant_bytes``;
* retrieval: every method against lesson 09's own retrieval functions;
* the A16 summary and the published LRA figures (their averages recompute).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import arange_mask

from tutor_lib import masks
from tutor_lib.chunking import retrieval_correct, retrieval_task
from tutor_lib.compare import (
    A16_GROUPS,
    BIGBIRD,
    DECODE_KINDS,
    KV_BITS,
    LOCAL_CHUNK,
    LRA_ACCURACY,
    LRA_NAMES,
    LRA_SPEED_4K,
    LRA_TASKS,
    MEMORY_MODELS,
    METHODS,
    WINDOW,
    a16_rows,
    bigbird_mask,
    bigbird_pairs,
    bigbird_random_blocks,
    bigbird_tile_work,
    bigbird_tiles,
    cheapest_fitting,
    decode_cost,
    fit_table,
    get_method,
    longest_fitting_n,
    measure_methods,
    method_retrieval,
    pareto_front,
    predicted_memory,
    random_qkv,
    strided_mask,
    strided_pairs,
    strided_stride,
    strided_tile_work,
    strided_tiles,
    tile_work,
    window_tile_work,
    window_tiles,
)
from tutor_lib.costs import ModelShape
from tutor_lib.linear import linear_attention_step
from tutor_lib.measure import count_flops, peak_bytes, saved_bytes
from tutor_lib.quant import kv_cache_quant_bytes

# -- patterns ---------------------------------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(1, 700),
    block=st.integers(1, 90),
    left=st.integers(0, 80),
    right=st.integers(0, 80),
)
def test_closed_form_tiles_and_tile_work_equal_the_tile_mask_of_the_token_mask(
    n, block, left, right
):
    """The (count, count) tiles equal masks.tile_mask of the token masks, and the O(n / block)
    counts used at 128k tokens equal tile_work of those tiles."""
    own = min(BIGBIRD["block"], n)
    cases = [
        (window_tiles(n, left, right, block), masks.local_mask(n, left, right), block,
         window_tile_work(n, left, right, block)),
        (strided_tiles(n, block), strided_mask(n), block, strided_tile_work(n, block)),
        (bigbird_tiles(n, own), bigbird_mask(n), own, bigbird_tile_work(n)),
    ]  # fmt: skip
    for tiles, token_mask, size, work in cases:
        assert np.array_equal(tiles, masks.tile_mask(token_mask, size))
        expected = tile_work(tiles, n, size)
        assert all(np.array_equal(g, e) for g, e in zip(work, expected, strict=True))


@pytest.mark.parametrize("n", [1, 2, 15, 16, 17, 100, 256, 300, 1000])
def test_pair_counts_equal_the_token_masks(n):
    assert strided_pairs(n) == int(strided_mask(n).sum())
    assert bigbird_pairs(n) == int(bigbird_mask(n).sum())


@pytest.mark.parametrize("n", [1, 9, 64, 300])
def test_strided_mask_is_the_papers_two_heads(n):
    """Child et al. (§F correction): local head {max(0, i − l), …, i}, strided head
    {j ≤ i : (i − j) mod l = 0}, with l ≈ √n."""
    stride = strided_stride(n)
    assert stride & (stride - 1) == 0 and stride / 2 <= np.sqrt(n) <= stride * 2
    expected = arange_mask(
        n, n, lambda i, j: (j <= i) & ((i - j <= stride) | ((i - j) % stride == 0))
    )
    assert np.array_equal(strided_mask(n), expected)


@pytest.mark.parametrize("n", [40, 100, 300])
def test_bigbird_mask_is_window_global_and_random_blocks(n):
    b = BIGBIRD["block"]
    random = bigbird_random_blocks(-(-n // b), BIGBIRD["random_blocks"], BIGBIRD["seed"])
    expected = (
        masks.block_local_mask(n, b, 1, 1)
        | masks.global_mask(n, min(b, n))
        | arange_mask(n, n, lambda i, j: (random[i // b] == (j // b)[..., None]).any(-1))
    )
    assert np.array_equal(bigbird_mask(n), expected)
    assert masks.density(expected) < 1.0 or n <= 7 * b


@pytest.mark.parametrize("count, r", [(1, 3), (2, 3), (5, 3), (50, 3), (9, 9), (7, 0)])
def test_random_blocks_are_distinct_and_reproducible(count, r):
    blocks = bigbird_random_blocks(count, r, seed=4)
    assert blocks.shape == (count, min(r, count))
    assert ((blocks >= 0) & (blocks < count)).all()
    assert all(len(set(row)) == len(row) for row in blocks.tolist())
    assert np.array_equal(blocks, bigbird_random_blocks(count, r, seed=4))


def test_random_blocks_are_uniform():
    blocks = bigbird_random_blocks(20000, 3, seed=0)
    counts = np.bincount(blocks.ravel(), minlength=20000)
    assert counts.mean() == 3 and counts.std() < 2.2  # Poisson-like spread around 3 (√3 ≈ 1.7)
    pairs = np.bincount((blocks[:, :2] % 4 * 4 + blocks[:, 1:] % 4).ravel(), minlength=16)
    assert pairs.min() > 0.8 * pairs.mean()  # later draws do not favour the first one's blocks
    assert not np.array_equal(blocks[:100], bigbird_random_blocks(20000, 3, seed=1)[:100])


def test_tile_work_counts_rows_and_gathered_keys():
    tiles = np.array([[True, False, True], [False, False, False], [True, True, True]])
    rows, keys = tile_work(tiles, 70, 32)  # tiles of 32, 32 and 6 tokens
    assert rows.tolist() == [32, 32, 6] and keys.tolist() == [38, 0, 70]


# -- predicted memory -------------------------------------------------------------------------------


def test_every_method_has_a_memory_model_and_a_decode_entry():
    names = {m.name for m in METHODS}
    assert set(MEMORY_MODELS) == names and set(DECODE_KINDS) == names


SHAPES = [(1, 1, 4), (37, 2, 8), (300, 2, 16), (512, 1, 16), (2100, 1, 8)]


def _measured(method, n, heads, d):
    """tracemalloc peak of one numpy call; bytes autograd saves for one torch call (float32,
    q, k, v left out)."""
    q, k, v = random_qkv(n, heads, d, seed=1)
    fn = method.make(n, torch.float32)
    if method.backend == "numpy":
        return peak_bytes(fn, q.numpy(), k.numpy(), v.numpy())
    leaves = [t.float().requires_grad_() for t in (q, k, v)]
    return saved_bytes(fn, *leaves, exclude=leaves)


@pytest.mark.parametrize("method", [m for m in METHODS if m.backend == "torch"], ids=str)
def test_predicted_saved_bytes_equal_what_autograd_saves(method):
    for n, heads, d in SHAPES:
        if method.max_n is None or n <= method.max_n:
            expected = _measured(method, n, heads, d)
            assert predicted_memory(method, n, d, heads=heads) == expected, (method.name, n)


@pytest.mark.parametrize("method", [m for m in METHODS if m.backend == "numpy"], ids=str)
def test_predicted_numpy_peaks_are_within_15_percent_of_tracemalloc(method):
    """The models leave out a few small temporaries (they matter most at short n and small d)."""
    for n, heads, d in [(256, 2, 64), (512, 2, 64), (1024, 2, 64), (1024, 1, 16), (2048, 1, 32)]:
        if method.max_n is None or n <= method.max_n:
            measured = _measured(method, n, heads, d)
            predicted = predicted_memory(method, n, d, heads=heads)
            assert 0.85 < measured / predicted < 1.15, (method.name, n, measured, predicted)


# queries padded to whole blocks (banded), a random block layout per length (BigBird)
NOT_MONOTONE = {"window, banded", "BigBird, block-sparse"}


@pytest.mark.parametrize("method", METHODS, ids=str)
def test_predicted_memory_never_decreases_with_n_but_for_padding(method):
    """longest_fitting_n is exact for models that never decrease; for the two that do, the
    length it returns still fits."""
    ns = [*range(1, 70), *range(70, 5000, 37), 2**14, 2**15, 2**17]
    memory = [predicted_memory(method, n, 64, heads=4) for n in ns]
    assert all(b >= a for a, b in itertools.pairwise(memory)) or method.name in NOT_MONOTONE
    for budget in (1e5, 1e7, 1e9):
        n = longest_fitting_n(lambda n: predicted_memory(method, n, 64, heads=4), budget)
        assert n == 0 or predicted_memory(method, n, 64, heads=4) <= budget


def test_predicted_memory_answers_at_lengths_nothing_could_measure():
    dense = predicted_memory("dense (numpy)", 131072, 64, heads=1)
    assert dense >= 3 * 131072**2 * 8  # three n × n float64 arrays: 384 GiB
    assert predicted_memory("SDPA", 131072, 64, heads=1) == 131072 * 65 * 4


# -- budget -----------------------------------------------------------------------------------------


def _dominated(pts, b):
    return any(
        all(pts[a][i] <= pts[b][i] for i in range(len(pts[b])))
        and any(pts[a][i] < pts[b][i] for i in range(len(pts[b])))
        for a in range(len(pts))
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(*[st.integers(0, 4)] * 3), min_size=1, max_size=12))
def test_pareto_front_keeps_exactly_the_undominated_points(points):
    expected = [b for b in range(len(points)) if not _dominated(points, b)]
    assert pareto_front(points).tolist() == expected


def test_pareto_front_keeps_ties_and_drops_the_dominated():
    assert pareto_front([[1, 1], [1, 1], [2, 2], [0, 3]]).tolist() == [0, 1, 3]


@settings(max_examples=60, deadline=None)
@given(
    scale=st.floats(0.1, 10.0),
    power=st.integers(0, 3),
    budget=st.floats(0.0, 1e6),
    n_max=st.integers(1, 3000),
)
def test_longest_fitting_n_equals_a_linear_scan(scale, power, budget, n_max):
    def memory(n):
        return scale * n**power

    fits = [n for n in range(1, n_max + 1) if memory(n) <= budget]
    assert longest_fitting_n(memory, budget, n_max=n_max) == (fits[-1] if fits else 0)


def test_fit_table_follows_the_predicted_memory_and_the_measurements():
    measured = measure_methods([64], ["SDPA", "window, banded"], heads=2, d=8, rounds=1)
    rows = fit_table(64, 8, 10_000, heads=2, measured=measured)
    assert [r["method"] for r in rows] == [m.name for m in METHODS]
    for row in rows:
        memory = predicted_memory(row["method"], 64, 8, heads=2)
        assert row["memory"] == memory and row["fits"] == (memory <= 10_000)
        assert row["flops_done"] == 2 * get_method(row["method"]).computed_flops(64, 8, 8)
        if row["method"] in ("SDPA", "window, banded"):
            assert row["measured"]["n"] == 64
            assert row["seconds_at_peak"] == row["flops_done"] / measured["matmul_rate"]["float32"]
        else:
            assert row["measured"] is None
    assert all(r["measured"] is None for r in fit_table(64, 16, 1e9, heads=2, measured=measured))


@pytest.mark.parametrize(
    "n, budget, exact, causal",
    list(itertools.product([256, 4096, 65536], [2e5, 5e7, 1e10], *[[0, 1]] * 2)),
)
def test_cheapest_fitting_is_the_filter_then_the_minimum(n, budget, exact, causal):
    rows = [
        r
        for r in fit_table(n, 64, budget, heads=2)
        if r["fits"] and r["causal"] == bool(causal) and (r["exact"] or not exact)
    ]
    expected = min(rows, key=lambda r: r["flops_done"])["method"] if rows else None
    got = cheapest_fitting(n, 64, budget, heads=2, exact=bool(exact), causal=bool(causal))
    assert got == expected
    if got is not None and exact:
        assert get_method(got).exact


def test_cheapest_fitting_picks_flash_style_kernels_when_exactness_is_asked_at_long_n():
    assert cheapest_fitting(65536, 64, 1 * 2**30, heads=4, exact=True) in (
        "SDPA",
        "flash_attention",
    )
    assert cheapest_fitting(65536, 64, 1, heads=4) is None  # nothing fits one byte


# -- decode -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("t", [1, 7, 300])
def test_dense_decode_flops_match_the_flop_counter(t):
    q, k, v = torch.randn(1, 6), torch.randn(t, 6), torch.randn(t, 5)
    counted = count_flops(torch.nn.functional.scaled_dot_product_attention, q, k, v)
    assert decode_cost("SDPA", t, 6, 5)["flops"] == counted
    assert decode_cost("SDPA", t, 6, 5, itemsize=2)["cache_bytes"] == t * 11 * 2


def test_window_and_chunk_caches_stop_growing():
    w = WINDOW[0] + 1
    caches = [decode_cost("window, banded", t, 8, 8)["cache_bytes"] for t in (w, w + 1, 10 * w)]
    assert caches == [w * 16 * 2] * 3
    chunk = [decode_cost("chunked local (numpy)", t, 8, 8)["flops"] for t in (1, LOCAL_CHUNK)]
    assert chunk == [2 * 16, 2 * LOCAL_CHUNK * 16]
    assert decode_cost("chunked local (numpy)", LOCAL_CHUNK + 1, 8, 8)["flops"] == 2 * 16


def test_linear_state_is_the_recurrent_steps_state():
    d_k, d_v = 6, 5
    s, z = torch.zeros(d_k, d_v), torch.zeros(d_k)
    _, s, z = linear_attention_step(s, z, torch.randn(d_k), torch.randn(d_k), torch.randn(d_v))
    for t in (1, 10**6):
        assert decode_cost("linear (elu+1) causal", t, d_k, d_v, itemsize=4)["cache_bytes"] == (
            (s.numel() + z.numel()) * 4
        )


@pytest.mark.parametrize("t", [1, 129, 4096])
def test_quantized_cache_is_quant_kv_cache_quant_bytes(t):
    shape = ModelShape(n_layers=1, d_model=64, n_heads=1, d_ff=4, vocab_size=2)
    expected = kv_cache_quant_bytes(shape, t, KV_BITS)["total"]
    assert decode_cost("KV 4-bit (numpy)", t, 64, 64)["cache_bytes"] == expected


@pytest.mark.parametrize("t", [1, 5, 64, 300])
def test_strided_decode_keys_are_the_last_row_of_the_mask(t):
    keys = int(strided_mask(t)[-1].sum())
    assert decode_cost("strided + local, block-sparse", t, 4, 4)["flops"] == 2 * keys * 8


def test_non_causal_methods_have_no_decoding_step():
    for name in ("Linformer", "BigBird, block-sparse"):
        cost = decode_cost(name, 10, 4, 4)
        assert cost["flops"] is None and cost["note"].startswith("not causal")


# -- retrieval --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def task():
    return retrieval_task(512, np.arange(1, 512, 10), seed=3)


@pytest.mark.parametrize("method", [m for m in METHODS if m.exact], ids=str)
def test_exact_methods_retrieve_what_full_attention_retrieves(method, task):
    expected = retrieval_correct(task, "full attention")
    assert expected.all() and np.array_equal(method_retrieval(method, task), expected)


def test_windows_and_chunks_retrieve_what_lesson_09s_patterns_do(task):
    window = retrieval_correct(task, "sliding window", window=WINDOW[0] + 1)
    chunks = retrieval_correct(task, "chunked", chunk=LOCAL_CHUNK)
    for name in ("window, dense mask", "window, banded", "window, block-sparse"):
        assert np.array_equal(method_retrieval(name, task), window)
    assert np.array_equal(method_retrieval("chunked local (numpy)", task, batch=7), chunks)
    assert not window.all() and not chunks.all()  # negative control: both lose the far needles


def test_linear_attention_loses_the_needle(task):
    assert method_retrieval("linear (elu+1)", task).mean() < 0.5


# -- the A16 summary and the published figures -------------------------------------------------------


def test_a16_rows_cover_every_technique_with_the_measured_values():
    names = ["SDPA", "window, banded", "linear (elu+1)", "Performer"]
    result = measure_methods([32, 64], names, heads=1, d=4, rounds=1)
    rows = a16_rows(result, n=64, retrieval={"SDPA": 1.0})
    assert {r["technique"] for r in rows} == {g[0] for g in A16_GROUPS}
    measured = {(r["method"], r["n"]): r for r in result["rows"]}
    for row in rows:
        if row["method"] is None:
            continue
        source = measured[(row["method"], 64)]
        assert row["memory_bytes"] == source["memory_bytes"]
        assert row["max_error"] == source["max_error"]
        assert row["decode"] == decode_cost(row["method"], 64, 4, 4)
        assert row["retrieval"] == (1.0 if row["method"] == "SDPA" else None)
    sdpa = next(r for r in rows if r["method"] == "SDPA")
    assert sdpa["memory_slope"] == pytest.approx(1.0, abs=0.05)  # output + logsumexp: O(n)
    with pytest.raises(ValueError, match="n"):
        a16_rows(result, n=128)


def test_published_lra_averages_recompute_and_names_exist():
    for model, row in LRA_ACCURACY.items():
        mean = sum(row[t] for t in LRA_TASKS) / len(LRA_TASKS)
        assert round(mean, 2) == pytest.approx(row["avg"], abs=0.011), model
    speed = LRA_SPEED_4K["Transformer"]["steps_per_s"]
    assert all(LRA_SPEED_4K[m]["steps_per_s"] / speed > 0.7 for m in LRA_SPEED_4K)
    assert set(LRA_SPEED_4K) <= set(LRA_ACCURACY) == set(LRA_NAMES)
    assert {name for name in LRA_NAMES.values() if name} <= {m.name for m in METHODS}
