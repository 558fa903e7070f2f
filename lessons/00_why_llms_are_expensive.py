# %% [markdown]
# # 00 · Why LLMs are expensive: GPT-3 175B, worked out from its config
#
# **What you will learn**
# - how to count a Transformer's parameters from six numbers in its config, and land on GPT-3's
#   "175 B";
# - how many bytes those weights take at fp32, fp16 and int8, and how many GPUs that means (an
#   "80 GB" GPU holds 80 GiB);
# - why a forward pass costs about **2N FLOPs per token** (N = parameters), checked by PyTorch's own
#   FLOP counter, and why training costs about **6·N·D** (D = training tokens), checked against the
#   GPT-3 paper;
# - what the **KV cache** is and why it, not the weights, limits long-context decoding, and how long
#   a context fits on one GPU (an exercise);
# - the **n² score matrix** behind "long sequences are expensive";
# - the four challenges (compute, inference, memory, long sequences), each with a number computed here.
#
# **Prerequisites:** Python and numpy; you have seen a Transformer diagram (attention + feed-forward
# blocks). Lesson 01 explains attention itself; this lesson only counts.
#
# **Runtime:** about 3 s on a quiet 2-core CPU, up to 12 s on a busy one (`make report`). No GPU, no
# downloads: a model's *size* is arithmetic on its config, so we never need its weights.

# %%
# %matplotlib inline
import dataclasses
import math

import numpy as np
import torch
from matplotlib import pyplot as plt
from torch import nn
from tutor_lib.attention import causal_mask
from tutor_lib.costs import (
    GIB,
    GPT2_SMALL,
    GPT3_175B,
    GPU_80GB_BYTES,
    KIB,
    MIB,
    MISTRAL_7B_LIKE,
    ModelShape,
    flops_per_token,
    kv_cache_bytes,
    memory_breakdown,
    non_embedding_params,
    param_breakdown,
    param_count,
    score_matrix_bytes,
    training_flops,
    weight_bytes,
)
from tutor_lib.exercises import check_attention_params, check_kv_cache_bytes, check_max_cached_tokens
from tutor_lib.measure import count_flops, time_call
from tutor_lib.plots import memory_axis_limits, plot_memory_bars
from tutor_lib.widgets import memory_explorer

torch.manual_seed(0)
rng = np.random.default_rng(0)
print("torch", torch.__version__.split("+")[0], "| numpy", np.__version__.split(".")[0])

# %% [markdown]
# ## 1. GPT-3 from its config
#
# Table 2.1 of the GPT-3 paper (Brown et al. 2020, arXiv 2005.14165) describes the largest model with
# a handful of numbers: 96 layers, d_model = 12288, 96 heads of 128 dimensions, a context of
# n_ctx = 2048 tokens, and GPT-2's tokenizer (50257 tokens). Like GPT-2, its feed-forward layers are
# d_ff = 4·d_model wide. `tutor_lib.costs` stores such a config as a `ModelShape`:

# %%
s = GPT3_175B
print(
    f"{s.name}: {s.n_layers} layers, d_model {s.d_model}, {s.n_heads} heads of d_head {s.d_head}, "
    f"d_ff {s.d_ff}, vocab {s.vocab_size}, {s.n_positions} learned positions"
)

# %% [markdown]
# One architectural detail is not in that table. GPT-3 §2.1: the layers use "alternating dense and
# locally banded sparse attention patterns", as in the Sparse Transformer (lesson 04): every other
# layer lets each query score only a band of nearby keys. The band changes *which* (query, key) pairs
# a layer scores, not its parameters, so the counts of this section are exact. The attention FLOPs
# below treat every layer as dense (the paper does not give the band's width), so for GPT-3 they are
# an upper bound.
#
# Every parameter sits in one of four places. With d = d_model, m = d_ff, V = vocabulary size and
# L = layers:
#
# | part | matrices | parameters |
# |---|---|---|
# | token + position embeddings | V × d and n_ctx × d | (V + n_ctx)·d |
# | attention, per layer | W_Q, W_K, W_V, W_O, each d × d, + 4 biases | 4d² + 4d |
# | feed-forward, per layer | d × m and m × d, + 2 biases | 2dm + m + d |
# | LayerNorms | 2 per layer + 1 final, each a scale and a shift | (2L + 1)·2d |
#
# The output layer reuses the token-embedding matrix (tied weights), so it adds nothing. The formula,
# written out by hand:

# %%
d, m, L, V = s.d_model, s.d_ff, s.n_layers, s.vocab_size
by_hand = {
    "embeddings": (V + s.n_positions) * d,
    "attention": L * (4 * d * d + 4 * d),
    "ffn": L * (2 * d * m + m + d),
    "norms": (2 * L + 1) * 2 * d,
}
total = sum(by_hand.values())
print(f"{'part':>10} | {'parameters':>17} | share")
for part, count in by_hand.items():
    print(f"{part:>10} | {count:>17,} | {100 * count / total:5.1f} %")
print(f"{'total':>10} | {total:>17,} | = {total / 1e9:.1f} B")
print("same as tutor_lib.costs.param_breakdown:", param_breakdown(s) == {**by_hand, "total": total})
print(f"vs the paper's 175.0 B: {100 * (total / 175e9 - 1):+.2f} %")

# %% [markdown]
# Two thirds of the parameters are in the feed-forward layers (8d² per layer against 4d² for
# attention), and the embeddings are a rounding error at this size. `param_breakdown` returns the same
# dictionary; `param_count` is its total. The count works for other architectures too: the
# Mistral-7B-like preset has grouped-query attention (8 key/value heads instead of 32), a three-matrix
# SwiGLU feed-forward, no biases and an untied output layer, and GPT-2 small is the familiar "124M":

# %%
for shape in (GPT2_SMALL, MISTRAL_7B_LIKE, GPT3_175B):
    print(f"{shape.name:>16}: {param_count(shape):>15,} parameters")

# %% [markdown]
# Both match the published exact counts (124,439,808 and 7,241,732,096), which the test suite checks.
#
# ## 2. Bytes: where the weights have to live
#
# Each parameter is stored as a number of some precision: 4 bytes in fp32, 2 in fp16/bf16, 1 in int8,
# half a byte in int4. Memory is counted in GiB (2³⁰ bytes). Accelerator memory (HBM) is built in
# binary sizes too, so the "80 GB" of an A100 80GB or H100 80GB means about **80 GiB**: `nvidia-smi`
# reports 81,920 MiB on an A100 80GB and 81,559 MiB on an H100 80GB (slightly less on the
# H100). Reading "80 GB" as 80 × 10⁹ bytes would undercount the card by 7 %.
# `tutor_lib.costs.GPU_80GB_BYTES` is 80 GiB:

# %%
N = param_count(GPT3_175B)
for card, mib in (("A100 80GB", 81_920), ("H100 80GB", 81_559)):
    print(f"nvidia-smi on an {card}: {mib:,} MiB = {mib * MIB / GIB:.1f} GiB")
print(f"GPU_80GB_BYTES = {GPU_80GB_BYTES / GIB:.0f} GiB | 80·10⁹ bytes would be {80e9 / GIB:.1f} GiB")
print(f"{'format':>6} | {'weights':>10} | 80 GB GPUs just to hold them")
for name, nbytes in (("fp32", 4), ("fp16", 2), ("int8", 1), ("int4", 0.5)):
    size = weight_bytes(GPT3_175B, nbytes)
    print(f"{name:>6} | {size / GIB:>6.0f} GiB | {math.ceil(size / GPU_80GB_BYTES)}")

