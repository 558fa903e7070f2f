"""Reversible residual blocks (RevNet, Gomez et al. 2017; Reformer, Kitaev et al. 2020).

A reversible block splits the activations into two streams and couples them:

    y1 = x1 + f(x2)          inverse:   x2 = y2 − g(y1)
    y2 = x2 + g(y1)                     x1 = y1 − f(x2)

so a block's inputs can be **recomputed from its outputs**. ``ReversibleStack`` uses that in a
custom ``torch.autograd.Function``: forward runs every block without recording a graph and saves
only the last outputs; backward walks the blocks in reverse, rebuilds each block's inputs with the
inverse, reruns f and g on them with autograd on, and backpropagates through that one block. Stored
activations no longer grow with depth (a factor of L, not 2); the price is one more forward of
every f and g, and nothing here touches the n × n attention weights each f builds.

**Dropout.** A recomputed f must draw the same dropout mask as the forward did. The stack records
the CPU random-number-generator state before each f and g call (5,056 bytes each, held by the
Function, outside the saved tensors) and replays it, as the Reformer re-seeds its dropout
(``preserve_rng_state=False`` skips this for deterministic blocks).
**Rounding.** x2 = y2 − g(y1) is exact in real numbers only: each inverse adds rounding error,
which grows with depth (float32 much more than float64).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from tutor_lib._validate import check_bool
from tutor_lib.torch_ops import check_tensor
from tutor_lib.training_memory.checkpoint import as_blocks

__all__ = ["ReversibleBlock", "ReversibleStack", "reversible_forward", "reversible_inverse"]


def _check_pair(a, b, names: tuple[str, str]) -> None:
    check_tensor(a, names[0])
    check_tensor(b, names[1])
    if a.shape != b.shape or a.dtype != b.dtype:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape and dtype, got "
            f"{tuple(a.shape)} {a.dtype} and {tuple(b.shape)} {b.dtype}"
        )


def _check_callables(f, g) -> None:
    for name, fn in (("f", f), ("g", g)):
        if not callable(fn):
            raise TypeError(f"{name} must be callable, got {type(fn).__name__}")


def _apply(fn: Callable, x: torch.Tensor, name: str) -> torch.Tensor:
    """``fn(x)``, which must be a tensor of x's shape and dtype: a coupling that broadcasts or
    changes the shape could not be inverted (and would silently reshape the stream)."""
    out = fn(x)
    if not isinstance(out, torch.Tensor) or out.shape != x.shape or out.dtype != x.dtype:
        what = (
            f"{tuple(out.shape)} {out.dtype}"
            if isinstance(out, torch.Tensor)
            else type(out).__name__
        )
        raise TypeError(
            f"{name} must map a tensor to one of the same shape and dtype, "
            f"{tuple(x.shape)} {x.dtype}; got {what}"
        )
    return out


def reversible_forward(f: Callable, g: Callable, x1: torch.Tensor, x2: torch.Tensor):
    """(y1, y2) = (x1 + f(x2), x2 + g(y1)). x1, x2: the same shape, e.g. (batch, n, d_model)."""
    _check_callables(f, g)
    _check_pair(x1, x2, ("x1", "x2"))
    y1 = x1 + _apply(f, x2, "f")  # y1 = x1 + f(x2)
    return y1, x2 + _apply(g, y1, "g")  # y2 = x2 + g(y1)


def reversible_inverse(f: Callable, g: Callable, y1: torch.Tensor, y2: torch.Tensor):
    """(x1, x2) from the outputs: x2 = y2 − g(y1), then x1 = y1 − f(x2)."""
    _check_callables(f, g)
    _check_pair(y1, y2, ("y1", "y2"))
    x2 = y2 - _apply(g, y1, "g")  # x2 = y2 − g(y1)
    return y1 - _apply(f, x2, "f"), x2  # x1 = y1 − f(x2)


class ReversibleBlock(nn.Module):
    """y1 = x1 + f(x2), y2 = x2 + g(y1), with :meth:`inverse`. f, g: modules mapping a tensor to one
    of the same shape (in a Reformer: f = attention sublayer, g = feed-forward sublayer)."""

    def __init__(self, f: nn.Module, g: nn.Module):
        super().__init__()
        for name, fn in (("f", f), ("g", g)):
            if not isinstance(fn, nn.Module):
                raise TypeError(f"{name} must be an nn.Module, got {type(fn).__name__}")
        self.f, self.g = f, g

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return reversible_forward(self.f, self.g, x1, x2)

    def inverse(self, y1: torch.Tensor, y2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return reversible_inverse(self.f, self.g, y1, y2)


class _ReplayRNG:
    """Run the enclosed code with the CPU generator set to ``state`` (if any), then restore it."""

    def __init__(self, state: torch.Tensor | None):
        self.state = state

    def __enter__(self):
        if self.state is not None:
            self.saved = torch.get_rng_state()
            torch.set_rng_state(self.state)

    def __exit__(self, *exc):
        if self.state is not None:
            torch.set_rng_state(self.saved)


def _call(fn: nn.Module, x: torch.Tensor, states: list, preserve: bool, name: str):
    if preserve:
        states.append(torch.get_rng_state())
    return _apply(fn, x, name)


def _leaf(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A detached leaf to differentiate against, and a view of it to feed the module: a module
    input that is a leaf trips backward hooks (FlopCounterMode's module tracker) inside
    ``autograd.grad``."""
    leaf = t.detach().requires_grad_()
    return leaf, leaf.view_as(leaf)


