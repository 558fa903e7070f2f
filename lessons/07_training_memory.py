# %% [markdown]
# # 07 · Training memory: the full budget, what autograd saves, checkpointing and reversible layers
#
# **What you will learn**
# - the memory of a training step, from the model's config: weights, gradients and optimizer states
#   (16 bytes per parameter with mixed-precision Adam) and the activations saved for backward
#   (Korthikanti et al. 2022), worked out for GPT-3 175B and a Mistral-7B-like model;
# - what PyTorch's autograd really saves for one Transformer block, tensor by tensor, measured, and
#   how it differs from the paper's formula (dropout masks, LayerNorm statistics);
# - where FlashAttention-style kernels fit: they remove the n² term from what is saved;
# - **activation checkpointing** (Chen et al. 2016) and **reversible layers** (RevNet, Reformer): saved
#   bytes against depth L, measured (∝ L, ~√L, constant), and the extra forward pass each one costs;
# - why reversible layers need care: reconstruction error in float32 vs float64 as depth grows;
# - what is wrong with "reversible attention halves memory".
#
# **Prerequisites:** lesson 00 (parameters, bytes per value), lesson 01 (multi-head attention),
# lesson 03 (what training keeps, `saved_bytes`); lesson 05 helps for FlashAttention.
#
# **Runtime:** about 5 s on a quiet 2-core CPU, up to 19 s on a busy one (`make report`). No GPU, no
# downloads.

# %%
# %matplotlib inline
import copy
import math

import torch
from matplotlib import pyplot as plt
from torch import nn
from tutor_lib.costs import (
    GIB,
    GPT3_175B,
    GPU_80GB_BYTES,
    KIB,
    MIB,
    MISTRAL_7B_LIKE,
    ModelShape,
    activation_bytes,
    layer_flops,
    param_count,
    training_budget,
    training_state_bytes,
)
from tutor_lib.exercises import (
    check_activation_bytes,
    check_max_batch_size,
    check_reversible_inverse,
)
from tutor_lib.measure import count_flops, loglog_slope, saved_tensors, sweep, time_call
from tutor_lib.plots import plot_saved_vs_depth, plot_training_budget
from tutor_lib.training_memory import (
    AttentionSublayer,
    CheckpointedStack,
    MLPSublayer,
    ReversibleBlock,
    ReversibleStack,
    TransformerBlock,
    saved_tensor_bytes,
)
from tutor_lib.widgets import training_memory_explorer

torch.manual_seed(0)
torch.set_num_threads(1)  # small tensors: one thread is faster and steadier on a shared CPU
TB = 10**12  # decimal terabytes, to compare with published figures

# %% [markdown]
# ## 1. The training budget, from the config
#
# Inference needs the weights and a KV cache. A training step needs much more, in two kinds:
#
# - **model states**, fixed by the number of parameters N: the weights, their gradients, and the
#   optimizer's state. With **mixed-precision Adam** (the ZeRO paper, Rajbhandari et al. 2020, §3.1)
#   the matmuls use 16-bit weights (2 bytes) and 16-bit gradients (2 bytes), while the optimizer keeps
#   an fp32 master copy of the weights (4), Adam's momentum (4) and variance (4):
#
# $$\text{states} = (2 + 2 + 4 + 4 + 4)\,N = 16N \text{ bytes.}$$
#
#   Plain fp32 Adam happens to cost 16 bytes per parameter too (4 + 4 + 8).
# - **activations**: the tensors the forward pass saves for the backward pass. They grow with the
#   batch b, the sequence length s and the depth L (section 2).
#
# `training_state_bytes(shape)` is N × the bytes per parameter, by part:

# %%
for shape in (GPT3_175B, MISTRAL_7B_LIKE):
    states = training_state_bytes(shape)
    n = param_count(shape)
    assert states["total"] == 16 * n  # 2 + 2 + 4 + 4 + 4 bytes per parameter
    print(
        f"{shape.name:>16}: N = {n / 1e9:6.2f} B → states {states['total'] / TB:5.2f} TB "
        f"= {states['total'] / GIB:7,.0f} GiB → {math.ceil(states['total'] / GPU_80GB_BYTES):>2} "
        f"devices of 80 GB, before a single activation"
    )