# %% [markdown]
# Even at int8, GPT-3 does not fit on one card, before a single activation is stored. That is the
# **memory** challenge.
#
# ## 3. Compute: about 2N FLOPs per token
#
# A forward pass multiplies every token's activations by every weight matrix. A weight w in a matrix is
# used in exactly one multiply-add per token (y += w·x), and a multiply-add is **2 FLOPs**. So the
# matrices cost 2 FLOPs per weight per token: **2N**, where N counts the weight matrices of the layers
# (Kaplan et al. 2020 leave embeddings, biases and norms out). Attention adds a part that grows with
# the context: each token's query meets n_ctx keys, and Kaplan et al. (Table 1) write the forward cost
# per token as
#
# $$C_\text{forward} \approx 2N + 2\, n_\text{layer}\, n_\text{ctx}\, d_\text{model}.$$
#
# **A convention, stated once.** Papers differ by a factor 2 in that attention term. One query
# against n_ctx keys costs 2·n_ctx·d for QKᵀ plus 2·n_ctx·d for PV: **4·n_ctx·d per layer**, the
# *full* count that PaLM (Chowdhery et al. 2022, App. B) and the usual model-FLOPs-utilisation
# formula use. Kaplan et al.'s table writes half of it and gives no reason. Half is what a *causal*
# model needs: query i may only see keys 0 … i, on average about n_ctx/2 of them, so a kernel that
# skips the masked half does about 2·n_ctx·d. **These lessons count full attention unless a cell says
# causal** (`tutor_lib.costs.attention_flops(..., causal=True)` counts only the allowed pairs).

# %%
per_token = flops_per_token(GPT3_175B, n_ctx=2048)
L, n_ctx = GPT3_175B.n_layers, 2048
full_attention = 4 * L * n_ctx * GPT3_175B.d_model  # QKᵀ + PV against all n_ctx keys, every layer
print(f"N (non-embedding)        = {non_embedding_params(GPT3_175B) / 1e9:.1f} B")
print(f"2N                       = {per_token['params']:.3e} FLOPs per token")
share = 100 * per_token["attention"] / per_token["total"]
print(
    f"2·n_layer·n_ctx·d_model  = {per_token['attention']:.3e}  ({share:.1f} % of the total)  Kaplan ≈ causal"
)
share_full = 100 * full_attention / (per_token["params"] + full_attention)
print(f"4·n_layer·n_ctx·d_model  = {full_attention:.3e}  ({share_full:.1f} % of the total)  full, lesson 02")

# %% [markdown]
# At GPT-3's 2048-token context the attention term is a small correction either way: 1.4 % counted
# Kaplan's (causal) way, 2.7 % counted in full, the figure lesson 02 arrives at from the other side.
# The parameters dominate.
#
# Don't trust the rule, count. `tutor_lib.measure.count_flops(fn, *args)` runs `fn` under PyTorch's
# `FlopCounterMode`, which records every matrix multiplication (and counts (m, k) @ (k, p) as
# 2·m·k·p). We run a small stack of PyTorch's own Transformer layers on 128 tokens. (`count_flops`
# forces attention onto PyTorch's plain "math" path, because the fused CPU kernel is invisible to the
# counter.)

# %%
tiny = ModelShape(n_layers=2, d_model=64, n_heads=4, d_ff=256, vocab_size=1)
layers = nn.Sequential(
    *[
        nn.TransformerEncoderLayer(tiny.d_model, tiny.n_heads, tiny.d_ff, dropout=0.0, batch_first=True)
        for _ in range(tiny.n_layers)
    ]
)
n = 128
x = torch.randn(1, n, tiny.d_model)
counted = count_flops(layers, x)
weights_N = non_embedding_params(tiny)
dense_attention = tiny.n_layers * 4 * n * tiny.d_model  # per token: QKᵀ and PV over all n keys
print(f"counted FLOPs per token     : {counted / n:>9,.0f}")
print(f"2N + 4·n_layer·n·d_model    : {2 * weights_N + dense_attention:>9,}")
print(f"the 2N part is {100 * 2 * weights_N * n / counted:.0f} % of the count")