def _grads(out, inputs, params, grad_out):
    """d(out)/d(inputs, params) · grad_out: the input's (zeros if ``out`` ignores it), then the
    parameters' (None for those ``out`` does not use)."""
    d_in, *d_params = torch.autograd.grad(out, (inputs, *params), grad_out, allow_unused=True)
    return (torch.zeros_like(inputs) if d_in is None else d_in), *d_params


class _ReversibleFunction(torch.autograd.Function):
    """Forward without a graph, saving only the final (y1, y2); backward by reconstruction."""

    @staticmethod
    def forward(ctx, x1, x2, blocks, preserve, *params):
        states: list = []
        with torch.no_grad():
            for i, block in enumerate(blocks):
                x1 = x1 + _call(block.f, x2, states, preserve, f"blocks[{i}].f")  # y1 = x1 + f(x2)
                x2 = x2 + _call(block.g, x1, states, preserve, f"blocks[{i}].g")  # y2 = x2 + g(y1)
        ctx.blocks, ctx.params, ctx.states = blocks, params, states
        ctx.save_for_backward(x1, x2)
        return x1, x2

    @staticmethod
    def backward(ctx, dy1, dy2):
        y1, y2 = ctx.saved_tensors
        grads = {id(p): None for p in ctx.params}
        states = list(ctx.states) if ctx.states else [None] * (2 * len(ctx.blocks))
        for block in reversed(ctx.blocks):
            state_g, state_f = states.pop(), states.pop()
            g_params = [p for p in block.g.parameters() if p.requires_grad]
            f_params = [p for p in block.f.parameters() if p.requires_grad]
            with torch.enable_grad():
                y1_, y1_in = _leaf(y1)
                with _ReplayRNG(state_g):
                    gy = block.g(y1_in)  # the same dropout mask as in forward
                dy1_g, *dg = _grads(gy, y1_, g_params, dy2)
                x2_, x2_in = _leaf(y2 - gy)  # x2 = y2 − g(y1)
                dy1 = dy1 + dy1_g  # y1 reaches the loss directly and through g
                with _ReplayRNG(state_f):
                    fx = block.f(x2_in)
                dx2_f, *df = _grads(fx, x2_, f_params, dy1)
            y1, y2 = (y1 - fx).detach(), x2_.detach()  # x1 = y1 − f(x2)
            dy2 = dy2 + dx2_f  # dx2 = dy2 + (∂f/∂x2)ᵀ dy1;  dx1 = dy1
            for p, grad in zip(g_params + f_params, dg + df, strict=True):
                if grad is not None:
                    grads[id(p)] = grad if grads[id(p)] is None else grads[id(p)] + grad
        return dy1, dy2, None, None, *(grads[id(p)] for p in ctx.params)


class ReversibleStack(nn.Module):
    """L :class:`ReversibleBlock` s whose backward recomputes each block's inputs from its outputs.

    ``forward(x1, x2) → (y1, y2)``; x1, x2: the same shape (e.g. both copies of the embeddings,
    (batch, n, d_model)). With autograd on, only (y1, y2) are saved for backward, whatever the
    depth; the gradients equal plain autograd's (to rounding), dropout included.
    """

    def __init__(self, blocks: Sequence[ReversibleBlock], *, preserve_rng_state: bool = True):
        super().__init__()
        self.blocks = as_blocks(blocks)
        for i, block in enumerate(self.blocks):
            if not isinstance(block, ReversibleBlock):
                raise TypeError(
                    f"blocks[{i}] must be a ReversibleBlock, got {type(block).__name__}"
                )
        self.preserve_rng_state = check_bool(preserve_rng_state, "preserve_rng_state")

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        _check_pair(x1, x2, ("x1", "x2"))
        params = list(dict.fromkeys(p for p in self.parameters() if p.requires_grad))
        return _ReversibleFunction.apply(x1, x2, self.blocks, self.preserve_rng_state, *params)

    def inverse(self, y1: torch.Tensor, y2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The stack's inputs from its outputs, block by block in reverse (no RNG replay: use it
        in eval mode or with deterministic blocks)."""
        _check_pair(y1, y2, ("y1", "y2"))
        for block in reversed(self.blocks):
            y1, y2 = block.inverse(y1, y2)
        return y1, y2
