"""Activation checkpointing (Chen et al. 2016, arXiv 1604.06174) of a stack of blocks.

``CheckpointedStack(blocks, every=k)`` runs the blocks in segments of k under
``torch.utils.checkpoint.checkpoint(..., use_reentrant=False)``: autograd keeps only each segment's
input, and backward runs the segment's forward again to rebuild what it needs, one segment at a time.
With L blocks that is ⌈L/k⌉ stored inputs plus one segment's activations during backward, smallest
near k = √L; the price is one extra forward of every block. ``every=None`` runs the plain stack
(everything saved), so the same blocks can be compared under both.

Dropout is exact: ``checkpoint`` saves the RNG state of each segment and restores it when it
recomputes (``preserve_rng_state=True``), so the gradients equal plain autograd's.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from tutor_lib._validate import check_int

__all__ = ["CheckpointedStack", "as_blocks"]


def as_blocks(blocks, name: str = "blocks") -> nn.ModuleList:
    """``blocks`` (a non-empty sequence of ``nn.Module``) as an ``nn.ModuleList``."""
    if isinstance(blocks, nn.Module) and not isinstance(blocks, (nn.ModuleList, nn.Sequential)):
        raise TypeError(f"{name} must be a sequence of nn.Module, got one {type(blocks).__name__}")
    if not isinstance(blocks, (Sequence, nn.ModuleList, nn.Sequential)):
        raise TypeError(f"{name} must be a sequence of nn.Module, got {type(blocks).__name__}")
    blocks = list(blocks)
    if not blocks:
        raise ValueError(f"{name} must contain at least one block")
    for i, block in enumerate(blocks):
        if not isinstance(block, nn.Module):
            raise TypeError(f"{name}[{i}] must be an nn.Module, got {type(block).__name__}")
    return nn.ModuleList(blocks)


def _run(blocks: Sequence[nn.Module], *inputs: torch.Tensor):
    """Apply the blocks in order; a block returning a tuple passes all of it to the next one."""
    for block in blocks:
        out = block(*inputs)
        inputs = out if isinstance(out, tuple) else (out,)
    return inputs if len(inputs) > 1 else inputs[0]


class CheckpointedStack(nn.Module):
    """L blocks run in order, checkpointed every ``every`` blocks (None: no checkpointing).

    ``forward(*inputs)``: the first block's inputs (e.g. ``x`` of shape (batch, n, d_model), or
    ``x1, x2`` for reversible blocks used as plain ones); returns the last block's output.
    """

    def __init__(self, blocks: Sequence[nn.Module], every: int | None = None):
        super().__init__()
        self.blocks = as_blocks(blocks)
        self.every = None if every is None else check_int(every, "every", minimum=1)

    def segments(self) -> list[nn.ModuleList]:
        """The blocks grouped as they are checkpointed: ⌈L / every⌉ segments (one if None)."""
        k = len(self.blocks) if self.every is None else self.every
        return [self.blocks[i : i + k] for i in range(0, len(self.blocks), k)]

    def forward(self, *inputs: torch.Tensor):
        if not inputs:
            raise ValueError("CheckpointedStack needs at least one input tensor")
        if self.every is None:
            return _run(self.blocks, *inputs)
        out = inputs
        for segment in self.segments():
            out = checkpoint(_run, segment, *out, use_reentrant=False)
            out = out if isinstance(out, tuple) else (out,)
        return out if len(out) > 1 else out[0]