# %% [markdown]
# Exact agreement, with the full attention term 4·n·d per layer: these layers compute the whole n × n
# score matrix. (Even with a causal mask they would: masking sets scores to −∞ *after* computing
# them. Only a kernel that skips the masked half saves it, which is where Kaplan's 2·n·d fits.)
#
# ### Training: 6·N·D
#
# Backpropagation through a matrix multiplication needs two more matmuls of the same size (the
# gradient with respect to the input and with respect to the weight), so backward ≈ 2 × forward, and
# one training step costs ≈ 3 × forward = **6N FLOPs per token**. Counted on one linear layer:

# %%
layer = nn.Linear(512, 512, bias=False)
x = torch.randn(64, 512, requires_grad=True)
forward = count_flops(layer, x)
y = layer(x)
backward = count_flops(lambda: y.sum().backward())
print(f"forward {forward:,} | backward {backward:,} | ratio {backward / forward:.1f}")

# %% [markdown]
# GPT-3 was trained on 300 B tokens. The paper (Table D.1) reports 3.14 × 10²³ training FLOPs, which it
# also gives as 3.64 × 10³ petaflop/s-days (a machine doing 10¹⁵ FLOP/s for a day).

# %%
D = 300e9
C = training_flops(N, D)
print(f"6·N·D = {C:.3g} FLOPs  (paper: 3.14e+23) | {C / (1e15 * 86400):,.0f} petaflop/s-days (paper: 3,640)")

# %% [markdown]
# How long would that take on this laptop? Measure what it actually does on a large float32 matmul
# (the number depends on the machine and on what else is running, so this cell's output is not
# checked):

# %%
# NBVAL_IGNORE_OUTPUT
a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
seconds = time_call(torch.matmul, a, b, repeat=5)
laptop_flops = 2 * 1024**3 / seconds
print(f"this CPU: {laptop_flops / 1e9:.0f} GFLOP/s on a 1024² matmul")
print(f"GPT-3's training compute would take {C / laptop_flops / (365 * 86400):,.0f} years here")

# %% [markdown]
# That is the **compute** challenge, and it is paid again, 2N FLOPs at a time, for every token the
# model ever generates.
#
# ## 4. Inference: the KV cache
#
# A language model generates text one token at a time, and token t attends to all t − 1 earlier
# tokens. Their keys and values do not change, so instead of recomputing them, decoders keep them in
# the **KV cache**: for every layer, one key vector and one value vector per cached token, per KV head.
#
# $$\text{KV bytes} = 2 \cdot L \cdot n_\text{kv} \cdot d_\text{head} \cdot \text{tokens} \cdot
# \text{bytes per value} \cdot \text{batch}$$
#
# Grouped-query attention (GQA) shares each key/value head between several query heads; the
# Mistral-7B-like shape has 32 query heads but only n_kv = 8 KV heads.

# %%
mistral = MISTRAL_7B_LIKE
per_tok = 2 * mistral.n_layers * mistral.kv_heads * mistral.d_head * 2  # fp16: 2 bytes
print(
    f"{mistral.name}: 2·{mistral.n_layers}·{mistral.kv_heads}·{mistral.d_head}·2 bytes = "
    f"{per_tok / KIB:.0f} KiB per token  (tutor_lib: {kv_cache_bytes(mistral, 1) / KIB:.0f} KiB)"
)
for tokens, batch in ((32 * 1024, 1), (32 * 1024, 16)):
    cache = kv_cache_bytes(mistral, tokens, batch=batch)
    print(f"  {tokens:,} tokens × batch {batch:>2}: {cache / GIB:5.1f} GiB")
no_gqa = dataclasses.replace(mistral, n_kv_heads=None)
print(f"  without GQA (32 KV heads), 32k tokens: {kv_cache_bytes(no_gqa, 32 * 1024) / GIB:.0f} GiB")
print(
    f"GPT-3 (96 KV heads): {kv_cache_bytes(GPT3_175B, 1) / MIB:.1f} MiB per token, "
    f"{kv_cache_bytes(GPT3_175B, 2048) / GIB:.0f} GiB for one full 2048-token context"
)
print(f"for comparison, the Mistral-like weights in fp16: {weight_bytes(mistral) / GIB:.1f} GiB")

