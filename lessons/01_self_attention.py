# %% [markdown]
# # 01 · Self-attention, from three tokens to many heads
#
# **What you will learn**
# - where queries, keys and values come from (three different projections of the same tokens), and how
#   one attention layer turns them into outputs, first by hand on 3 tokens, then in one vectorised line;
# - why the scores are divided by √d_k (we measure the variance it cancels);
# - why every softmax subtracts the row maximum first (we watch the naive one overflow);
# - boolean masks, causal masks, and the off-by-alignment trap when a decoder has fewer queries than keys;
# - multi-head attention, and grouped-query attention (an exercise), and what one layer costs: **4n²d**
#   FLOPs for the scores plus **8nd²** for the projections, counted by PyTorch itself.
#
# **Prerequisites:** Python, numpy broadcasting, matrix multiplication; you have seen a Transformer diagram.
#
# **Runtime:** about 5 s on a quiet 2-core CPU, up to 17 s on a busy one (`make report`). No GPU, no
# downloads.
#
# Everything here is computed with `tutor_lib`, the small tested library next to these notebooks; its
# core lines are shown in the cells, so you can read the algorithm and trust the tested version.

# %%
# %matplotlib inline
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib import pyplot as plt
from tutor_lib.attention import (
    attention,
    causal_mask,
    merge_heads,
    multi_head_attention,
    softmax,
    split_heads,
)
from tutor_lib.costs import MIB, attention_flops
from tutor_lib.exercises import check_attention, check_causal_mask, check_gqa_attention, check_softmax
from tutor_lib.plots import plot_attention, plot_mask
from tutor_lib.widgets import attention_explorer

rng = np.random.default_rng(0)
torch.manual_seed(0)
np.set_printoptions(precision=3, suppress=True)
print("numpy", np.__version__.split(".")[0], "| torch", torch.__version__.split("+")[0])

# %% [markdown]
# ## 1. Attention by hand, on three tokens
#
# Every token produces three vectors:
# - a **query** q: *what am I looking for?*
# - a **key** k: *what do I contain, as an address?*
# - a **value** v: *what do I hand over if you pick me?*
#
# All three come from the same token vector x_i (its embedding, or the previous layer's output),
# through three **different** learned matrices:
#
# $$q_i = x_i W_Q, \qquad k_i = x_i W_K, \qquad v_i = x_i W_V.$$
#
# So a token's query is not its key: what it looks for and how it can be found are learned
# separately. For three tokens of width d_model = 4 and d_k = 2, d_v = 3:

# %%
proj_rng = np.random.default_rng(1)  # its own generator: the rest of the lesson's numbers stay put
X3 = proj_rng.standard_normal((3, 4))  # (n, d_model) one row per token
W_Q3, W_K3 = proj_rng.standard_normal((4, 2)), proj_rng.standard_normal((4, 2))  # (d_model, d_k)
W_V3 = proj_rng.standard_normal((4, 3))  # (d_model, d_v)
Q3, K3, V3 = X3 @ W_Q3, X3 @ W_K3, X3 @ W_V3  # one projection each, same X
print("X", X3.shape, "→ Q", Q3.shape, "K", K3.shape, "V", V3.shape)
print("token 0's query equals its key:", np.allclose(Q3[0], K3[0]))

# %% [markdown]
# In sections 1–7 we skip the projections and write Q, K and V down directly (first with small round
# numbers you can follow on paper, then random ones); section 8 puts W_Q, W_K, W_V and an output
# projection W_O back, with several heads.
#
# **Words.** Token i scores every token j by the dot product q_i · k_j and turns its row of scores
# into **attention probabilities** p_ij ≥ 0 that sum to 1 over j, with a softmax; the output is the
# average of the values under those probabilities. Papers (and PyTorch's `need_weights`) often call
# the p_ij "attention weights"; in these lessons **weights** means only the learned parameters
# (W_Q, W_K, W_V, W_O, …). `tutor_lib` still returns P as `weights` (`return_weights=True`), the name
# PyTorch uses.
#
# $$\text{out}_i = \sum_j p_{ij}\, v_j, \qquad p_{ij} = \frac{e^{s_{ij}}}{\sum_l e^{s_{il}}}, \qquad
# s_{ij} = \frac{q_i \cdot k_j}{\sqrt{d_k}}$$
#
# Here are three tokens with d_k = 2 and small round numbers, so that you can follow every step on paper.
# The values are one-hot, so each output literally says "how much of token j did I take".

