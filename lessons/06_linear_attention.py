# %% [markdown]
# # 06 · Linear attention done right: kernels, associativity, the RNN view, Performer and Linformer
#
# **What you will learn**
# - why the "linear attention" recipe of the source article is still quadratic (it builds the n × n
#   score matrix), measured;
# - the **kernel view** of attention: any non-negative similarity gives an attention, and
#   sim(q, k) = φ(q)ᵀφ(k) lets us multiply in a different order;
# - **associativity**: φ(Q)(φ(K)ᵀV) instead of (φ(Q)φ(K)ᵀ)V, its cost O(n·d²) instead of O(n²·d),
#   and the crossover between the two, counted and timed;
# - **causal** linear attention as an **RNN** with a constant-size state, the chunked form that
#   makes it fast, and why its decode memory stays flat while a KV cache grows;
# - that elu + 1 linear attention is a **different model**, not an approximation of softmax;
# - **Performer**: random features that estimate the softmax kernel without bias, error ~ 1/√m;
# - **Linformer**: a projection along the sequence, and why it cannot be causal.
#
# **Prerequisites:** lesson 01 (attention, causal masks), lesson 03 (FLOPs, log-log slopes, saved
# bytes, the KV cache).
#
# **Runtime:** about 8 s on a quiet 2-core CPU, up to 20 s on a busy one (`make report`). No GPU, no
# downloads.

# %%
# %matplotlib inline
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib import pyplot as plt
from tutor_lib.costs import MIB, MISTRAL_7B_LIKE, kv_cache_bytes
from tutor_lib.exercises import (
    check_associativity_crossover,
    check_linear_attention,
    check_linear_attention_step,
)
from tutor_lib.linear import (
    associativity_crossover,
    associativity_flops,
    elu_feature_map,
    linear_attention,
    linear_attention_recurrent,
    linear_attention_step,
    linformer_attention,
    linformer_projection,
    performer_error,
    performer_features,
    quadratic_linear_attention,
    random_projection,
    recurrent_state_bytes,
)
from tutor_lib.measure import count_flops, loglog_slope, saved_bytes, sweep, time_call
from tutor_lib.plots import plot_decode_memory, plot_feature_error, plot_scaling, plot_weights
from tutor_lib.widgets import performer_explorer, progress

torch.manual_seed(0)
torch.set_num_threads(1)  # one thread: steadier timings on a shared CPU, same bits on every run
np.set_printoptions(precision=3, suppress=True)


def randn(*shape, seed, dtype=torch.float64):
    """Seeded normal tensor (a private generator: cells do not depend on each other's draws)."""
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


print("torch", torch.__version__.split("+")[0], "| threads", torch.get_num_threads())

# %% [markdown]
# ## 1. The article's recipe, run as written
#
# The source article describes linear attention in four steps: project the keys with a function φ to
# get K̃ = φ(K); compute the scores s = QK̃ᵀ; scale them and take a softmax to get α; output Y = αV.
# Here are the four steps, exactly as listed, with φ = elu + 1 (the feature map of the Linear
# Transformer paper):


# %%
def article_recipe(q, k, v):
    k_tilde = elu_feature_map(k)  # step 1: K̃ = φ(K)                   (n, d)
    s = q @ k_tilde.transpose(-1, -2)  # step 2: s = Q K̃ᵀ            (n, n) !
    alpha = torch.softmax(s / q.shape[-1] ** 0.5, dim=-1)  # step 3: scale + softmax (n, n)
    return alpha @ v  # step 4: Y = αV                                 (n, d)


n, d = 1024, 64
q, k, v = randn(n, d, seed=1), randn(n, d, seed=2), randn(n, d, seed=3)
print("step 2 builds s with shape", tuple((q @ elu_feature_map(k).T).shape))

# %% [markdown]
# > **Myth:** "Linear attention: map K through φ to K̃, compute s = QK̃ᵀ, scale and softmax it into α,
# > and output αV; this makes attention linear in n."
# > **Fact:** step 2 builds the n × n matrix s, so the recipe is exactly as quadratic as softmax
# > attention. Linear attention (Katharopoulos et al. 2020) differs in three ways: φ goes on **both** Q
# > and K; there is **no softmax** (the normalizer φ(q)ᵀΣⱼφ(kⱼ) replaces it); and the product is taken
# > **right to left**, φ(K)ᵀV first, so nothing of size n × n ever exists.
#
# Measured two ways below, for n = 1024, 2048, 4096. **FLOPs** are counted by PyTorch's
# `FlopCounterMode` (lesson 03); **bytes saved for backward** by autograd's saved-tensor hooks
# (`measure.saved_bytes`): training keeps whatever the backward pass needs, here the n × n α. Doubling n
# multiplies a quadratic cost by 4 and a linear one by 2.


