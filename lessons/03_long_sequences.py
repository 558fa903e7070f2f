# %% [markdown]
# # 03 · Long sequences: the quadratic wall, measured
#
# **What you will learn**
# - to *measure* how attention's memory grows with the sequence length n: peak bytes of numpy dense
#   attention, and a log-log slope of 2 that matches the n × n score matrix;
# - to measure its time, with the same tool (a log-log slope), on PyTorch;
# - what **training** keeps: the bytes autograd saves for the backward pass, an n × n matrix per head and
#   per layer, unless a fused kernel avoids it;
# - why the dense kernel's time grows *faster* than n² on a CPU, found by measuring page faults;
# - how the **KV cache** grows while a model decodes, token by token;
# - why **decoding is memory-bound**: prefill vs decode, arithmetic intensity, and this CPU's
#   roofline (its matmul FLOP/s against its memory bandwidth), measured with a y = xW batch sweep;
# - why fp16 attention needs the max-subtraction trick, and why bf16, which cannot overflow there,
#   still needs sums accumulated in fp32.
#
# **Prerequisites:** lesson 01 (attention, softmax, causal masks); lesson 00 for the KV cache formula.
#
# **Vocabulary:** *probabilities* P are the softmax outputs (lesson 01's attention weights); *weights*
# are the model's parameter matrices (W_Q, W…). This lesson needs both words, so it keeps them apart.
#
# **Runtime:** about 8 s on a quiet 2-core CPU, up to 16 s on a busy one (`make report`). The timing
# sweeps show a progress bar.

# %%
# %matplotlib inline
import math

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
    decode_step_bytes,
    decode_step_flops,
    kv_cache_bytes,
    matmul_cost,
    roofline_seconds,
    score_matrix_bytes,
)
from tutor_lib.exercises import check_decode_critical_batch, check_loglog_slope, check_score_matrix_bytes
from tutor_lib.measure import (
    count_flops,
    linear_batch_times,
    loglog_slope,
    matmul_rate,
    matvec_bandwidth,
    peak_bytes,
    saved_bytes,
    sweep,
    time_call,
)
from tutor_lib.plots import memory_axis_limits, plot_memory_bars, plot_roofline, plot_scaling
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


ns = [512, 1024, 2048]
mem = sweep(dense_peak, ns)
print(f"{'n':>5} | {'peak':>9} | {'one n×n matrix':>14} | ratio | {'n×d input':>9}")
for n, peak, one in zip(mem["n"], mem["peak"], mem["one_matrix"], strict=True):
    row = f"{n:>5} | {peak / MIB:>5.1f} MiB | {one / MIB:>10.1f} MiB | {peak / one:5.1f}"
    print(f"{row} | {n * d * 8 / MIB:>5.2f} MiB")
print(f"log-log slope of the peak: {loglog_slope(mem['n'], mem['peak']):.1f}")

# %% [markdown]
# The peak is about three n × n float64 matrices (the scores, their exponentials and the probabilities), and
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
# > **Imprecise:** "Attention is O(n²)."
# > **Precise:** one layer's scores cost **4n²d** FLOPs (QKᵀ and PV, 2n²d each): they grow with the
# > width d too, and they sit next to **8nd²** FLOPs of projections, so the n² term dominates only at
# > long sequences (lesson 02 finds the length). Memory is n² per head and per layer without a fused
# > kernel, O(n) with one (section 3). At fixed d, as below, the measured slope is the n² part.
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
        "dense": time_call(dense_torch, q, k, v, repeat=3),
        "sdpa": time_call(F.scaled_dot_product_attention, q, k, v, repeat=3),
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
# same on every run. The fused kernel works on small tiles; it is faster at large n, but it is **not**
# a different complexity: it does the same 4n²d FLOPs. What it saves is memory, as section 3 shows.
#
# ### Why is the dense slope often above 2? Two suspects, one measurement
#
# The dense version's n × n float32 matrix is 64 MiB at n = 4096. Two things could make each score
# dearer at that size: **cache misses** (64 MiB no longer fits in the CPU's caches, so every pass over
# the matrix runs at memory speed) and **page faults** (each call allocates fresh 64 MiB buffers, and
# the operating system hands out and zeroes their memory 4 KiB page by page on first touch). To tell
# them apart, run the same three lines **in place**, on buffers allocated once: no new memory, so no
# page faults, but the same passes over the same n × n matrix, so the same cache misses. The operating
# system counts the page faults of the process (`resource.getrusage`, on Linux and macOS):


