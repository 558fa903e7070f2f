# %% [markdown]
# # 02 · The feed-forward network, and where attention overtakes it
#
# **What you will learn**
# - the position-wise feed-forward network (FFN) of a Transformer layer, by hand and against PyTorch;
# - what "position-wise" means, shown by permuting and editing tokens;
# - its cost: **8d²** parameters and **16nd²** FLOPs when m = 4d, twice the attention projections;
# - how a layer's FLOPs split between the projections, the FFN and the n² attention scores as the
#   sequence grows, and the exact length **n = 2d + m** where the scores take over, counted by PyTorch;
#   why that is a statement about FLOPs only (time and memory meet the n² term much earlier);
# - SwiGLU, the gated FFN of LLaMA and Mistral, and how grouped-query attention moves the crossover;
# - the chunked FFN: identical outputs with a fraction of the peak memory, measured;
# - Mixture of Experts: many FFNs, a router, and parameters that do not all cost FLOPs.
#
# **Prerequisites:** lesson 01 (attention and its cost 8nd² + 4n²d); lesson 00 helps for the numbers of
# GPT-3.
#
# **Runtime:** about 4 s on a quiet 2-core CPU, up to 21 s on a busy one (`make report`). No GPU, no
# downloads.

# %%
# %matplotlib inline
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib import pyplot as plt
from torch import nn
from tutor_lib.attention import attention
from tutor_lib.costs import (
    GPT3_175B,
    MIB,
    MISTRAL_7B_LIKE,
    crossover_length,
    ffn_flops,
    layer_flops,
    moe_ffn_flops,
    moe_param_counts,
    param_count,
)
from tutor_lib.exercises import check_causal_crossover, check_chunked_ffn, check_crossover_length
from tutor_lib.ffn import chunked_ffn, ffn, moe_ffn, swiglu
from tutor_lib.measure import count_flops, flop_counts_by_op, peak_bytes, time_call
from tutor_lib.plots import plot_flop_shares
from tutor_lib.widgets import flop_share_explorer

rng = np.random.default_rng(0)
torch.manual_seed(0)
np.set_printoptions(precision=3, suppress=True)


# %% [markdown]
# ## 1. The FFN, by hand
#
# After attention has mixed information *between* tokens, every layer applies a small two-layer MLP to
# *each token separately* (Vaswani et al. 2017, eq. 2):
#
# $$\text{FFN}(x) = \max(0,\; x W_1 + b_1)\, W_2 + b_2, \qquad W_1 \in \mathbb{R}^{d \times m},\;
# W_2 \in \mathbb{R}^{m \times d}$$
#
# The hidden width m is usually **4d**: the layer widens each token to 4d numbers, applies a
# non-linearity, and projects back. Five tokens of width d = 8, in numpy:

# %%
n, d, m = 5, 8, 32
x = rng.standard_normal((n, d))  # (n, d) one row per token
W1, b1 = rng.standard_normal((d, m)) / np.sqrt(d), np.zeros(m)
W2, b2 = rng.standard_normal((m, d)) / np.sqrt(m), rng.standard_normal(d)

h = np.maximum(0, x @ W1 + b1)  # (n, m) hidden layer: ReLU(x W1 + b1)
y = h @ W2 + b2  # (n, d) back to the model width
print("x", x.shape, "→ hidden", h.shape, "→ y", y.shape)
print("tutor_lib.ffn.ffn agrees:", np.allclose(y, ffn(x, W1, b1, W2, b2)))

# %% [markdown]
# The same network in PyTorch is `nn.Sequential(nn.Linear(d, m), nn.ReLU(), nn.Linear(m, d))`.
# `nn.Linear` stores its weight transposed (it computes x Wᵀ + b), so we copy W1ᵀ and W2ᵀ in. GPT-2 and
# GPT-3 use GELU instead of ReLU, a smooth version x·Φ(x) (Φ = the normal CDF); `ffn` takes
# `activation="gelu"`.

# %%
for activation, act in (("relu", nn.ReLU()), ("gelu", nn.GELU())):
    torch_ffn = nn.Sequential(nn.Linear(d, m), act, nn.Linear(m, d)).double()
    with torch.no_grad():
        torch_ffn[0].weight.copy_(torch.from_numpy(W1.T))
        torch_ffn[0].bias.copy_(torch.from_numpy(b1))
        torch_ffn[2].weight.copy_(torch.from_numpy(W2.T))
        torch_ffn[2].bias.copy_(torch.from_numpy(b2))
        theirs = torch_ffn(torch.from_numpy(x)).numpy()
    ours = ffn(x, W1, b1, W2, b2, activation=activation)
    print(f"{activation}: tutor_lib == torch nn.Sequential: {np.abs(ours - theirs).max() < 1e-12}")