print({part: f"{value / GIB:,.0f} GiB" for part, value in training_state_bytes(GPT3_175B).items()})

# %% [markdown]
# GPT-3's weights alone, in fp16, are 325 GiB; training it keeps about 2.8 TB of states, spread over
# dozens of 80 GB accelerators by ZeRO-style sharding or model parallelism. The Mistral-7B-like model's
# 7.2 B parameters need 108 GiB of states: more than one 80 GB device, even before the activations.
#
# ### Activations, per layer (Korthikanti et al. 2022)
#
# Korthikanti et al. ("Reducing Activation Recomputation in Large Transformer Models", 2022, §4) count
# what one GPT layer saves in 16-bit, with dropout, for s tokens, batch b, width h = d_model and a
# heads:
#
# $$\text{activations per layer} = s\,b\,h\left(34 + 5\,\frac{a\,s}{h}\right) \text{ bytes.}$$
#
# The 34·s·b·h are tensors of width h (or 4h in the MLP), 2 bytes per value: the inputs of both
# LayerNorms and of the four linear layers (the last one's input is 4h wide), Q, K and V, the GELU's
# 4h-wide input, plus two 1-byte dropout masks (2 + 2 + 2 + 2 + 2 + 8 + 6 + 8 + 1 + 1 = 34). The 5·a·s²·b are
# the
# attention core, per head an s × s matrix three times: the softmax output (2 bytes), its dropout
# mask (1) and the dropout output (2). Two remedies from the same paper: **selective recomputation**
# recomputes the attention core in backward (leaving 34·s·b·h), **full recomputation** keeps only
# each layer's input (2·s·b·h) and reruns the layer. `activation_bytes(shape, seq_len, batch,
# recompute=...)` spells the formula out tensor by tensor (it also handles grouped-query attention and
# SwiGLU), summed over the L layers:

# %%
print(f"{'':>16} | {'s':>5} | {'none':>9} | {'selective':>9} | {'full':>8}")
for shape, s in ((GPT3_175B, 2048), (MISTRAL_7B_LIKE, 4096)):
    row = [activation_bytes(shape, s, 1, recompute=r) / GIB for r in ("none", "selective", "full")]
    print(f"{shape.name:>16} | {s:>5} | {row[0]:5.1f} GiB | {row[1]:5.1f} GiB | {row[2]:4.1f} GiB")
h, a, s = GPT3_175B.d_model, GPT3_175B.n_heads, 2048
print(f"GPT-3 at s = 2048: 34 + 5·a·s/h = 34 + {5 * a * s / h:.0f}: the s² term is the larger one")
flops = layer_flops(s, h, GPT3_175B.d_ff)  # one layer's forward: projections, scores, FFN
share = flops["scores"] / flops["total"]
print(f"the attention core's matmuls (QKᵀ and PV) are {share:.1%} of a layer's forward FLOPs")

# %% [markdown]
# One GPT-3 sequence of 2048 tokens saves 256 GiB of activations, more than three 80 GB devices; most
# of it is the s² term. Selective recomputation removes that term by recomputing only the attention
# core (softmax, dropout and the two matmuls QKᵀ and PV, 4·s²·h FLOPs), which is a small share of the
# layer's work while s is well below 6h. The whole budget for the two models, one sequence each:

# %%
budget_rows = {}
for shape, s in ((GPT3_175B, 2048), (MISTRAL_7B_LIKE, 4096)):
    for recompute in ("none", "selective", "full"):
        parts = training_budget(shape, s, 1, recompute=recompute)
        budget_rows[f"{shape.name}, {recompute}"] = parts
        gib = {k: f"{v / GIB:,.0f}" for k, v in parts.items()}
        print(
            f"{shape.name:>16}, s={s}, recompute {recompute:>9}: weights {gib['weights']} + grads "
            f"{gib['gradients']} + optimizer {gib['optimizer states']} + activations "
            f"{gib['activations']} = {gib['total']} GiB → "
            f"{math.ceil(parts['total'] / GPU_80GB_BYTES)} × 80 GB"
        )