# %% [markdown]
# The cache grows linearly with context and with batch, and for long contexts or large batches it
# overtakes the weights themselves (compare the last line above). GQA cut it by 4× here; lesson 08
# quantizes it.
#
# Decoding is also slow for a second reason: to produce **one** token, every weight must be read from
# memory once (2 bytes each in fp16) to do **2** FLOPs with it. That is 1 FLOP per byte read. A GPU does
# far more arithmetic per byte it can read (NVIDIA's A100 datasheet: 312 TFLOP/s fp16 against about
# 2 TB/s, roughly 150 FLOPs per byte; a GPU figure, not one measured here), so single-sequence decoding
# waits on memory, not arithmetic. That is the **inference** challenge: batching many sequences reuses
# each weight read, but every sequence brings its own KV cache.

#
# The plot runs every shape to 128k tokens. GPT-3 cannot get there: it has 2,048 learned positions
# (section 1) and no embedding for position 2,049, so its curve beyond 2k (dotted) is hypothetical,
# the cache it *would* need. (The Mistral-like shape uses rotary positions, which have no table to
# run out of.)

# %%
contexts = 2 ** np.arange(10, 18)
fig, ax = plt.subplots(figsize=(5.2, 3.0), layout="constrained")
for shape in (GPT3_175B, no_gqa, mistral):
    label = shape.name + (" (no GQA)" if shape is no_gqa else "")
    if shape.n_positions:
        label += f" (dotted: past its {shape.n_positions:,} positions)"
    gib = np.array([kv_cache_bytes(shape, int(t)) / GIB for t in contexts])
    real = contexts <= shape.n_positions if shape.n_positions else np.ones(len(contexts), dtype=bool)
    (line,) = ax.plot(contexts[real], gib[real], "o-", label=label)
    if not real.all():  # beyond the model's positions: hypothetical
        ax.plot(contexts[real.sum() - 1 :], gib[real.sum() - 1 :], "o:", color=line.get_color(), mfc="none")
ax.axvline(GPT3_175B.n_positions, color="tab:blue", linewidth=0.8, alpha=0.5)
ax.axhline(weight_bytes(mistral) / GIB, color="grey", linestyle=":", label="Mistral-like weights, fp16")
ax.axhline(GPU_80GB_BYTES / GIB, color="tab:red", linestyle="--", linewidth=1, label="one 80 GB GPU (80 GiB)")
ax.set(
    xscale="log",
    yscale="log",
    xlabel="cached tokens (batch 1, fp16)",
    ylabel="KV cache (GiB)",
    title="KV cache grows linearly with context",
)
ax.set_xticks(contexts, [f"{t // 1024}k" for t in contexts])
ax.legend(fontsize=7)
plt.show()

# %% [markdown]
# ## 5. Long sequences: the n × n score matrix
#
# Inside every attention layer, each of the h heads compares every query with every key: an n × n
# matrix of scores per head. For one layer, batch 1:
#
# $$\text{score bytes} = h \cdot n^2 \cdot \text{bytes per value}$$
#
# Doubling the context quadruples it.

# %%
print(f"{'n':>7} | {'GPT-3 (96 heads)':>16} | {'Mistral-like (32 heads)':>23}   one layer, fp16")
for n in (2048, 8192, 32768, 131072):
    g = score_matrix_bytes(n, GPT3_175B.n_heads, 2) / GIB
    mi = score_matrix_bytes(n, mistral.n_heads, 2) / GIB
    print(f"{n:>7,} | {g:>12,.2f} GiB | {mi:>19,.2f} GiB")

# %% [markdown]
# At 32k tokens one layer's scores would need more memory than the model's weights. Real kernels never
# hold all of it at once (lesson 05 computes attention tile by tile), but the **time** still grows as n²
# and, without such kernels, so does the memory. That is the **long-sequence** challenge; lesson 03
# measures it.
#
# ## 6. The four challenges, in numbers
#
# Each row is computed from the cells above. (A newly generated token's query meets every cached key,
# so its attention term is the full 4·n·d per layer, with nothing masked to skip.)

