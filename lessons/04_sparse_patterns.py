# %% [markdown]
# # 04 · Structured sparse attention: masks, receptive fields, and kernels that are really sparse
#
# **What you will learn**
# - the sparse patterns real models use: local windows (Longformer), causal sliding windows (Mistral,
#   Gemma), dilated windows, block-diagonal chunks, the Sparse Transformer's *strided* and *fixed*
#   heads (and GPT-3's alternating dense and banded layers), global tokens (Longformer, BigBird) and
#   random keys (BigBird), each as a boolean mask;
# - the off-by-one conventions ("±w/2", "i − W … i", "q − k < W") and how to pin one down with a test;
# - how far information travels through L stacked layers (the **receptive field**), and why strided +
#   local attention reaches every earlier token in two layers;
# - why a mask alone makes nothing faster: kernels work in **tiles**, and only all-masked tiles are
#   skipped;
# - why **content-based** sparsity (each query keeps its top-k scores) saves no tiles, and what
#   Reformer and the Routing Transformer do about it;
# - two kernels that really skip work, `sliding_window_attention` and `block_sparse_attention`, checked
#   against dense attention and timed against PyTorch's dense masked kernel;
# - FlexAttention, PyTorch's production API for all of these patterns.
#
# **Prerequisites:** lesson 01 (attention, boolean masks: True = may attend) and lesson 03 (log-log
# slopes of measured times).
#
# **Runtime:** about 7 s on a quiet 2-core CPU, up to 33 s on a busy one (`make report`). The timing
# sweep shows a progress bar. No GPU, no downloads.

# %%
# %matplotlib inline
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib import pyplot as plt
from torch.nn.attention.flex_attention import create_block_mask, create_mask
from tutor_lib.attention import attention
from tutor_lib.exercises import (
    check_dilated_mask,
    check_receptive_field,
    check_tile_sparsity,
    check_two_hop_pattern,
)
from tutor_lib.masks import (
    block_local_mask,
    block_mask,
    block_random_mask,
    causal_mask,
    compose_layers,
    density,
    dilated_mask,
    fixed_mask,
    global_mask,
    keys_per_query,
    local_mask,
    random_mask,
    receptive_field,
    strided_mask,
    tile_mask,
    tile_savings,
    tile_sparsity,
    topk_mask,
)
from tutor_lib.measure import count_flops, loglog_slope, sweep, time_call
from tutor_lib.plots import plot_mask, plot_scaling, plot_tiles
from tutor_lib.sparse import block_sparse_attention, default_query_block, sliding_window_attention
from tutor_lib.widgets import mask_explorer, progress

rng = np.random.default_rng(0)
torch.manual_seed(0)
np.set_printoptions(precision=3, suppress=True, linewidth=120)
print("numpy", np.__version__.split(".")[0], "| torch", torch.__version__.split("+")[0])

# %% [markdown]
# ## 1. A sparse pattern is a boolean mask
#
# Dense self-attention lets each of the n queries look at all n keys: n² query-key pairs. A *sparse*
# pattern allows only some of them. We write every pattern as a boolean mask of shape (n, n), row i =
# query i, column j = key j, **True = may attend**, exactly what lesson 01's `attention(q, k, v, mask)`
# and PyTorch's SDPA take. The outputs are then
#
# $$\text{out}_i = \sum_{j:\, M_{ij}} p_{ij} v_j, \qquad p_{ij} = \frac{e^{s_{ij}}}{\sum_{l:\, M_{il}}
# e^{s_{il}}},$$
#
# a softmax over the allowed keys only. Here are the patterns of this lesson at n = 32, with the
# fraction of the n² pairs each one keeps (its **density**):

# %%
n = 32
gallery = {
    "local ±2 (Longformer)": local_mask(n, 2, 2),
    "causal window, 4 back (Mistral)": local_mask(n, 4, 0),
    "dilated ±2, dilation 3": dilated_mask(n, 2, 2, 3),
    "block-diagonal chunks of 8": block_mask(n, 8),
    "strided, stride 6 (Sparse Tr.)": strided_mask(n, 6),
    "fixed, stride 8, 2 summary": fixed_mask(n, 8, 2),
    "window ±2 + 2 global (Longformer)": local_mask(n, 2, 2) | global_mask(n, 2),
    "+ 2 random keys (BigBird's idea)": local_mask(n, 2, 2) | global_mask(n, 2) | random_mask(n, 2, seed=0),
}
fig, axes = plt.subplots(2, 4, figsize=(10.4, 5.6), layout="constrained")
for ax, (name, mask) in zip(axes.flat, gallery.items(), strict=True):
    plot_mask(mask, ax=ax, title=f"{name}\ndensity {density(mask):.2f}")
plt.show()

# %% [markdown]
# Masks combine with `|` (a query may use either pattern: Longformer = window | global) and `&` (both
# rules must hold: a causal window = window & causal). Each row above is one query; count the dark
# cells of a row to get that query's **keys per query**, the number that sets the cost: O(n · keys)
# instead of O(n²).
#
# ## 2. Local windows and their off-by-one conventions
#
# A local (sliding) window lets query i see the keys at offsets j − i from −left to +right:
#
# $$M_{ij} = \big[-\text{left} \le j - i \le \text{right}\big]$$
#
# With numpy broadcasting this is two comparisons on an index column and an index row. The library's
# `local_mask` is the tested version of these lines:

# %%
n, left, right = 10, 2, 1
i = np.arange(n)[:, None]  # (n, 1) query index
j = np.arange(n)[None, :]  # (1, n) key index
mine = (j - i >= -left) & (j - i <= right)  # (n, n) by broadcasting
print(mine.astype(int))
print("same as local_mask:", np.array_equal(mine, local_mask(n, left, right)))
print("keys per query:", keys_per_query(mine))

# %% [markdown]
# Away from the edges every query sees left + right + 1 keys (itself included); the first and last
# queries see fewer, because the window is clipped to the sequence. Papers and codebases describe "a
# window of size w" in different ways, and they differ by one key:
#
# | convention | who | mask here | keys away from the edges |
# |---|---|---|---|
# | ±w/2 around i, bidirectional | Longformer (encoder) | `local_mask(n, w//2, w//2)` | w + 1 |
# | positions i − W … i, causal | Mistral paper | `local_mask(n, W, 0)` | W + 1 |
# | `q − k < W`, causal | many codebases | `local_mask(n, W - 1, 0)` | W |
#
# The counts in the last column are measured here, with w = W = 8 at n = 40 (rows 16–23, far from the
# edges):

# %%
n, w = 40, 8
conventions = {
    "Longformer ±w/2": local_mask(n, w // 2, w // 2),
    "Mistral i−W…i": local_mask(n, w, 0),
    "codebases q−k<W": local_mask(n, w - 1, 0),
}
for name, mask in conventions.items():
    keys = set(keys_per_query(mask)[16:24].tolist())
    print(f"{name:17s}: keys per query {keys}, sees the future: {bool(np.triu(mask, 1).any())}")

# %% [markdown]
# An encoder (Longformer, BERT-style) may look both ways; a decoder that generates text left to right
# must not see the future, so its window is causal (right = 0). Pick one convention, write it in the
# docstring, and test the key count: that is how `tutor_lib.masks` pins it down.
#
# > **Myth:** "Window sizes are typically 3–511 tokens."
# > **Fact:** no source gives that range, and published windows run from **tens to thousands** of
# > tokens. The likely origin is Longformer's character-level language model (text8, enwik8), whose
# > window grows with depth, from 32 tokens in the bottom layer to 512 in the top one (Beltagy et al.
# > 2020, §4). The published models: Longformer 512 (the `attention_window` of
# > `allenai/longformer-base-4096`), Mistral 7B 4096, Gemma 2 4096 (local layers alternating 1:1 with
# > global ones), Gemma 3 1024 (5 local layers per global one), BigBird 3 window blocks of 64 tokens.
# > The cell below turns each into keys per query with this lesson's conventions, and into the saving
# > against a 32k-token context.

# %%
context = 32_768
published = {  # name: (left, right, source); the window conventions of each paper
    "Longformer char-LM, bottom (32)": (16, 16, "Beltagy et al. 2020, char-LM, layer 1"),
    "Longformer char-LM, top (512)": (256, 256, "Beltagy et al. 2020, char-LM, last layer"),
    "Longformer-base (w = 512)": (256, 256, "HF config attention_window=512"),
    "Mistral 7B (W = 4096)": (4096, 0, "Jiang et al. 2023: positions i-W..i"),
    "Gemma 2 local layers (4096)": (4095, 0, "arXiv 2408.00118, sliding window 4096"),
    "Gemma 3 local layers (1024)": (1023, 0, "arXiv 2503.19786, sliding window 1024"),
    "BigBird window (3 x 64)": (96, 95, "HF block_size=64: 3 blocks around the query"),
}
for name, (left, right, source) in published.items():
    keys = left + right + 1
    print(f"{name:31s} {keys:5d} keys/query, {context / keys:6.1f}x fewer than {context} | {source}")
# Gemma 3 interleaves 5 local layers with 1 global layer: average keys per query over the stack
gemma3 = (5 * 1024 + context) / 6
print(f"Gemma 3 stack average: {gemma3:.0f} keys/query, {context / gemma3:.1f}x fewer than all-global")

# %% [markdown]
# (BigBird's window is really 3 whole blocks of 64 around the query's block; 192 keys is its size.)
# The windows are large, and the saving comes from the ratio context / window. A 5:1 local:global stack
# at 32k context still does about 5× less attention work than an all-global one, and, more important
# at decode time, its local layers keep only the last W keys and values in the cache.
#
# ## 3. Dilated windows
#
# Longformer's *dilated* window keeps the same number of keys but spaces them `dilation` apart, so the
# window reaches `dilation` times further:
#
# $$M_{ij} = \big[(j - i) \bmod \text{dilation} = 0\big]\ \wedge\ \big[-\text{left}\cdot\text{dilation}
# \le j - i \le \text{right}\cdot\text{dilation}\big]$$
#
# Longformer uses dilation on a few heads of the upper layers, next to undilated heads.

# %%
n = 24
fig, axes = plt.subplots(1, 3, figsize=(8.4, 2.9), layout="constrained")
for ax, dilation in zip(axes, (1, 2, 4), strict=True):
    mask = dilated_mask(n, 2, 2, dilation)
    reach = int(np.abs(np.nonzero(mask[12])[0] - 12).max())
    plot_mask(mask, ax=ax, title=f"dilation {dilation}: {keys_per_query(mask)[12]} keys, reach ±{reach}")
plt.show()

# %% [markdown]
# ### Exercise 1: write `dilated_mask`
#
# Write `my_dilated_mask(n, left, right, dilation)` returning the boolean (n, n) mask above. Hints:
# section 2 built a window from comparisons on the offset j − i. In the figure, list the offsets that
# row 12 keeps for dilation 2 and 4: what do they have in common, and how far does the farthest one
# reach? With `dilation = 1` you should get `local_mask`.


# %%
def my_dilated_mask(n, left, right, dilation):
    raise NotImplementedError  # your code here


passed = check_dilated_mask(my_dilated_mask)

# %% [markdown]
# ## 4. Blocks, stripes and summaries: the Sparse Transformer
#
# **Block-diagonal chunks** (Liu et al. 2018 used chunks of 256) let tokens attend only inside their own
# chunk: `block_mask(n, block)`, the mask of plain sequence chunking. Cheap, but no information crosses
# a chunk boundary in one layer, and stacking layers does not help (section 5 shows it).
#
# The **Sparse Transformer** (Child et al. 2019) splits attention over two heads (or two alternating
# layers) with a stride l ≈ √n. In the paper's words, one head attends to "the previous l locations",
# the other to "every l-th location"; its formulas (§4.3, causal, so every set lies within j ≤ i) are
#
# - the *local* head, a **band**: $A^{(1)}_i = \{t, t+1, \dots, i\}$ with $t = \max(0, i - l)$;
# - the *strided* head: $A^{(2)}_i = \{j : (i - j) \bmod l = 0\}$, every l-th earlier position.
#
# Read literally, $A^{(1)}_i$ holds **l + 1** keys (i − l … i), one more than "the previous l". The
# authors' reference code (`openai/sparse_attention`, `attn_mode='local'`) builds a band of exactly l
# keys, i − l < j ≤ i. This lesson follows the code: `local_mask(n, l - 1, 0)`; the paper's formula
# is `local_mask(n, l, 0)`. Section 5 checks that both versions connect everything in two layers.
#
# Its *fixed* variant instead uses the query's own block of l tokens plus the last c "summary" tokens of
# every block, which all later queries read. **GPT-3** (Brown et al. 2020, §2.1) uses "alternating
# dense and locally banded sparse attention patterns in the layers of the transformer, similar to the
# Sparse Transformer": every other layer is a band, the others are dense (the paper does not give the
# band's width).
#
# > **Myth:** "Strided attention is a band along the diagonal."
# > **Fact:** the band is the *local* head. The strided head is a family of parallel **stripes**, one
# > every `stride` diagonals: query 20 with stride 6 reads keys 20, 14, 8 and 2, not its neighbours.

# %%
n, stride = 24, 6
local_head = local_mask(n, stride - 1, 0)  # i - l < j <= i: the reference code's l keys
paper_band = local_mask(n, stride, 0)  # {max(0, i - l), ..., i}: the paper's formula, l + 1 keys
strided_head = strided_mask(n, stride)  # (i - j) % l == 0, j <= i
print("query 20, local head (code) :", np.flatnonzero(local_head[20]))
print("query 20, local head (paper):", np.flatnonzero(paper_band[20]))
print("query 20, strided head      :", np.flatnonzero(strided_head[20]))
fig, axes = plt.subplots(1, 3, figsize=(8.4, 2.9), layout="constrained")
plot_mask(local_head, ax=axes[0], title="local head: a band")
plot_mask(strided_head, ax=axes[1], title="strided head: stripes")
plot_mask(fixed_mask(n, stride, 2), ax=axes[2], title="fixed: blocks + summary columns")
plt.show()

# %% [markdown]
# Each head alone misses most earlier tokens. Together they reach **every** earlier token j ≤ i in two
# steps, in either order. *Band first*: within l steps after j the band reaches the position k with
# k ≡ i (mod l), and i's stripe reads k. *Stripe first*: j's stripe carries it to the position k ≡ j
# (mod l) among i's last l positions, and i's band reads k. We check both orders in section 5, with
# the receptive field.
#
# ## 5. Receptive field: how far information travels through L layers
#
# One layer lets position i read position j when $M_{ij}$ is True; the residual connection adds i's own
# state. Stacking layers composes these reads: i at layer 2 reads j at layer 1, which read k at the
# input. As boolean matrices (OR of ANDs), with the identity I for the residual,
#
# $$R_L = (M \lor I)^L, \qquad R_L[i, k] = \text{True} \iff \text{input } k \text{ can influence output } i.$$
#
# The product of boolean matrices is an ordinary matrix product followed by "> 0":

# %%
n, left, layers = 24, 3, 3
step = local_mask(n, left, 0) | np.eye(n, dtype=bool)  # M | I: one layer plus the residual
reach = np.eye(n, dtype=bool)
for _ in range(layers):
    reach = (step.astype(int) @ reach.astype(int)) > 0  # boolean product: OR over AND
print(
    "same as receptive_field:",
    np.array_equal(reach, receptive_field(local_mask(n, left, 0), layers)),
)
print("query 20 is reached from inputs", np.flatnonzero(reach[20]))

# %% [markdown]
# A causal window of `left` keys back reaches `layers · left` tokens back: a stack of L layers with
# window W sees L·W. Measured for L = 1 … 4 (farthest input that reaches the last query):

# %%
n, left = 64, 5
fig, axes = plt.subplots(1, 4, figsize=(10.4, 2.8), layout="constrained")
for ax, layers in zip(axes, (1, 2, 3, 4), strict=True):
    reach = receptive_field(local_mask(n, left, 0), layers)
    span = n - 1 - np.flatnonzero(reach[-1]).min()
    print(f"L = {layers}: reaches {span} tokens back, L · left = {layers * left}")
    plot_mask(reach, ax=ax, title=f"{layers} layer(s): {span} back")
plt.show()

# %% [markdown]
# Mistral 7B uses W = 4096 in each of its 32 layers, so its last layer can in principle draw on
# 32 × 4096 tokens: the "theoretical attention span of approximately 131K tokens" of the paper:

# %%
print(f"32 layers x 4096 = {32 * 4096:,} tokens")

# %% [markdown]
# "In principle": the path exists, but information passed through 32 hops is mixed with everything
# else at each step; the span is an upper bound, not a guarantee that the model uses it.
#
# Now the Sparse Transformer's claim. Merged into one head (`local | strided`) or alternated layer by
# layer (`compose_layers` takes one mask per layer, first layer first: `[local_head, strided_head]` is
# band first, `[strided_head, local_head]` stripe first), two layers reach every earlier token, with
# the code's band and with the paper's; one layer, or the strided head alone, does not. Block-diagonal
# chunks never reach across:

# %%
n, stride = 64, 8
local_head, strided_head, causal = (
    local_mask(n, stride - 1, 0),
    strided_mask(n, stride),
    causal_mask(n),
)
print(
    "merged, 2 layers == causal:     ",
    np.array_equal(receptive_field(local_head | strided_head, 2), causal),
)
print("band first, 2 layers == causal: ", np.array_equal(compose_layers([local_head, strided_head]), causal))
print("stripe first, 2 layers == causal:", np.array_equal(compose_layers([strided_head, local_head]), causal))
paper_band = local_mask(n, stride, 0)  # the paper's A(1): l + 1 keys
print(
    "paper's band, merged == causal:  ", np.array_equal(receptive_field(paper_band | strided_head, 2), causal)
)
print(
    "merged, 1 layer == causal:      ",
    np.array_equal(receptive_field(local_head | strided_head, 1), causal),
)
print("strided only, 2 layers == causal:", np.array_equal(receptive_field(strided_head, 2), causal))
chunks = block_mask(n, 16)
print("chunks of 16, 8 layers == chunks:", np.array_equal(receptive_field(chunks, 8), chunks))
last = keys_per_query(local_head | strided_head)[-1]
predicted = stride + n // stride - 1
print(
    f"the last query reads {last} of {n} keys: l + n/l - 1 = {predicted}, about 2·√n = {2 * np.sqrt(n):.0f}"
)

# %% [markdown]
# A query reads at most l keys from the band and n/l from the stripes; with stride l ≈ √n that is
# about 2√n keys, so a layer costs O(n·√n) instead of O(n²), and two layers still connect everything.
# Global tokens do the same job even faster: a global token reads everyone and everyone reads it, so
# every pair is connected through it in two layers.
#
# ### Exercise 2: the receptive field
#
# Write `my_receptive_field(mask, layers)`: the boolean (n, n) matrix of which inputs reach each output
# after `layers` layers that all use `mask`. Hints: what does each position see after 0 layers? What
# does one more layer add, and which part of a layer lets a position keep what it already had? Check
# your answer for a causal window against L · left above, and for `layers = 0`.


# %%
def my_receptive_field(mask, layers):
    raise NotImplementedError  # your code here


passed = check_receptive_field(my_receptive_field)

# %% [markdown]
# ## 6. Global tokens and random keys: Longformer and BigBird
#
# **Global tokens** (Longformer: [CLS] and the question tokens; BigBird: g extra or existing tokens) have
# full rows *and* columns: they read everything and everything reads them. **BigBird** adds r random keys
# per query to the window and the global tokens; its paper's theory (universal approximation, Turing
# completeness) leans on the global tokens, and its implementation picks random **blocks** of 64 tokens
# (3 random blocks per query block in the Hugging Face defaults), because accelerators are fast on
# blocks and slow on scattered single keys. Section 7 shows why blocks matter.

# %%
n, b = 48, 8
longformer = local_mask(n, 3, 3) | global_mask(n, 2)
bigbird = longformer | random_mask(n, 3, seed=0)
window_blocks = block_local_mask(n, b, 1, 1)  # own block ± 1
bigbird_blocks = window_blocks | global_mask(n, 2) | block_random_mask(n, b, 1, seed=0)
for name, mask in [
    ("Longformer", longformer),
    ("BigBird (random keys)", bigbird),
    ("BigBird (random blocks)", bigbird_blocks),
]:
    k = keys_per_query(mask)
    full = receptive_field(mask, 2).all()
    print(f"{name:24s} keys/query: min {k.min():2d}, max {k.max():2d} | 2 layers connect everything: {full}")
fig, axes = plt.subplots(1, 3, figsize=(8.4, 2.9), layout="constrained")
plot_mask(longformer, ax=axes[0], title="Longformer: window + 2 global")
plot_mask(bigbird, ax=axes[1], title="BigBird: + 3 random keys")
plot_mask(bigbird_blocks, ax=axes[2], title="BigBird as implemented: blocks")
plt.show()

# %% [markdown]
# ## 7. Token mask vs tile mask: why a mask alone makes nothing fast
#
# > **Myth:** "A mask makes attention fast."
# > **Fact:** a dense kernel given a mask still computes every score and then throws the masked ones
# > away: same FLOPs, same time. Counted below with `count_flops` (PyTorch's `FlopCounterMode`) on the
# > three-line dense attention, with and without a window that removes most pairs.

# %%
n, d = 1024, 64
q, k, v = (torch.randn(1, n, d) for _ in range(3))
window = torch.from_numpy(local_mask(n, 128, 128))


def masked_dense(q, k, v, mask=None):
    s = q @ k.transpose(-1, -2) / d**0.5  # (1, n, n): every score is computed …
    if mask is not None:
        s = s.masked_fill(~mask, float("-inf"))  # … then most are thrown away
    return torch.softmax(s, dim=-1) @ v


for name, mask in [("no mask", None), ("window ±128", window)]:
    kept = 1 if mask is None else density(mask.numpy())
    print(f"{name:12s}: {count_flops(masked_dense, q, k, v, mask) / 1e6:6.1f} MFLOPs, pairs kept {kept:.2f}")

# %% [markdown]
# To *skip* work, a kernel must know in advance which scores it will not need. Fast kernels
# (FlashAttention, FlexAttention, block-sparse kernels) work on **tiles** of, say, 128 × 128 scores at a
# time; they can skip a tile only when *every* entry of it is masked. So the question is not "how
# sparse is the token mask?" but "how many tiles are entirely empty?", the **tile sparsity**. A tile
# that contains a single allowed pair is computed in full.
#
# A causal sliding window of W = 256 keys (`q − k < W`) at n = 2048, with 128 × 128 tiles:

# %%
n, W = 2048, 256
swa = local_mask(n, W - 1, 0)
print(f"token mask: {1 - density(swa):.1%} of the pairs are masked")
for block in (128, 64):
    t = tile_mask(swa, block)
    sparsity = tile_sparsity(swa, block)
    print(f"{block} x {block} tiles: {int(t.sum())} of {t.size} computed, tile sparsity {sparsity:.1%}")
print(f"causal mask alone: tile sparsity {tile_sparsity(causal_mask(n), 128):.1%} at 128 x 128")

# %% [markdown]
# Most of the masked pairs do lie in skippable tiles, but not all: the tiles along the band are
# computed in full, masked corners included, and smaller tiles waste less. The same picture at a size
# you can see (white = tile skipped, orange = computed but masked, blue = allowed):

# %%
fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.1), layout="constrained")
n = 96
for ax, (name, mask) in zip(
    axes,
    [
        ("causal window, 20 back", local_mask(n, 19, 0)),
        ("random keys (BigBird, per token)", random_mask(n, 3, seed=0) | local_mask(n, 3, 3)),
        (
            "random blocks (BigBird, as built)",
            block_local_mask(n, 16, 1, 1) | block_random_mask(n, 16, 1, seed=0),
        ),
    ],
    strict=True,
):
    plot_tiles(mask, 16, ax=ax, title=f"{name}\ntile sparsity {tile_sparsity(mask, 16):.0%}")
