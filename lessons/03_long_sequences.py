# %% [markdown]
# # 03 · Long sequences: the quadratic wall, measured
#
# **What you will learn**
# - to *measure* how attention's memory grows with the sequence length n: peak bytes of numpy dense
#   attention, and a log-log slope of 2 that matches the n × n score matrix;
# - to measure its time, with the same tool (a log-log slope), on PyTorch;
# - what **training** keeps: the bytes autograd saves for the backward pass, an n × n matrix per head and
#   per layer, unless a fused kernel avoids it;
# - how the **KV cache** grows while a model decodes, token by token;
# - why fp16 attention needs the max-subtraction trick, and why long sequences make it worse.
#
# **Prerequisites:** lesson 01 (attention, softmax, causal masks); lesson 00 for the KV cache formula.
#
# **Runtime:** about 15 s on a 2-core laptop CPU (the timing sweep shows a progress bar).

# %%
# %matplotlib inline
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib import pyplot as plt
from tutor_lib.attention import attention, softmax
from tutor_lib.costs import (
    GIB,
    GPU_80GB_BYTES,
    MIB,
    MISTRAL_7B_LIKE,
    ModelShape,
    attention_training_bytes,
    kv_cache_bytes,
    score_matrix_bytes,
)
from tutor_lib.exercises import check_loglog_slope, check_score_matrix_bytes
from tutor_lib.measure import count_flops, loglog_slope, peak_bytes, saved_bytes, sweep, time_call
from tutor_lib.plots import memory_axis_limits, plot_memory_bars, plot_scaling
from tutor_lib.widgets import attention_memory_explorer, progress

rng = np.random.default_rng(0)
torch.manual_seed(0)
torch.set_num_threads(1)  # single-threaded timings are steadier on a shared laptop

# %% [markdown]
# ## 1. Memory: measure it
#
# Dense attention for one head computes
#
# $$S = \frac{QK^\top}{\sqrt{d}} \in \mathbb{R}^{n \times n}, \qquad P = \operatorname{softmax}(S), \qquad
# O = PV \in \mathbb{R}^{n \times d}.$$
#
# The inputs and the output are n × d, but S and P are n × n. We do not need to guess which term wins:
# `tutor_lib.measure.peak_bytes(fn, *args)` runs `fn` under Python's `tracemalloc` and returns the
# largest amount of memory allocated during the call. It sees **numpy** allocations (not PyTorch's), so
# we measure `tutor_lib.attention.attention`, the numpy reference of lesson 01, in float64.
#
# `sweep(fn, ns)` calls `fn(n)` for each n and returns the results as columns (section 2 adds a
# progress bar to it).

# %%
d = 64


def dense_peak(n):
    q, k, v = (rng.standard_normal((n, d)) for _ in range(3))  # allocated before: not counted
    return {"peak": peak_bytes(attention, q, k, v), "one_matrix": score_matrix_bytes(n, 1, 8)}


ns = [512, 1024, 2048, 4096]
mem = sweep(dense_peak, ns)
print(f"{'n':>5} | {'peak':>9} | {'one n×n matrix':>14} | ratio | {'n×d input':>9}")
for n, peak, one in zip(mem["n"], mem["peak"], mem["one_matrix"], strict=True):
    row = f"{n:>5} | {peak / MIB:>5.1f} MiB | {one / MIB:>10.1f} MiB | {peak / one:5.1f}"
    print(f"{row} | {n * d * 8 / MIB:>5.2f} MiB")
print(f"log-log slope of the peak: {loglog_slope(mem['n'], mem['peak']):.1f}")

# %% [markdown]
# The peak is about three n × n float64 matrices (the scores, their exponentials and the weights), and
# it grows with slope 2 on a log-log plot: double n, four times the memory. The n × d inputs are
# negligible next to it. `score_matrix_bytes(n, n_heads, bytes_per_value)` is the size of one such
# matrix per head; the measurement says the reference implementation needs about three of them at its
# peak.