# %% [markdown]
# ## 2. Position-wise: each token on its own
#
# Nothing in the formula mixes rows: output row i depends only on input row i. Two consequences we can
# check directly. Shuffling the tokens shuffles the outputs the same way, and editing one token changes
# only that token's output. Attention is the opposite: editing one token changes every output.

# %%
perm = rng.permutation(n)
print("FFN(x[perm]) == FFN(x)[perm]:", np.allclose(ffn(x[perm], W1, b1, W2, b2), y[perm]))

edited = x.copy()
edited[3] += 1.0  # change token 3 only
ffn_changed = np.abs(ffn(edited, W1, b1, W2, b2) - y).max(axis=1) > 0
att_changed = np.abs(attention(edited, edited, edited) - attention(x, x, x)).max(axis=1) > 0
print("output rows that change, FFN      :", np.flatnonzero(ffn_changed))
print("output rows that change, attention:", np.flatnonzero(att_changed))

# %% [markdown]
# That is the division of labour in a Transformer layer: attention moves information between
# positions, the FFN processes each position. It is also what will let us compute the FFN a few tokens
# at a time in section 7.
#
# ## 3. Parameters: the FFN is the bigger half
#
# Attention has four d × d projections (W_Q, W_K, W_V, W_O): **4d²** weights. The FFN has d × m + m × d
# = 2dm weights, which is **8d²** when m = 4d. Counted on PyTorch's own modules for GPT-2 small's width
# d = 768 (with biases):

# %%
d = 768
mha = nn.MultiheadAttention(d, num_heads=12)
ffn_module = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
n_att = sum(p.numel() for p in mha.parameters())
n_ffn = sum(p.numel() for p in ffn_module.parameters())
print(f"attention projections: {n_att:>9,}  (4d² + 4d = {4 * d * d + 4 * d:,})")
print(f"FFN                  : {n_ffn:>9,}  (8d² + 5d = {8 * d * d + 5 * d:,})")
print(f"FFN / attention      : {n_ffn / n_att:.2f}")

# %% [markdown]
# ## 4. FLOPs: 16nd² for the FFN
#
# Each weight does one multiply-add (2 FLOPs) per token, so the FFN costs 2 · 2dm · n = **4ndm** FLOPs,
# 16nd² for m = 4d, against 8nd² for the attention projections and **4n²d** for the attention scores
# (QKᵀ and PV, lesson 01). PyTorch's count for the FFN above on 256 tokens (`tutor_lib.measure.count_flops`):

# %%
n = 256
tokens = torch.randn(n, d)
print(f"counted by FlopCounterMode: {count_flops(ffn_module, tokens):,}")
print(f"ffn_flops(n, d, m) = 4ndm : {ffn_flops(n, d, 4 * d):,}")

# %% [markdown]
# ## 5. Who dominates, as the sequence grows?
#
# Per layer and sequence: projections 8nd², FFN 4ndm and scores 4n²d (the full count, QKᵀ and PV over
# every (query, key) pair: the convention of these lessons, see lesson 00 §3). The first two grow like
# n, the scores like n². They are equal when
#
# $$4n^2 d = 8nd^2 + 4ndm \quad\Longleftrightarrow\quad n = 2d + m \;(= 6d \text{ when } m = 4d).$$
#
# Below that length a Transformer layer spends most of its FLOPs in ordinary matrix multiplications;
# above it, in the n² attention scores.

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 3.0), layout="constrained")
plot_flop_shares(768, 4 * 768, ax=axes[0], title="d = 768 (GPT-2 small)")
plot_flop_shares(
    GPT3_175B.d_model,
    GPT3_175B.d_ff,
    ax=axes[1],
    n_marker=2048,
    title="d = 12288 (GPT-3), grey: its 2048 context",
)
plt.show()
for name, (dm, mm) in {"GPT-2 small": (768, 3072), "GPT-3": (12288, 49152)}.items():
    print(f"{name:>12}: crossover n = 2d + m = {crossover_length(dm, mm):,} tokens")

# %% [markdown]
# Now verify the crossover on real PyTorch modules instead of formulas. Width d = 64 and m = 256 put it
# at n = 384. We count the FLOPs of the attention scores (PyTorch's `scaled_dot_product_attention`,
# 4 heads) and of the projections plus FFN (`nn.Linear` layers) one token below, at, and one token
# above the crossover:

# %%
d, m, heads = 64, 256, 4
projections = [nn.Linear(d, d, bias=False) for _ in range(4)]  # W_Q, W_K, W_V, W_O
ffn_small = nn.Sequential(nn.Linear(d, m), nn.ReLU(), nn.Linear(m, d))
n_cross = crossover_length(d, m)
print(f"crossover_length({d}, {m}) = {n_cross}")
for n in (n_cross - 1, n_cross, n_cross + 1):
    x_t = torch.randn(n, d)
    q = torch.randn(1, heads, n, d // heads)  # (b, h, n, d_h)
    scores = count_flops(F.scaled_dot_product_attention, q, q, q)
    linear = count_flops(lambda x_t=x_t: ([p(x_t) for p in projections], ffn_small(x_t)))
    relation = "<" if scores < linear else ("=" if scores == linear else ">")
    print(f"n = {n}: scores {scores:>10,} {relation} projections + FFN {linear:>10,}")

# %% [markdown]
# > **Imprecise:** "Attention is the expensive part of a Transformer."
# > **Precise:** in **FLOPs**, its n² part overtakes the projections and the FFN only beyond
# > n = 2d + m; below that the FFN (twice the projections) does most of the arithmetic, and at GPT-3's
# > own 2048-token context the scores are a small slice of every layer. In **time** and **memory** the
# > n² term arrives much earlier: the softmax, the scaling and the mask are element-wise passes over
# > n² numbers per head that do a handful of FLOPs per byte they move (memory-bound), and the n × n
# > probabilities of a non-fused kernel outgrow the FFN's n × m hidden layer as soon as h·n > m.
# > Lesson 03 measures both curves; the next two cells show them at the crossover.
#
# Memory first, computed for the layer above (d = 64, m = 256, 4 heads), in float32:

# %%
for n in (64, 128, n_cross):
    probs_bytes = 4 * heads * n * n  # one layer's n × n probabilities, all heads
    hidden_bytes = 4 * n * m  # the FFN's hidden layer
    print(
        f"n = {n:>3}: probabilities {probs_bytes / 1024:7.0f} KiB | FFN hidden {hidden_bytes / 1024:4.0f} KiB"
        f" | ratio {probs_bytes / hidden_bytes:4.1f}"
    )

# %% [markdown]
# The probabilities pass the hidden layer at n = m/h = 64 and are 6× larger at the FLOP crossover.
# Now time, on one thread: the attention core (QKᵀ, scaling, causal mask, softmax, PV) against the
# projections and the FFN, compared with the scores' share of the FLOPs. Timings depend on the machine,
# so this cell's output is not checked; on the machine that built this notebook the n² part's share of
# the time was well above its share of the FLOPs at every length, more than double at n = 96.

# %%
# NBVAL_IGNORE_OUTPUT
threads = torch.get_num_threads()
torch.set_num_threads(1)  # a fair comparison on a shared machine


def attention_core(q, k, v, allowed):
    s = (q @ k.transpose(-1, -2)) * q.shape[-1] ** -0.5  # (h, n, n)
    return torch.softmax(s.masked_fill(~allowed, float("-inf")), dim=-1) @ v


with torch.no_grad():
    print(f"{'n':>4} | scores' share: of FLOPs | of time")
    for n in (96, 192, 384):
        x_t, allowed = torch.randn(n, d), torch.ones(n, n, dtype=torch.bool).tril()
        q, k, v = (torch.randn(heads, n, d // heads) for _ in range(3))
        t_core = time_call(attention_core, q, k, v, allowed, repeat=20, reduce="min")
        t_rest = time_call(
            lambda x_t=x_t: ([p(x_t) for p in projections], ffn_small(x_t)), repeat=20, reduce="min"
        )
        f = layer_flops(n, d, m)
        print(f"{n:>4} | {f['scores'] / f['total']:>22.0%} | {t_core / (t_core + t_rest):>7.0%}")
torch.set_num_threads(threads)

# %% [markdown]
# The FLOP shares depend only on the ratios n/d and m/d (divide every term by nd²). So a layer 128×
# narrower than GPT-3's, run on a sequence 128× shorter, splits its FLOPs exactly like GPT-3 at 2048
# tokens, and that one we can count:

# %%
scale = 128
d, n = GPT3_175B.d_model // scale, 2048 // scale  # 96 and 16: the same n/d as GPT-3 at 2048 tokens
layer = nn.TransformerEncoderLayer(d, 4, 4 * d, dropout=0.0, batch_first=True)
x_t = torch.randn(1, n, d)
by_op = flop_counts_by_op(layer, x_t)  # {"aten.mm": …, "aten.bmm": …}
counted_scores = by_op["aten.bmm"]  # QKᵀ and PV are the only batched matmuls in the layer
share_counted = counted_scores / sum(by_op.values())
gpt3 = layer_flops(2048, GPT3_175B.d_model, GPT3_175B.d_ff)
gpt3_causal = layer_flops(2048, GPT3_175B.d_model, GPT3_175B.d_ff, causal=True)
print(f"counted on the small layer: scores are {100 * share_counted:.2f} % of its FLOPs")
print(f"formula for GPT-3 at 2048 : scores are {100 * gpt3['scores'] / gpt3['total']:.2f} % of its FLOPs")
print(f"and the FFN               : {100 * gpt3['ffn'] / gpt3['total']:.2f} %")
print(f"a causal kernel (n(n+1)/2 pairs): {100 * gpt3_causal['scores'] / gpt3_causal['total']:.2f} %")

# %% [markdown]
# 2.70 % is the *full* count, and it is the number lesson 00 found from the other side (2.7 %). Lesson
# 00's 1.4 % used Kaplan et al.'s attention term, half of the full one; a causal kernel that skips
# the masked half computes almost exactly that (last line). The factor 2 between the two lessons'
# figures is causal vs full, nothing else.

# %% [markdown]
# ### Explore: the FLOP split
#
# Move d_model, the FFN ratio m/d and the sequence length n. The plot shows each part's share as n
# grows, with the crossover dotted and your n in grey; the line below gives the shares at your n.
# Things to try: a small model (d = 256) at n = 4096; GPT-3's width at n = 131072; m/d = 8/3 (SwiGLU,
# next section).

# %%
explorer = flop_share_explorer(d_model=768, ffn_ratio=4.0, n=1024)
explorer

# %% [markdown]
# ## 6. SwiGLU: the gated FFN of modern LLMs
#
# LLaMA, Mistral and most recent models replace ReLU/GELU with a **gated** unit (Shazeer 2020,
# arXiv 2002.05202): one projection is passed through SiLU(z) = z·σ(z) and multiplies a second
# projection element-wise, then a third matrix projects back:
#
# $$\text{SwiGLU}(x) = \big(\text{SiLU}(x W_\text{gate}) \odot x W_\text{up}\big)\, W_\text{down}$$
#
# Three matrices instead of two, so 3dm parameters and 6ndm FLOPs. Models shrink the hidden width to
# m ≈ 8d/3 to keep the cost of a 4d two-matrix FFN. At d = 96, m = 256 exactly:

# %%
d, m_swiglu = 96, 256  # 256 = 8·96/3
w_gate, w_up = rng.standard_normal((d, m_swiglu)), rng.standard_normal((d, m_swiglu))
w_down = rng.standard_normal((m_swiglu, d))
x = rng.standard_normal((10, d))

g = x @ w_gate
ours_inline = (g / (1 + np.exp(-g)) * (x @ w_up)) @ w_down  # SiLU(g) ⊙ up, then down
gate, up, down = (
    nn.Linear(*shape, bias=False).double() for shape in ((d, m_swiglu), (d, m_swiglu), (m_swiglu, d))
)
with torch.no_grad():
    for module, w in ((gate, w_gate), (up, w_up), (down, w_down)):
        module.weight.copy_(torch.from_numpy(w.T))
    xt = torch.from_numpy(x)
    theirs = down(F.silu(gate(xt)) * up(xt)).numpy()
    swiglu_flops = count_flops(lambda: down(F.silu(gate(xt)) * up(xt)))
print(
    "inline == tutor_lib.swiglu == torch:",
    np.allclose(ours_inline, swiglu(x, w_gate, w_up, w_down)),
    np.allclose(theirs, ours_inline),
)
print(f"parameters: SwiGLU 3·d·(8d/3) = {3 * d * m_swiglu:,} | ReLU FFN 2·d·4d = {2 * d * 4 * d:,}")
formula = ffn_flops(10, d, 4 * d)
print(f"FLOPs on 10 tokens: SwiGLU counted {swiglu_flops:,} | ffn_flops(10, d, 4d) = {formula:,}")

# %% [markdown]
# Same parameters, same FLOPs; the gate is what the models buy with them. The Mistral-7B-like shape uses
# a wider m = 3.5d, so its FFN costs 6ndm = 21nd². It also uses **grouped-query attention** (lesson 00):
# 32 query heads share 8 key/value heads, so W_K and W_V are only d × d/4. Its projections cost
# 2·n·d·(d + d/4 + d/4 + d) = **5nd²**, not 8nd² (the scores are unchanged: every query head still
# meets every key). The crossover is then
#
# $$4n^2 d = 5nd^2 + 6ndm \quad\Longleftrightarrow\quad n = 1.25d + 1.5m.$$
#
# `crossover_length` and `layer_flops` take the head counts and `gated=True`:

# %%
s = MISTRAL_7B_LIKE
mistral_layer = {"n_heads": s.n_heads, "n_kv_heads": s.kv_heads, "gated": True}
print(f"{s.name}: m / d = {s.d_ff / s.d_model}, {s.n_heads} query heads, {s.kv_heads} KV heads")
per_token = layer_flops(1, s.d_model, s.d_ff, **mistral_layer)
print(f"projections per token: {per_token['projections'] / s.d_model**2:.0f}·d²")
print(f"crossover n = 1.25d + 1.5m = {crossover_length(s.d_model, s.d_ff, **mistral_layer):,} tokens")
print(
    f"(ignoring GQA, 2d + 1.5m  = {crossover_length(s.d_model, s.d_ff, gated=True):,}: wrong for this shape)"
)

# %% [markdown]
# Counted on PyTorch modules. The FLOP shares depend only on n/d, m/d and the KV width over d, so a
# layer 64× narrower (d = 64: 32 query heads of 2 dimensions, 8 KV heads, m = 224) crosses over at
# 26,624 / 64 = 416 tokens. Projections are `nn.Linear` layers (K and V only 16 wide), the FFN is
# SwiGLU, the scores are SDPA with `enable_gqa=True`:

# %%
scale = 64
d, m, h, h_kv = s.d_model // scale, s.d_ff // scale, s.n_heads, s.kv_heads
d_kv = h_kv * d // h  # 16: the width of K and V
gqa_projections = [nn.Linear(d, width, bias=False) for width in (d, d_kv, d_kv, d)]  # W_Q, W_K, W_V, W_O
gate, up, down = (nn.Linear(*shape, bias=False) for shape in ((d, m), (d, m), (m, d)))
n_cross = crossover_length(d, m, n_heads=h, n_kv_heads=h_kv, gated=True)
print(f"crossover for d = {d}, m = {m}: {n_cross} tokens")
for n in (n_cross - 1, n_cross, n_cross + 1):
    x_t = torch.randn(n, d)
    q, kv = torch.randn(1, h, n, d // h), torch.randn(1, h_kv, n, d // h)  # (b, h, n, d_h), (b, h_kv, n, d_h)
    scores = count_flops(lambda q=q, kv=kv: F.scaled_dot_product_attention(q, kv, kv, enable_gqa=True))
    linear = count_flops(
        lambda x_t=x_t: ([p(x_t) for p in gqa_projections], down(F.silu(gate(x_t)) * up(x_t)))
    )
    relation = "<" if scores < linear else ("=" if scores == linear else ">")
    print(f"n = {n}: scores {scores:>10,} {relation} projections + FFN {linear:>10,}")

# %% [markdown]
# ## 7. The chunked FFN: same output, less memory
#
# The FFN's hidden layer h is the largest temporary *of the FFN*: n × m numbers, 4× the size of its
# input when m = 4d. (Not of the whole layer: without a fused kernel, attention's n × n probabilities
# are larger at long n, as section 5 showed; the next cell computes both for this section's sizes.)
# Because the FFN is position-wise, nothing forces us to hold all n rows of h at once. Process a
# **chunk** of c tokens at a time and write each chunk's output into place (Reformer, Kitaev et al.
# 2020, does this):

# %%
n, d, m = 4096, 64, 256
x = rng.standard_normal((n, d))
W1, b1 = rng.standard_normal((d, m)) / np.sqrt(d), rng.standard_normal(m)
W2, b2 = rng.standard_normal((m, d)) / np.sqrt(m), rng.standard_normal(d)

c = 1000  # does not divide n: the last chunk is shorter
out = np.empty_like(x)  # (n, d)
for start in range(0, n, c):
    rows = slice(start, start + c)  # the last slice simply stops at n
    out[rows] = np.maximum(0, x[rows] @ W1 + b1) @ W2 + b2  # only (c, m) of the hidden layer exists

plain = ffn(x, W1, b1, W2, b2)
print("inline chunks == ffn:", np.allclose(out, plain))
heads = 4  # a d = 64 layer with 4 heads of 16
print(
    f"float64, n = {n}: FFN hidden layer {8 * n * m / MIB:.0f} MiB | "
    f"one layer's probabilities without a fused kernel {8 * heads * n * n / MIB:.0f} MiB"
)
for c in (4096, 1000, 64, 7):
    diff = np.abs(chunked_ffn(x, W1, b1, W2, b2, chunk_size=c) - plain).max()
    print(f"chunked_ffn, chunk_size {c:>4}: max |difference| < 1e-12: {diff < 1e-12}")

# %% [markdown]
# Identical results (the arithmetic for each row is the same). Now the memory. `tutor_lib.measure.
# peak_bytes` runs a function under Python's `tracemalloc` and reports the largest amount of memory
# allocated during the call (numpy's allocations are traced; the inputs, allocated before, do not
# count). The prediction, in float64 (8 bytes):
#
# - plain: the hidden layer and the output, 8·(n·m + n·d) bytes;
# - chunked: the output plus one chunk's hidden layer and output, 8·(n·d + c·(m + d)) bytes.
#
# (Both also use numpy's small fixed ufunc buffer, 64 KiB, when b1 is added to the rows.)

# %%
plain_peak = peak_bytes(ffn, x, W1, b1, W2, b2)
chunk_sizes = [2048, 512, 128, 32, 8]
chunk_peaks = [peak_bytes(chunked_ffn, x, W1, b1, W2, b2, chunk_size=c) for c in chunk_sizes]

print(f"{'chunk_size':>10} | {'peak (MiB)':>10} | {'predicted':>9}")
print(f"{'plain':>10} | {plain_peak / MIB:>10.1f} | {8 * (n * m + n * d) / MIB:>9.1f}")
for c, peak in zip(chunk_sizes, chunk_peaks, strict=True):
    print(f"{c:>10} | {peak / MIB:>10.1f} | {8 * (n * d + c * (m + d)) / MIB:>9.1f}")

# %%
fig, ax = plt.subplots(figsize=(4.6, 2.8), layout="constrained")
ax.plot(chunk_sizes, np.array(chunk_peaks) / MIB, "o-", label="chunked_ffn, measured")
ax.axhline(plain_peak / MIB, color="tab:red", linestyle="--", label="ffn (no chunks)")
ax.axhline(8 * n * d / MIB, color="grey", linestyle=":", label="the output alone (n × d)")
ax.set(
    xscale="log",
    xlabel="chunk_size",
    ylabel="peak memory (MiB)",
    ylim=(0, None),
    title=f"FFN on n = {n} tokens, d = {d}, m = {m}",
)
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# With small chunks the peak falls to little more than the output itself: the n × m hidden layer never
# exists. The FLOPs are unchanged. (During *training* the hidden activations are normally kept for the
# backward pass anyway; lesson 07 combines chunking with recomputation.)
#
# ## 8. Mixture of Experts: parameters that do not all cost FLOPs
#
# Every token uses every weight of a dense FFN, so more FFN parameters mean more FLOPs per token. A
# **Mixture-of-Experts** (MoE) layer breaks that link (Shazeer et al. 2017; Switch Transformer, Fedus
# et al. 2022; Mixtral, Jiang et al. 2024). It holds E FFNs, the **experts**, and a **router** W_r
# (d × E). Each token picks the k experts with the largest router logits, and only those run on it:
#
# $$r_i = x_i W_r, \qquad T_i = \text{top-}k(r_i), \qquad
# g_{ie} = \frac{e^{r_{ie}}}{\sum_{e' \in T_i} e^{r_{ie'}}}, \qquad
# \text{out}_i = \sum_{e \in T_i} g_{ie}\, \text{FFN}_e(x_i).$$
#
# The gates g are a softmax over the k chosen logits only, so they sum to 1 (Mixtral's choice; it is
# the same as a softmax over all E logits, keeping the k largest and dividing by their sum). In
# code, the router is one matmul, and each expert runs on the rows routed to it:

# %%
n, d, m, E, k = 512, 64, 256, 8, 2
x = rng.standard_normal((n, d))
w_router = rng.standard_normal((d, E)) / np.sqrt(d)
experts = [
    (
        rng.standard_normal((d, m)) / np.sqrt(d),
        np.zeros(m),
        rng.standard_normal((m, d)) / np.sqrt(m),
        np.zeros(d),
    )
    for _ in range(E)
]

logits = x @ w_router  # (n, E)       r_i = x_i W_r
chosen = np.argsort(-logits, axis=-1, kind="stable")[:, :k]  # (n, k)  the top-k experts per token
top = np.take_along_axis(logits, chosen, axis=-1)  # (n, k)
gates = np.exp(top - top[:, :1]) / np.exp(top - top[:, :1]).sum(-1, keepdims=True)  # softmax over the k
out = np.zeros((n, d))
for e, expert in enumerate(experts):
    rows, slot = np.nonzero(chosen == e)  # the tokens routed to expert e
    out[rows] += gates[rows, slot, None] * ffn(x[rows], *expert)  # only those rows run through it

ours, counts = moe_ffn(x, w_router, experts, top_k=k)
print("inline == tutor_lib.ffn.moe_ffn:", np.allclose(out, ours))
print("tokens per expert:", counts, "| sum = n·k:", counts.sum() == n * k)
same, _ = moe_ffn(x, w_router, [experts[0]] * E, top_k=k)
print("8 identical experts == one FFN:", np.allclose(same, ffn(x, *experts[0])))

# %% [markdown]
# **Parameters vs active parameters.** Mixtral 8x7B is the Mistral-7B shape with each FFN replaced by
# 8 SwiGLU experts and top-2 routing. Attention, embeddings and norms are shared, so it is not 8 × 7 B:

# %%
moe = moe_param_counts(MISTRAL_7B_LIKE, num_experts=8, top_k=2)
print(f"dense Mistral-7B-like       : {param_count(MISTRAL_7B_LIKE) / 1e9:5.1f} B parameters")
print(f"8 experts, top 2: total     : {moe['total'] / 1e9:5.1f} B (in memory)")
print(f"                  active    : {moe['active'] / 1e9:5.1f} B (used by each token)")

# %% [markdown]
# Mixtral's paper and release give exactly these figures: 46.7 B parameters, 12.9 B of them used per
# token. Memory pays for all 46.7 B (lesson 00's byte arithmetic); compute pays for 12.9 B.
#
# **FLOPs per token, counted.** The same layer in torch (an `nn.Linear` router, ReLU experts, each
# expert applied to the rows routed to it), under `FlopCounterMode`:

# %%
router_t = nn.Linear(d, E, bias=False).double()
experts_t = [nn.Sequential(nn.Linear(d, m), nn.ReLU(), nn.Linear(m, d)).double() for _ in range(E)]


def torch_moe(x_t):
    top = torch.topk(router_t(x_t), k, dim=-1)  # values, indices: (n, k)
    gates_t = torch.softmax(top.values, dim=-1)
    out_t = torch.zeros_like(x_t)
    for e, expert in enumerate(experts_t):
        rows, slot = torch.nonzero(top.indices == e, as_tuple=True)
        out_t[rows] += gates_t[rows, slot, None] * expert(x_t[rows])
    return out_t


counted = count_flops(torch_moe, torch.from_numpy(x))
print(f"counted: {counted / n:,.0f} FLOPs per token")
print(f"router 2dE + k experts × 4dm = {moe_ffn_flops(1, d, m, num_experts=E, top_k=k):,}")
print(f"a dense FFN of the same total width E·m: {ffn_flops(1, d, E * m):,} ({E // k}× more)")

# %% [markdown]
# The router costs 2dE per token, a rounding error, and each token pays for k experts out of E: the
# layer has E/k = 4× the FFN parameters a token computes with.
#
# **Load imbalance.** Nothing forces the router to spread tokens evenly. Above, on isotropic random
# tokens, the counts were close to the fair share n·k/E. Real hidden states are not isotropic; give
# every token the same offset (a shared direction, as real activations have) and a few experts get
# most of the work:

# %%
x_shared = x + 1.5 * rng.standard_normal(d)  # one offset added to every token
_, counts_shared = moe_ffn(x_shared, w_router, experts, top_k=k)
fair = n * k / E


def switch_balance_loss(tokens, counts_e):
    # Switch Transformer (Fedus et al. 2022, eq. 4): E · Σ_e f_e P_e, with f_e = counts_e / (n·k) the
    # share of the routing slots and P_e the mean router probability (softmax over all E) of expert e
    r = tokens @ w_router
    probs = np.exp(r - r.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    return E * np.sum(counts_e / counts_e.sum() * probs.mean(0))


for name, c, tokens in (("isotropic", counts, x), ("shared offset", counts_shared, x_shared)):
    print(
        f"{name:>13}: counts {c} | busiest / fair share {c.max() / fair:.2f} | "
        f"balance loss {switch_balance_loss(tokens, c):.2f} (1 = even)"
    )

fig, ax = plt.subplots(figsize=(5.0, 2.6), layout="constrained")
ax.bar(np.arange(E) - 0.2, counts, width=0.4, label="isotropic tokens")
ax.bar(np.arange(E) + 0.2, counts_shared, width=0.4, label="tokens with a shared offset")
ax.axhline(fair, color="black", linestyle=":", label=f"fair share n·k/E = {fair:.0f}")
ax.set(xlabel="expert", ylabel="tokens routed", title=f"top-{k} of {E} experts, n = {n} tokens")
ax.legend(fontsize=7)
plt.show()

# %% [markdown]
# Why it matters: the experts run in parallel (often on different GPUs), so the busiest one sets the
# time, and an expert's buffer is sized for its fair share times a *capacity factor*; tokens beyond
# it are dropped or rerouted (Switch Transformer). Training therefore adds an auxiliary loss that is
# smallest when the load is even, such as Switch's E · Σ_e f_e P_e above (1 when balanced, larger
# when skewed), so that the router learns to spread the tokens.
#
# ## 9. Exercises
#
# ### Exercise 1: predict the crossover
# Write `my_crossover_length(d_model, d_ff)`: the sequence length n at which one layer's attention
# scores (4n²d FLOPs) cost exactly as much as its projections and FFN (8nd² + 4n·d·d_ff).
# Hint: both sides of the equation share a common factor; once it is gone, what is left is linear in n.


# %%
def my_crossover_length(d_model, d_ff):
    raise NotImplementedError  # your code here


passed = check_crossover_length(my_crossover_length)

# %% [markdown]
# ### Exercise 2: a chunked FFN
# Write `my_chunked_ffn(x, w1, b1, w2, b2, *, chunk_size)` for x of shape (..., n, d): the ReLU FFN,
# computed `chunk_size` tokens at a time along axis −2 (the last chunk may be shorter). The check
# compares it with `ffn` and also **measures its peak memory** on a large input, so building the whole
# hidden layer does not pass. Hints: the inline loop of section 7 is a start. What must change so that
# it works with leading (batch) dimensions and with a chunk_size that does not divide n?


# %%
def my_chunked_ffn(x, w1, b1, w2, b2, *, chunk_size):
    raise NotImplementedError  # your code here


passed = check_chunked_ffn(my_chunked_ffn)

# %% [markdown]
# ### Exercise 3: the crossover of a real model
# Real decoders combine three things this lesson counted separately: grouped-query attention
# (`n_kv_heads` of the `n_heads` heads hold keys and values), a gated FFN (`gated=True`: SwiGLU) and a
# **causal** mask. Write `my_causal_crossover(d_model, d_ff, *, n_heads, n_kv_heads, gated, causal)`:
# the first whole length n at which a layer's scores cost at least as much as its projections and FFN.
# With `causal=True`, count the scores of a kernel that computes only the (query, key) pairs the
# causal mask allows, each at 4·d FLOPs (QKᵀ and PV), and nothing else. With `causal=False` and
# `gated=False` it must agree with Exercise 1.
#
# Hints: write each of the three costs as a function of n, one option at a time. Which projection
# matrices does GQA shrink? How many pairs (i, j) with j ≤ i are there among n tokens? Your equation
# may not have a whole-number solution: which n does "the first length at which" ask for?


# %%
def my_causal_crossover(d_model, d_ff, *, n_heads, n_kv_heads, gated, causal):
    raise NotImplementedError  # your code here


passed = check_causal_crossover(my_causal_crossover)

# %% [markdown]
# ## Summary
#
# - FFN(x) = act(x W1 + b1) W2 + b2, applied to every token on its own (position-wise): editing one
#   token changes only its output row.
# - With m = 4d it has 8d² parameters and costs 16nd² FLOPs: twice the attention projections.
# - A layer's FLOPs split into projections 8nd², FFN 4ndm and scores 4n²d; the scores dominate only for
#   n > 2d + m (6d for m = 4d), which PyTorch's FLOP counter confirms at n = 384 for d = 64, m = 256.
#   At GPT-3's 2048-token context they are a few percent of the work.
#   That is a statement about FLOPs: in time (memory-bound softmax and masking) and memory (the n × n
#   probabilities) the n² term matters much earlier.
# - SwiGLU uses three matrices with m ≈ 8d/3: same parameters and FLOPs, a gated non-linearity.
#   Grouped-query attention cuts the projections (5nd² for the Mistral-7B-like shape), which moves its
#   crossover to n = 1.25d + 1.5m = 26,624.
# - Because it is position-wise, the FFN can run in chunks of tokens: exactly the same output, and a
#   peak memory of about the output plus one chunk instead of the whole n × m hidden layer.
# - Mixture of Experts: E FFNs and a router that sends each token to k of them. Mixtral 8x7B holds
#   46.7 B parameters but computes with 12.9 B per token; the router must be kept from overloading a
#   few experts.
# - Next, lesson 03: what happens past the crossover, where the n² terms take over time and memory.