plt.show()

# %% [markdown]
# Random single keys touch almost every tile, so a tile kernel saves nothing; random *blocks* keep
# whole tiles empty. That is why BigBird is implemented with blocks of 64.
#
# ### Exercise 3: tile sparsity
#
# Write `my_tile_sparsity(mask, block)`: the fraction of `block × block` tiles that are entirely False.
# The last row and column of tiles may be smaller when `block` does not divide n. Hints: which tile
# does entry (i, j) fall into? You are counting tiles, not entries. Loops work; for a vectorised
# version, think about how a reshape could give every tile its own pair of axes.


# %%
def my_tile_sparsity(mask, block):
    raise NotImplementedError  # your code here


passed = check_tile_sparsity(my_tile_sparsity)

# %% [markdown]
# ### Exercise 4: design a pattern
#
# Write `my_two_hop_pattern(n, block)`: any boolean (n, n) mask such that
#
# 1. at least **80 %** of its `block × block` tiles are entirely False (`tile_sparsity(mask, block) >= 0.8`),
# 2. every query has at least one key, and
# 3. after **two layers**, with residual connections, every input reaches every output
#    (`receptive_field(mask, 2).all()`: not only the earlier ones, all pairs).
#
# The check tries n from 96 to 1024 with 10 to 16 tiles per side. Try the patterns of this lesson
# first: the Sparse Transformer's heads meet condition 3 (causally) but their stripes touch every tile
# row; windows and chunks leave tiles empty but connect only nearby tokens. Your answer is a design,
# and more than one passes.
#
# Hints: a two-layer path i → k → j needs a middle position k that reads j and that i reads. How few
# middle positions could serve every pair? Then count the tiles their rows and columns touch, and
# compare with the 20 % of tiles you may use. Why would 5 × 5 tiles be impossible?


