"""Online softmax: the running (max, normalizer, accumulator) state that makes blocked attention exact.

For one query, keys arrive in blocks. After each block we keep

* ``m`` — the largest score seen so far (``"max"``),
* ``ℓ = Σ_j e^{s_j − m}`` — the softmax normalizer relative to that max (``"normalizer"``),
* ``a = Σ_j e^{s_j − m} v_j`` — the un-normalised weighted sum of values (``"acc"``),

and a new block (scores ``s``, values ``V``) updates them (Milakov & Gimelshein 2018; Rabe & Staats
2021)::

    m' = max(m, max_j s_j)
    ℓ' = ℓ·e^{m − m'} + Σ_j e^{s_j − m'}
    a' = a·e^{m − m'} + Σ_j e^{s_j − m'} v_j

The factor ``e^{m − m'}`` is the **rescaling**: it re-expresses the old sums relative to the new max.
At the end ``out = a / ℓ`` and ``logsumexp = m + log ℓ``. Any split into blocks, in any order, gives
the same result, which is why two partial states can be merged (:func:`merge_partials`): ring
attention (lesson 09) merges the states of key blocks held by different devices.

Every function here works on numpy arrays **and** torch tensors (the state keeps the array type).
Shapes: scores ``(..., n_q, b)``, values ``(..., b, d_v)``; a state holds ``max`` and
``normalizer`` of shape ``(..., n_q)`` and ``acc`` of shape ``(..., n_q, d_v)`` (or None without
values). Masked keys have score ``-inf``; a query that has seen no allowed key has ``max = -inf``,
``normalizer = 0`` and output 0.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from tutor_lib._validate import as_float_array, check_int

__all__ = [
    "initial_state",
    "block_state",
    "merge_partials",
    "online_softmax_update",
    "finalize",
    "online_softmax_states",
]


def _xp(x):
    """The array namespace of ``x``: torch for tensors, numpy otherwise (same function names)."""
    return torch if isinstance(x, torch.Tensor) else np


def _check_state(state, name: str = "state") -> dict:
    if not isinstance(state, dict) or not {"max", "normalizer"} <= set(state):
        raise TypeError(
            f"{name} must be a dict with 'max', 'normalizer' (and 'acc'), as made by initial_state "
            f"or block_state; got {type(state).__name__}"
        )
    return state


def initial_state(like, n_values: int | None = None) -> dict:
    """The state before any key: ``max = -inf``, ``normalizer = 0``, ``acc = 0``.

    ``like``: an array (..., n_q) giving the shape and type (numpy or torch, dtype) of ``max``;
    ``n_values``: d_v, the width of ``acc`` (None: no values, ``acc`` is None).
    """
    like = _as_array(like, "like")
    xp = _xp(like)
    m = xp.full_like(like, -float("inf"))
    acc = None
    if n_values is not None:
        d_v = check_int(n_values, "n_values", minimum=1)
        acc = xp.zeros((*like.shape, d_v), dtype=like.dtype)
        if xp is torch:
            acc = acc.to(like.device)
    return {"max": m, "normalizer": xp.zeros_like(like), "acc": acc}


def _as_array(x, name: str):
    """A floating numpy array or torch tensor (torch stays torch), else a named error."""
    if isinstance(x, torch.Tensor):
        if not x.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
        return x
    return as_float_array(x, name, min_ndim=0)


def _block_state(scores, values):
    xp = _xp(scores)
    # m_b = max_j s_j  (an all-masked row has m_b = -inf; it is then shifted by 0 so e^{-inf} = 0)
    m = xp.amax(scores, -1)
    shift = xp.where(xp.isfinite(m), m, xp.zeros_like(m))
    # p_j = e^{s_j − m_b}
    p = xp.exp(scores - shift[..., None])
    acc = None if values is None else p @ values  # a_b = Σ_j p_j v_j         (..., n_q, d_v)
    return {"max": m, "normalizer": p.sum(-1), "acc": acc}  # ℓ_b = Σ_j p_j


def block_state(scores, values=None) -> dict:
    """The state of one block on its own: its max, normalizer and weighted sum.

    scores: (..., n_q, b), ``-inf`` = masked (NaN and +inf are rejected); values: (..., b, d_v)
    or None, of the same kind (numpy or torch) as scores.
    """
    scores = _as_array(scores, "scores")
    if scores.ndim < 1 or scores.shape[-1] == 0:
        raise ValueError(
            f"scores must have at least one key (last dim), got shape {tuple(scores.shape)}"
        )
    xp = _xp(scores)
    if bool(xp.isnan(scores).any()) or bool(xp.isposinf(scores).any()):
        raise ValueError("scores must not contain NaN or +inf (use -inf for masked keys)")
    if values is not None:
        values = _as_array(values, "values")
        if _xp(values) is not xp:
            raise TypeError("values must be the same kind of array as scores (numpy or torch)")
        if values.ndim < 2 or values.shape[-2] != scores.shape[-1]:
            raise ValueError(
                f"values must have shape (..., b, d_v) with b = {scores.shape[-1]} keys like "
                f"scores, got {tuple(values.shape)}"
            )
    return _block_state(scores, values)


def merge_partials(first: dict, second: dict) -> dict:
    """Combine the states of two disjoint sets of keys into the state of their union (exact).

    ``m = max(m₁, m₂)``, then each part is rescaled to the common max:
    ``ℓ = ℓ₁e^{m₁−m} + ℓ₂e^{m₂−m}`` and ``a = a₁e^{m₁−m} + a₂e^{m₂−m}``. Commutative and
    associative (up to rounding), so blocks may be merged in any order or as a tree.
    """
    first, second = _check_state(first, "first"), _check_state(second, "second")
    if tuple(first["max"].shape) != tuple(second["max"].shape):
        raise ValueError(
            f"second covers queries of shape {tuple(second['max'].shape)}, first "
            f"{tuple(first['max'].shape)}: merge states of the same queries"
        )
    xp = _xp(first["max"])
    # m = max(m₁, m₂); both -inf (nothing seen yet) → shift by 0 so the factors are e^{-inf} = 0
    m = xp.maximum(first["max"], second["max"])
    shift = xp.where(xp.isfinite(m), m, xp.zeros_like(m))
    # the rescaling factors e^{m₁ − m} and e^{m₂ − m}
    alpha, beta = xp.exp(first["max"] - shift), xp.exp(second["max"] - shift)
    normalizer = first["normalizer"] * alpha + second["normalizer"] * beta
    acc = None
    if first.get("acc") is not None and second.get("acc") is not None:
        acc = first["acc"] * alpha[..., None] + second["acc"] * beta[..., None]
    elif first.get("acc") is not None or second.get("acc") is not None:
        raise ValueError("either both states or neither must carry an 'acc' (values)")
    return {"max": m, "normalizer": normalizer, "acc": acc}


def online_softmax_update(state: dict, scores_block, values_block=None) -> dict:
    """One step of online softmax: the state after also seeing ``scores_block`` (and its values).

    state: from :func:`initial_state` or a previous update; scores_block: (..., n_q, b) with
    ``-inf`` for masked keys; values_block: (..., b, d_v) or None. Returns a new state (the old
    one is not modified): ``m' = max(m, max s)``, ``ℓ' = ℓe^{m−m'} + Σe^{s−m'}``,
    ``a' = ae^{m−m'} + Σe^{s−m'}v``.
    """
    return merge_partials(_check_state(state), block_state(scores_block, values_block))


def finalize(state: dict) -> tuple:
    """``(out, logsumexp)`` of a state: ``out = acc / ℓ`` (0 for a query with no allowed key, or
    None without values) and ``logsumexp = m + log ℓ`` (``-inf`` for such a query)."""
    state = _check_state(state)
    xp = _xp(state["max"])
    l = state["normalizer"]  # noqa: E741 - ℓ, the paper's name
    positive = l > 0
    safe = xp.where(positive, l, xp.ones_like(l))
    lse = xp.where(positive, state["max"] + xp.log(safe), state["max"] - float("inf"))
    out = None
    if state.get("acc") is not None:
        out = state["acc"] / safe[..., None] * positive[..., None]
    return out, lse


def online_softmax_states(scores, block: int, values=None) -> Iterator[dict]:
    """Step through online softmax over the keys of ``scores`` in blocks of ``block`` (numpy).

    scores: (n_k,) for one query or (..., n_k); values: (n_k, d_v) or None. Yields one dict per
    key block with ``"block"`` = (start, stop), the running ``"max"`` and ``"normalizer"`` after the
    block, their values before it (``"max_before"``, ``"normalizer_before"``), the rescaling factor
    ``"rescale"`` = e^{m_before − m} applied to the old sums, and, when values are given, the
    un-normalised ``"acc"`` before and after and the current ``"output"`` = acc / normalizer. The
    last state's max and normalizer are the full row's: max(s) and Σ e^{s − max(s)}.
    """
    s = as_float_array(scores, "scores")
    block = check_int(block, "block", minimum=1)
    if s.shape[-1] == 0:
        raise ValueError(f"scores must have at least one key (last dim), got shape {s.shape}")
    if np.isnan(s).any() or np.isposinf(s).any():
        raise ValueError("scores must not contain NaN or +inf (use -inf for masked keys)")
    vals = None
    if values is not None:
        vals = as_float_array(values, "values", min_ndim=2)
        if vals.shape[-2] != s.shape[-1]:
            raise ValueError(
                f"values must have n_k = {s.shape[-1]} rows (dim -2), got {vals.shape}"
            )
    return _steps(s, block, vals)  # checked now; the generator runs as the caller iterates


def _steps(s: np.ndarray, block: int, vals: np.ndarray | None) -> Iterator[dict]:
    n_k = s.shape[-1]
    state = initial_state(s[..., 0], None if vals is None else vals.shape[-1])
    for start in range(0, n_k, block):
        stop = min(start + block, n_k)
        values_block = None if vals is None else vals[..., start:stop, :]
        new = merge_partials(state, _block_state(s[..., start:stop], values_block))
        shift = np.where(np.isfinite(new["max"]), new["max"], 0.0)
        step = {
            "block": (start, stop),
            "max_before": state["max"],
            "normalizer_before": state["normalizer"],
            "rescale": np.exp(state["max"] - shift),
            "max": new["max"],
            "normalizer": new["normalizer"],
        }
        if vals is not None:
            step.update(acc_before=state["acc"], acc=new["acc"], output=finalize(new)[0])
        yield step
        state = new
