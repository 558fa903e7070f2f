"""The error of an attention method: max |out − exact softmax attention|, in float64.

Exact attention for every query of a long sequence is the very n × n computation the efficient
methods avoid, so the error can be taken on a sample of query rows: :func:`exact_rows` computes
softmax attention for chosen rows only (O(rows · n) memory), :func:`sample_rows` spreads the rows
evenly over the sequence (first and last included, where windows and causal masks clip).
"""

from __future__ import annotations

import numpy as np
import torch

from tutor_lib._validate import as_float_array, check_bool, check_int
from tutor_lib.attention import attention

__all__ = ["sample_rows", "exact_rows", "error_on_rows", "max_error"]


def sample_rows(n: int, count: int) -> np.ndarray:
    """``min(count, n)`` distinct query rows spread evenly over [0, n), 0 and n − 1 included."""
    n = check_int(n, "n", minimum=1)
    count = check_int(count, "count", minimum=1)
    if count >= n:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, count).round().astype(np.int64))


def _float64(x, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().double()
    return np.asarray(as_float_array(x, name, min_ndim=2), dtype=np.float64)


def _check_rows(rows, n: int) -> np.ndarray:
    rows = np.asarray(rows)
    if rows.ndim != 1 or rows.size == 0 or not np.issubdtype(rows.dtype, np.integer):
        raise ValueError(f"rows must be a non-empty 1-D list of ints, got {rows!r}")
    if rows.min() < 0 or rows.max() >= n:
        raise ValueError(f"rows must lie in [0, n) = [0, {n}), got {rows.min()} … {rows.max()}")
    return rows


def exact_rows(q, k, v, rows, *, causal: bool = False) -> np.ndarray:
    """Softmax attention in float64 for the query rows ``rows`` only (self-attention).

    q, k: (..., n, d_k), v: (..., n, d_v) (numpy or torch), rows: ints in [0, n) →
    (..., len(rows), d_v). ``causal``: row i sees keys j ≤ i. O(len(rows)·n) memory.
    """
    q, k, v = _float64(q, "q"), _float64(k, "k"), _float64(v, "v")
    n = k.shape[-2]
    if q.shape[-2] != n:
        raise ValueError(f"q and k must have the same length n, got {q.shape[-2]} and {n}")
    rows = _check_rows(rows, n)
    allowed = None
    if check_bool(causal, "causal"):
        allowed = np.arange(n)[None, :] <= rows[:, None]  # (rows, n): key j ≤ query i
    return attention(q[..., rows, :], k, v, mask=allowed)


def error_on_rows(out, exact, rows) -> float:
    """max |out[..., rows, :] − exact| in float64: out (..., n, d_v) (numpy or torch), exact
    (..., len(rows), d_v) from :func:`exact_rows`."""
    out, exact = _float64(out, "out"), _float64(exact, "exact")
    rows = _check_rows(rows, out.shape[-2])
    picked = out[..., rows, :]
    if picked.shape != exact.shape:
        raise ValueError(
            f"out's rows {picked.shape} and exact {exact.shape} must have the same shape"
        )
    return float(np.max(np.abs(picked - exact)))


def max_error(out, q, k, v, *, causal: bool = False, rows=None) -> float:
    """max |out − exact attention| over the query rows ``rows`` (default: every row), float64.

    out: (..., n, d_v), a method's output for q, k (..., n, d_k), v (..., n, d_v) (numpy or
    torch); ``causal``: compared with causal attention (row i sees keys j ≤ i)."""
    n = _float64(q, "q").shape[-2]
    rows = np.arange(n) if rows is None else np.asarray(rows)
    return error_on_rows(out, exact_rows(q, k, v, rows, causal=causal), rows)