# %%
fig, axes = plt.subplots(2, 1, figsize=(7.0, 4.6), layout="constrained")
for ax, name in zip(axes, (GPT3_175B.name, MISTRAL_7B_LIKE.name), strict=True):
    rows = {k.split(", ")[1]: v for k, v in budget_rows.items() if k.startswith(name)}
    plot_training_budget(rows, ax=ax, limit_bytes=GPU_80GB_BYTES, limit_label="one 80 GB GPU", title=name)
plt.show()

# %% [markdown]
# For GPT-3 the states dominate (they are split across devices by ZeRO or tensor/pipeline parallelism);
# for the 7B model at 4096 tokens, the activations without recomputation are as large as the states.
# These are floors: temporary buffers, the logits (s·b·vocab numbers) and fragmentation come on top.
#
# ## 2. What autograd saves, tensor by tensor
#
# The formula is a model of an implementation. Let us measure a real one. `TransformerBlock` is a
# GPT-2 style block (pre-LayerNorm, causal multi-head attention, GELU MLP of width 4h, dropout where
# Korthikanti put it) written with explicit PyTorch ops. `saved_tensors(fn, *args)` runs `fn` under
# `torch.autograd.graph.saved_tensors_hooks` and lists every storage autograd keeps for backward, once
# each, with the torch function that saved it; `exclude=block.parameters()` leaves out the weights
# (they are model states, not activations). In bf16, like the paper's 16-bit:

# %%
b, s, h, a = 2, 32, 64, 4
block = TransformerBlock(h, a, dropout=0.1).to(torch.bfloat16)
x = torch.randn(b, s, h, dtype=torch.bfloat16, requires_grad=True)
records = saved_tensors(block, x, exclude=block.parameters())
sbh, as2b = s * b * h, a * s * s * b
print(f"{'saved by':>12} | {'shape':>15} | {'dtype':>8} | {'bytes':>6} | in units")
for r in records:
    units = f"{r.nbytes / as2b:.0f}·a·s²·b" if r.shape[-2:] == (s, s) else f"{r.nbytes / sbh:.3g}·s·b·h"
    print(f"{r.op:>12} | {str(r.shape):>15} | {str(r.dtype)[6:]:>8} | {r.nbytes:>6} | {units}")
measured = sum(r.nbytes for r in records)
print(f"total {measured:,} bytes; Korthikanti: s·b·h·(34 + 5as/h) = {34 * sbh + 5 * as2b:,} bytes")

# %% [markdown]
# Read the table from the top: LayerNorm 1 keeps its input x (2·s·b·h) and two tiny per-token
# statistics (mean and 1/std); the QKV projection keeps its input; the two matmuls keep Q, K and V
# (2·s·b·h each); softmax keeps its output P (2·a·s²·b); dropout keeps its mask; the matmul with V
# keeps the dropped-out P; the output projection keeps its input; then the same for the MLP (GELU
# keeps its 4h-wide input, the second linear layer its 4h-wide input, the GELU's output). The total
# differs from the formula by two documented amounts:
#
# - **dropout masks**: on CPU, PyTorch keeps the mask in the activation's dtype (2 bytes in bf16);
#   Korthikanti assume a 1-byte mask, as GPU kernels keep. `activation_bytes(..., mask_bytes=2)`
#   models that;
# - **LayerNorm statistics**: mean and 1/std per token, 2 × 2 × s·b values per layer, which the
#   formula leaves out (8·s·b bytes against 34·s·b·h: negligible at real widths).