# %%
tokens = ["the", "cat", "sat"]
Q = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])  # (n=3, d_k=2) one query per token
K = np.array([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # (3, 2) one key per token
V = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # (3, d_v=3) one value per token
d_k = Q.shape[1]

# %% [markdown]
# Step 1, the scores: a double loop over queries i and keys j, exactly as in the formula.

# %%
S_loop = np.zeros((3, 3))
for i in range(3):
    for j in range(3):
        S_loop[i, j] = Q[i] @ K[j] / np.sqrt(d_k)  # s_ij = q_i · k_j / √d_k
print(S_loop)

# %% [markdown]
# Row 0 ("the") has q = (1, 0): it matches k_0 = (2, 0) best (2/√2 ≈ 1.414). Step 2, the softmax of each
# row; step 3, the weighted sum of the values.

# %%
P_loop = np.zeros((3, 3))
for i in range(3):
    e = np.exp(S_loop[i])
    P_loop[i] = e / e.sum()  # p_ij = exp(s_ij) / Σ_l exp(s_il)
out_loop = P_loop @ V  # out_i = Σ_j p_ij v_j
print("attention probabilities (rows sum to 1):\n", P_loop)
print("row sums:", P_loop.sum(axis=1))
print("outputs:\n", out_loop)

# %% [markdown]
# Because V is the identity, each output row *is* its row of probabilities: "the" takes 58 % of itself,
# 14 % of "cat" and 28 % of "sat".
#
# ## 2. The same thing, vectorised
#
# The double loop is a matrix product. In matrix form, with one row per token:
#
# $$\text{Attention}(Q, K, V) = \operatorname{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}}\right) V$$
#
# Three lines of numpy. `tutor_lib.attention.attention` is the same three lines plus masks, input checks
# and batch/head dimensions.

# %%
S = Q @ K.T / np.sqrt(d_k)  # (n_q, n_k) all scores at once
P = np.exp(S) / np.exp(S).sum(axis=-1, keepdims=True)  # softmax over keys (last axis)
out = P @ V  # (n_q, d_v)

ours, probs = attention(Q, K, V, return_weights=True)  # probs: P, returned as "weights"
print(
    "vectorised == loops:",
    np.allclose(out, out_loop),
    "| tutor_lib == loops:",
    np.allclose(ours, out_loop),
)

# %% [markdown]
# A picture of P. **Rows are queries** (who is looking, top to bottom) and **columns are keys**
# (who is looked at). Colours run from 0 to 1 because the entries are probabilities.

# %%
fig, ax = plt.subplots(figsize=(3.4, 2.9), layout="constrained")
plot_attention(probs, ax=ax, tokens=tokens, title="softmax(QKᵀ/√d_k)")
plt.show()

# %% [markdown]
# ## 3. Why divide by √d_k?
#
# Suppose the entries of q and k are independent with mean 0 and variance 1 (roughly what a
# well-initialised layer produces). Then q · k = Σ_{m=1}^{d_k} q_m k_m is a sum of d_k independent terms of
# variance 1, so
#
# $$\operatorname{Var}(q \cdot k) = d_k, \qquad
#   \operatorname{Var}\!\left(\frac{q \cdot k}{\sqrt{d_k}}\right) = 1.$$
#
# Let's measure it rather than believe it: 20 000 random pairs for each d_k.

# %%
print(f"{'d_k':>5} | {'Var(q·k)':>9} | {'Var(q·k/√d_k)':>13}")
for dk in [1, 4, 16, 64, 256, 1024]:
    q = rng.standard_normal((20_000, dk))
    k = rng.standard_normal((20_000, dk))
    dots = np.einsum("pd,pd->p", q, k)  # one dot product per pair
    print(f"{dk:>5} | {dots.var():>9.1f} | {(dots / np.sqrt(dk)).var():>13.2f}")

# %% [markdown]
# The raw variance grows like d_k, the scaled one stays near 1. Why care? Large scores make the softmax
# **saturate**: one probability goes to ~1, the rest to ~0. A saturated softmax has almost no gradient (its
# Jacobian is diag(p) − ppᵀ, which is ~0 when p is one-hot), so the layer stops learning.
#
# Below: 16 keys, random q and k. We measure the mean largest probability per row, the mean row entropy
# (in bits; log₂ 16 = 4 bits means uniform), and the size of the softmax Jacobian, with and without the
# √d_k.


# %%
def saturation(dk, scaled, n=16, trials=200, seed=0):
    g = np.random.default_rng(seed)
    q = g.standard_normal((trials, 1, dk))
    k = g.standard_normal((trials, n, dk))
    s = (q @ k.swapaxes(-1, -2))[:, 0] / (np.sqrt(dk) if scaled else 1.0)  # (trials, n)
    p = softmax(s)
    entropy = -(p * np.log2(np.where(p > 0, p, 1.0))).sum(-1)
    jac = np.einsum("ti,ij->tij", p, np.eye(n)) - p[:, :, None] * p[:, None, :]  # diag(p) - p pᵀ
    return p.max(-1).mean(), entropy.mean(), np.linalg.norm(jac, axis=(1, 2)).mean()


dks = [1, 4, 16, 64, 256, 1024]
rows = {scaled: [saturation(dk, scaled) for dk in dks] for scaled in (True, False)}
print(f"{'d_k':>5} | {'max probability':>22} | {'entropy (bits)':>22} | {'‖Jacobian‖':>22}")
print(f"{'':>5} | {'÷√d_k':>10} {'raw':>11} | {'÷√d_k':>10} {'raw':>11} | {'÷√d_k':>10} {'raw':>11}")
for dk, a, b in zip(dks, rows[True], rows[False], strict=True):
    print(
        f"{dk:>5} | {a[0]:>10.2f} {b[0]:>11.2f} | {a[1]:>10.2f} {b[1]:>11.2f} | {a[2]:>10.3f} {b[2]:>11.3f}"
    )

# %%
fig, axes = plt.subplots(1, 2, figsize=(7.5, 2.8), layout="constrained")
for scaled, style in ((True, "o-"), (False, "s--")):
    label = "scores ÷ √d_k" if scaled else "raw q·k"
    axes[0].plot(dks, [r[0] for r in rows[scaled]], style, label=label)
    axes[1].plot(dks, [r[1] for r in rows[scaled]], style, label=label)
axes[0].set(
    xscale="log",
    xlabel="d_k",
    ylabel="mean max probability",
    ylim=(0, 1.05),
    title="softmax saturates without √d_k",
)
axes[1].set(
    xscale="log",
    xlabel="d_k",
    ylabel="mean row entropy (bits)",
    ylim=(0, 4.2),
    title="16 keys: uniform = 4 bits",
)
axes[0].legend(fontsize=8)
plt.show()

# %% [markdown]
# With the scaling, the probabilities look the same at every width. Without it, already at d_k = 64 (a typical
# head size) the top key takes most of the mass, the entropy has collapsed and the Jacobian (the gradient
# signal) has shrunk to half; at d_k = 1024 it is a sixth. Read the numbers off the table above.
#
# ## 4. A softmax that cannot overflow
#
# exp() overflows quickly: e^x exceeds the largest float64 at x ≈ 709.8, float32 at x ≈ 88.7 and float16
# at x ≈ 11.1. Logits that large do happen (large activations, low precision, no √d_k). The fix costs one
# subtraction: softmax is unchanged when a constant c is subtracted from every entry of a row,
#
# $$\frac{e^{s_j - c}}{\sum_l e^{s_l - c}} = \frac{e^{-c}\, e^{s_j}}{e^{-c} \sum_l e^{s_l}},$$
#
# and with c = max_l s_l every exponent is ≤ 0, so every exp() is ≤ 1.

# %%
for dtype in (np.float16, np.float32, np.float64):
    print(f"{np.dtype(dtype).name:>7}: exp overflows above x = {np.log(np.finfo(dtype).max):.1f}")

logits = np.array([1000.0, 999.0, 998.0])
with np.errstate(over="ignore", invalid="ignore"):
    naive = np.exp(logits) / np.exp(logits).sum()
print("naive softmax :", naive)
print("stable softmax:", softmax(logits))
print("same as softmax(logits - 1000):", np.allclose(softmax(logits), softmax(logits - 1000)))

# %% [markdown]
# `tutor_lib.attention.softmax` does exactly this, and also handles masked entries: a score of −∞ gets
# probability 0, and a row in which *every* entry is −∞ (a query allowed to see nothing) gets all zeros
# instead of NaN.
#
# ### Exercise 1: a stable softmax
# Write `my_softmax(x)`: the softmax over the **last** axis of a numpy array of any shape.
# It must survive logits of ±1000 and `-inf` entries, and return zeros for a row that is entirely `-inf`.
# Hints: which constant can you subtract from every entry of a row without changing its softmax, and
# which choice keeps every exp() ≤ 1? What is that constant for a row of all `-inf`, and what goes
# wrong there?


# %%
def my_softmax(x):
    raise NotImplementedError  # your code here


passed = check_softmax(my_softmax)

# %% [markdown]
# ## 5. Masks: who may look at whom
#
# A **mask** is a boolean matrix of shape (n_q, n_k); **True means "may attend"** (the same convention as
# PyTorch's `scaled_dot_product_attention`). Masked scores are set to −∞ *before* the softmax, so they get
# probability exactly 0 and the remaining probabilities still sum to 1.
#
# Two everyday masks:
# - **padding**: sequences in a batch have different lengths, so keys that are padding must be ignored;
# - **causal**: a language model predicting token i may only use tokens 0 … i.

# %%
n = 6
q6, k6, v6 = (rng.standard_normal((n, 4)) for _ in range(3))  # (n, 4) each: three different arrays
pad = np.ones((n, n), dtype=bool)
pad[:, 4:] = False  # the last two tokens are padding: nobody may attend to them
causal = causal_mask(n)
_, p_causal = attention(q6, k6, v6, causal=True, return_weights=True)

fig, axes = plt.subplots(1, 3, figsize=(9.4, 2.8), layout="constrained")
plot_mask(pad, ax=axes[0], title="padding: keys 4, 5 masked")
plot_mask(causal, ax=axes[1], title="causal: key j ≤ query i")
plot_attention(p_causal, mask=causal, ax=axes[2], annotate=False, title="P with the causal mask")
plt.show()

print("causal probabilities above the diagonal are all 0:", np.all(p_causal[~causal] == 0))
print("rows still sum to 1:", np.allclose(p_causal.sum(-1), 1))

# %% [markdown]
# Blue = may attend, grey = masked, in every picture of these lessons. In a heatmap of P, grey marks
# pairs that were never allowed, which is not the same as an allowed key that got probability ≈ 0
# (the dark cells).

# %% [markdown]
# What if a query may attend to **no** key at all (all its row is False)? The softmax of an all −∞ row is
# 0/0. We define the output as 0, and so does PyTorch's CPU kernel:

# %%
nobody = np.ones((n, n), dtype=bool)
nobody[2] = False  # query 2 may attend to nothing
ours = attention(q6, k6, v6, nobody)
theirs = F.scaled_dot_product_attention(
    *(torch.from_numpy(a) for a in (q6, k6, v6)), attn_mask=torch.from_numpy(nobody)
).numpy()
print("our row 2:", ours[2], "| SDPA row 2:", theirs[2], "| any NaN:", np.isnan(ours).any())

# %% [markdown]
# ## 6. One decoding step: fewer queries than keys
#
# When a model generates text, it has already processed n_k − 1 tokens (their keys and values sit in the
# **KV cache**) and now computes attention for just the newest token: **n_q = 1 query against n_k keys**.
# That query is the *last* position, so it may see every key.
#
# In general, with n_q queries and n_k keys the queries are the **last** n_q positions: query i sits at
# position i + n_k − n_q, and may see keys j ≤ i + n_k − n_q. This is the **bottom-right aligned** causal
# mask, the one `tutor_lib` uses (and flash-attn since version 2.1).

# %%
print("causal_mask(2, 5):\n", causal_mask(2, 5).astype(int))
print("causal_mask(1, 5):\n", causal_mask(1, 5).astype(int))

# %% [markdown]
# Let's check that decoding token by token (one query at a time against a growing cache) gives exactly the
# rows of full causal attention:

# %%
n, d = 7, 4
q7, k7, v7 = (rng.standard_normal((n, d)) for _ in range(3))
full = attention(q7, k7, v7, causal=True)
steps = [attention(q7[t : t + 1], k7[: t + 1], v7[: t + 1], causal=True) for t in range(n)]  # KV cache
print("token-by-token decoding == full causal attention:", np.allclose(np.concatenate(steps), full))

# %% [markdown]
# **The trap.** PyTorch's `scaled_dot_product_attention(..., is_causal=True)` aligns the causal mask to the
# **top-left** instead: query i sees keys j ≤ i, whatever n_k is. For a square problem the two agree; for
# one decoding step they do not. Top-left alignment would let the new token see only key 0.
# PyTorch offers bottom-right alignment as `torch.nn.attention.bias.causal_lower_right`.

# %%
from torch.nn.attention.bias import causal_lower_right

qt, kt, vt = (torch.from_numpy(a) for a in (q7[-2:], k7, v7))  # 2 queries (the last 2), 7 keys
ours = attention(q7[-2:], k7, v7, causal=True)
top_left = F.scaled_dot_product_attention(qt, kt, vt, is_causal=True).numpy()
bottom_right = F.scaled_dot_product_attention(qt, kt, vt, attn_mask=causal_lower_right(2, 7)).numpy()
print("ours == SDPA(is_causal=True)           :", np.allclose(ours, top_left))
print("ours == SDPA(causal_lower_right(2, 7)) :", np.allclose(ours, bottom_right))
print("ours == the last 2 rows of full causal :", np.allclose(ours, full[-2:]))

# %% [markdown]
# ### Exercise 2: the bottom-right causal mask
# Write `my_causal_mask(n_q, n_k)` returning a boolean (n_q, n_k) array, True where query i may attend to
# key j. Check your answer on the n_q = 2, n_k = 5 picture above before running the check.
# Hint: section 6 says at which position query i sits; numpy broadcasting can compare every (query,
# key) pair at once, without a loop.


# %%
def my_causal_mask(n_q, n_k):
    raise NotImplementedError  # your code here


passed = check_causal_mask(my_causal_mask)

# %% [markdown]
# ### Exercise 3: attention with a mask
# Write `my_attention(q, k, v, mask=None)` for inputs of shape (..., n_q, d_k), (..., n_k, d_k),
# (..., n_k, d_v), where `mask` is boolean (True = may attend). Use your softmax from Exercise 1 (or
# `tutor_lib.attention.softmax`). Hints: a masked key must get probability exactly 0 while the kept
# ones still sum to 1: does the mask act on the scores or on the probabilities? With batch and head
# dimensions, `.T` reverses *all* axes; you only want to swap the last two.


# %%
def my_attention(q, k, v, mask=None):
    raise NotImplementedError  # your code here


passed = check_attention(my_attention)

# %% [markdown]
# ## 7. Agreement with PyTorch's production kernel
#
# `torch.nn.functional.scaled_dot_product_attention` (SDPA) is what real models call. On a CPU it runs a
# fused FlashAttention-style kernel. In float64, with batch and head dimensions and a random mask, our
# readable numpy version and SDPA agree to rounding error:

# %%
b, h, n_q, n_k, d_k, d_v = 2, 3, 5, 9, 8, 6
q = rng.standard_normal((b, h, n_q, d_k))
k = rng.standard_normal((b, h, n_k, d_k))
v = rng.standard_normal((b, h, n_k, d_v))
mask = rng.random((b, 1, n_q, n_k)) < 0.7  # broadcast over heads
ours = attention(q, k, v, mask)
theirs = F.scaled_dot_product_attention(*map(torch.from_numpy, (q, k, v)), attn_mask=torch.from_numpy(mask))
print(
    "output shape:",
    ours.shape,
    "| max |ours - SDPA| < 1e-12:",
    np.abs(ours - theirs.numpy()).max() < 1e-12,
)

# %% [markdown]
# ## 8. Multi-head attention
#
# One softmax can only express one way of mixing tokens. **Multi-head attention** runs h attentions in
# parallel, each on its own d_h = d_model / h slice of the projected queries, keys and values, and
# concatenates the results:
#
# $$\text{MHA}(X) = \operatorname{concat}(\text{head}_1, \dots, \text{head}_h)\, W_O, \qquad
# \text{head}_i = \text{Attention}(X W_Q^{(i)}, X W_K^{(i)}, X W_V^{(i)})$$
#
# In code the "slices" are just a reshape: `split_heads` turns (n, d_model) into (h, n, d_h), and
# `merge_heads` undoes it.

# %%
n, d_model, num_heads = 6, 8, 2
X = rng.standard_normal((n, d_model))
W_q, W_k, W_v, W_o = (rng.standard_normal((d_model, d_model)) / np.sqrt(d_model) for _ in range(4))

q_heads = split_heads(X @ W_q, num_heads)  # (h, n, d_h)
print("X:", X.shape, "→ X @ W_q:", (X @ W_q).shape, "→ split_heads:", q_heads.shape)
print("merge_heads(split_heads(.)) is the identity:", np.array_equal(merge_heads(q_heads), X @ W_q))

_, head_probs = attention(
    q_heads,
    split_heads(X @ W_k, num_heads),
    split_heads(X @ W_v, num_heads),
    causal=True,
    return_weights=True,
)  # (h, n, n): one pattern per head
y = multi_head_attention(X, W_q, W_k, W_v, W_o, num_heads, causal=True)
print("MHA output:", y.shape)

fig, axes = plt.subplots(1, num_heads, figsize=(6.4, 2.8), layout="constrained")
for i, ax in enumerate(axes):
    plot_attention(
        head_probs[i],
        mask=causal_mask(n),
        ax=ax,
        title=f"head {i}",
        annotate=False,
        colorbar=i == num_heads - 1,
    )
plt.show()

# %% [markdown]
# Same tokens, two different mixing patterns. Check against PyTorch's `nn.MultiheadAttention`
# (which stores weights transposed, as `x @ W.T`):

# %%
mha = torch.nn.MultiheadAttention(d_model, num_heads, bias=False, batch_first=True, dtype=torch.float64)
with torch.no_grad():
    mha.in_proj_weight.copy_(torch.from_numpy(np.concatenate([W_q.T, W_k.T, W_v.T])))
    mha.out_proj.weight.copy_(torch.from_numpy(W_o.T))
    Xt = torch.from_numpy(X)[None]
    y_torch, _ = mha(Xt, Xt, Xt, attn_mask=torch.from_numpy(~causal_mask(n)))  # torch: True = blocked!
print("ours == nn.MultiheadAttention:", np.allclose(y, y_torch[0].numpy()))

# %% [markdown]
# Note the `~`: `nn.MultiheadAttention`'s boolean mask means the **opposite** (True = *blocked*) of SDPA's.
# Always check a library's mask convention.
#
# ### Exercise 4: grouped-query attention
# Lesson 00 met grouped-query attention (GQA): the Mistral-7B-like shape has 32 query heads but only 8
# key/value heads, which makes its KV cache 4× smaller. Write
# `my_gqa_attention(x, w_q, w_k, w_v, w_o, num_heads, num_kv_heads)`: multi-head self-attention (no
# mask) in which w_k and w_v have shape (d_model, num_kv_heads · d_h), d_h = d_model // num_heads,
# and each key/value head serves num_heads // num_kv_heads **consecutive** query heads (with 8 query
# heads and 2 KV heads, query heads 0–3 use KV head 0 and 4–7 use KV head 1: the convention of
# Mistral and of PyTorch's `scaled_dot_product_attention(..., enable_gqa=True)`). This section
# gives you the pieces, not the assembly.
#
# Hints: what shape do `x @ w_k` and `split_heads` give now, and what shape does `attention` need
# for each query head's keys? Which numpy function copies an entry along an axis a given number of
# times in a row? Sanity check: with num_kv_heads = num_heads your function must equal
# `multi_head_attention` above.


# %%
def my_gqa_attention(x, w_q, w_k, w_v, w_o, num_heads, num_kv_heads):
    raise NotImplementedError  # your code here


passed = check_gqa_attention(my_gqa_attention)

# %% [markdown]
#
# ## 9. What one layer costs
#
# Count floating-point operations (a multiply-add = 2 FLOPs) for one sequence of n tokens and width d:
#
# | step | matmul shapes | FLOPs |
# |---|---|---|
# | Q, K, V projections | 3 × (n, d) @ (d, d) | 6nd² |
# | scores QKᵀ, all heads | h × (n, d_h) @ (d_h, n) | 2n²d |
# | weighted values PV | h × (n, n) @ (n, d_h) | 2n²d |
# | output projection | (n, d) @ (d, d) | 2nd² |
#
# Total: **8nd² + 4n²d**. (With grouped-query attention, Exercise 4, W_K and W_V are narrower and the
# projections cost less; lesson 02 counts that.) Rather than trust the table, let PyTorch count:
# `tutor_lib.measure.count_flops` runs a function under PyTorch's `FlopCounterMode`, which records every
# matmul. We run a plain torch attention layer (the same lines as `multi_head_attention`).

# %%
from tutor_lib.measure import count_flops


def torch_mha(x, w_q, w_k, w_v, w_o, num_heads):
    n, d = x.shape
    d_h = d // num_heads
    q, k, v = (
        (x @ w).view(n, num_heads, d_h).transpose(0, 1)  # (h, n, d_h)
        for w in (w_q, w_k, w_v)
    )
    p = torch.softmax(q @ k.transpose(-1, -2) / d_h**0.5, dim=-1)  # (h, n, n)
    return (p @ v).transpose(0, 1).reshape(n, d) @ w_o  # (n, d)


print(f"{'n':>5} {'d':>4} | {'counted FLOPs':>14} | {'8nd² + 4n²d':>12} | equal")
for n, d in [(64, 64), (256, 64), (256, 128), (1024, 64)]:
    x = torch.randn(n, d)
    ws = [torch.randn(d, d) for _ in range(4)]  # w_q, w_k, w_v, w_o
    counted = count_flops(torch_mha, x, *ws, num_heads=4)
    formula = attention_flops(n, d)
    total = formula["projections"] + formula["scores"]
    print(f"{n:>5} {d:>4} | {counted:>14,} | {total:>12,} | {counted == total}")

# %% [markdown]
# The ratio of the two terms is 4n²d / 8nd² = **n / 2d**: for short sequences the projections dominate; past
# n = 2d (128 tokens for d = 64, 8192 for d = 4096) the n² part takes over. (Lesson 02 adds the
# feed-forward network, which moves that crossover further out.)
#
# > **Imprecise:** "Attention is O(n²)."
# > **Precise:** true as a statement about n, but it hides d. Its *time* is O(n²·d): every one of the
# > n² scores is a d-long dot product, and so is every weighted sum of values (plus 8nd² for the
# > projections). Its *memory* for the probabilities is O(n²) per head (and per layer, during
# > training), independent of d. Both halves are measured below: doubling d doubles the n² FLOPs,
# > while the n × n matrix of probabilities keeps its size.


# %%
def attention_probs(q, k):
    return torch.softmax(q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5, dim=-1)  # (1, n, n)


for n, d in [(512, 64), (512, 128), (1024, 64)]:
    q, k, v = (torch.randn(1, n, d) for _ in range(3))
    flops = count_flops(lambda q, k, v: attention_probs(q, k) @ v, q, k, v)
    p = attention_probs(q, k)
    print(
        f"n={n:>5} d={d:>4}: score+PV FLOPs = {flops / 1e6:7.1f} M "
        f"(4n²d = {4 * n * n * d / 1e6:7.1f} M) | probabilities (n × n) {p.nbytes / MIB:4.1f} MiB"
    )

# %% [markdown]
# At n = 512, doubling d from 64 to 128 doubles the FLOPs but leaves the probability matrix unchanged;
# doubling n instead quadruples both. That per-head n × n matrix is what lessons 03–05 are about.
#
# ## 10. Explore
#
# Move the sliders: sequence length, d_k, an **inverse temperature** β that multiplies the scores
# (scores = β·q·k/√d_k; β > 1 sharpens the softmax, β < 1 flattens it; a softmax "temperature" T is
# β = 1/T), the √d_k switch, causal masking, and the random seed. Masked pairs are grey. The line
# under the picture gives the standard deviation of the scaled scores, the mean row entropy and the
# mean largest probability.
#
# Things to try: switch off "divide by √d_k" and raise d_k to 512; set β to 1/16; turn on causal and
# look at the first row.

# %%
explorer = attention_explorer(n=8, d_k=64)
explorer

# %% [markdown]
# If the sliders do not show (a static view of this notebook), here is what the explorer draws for d_k = 512
# with and without the √d_k scaling:

# %%
from tutor_lib.attention import random_attention_weights, row_stats

fig, axes = plt.subplots(1, 2, figsize=(6.6, 2.9), layout="constrained")
for ax, scaled in zip(axes, (True, False), strict=True):
    _, p = random_attention_weights(8, 512, sqrt_scaling=scaled)
    plot_attention(
        p,
        ax=ax,
        annotate=False,
        colorbar=not scaled,
        title=f"d_k=512, {'÷√d_k' if scaled else 'raw'}: max p {row_stats(p)['max_weight']:.2f}",
    )
plt.show()

# %% [markdown]
# ## Summary
#
# - Q, K and V are three different projections of the same tokens (x W_Q, x W_K, x W_V).
# - Attention = scores (q·k), softmax over keys into attention probabilities, their average of the
#   values: `softmax(QKᵀ/√d_k) V`.
# - √d_k keeps the score variance at 1 (measured), so the softmax neither saturates nor loses its gradient.
# - Always subtract the row maximum before exp(); masked entries are −∞ and a fully masked row gives 0.
# - Masks are boolean, True = may attend (SDPA), but `nn.MultiheadAttention` uses the opposite convention.
# - Causal masks with n_q ≠ n_k must be bottom-right aligned for decoding; SDPA's `is_causal` is top-left.
# - Multi-head attention splits d_model into h heads; grouped-query attention lets consecutive query
#   heads share one key/value head.
# - One layer costs 8nd² + 4n²d FLOPs (counted by PyTorch): "attention is O(n²)" is shorthand for
#   O(n²·d) time and an O(n²) probability matrix per head. Lesson 02 adds the feed-forward network;
#   lesson 03 measures where the n² wall hits.
