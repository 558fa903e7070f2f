"""A synthetic long-range retrieval task and a hand-built retrieval head (numpy, deterministic).

Each trial is a sequence of n tokens. Token j carries three things: an address ``a_j`` (a random
unit vector in R^{d_key}, what it can be found by), a request ``c_j`` (what it looks for) and a value
``y_j`` (one of ``num_values`` classes, one-hot). The last token's request is the address of the
**needle**, the token ``distance`` positions earlier: its job is to output the needle's value.

The head is one attention layer with hand-set weights: ``W_Q`` reads the request and multiplies it
by :data:`SHARPNESS`, ``W_K`` reads the address, ``W_V`` reads the one-hot value, scale 1. The score
of the needle is ``SHARPNESS`` (a unit vector against itself); every other score is
``SHARPNESS · cos`` of two random directions, about ``N(0, SHARPNESS²/d_key)``. So the softmax puts
almost all its weight on the needle **if the needle is among the keys the query may see**; if it is
not, the output is a blend of random values and the prediction is right by chance (1/num_values).
No training, no seeds beyond the data: accuracy vs distance shows exactly which distances each
attention pattern can retrieve in one layer.
"""

from __future__ import annotations

import numpy as np

from tutor_lib import masks
from tutor_lib._validate import check_int
from tutor_lib.attention import attention
from tutor_lib.chunking.local import (
    chunked_local_attention,
    streaming_mask,
    transformer_xl_attention,
)
from tutor_lib.limits import guard_bytes

__all__ = ["SHARPNESS", "RETRIEVAL_METHODS", "retrieval_task", "retrieval_correct"]

SHARPNESS = 12.0  # the needle's score; a distractor's is ~ N(0, SHARPNESS² / d_key)

# method → its default parameters (about 64–128 keys for the last query at n = 512)
RETRIEVAL_METHODS: dict[str, dict] = {
    "full attention": {},
    "chunked": {"chunk": 64},
    "chunked + global": {"chunk": 64, "global_tokens": 8},
    "sliding window": {"window": 64},
    "window + sinks": {"window": 60, "sinks": 4},
    "dilated": {"window": 64, "dilation": 4},
    "BigBird-style": {"block": 16, "global_tokens": 16, "random_blocks": 2},
    "Transformer-XL": {"segment": 64, "memory": 64},
}


def _unit_rows(rng, shape) -> np.ndarray:
    x = rng.standard_normal(shape)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def retrieval_task(
    n: int, distances, *, d_key: int = 32, num_values: int = 16, seed: int = 0
) -> dict[str, np.ndarray]:
    """One trial per entry of ``distances`` (each in 1 … n − 1): the needle sits at position
    ``n − 1 − distance``; the last token asks for it.

    Returns ``q`` (T, n, d_key) = SHARPNESS · requests, ``k`` (T, n, d_key) = addresses,
    ``v`` (T, n, num_values) one-hot values, ``target`` (T,) the needle's value and ``distance`` (T,).
    """
    n = check_int(n, "n", minimum=2)
    d_key = check_int(d_key, "d_key", minimum=1)
    num_values = check_int(num_values, "num_values", minimum=2)
    seed = check_int(seed, "seed", minimum=0)
    dist = np.asarray(distances)
    if dist.ndim != 1 or dist.size == 0 or not np.issubdtype(dist.dtype, np.integer):
        raise TypeError(f"distances must be a non-empty 1-D list of ints, got {distances!r}")
    if dist.min() < 1 or dist.max() > n - 1:
        raise ValueError(
            f"distances must lie in 1 … n − 1 = {n - 1}, got {dist.min()} … {dist.max()}"
        )
    trials = dist.size
    guard_bytes(
        8 * trials * n * (2 * d_key + num_values) * 2, f"retrieval_task(n={n}, trials={trials})"
    )
    rng = np.random.default_rng(seed)
    k = _unit_rows(rng, (trials, n, d_key))  # addresses a_j
    requests = _unit_rows(rng, (trials, n, d_key))  # c_j: what each token looks for
    labels = rng.integers(num_values, size=(trials, n))  # y_j
    needle = n - 1 - dist  # (T,) positions
    requests[:, -1] = k[np.arange(trials), needle]  # the last token asks for the needle
    v = np.eye(num_values)[labels]  # (T, n, num_values) one-hot
    return {
        "q": SHARPNESS * requests,
        "k": k,
        "v": v,
        "target": labels[np.arange(trials), needle],
        "distance": dist.astype(int),
    }


