"""Sequence chunking, what it loses, and what brings long range back (lesson 09).

* :mod:`tutor_lib.chunking.local` (numpy): chunked local attention (= dense with a block-diagonal
  mask), overlapping chunks, one Transformer-XL step over ``[memory; segment]``, the masks of these
  patterns (chunks + overlap + global tokens + memory; StreamingLLM's sinks + window) and how far
  back Transformer-XL reaches through L layers;
* :mod:`tutor_lib.chunking.ring` (numpy, the step also torch): ring attention simulated over P
  devices with the online softmax of :mod:`tutor_lib.tiled.online` — exact;
* :mod:`tutor_lib.chunking.recurrence` (torch): Transformer-XL segment recurrence with
  stop-gradient memory;
* :mod:`tutor_lib.chunking.retrieval` (numpy): a synthetic long-range retrieval task and a hand-built
  retrieval head, the *quality* side of every pattern.

Chunked, overlapping, global-token, sink, dilated, BigBird and Transformer-XL patterns change the
model (a query sees fewer keys); ring attention does not (same output as dense attention).
:mod:`tutor_lib.distributed` runs ring attention over real processes.
"""

from tutor_lib.chunking.local import (
    chunk_bounds,
    chunked_local_attention,
    chunking_mask,
    overlapping_chunk_attention,
    streaming_mask,
    transformer_xl_attention,
    txl_earliest_position,
)
from tutor_lib.chunking.recurrence import segment_recurrence
from tutor_lib.chunking.retrieval import (
    RETRIEVAL_METHODS,
    SHARPNESS,
    retrieval_correct,
    retrieval_task,
)
from tutor_lib.chunking.ring import (
    block_bounds,
    ring_attention,
    ring_block_update,
    ring_memory_bytes,
    ring_schedule,
)

__all__ = [
    "RETRIEVAL_METHODS",
    "SHARPNESS",
    "block_bounds",
    "chunk_bounds",
    "chunked_local_attention",
    "chunking_mask",
    "overlapping_chunk_attention",
    "retrieval_correct",
    "retrieval_task",
    "ring_attention",
    "ring_block_update",
    "ring_memory_bytes",
    "ring_schedule",
    "segment_recurrence",
    "streaming_mask",
    "transformer_xl_attention",
    "txl_earliest_position",
]