# %%
shape_one_layer = ModelShape(n_layers=1, d_model=h, n_heads=a, d_ff=4 * h, vocab_size=1)
ln_stats = 2 * 2 * s * b * 2  # two LayerNorms × (mean, 1/std) × s·b tokens × 2 bytes
cpu_model = activation_bytes(shape_one_layer, s, b, mask_bytes=2)
print(
    f"measured == activation_bytes(mask_bytes=2) + LayerNorm statistics: {measured == cpu_model + ln_stats}"
)
gpu_saving = measured - activation_bytes(shape_one_layer, s, b) - ln_stats
print(f"masks at 1 byte (GPU) would save {gpu_saving:,} bytes")
block.eval()  # no dropout: the masks and the separate dropped-out P disappear
no_dropout = saved_tensor_bytes(block, x, exclude=block.parameters())
print(
    f"without dropout: {no_dropout:,} bytes == formula(dropout=False) + statistics: "
    f"{no_dropout == activation_bytes(shape_one_layer, s, b, dropout=False) + ln_stats}"
)

# %% [markdown]
# ### Where FlashAttention fits
#
# The a·s² terms come from materialising P. A fused attention kernel (FlashAttention on GPU; on CPU,
# PyTorch's `scaled_dot_product_attention` picks a flash-style kernel when there is no attention
# dropout) saves Q, K, V, the output and one log-sum-exp per query instead, and **recomputes** P tile
# by tile in backward (lesson 05). `TransformerBlock(..., fused=True)` uses it. Measured without
# dropout, at a longer sequence where the difference shows:

# %%
s_long = 512
x_long = torch.randn(1, s_long, h, requires_grad=True)
for fused in (False, True):
    blk = TransformerBlock(h, a, fused=fused).eval()
    recs = saved_tensors(blk, x_long, exclude=blk.parameters())
    square = any(r.shape[-2:] == (s_long, s_long) for r in recs)
    total = sum(r.nbytes for r in recs)
    print(f"fused={fused!s:>5}: saved {total / MIB:5.2f} MiB, an s × s tensor among them: {square}")

# %% [markdown]
# So the two kinds of remedy are complementary: a fused kernel removes the **n² term per layer**
# (what selective recomputation does, inside the kernel); checkpointing and reversible layers, next,
# remove the **factor L** (the depth).
#
# ## 3. Saved bytes against depth: plain, checkpointed, reversible
#
# **Activation checkpointing** (Chen, Xu, Zhang, Guestrin 2016) keeps only the input of every k-th
# block during forward. In backward it reruns each segment of k blocks, from its saved input, to rebuild
# what that segment's backward needs, one segment at a time. Stored: about L/k segment inputs, plus one
# segment's activations while it is rebuilt; with k ≈ √L both terms are ~√L. PyTorch does it with
# `torch.utils.checkpoint.checkpoint(run_segment, x, use_reentrant=False)`; `CheckpointedStack(blocks,
# every=k)` wraps that (`every=None` is the plain stack).
#
# **Reversible layers** (RevNet, Gomez et al. 2017; the Reformer, Kitaev et al. 2020) split the
# activations into two streams x1, x2 and couple them with the attention sublayer f and the MLP g:
#
# $$y_1 = x_1 + f(x_2), \qquad y_2 = x_2 + g(y_1).$$
#
# Given y1 and y2, the inputs can be **computed back** (exercise 3 asks you how), so the forward pass
# needs to keep nothing: `ReversibleStack` runs the blocks without recording a graph, keeps only the
# last (y1, y2), and its custom `torch.autograd.Function.backward` walks the blocks in reverse,
# recomputes each block's inputs from its outputs, reruns f and g with autograd on and backpropagates
# through that one block. The forward, in code:

# %%
f_demo, g_demo = AttentionSublayer(16, 2).eval(), MLPSublayer(16).eval()
x1, x2 = torch.randn(1, 8, 16), torch.randn(1, 8, 16)
y1 = x1 + f_demo(x2)  # y1 = x1 + f(x2)
y2 = x2 + g_demo(y1)  # y2 = x2 + g(y1)
reference = ReversibleBlock(f_demo, g_demo)(x1, x2)
print(
    "ReversibleBlock gives the same:",
    torch.equal(y1, reference[0]) and torch.equal(y2, reference[1]),
)

# %% [markdown]
# We use the **same** reversible blocks (f = attention sublayer, g = MLP, dropout 0.1, in training
# mode) for all three strategies, so only the memory strategy changes: run plainly with autograd,
# checkpointed every k = √L blocks, or through `ReversibleStack`. Weights excluded; b = 2, s = 64,
# d_model = 48, 4 heads, float32:

# %%
b, s, d_model, heads = 2, 64, 48, 4
torch.manual_seed(1)
all_blocks = [
    ReversibleBlock(AttentionSublayer(d_model, heads, dropout=0.1), MLPSublayer(d_model, dropout=0.1))
    for _ in range(64)
]
x1, x2 = (torch.randn(b, s, d_model, requires_grad=True) for _ in range(2))


def saved_by_strategy(depth):
    blocks = all_blocks[:depth]
    weights = list(nn.ModuleList(blocks).parameters())
    k = math.isqrt(depth)  # depth is a square: checkpoint every √L blocks
    stacks = {
        "plain": CheckpointedStack(blocks),
        "checkpoint every √L": CheckpointedStack(blocks, every=k),
        "reversible": ReversibleStack(blocks),
    }
    return {name: saved_tensor_bytes(st, x1, x2, exclude=weights) for name, st in stacks.items()}


depths = [1, 4, 16, 64]
saved = sweep(saved_by_strategy, depths)
strategies = ["plain", "checkpoint every √L", "reversible"]
print(f"{'L':>3} | " + " | ".join(f"{name:>19}" for name in strategies))
for i, depth in enumerate(depths):
    print(f"{depth:>3} | " + " | ".join(f"{saved[name][i] / KIB:>15,.0f} KiB" for name in strategies))
print("log-log slopes:", {name: round(loglog_slope(depths, saved[name]), 2) for name in strategies})

# %%
fig, ax = plt.subplots(figsize=(5.0, 3.4), layout="constrained")
plot_saved_vs_depth(
    depths,
    {name: saved[name] for name in strategies},
    ax=ax,
    title="bytes saved for backward (weights excluded)",
)
plt.show()

# %% [markdown]
# Plain autograd saves every block's activations: slope 1, ∝ L. Checkpointing every √L blocks keeps
# √L segment inputs (each is x1 and x2): slope 0.5. The reversible stack keeps its two outputs and
# nothing else: slope 0, the same at depth 1 and 64. (Each reversible segment input holds both
# streams, 2·b·s·d values, which is why checkpointing at L = 1 equals the reversible stack.)
#
# What the hooks count is what stays alive between forward and backward. During backward each strategy
# also rebuilds some activations, one piece at a time: a checkpointed segment of k blocks, or one
# reversible block. From the measured pieces:

# %%
one_block = saved["plain"][0]  # one block's activations, measured at L = 1
for i, depth in enumerate(depths):
    if depth in (16, 64):
        k = math.isqrt(depth)
        print(
            f"L = {depth}: peak ≈ plain {saved['plain'][i] / MIB:.1f} MiB | checkpoint "
            f"{(saved['checkpoint every √L'][i] + k * one_block) / MIB:.2f} MiB (+ one segment of "
            f"{k}) | reversible {(saved['reversible'][i] + one_block) / MIB:.2f} MiB (+ one block)"
        )

# %% [markdown]
# Both are exact: the gradients equal plain autograd's, dropout included. Checkpointing replays the
# random-number generator's state of each segment (`preserve_rng_state=True`); `ReversibleStack`
# records the generator's state before each f and g and replays it (as the Reformer re-seeds its
# dropout). Checked in float64 on 4 blocks:

# %%
blocks64 = copy.deepcopy(all_blocks[:4])
for blk in blocks64:
    blk.double()
z1, z2 = (torch.randn(b, s, d_model, dtype=torch.float64, requires_grad=True) for _ in range(2))


def gradients(stack):
    for t in (z1, z2, *stack.parameters()):
        t.grad = None
    torch.manual_seed(7)  # the same dropout masks for every strategy
    y1, y2 = stack(z1, z2)
    (y1 * y2).sum().backward()
    return [t.grad.clone() for t in (z1, z2, *stack.parameters())]


