"""Structured sparse attention masks (numpy): which keys each query may see, and what that buys.

Every factory returns a boolean ``(n, n)`` self-attention mask, **True = may attend** (as SDPA's
``attn_mask``); row ``i`` is query ``i``, column ``j`` is key ``j``. Masks combine with ``|`` (a
query may use either pattern, e.g. Longformer = window | global) and ``&`` (both rules must hold,
e.g. a causal window = window & causal).

* :mod:`tutor_lib.masks.patterns`: the factories (local, dilated, block, strided, fixed, global,
  random, and BigBird's blocks);
* :mod:`tutor_lib.masks.analysis`: density, receptive field through L layers, tile masks;
* :mod:`tutor_lib.masks.content`: content-based sparsity (top-k scores per query).

Offsets are ``j - i`` (key minus query): negative = the past, positive = the future.
"""

from tutor_lib.masks.analysis import (
    compose_layers,
    density,
    keys_per_query,
    mask_stats,
    receptive_field,
    tile_mask,
    tile_savings,
    tile_sparsity,
)
from tutor_lib.masks.content import topk_mask
from tutor_lib.masks.patterns import (
    block_local_mask,
    block_mask,
    block_random_mask,
    causal_mask,
    dilated_mask,
    fixed_mask,
    global_mask,
    local_mask,
    random_mask,
    strided_mask,
)

__all__ = [
    "block_local_mask",
    "block_mask",
    "block_random_mask",
    "causal_mask",
    "compose_layers",
    "density",
    "dilated_mask",
    "fixed_mask",
    "global_mask",
    "keys_per_query",
    "local_mask",
    "mask_stats",
    "random_mask",
    "receptive_field",
    "strided_mask",
    "tile_mask",
    "tile_savings",
    "tile_sparsity",
    "topk_mask",
]