# %%
# NBVAL_IGNORE_OUTPUT
try:
    import resource

    def page_faults():
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

except ImportError:  # Windows has no resource module

    def page_faults():
        return 0


def in_place(q, k, v, s, out):
    """dense_torch's three lines on buffers allocated once: s (1, 1, n, n), out (1, 1, n, d)."""
    torch.matmul(q, k.transpose(-1, -2), out=s)  # S = QKᵀ, written into s
    s.mul_(q.shape[-1] ** -0.5)
    s.sub_(s.amax(dim=-1, keepdim=True)).exp_()  # exp(S - rowmax), in place
    s.div_(s.sum(dim=-1, keepdim=True))  # P = softmax(S)
    return torch.matmul(s, v, out=out)  # O = PV


def faults_per_call(fn, *args, calls=1):
    before = page_faults()
    for _ in range(calls):
        fn(*args)
    return (page_faults() - before) / calls


print(f"{'n':>5} | {'fresh buffers':>24} | {'in place':>24} | page faults per call: fresh, in place")
for n in (2048, 4096):
    q, k, v = (torch.randn(1, 1, n, d) for _ in range(3))
    s, out = torch.empty(1, 1, n, n), torch.empty(1, 1, n, d)
    t_fresh = time_call(dense_torch, q, k, v, repeat=3, reduce="min")
    t_in_place = time_call(in_place, q, k, v, s, out, repeat=3, reduce="min")
    faults = (faults_per_call(dense_torch, q, k, v), faults_per_call(in_place, q, k, v, s, out))
    fresh = f"{1e3 * t_fresh:7.1f} ms, {1e9 * t_fresh / n**2:4.1f} ns/score"
    inplace = f"{1e3 * t_in_place:7.1f} ms, {1e9 * t_in_place / n**2:4.1f} ns/score"
    print(f"{n:>5} | {fresh} | {inplace} | {faults[0]:8,.0f}, {faults[1]:4,.0f}")
print(f"pages of 4 KiB in one n × n float32 matrix at n = 4096: {4096 * 4096 * 4 // 4096:,}")