g_plain = gradients(CheckpointedStack(blocks64))
g_ckpt = gradients(CheckpointedStack(blocks64, every=2))
g_rev = gradients(ReversibleStack(blocks64))
g_norng = gradients(ReversibleStack(blocks64, preserve_rng_state=False))
print(
    "checkpoint == plain, bit for bit:",
    all(torch.equal(p, c) for p, c in zip(g_plain, g_ckpt, strict=True)),
)
err = max((p - r).abs().max().item() for p, r in zip(g_plain, g_rev, strict=True))
print(f"reversible vs plain: max difference < 1e-12: {err < 1e-12}")
err = max((p - r).abs().max().item() for p, r in zip(g_plain, g_norng, strict=True))
print(f"reversible without replaying the RNG: max difference > 1e-3: {err > 1e-3}")

# %% [markdown]
# (The reversible gradients differ from plain ones only by rounding: backward uses *recomputed*
# inputs, x2 = y2 − g(y1) and so on, which are exact only in real numbers. Section 5 looks at that.)
#
# ## 4. The price: one more forward pass
#
# Neither trick is free. Checkpointing reruns every block's forward in backward; a reversible stack
# reruns every f and g. A backward pass costs about two forwards (two matmuls per matmul: one for the
# input's gradient, one for the weight's), so a training step goes from ~3 forwards to ~4: about
# +33 %. `count_flops` counts exactly (deterministic), on 4 blocks without dropout:

# %%
blocks4 = [copy.deepcopy(blk).eval() for blk in all_blocks[:4]]


def step(stack):
    y1, y2 = stack(x1, x2)
    (y1.sum() + y2.sum()).backward()


forward_flops = count_flops(CheckpointedStack(blocks4), x1, x2)
for name, stack in [
    ("plain", CheckpointedStack(blocks4)),
    ("checkpoint every 2", CheckpointedStack(blocks4, every=2)),
    ("reversible", ReversibleStack(blocks4)),
]:
    print(f"{name:>18}: forward + backward = {count_flops(step, stack) / forward_flops:.2f} forwards")

# %% [markdown]
# Plain: 3.00. Reversible: 4.00, exactly one extra forward. Checkpointing a bit less than 4:
# PyTorch's non-reentrant checkpoint stops recomputing a segment as soon as it has every tensor
# backward needs back (`early_stop=True`), so the last matmul of each segment, whose output nobody
# saved, is skipped. Wall-clock time on this CPU (noisy; a shared machine):

# %%
# NBVAL_IGNORE_OUTPUT
blocks9 = all_blocks[:9]
times = {
    name: time_call(step, stack, repeat=3, reduce="median")
    for name, stack in [
        ("plain", CheckpointedStack(blocks9)),
        ("checkpoint every 3", CheckpointedStack(blocks9, every=3)),
        ("reversible", ReversibleStack(blocks9)),
    ]
}
for name, seconds in times.items():
    print(f"{name:>18}: {1e3 * seconds:6.1f} ms, {seconds / times['plain']:.2f}× plain")

# %% [markdown]
# On blocks this small, Python overhead (the checkpoint machinery, the RNG-state copies) and
# element-wise work (dropout's random numbers, softmax) weigh more than the matmuls, so the time ratios
# usually come out above the 4/3 of the FLOP counts. `make bench` (benchmark `training_memory`) runs
# the same comparison at d = n = 256, where the matmuls dominate, and checks that the time ratios stay
# within 1.2× of the FLOP ratios: the cost is what Chen et al.'s abstract states, one extra forward
# pass.
#
# ## 5. Reconstruction error: why reversible layers need care
#
# A reversible stack computes its inputs back in floating point: x2 = y2 − g(y1) carries the rounding
# error of y2 and of g(y1), and the next block's inverse uses that slightly wrong x2. The error grows
# with depth, and faster when f and g amplify their inputs. Measured on blocks in eval mode (no dropout)
# in float32 and float64, with the sublayers' weight matrices as initialised (gain 1) and multiplied
# by 4:

# %%
recon_depths = [1, 4, 16, 64]
errors = {}
for gain in (1.0, 4.0):
    for dtype in (torch.float32, torch.float64):
        blocks = copy.deepcopy(all_blocks)
        with torch.no_grad():
            for p in nn.ModuleList(blocks).parameters():
                if p.ndim == 2:  # weight matrices, not biases or LayerNorm parameters
                    p.mul_(gain)
        blocks = [blk.to(dtype).eval() for blk in blocks]
        u1, u2 = (t[:1].detach().to(dtype) for t in (x1, x2))  # one sequence
        curve = []
        for depth in recon_depths:
            stack = ReversibleStack(blocks[:depth])
            with torch.no_grad():
                r1, r2 = stack.inverse(*stack(u1, u2))
            curve.append(max((r1 - u1).abs().max().item(), (r2 - u2).abs().max().item()))
        errors[(gain, str(dtype)[6:])] = curve

fig, ax = plt.subplots(figsize=(6.2, 3.2), layout="constrained")
for (gain, dtype), curve in errors.items():
    style = "-" if dtype == "float32" else "--"
    ax.plot(recon_depths, curve, style, marker="o", label=f"{dtype}, gain {gain:g}")
ax.set(xscale="log", yscale="log", xlabel="depth L", ylabel="max |x − inverse(forward(x))|")
ax.set_xticks(recon_depths, labels=[str(d) for d in recon_depths])
ax.minorticks_off()
ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
plt.show()
f32, f64 = errors[(1.0, "float32")], errors[(1.0, "float64")]
print(f"gain 1, float64: error < 1e-12 at every depth: {max(f64) < 1e-12}")
print(f"gain 1, float32: grows with depth (depth 64 > 5 × depth 1): {f32[-1] > 5 * f32[0]}")
print(f"gain 4, float32, depth 64: error > 1e-4: {errors[(4.0, 'float32')][-1] > 1e-4}")

# %% [markdown]
# In float64 the reconstruction is exact to ~1e-14 at every depth here; in float32 it is ~1e-7 per
# block and grows with depth; with sublayers that amplify (gain 4) float32 reaches a few 10⁻² at
# depth 64 and even float64 loses five more digits. Those errors go straight into the gradients. Reversible
# stacks therefore want well-behaved
# (normalised, bounded) residual functions, like the LayerNorm-first sublayers here; a stack that
# still drifts can combine both ideas, storing an input every few blocks and reconstructing only
# within a segment.
#
# ## 6. Myth vs fact
#
# > **Myth:** "Reversible attention shares the attention-score matrix memory between forward and
# > backward, halving memory." **Fact:** nothing is shared: a reversible layer **recomputes** its
# > inputs from its outputs (x2 = y2 − g(y1), x1 = y1 − f(x2)) and reruns f and g. It stores
# > activations "once instead of N times" (the Reformer's abstract): a saving that grows with the depth
# > L, not a factor of 2. And it does nothing for the per-layer n × n scores: while a layer's backward
# > runs, its f rebuilds them in full (the Reformer attacks those separately, with LSH attention and
# > chunking). It also costs an extra forward, and dropout must be replayed to stay exact.
#
# From section 3's measurements, and one attention sublayer's saved tensors during its backward:

# %%
for i, depth in enumerate(depths):
    ratio = saved["plain"][i] / saved["reversible"][i]
    print(f"L = {depth:>2}: plain / reversible = {ratio:6.1f}×")
f_attention = all_blocks[0].f
squares = [
    r for r in saved_tensors(f_attention, x2, exclude=f_attention.parameters()) if r.shape[-2:] == (s, s)
]
print(
    f"one layer's backward still rebuilds {len(squares)} tensors of b·h·s² = {b * heads * s * s:,} "
    f"values ({sum(r.nbytes for r in squares) / KIB:.0f} KiB), reversible or not"
)

# %% [markdown]
# ## 7. Explore: the training budget
#
# Pick a model, change its depth, the sequence length, the batch, the recompute strategy, the optimizer
# and the precision; the bar stacks weights, gradients, optimizer states and activations, with one
# 80 GB GPU marked, and the line below says how many such devices the step needs, how many the states
# alone need, and the largest batch that would fit on one device.
#
# Things to try: Mistral-7B-like at 32k tokens with no recomputation, then selective (the s² term is
# most of it); GPT-2 small, batch 1 → 64; SGD instead of Adam; switch mixed precision off.

