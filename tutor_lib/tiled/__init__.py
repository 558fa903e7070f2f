"""Exact memory-efficient attention (lesson 05): online softmax, chunking, FlashAttention-style tiles.

* :mod:`tutor_lib.tiled.online` (numpy **and** torch): the online-softmax state (running max,
  normalizer, accumulator), one update step, merging two partial states (used by ring attention in
  lesson 09), and a step-by-step generator for the stepper widget;
* :mod:`tutor_lib.tiled.chunked` (numpy): ``chunked_attention`` (Rabe & Staats 2021), exact with
  O(query_chunk · key_chunk) memory, and the naive per-block softmax that is wrong;
* :mod:`tutor_lib.tiled.flash` (torch): ``flash_attention`` → (out, logsumexp), its backward pass by
  recomputation from the logsumexp, and autograd support;
* :mod:`tutor_lib.tiled.schedule`: the tile schedule (which tiles each query block visits; the causal
  skip), shared by ``flash_attention`` and the lesson's tile widget;
* :mod:`tutor_lib.tiled.io_model`: FlashAttention's IO model (HBM accesses vs on-chip memory M).

Everything here equals dense softmax attention (``tutor_lib.attention.attention``) up to rounding:
these methods save memory and memory traffic, not FLOPs.
"""

from tutor_lib.tiled.chunked import chunked_attention, naive_blockwise_attention
from tutor_lib.tiled.flash import flash_attention, flash_attention_backward
from tutor_lib.tiled.io_model import (
    flash_block_sizes,
    flash_hbm_accesses,
    largest_square_tile,
    standard_hbm_accesses,
    tile_working_set_bytes,
)
from tutor_lib.tiled.online import (
    block_state,
    finalize,
    initial_state,
    merge_partials,
    online_softmax_states,
    online_softmax_update,
)
from tutor_lib.tiled.schedule import tiles_visited

__all__ = [
    "block_state",
    "chunked_attention",
    "finalize",
    "flash_attention",
    "flash_attention_backward",
    "flash_block_sizes",
    "flash_hbm_accesses",
    "initial_state",
    "largest_square_tile",
    "merge_partials",
    "naive_blockwise_attention",
    "online_softmax_states",
    "online_softmax_update",
    "standard_hbm_accesses",
    "tile_working_set_bytes",
    "tiles_visited",
]
