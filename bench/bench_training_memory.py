"""Lesson 07: what checkpointing and reversible layers cost in time, against what they save.

The same L reversible blocks (f = attention sublayer, g = MLP, dropout 0.1, fp32) run one training
step (forward + backward) three ways: plain autograd, checkpointed every √L blocks, and through
``ReversibleStack``. Printed: wall time (best of the repeats, one thread), its ratio to plain, the
FLOP ratio counted by ``count_flops`` (matmuls only; ≈ 4/3: one extra forward in a step of about
three), and the bytes saved for backward.

Target: each time ratio within 1.2× of its FLOP ratio, i.e. the extra time is the extra forward's
work, not overhead. (Element-wise work, dropout's random numbers above all, is recomputed too and is
not in the FLOP count; on tiny blocks Python overhead dominates instead, which is why the lesson's
small blocks show larger time ratios.)
"""

from __future__ import annotations

import math

import torch
from registry import Table, register
from torch import nn

from tutor_lib.costs import MIB
from tutor_lib.measure import count_flops, time_call
from tutor_lib.training_memory import (
    AttentionSublayer,
    CheckpointedStack,
    MLPSublayer,
    ReversibleBlock,
    ReversibleStack,
    saved_tensor_bytes,
)

TOLERANCE = 1.2  # time / plain <= 1.2 × FLOPs / plain


@register("training_memory", "plain vs checkpointed vs reversible training step (lesson 07)")
def training_memory(quick: bool) -> Table:
    layers, b, n, d, heads = (4, 2, 64, 64, 4) if quick else (9, 4, 256, 256, 4)
    torch.manual_seed(0)
    blocks = [
        ReversibleBlock(AttentionSublayer(d, heads, dropout=0.1), MLPSublayer(d, dropout=0.1))
        for _ in range(layers)
    ]
    weights = list(nn.ModuleList(blocks).parameters())
    x1, x2 = (torch.randn(b, n, d, requires_grad=True) for _ in range(2))
    stacks = {
        "plain": CheckpointedStack(blocks),
        f"checkpoint every {math.isqrt(layers)}": CheckpointedStack(
            blocks, every=math.isqrt(layers)
        ),
        "reversible": ReversibleStack(blocks),
    }

    def step(stack):
        y1, y2 = stack(x1, x2)
        (y1.sum() + y2.sum()).backward()

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # fair on a shared CPU: every variant gets one core
    try:
        repeat = 3 if quick else 5
        times = {k: time_call(step, s, repeat=repeat, reduce="min") for k, s in stacks.items()}
        flops = {k: count_flops(step, s) for k, s in stacks.items()}
        saved = {k: saved_tensor_bytes(s, x1, x2, exclude=weights) for k, s in stacks.items()}
    finally:
        torch.set_num_threads(threads)
    rows, verdicts = [], []
    for name in stacks:
        ratio = times[name] / times["plain"]
        rows.append(
            [name, 1e3 * times[name], ratio, flops[name] / flops["plain"], saved[name] / MIB]
        )
        if name != "plain":
            ok = ratio <= TOLERANCE * flops[name] / flops["plain"]
            verdicts.append(f"{name}: {ratio:.2f}× ({'pass' if ok else 'short'})")
    return Table(
        title=f"training step, L = {layers}, b = {b}, n = {n}, d = {d}, fp32, 1 thread",
        columns=["strategy", "ms", "time / plain", "FLOPs / plain", "saved MiB"],
        rows=rows,
        notes=[f"target: time / plain <= {TOLERANCE} × FLOPs / plain — " + "; ".join(verdicts)],
    )
