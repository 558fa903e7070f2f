"""Transformer-XL segment-level recurrence in torch (Dai et al. 2019, arXiv 1901.02860).

A long sequence is processed one segment at a time. Every layer caches the last ``memory`` inputs
it saw (hidden states of the layer below) and the next segment attends to ``[SG(memory); segment]``,
where SG is **stop-gradient**: the cached states are constants, so backpropagation stays inside the
segment (training memory does not grow with the number of segments), while the forward pass still
reads information from far back: the reach grows by ``memory`` positions per layer.

:func:`segment_recurrence` runs a small stack of single-head attention layers with residual
connections, ``h ← h + softmax(mask(h W_q (h_mem W_k)ᵀ/√d)) h_mem W_v``, segment by segment. Its
output equals one dense pass over the whole sequence with the mask
``chunking_mask(n, segment, memory=memory, causal=True)`` at every layer.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from tutor_lib._validate import check_bool, check_int
from tutor_lib.torch_ops import check_tensor, masked_softmax

__all__ = ["segment_recurrence"]


def _check_weights(weights, d: int, dtype) -> list[tuple[torch.Tensor, ...]]:
    if isinstance(weights, (str, bytes)) or not isinstance(weights, Sequence) or not weights:
        raise TypeError("weights must be a non-empty list of (w_q, w_k, w_v) tuples, one per layer")
    checked = []
    for layer, triple in enumerate(weights):
        if not isinstance(triple, (tuple, list)) or len(triple) != 3:
            raise TypeError(f"weights[{layer}] must be a tuple (w_q, w_k, w_v)")
        for name, w in zip(("w_q", "w_k", "w_v"), triple, strict=True):
            check_tensor(w, f"weights[{layer}] {name}")
            if tuple(w.shape) != (d, d) or w.dtype != dtype:
                raise ValueError(
                    f"weights[{layer}] {name} must be ({d}, {d}) of dtype {dtype} like x, got "
                    f"{tuple(w.shape)} {w.dtype}"
                )
        checked.append(tuple(triple))
    return checked


def _layer(h, mem, w_q, w_k, w_v):
    """h: (..., b, d) segment, mem: (..., m, d) cached inputs → h + attention (..., b, d)."""
    context = torch.cat([mem, h], dim=-2)  # (..., m + b, d)
    b, m = h.shape[-2], mem.shape[-2]
    scores = (h @ w_q) @ (context @ w_k).transpose(-1, -2) / h.shape[-1] ** 0.5  # (..., b, m + b)
    # bottom-right causal: segment query a sits at position m + a of [mem; segment]
    allowed = torch.arange(m + b)[None, :] <= torch.arange(b)[:, None] + m
    return h + masked_softmax(scores, allowed) @ (context @ w_v)


def segment_recurrence(
    x: torch.Tensor,
    weights,
    *,
    segment: int,
    memory: int,
    stop_gradient: bool = True,
) -> torch.Tensor:
    """Run the layers over ``x`` one segment of ``segment`` tokens at a time, each layer attending
    to its last ``memory`` cached inputs (detached when ``stop_gradient``) and, causally, to the
    segment itself.

    x: (..., n, d) float tensor; weights: one ``(w_q, w_k, w_v)`` per layer, each (d, d) →
    (..., n, d), the last layer's output for every position. With ``stop_gradient=False`` the
    gradient flows back through the memory into earlier segments (backpropagation through time).
    """
    check_tensor(x, "x")
    if x.ndim < 2 or x.shape[-2] == 0:
        raise ValueError(f"x must have shape (..., n >= 1, d), got {tuple(x.shape)}")
    segment = check_int(segment, "segment", minimum=1)
    memory = check_int(memory, "memory", minimum=0)
    stop_gradient = check_bool(stop_gradient, "stop_gradient")
    layers = _check_weights(weights, x.shape[-1], x.dtype)
    n = x.shape[-2]
    caches = [x[..., :0, :] for _ in layers]  # per layer: the inputs it saw, last `memory` kept
    outputs = []
    for start in range(0, n, segment):
        h = x[..., start : start + segment, :]  # (..., b, d)
        for index, (w_q, w_k, w_v) in enumerate(layers):
            mem = caches[index].detach() if stop_gradient else caches[index]  # SG(h_{τ−1})
            seen = torch.cat([caches[index], h], dim=-2)  # (..., m + b, d)
            caches[index] = seen[..., seen.shape[-2] - min(memory, seen.shape[-2]) :, :]
            h = _layer(h, mem, w_q, w_k, w_v)
        outputs.append(h)
    return torch.cat(outputs, dim=-2)