# %%
fig, ax = plt.subplots(figsize=(4.4, 3.0), layout="constrained")
plot_scaling(
    mem["n"],
    {"peak, measured": mem["peak"], "score_matrix_bytes": mem["one_matrix"]},
    ax=ax,
    ylabel="bytes",
    title="numpy dense attention, d = 64, float64",
)
plt.show()

# %% [markdown]
# ## 2. Time: measure it too
#
# Computing S costs 2n²d FLOPs and PV another 2n²d, so the time should also grow like n². We time
# PyTorch dense attention (the three lines above, in float32, one head) and PyTorch's production
# `scaled_dot_product_attention` (SDPA, a fused FlashAttention-style kernel on CPU). `time_call` is the
# median of a few runs after a warm-up. Timings depend on the machine and on what else is running, so
# this cell's output is not checked; read the slopes in the legend and in the printout. Here `sweep`
# gets `progress=progress`, a progress bar from `tutor_lib.widgets` (it runs for a few seconds).


# %%
# NBVAL_IGNORE_OUTPUT
def dense_torch(q, k, v):
    p = torch.softmax(q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5, dim=-1)  # (1, 1, n, n)
    return p @ v


def timings(n):
    q, k, v = (torch.randn(1, 1, n, d) for _ in range(3))
    return {
        "dense": time_call(dense_torch, q, k, v, repeat=5),
        "sdpa": time_call(F.scaled_dot_product_attention, q, k, v, repeat=5),
    }


ns_time = [256, 512, 1024, 2048, 4096]
times = sweep(timings, ns_time, progress=progress)
for n, t_dense, t_sdpa in zip(times["n"], times["dense"], times["sdpa"], strict=True):
    print(f"n = {n:>5}: dense {1e3 * t_dense:8.2f} ms | SDPA {1e3 * t_sdpa:8.2f} ms")
print(f"(one n × n float32 matrix at n = 4096: {score_matrix_bytes(4096, 1, 4) / MIB:.0f} MiB)")
large = times["n"] >= 1024  # small n are dominated by fixed overheads
print(
    f"slope over n ≥ 1024: dense {loglog_slope(times['n'][large], times['dense'][large]):.1f}, "
    f"SDPA {loglog_slope(times['n'][large], times['sdpa'][large]):.1f}"
)
fig, ax = plt.subplots(figsize=(4.4, 3.0), layout="constrained")
plot_scaling(
    times["n"],
    {"dense (torch)": times["dense"], "SDPA (fused)": times["sdpa"]},
    ax=ax,
    ylabel="seconds",
    title="attention time, 1 head, d = 64 (slopes: n ≥ 1024)",
    fit_min_n=1024,
)
plt.show()

# %% [markdown]
# The FLOP count, 4n²d, predicts a slope of 2. Compare the two slopes printed above. Fixed overheads
# flatten the curve at small n (hence the fit over n ≥ 1024 only), and other processes on the machine
# add noise: rerun the cell and the slopes move, unlike the memory slope of section 1, which is the
# same on every run. The dense slope often comes out *above* 2: at n = 4096 its n × n float32 matrix
# (64 MiB) no longer fits in the CPU caches, so every pass over it runs at memory speed. The fused
# kernel works on small tiles that stay in cache; it is faster at large n, but it is **not** a
# different complexity: it does the same 4n²d FLOPs. What it saves is memory, as the next section
# shows.
#
# ## 3. What training keeps
#
# At inference, a layer's n × n matrix can be freed as soon as the layer is done. Training is
# different: the backward pass needs the softmax output P to compute the gradients, so autograd
# **saves** it, for every head of every layer, until backward runs.
#
# `tutor_lib.measure.saved_bytes(fn, *args)` counts exactly the tensors autograd saves (with
# `torch.autograd.graph.saved_tensors_hooks`). For our dense attention on q, k, v of shape
# (1, h, n, d_h), the prediction is q, k, v (3·n·d numbers, d = h·d_h) plus P (h·n² numbers), 4 bytes
# each:


# %%
def saved_dense_vs_fused(n, h=4, d_head=16):
    q, k, v = (torch.randn(1, h, n, d_head, requires_grad=True) for _ in range(3))  # (b, h, n, d_h)
    return {
        "dense": saved_bytes(dense_torch, q, k, v),
        "fused": saved_bytes(F.scaled_dot_product_attention, q, k, v),
        # what the byte model of tutor_lib.costs predicts: L·(b·h·n² + 3·b·n·d)·4 bytes, L = b = 1
        "predicted": attention_training_bytes(n, d_model=h * d_head, n_heads=h, n_layers=1)[
            "training: saved, dense"
        ],
    }


saved = sweep(saved_dense_vs_fused, [128, 256, 512, 1024, 2048])
print(f"{'n':>5} | {'dense':>10} | {'predicted':>10} | {'fused (SDPA)':>12}")
for n, dense, pred, fused in zip(saved["n"], saved["dense"], saved["predicted"], saved["fused"], strict=True):
    print(f"{n:>5} | {dense / MIB:>6.2f} MiB | {pred / MIB:>6.2f} MiB | {fused / MIB:>8.3f} MiB")
print(
    f"slope over the last three n: dense {loglog_slope(saved['n'][-3:], saved['dense'][-3:]):.2f}, "
    f"fused {loglog_slope(saved['n'][-3:], saved['fused'][-3:]):.2f}"
)

# %% [markdown]
# The dense version saves exactly the prediction, and its n² term takes over (slope → 2). PyTorch's
# fused CPU kernel saves only q, k, v, the output and one number per query (the softmax's
# log-sum-exp): slope 1. During backward it **recomputes** P tile by tile from those, which is what
# FlashAttention does (lesson 05). (On CPU, PyTorch picks this kernel for 4-D inputs of shape
# (batch, heads, n, d_head).)
#
# > **Imprecise:** "Attention's memory is O(n² + n·d)."
# > **Precise:** that is one head, one layer, at inference. A training step keeps the n × n matrix of
# > **every head of every layer** until backward: O(L·h·n²) on top of the activations, unless a fused
# > kernel avoids storing it.
#
# Measured on a stack of L attention layers (each with its own W_Q, W_K, W_V, h = 4 heads, n = 1024),
# saved bytes against the size of all the P matrices, L·h·n²·4 bytes:


# %%
def attention_stack(x, weights, core, h=4):
    b, n, d_model = x.shape
    for w_q, w_k, w_v in weights:
        split = lambda t: t.view(b, n, h, d_model // h).transpose(1, 2)  # (b, h, n, d_h)  # noqa: E731
        x = core(split(x @ w_q), split(x @ w_k), split(x @ w_v)).transpose(1, 2).reshape(b, n, d_model)
    return x


n, h = 1024, 4
x = torch.randn(1, n, d, requires_grad=True)
print(f"{'L':>2} | {'dense: saved':>12} | {'all P matrices':>14} | {'fused: saved':>12}")
for layers in (1, 2, 4):
    weights = [[torch.randn(d, d, requires_grad=True) for _ in range(3)] for _ in range(layers)]
    dense = saved_bytes(attention_stack, x, weights, dense_torch)
    fused = saved_bytes(attention_stack, x, weights, F.scaled_dot_product_attention)
    scores = layers * h * n * n * 4
    print(f"{layers:>2} | {dense / MIB:>8.1f} MiB | {scores / MIB:>10.1f} MiB | {fused / MIB:>8.1f} MiB")

# %% [markdown]
# Almost all of the dense stack's saved memory is the P matrices, and it grows with L; the fused kernel
# keeps only the O(n·d) tensors. For a real model the explorer below multiplies this out.
#
# ### Explore: attention memory at inference and in training
#
# The dots compare one layer's scores at inference, everything dense attention saves for backward in
# all L layers, and what a fused kernel saves, in fp32, with the formula behind each dot (d = 4096, as
# in a 7B model). Things to try: n from 4k to 32k (×64 for the n² dots); 1 layer vs 32; 8 heads vs 32.

# %%
memory = attention_memory_explorer(n=4096, n_layers=32, n_heads=32)
memory

# %% [markdown]
# The same dots, drawn statically on one scale at n = 4096 and n = 32768 (32 layers, 32 heads, batch 1):

# %%
values = {n: attention_training_bytes(n, d_model=4096, n_heads=32, n_layers=32) for n in (4096, 32768)}
xlim = memory_axis_limits(*values.values(), limit_gib=GPU_80GB_BYTES / GIB)  # one scale for both
fig, axes = plt.subplots(2, 1, figsize=(6.2, 3.6), layout="constrained", sharex=True)
for ax, (n, v) in zip(axes, values.items(), strict=True):
    plot_memory_bars(
        v,
        ax=ax,
        xlim=xlim,
        limit_gib=GPU_80GB_BYTES / GIB,
        limit_label="one 80 GB GPU (80 GiB)",
        title=f"n = {n:,}, fp32",
    )
    ax.label_outer()
plt.show()

# %% [markdown]
# ## 4. Decoding: the KV cache grows with every token
#
# When a model generates, step t computes attention for **one** new query against all t cached keys
# and values (a causal mask with n_q = 1 allows every key, lesson 01). Each step appends one key and one
# value per layer and KV head to the cache, and the attention of step t costs 4·t·d FLOPs: linear per
# token, quadratic over a whole generation.
#
# A small model shape (2 layers, d = 64, 8 query heads sharing 2 KV heads), decoded for 256 steps with
# random keys and values in float32:

# %%
shape = ModelShape(n_layers=2, d_model=64, n_heads=8, d_ff=256, vocab_size=1, n_kv_heads=2)
b, h, h_kv, d_h = 1, shape.n_heads, shape.kv_heads, shape.d_head
cache = [
    {"k": torch.empty(b, h_kv, 0, d_h), "v": torch.empty(b, h_kv, 0, d_h)} for _ in range(shape.n_layers)
]
log = []
for t in range(1, 257):
    for layer in cache:
        layer["k"] = torch.cat([layer["k"], torch.randn(b, h_kv, 1, d_h)], dim=2)  # (b, n_kv, t, d_h)
        layer["v"] = torch.cat([layer["v"], torch.randn(b, h_kv, 1, d_h)], dim=2)
    if t in (1, 16, 64, 256):
        q = torch.randn(b, h, 1, d_h)  # the new token's query, all 8 heads
        attend = lambda q=q: F.scaled_dot_product_attention(q, cache[0]["k"], cache[0]["v"], enable_gqa=True)
        nbytes = sum(layer["k"].nbytes + layer["v"].nbytes for layer in cache)
        log.append((t, nbytes, count_flops(attend)))

print(f"{'t':>4} | {'cache bytes':>11} | {'kv_cache_bytes':>14} | {'attention FLOPs (1 layer)':>25} | 4·t·d")
for t, nbytes, flops in log:
    formula = kv_cache_bytes(shape, t, bytes_per_value=4)
    print(f"{t:>4} | {nbytes:>11,} | {formula:>14,} | {flops:>25,} | {4 * t * shape.d_model:,}")

# %% [markdown]
# The cache is exactly the formula of lesson 00, 2·L·n_kv·d_head·t·bytes, and each step's attention
# work grows with t. For the Mistral-7B-like shape in fp16 the same formula gives:

# %%
for t in (4096, 32768, 131072):
    print(f"{t:>7,} tokens: KV cache {kv_cache_bytes(MISTRAL_7B_LIKE, t) / GIB:5.1f} GiB per sequence")

# %% [markdown]
# ## 5. fp16 and the softmax: why the maximum is subtracted
#
# fp16 (half precision) stores numbers up to 65504 only, so e^x overflows for x above ln 65504:

# %%
print(
    f"largest fp16 number: {float(np.finfo(np.float16).max):.0f} → exp overflows above x = "
    f"{np.log(float(np.finfo(np.float16).max)):.2f}"
)

# %% [markdown]
# A naive softmax, exp(s) / Σ exp(s), breaks in two ways in fp16. A single score above that limit gives
# inf / inf = NaN. And long sequences add a second, quieter failure: the **sum** over n keys overflows
# even when every single exp() fits, and then every weight becomes x / inf = 0. Below, one row of n
# scores drawn from N(0, 2²), the kind of values a real layer produces, in fp16:


# %%
def naive_softmax(s):
    e = np.exp(s)  # in the dtype of s
    return e / e.sum()


print(f"{'n':>7} | {'max score':>9} | {'naive: Σ exp(s)':>15} | naive weights sum to | stable weights sum to")
with np.errstate(over="ignore", invalid="ignore"):
    for n in (1024, 4096, 16384, 65536):
        s = (2.0 * rng.standard_normal(n)).astype(np.float16)
        naive = naive_softmax(s)
        stable = softmax(s)  # tutor_lib: exp(s - max(s)), so every term is ≤ 1
        print(
            f"{n:>7,} | {float(s.max()):>9.2f} | {float(np.exp(s).sum()):>15.0f} | "
            f"{float(naive.sum()):>20.3f} | {float(stable.sum()):>21.3f}"
        )
    big = np.array([12.0, 3.0, 1.0], dtype=np.float16)
    print("one score of 12 in fp16, naive:", naive_softmax(big), "| stable:", softmax(big))

# %% [markdown]
# Subtracting the row maximum makes every exp() ≤ 1 and the sum ≤ n, and the result is mathematically
# the same. Production kernels go one step further and accumulate the sums in fp32 even when the inputs
# are fp16. These numerical issues, softmax dilution and positional encodings (lesson 00) are the real
# long-sequence problems besides cost.
#
# ## 6. Exercises
#
# ### Exercise 1: the score matrix
# Write `my_score_matrix_bytes(n, n_heads, bytes_per_value)`: the bytes of one layer's attention
# scores for one sequence. Check yourself on section 1: n = 2048, one head, float64 gives 32 MiB.


# %%
def my_score_matrix_bytes(n, n_heads, bytes_per_value):
    raise NotImplementedError  # your code here


passed = check_score_matrix_bytes(my_score_matrix_bytes)

# %% [markdown]
# ### Exercise 2: a log-log slope
# Write `my_loglog_slope(xs, ys)`: the least-squares slope of log y against log x, i.e. the exponent p
# if y ≈ c·x^p. Use **all** the points (measurements are noisy), not just the first and last.
# Hint: `np.polyfit(np.log(xs), np.log(ys), 1)` returns (slope, intercept).


# %%
def my_loglog_slope(xs, ys):
    raise NotImplementedError  # your code here


passed = check_loglog_slope(my_loglog_slope)

# %% [markdown]
# ## Summary
#
# - Measured, not assumed: numpy dense attention's peak memory grows with slope 2 in n (about three
#   n × n matrices at its peak); PyTorch's attention time grows like n² too (the slopes of section 2 are
#   noisy, and the dense one exceeds 2 once its n × n matrix no longer fits in cache).
# - A fused kernel (PyTorch SDPA on CPU, FlashAttention on GPU) is faster and keeps less memory, but
#   performs the same O(n²·d) work.
# - Training saves the n × n softmax output of every head of every layer for backward, O(L·h·n²), unless
#   a fused kernel recomputes it; "O(n² + n·d)" is the one-head, one-layer inference picture.
# - Decoding appends 2·L·n_kv·d_head values per token to the KV cache, and each step's attention costs
#   4·t·d FLOPs.
# - In fp16, exp() overflows above about 11 and sums over many keys overflow too: always subtract the
#   maximum (and accumulate in fp32).
# - Lessons 04–09 attack the n² wall: sparse patterns, exact memory-efficient attention, linear
#   attention, training-memory tricks, compression and chunking.
