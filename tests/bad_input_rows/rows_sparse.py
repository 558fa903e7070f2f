"""Bad inputs for tutor_lib.sparse (torch kernels): named NaN/inf, clamped blocks, size guards."""

import numpy as np
import torch

from bad_input_rows import error, result, with_value
from tutor_lib.attention import attention
from tutor_lib.limits import TooLargeError
from tutor_lib.masks import local_mask
from tutor_lib.sparse import (
    block_sparse_attention,
    cached_bytes,
    default_query_block,
    sliding_window_attention,
)

GEN = torch.Generator().manual_seed(30)
Q, K, V = (torch.randn(1, 9, 4, generator=GEN, dtype=torch.float64) for _ in range(3))
MASK = local_mask(9, 2, 0)
REFERENCE = torch.from_numpy(attention(Q.numpy(), K.numpy(), V.numpy(), MASK))


def _close(expected, rows=slice(None)):
    return lambda got: torch.allclose(got[:, rows], expected[:, rows], rtol=0, atol=1e-12)


# A (1, 200000, 64) float32 sequence as zero-stride views: no memory until a kernel allocates
LONG = torch.zeros(1, 1, 64).expand(1, 200_000, 64)

ROWS = [
    # sliding_window_attention
    error(
        sliding_window_attention,
        with_value(Q, (0, 3, 0), float("nan")),
        K,
        V,
        left=2,
        right=0,
        name="q",
        why="NaN in q",
    ),
    error(
        sliding_window_attention,
        Q,
        K,
        with_value(V, (0, 8, 1), float("inf")),
        left=2,
        right=0,
        name="v",
        why="inf in a v row the first queries cannot see",
    ),
    error(sliding_window_attention, Q, K, V, left=-1, right=0, name="left", why="negative left"),
    error(sliding_window_attention, Q, K, V, left=2, right=0, block=0, name="block", why="block 0"),
    error(
        sliding_window_attention,
        Q,
        K[:, :5],
        V[:, :5],
        left=1,
        right=1,
        name="length",
        why="n_q != n_k",
    ),
    error(
        sliding_window_attention,
        Q.numpy(),
        K,
        V,
        left=1,
        right=1,
        raises=TypeError,
        name="q",
        why="a numpy q",
    ),
    error(
        sliding_window_attention,
        Q,
        K.float(),
        V,
        left=1,
        right=1,
        raises=TypeError,
        name="dtype",
        why="mixed dtypes",
    ),
    error(
        sliding_window_attention,
        Q.float() * 1e20,
        K.float() * 1e20,
        V.float(),
        left=2,
        right=0,
        name="overflow",
        why="float32 scores overflow",
    ),
    error(
        block_sparse_attention,
        Q.float() * 1e20,
        K.float() * 1e20,
        V.float(),
        MASK,
        block=4,
        name="overflow",
        why="float32 scores overflow",
    ),
    error(
        sliding_window_attention,
        LONG,
        LONG,
        LONG,
        left=10**6,
        right=10**6,
        raises=TooLargeError,
        name="sliding_window_attention(n=200000",
        why="a 750 GiB window",
    ),
    result(
        sliding_window_attention,
        Q,
        K,
        V,
        left=2,
        right=0,
        block=10**5,
        check=_close(REFERENCE),
        why="block 10**5 is clamped to n (asked for 80 GB)",
    ),
    result(
        sliding_window_attention,
        Q,
        K,
        with_value(V, (0, 8, 0), 1e300),
        left=2,
        right=0,
        check=_close(REFERENCE, slice(0, 6)),
        why="a huge v row outside the window",
    ),
    # block_sparse_attention
    error(
        block_sparse_attention,
        Q,
        with_value(K, (0, 0, 0), float("nan")),
        V,
        MASK,
        block=4,
        name="k",
        why="NaN in k",
    ),
    error(
        block_sparse_attention,
        Q,
        K,
        V,
        MASK.astype(int),
        block=4,
        raises=TypeError,
        name="mask",
        why="int mask",
    ),
    error(block_sparse_attention, Q, K, V, MASK[:5], block=4, name="mask", why="mask shape"),
    error(block_sparse_attention, Q, K, V, MASK, block=0, name="block", why="block 0"),
    error(
        block_sparse_attention,
        Q,
        K,
        V,
        MASK,
        block=2.0,
        raises=TypeError,
        name="block",
        why="float block",
    ),
    error(
        block_sparse_attention,
        LONG[:, :70_000],
        LONG[:, :70_000],
        LONG[:, :70_000],
        np.broadcast_to(np.ones((1, 1), dtype=bool), (70_000, 70_000)),
        block=10**6,
        raises=TooLargeError,
        name="block_sparse_attention",
        why="one 70000² tile",
    ),
    result(
        block_sparse_attention,
        Q,
        K,
        V,
        MASK,
        block=10**5,
        check=_close(REFERENCE),
        why="block 10**5 is clamped",
    ),
    result(
        block_sparse_attention,
        Q,
        K,
        with_value(V, (0, 8, 0), 1e300),
        MASK,
        block=4,
        check=_close(REFERENCE, slice(0, 6)),
        why="a huge masked v row",
    ),
    result(
        block_sparse_attention,
        Q,
        K,
        V,
        np.zeros((9, 9), dtype=bool),
        block=4,
        check=lambda o: bool((o == 0).all()),
        why="fully masked: zeros",
    ),
    # helpers
    error(default_query_block, -1, 0, 8, name="left", why="negative left"),
    error(default_query_block, 4, 4, 0, name="n", why="n = 0"),
    result(default_query_block, 10**9, 10**9, 5, check=lambda b: b == 5, why="at most n"),
    result(
        cached_bytes,
        check=lambda b: isinstance(b, int) and 0 <= b <= 64 * 2**20,
        why="bounded by 64 MiB",
    ),
]