# %%
def my_two_hop_pattern(n, block):
    raise NotImplementedError  # your code here


passed = check_two_hop_pattern(my_two_hop_pattern)

# %% [markdown]
# ## 8. Content-based sparsity: top-k needs every score first
#
# Every pattern so far depends only on **positions**, so it is known before a single score exists, and
# a kernel can skip its empty tiles without looking at the data. A *content-based* pattern lets the
# data choose: the simplest keeps, for each query, its k highest-scoring keys (top-k attention),
#
# $$M_{ij} = \big[\,s_{ij} \text{ is among the } k \text{ largest of row } i\,\big],$$
#
# ties going to the lower key index. `masks.topk_mask(scores, k)` is the tested version. Two problems
# show at once: to know which k keys win, **all n² scores must be computed** (the 2n²d FLOPs of QKᵀ are
# spent before anything is skipped), and the winners are scattered over the whole row, so almost no
# tile is empty. Random queries and keys, n = 256, each query keeping 32 keys (1/8 of them):

# %%
n, d, k_keep, block = 256, 16, 32, 32
q, k = rng.standard_normal((n, d)), rng.standard_normal((n, d))
scores = q @ k.T  # (n, n): every score, before any can be skipped
top = topk_mask(scores, k_keep)
window = local_mask(n, k_keep // 2, k_keep // 2 - 1)  # 32 keys per query (away from the edges), by position
print(f"top-{k_keep}: density {density(top):.3f}, keys per query {set(keys_per_query(top).tolist())}")
sparsity = {"top-k": tile_sparsity(top, block), "window": tile_sparsity(window, block)}
print(f"tile sparsity at {block} x {block}: top-k {sparsity['top-k']:.1%} | window {sparsity['window']:.1%}")

# Reformer-style buckets: hash each vector with a random rotation, then sort the tokens by bucket
rotation = rng.standard_normal((d, 4))
x = q / np.linalg.norm(q, axis=1, keepdims=True)  # Reformer shares queries and keys
buckets = np.argmax(np.concatenate([x @ rotation, -x @ rotation], axis=1), axis=1)  # 8 buckets
same_bucket = buckets[:, None] == buckets[None, :]  # (n, n): attend within the bucket
order = np.argsort(buckets, kind="stable")  # tokens sorted by bucket
sorted_mask = same_bucket[np.ix_(order, order)]
print(
    f"same-bucket mask: tile sparsity {tile_sparsity(same_bucket, block):.1%} in token order, "
    f"{tile_sparsity(sorted_mask, block):.1%} after sorting by bucket"
)
fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.1), layout="constrained")
plot_tiles(
    top,
    block,
    ax=axes[0],
    title=f"top-{k_keep} keys per query\ntile sparsity {tile_sparsity(top, block):.0%}",
)
plot_tiles(same_bucket, block, ax=axes[1], title="same hash bucket, token order")
plot_tiles(sorted_mask, block, ax=axes[2], title="same bucket, sorted by bucket")
plt.show()