# %%
explorer = training_memory_explorer(preset=MISTRAL_7B_LIKE.name, seq_len=4096, batch=1)
explorer

# %% [markdown]
# If the controls do not show (a static view of this notebook), here is the same budget for the
# Mistral-7B-like model at 32k tokens, one sequence, for each recompute strategy:

# %%
rows = {
    f"recompute {r}": training_budget(MISTRAL_7B_LIKE, 32768, 1, recompute=r)
    for r in ("none", "selective", "full")
}
fig, ax = plt.subplots(figsize=(7.0, 2.6), layout="constrained")
plot_training_budget(
    rows,
    ax=ax,
    limit_bytes=GPU_80GB_BYTES,
    limit_label="one 80 GB GPU",
    title="Mistral-7B-like, s = 32768, b = 1",
)
plt.show()

# %% [markdown]
# ## 8. Exercises
#
# ### Exercise 1: activations from the config
# Write `my_activation_bytes(shape, seq_len, batch)`: the bytes of activations that **all** the
# layers of `shape` save, in 16-bit with dropout and no recomputation (Korthikanti's formula, section
# 1). The shapes used have d_ff = 4·d_model and no grouped-query attention.


# %%
def my_activation_bytes(shape, seq_len, batch):
    raise NotImplementedError  # your code here


passed = check_activation_bytes(my_activation_bytes)

# %% [markdown]
# ### Exercise 2: the largest batch that fits
# Write `my_max_batch_size(shape, seq_len, budget_bytes)`: the largest batch b such that a training
# step with mixed-precision Adam and no recomputation fits in `budget_bytes` (0 if even b = 1 does not).
# You may call `training_state_bytes` and `activation_bytes` from `tutor_lib.costs`.
#
# Hints: which parts of the budget depend on b, and how? What is left for activations once the
# fixed part is paid? Round in the safe direction. Check your answer on the Mistral-7B-like model with
# eight 80 GB devices at 4096 tokens.


# %%
def my_max_batch_size(shape, seq_len, budget_bytes):
    raise NotImplementedError  # your code here


passed = check_max_batch_size(my_max_batch_size)

# %% [markdown]
# ### Exercise 3: invert a reversible block
# Write `my_reversible_inverse(f, g, y1, y2)` returning `(x1, x2)` such that
# y1 = x1 + f(x2) and y2 = x2 + g(y1). You may call f and g, but never invert them (they need not be
# invertible: an attention layer is not).
#
# Hint: look at which of the two equations you can solve with what you have.


# %%
def my_reversible_inverse(f, g, y1, y2):
    raise NotImplementedError  # your code here


passed = check_reversible_inverse(my_reversible_inverse)

# %% [markdown]
# ## Summary
#
# - A training step keeps **model states** (mixed-precision Adam: 2 + 2 + 4 + 4 + 4 = 16 bytes per
#   parameter; GPT-3 175B: about 2.8 TB, dozens of 80 GB devices before any activation) and
#   **activations**, s·b·h·(34 + 5·a·s/h) bytes per layer in 16-bit (Korthikanti et al. 2022).
# - Measured on a real block, autograd saves exactly that tensor list, plus LayerNorm statistics and
#   2-byte (not 1-byte) dropout masks on CPU. A fused, FlashAttention-style kernel removes the a·s²
#   terms; selective recomputation does the same at the framework level.
# - Checkpointing every √L blocks cuts saved activations from ∝ L to ~√L; a reversible stack keeps a
#   constant amount, whatever the depth. Both are exact (the RNG is replayed for dropout) and both cost
#   about one extra forward (3 → 4 forwards per step, counted).
# - Reversible layers reconstruct inputs in floating point: the error grows with depth, much faster in
#   float32 and with amplifying sublayers.
# - "Reversible attention halves memory" is wrong: it recomputes rather than shares, saves a factor
#   that grows with L, and leaves each layer's n² scores untouched.
# - Next, lesson 08 shrinks the bytes themselves: quantization of weights, activations and the KV
#   cache.