# %%
mistral_32k_scores = score_matrix_bytes(32768, mistral.n_heads, 2)
challenges = [
    ("compute", f"training GPT-3: 6·N·D = {C:.2e} FLOPs"),
    (
        "inference",
        f"{per_token['params'] + full_attention:.2e} FLOPs and {weight_bytes(GPT3_175B) / GIB:.0f} GiB of "
        f"fp16 weights read per generated token (at 2,048 tokens of context)",
    ),
    (
        "memory",
        f"GPT-3 weights {weight_bytes(GPT3_175B) / GIB:.0f} GiB (fp16) = "
        f"{math.ceil(weight_bytes(GPT3_175B) / GPU_80GB_BYTES)} × 80 GB GPUs; Mistral-like KV cache "
        f"{kv_cache_bytes(mistral, 32768) / GIB:.0f} GiB at 32k tokens",
    ),
    (
        "long sequences",
        f"one layer's scores at 32k tokens: {mistral_32k_scores / GIB:.0f} GiB, ×4 for every doubling of n",
    ),
]
for name, number in challenges:
    print(f"{name:>14}: {number}")

# %% [markdown]
# ## 7. Explore: where the bytes go
#
# Pick a model, then move the sliders: context length, batch size, bytes per value (fp32 … int4) and
# the number of KV heads. Each dot is a byte count in GiB on a fixed log scale (on a log axis only
# where a bar ends means anything, so dots), the red line is one 80 GB GPU (80 GiB), and the table
# under the plot shows the formula behind each dot with the numbers filled in.
#
# Things to try: Mistral-like at 128k tokens and batch 8; GPT-3 with 8 KV heads instead of 96; every
# model at int4. Which dot does the batch slider leave alone, and why?

# %%
explorer = memory_explorer()
explorer

# %% [markdown]
# For static viewers, the explorer's default (Mistral-like, 32k tokens, fp16) next to GPT-3 at its own
# context length, on one shared scale:

# %%
cases = [(mistral, 32768), (GPT3_175B, 2048)]
values = [memory_breakdown(shape, n) for shape, n in cases]
xlim = memory_axis_limits(*values, limit_gib=GPU_80GB_BYTES / GIB)  # one scale for both
fig, axes = plt.subplots(2, 1, figsize=(6.2, 3.6), layout="constrained", sharex=True)
for ax, (shape, n), v in zip(axes, cases, values, strict=True):
    plot_memory_bars(
        v,
        ax=ax,
        xlim=xlim,
        limit_gib=GPU_80GB_BYTES / GIB,
        limit_label="one 80 GB GPU (80 GiB)",
        title=f"{shape.name}, n = {n:,}, fp16, batch 1",
    )
    ax.label_outer()  # one x label for the shared axis
plt.show()

# %% [markdown]
# ## 8. Long sequences and gradients
#
# > **Myth:** "Long sequences make gradients vanish or explode."
# > **Fact:** that is a recurrent-network intuition. In an RNN, token 0 reaches token n − 1 through n
# > steps, so the gradient between them is a product of n Jacobians and shrinks (or grows)
# > exponentially. Self-attention connects every pair of positions directly: the maximum path length is
# > **O(1)**, independent of n (Vaswani et al. 2017, Table 1). Transformers' gradient problems come from
# > **depth** and LayerNorm placement (Xiong et al. 2020), not from sequence length.
#
# Measured: the size of ∂(last output)/∂(first input), for an RNN h_t = act(W h_{t−1} + U x_t) and for
# one causal attention layer (float64, the mean of log₁₀ over 4 random networks). Backpropagating
# through one RNN step multiplies the gradient by diag(act′)·W, so after n steps it has been
# multiplied by n such matrices. With W scaled by 0.9/√d, W's largest eigenvalue is about 0.9
# (random-matrix theory), and tanh′ ≤ 1: every step shrinks the gradient, so that RNN is *built* to
# vanish. The other two RNN columns scale W up: by 4/√d with tanh, and by 1.25/√d with no activation
# at all (act = identity, a linear RNN, where the factor per step is W's eigenvalue, about 1.25).