# %%
def costs(n):
    q, k, v = (randn(n, d, seed=s, dtype=torch.float32).requires_grad_() for s in (1, 2, 3))
    return {
        "recipe FLOPs": count_flops(article_recipe, q, k, v),
        "linear FLOPs": count_flops(linear_attention, q, k, v),
        "recipe saved": saved_bytes(article_recipe, q, k, v),
        "linear saved": saved_bytes(linear_attention, q, k, v),
    }


table = sweep(costs, [1024, 2048, 4096])
for i, n in enumerate(table["n"]):
    print(
        f"n={n:5d}: recipe {table['recipe FLOPs'][i] / 1e6:7.0f} MFLOPs, "
        f"{table['recipe saved'][i] / MIB:6.1f} MiB saved | linear_attention "
        f"{table['linear FLOPs'][i] / 1e6:4.0f} MFLOPs, {table['linear saved'][i] / MIB:4.1f} MiB saved"
    )
for key in ("recipe FLOPs", "recipe saved", "linear FLOPs", "linear saved"):
    print(f"{key:13s} per doubling of n: x{table[key][2] / table[key][1]:.2f}")

# %% [markdown]
# The recipe's work and memory quadruple with every doubling of n; `linear_attention`'s double. At
# n = 4096 the recipe keeps 64 MiB (one fp32 4096 × 4096 matrix) per head per layer. The rest of this
# lesson builds the correct version step by step.
#
# ## 2. The kernel view of attention
#
# Softmax attention is a weighted average of the values, with weights from a similarity function:
#
# $$y_i = \frac{\sum_j \text{sim}(q_i, k_j)\, v_j}{\sum_j \text{sim}(q_i, k_j)}, \qquad
# \text{sim}(q, k) = \exp\!\left(\frac{q^\top k}{\sqrt{d}}\right).$$
#
# Any **non-negative** similarity makes this a valid attention (weights ≥ 0 that sum to 1). The Linear
# Transformer picks a *kernel*, a dot product of feature vectors:
#
# $$\text{sim}(q, k) = \varphi(q)^\top \varphi(k), \qquad \varphi(x) = \text{elu}(x) + 1 > 0.$$
#
# Computed left to right it is the same shape of computation as softmax attention: an n × n matrix
# A = φ(Q)φ(K)ᵀ, rows divided by their sums, times V. `quadratic_linear_attention` is the tested
# version of these lines:

# %%
n, d = 8, 4
q, k, v = randn(n, d, seed=4), randn(n, d, seed=5), randn(n, d, seed=6)
A = elu_feature_map(q) @ elu_feature_map(k).T  # sim(q_i, k_j) for all pairs   (n, n)
weights = A / A.sum(-1, keepdim=True)  # rows sum to 1, all ≥ 0
y_quadratic = weights @ v
print(
    "weights >= 0:",
    bool((weights >= 0).all()),
    "| rows sum to 1:",
    bool(torch.allclose(weights.sum(-1), torch.ones(n, dtype=torch.float64))),
)
print(
    "same as quadratic_linear_attention:",
    bool(torch.allclose(y_quadratic, quadratic_linear_attention(q, k, v), atol=1e-14)),
)

# %% [markdown]
# ## 3. Associativity: multiply right to left
#
# Write the numerator of all queries at once: (φ(Q)φ(K)ᵀ)V. Matrix products are associative, so
#
# $$\big(\varphi(Q)\varphi(K)^\top\big)V = \varphi(Q)\big(\varphi(K)^\top V\big), \qquad
# \underbrace{\varphi(K)^\top V}_{S:\ d' \times d_v}, \qquad
# \underbrace{\varphi(K)^\top \mathbf{1}}_{z:\ d'}, \qquad
# y_i = \frac{\varphi(q_i)^\top S}{\varphi(q_i)^\top z}.$$
#
# S and z summarise all keys and values in d'·d_v + d' numbers, whatever n is. The core lines:

# %%
phi_q, phi_k = elu_feature_map(q), elu_feature_map(k)  # (n, d') each
S = phi_k.T @ v  # S = φ(K)ᵀV          (d', d_v)
z = phi_k.sum(0)  # z = φ(K)ᵀ1          (d',)
y_linear = (phi_q @ S) / (phi_q @ z)[:, None]  # y_i = φ(q_i)ᵀS / φ(q_i)ᵀz
print(
    "max |right-to-left - left-to-right| < 1e-14:",
    float((y_linear - y_quadratic).abs().max()) < 1e-14,
)
print(
    "same as linear_attention:",
    bool(torch.allclose(y_linear, linear_attention(q, k, v), atol=1e-14)),
)

# %% [markdown]
# ### What it costs
#
# Counting multiply-adds as 2 FLOPs: left to right is 2n²d' (φ(Q)φ(K)ᵀ) + 2n²d_v (times V); right to
# left is 2n·d'·d_v (S) + 2n·d'·d_v (φ(Q)S). The library computes numerator and normalizer in one
# product by giving V an extra column of ones (φ(K)ᵀ[V, 1] holds both S and z), so its counts use
# d_v + 1; `associativity_flops` is that model, and PyTorch's counter agrees with it:

# %%
d = 64
for n in (16, 64, 256, 1024, 4096):
    q, k, v = (randn(n, d, seed=s, dtype=torch.float32) for s in (7, 8, 9))
    model = associativity_flops(n, n, d, d)
    counted = (
        count_flops(quadratic_linear_attention, q, k, v),
        count_flops(linear_attention, q, k, v),
    )
    agrees, cheaper = counted == (model["quadratic"], model["linear"]), counted[1] < counted[0]
    mflops = [c / 1e6 for c in counted]
    row = f"n={n:5d}: left to right {mflops[0]:8.2f} MFLOPs, right to left {mflops[1]:6.2f} MFLOPs"
    print(f"{row} | model agrees: {agrees} | right-to-left cheaper: {cheaper}")

# %% [markdown]
# > **Imprecise:** "Linear attention is O(n)."
# > **Precise:** it is O(n·d'·d_v) time instead of O(n²·d): it trades the n² for d'·d_v. It is linear
# > **in n**, and it only wins once n is larger than the width: for d' = d_v = d the FLOP counts cross
# > near n ≈ d (above, the crossover sits between n = 16 and n = 256). For a model with d_head = 128 and
# > contexts of thousands of tokens that is a large win; for short sequences it is none.
#
# Time tells the same story, with an extra cost for tiny sizes (fixed overheads of each call). One
# thread, float32, d = 64, the fastest of several runs; the dotted line is the FLOP crossover:

# %%
# NBVAL_IGNORE_OUTPUT
ns = [16, 32, 64, 128, 256, 512, 1024, 2048]


def both_orders(n):
    q, k, v = (randn(n, d, seed=s, dtype=torch.float32) for s in (7, 8, 9))
    return {
        "left to right (φQ φKᵀ) V": time_call(quadratic_linear_attention, q, k, v, repeat=15, reduce="min"),
        "right to left φQ (φKᵀ V)": time_call(linear_attention, q, k, v, repeat=15, reduce="min"),
    }


with torch.no_grad():
    orders = sweep(both_orders, ns, progress=progress)
for i, n in enumerate(ns):
    times = [orders[key][i] * 1e6 for key in list(orders)[1:]]
    row = f"n={n:5d}: left to right {times[0]:8.0f} µs | right to left {times[1]:6.0f} µs"
    print(f"{row} | ratio {times[0] / times[1]:5.1f}")

# %%
fig, ax = plt.subplots(figsize=(4.6, 3.2), layout="constrained")
plot_scaling(
    orders["n"],
    {key: orders[key] for key in list(orders)[1:]},
    ax=ax,
    ylabel="seconds",
    reference_exponent=None,
    title="d = 64, fp32, 1 thread",
    fit_min_n=256,
)
ax.axvline(associativity_crossover(d, d), color="black", linestyle=":", linewidth=1)
plt.show()
print("FLOP crossover for d' = d_v = 64: n =", associativity_crossover(d, d))

