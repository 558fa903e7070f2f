"""What a sparse mask buys and costs: density, reach through layers, tiles a kernel can skip.

* :func:`density`, :func:`keys_per_query` — how many query-key pairs are allowed;
* :func:`receptive_field`, :func:`compose_layers` — which inputs reach each position through stacked
  layers (with residual connections);
* :func:`tile_mask`, :func:`tile_sparsity`, :func:`tile_savings` — the mask seen by a kernel that
  works in ``block × block`` tiles: only tiles that are *entirely* False can be skipped;
* :func:`mask_stats` — all of the above in one dict (what the mask explorer shows).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tutor_lib._validate import as_bool_mask, check_int
from tutor_lib.limits import guard_bytes

__all__ = [
    "density",
    "keys_per_query",
    "receptive_field",
    "compose_layers",
    "tile_mask",
    "tile_sparsity",
    "tile_savings",
    "mask_stats",
]


def _matrix(mask, name: str = "mask") -> np.ndarray:
    m = as_bool_mask(mask, name)
    if m.ndim != 2 or 0 in m.shape:
        raise ValueError(f"{name} must be a non-empty 2-D (n_q, n_k) matrix, got shape {m.shape}")
    return m


def density(mask) -> float:
    """Fraction of allowed query-key pairs: ``mask.sum() / mask.size`` (1.0 = dense attention)."""
    m = as_bool_mask(mask)
    if m.size == 0:
        raise ValueError("mask must not be empty")
    return float(m.mean())


def keys_per_query(mask) -> np.ndarray:
    """Number of allowed keys for each query (row sums), an int array of shape ``(n_q,)``."""
    return _matrix(mask).sum(axis=-1)


def compose_layers(masks: Sequence) -> np.ndarray:
    """Reachability through a stack of layers with residual connections, first layer first.

    Layer l lets position i read position j iff ``masks[l][i, j]``; the residual adds the identity.
    R = (M_L | I) ∘ … ∘ (M_1 | I) as a boolean matrix product: ``R[i, j]`` is True iff input j can
    influence output i. Use it for stacks that alternate patterns (e.g. Sparse Transformer's local
    and strided heads in alternate layers).
    """
    if isinstance(masks, (np.ndarray, str)) or not isinstance(masks, Sequence) or not masks:
        raise TypeError("masks must be a non-empty list of (n, n) boolean masks")
    n = _matrix(masks[0], "masks[0]").shape[0]
    _guard_reach(n, f"compose_layers over masks of size n={n}")
    reach = np.eye(n)
    for layer, mask in enumerate(masks):
        step = _matrix(mask, f"masks[{layer}]")
        if step.shape != (n, n):
            raise ValueError(f"masks[{layer}] must have shape {(n, n)}, got {step.shape}")
        # R ← (M | I) · R   (boolean product through float BLAS: entries are counts ≥ 0, test > 0)
        reach = ((step | np.eye(n, dtype=bool)).astype(np.float64) @ reach > 0).astype(np.float64)
    return reach > 0


def _guard_reach(n: int, what: str) -> None:
    """Reachability multiplies (n, n) float64 matrices: three of them exist at once, plus masks."""
    guard_bytes(3 * 8 * n * n + 2 * n * n, what, hint="a smaller n shows the same reach")


def receptive_field(mask, layers: int) -> np.ndarray:
    """Which inputs reach each position after ``layers`` stacked layers that all use ``mask``.

    With residual connections this is the boolean matrix power ``(mask | I) ** layers`` (computed by
    repeated squaring); ``layers = 0`` gives the identity. A window of ``left`` keys back reaches
    ``layers · left`` tokens back: Mistral's 32 layers × 4096 ≈ 131k tokens.
    """
    m = _matrix(mask)
    if m.shape[0] != m.shape[1]:
        raise ValueError(f"mask must be square (self-attention), got shape {m.shape}")
    layers = check_int(layers, "layers", minimum=0)
    n = m.shape[0]
    _guard_reach(n, f"receptive_field(mask of size n={n})")
    base = (m | np.eye(n, dtype=bool)).astype(np.float64)
    result = np.eye(n)
    while layers:  # exponentiation by squaring; every power of one matrix commutes
        if layers & 1:
            result = (base @ result > 0).astype(np.float64)
        layers >>= 1
        if layers:
            base = (base @ base > 0).astype(np.float64)
    return result > 0


def tile_mask(mask, block: int) -> np.ndarray:
    """The mask a tiled kernel sees: ``(ceil(n_q / block), ceil(n_k / block))``, a tile is True
    (must be computed) if **any** of its entries is True. Edge tiles may be smaller than ``block``.
    """
    m = _matrix(mask)
    block = min(check_int(block, "block", minimum=1), max(m.shape))  # one tile covers it all
    # OR over each band of ``block`` rows, then over each band of columns: no padded copy
    rows = np.logical_or.reduceat(m, np.arange(0, m.shape[0], block), axis=0)  # (t_q, n_k)
    return np.logical_or.reduceat(rows, np.arange(0, m.shape[1], block), axis=1)  # (t_q, t_k)


def tile_sparsity(mask, block: int) -> float:
    """Fraction of ``block × block`` tiles that are entirely False (what FlexAttention's
    ``BlockMask.sparsity()`` reports, as a fraction): the tiles a kernel may skip."""
    return float(1.0 - tile_mask(mask, block).mean())


def tile_savings(mask, block: int) -> float:
    """Fraction of the ``n_q · n_k`` score entries (so of the QKᵀ and PV FLOPs) that lie in skipped
    tiles. Equals :func:`tile_sparsity` when ``block`` divides both lengths."""
    m = _matrix(mask)
    active = tile_mask(m, block)  # (t_q, t_k)
    block = min(block, max(m.shape))
    rows = np.minimum(block, m.shape[0] - block * np.arange(active.shape[0]))  # tile heights
    cols = np.minimum(block, m.shape[1] - block * np.arange(active.shape[1]))  # tile widths
    # entries computed = Σ_tiles active · height · width; every row of tiles but the last is
    # ``block`` high, so sum the rows of tiles first (no (t_q, t_k) int temporary)
    height_per_col = block * active[:-1].sum(axis=0) + rows[-1] * active[-1]  # (t_k,)
    computed = int(height_per_col @ cols)
    return float(1.0 - computed / m.size)


def mask_stats(mask, receptive, tile: int) -> dict[str, float]:
    """Everything the mask explorer reports about a square mask, in one dict.

    ``receptive`` is the receptive field of ``mask`` (:func:`receptive_field`). Keys: ``density``;
    ``keys_mean``, ``keys_min``, ``keys_max`` (keys per query); ``coverage`` (density of the receptive
    field); ``reach_back`` (the farthest any query reaches into the past, in tokens);
    ``tile_sparsity`` and ``flops_saved`` (:func:`tile_savings`) for ``tile × tile`` tiles.
    """
    m, reach = _matrix(mask), _matrix(receptive, "receptive")
    tile = check_int(tile, "tile", minimum=1)
    if m.shape[0] != m.shape[1] or reach.shape != m.shape:
        raise ValueError(
            f"mask and receptive must be square and of one shape, got {m.shape} and {reach.shape}"
        )
    keys = keys_per_query(m)
    n = m.shape[0]
    first_seen = np.where(reach.any(axis=1), reach.argmax(axis=1), np.arange(n))
    return {
        "density": density(m),
        "keys_mean": float(keys.mean()),
        "keys_min": int(keys.min()),
        "keys_max": int(keys.max()),
        "coverage": density(reach),
        "reach_back": int((np.arange(n) - first_seen).max()),
        "tile_sparsity": tile_sparsity(m, tile),
        "flops_saved": tile_savings(m, tile),
    }