# %%
SEEDS = 4  # one independent random network per seed, run side by side as a batch


def rnn_gradient(n, d=16, gain=0.9, act=torch.tanh):
    g = torch.Generator().manual_seed(n)
    w = torch.randn(SEEDS, d, d, generator=g, dtype=torch.float64) * gain / d**0.5
    u = torch.randn(SEEDS, d, d, generator=g, dtype=torch.float64) / d**0.5
    x = torch.randn(SEEDS, n, d, 1, generator=g, dtype=torch.float64, requires_grad=True)
    h = torch.zeros(SEEDS, d, 1, dtype=torch.float64)
    for t in range(n):
        h = act(w @ h + u @ x[:, t])  # h_t = act(W h_{t-1} + U x_t): n steps from x_0 to h_n
    h.sum().backward()
    return x.grad[:, 0].norm(dim=(1, 2))  # (SEEDS,) one gradient norm per network


def attention_gradient(n, d=16):
    g = torch.Generator().manual_seed(n)
    w_q, w_k, w_v = (torch.randn(SEEDS, d, d, generator=g, dtype=torch.float64) / d**0.5 for _ in range(3))
    x = torch.randn(SEEDS, n, d, generator=g, dtype=torch.float64, requires_grad=True)
    scores = (x @ w_q) @ (x @ w_k).transpose(1, 2) / d**0.5  # (SEEDS, n, n)
    scores = scores.masked_fill(~torch.from_numpy(causal_mask(n)), float("-inf"))
    y = torch.softmax(scores, dim=-1) @ (x @ w_v)  # one step from x_0 to y_{n-1}
    y[:, -1].sum().backward()
    return x.grad[:, 0].norm(dim=1)


def identity(z):
    return z


rnns = {"tanh, W·0.9": (0.9, torch.tanh), "tanh, W·4": (4.0, torch.tanh), "linear, W·1.25": (1.25, identity)}
print("mean log10 ‖∂ last output / ∂ first input‖")
print(f"{'n':>5} | " + " | ".join(f"{'RNN ' + name:>19}" for name in rnns) + f" | {'attention':>9}")
for n in (8, 32, 128, 256):
    rnn = [rnn_gradient(n, gain=gain, act=act).log10().mean().item() for gain, act in rnns.values()]
    att = attention_gradient(n).log10().mean().item()
    print(f"{n:>5} | " + " | ".join(f"{r:>19.1f}" for r in rnn) + f" | {att:>9.1f}")

# %% [markdown]
# The small-W RNN's gradient falls by a roughly constant factor per step, dozens of orders of magnitude
# within a few hundred tokens: the first token is forgotten. Scale W up and the same product
# **explodes** instead: by about 40 orders of magnitude for the linear RNN, and (more slowly and less
# regularly, because saturated tanh units have tanh′ ≈ 0) for the tanh RNN with W·4. Either way the
# gradient is a product of n factors, so it is exponential in n unless every factor is exactly 1.
# That is what **gating** buys: an LSTM's cell state c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t has Jacobian
# ∂c_t/∂c_{t−1} = diag(f_t), so with forget gates near 1 the gradient passes many steps almost
# unchanged (Hochreiter & Schmidhuber 1997); it is still n steps long.
#
# Over the same range attention's gradient loses only a couple of orders of magnitude, roughly like
# a power of n rather than exponentially: not a vanishing path, but the first token's shrinking share
# of a softmax over n keys. That effect is real, and it is one of the genuine long-sequence problems:
#
# - **softmax dilution**: with more keys, each key's weight (and gradient) shrinks like 1/n unless the
#   scores become sharper;
# - **positions**: GPT-3 has 2048 learned position embeddings (section 1) and no embedding at all for
#   position 2049; other positional schemes degrade beyond their training length;
# - **numerics**: fp16's largest number is small, so exp() of a modest score overflows and a softmax
#   without max-subtraction breaks (lesson 03 shows where, and how the number of keys matters);
# - **cost**: the n² time and memory of section 5, which lessons 03–09 are about.
#
# ## 9. Exercises
#
# ### Exercise 1: the KV cache
# Write `my_kv_cache_bytes(shape, tokens, bytes_per_value, batch)` for a `ModelShape`. Use
# `shape.n_layers`, `shape.d_model`, `shape.n_heads` and `shape.n_kv_heads` (which is `None` for a
# model without grouped-query attention: then every head has its own keys and values).
# Hint: d_head = d_model // n_heads; remember both K **and** V.


