"""What a method of the comparison is (:class:`Method`) and the FLOPs attention variants compute.

A :class:`Method` entry says what the method is (family, lesson, exact or model-changing, the exact
attention it is compared with), how to run it at a length n (``make(n, dtype)`` returns
``fn(q, k, v) -> out``, with anything built per length, such as a projection or a mask, made once
outside the timed call), which library it runs on (numpy: memory by ``tracemalloc``; torch: by the
bytes autograd saves) and the FLOPs it **must** do: the arithmetic of its own model, not what one
implementation spends (a dense mask computes all n² scores; the model needs only the band).

The formulas count a matmul (m, k) @ (k, p) as 2·m·k·p FLOPs (one multiply-add = 2) and ignore
element-wise work, as ``torch.utils.flop_counter`` does; all are per (batch, head) row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from tutor_lib._validate import check_bool, check_int
from tutor_lib.linear.cost_model import associativity_flops

__all__ = [
    "Method",
    "BACKENDS",
    "dense_flops",
    "window_pairs",
    "block_diagonal_pairs",
    "banded_flops",
    "block_sparse_window_flops",
    "linear_flops",
    "chunked_linear_flops",
]

BACKENDS = ("torch", "numpy")  # torch: timed against SDPA, saved bytes; numpy: tracemalloc peak


@dataclass(frozen=True)
class Method:
    """One row of the comparison.

    ``make(n, dtype)`` → ``fn(q, k, v) -> out`` for inputs of length n (torch tensors of ``dtype``
    for ``backend="torch"``, float64 numpy arrays for ``"numpy"``); ``flops(n, d_k, d_v)`` → the
    FLOPs the method must do per (batch, head) row; ``exact``: equal to softmax attention up to
    rounding (False: the method changes the model); ``causal``: compared with causal attention;
    ``max_n``: longest length it is run at (memory or time); ``baseline``: the SDPA row that
    other methods' times are divided by; ``flops_done(n, d_k, d_v)``: what this implementation
    computes when that is more than the method must do (a dense mask computes every score;
    default: ``flops``).
    """

    name: str
    family: str
    lesson: str
    exact: bool
    causal: bool
    backend: str
    make: Callable[[int, torch.dtype], Callable]
    flops: Callable[[int, int, int], int]
    settings: str = ""
    max_n: int | None = None
    baseline: bool = False
    flops_done: Callable[[int, int, int], int] | None = None

    def __post_init__(self):
        for field_name in ("name", "family", "lesson", "settings"):
            if not isinstance(getattr(self, field_name), str):
                raise TypeError(f"{field_name} must be a str")
        if not self.name:
            raise ValueError("name must not be empty")
        for field_name in ("exact", "causal", "baseline"):
            check_bool(getattr(self, field_name), field_name)
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {self.backend!r}")
        for field_name in ("make", "flops", "flops_done"):
            value = getattr(self, field_name)
            if not callable(value) and not (field_name == "flops_done" and value is None):
                raise TypeError(f"{field_name} must be callable")
        if self.max_n is not None:
            check_int(self.max_n, "max_n", minimum=1)

    def computed_flops(self, n: int, d_k: int, d_v: int) -> int:
        """``flops_done`` if given, else ``flops``: what the implementation computes."""
        return (self.flops_done or self.flops)(n, d_k, d_v)


def _sizes(n: int, d_k: int, d_v: int, names=("n", "d_k", "d_v")) -> tuple[int, int, int]:
    return tuple(
        check_int(x, name, minimum=1) for x, name in zip((n, d_k, d_v), names, strict=True)
    )


def dense_flops(n: int, d_k: int, d_v: int, *, causal: bool = False) -> int:
    """Softmax attention: 2·d_k per score (QKᵀ) + 2·d_v per weight (PV) over the n² pairs, or the
    n(n+1)/2 pairs j ≤ i when ``causal`` (4·n²·d for d_k = d_v = d)."""
    n, d_k, d_v = _sizes(n, d_k, d_v)
    pairs = n * (n + 1) // 2 if check_bool(causal, "causal") else n * n
    return 2 * pairs * (d_k + d_v)


def window_pairs(n: int, left: int, right: int) -> int:
    """(i, j) pairs with -left <= j - i <= right inside [0, n): Σ_i (min(n−1, i+right) −
    max(0, i−left) + 1), about n·(left + right + 1) away from the edges."""
    n = check_int(n, "n", minimum=1)
    left, right = check_int(left, "left", minimum=0), check_int(right, "right", minimum=0)
    i = np.arange(n, dtype=np.int64)
    return int(np.sum(np.minimum(n - 1, i + right) - np.maximum(0, i - left) + 1))


def block_diagonal_pairs(n: int, chunk: int) -> int:
    """(i, j) pairs in the same chunk of ``chunk`` tokens (the last chunk may be short): what
    chunked local attention (lesson 09) must compute, (n // chunk)·chunk² + (n mod chunk)²."""
    n, chunk = check_int(n, "n", minimum=1), check_int(chunk, "chunk", minimum=1)
    return (n // chunk) * chunk**2 + (n % chunk) ** 2


def banded_flops(n: int, d_k: int, d_v: int, *, left: int, right: int, block: int) -> int:
    """What ``sparse.sliding_window_attention`` computes: every block of ``block`` queries (the
    last one padded) against its span of block + left + right keys, window clipped to n − 1."""
    n, d_k, d_v = _sizes(n, d_k, d_v)
    left = min(check_int(left, "left", minimum=0), n - 1)
    right = min(check_int(right, "right", minimum=0), n - 1)
    block = min(check_int(block, "block", minimum=1), n)
    return 2 * -(-n // block) * block * (block + left + right) * (d_k + d_v)


def block_sparse_window_flops(
    n: int, d_k: int, d_v: int, *, left: int, right: int, block: int
) -> int:
    """What ``sparse.block_sparse_attention`` computes for the window mask: each query tile
    against every key of the key tiles its band touches (tiles of ``block``, the last ones short)."""
    n, d_k, d_v = _sizes(n, d_k, d_v)
    left, right = check_int(left, "left", minimum=0), check_int(right, "right", minimum=0)
    block = min(check_int(block, "block", minimum=1), n)
    total = 0
    for start in range(0, n, block):
        stop = min(start + block, n)  # query tile [start, stop)
        first = max(0, start - left) // block * block  # first key tile touched
        last = min(n, (min(n - 1, stop - 1 + right) // block + 1) * block)  # end of the last one
        total += (stop - start) * (last - first)
    return 2 * total * (d_k + d_v)


def linear_flops(n: int, features: int, d_v: int) -> int:
    """Linear attention with d' = ``features``: S = φ(K)ᵀ[V, 1] and φ(Q) S, 2·n·d'·(d_v + 1) each
    (the normalizer rides along as an extra column of V). The causal form needs the same: prefix
    sums of the same outer products, one read-out per query."""
    n, features, d_v = _sizes(n, features, d_v, ("n", "features", "d_v"))
    return associativity_flops(n, n, features, d_v)["linear"]


def chunked_linear_flops(n: int, features: int, d_v: int, *, chunk: int, piece: int) -> int:
    """What the chunked causal form of ``linear.linear_attention`` computes: pieces of ``piece``
    tokens, each padded to chunks of C = min(chunk, piece length); per chunk φK_cᵀ[V_c, 1] and
    φQ_c S (4·C·d'·e, e = d_v + 1) plus the causal C × C block (2·C²·(d' + e))."""
    n, features, d_v = _sizes(n, features, d_v, ("n", "features", "d_v"))
    chunk, piece = check_int(chunk, "chunk", minimum=1), check_int(piece, "piece", minimum=1)
    e, total = d_v + 1, 0
    for start in range(0, n, piece):
        length = min(piece, n - start)
        c = min(chunk, length)
        padded = -(-length // c) * c
        total += 4 * padded * features * e + 2 * padded * c * (features + e)
    return total
