"""Size guards and peak memory: functions whose memory grows with n² (or a size the user picks)
check their bytes before allocating, and mask factories build their output without n×n int64
temporaries. Peaks are measured with tracemalloc (numpy allocations), so they are deterministic."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tutor_lib
from tutor_lib import masks
from tutor_lib.attention import attention, random_attention_weights
from tutor_lib.costs import KIB, MIB
from tutor_lib.ffn import chunked_ffn, ffn
from tutor_lib.limits import TooLargeError, get_max_bytes, set_max_bytes
from tutor_lib.measure import peak_bytes
from tutor_lib.sparse import block_sparse_attention, sliding_window_attention

N = 2048  # a 4 MiB boolean mask

FACTORIES = {
    "causal_mask": lambda n: masks.causal_mask(n),
    "local_mask": lambda n: masks.local_mask(n, 5, 3),
    "dilated_mask": lambda n: masks.dilated_mask(n, 3, 2, 4),
    "block_mask": lambda n: masks.block_mask(n, 64),
    "block_local_mask": lambda n: masks.block_local_mask(n, 64, 1, 1),
    "strided_mask": lambda n: masks.strided_mask(n, 45),
    "fixed_mask": lambda n: masks.fixed_mask(n, 64, 8),
    "global_mask": lambda n: masks.global_mask(n, 4),
    "random_mask": lambda n: masks.random_mask(n, 3, seed=0),
    "block_random_mask": lambda n: masks.block_random_mask(n, 64, 3, seed=0),
}


@pytest.fixture
def limit():
    """Run a test under its own byte limit; the default comes back afterwards."""
    previous = get_max_bytes()
    yield set_max_bytes
    set_max_bytes(previous)


@pytest.mark.parametrize("name", FACTORIES)
def test_mask_factories_peak_at_about_the_output(name):
    """An (n, n) boolean mask is n² bytes; an n×n int64 temporary would be 8·n² on its own
    (local_mask used 10×, dilated_mask 18× before)."""
    peak = peak_bytes(FACTORIES[name], N)
    assert peak <= 2 * N * N + 256 * KIB, f"{name}: peak {peak / N**2:.2f}× the output"


def test_the_peak_test_can_fail():
    """Negative control: the int64 way of building a window (j - i over an (n, n) grid) peaks far
    above the bound the factories meet."""
    i, j = np.arange(N)[:, None], np.arange(N)[None, :]
    peak = peak_bytes(lambda: (j - i >= -5) & (j - i <= 3))
    assert peak > 2 * N * N + 256 * KIB


@pytest.mark.parametrize("name", FACTORIES)
def test_mask_factories_refuse_before_allocating(name, limit):
    limit(1 * MIB)

    def attempt():
        with pytest.raises(TooLargeError, match=r"needs 4\.0 MiB, over the limit of 1\.0 MiB"):
            FACTORIES[name](N)

    assert peak_bytes(attempt) < 64 * KIB  # the error came before the n² allocation


def test_the_limit_message_says_how_to_raise_it(limit):
    with pytest.raises(TooLargeError) as info:
        masks.local_mask(100_000, 4, 4)
    text = str(info.value)
    assert "local_mask(n=100000) needs 9.3 GiB" in text and "limit of 4.0 GiB" in text
    assert "tutor_lib.set_max_bytes" in text and "sliding_window_attention" in text
    limit(16 * 2**30)
    assert tutor_lib.get_max_bytes() == 16 * 2**30  # the error's advice works (not run: 9 GiB)


GUARDED = {
    "attention": lambda: attention(*(np.ones((1024, 2)),) * 3),  # scores 3·8 MiB
    "random_attention_weights": lambda: random_attention_weights(1024, 2),
    "receptive_field": lambda: masks.receptive_field(np.eye(1024, dtype=bool), 2),
    "compose_layers": lambda: masks.compose_layers([np.eye(1024, dtype=bool)]),
    "ffn": lambda: ffn(
        np.ones((1024, 2)), np.ones((2, 1024)), np.ones(1024), np.ones((1024, 2)), np.ones(2)
    ),
    "chunked_ffn": lambda: chunked_ffn(
        np.ones((1024, 2)),
        np.ones((2, 1024)),
        np.ones(1024),
        np.ones((1024, 2)),
        np.ones(2),
        chunk_size=1024,
    ),
    "sliding_window_attention": lambda: sliding_window_attention(
        *(torch.ones(1, 1024, 64),) * 3, left=1024, right=1024
    ),
    "block_sparse_attention": lambda: block_sparse_attention(
        *(torch.ones(1, 1024, 64),) * 3, np.ones((1024, 1024), dtype=bool), block=1024
    ),
}


@pytest.mark.parametrize("name", GUARDED)
def test_quadratic_functions_refuse_over_the_limit_and_run_under_it(name, limit):
    limit(1 * MIB)
    with pytest.raises(TooLargeError, match=name):
        GUARDED[name]()
    limit(None)  # back to the default 4 GiB: the same call runs
    GUARDED[name]()


def test_set_max_bytes_none_restores_the_default(limit):
    limit(123)
    assert get_max_bytes() == 123
    limit(None)
    assert get_max_bytes() == 4 * 2**30