# %%
def my_kv_cache_bytes(shape, tokens, bytes_per_value, batch):
    raise NotImplementedError  # your code here


passed = check_kv_cache_bytes(my_kv_cache_bytes)

# %% [markdown]
# ### Exercise 2: attention parameters with grouped-query attention
# Write `my_attention_params(d_model, n_heads, n_kv_heads)`: the number of weights (no biases) in one
# attention layer's four projection matrices. W_Q and W_O are d_model × d_model; W_K and W_V produce
# only n_kv_heads heads of d_head = d_model // n_heads numbers each.
# Check yourself first: for Mistral-7B-like (4096, 32, 8) the answer is 41,943,040.


# %%
def my_attention_params(d_model, n_heads, n_kv_heads):
    raise NotImplementedError  # your code here


passed = check_attention_params(my_attention_params)

# %% [markdown]
# ### Exercise 3: how long a context fits on one GPU?
# The weights and the KV cache share a GPU's memory. Write
# `my_max_cached_tokens(shape, memory_bytes, batch, bytes_per_value)`: the largest number of tokens t
# such that the weights plus the KV cache of `batch` sequences of t tokens each, everything stored at
# `bytes_per_value`, fit in `memory_bytes`. Return 0 if not even one token fits. (Ignore activations:
# at decode time a fused kernel keeps them small.)
#
# Before you run the check, estimate the answer for the Mistral-like shape on one 80 GB GPU in fp16,
# at batch 1 and at batch 16, from the numbers of sections 2 and 4.
#
# Hints: which of the two consumers of memory grows with t, and which does not? Write the condition
# "fits" as an inequality in t and solve it; tokens come in whole numbers. `weight_bytes` and
# `kv_cache_bytes` from `tutor_lib.costs` may help.


# %%
def my_max_cached_tokens(shape, memory_bytes, batch, bytes_per_value):
    raise NotImplementedError  # your code here


passed = check_max_cached_tokens(my_max_cached_tokens)

# %% [markdown]
# ## Summary
#
# - A Transformer's size follows from its config: GPT-3's 96 layers of width 12288 give 174.6 B
#   parameters (the paper says 175 B), two thirds of them in the feed-forward layers.
# - Bytes = parameters × bytes per value: 325 GiB in fp16 for GPT-3, five 80 GB GPUs (80 GiB each:
#   HBM is sized in binary units) just to hold them.
# - A forward pass costs ≈ 2N FLOPs per token plus an attention term that grows with the context
#   (counted exactly with `FlopCounterMode`): 4·n·d per layer counted in full, as these lessons do,
#   about half for a causal kernel (Kaplan's 2·n·d); training costs ≈ 6·N·D, 3.14 × 10²³ FLOPs for
#   GPT-3. GPT-3 alternates dense and locally banded sparse attention layers, which changes only the
#   attention term.
# - Decoding keeps a KV cache of 2·L·n_kv·d_head bytes-per-value per token: 128 KiB per token for the
#   Mistral-7B-like shape in fp16, 4 GiB at 32k tokens, and it multiplies with the batch.
# - Attention's score matrix grows as n²; long sequences are expensive because of cost, not because of
#   vanishing or exploding gradients: those come from an RNN's product of n step Jacobians, while
#   self-attention's path length is O(1).
# - Next: lesson 01 builds attention; lesson 02 weighs the feed-forward network against it; lesson 03
#   measures the quadratic wall.