def _last_row(task, mask_row) -> np.ndarray:
    """The last query's output (T, num_values) with key mask ``mask_row`` (n,) or (T, n)."""
    q_last = task["q"][:, -1:, :]  # (T, 1, d_key)
    row = np.asarray(mask_row)[..., None, :]  # (1, n) or (T, 1, n)
    return attention(q_last, task["k"], task["v"], row, scale=1.0)[:, 0]


def _bigbird_rows(n: int, trials: int, block: int, global_tokens: int, random_blocks: int):
    """The last query's BigBird row per trial (T, n): window of blocks, global, random blocks
    (16 random layouts, seeds 0 … 15, cycled over the trials)."""
    base = masks.block_local_mask(n, block, 1, 1)[-1] | masks.global_mask(n, global_tokens)[-1]
    layouts = [masks.block_random_mask(n, block, random_blocks, seed)[-1] for seed in range(16)]
    return np.stack([base | layouts[t % 16] for t in range(trials)])


def _outputs(task: dict, method: str, p: dict) -> np.ndarray:
    q, k, v = task["q"], task["k"], task["v"]
    n = q.shape[-2]
    if method == "full attention":
        return _last_row(task, np.ones(n, dtype=bool))
    if method == "chunked":
        return chunked_local_attention(q, k, v, p["chunk"], scale=1.0)[:, -1]
    if method == "chunked + global":
        return _last_row(
            task, masks.block_mask(n, p["chunk"])[-1] | (np.arange(n) < p["global_tokens"])
        )
    if method == "sliding window":
        return _last_row(task, streaming_mask(n, 0, p["window"])[-1])
    if method == "window + sinks":
        return _last_row(task, streaming_mask(n, p["sinks"], p["window"])[-1])
    if method == "dilated":
        return _last_row(task, masks.dilated_mask(n, p["window"] - 1, 0, p["dilation"])[-1])
    if method == "BigBird-style":
        rows = _bigbird_rows(n, q.shape[0], p["block"], p["global_tokens"], p["random_blocks"])
        return _last_row(task, rows)
    # Transformer-XL: the last segment attends to itself and to `memory` cached positions
    start = ((n - 1) // p["segment"]) * p["segment"]
    m0 = max(0, start - p["memory"])
    seg, mem = slice(start, n), slice(m0, start)
    out = transformer_xl_attention(q[:, seg], k[:, seg], v[:, seg], k[:, mem], v[:, mem], scale=1.0)
    return out[:, -1]


def retrieval_correct(task: dict, method: str, **params) -> np.ndarray:
    """(T,) booleans: did the last query's output pick the needle's value, with ``method`` (a key
    of :data:`RETRIEVAL_METHODS`; keywords override its default parameters)?"""
    if not isinstance(task, dict) or not {"q", "k", "v", "target"} <= set(task):
        raise TypeError("task must be the dict made by retrieval_task")
    if not isinstance(method, str) or method not in RETRIEVAL_METHODS:
        raise ValueError(f"method must be one of {sorted(RETRIEVAL_METHODS)}, got {method!r}")
    unknown = sorted(set(params) - set(RETRIEVAL_METHODS[method]))
    if unknown:
        raise ValueError(f"params {unknown} are not parameters of {method!r}")
    p = {**RETRIEVAL_METHODS[method], **params}
    for name, value in p.items():
        p[name] = check_int(
            value, name, minimum=0 if name in ("global_tokens", "sinks", "memory") else 1
        )
    out = _outputs(task, method, p)  # (T, num_values)
    return out.argmax(axis=-1) == task["target"]