# %% [markdown]
# ### Exercise 1: linear attention, right to left
#
# Write `my_linear_attention(q, k, v)`: non-causal linear attention with φ(x) = elu(x) + 1 for torch
# tensors q (…, n_q, d_k), k (…, n_k, d_k), v (…, n_k, d_v) (the leading dims are batch/heads). The
# check compares your values with the library and also counts your FLOPs on a 512-token case: an
# n × n matrix gives itself away there. Hints: `torch.nn.functional.elu`; transpose only the last two
# dims (`.transpose(-1, -2)`); the normalizer needs one number per query.


# %%
def my_linear_attention(q, k, v):
    raise NotImplementedError  # your code here


passed = check_linear_attention(my_linear_attention)

# %% [markdown]
# ### Exercise 2 (derive it): where does right to left start to pay?
#
# The crossover above was for d' = d_v. A Performer (section 6) uses m random features, often many
# more than d_v. Write `my_crossover(num_features, d_v)`: the **smallest** n (self-attention, n_q = n_k
# = n) at which right to left needs fewer FLOPs than left to right, with the library's counting
# (values with a ones column, so d_v + 1 wide). The answer is not on this page: derive it. Hints: write
# both counts as functions of n, cancel what they share, and remember that "fewer" is strict; check
# yourself against `associativity_flops`.


# %%
def my_crossover(num_features, d_v):
    raise NotImplementedError  # your code here


passed = check_associativity_crossover(my_crossover)

# %% [markdown]
# ## 4. Causal linear attention is an RNN
#
# A decoder's query i may only see keys j ≤ i. The sums S and z become **prefix sums**:
#
# $$S_i = S_{i-1} + \varphi(k_i)\, v_i^\top, \qquad z_i = z_{i-1} + \varphi(k_i), \qquad
# y_i = \frac{\varphi(q_i)^\top S_i}{\varphi(q_i)^\top z_i}.$$
#
# That is a recurrent network whose hidden state is the matrix S (d' × d_v) and the vector z: read one
# token, update the state, answer. `linear_attention_step` is one step; generating text is a loop over
# it, and the state never grows.

# %%
n, d = 12, 4
q, k, v = randn(n, d, seed=10), randn(n, d, seed=11), randn(n, d, seed=12)
s, z = torch.zeros(d, d, dtype=torch.float64), torch.zeros(d, dtype=torch.float64)
outputs = []
for t in range(n):
    y_t, s, z = linear_attention_step(s, z, q[t], k[t], v[t])  # S_t, z_t, then y_t
    outputs.append(y_t)
y_rnn = torch.stack(outputs)
A = torch.tril(elu_feature_map(q) @ elu_feature_map(k).T)  # masked quadratic form
y_masked = (A @ v) / A.sum(-1, keepdim=True)
print("state shapes:", tuple(s.shape), tuple(z.shape), "at every step")
print("RNN == masked quadratic:", float((y_rnn - y_masked).abs().max()) < 1e-14)
print(
    "RNN == linear_attention(causal=True):",
    float((y_rnn - linear_attention(q, k, v, causal=True)).abs().max()) < 1e-14,
)

# %% [markdown]
# ### Exercise 3: one step of the RNN
#
# Write `my_step(s, z, q, k, v)` returning `(out, s_new, z_new)` for one token with φ = elu + 1: s
# (…, d_k, d_v) and z (…, d_k) hold the sums over the previous tokens (zeros before the first one), q, k
# (…, d_k) and v (…, d_v) are the current token's. Hints: does the token see itself? An outer product
# of two vectors is a column times a row (`unsqueeze`).


# %%
def my_step(s, z, q, k, v):
    raise NotImplementedError  # your code here


passed = check_linear_attention_step(my_step)

# %% [markdown]
# ### Fast causal training: chunks
#
# The loop above is how a model *decodes*, one token at a time. For *training* (or a long prompt) we
# have all n tokens at once, and a Python loop over tokens is slow. Two tempting shortcuts fail:
# `torch.cumsum` over the n outer products φ(k_j)v_jᵀ materialises n × d' × d_v numbers (at n = 32k,
# d = 64 that is 512 MiB per head, more than the n × n matrix it was meant to avoid at small n), and
# the masked quadratic form is O(n²) again.
#
# The **chunked** form mixes the two. Cut the sequence into chunks of C tokens. Inside a chunk, use the
# masked quadratic form (C × C, cheap); for everything before the chunk, use the state:
#
# $$Y_c = \operatorname{tril}\big(\varphi(Q_c)\varphi(K_c)^\top\big) V_c + \varphi(Q_c)\, S_{<c}, \qquad
# S_{<c} = \sum_{c' < c} \varphi(K_{c'})^\top V_{c'}.$$
#
# Every term is a batched matrix product over all chunks at once, and S₍<c₎ is a prefix sum over n/C
# chunk states instead of n token states. `linear_attention(causal=True)` does this with C = 64 (the
# normalizer rides along as the ones column of V). The core lines, on a toy example:

# %%
n, d, C = 12, 4, 4
phi_q, phi_k = (
    elu_feature_map(q).view(n // C, C, d),
    elu_feature_map(k).view(n // C, C, d),
)  # (chunks, C, d')
v_c = v.view(n // C, C, d)  # (chunks, C, d_v)
own = phi_k.transpose(1, 2) @ v_c  # each chunk's φ(K_c)ᵀV_c          (chunks, d', d_v)
before = own.cumsum(0) - own  # S_<c: the chunks before c          (chunks, d', d_v)
inside = torch.tril(phi_q @ phi_k.transpose(1, 2)) @ v_c  # C × C causal part     (chunks, C, d_v)
numerator = (inside + phi_q @ before).reshape(n, d)
print(
    "chunked numerator == masked quadratic numerator:",
    float((numerator - A @ v).abs().max()) < 1e-13,
)

# %% [markdown]
# The work is now O(n·C·d) inside chunks plus O(n·d'·d_v) for the states, all of it in matrix products;
# the memory is O(n·(C + d')). Both grow linearly in n, and every variant agrees (float64, a prompt of
# 300 tokens, chunks that do not divide it):

# %%
q, k, v = randn(2, 300, 16, seed=13), randn(2, 300, 16, seed=14), randn(2, 300, 8, seed=15)
reference = quadratic_linear_attention(q, k, v, causal=True)
for name, out in {
    "chunked, C = 64": linear_attention(q, k, v, causal=True),
    "chunked, C = 7": linear_attention(q, k, v, causal=True, chunk=7),
    "recurrent (loop)": linear_attention_recurrent(q, k, v),
}.items():
    print(
        f"{name:17s} == masked quadratic (max error < 1e-12): {float((out - reference).abs().max()) < 1e-12}"
    )
flops = [
    count_flops(
        linear_attention,
        *(randn(1, n, 64, seed=s, dtype=torch.float32) for s in (1, 2, 3)),
        causal=True,
    )
    for n in (2048, 4096, 8192)
]
print(
    "causal FLOPs per doubling of n:",
    [round(b / a, 2) for a, b in zip(flops, flops[1:], strict=False)],
)

# %% [markdown]
# Now the clock: causal `linear_attention` against PyTorch's fused causal softmax kernel (SDPA), 4 heads,
# d = 64, float32, one thread. They are different models; the point is how their cost grows. This
# cell's output is not checked (timings vary); read the ratios and slopes. `make bench` runs the same
# comparison up to n = 32k on all threads (the target there: at least 20× at n = 16k).


# %%
# NBVAL_IGNORE_OUTPUT
def causal_times(n):
    q, k, v = (randn(1, 4, n, 64, seed=s, dtype=torch.float32) for s in (1, 2, 3))
    return {
        "SDPA causal (softmax)": time_call(
            F.scaled_dot_product_attention, q, k, v, is_causal=True, repeat=2, reduce="min"
        ),
        "linear_attention causal": time_call(linear_attention, q, k, v, causal=True, repeat=5, reduce="min"),
    }


with torch.no_grad():
    causal = sweep(causal_times, [1024, 2048, 4096, 8192], progress=progress)
for i, n in enumerate(causal["n"]):
    sdpa_s, lin_s = causal["SDPA causal (softmax)"][i], causal["linear_attention causal"][i]
    row = f"n={n:5d}: SDPA {sdpa_s * 1e3:7.1f} ms | linear {lin_s * 1e3:6.1f} ms"
    print(f"{row} | SDPA / linear {sdpa_s / lin_s:5.1f}x")
slopes = [
    loglog_slope(causal["n"], causal[key]) for key in ("SDPA causal (softmax)", "linear_attention causal")
]
print(f"slopes: SDPA {slopes[0]:.2f}, linear {slopes[1]:.2f}")

# %%
fig, ax = plt.subplots(figsize=(4.6, 3.2), layout="constrained")
plot_scaling(
    causal["n"],
    {key: causal[key] for key in list(causal)[1:]},
    ax=ax,
    ylabel="seconds",
    title="causal, 4 heads, d = 64, fp32, 1 thread",
)
plt.show()

# %% [markdown]
# ### Decoding: a constant state instead of a growing cache
#
# To generate token t + 1, softmax attention needs the keys and values of all t previous tokens: the KV
# cache grows by 2 · layers · KV heads · d_head numbers per token (lesson 00). Linear attention keeps S
# and z per layer and KV head: d_head² + d_head numbers, **whatever t is**. For the shape of a
# Mistral-7B-like model (32 layers, 8 KV heads, d_head = 128, 16-bit values):

# %%
shape = MISTRAL_7B_LIKE
d_head = shape.d_model // shape.n_heads
tokens = np.arange(0, 4097, 64)
kv = [kv_cache_bytes(shape, int(t)) for t in tokens]
state = recurrent_state_bytes(
    d_head, d_head, num_heads=shape.n_kv_heads, n_layers=shape.n_layers, bytes_per_value=2
)
for t in (1, 64, 65, 4096, 32768):
    cache = kv_cache_bytes(shape, t)
    print(f"t = {t:6d}: KV cache {cache / MIB:8.2f} MiB | linear-attention state {state / MIB:5.2f} MiB")
fig, ax = plt.subplots(figsize=(4.6, 3.0), layout="constrained")
plot_decode_memory(
    tokens,
    {"KV cache (softmax)": kv, "state S, z (linear)": [state] * len(tokens)},
    ax=ax,
    title="Mistral-7B-like shape, 16-bit",
)
plt.show()

# %% [markdown]
# The state is the size of the KV cache of about 65 tokens (d_head / 2 + 1/2 tokens per KV head), then
# stays flat: a 4096-token context needs 64× less decode memory, a 32k one 500× less, and each decode
# step costs O(d'·d_v) per head instead of O(t·d). The Linear Transformer paper reports up to 4000×
# faster autoregressive generation of very long sequences (a GPU result from Katharopoulos et al.
# 2020, not measured here). The price is the next section.
#
# ## 5. elu + 1 is a different model, not an approximation
#
# > **Myth:** "Linear attention computes (approximately) the same thing as softmax attention, only
# > faster."
# > **Fact:** with φ = elu + 1 the similarity is φ(q)ᵀφ(k), not exp(qᵀk/√d): a different attention
# > pattern, a different model, which must be trained as such. On the same Q, K, V the outputs differ
# > by as much as the outputs themselves. Only random-feature methods (Performer, next section) estimate
# > softmax attention, with an error that shrinks as their feature count grows.

# %%
q, k, v = randn(64, 16, seed=16), randn(64, 16, seed=17), randn(64, 16, seed=18)
softmax_out = F.scaled_dot_product_attention(q, k, v)
linear_out = linear_attention(q, k, v)
gap, size = float((linear_out - softmax_out).abs().max()), float(softmax_out.abs().max())
print(f"max |linear - softmax| = {gap:.2f}, max |softmax output| = {size:.2f}")
eye = torch.eye(64, dtype=torch.float64)  # attention applied to V = I returns its weight matrix
w_soft, w_lin = F.scaled_dot_product_attention(q, k, eye), linear_attention(q, k, eye)
largest = float(w_soft.max()), float(w_lin.max())
print(f"largest weight: softmax {largest[0]:.2f}, elu+1 {largest[1]:.2f} (uniform would be {1 / 64:.3f})")
fig, axes = plt.subplots(1, 2, figsize=(6.4, 3.0), layout="constrained")
top = float(max(w_soft.max(), w_lin.max()))
plot_weights(w_soft.numpy(), ax=axes[0], vmax=top, title="softmax weights")
plot_weights(w_lin.numpy(), ax=axes[1], vmax=top, title="elu + 1 weights")
plt.show()

# %% [markdown]
# elu + 1 features are close to 1 + x for small inputs, so the weights are much flatter than softmax's:
# the linear model attends more uniformly, which is one reason linear Transformers were found to be
# weaker at precise retrieval than softmax ones.
#
# ## 6. Performer: random features for the softmax kernel
#
# Can some φ make φ(q)ᵀφ(k) equal to exp(qᵀk)? Not with finitely many features, but **on average**, yes.
# For random directions ω ~ N(0, I) (Choromanski et al. 2021, "positive random features"):
#
# $$\varphi(x) = \frac{e^{-\|x\|^2/2}}{\sqrt{m}} \big[e^{\omega_1^\top x}, \dots, e^{\omega_m^\top x}\big]
# \quad\Rightarrow\quad \mathbb{E}\big[\varphi(x)^\top \varphi(y)\big] = e^{x^\top y},$$
#
# because E[exp(ωᵀ(x + y))] = exp(‖x + y‖²/2) for a Gaussian ω. Every feature is positive (so the
# normalizer is too). Attention uses exp(qᵀk/√d), so q and k are each multiplied by d^(−1/4) first.
# The estimate is **unbiased**: averaged over many draws of the ω it is exact. Checked on one pair
# with m = 8 features, 2000 independent draws:

# %%
x, y = randn(1, 4, seed=19) * 0.6, randn(1, 4, seed=20) * 0.6
draws = np.array(
    [
        float(performer_features(x, w) @ performer_features(y, w).T)
        for w in (random_projection(8, 4, seed=s) for s in range(2000))
    ]
)
exact = float(torch.exp(x @ y.T))
sem = draws.std(ddof=1) / np.sqrt(draws.size)
estimate = f"mean of 2000 estimates {draws.mean():.3f} ± {sem:.3f} (standard error)"
print(f"exp(xᵀy) = {exact:.3f} | {estimate} | one estimate ranges {draws.min():.2f} … {draws.max():.2f}")
print("within 3 standard errors:", abs(draws.mean() - exact) < 3 * sem)

# %% [markdown]
# One draw is noisy; the attention output averages many such estimates. The library's
# `random_projection` draws the ω in blocks of d **orthogonal** directions (each still N(0, I) on its
# own, so still unbiased) which lowers the variance; `performer_attention` feeds the features to the
# same linear-attention engine as section 3 (causal too), so it costs O(n·m·d) with no n × n matrix.
#
# How many features are needed? The relative error of the output against exact softmax attention
# (n = 256, d = 16, q and k entries of size σ = 0.5), over 5 seeds per m:

# %%
q, k, v = (
    randn(1, 256, 16, seed=21) * 0.5,
    randn(1, 256, 16, seed=22) * 0.5,
    randn(1, 256, 16, seed=23),
)
ms = [16, 64, 256, 1024]
errors = np.stack([performer_error(q, k, v, num_features=m, seeds=range(5)) for m in ms])  # (m, seed)
for m, row in zip(ms, errors, strict=True):
    print(f"m = {m:5d}: relative error {row.mean():.2f} (seeds {row.min():.2f} … {row.max():.2f})")
print(f"fitted slope of log error vs log m: {loglog_slope(ms, errors.mean(1)):.1f} (1/√m would be -0.5)")
fig, ax = plt.subplots(figsize=(4.4, 3.1), layout="constrained")
plot_feature_error(ms, errors, ax=ax, title="n = 256, d = 16, σ = 0.5, orthogonal")
plt.show()

# %% [markdown]
# Four times the features, about half the error: the error of a Monte Carlo average, ~1/√m. The catch
# is the constant in front: the variance of each positive feature grows like exp(‖q + k‖²/√d), so
# larger queries and keys need many more features. Try it in the explorer: move m, the seed and σ (the
# size of q and k entries); next to the exact softmax weights you see Performer's estimate, and where
# this draw lands on the error curve.

# %%
explorer = performer_explorer(num_features=64, seed=0, sigma=0.5)
explorer

# %% [markdown]
# If the sliders do not show (a static view of this notebook), this is the explorer's starting view:

# %%
fig, axes = plt.subplots(1, 3, figsize=(10.0, 3.0), layout="constrained")
top = float(max(explorer.exact.max(), explorer.estimate.max()))
plot_weights(explorer.exact, ax=axes[0], vmax=top, title="exact softmax weights")
plot_weights(explorer.estimate, ax=axes[1], vmax=top, title="Performer, m = 64")
plot_feature_error(
    [2**i for i in range(2, 12)],
    explorer.curve,
    ax=axes[2],
    highlight=(64, explorer.output_error),
    title="σ = 0.5, 5 seeds",
)
plt.show()
print(f"this draw: relative error {explorer.output_error:.2f}")

# %% [markdown]
# ## 7. Linformer: project the sequence, not the features
#
# Linformer (Wang et al. 2020) shortens the **sequence** instead: two k × n matrices E and F (learned)
# turn n keys and values into k summary rows,
#
# $$\text{out} = \operatorname{softmax}\!\left(\frac{Q (EK)^\top}{\sqrt{d}}\right)(FV),$$
#
# an n × k score matrix: O(n·k) time and memory. With E = F = I (k = n) it is exactly softmax attention;
# with k ≪ n it relies on the attention matrix being close to low rank, an empirical observation of the
# paper. (If the article's φ was meant as such a sequence projection, V must be projected too, by F,
# or αV has mismatched shapes.)

# %%
n = 128
q, k, v = randn(1, n, 16, seed=24), randn(1, n, 16, seed=25), randn(1, n, 16, seed=26)
eye = torch.eye(n, dtype=torch.float64)
exact = F.scaled_dot_product_attention(q, k, v)
print(
    "E = F = I equals softmax attention:",
    float((linformer_attention(q, k, v, eye, eye) - exact).abs().max()) < 1e-12,
)
for k_proj in (16, 64):
    pool = torch.kron(torch.eye(k_proj), torch.ones(1, n // k_proj)).double() / (n // k_proj)
    out = linformer_attention(q, k, v, pool, pool)  # E = F = averages of n/k consecutive tokens
    err = float((out - exact).norm() / exact.norm())
    print(f"k = {k_proj:3d} (average pooling): score matrix {n} x {k_proj}, relative error {err:.2f}")

# %% [markdown]
# Average pooling stands in for learned projections here, on random data that has no low-rank
# structure to exploit, so the error stays large; Linformer's bet is that a trained model's attention
# matrices are close to low rank and that E and F can be learned to match them.
#
# **Why it cannot be causal.** Every summary row E K mixes keys from the whole sequence, the future
# included. Change only the **last** token's value and watch the **first** query's output:

# %%
e, f = linformer_projection(16, n, seed=0), linformer_projection(16, n, seed=1)
v_changed = v.clone()
v_changed[:, -1] += 1.0  # only token n - 1 changes
first = lambda out: out[0, 0]  # noqa: E731 - the first query's output
print(
    "Linformer: the first output changes:",
    bool(
        (first(linformer_attention(q, k, v, e, f)) - first(linformer_attention(q, k, v_changed, e, f)))
        .abs()
        .max()
        > 1e-6
    ),
)
print(
    "causal linear attention: the first output changes:",
    bool(
        (
            first(linear_attention(q, k, v, causal=True))
            - first(linear_attention(q, k, v_changed, causal=True))
        )
        .abs()
        .max()
        > 0
    ),
)

# %% [markdown]
# Token 0 "sees" token n − 1 through the projection, so Linformer leaks the future; masking cannot fix
# that, because the mixing happens before the scores exist. Its E and F also fix n. Both limitations
# are why Linformer is used for encoders, not for autoregressive decoding (see also Tay et al.'s survey,
# arXiv 2009.06732).
#
# ## Summary
#
# - The article's recipe (φ on K only, s = QK̃ᵀ, softmax, αV) builds the n × n matrix: measured, its
#   FLOPs and saved bytes quadruple per doubling of n. Linear attention puts φ on Q **and** K, drops the
#   softmax for the normalizer φ(q)ᵀΣφ(k), and multiplies right to left.
# - Kernel view: attention is a normalized weighted average with any non-negative similarity;
#   sim = φ(q)ᵀφ(k) makes S = φ(K)ᵀV (d' × d_v) and z = φ(K)ᵀ1 the whole summary of the keys.
# - Cost O(n·d'·d_v) instead of O(n²·d): linear in n, and it wins once n exceeds about the width (the
#   exact crossover is your Exercise 2).
# - Causal linear attention is an RNN with a d' × d_v state: decoding needs constant memory (the size of
#   ~65 tokens of KV cache for a Mistral-like shape); training uses the chunked form, quadratic only
#   inside chunks, all matmuls.
# - elu + 1 attention is a different model, with flatter weights than softmax. Performer's positive
#   random features estimate the softmax kernel without bias, error ~1/√m, variance growing with
#   ‖q‖, ‖k‖. Linformer projects the sequence (exact with E = F = I), needs a fixed n, and is not causal.
# - Next, lesson 07 turns to training memory: what autograd keeps, and how checkpointing and reversible
#   layers trade compute for it.