# %% [markdown]
# Read the last column first. On Linux with glibc, as when this lesson was built (an AMD EPYC with a
# 32 MiB L3 cache), the fresh version takes about **49,150 page faults per call at n = 4096**: three
# 64 MiB matrices (S, the scaled S and P) of 16,384 pages each, on every call. glibc's allocator keeps
# freed blocks of up to 32 MiB for reuse but returns larger ones to the operating system, so every call
# at n = 4096 starts from fresh pages; at n = 2048 the count depends on what was freed before (zero
# on a quiet run). The in-place version never faults. In the runs made for this lesson the fresh
# version took about **twice** the in-place time at n = 4096 (and at n = 2048 whenever it faulted),
# while the in-place time per score rose only modestly from n = 2048 to 4096 (by 0 to 35 %, depending
# on the run). So on that machine the slope above 2 came mostly from **page faults**; cache misses
# (16 MiB fits in L3, 64 MiB does not) were the smaller part. Another operating system,
# allocator or cache size may split it differently: the table on your machine is the answer for your
# machine. Either way it is a property of *this implementation*, not of attention: a fused kernel never
# allocates the n × n matrix.
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
def attention_stack(x, params, core, h=4):
    b, n, d_model = x.shape
    for w_q, w_k, w_v in params:
        split = lambda t: t.view(b, n, h, d_model // h).transpose(1, 2)  # (b, h, n, d_h)  # noqa: E731
        x = core(split(x @ w_q), split(x @ w_k), split(x @ w_v)).transpose(1, 2).reshape(b, n, d_model)
    return x


n, h = 1024, 4
x = torch.randn(1, n, d, requires_grad=True)
print(f"{'L':>2} | {'dense: saved':>12} | {'all P matrices':>14} | {'fused: saved':>12}")
for layers in (1, 2, 4):
    params = [[torch.randn(d, d, requires_grad=True) for _ in range(3)] for _ in range(layers)]
    dense = saved_bytes(attention_stack, x, params, dense_torch)
    fused = saved_bytes(attention_stack, x, params, F.scaled_dot_product_attention)
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
# ## 5. Decoding is memory-bound
#
# A model answers a prompt in two phases. **Prefill** runs the whole prompt of n tokens through the
# model at once: every weight matrix W multiplies an (n, d) block of activations. **Decode** then
# generates one token per step, and every step multiplies each W by a single (1, d) row, per sequence.
# The FLOPs per token are the same (2 per weight, lesson 00); what changes is how much *work each byte
# read from memory* carries.
#
# For y = xW with x of shape (b, d_in) and W of shape (d_in, d_out), the work is 2·b·d_in·d_out FLOPs and
# the traffic is W once plus x and y, (d_in·d_out + b·(d_in + d_out)) values. Their ratio is the
# **arithmetic intensity**, in FLOPs per byte:
#
# $$I(b) = \frac{2\,b\,d_{in} d_{out}}{(d_{in} d_{out} + b\,(d_{in} + d_{out}))\cdot\text{bytes}}
# \;\approx\; \frac{b}{\text{bytes per value}} \quad (b \ll d).$$
#
# For one of Mistral's 4096 × 4096 projections in bf16 (2 bytes per value), `costs.matmul_cost` counts:

# %%
for rows, what in [(1, "decode, one sequence"), (16, "decode, batch of 16"), (4096, "prefill, 4,096 tokens")]:
    cost = matmul_cost(rows, 4096, 4096, bytes_per_value=2)
    gflop, mib, intensity = cost["flops"] / 1e9, cost["bytes"] / MIB, cost["flops"] / cost["bytes"]
    print(f"{what:22s}: {gflop:7.2f} GFLOP, {mib:5.1f} MiB read or written → {intensity:7.1f} FLOP/byte")

# %% [markdown]
# Decoding one sequence does **one FLOP per byte** it reads (a multiply-add, 2 FLOPs, per 2-byte
# weight); prefilling a 4,096-token prompt does over a thousand. Is one FLOP per byte a lot? It depends
# on the machine, which has two ceilings: how fast it computes (FLOP/s) and how fast it streams memory
# (bytes/s). `measure.matmul_rate` times a large square matmul (the best FLOP/s torch reaches here),
# `measure.matvec_bandwidth` a matrix-vector product over a 64 MiB matrix, larger than the caches (the
# bytes/s of streaming from memory). Their ratio, the **ridge point**, is the intensity a kernel needs
# to keep the arithmetic units busy. This is the **roofline** model: time ≥ max(FLOPs / rate,
# bytes / bandwidth). For y = xW it predicts the **critical batch**, the first b at which the
# arithmetic takes longer than reading W, where I(b) reaches the ridge: b ≈ ridge × bytes per value
# (× 4 in fp32). Below it, more rows are almost free.

# %%
# NBVAL_IGNORE_OUTPUT
rate = matmul_rate(1024, repeat=10)  # FLOP/s: 2·1024³ FLOPs of a square fp32 matmul, best of 10
bandwidth = matvec_bandwidth(4096, 4096, repeat=10)  # bytes/s: W (64 MiB, fp32) read once by y = Wx
d_in = d_out = 4096
batches = [1, 2, 4, 8, 16, 32, 64, 128, 256]
roofs = {"compute": [], "memory": []}
for b in batches:
    cost = matmul_cost(b, d_in, d_out)  # fp32
    roofs["compute"].append(cost["flops"] / rate)  # FLOPs / FLOP rate
    roofs["memory"].append(cost["bytes"] / bandwidth)  # bytes / bandwidth
crossed = [b for b, c, m in zip(batches, roofs["compute"], roofs["memory"], strict=True) if c >= m]
critical = crossed[0] if crossed else "beyond 256"  # memory-bound over the whole sweep otherwise
ridge = rate / bandwidth  # FLOP/byte at which compute time = memory time
print(
    f"this CPU, one thread: {rate / 1e9:.0f} GFLOP/s, {bandwidth / 1e9:.1f} GB/s → ridge {ridge:.1f} FLOP/B"
)
print(f"predicted critical batch for y = xW, fp32, 4096 × 4096: {critical} (first power of 2 past it)")

# %% [markdown]
# Now measure it: `measure.linear_batch_times` times y = x @ W for one fixed W of 4096 × 4096 fp32
# (64 MiB, more than the 32 MiB L3 cache of the machine this lesson was built on), for batches
# 1 … 256, best of 3 runs each, one thread.
# The plot puts the measured times on the roofline: the shaded region lies below the larger of the
# two bounds, which no kernel can reach (the bounds are measurements too: on a busy machine a ceiling
# can come out low, and a point can then dip below it).

# %%
# NBVAL_IGNORE_OUTPUT
sweep_xw = linear_batch_times(batches, d_in, d_out, repeat=3, progress=progress)
bound = [
    roofline_seconds(
        matmul_cost(b, d_in, d_out)["flops"],
        matmul_cost(b, d_in, d_out)["bytes"],
        flops_per_second=rate,
        bytes_per_second=bandwidth,
    )
    for b in batches
]
print(f"{'batch':>5} | {'measured':>9} | {'roofline':>9} | measured / roofline | per row")
for b, t, r in zip(batches, sweep_xw["seconds"], bound, strict=True):
    print(f"{b:>5} | {1e3 * t:>6.2f} ms | {1e3 * r:>6.2f} ms | {t / r:>19.1f} | {1e3 * t / b:6.3f} ms")
large = sweep_xw["batch"] >= 64  # the largest batches
slope = loglog_slope(sweep_xw["batch"][large], sweep_xw["seconds"][large])
growth = sweep_xw["seconds"][-1] / sweep_xw["seconds"][0]
print(f"batch 256 takes {growth:.0f}× as long as batch 1 (not 256×); slope over batch 64 … 256: {slope:.2f}")
fig, ax = plt.subplots(figsize=(5.4, 3.4), layout="constrained")
plot_roofline(
    batches,
    sweep_xw["seconds"],
    compute_seconds=roofs["compute"],
    memory_seconds=roofs["memory"],
    ax=ax,
    title="y = x @ W, W 4096 × 4096 fp32, one thread",
)
plt.show()

# %% [markdown]
# How to read it. At batch 1, torch uses a matrix-vector kernel that streams W at about the measured
# bandwidth: the point sits near the memory roof. Well past the critical batch, the time grows nearly
# in proportion to the batch (the per-row time levels off; the slope approaches 1) and follows the
# compute roof, a little above it because skinny matrices reach a lower FLOP rate than the square one
# that set the roof. In between, the roofline predicts a flat stretch: W is read once whatever b is,
# so extra rows cost almost nothing. Whether you see it depends on your BLAS library's kernels for
# thin matrices. When this lesson was built (torch's MKL on an AMD EPYC), batches 2 to 16 ran two to
# four times *above* the roofline: the general matrix-multiply kernel reached far less than either
# ceiling on so few rows (why, exactly, lies inside the BLAS library; we did not dig further). That is
# what a roofline is for: a point far above both bounds is a kernel falling short of the hardware, not
# a law of nature. What holds on every machine is the per-row column: one more sequence costs several
# times less at batch 256 than at batch 1 (in theory 2 × the ridge point, for fp32), because W is read
# once for all of them. That is why servers batch many users' decode steps together.
#
# **A whole decode step** reads every weight once (shared by the batch) plus each sequence's own KV
# cache, and does 2 FLOPs per weight plus 4·t·d per layer for attention, per sequence:
# `costs.decode_step_bytes(shape, context, batch=…)` and `costs.decode_step_flops(shape, context,
# batch=…)` (the FLOPs are checked against a real torch decoding step in the tests). For the
# Mistral-7B-like shape in bf16:

# %%
print(f"{'context':>7} | {'batch':>5} | {'weights':>9} | {'KV cache':>9} | {'GFLOP':>7} | FLOP/byte")
for context, batch in [(1, 1), (4096, 1), (1, 64), (4096, 64), (32768, 64)]:
    total = decode_step_bytes(MISTRAL_7B_LIKE, context, batch=batch)
    cache = kv_cache_bytes(MISTRAL_7B_LIKE, context, batch=batch)
    flops = decode_step_flops(MISTRAL_7B_LIKE, context, batch=batch)
    row = f"{context:>7,} | {batch:>5} | {(total - cache) / GIB:5.1f} GiB | {cache / GIB:5.1f} GiB"
    print(f"{row} | {flops / 1e9:7.0f} | {flops / total:9.1f}")

# %% [markdown]
# Batching raises the intensity only while the weights dominate the traffic: at 4,096 tokens of
# context and batch 64, the caches outweigh the weights and the intensity stalls, because each
# sequence brings its own cache and reads it for only 4·d FLOPs per cached token and layer.
#
# A lower bound on the time of one step is its bytes divided by the bandwidth, whatever the FLOP
# rate. With a published figure, an H100 SXM's 3.35 TB/s of HBM bandwidth (NVIDIA's datasheet; not
# measured here), and with this CPU's measured bandwidth:

# %%
h100_bandwidth = 3.35e12  # bytes/s, NVIDIA H100 SXM datasheet
one_step = decode_step_bytes(MISTRAL_7B_LIKE, 4096)  # batch 1, 4,096 tokens of context, bf16
print(
    f"H100 (published bandwidth): ≥ {1e3 * one_step / h100_bandwidth:.1f} ms per token, "
    f"≤ {h100_bandwidth / one_step:.0f} tokens/s for one sequence"
)

# %%
# NBVAL_IGNORE_OUTPUT
print(f"this CPU (measured, one thread): ≥ {one_step / bandwidth:.2f} s per token")

# %% [markdown]
# Neither number depends on how fast the chip multiplies: a single sequence's decoding speed is set by
# memory bandwidth. Exercise 3 asks the natural next question, when batching makes a whole decode step
# compute-bound, and its answer is not on this page.
#
# %% [markdown]
# ## 6. fp16, bf16 and the softmax: overflow and precision
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
# even when every single exp() fits, and then every probability becomes x / inf = 0. Below, one row of
# n scores drawn from N(0, 2²), the kind of values a real layer produces, in fp16:


# %%
def naive_softmax(s):
    e = np.exp(s)  # in the dtype of s
    return e / e.sum()


print(f"{'n':>7} | {'max score':>9} | {'naive: Σ exp(s)':>15} | naive P sums to | stable P sums to")
with np.errstate(over="ignore", invalid="ignore"):
    for n in (1024, 4096, 16384, 65536):
        s = (2.0 * rng.standard_normal(n)).astype(np.float16)
        naive = naive_softmax(s)
        stable = softmax(s)  # tutor_lib: exp(s - max(s)), so every term is ≤ 1
        print(
            f"{n:>7,} | {float(s.max()):>9.2f} | {float(np.exp(s).sum()):>15.0f} | "
            f"{float(naive.sum()):>15.3f} | {float(stable.sum()):>16.3f}"
        )
    big = np.array([12.0, 3.0, 1.0], dtype=np.float16)
    print("one score of 12 in fp16, naive:", naive_softmax(big), "| stable:", softmax(big))

# %% [markdown]
# Subtracting the row maximum makes every exp() ≤ 1 and the sum ≤ n, and the result is mathematically
# the same.
#
# **bf16** (bfloat16, the usual training and inference format today) makes the opposite trade: it keeps
# fp32's 8 exponent bits, so its range is fp32's, and pays with precision, 8 significant bits instead
# of fp16's 11 (fp32 has 24). The spacing between 1 and the next number shows it:

# %%
print(f"{'dtype':>14} | {'largest':>9} | exp overflows above | spacing after 1.0 | exp(12)")
for dtype in (torch.float16, torch.bfloat16, torch.float32):
    info = torch.finfo(dtype)
    e12 = torch.exp(torch.tensor(12.0, dtype=dtype)).item()
    print(f"{str(dtype):>14} | {info.max:9.3g} | {math.log(info.max):19.2f} | {info.eps:17.1e} | {e12:.6g}")

# %% [markdown]
# exp(12) fits in bf16 (rounded to 3 significant digits), so overflow is not bf16's problem. Its
# problem is **long sums**. A running total kept in bf16 stops growing once it is about 2⁸ times larger
# than the terms it adds: each new term is rounded away. The softmax denominator Σⱼ exp(sⱼ − max) over n
# keys is exactly such a sum. Below, the same kind of score row, the denominator summed one key at a
# time with the running total kept in bf16, fp16 and fp32, and, last column, bf16 inputs summed by
# `torch.sum`, which accumulates in fp32 internally; each compared with the exact (float64) sum:


# %%
def running_sum(values, dtype):
    """Σ values one addition at a time, the running total rounded to `dtype` after every step
    (a kernel that accumulates in its input precision)."""
    total = torch.zeros((), dtype=dtype)
    for x in values.to(dtype):
        total = total + x
    return float(total)


print(
    f"{'n':>6} | {'exact Σ':>7} | relative error of a running sum in: bf16 | fp16 | fp32 | bf16 in, fp32 acc."
)
for n in (256, 1024, 4096, 16384):
    s64 = 2.0 * rng.standard_normal(n)
    e = torch.from_numpy(np.exp(s64 - s64.max())).float()  # softmax numerators, each ≤ 1
    exact = float(e.double().sum())
    errors = [abs(running_sum(e, dt) / exact - 1) for dt in (torch.bfloat16, torch.float16, torch.float32)]
    library = abs(float(e.to(torch.bfloat16).sum()) / exact - 1)
    row = f"{n:>6,} | {exact:>7.1f} | {errors[0]:>40.1%} | {errors[1]:4.1%} | {errors[2]:4.1%}"
    print(f"{row} | {library:18.1%}")

# %% [markdown]
# With the total kept in bf16, the denominator loses a sizeable fraction by a thousand keys and about
# half by sixteen thousand: every probability would come out too large by that factor. fp16's 3 extra
# bits delay the same failure; fp32 is exact to the printed digits. Rounding each *input* to bf16 costs
# only a fraction of a percent, as the last column shows, when the *sum* is kept in fp32. That is what
# production kernels do: FlashAttention and PyTorch's CPU kernels read fp16 or bf16 inputs but keep the
# running max, the denominator and the output accumulator in fp32. So: fp16 needs the max subtraction
# (range), bf16 needs fp32 accumulation (precision), and both get both in practice. These numerical
# issues, softmax dilution and positional encodings (lesson 00) are the real long-sequence problems
# besides cost.
#
# ## 7. Exercises
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
# Hint: take logarithms of y = c·x^p; what kind of relation links log x and log y, and which of its
# numbers is p? numpy can fit that kind of relation by least squares.


# %%
def my_loglog_slope(xs, ys):
    raise NotImplementedError  # your code here


passed = check_loglog_slope(my_loglog_slope)

# %% [markdown]
# ### Exercise 3: when does decoding become compute-bound?
#
# Section 5 found the critical batch of a single weight matrix: the batch from which the arithmetic,
# not the reading of W, sets the time. Now do it for a **whole decoding step** of a model. Write
# `my_decode_critical_batch(shape, context, flops_per_second, bytes_per_second, bytes_per_value=2)`:
# the smallest batch b ≥ 1 for which one decoding step of the model `shape`, with `context` tokens
# already in every sequence's KV cache, takes at least as long to compute (FLOPs / `flops_per_second`)
# as to read its memory (bytes / `bytes_per_second`); return `math.inf` if no batch does. You may call
# `decode_step_flops` and `decode_step_bytes` (imported above).
#
# Then use it: the Mistral-7B-like shape on this CPU (`rate` and `bandwidth` from section 5, fp32 and
# bf16) and on an H100 (989e12 FLOP/s dense bf16 and 3.35e12 bytes/s, NVIDIA's datasheet), at a context
# of 1 token and of 4,096. What changes, and why?
#
# Hints: write the two times as functions of b and look at which of their terms grow with b. Then ask
# whether the inequality you get always has a solution, and what it would mean if it did not.


# %%
def my_decode_critical_batch(shape, context, flops_per_second, bytes_per_second, bytes_per_value=2):
    raise NotImplementedError  # your code here


passed = check_decode_critical_batch(my_decode_critical_batch)

# %% [markdown]
# ## Summary
#
# - Measured, not assumed: numpy dense attention's peak memory grows with slope 2 in n (about three
#   n × n matrices at its peak); PyTorch's attention time grows like n² too. The slopes of section 2
#   are noisy, and the dense one often exceeds 2: counting page faults against an in-place version
#   showed where the extra time goes on the machine this lesson was built on (fresh 64 MiB buffers
#   faulted in page by page), with cache misses the smaller part.
# - A fused kernel (PyTorch SDPA on CPU, FlashAttention on GPU) is faster and keeps less memory, but
#   performs the same O(n²·d) work.
# - Training saves the n × n softmax output of every head of every layer for backward, O(L·h·n²), unless
#   a fused kernel recomputes it; "O(n² + n·d)" is the one-head, one-layer inference picture.
# - Decoding appends 2·L·n_kv·d_head values per token to the KV cache, and each step's attention costs
#   4·t·d FLOPs.
# - Decoding is memory-bound: a step reads every weight and the whole KV cache to do about one
#   multiply-add per weight per sequence. The roofline, max(FLOPs / FLOP rate, bytes / bandwidth),
#   measured on this CPU, predicts the batch from which y = xW turns compute-bound; batching divides
#   the weight traffic among sequences, but each sequence's KV cache is its own.
# - In fp16, exp() overflows above about 11 and sums over many keys overflow too: always subtract the
#   maximum. bf16 has fp32's range but 8 significant bits: a long sum kept in bf16 silently loses
#   most of its terms, so accumulate in fp32 (as production kernels do).
# - Lessons 04–09 attack the n² wall: sparse patterns, exact memory-efficient attention, linear
#   attention, training-memory tricks, compression and chunking.