# %% [markdown]
# Top-k keeps as few pairs as the window but leaves essentially no tile empty: a tile kernel would
# compute everything and then throw most of it away, after paying for all the scores to choose the
# winners. That is why content-based methods come with their own machinery. **Reformer** (Kitaev et
# al. 2020) hashes queries and keys (shared) with random rotations (LSH), **sorts** the tokens by bucket
# and attends within fixed-size chunks of the sorted sequence; the **Routing Transformer** (Roy et al.
# 2021) clusters queries and keys with online k-means and attends within each cluster. Both move the
# pairs they keep into dense blocks before computing anything, as the sorted panel shows, and neither
# ever computes all n² scores. They change the model (a query can miss a key that would have scored
# high), which is the price of choosing by content cheaply.

# %% [markdown]
# ## 9. Kernels that are really sparse
#
# **Sliding window.** Cut the queries into blocks of B. Block b (queries bB … bB + B − 1) only needs the
# keys from bB − left to bB + B − 1 + right: a span of B + left + right keys. Pad K and V with `left`
# zeros in front and view the spans as overlapping windows (`unfold`, no copy); mask the band inside each
# span and the padding outside [0, n). Nothing of size n × n is ever built: the work is
# n · (B + left + right) scores instead of n². The core lines, on a small example:

# %%
n, d, left, right, B = 20, 4, 3, 2, 4
q, k, v = (torch.randn(n, d, dtype=torch.float64) for _ in range(3))
nb, span = -(-n // B), B + left + right  # blocks, keys per block
zeros = lambda rows: torch.zeros(rows, d, dtype=torch.float64)  # noqa: E731
k_pad = torch.cat([zeros(left), k, zeros(nb * B - n + right)])  # (left + nb·B + right, d)
k_spans = k_pad.unfold(0, span, B).transpose(1, 2)  # (nb, span, d): block b's keys, a view
q_blocks = torch.cat([q, zeros(nb * B - n)]).view(nb, B, d)  # (nb, B, d)
scores = q_blocks @ k_spans.transpose(1, 2) / d**0.5  # (nb, B, span): no n x n anywhere
r, t = torch.arange(B)[:, None], torch.arange(span)[None, :]  # query row, key column in a block
pos = torch.arange(nb)[:, None, None] * B - left + t  # the key's position in the sequence
allowed = (t - r >= 0) & (t - r <= left + right) & (pos >= 0) & (pos < n)  # band, inside [0, n)
print(
    "scores per block:",
    tuple(scores.shape[1:]),
    "| allowed keys of block 2, row 0:",
    allowed[2, 0].nonzero().flatten().tolist(),
)

# %% [markdown]
# Softmax over each row of `scores` (masked to −∞ where not allowed) and multiply by the V spans.
# `sliding_window_attention` builds the same blocks and spans, then hands all of them to PyTorch's
# fused `scaled_dot_product_attention` in one call, the blocks playing the role of heads:
# queries (batch, nb, B, d) against keys (batch, nb, B + left + right, d), with the band as an
# additive mask. It is the same production kernel as the dense baseline below, given
# n · (B + left + right) scores to compute instead of n², and it supports autograd. It equals dense
# attention with `local_mask`, including windows wider than the sequence:

# %%
for n, left, right in [(20, 3, 2), (37, 5, 0), (16, 40, 40)]:
    q, k, v = (torch.randn(2, n, 8, dtype=torch.float64) for _ in range(3))
    ours = sliding_window_attention(q, k, v, left=left, right=right).numpy()
    dense = attention(q.numpy(), k.numpy(), v.numpy(), local_mask(n, left, right))
    exact = np.abs(ours - dense).max() < 1e-12
    print(f"n={n:3d} left={left:2d} right={right:2d}: max |banded - dense| < 1e-12: {exact}")

# %% [markdown]
# **Block-sparse.** For any mask, `block_sparse_attention` loops over query blocks, gathers only the key
# blocks whose tile is active, applies the token mask inside them and runs the softmax over the gathered
# keys. Its FLOPs follow the tile mask, not n²:

# %%
n, block, d = 256, 32, 16
mask = local_mask(n, 3, 3) | global_mask(n, 2) | block_random_mask(n, block, 1, seed=0)
q, k, v = (torch.randn(n, d, dtype=torch.float64) for _ in range(3))
flops = count_flops(block_sparse_attention, q, k, v, mask, block=block)
ours = block_sparse_attention(q, k, v, mask, block=block)
dense = attention(q.numpy(), k.numpy(), v.numpy(), mask)
print("equals dense attention with the same mask:", np.abs(ours.numpy() - dense).max() < 1e-12)
computed = 1 - tile_savings(mask, block)
print(f"FLOPs / dense FLOPs: {flops / (4 * n * n * d):.3f}, 1 - tile savings: {computed:.3f}")

# %% [markdown]
# **Work, counted.** `count_flops` on the banded kernel (window 257) and on dense attention: double n
# and the banded work doubles, the dense work quadruples. (The banded kernel computes B + 256 scores per
# query for its query block B, a little more than the 257 it needs.) The counter cannot look inside
# SDPA's fused CPU kernel, so `count_flops` asks SDPA for its plain-math backend, which does the same
# matrix products one by one.

# %%
d = 64
for n in (1024, 2048, 4096):
    q, k, v = (torch.randn(1, n, d) for _ in range(3))
    banded = count_flops(sliding_window_attention, q, k, v, left=128, right=128)
    dense = 4 * n * n * d  # QKᵀ and PV: 2n²d each (lesson 01, counted there)
    row = f"n={n:5d}: banded {banded / 1e6:6.1f} MFLOPs (B = {default_query_block(128, 128, n)})"
    print(f"{row} | dense {dense / 1e6:7.1f} MFLOPs | ratio {dense / banded:4.1f}")

# %% [markdown]
# **Time, measured.** Now the clock: PyTorch's fused SDPA kernel given the window as a boolean
# `attn_mask` (it still scores all n² pairs), against `sliding_window_attention`, one head, d = 64,
# window 257, float32. Two precautions make the comparison about the work rather than about the
# machine: both run on **one thread** (`torch.set_num_threads(1)`, so neither depends on how the cores
# are shared with other programs), and we keep the fastest of 3 runs (the least disturbed one, as
# Python's `timeit` recommends). Timings still depend on the machine, so this cell's output is not
# checked; read the ratios and the slopes.

# %%
# NBVAL_IGNORE_OUTPUT
heads, d, left = 1, 64, 128
fastest = {"repeat": 3, "warmup": 0, "reduce": "min"}  # the least disturbed of 3 runs


def timings(n):
    q, k, v = (torch.randn(1, heads, n, d) for _ in range(3))
    band = torch.from_numpy(local_mask(n, left, left))
    with torch.no_grad():
        return {
            "dense masked SDPA": time_call(
                F.scaled_dot_product_attention, q, k, v, attn_mask=band, **fastest
            ),
            "sliding_window_attention": time_call(
                sliding_window_attention, q, k, v, left=left, right=left, **fastest
            ),
        }


threads = torch.get_num_threads()
torch.set_num_threads(1)
try:
    timings(1024)  # warm-up
    times = sweep(timings, [512, 1024, 2048, 4096], progress=progress)
finally:
    torch.set_num_threads(threads)  # back to the default for the rest of the notebook
for n, dense_s, band_s in zip(
    times["n"], times["dense masked SDPA"], times["sliding_window_attention"], strict=True
):
    row = f"n={n:5d}: dense {dense_s * 1e3:7.1f} ms | banded {band_s * 1e3:6.1f} ms"
    print(f"{row} | dense / banded {dense_s / band_s:5.1f}x")
print(
    f"log-log slopes: dense {loglog_slope(times['n'], times['dense masked SDPA']):.2f}, "
    f"banded {loglog_slope(times['n'], times['sliding_window_attention']):.2f}"
)

# %%
fig, ax = plt.subplots(figsize=(4.6, 3.2), layout="constrained")
series = {name: times[name] for name in ("dense masked SDPA", "sliding_window_attention")}
plot_scaling(times["n"], series, ax=ax, ylabel="seconds", title="window 257, fp32, 1 head, 1 thread")
plt.show()

# %% [markdown]
# On a quiet machine the dense kernel's slope comes out near 2 (n² scores, masked or not) and the
# banded one's near 1 (n · window), so the gap widens with every doubling of n, as the FLOP counts
# above predict. If other programs compete for the CPU, the small sizes get noisy: run the cell again.
# `make bench` runs the same comparison with 4 heads and all threads up to n = 32k and prints the
# table.
#
# On GPUs the same idea is what makes sliding windows pay off in production: Mistral reports a **2×**
# speed-up over vanilla attention at 16k tokens with W = 4096, using modified FlashAttention and
# xFormers kernels (a GPU result from the Mistral 7B paper, not measured here).
#
# ## 10. FlexAttention: the production API
#
# PyTorch's FlexAttention (`torch.nn.attention.flex_attention`, FlexAttention paper 2024) takes each
# pattern as a tiny `mask_mod(b, h, q_idx, kv_idx) -> bool` function, builds the **tile mask** from it
# (`create_block_mask`, 128 × 128 tiles by default) and compiles a kernel that skips the empty tiles.
# The patterns of this lesson are one-liners, and `create_mask` turns them into the same dense masks:

# %%
n, w, dil, stride, g = 64, 8, 2, 6, 2
mask_mods = {
    "causal": (lambda b, h, q, k: q >= k, causal_mask(n)),
    "Longformer window": (
        lambda b, h, q, k: (q - k).abs() <= w // 2,
        local_mask(n, w // 2, w // 2),
    ),
    "Mistral-style q-k<W": (lambda b, h, q, k: (q >= k) & (q - k < w), local_mask(n, w - 1, 0)),
    "dilated": (
        lambda b, h, q, k: ((q - k).abs() <= dil * (w // 2)) & ((q - k) % dil == 0),
        dilated_mask(n, w // 2, w // 2, dil),
    ),
    "strided": (lambda b, h, q, k: (q >= k) & ((q - k) % stride == 0), strided_mask(n, stride)),
    "window + global": (
        lambda b, h, q, k: ((q - k).abs() <= w // 2) | (q < g) | (k < g),
        local_mask(n, w // 2, w // 2) | global_mask(n, g),
    ),
}
for name, (mask_mod, ours) in mask_mods.items():
    theirs = create_mask(mask_mod, None, None, n, n, device="cpu")[0, 0].numpy()
    print(f"{name:20s} create_mask == tutor_lib mask: {np.array_equal(theirs, ours)}")

# %% [markdown]
# And its tile sparsity is this lesson's `tile_sparsity` (reported in percent):

# %%
n, W = 2048, 256
block_mask_flex = create_block_mask(lambda b, h, q, k: (q >= k) & (q - k < W), None, None, n, n, device="cpu")
ours = 100 * tile_sparsity(local_mask(n, W - 1, 0), 128)
print(f"FlexAttention BlockMask sparsity: {block_mask_flex.sparsity():.2f} % | tile_sparsity: {ours:.2f} %")

# %% [markdown]
# Running the kernel is one more line, `flex_attention(q, k, v, block_mask=block_mask_flex)`, wrapped in
# `torch.compile` to get the tile-skipping kernel. We do not run it here: on CPU in torch 2.13 it is
# forward-only (no backward), and its first compile took about 20 s on 2 cores when this course was
# prepared, half of this notebook's budget. On a GPU it is the production way to use every pattern of
# this lesson.
#
# ## 11. Explore
#
# Pick a pattern and move its sliders: only the sliders that matter for the pattern are shown. Side by
# side you see the token mask, the receptive field after L layers and the tile mask; the line below
# gives the density, keys per query, how much of the sequence is connected after L layers, the tile
# sparsity and the share of score FLOPs a tile-skipping kernel saves. Values that do not fit together
# (more global tokens than tokens, a tile bigger than the sequence…) are clamped, with a note.
#
# Things to try: *strided* with 1 layer and then 2 (it stays stripes); *combine* window + strided, 2
# layers (everything connected); *BigBird* (built from blocks, as implemented) with the tile size equal
# to its block and then smaller or larger; *combine* with random keys ticked, to compare; *causal
# sliding window* at n = 128, left = 16 and tile 8 vs 32.

# %%
explorer = mask_explorer(pattern="bigbird", n=128, layers=2, tile=16)
explorer

# %% [markdown]
# If the sliders do not show (a static view of this notebook), this is what the explorer draws for
# its starting view: BigBird as implemented, at n = 128 in blocks of 16 tokens, each query block seeing
# its own and the two neighbouring key blocks, 2 global tokens and 1 random key block:

# %%
fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.2), layout="constrained")
plot_mask(explorer.mask, ax=axes[0], title=f"BigBird (blocks), density {explorer.stats['density']:.2f}")
plot_mask(
    explorer.receptive,
    ax=axes[1],
    title=f"receptive field after 2 layers: {explorer.stats['coverage']:.0%}",
)
plot_tiles(
    explorer.mask,
    16,
    ax=axes[2],
    title=f"16 x 16 tiles, sparsity {explorer.stats['tile_sparsity']:.0%}",
)
plt.show()

# %% [markdown]
# ## Summary
#
# - A sparse pattern is a boolean mask; its cost is set by the keys per query: local windows (Longformer
#   ±w/2 → w + 1 keys), causal windows (Mistral i − W … i → W + 1 keys; `q − k < W` → W keys), dilated
#   windows, block chunks, Sparse Transformer strided (stripes, not a band) and fixed, global and random
#   (BigBird). Pin the convention with a test of the key count.
# - Published windows run from tens to thousands of tokens (Longformer's character LM: 32 → 512 by
#   layer, the likely source of "3–511"; 512, 4096, 1024, 3 × 64), not "3–511". GPT-3 alternates dense
#   and banded layers.
# - Information spreads one window per layer: L layers of window W reach L · W (Mistral: 32 × 4096 ≈ 131k);
#   strided + local reach every earlier token in two layers; chunks never cross their boundary.
# - A mask alone changes the outputs, not the work: kernels skip only all-masked tiles, so tile
#   sparsity, not token sparsity, is what saves time; random single keys destroy it, random blocks keep it.
# - Content-based sparsity (top-k) must compute every score to choose, and its kept keys touch almost
#   every tile; Reformer's LSH and the Routing Transformer sort or cluster tokens into blocks first.
# - `sliding_window_attention` and `block_sparse_attention` compute only what the pattern needs, equal
#   dense attention with the same mask (float64), and the banded one grows linearly with n while dense
#   masked SDPA grows quadratically. FlexAttention is the production API for all of these patterns.
# - Next, lesson 05 keeps attention *exact* and dense, and removes the n × n memory instead: online
#   softmax and FlashAttention.
