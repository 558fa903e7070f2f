"""Ring attention across real processes (torch.distributed): each rank holds one block of Q, K, V.

Liu, Zaharia, Abbeel 2023 (arXiv 2310.01889). In each of P steps a rank posts a non-blocking send
of the K/V block it holds to the next rank and a receive of the previous rank's block, computes its
queries against the block it holds (:func:`tutor_lib.chunking.ring_block_update`, the online-softmax
merge of :mod:`tutor_lib.tiled.online`) while the blocks travel, then waits and swaps buffers. After
P steps every rank holds the exact attention output for its queries. K/V memory per rank: its own
block plus the one in flight, O(n/P).

Must run inside an initialised process group (``torch.distributed.init_process_group``, e.g. gloo);
:func:`tutor_lib.distributed.launch` starts such a group of processes on this machine.
"""

from __future__ import annotations

import torch
import torch.distributed as dist

from tutor_lib._validate import check_bool
from tutor_lib.chunking import ring_block_update
from tutor_lib.tiled import finalize, initial_state
from tutor_lib.torch_ops import as_qkv_tensors, default_scale

__all__ = ["ring_attention"]


def _nbytes(t: torch.Tensor) -> int:
    return t.nelement() * t.element_size()


def _require_process_group() -> None:
    if not dist.is_available() or not dist.is_initialized():
        raise RuntimeError(
            "ring_attention needs an initialised torch.distributed process group "
            "(tutor_lib.distributed.launch starts one)"
        )


def _block_lengths(n_q: int, n_k: int) -> list[tuple[int, int]]:
    """(n_q, n_k) of every rank's blocks, in rank order (one all_gather)."""
    mine = torch.tensor([n_q, n_k], dtype=torch.int64)
    every = [torch.zeros(2, dtype=torch.int64) for _ in range(dist.get_world_size())]
    dist.all_gather(every, mine)
    return [(int(t[0]), int(t[1])) for t in every]


def _positions(lengths: list[tuple[int, int]]) -> tuple[list[int], list[int], int]:
    """(first query of each rank, first key of each rank, n_k − n_q) over the whole sequence."""
    q_starts = [sum(nq for nq, _ in lengths[:r]) for r in range(len(lengths))]
    k_starts = [sum(nk for _, nk in lengths[:r]) for r in range(len(lengths))]
    offset = sum(nk for _, nk in lengths) - sum(nq for nq, _ in lengths)  # n_k − n_q
    return q_starts, k_starts, offset


def _pass_on(current: torch.Tensor, rows: int) -> tuple[list, torch.Tensor]:
    """Post a non-blocking send of ``current`` (..., b_k, d_k + d_v) to rank + 1 and a receive of
    the previous rank's block (``rows`` keys) from rank − 1 → (requests, incoming buffer)."""
    rank, size = dist.get_rank(), dist.get_world_size()
    incoming = torch.empty((*current.shape[:-2], rows, current.shape[-1]), dtype=current.dtype)
    requests = [
        dist.isend(current, (rank + 1) % size),
        dist.irecv(incoming, (rank - 1) % size),
    ]
    return requests, incoming


def ring_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    *,
    causal: bool = False,
    scale: float | None = None,
    return_stats: bool = False,
):
    """This rank's share of exact attention over the whole sequence.

    q: (..., b_q, d_k), k: (..., b_k, d_k), v: (..., b_k, d_v): this rank's blocks; rank r's
    blocks come after rank r − 1's in the sequence (blocks may differ in length). Returns the
    output for this rank's queries (..., b_q, d_v), and with ``return_stats`` also a dict:
    ``kv_peak_bytes`` (the most K/V bytes this rank held at once: the block it computes on plus
    the one arriving), ``blocks_computed`` (blocks not skipped under ``causal``) and ``steps``.
    ``causal`` is bottom-right over the whole sequence. Every rank must call it (it communicates).
    """
    _require_process_group()
    q, k, v = as_qkv_tensors(q, k, v)
    causal = check_bool(causal, "causal")
    return_stats = check_bool(return_stats, "return_stats")
    rank, size = dist.get_rank(), dist.get_world_size()
    d_k = q.shape[-1]
    scale = default_scale(scale, d_k)
    lengths = _block_lengths(q.shape[-2], k.shape[-2])
    q_starts, k_starts, offset = _positions(lengths)
    current = torch.cat([k, v], dim=-1).contiguous()  # K/V travel together   (..., b_k, d_k + d_v)
    state = initial_state(torch.zeros(q.shape[:-1], dtype=q.dtype), v.shape[-1])
    peak, computed = 0, 0
    for step in range(size):
        block = (rank - step) % size  # the block this rank holds now (it came from rank − step)
        requests, incoming = [], None
        if step < size - 1:  # pass it on while computing: send to rank + 1, receive from rank − 1
            requests, incoming = _pass_on(current, lengths[(rank - step - 1) % size][1])
        peak = max(peak, _nbytes(current) + (0 if incoming is None else _nbytes(incoming)))
        before = state
        state = ring_block_update(
            state,
            q,
            current[..., :d_k],
            current[..., d_k:],
            q_start=q_starts[rank],
            k_start=k_starts[block],
            offset=offset,
            causal=causal,
            scale=scale,
        )
        computed += state is not before
        for request in requests:
            request.wait()
        if incoming is not None:
            current = incoming
    out, _ = finalize(state)  # O = a / ℓ for this rank's queries
    if return_stats:
        return out, {"kv_peak_bytes": peak, "blocks_computed": computed, "steps": size}
    return out
