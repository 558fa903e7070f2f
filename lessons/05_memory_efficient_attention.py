# %% [markdown]
# # 05 · Exact memory-efficient attention: online softmax, chunking and FlashAttention
#
# **What you will learn**
# - why "compute the scores in blocks" is **not** enough, and how much a per-block softmax gets wrong;
# - the **online softmax** update (running max, normalizer and output, with a rescaling factor), derived
#   step by step, and why any split of the keys into blocks gives the exact softmax;
# - **chunked attention** (Rabe & Staats 2021): exact, with peak memory measured at a few MiB where dense
#   attention needs hundreds;
# - **FlashAttention**'s tiling and its IO model: how many numbers travel between slow and fast memory;
# - the **backward pass by recomputation** from the logsumexp, with gradients equal to autograd's;
# - PyTorch's `scaled_dot_product_attention` as the production version of all this, and what the
#   published GPU results say.
#
# **Prerequisites:** lesson 01 (softmax with the max trick, attention), lesson 03 (`peak_bytes`,
# `saved_bytes`, `count_flops`, the n × n score matrix).
#
# **Runtime:** about 7 s on a quiet 2-core CPU, up to 21 s on a busy one (`make report`). No GPU, no
# downloads.

# %%
# %matplotlib inline
import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib import pyplot as plt
from torch.nn.attention import SDPBackend, sdpa_kernel
from tutor_lib.attention import attention, softmax
from tutor_lib.costs import KIB, MIB
from tutor_lib.exercises import (
    check_attention_backward,
    check_largest_square_tile,
    check_online_softmax_update,
)
from tutor_lib.measure import (
    allocated_bytes,
    count_flops,
    loglog_slope,
    peak_bytes,
    saved_bytes,
    sweep,
    time_call,
)
from tutor_lib.plots import plot_hbm_traffic, plot_online_softmax_step, plot_scaling, plot_tile_schedule
from tutor_lib.tiled import (
    block_state,
    chunked_attention,
    finalize,
    flash_attention,
    flash_attention_backward,
    flash_block_sizes,
    flash_hbm_accesses,
    initial_state,
    merge_partials,
    naive_blockwise_attention,
    online_softmax_states,
    online_softmax_update,
    standard_hbm_accesses,
    tile_working_set_bytes,
    tiles_visited,
)
from tutor_lib.widgets import hbm_traffic_explorer, online_softmax_stepper

rng = np.random.default_rng(0)
torch.manual_seed(0)
np.set_printoptions(precision=4, suppress=True, linewidth=110)

# %% [markdown]
# ## 1. The claim: "memory-efficient attention computes the scores in blocks"
#
# Lesson 03 measured the problem: dense attention builds the n × n score matrix
# $S = QK^\top/\sqrt{d}$ and its softmax $P$, so at n = 4096 its peak memory is hundreds of MiB although
# the inputs and the output are n × d. The fix sounds simple: never build S whole, compute it block by
# block. Cut the keys into blocks $K_1, K_2, \dots$ and, for each block, compute
# $\operatorname{softmax}(QK_b^\top/\sqrt d)\,V_b$. Then combine the block outputs, say by averaging
# them. Does that give attention?

# %%
n, d = 64, 16
q, k, v = (rng.standard_normal((n, d)) * 1.5 for _ in range(3))
exact = attention(q, k, v)
for key_chunk in (64, 32, 16, 8):
    naive = naive_blockwise_attention(q, k, v, key_chunk=key_chunk)
    print(f"{n // key_chunk} key block(s): max |naive - exact| = {np.abs(naive - exact).max():.3f}")

# %% [markdown]
# With one block it is attention; with two or more the error is of the size of the outputs
# themselves. The block outputs are each right *within their block*; what is missing is how much each
# block should weigh. The exact answer weights block b by its share of the total softmax mass,
# $\ell_b e^{m_b} / \sum_c \ell_c e^{m_c}$, where $m_b$ is the block's largest score and
# $\ell_b = \sum_{j \in b} e^{s_j - m_b}$; averaging uses 1/(number of blocks). For the first query
# and 4 blocks:

# %%
scores = q[0] @ k.T / math.sqrt(d)  # one query's scores over all 64 keys
parts = [block_state(scores[b : b + 16]) for b in range(0, n, 16)]
mass = np.array([float(p["normalizer"] * np.exp(p["max"])) for p in parts])  # ℓ_b e^{m_b}
print("exact weight of each block:", np.round(mass / mass.sum(), 3))
print("weight the average gives:  ", np.full(4, 0.25))

# %% [markdown]
# So blocking alone is not the trick; the missing ingredient is a way to re-weight the blocks without
# ever holding all the scores. That is the online softmax.
#
# ## 2. Online softmax, step by step
#
# For one query with scores $s_1, \dots, s_n$ and values $v_j$, attention is
#
# $$o = \frac{\sum_j e^{s_j - m}\, v_j}{\sum_j e^{s_j - m}}, \qquad m = \max_j s_j .$$
#
# Any $m$ gives the same ratio (it cancels); the max is chosen so that every exponent is ≤ 0 and
# nothing overflows (lesson 01). Now the keys arrive in blocks. After some blocks we hold three numbers
# per query: the max so far $m$, the normalizer $\ell = \sum_{\text{seen}} e^{s_j - m}$ and the
# un-normalised output $a = \sum_{\text{seen}} e^{s_j - m} v_j$. A new block with scores $s_j$ may have a
# larger max, $m' = \max(m, \max_j s_j)$. The old sums were taken relative to $m$; relative to $m'$ each
# old term is $e^{s_j - m'} = e^{s_j - m}\,e^{m - m'}$, so the old sums are multiplied by the
# **rescaling factor** $e^{m - m'} \le 1$:
#
# $$m' = \max\big(m, \max_j s_j\big), \qquad
# \ell' = \ell\, e^{m - m'} + \sum_j e^{s_j - m'}, \qquad
# a' = a\, e^{m - m'} + \sum_j e^{s_j - m'} v_j .$$
#
# At the end $o = a/\ell$. Nothing was approximated: each step rewrites the same sums relative to a new
# reference point. The start state is $m = -\infty$, $\ell = 0$, $a = 0$ (then $e^{m - m'} = 0$). The core
# lines, on the first query, in blocks of 16 keys:

# %%
m, norm, acc = -np.inf, 0.0, np.zeros(d)
for b in range(0, n, 16):
    s_b, v_b = scores[b : b + 16], v[b : b + 16]
    m_new = max(m, s_b.max())  # m' = max(m, max s)
    rescale = np.exp(m - m_new)  # e^{m − m'}
    norm = norm * rescale + np.exp(s_b - m_new).sum()  # ℓ' = ℓ e^{m−m'} + Σ e^{s−m'}
    acc = acc * rescale + np.exp(s_b - m_new) @ v_b  # a' = a e^{m−m'} + Σ e^{s−m'} v
    m = m_new
print("online result == softmax(s) @ v:", np.allclose(acc / norm, softmax(scores) @ v, rtol=0, atol=1e-14))

# %% [markdown]
# `tutor_lib.tiled.online_softmax_update(state, scores_block, values_block)` is the tested version of the
# loop body, for many queries at once (and for numpy arrays or torch tensors).
#
# > **Myth:** "Memory-efficient attention computes the score matrix in blocks" (so blocking is all it
# > takes). **Fact:** blocking alone gives a different, wrong answer (errors of order 1 in section 1).
# > It is exact only with **online-softmax rescaling**: a running max and normalizer that re-weight
# > what earlier blocks contributed (Milakov & Gimelshein 2018; Rabe & Staats 2021). Section 1's
# > experiment again, with the update: the error drops from order 1 to rounding level for every block
# > size.

# %%
for key_chunk in (64, 32, 16, 8):
    state = initial_state(np.zeros(n), d)
    for b in range(0, n, key_chunk):
        state = online_softmax_update(state, q @ k[b : b + key_chunk].T / math.sqrt(d), v[b : b + key_chunk])
    out, _ = finalize(state)
    print(f"{n // key_chunk} key block(s): max |online - exact| < 1e-14: {np.abs(out - exact).max() < 1e-14}")

# %% [markdown]
# Because the update only rescales sums, two partial states (two disjoint sets of keys) can also be
# **merged** in any order: `merge_partials(a, b)`. This is what lets ring attention (lesson 09) spread
# the keys over several devices and combine their results exactly.

# %%
left, right = block_state(scores[:40], v[:40]), block_state(scores[40:], v[40:])
out_lr, _ = finalize(merge_partials(left, right))
out_rl, _ = finalize(merge_partials(right, left))
print(
    "merge(left, right) == merge(right, left) == exact:",
    np.allclose(out_lr, exact[0]),
    np.allclose(out_rl, exact[0]),
)

# %% [markdown]
# The running max and normalizer of one row as the blocks stream in (the last state's values are the
# full row's max and $\sum_j e^{s_j - \max s}$):

# %%
steps = list(online_softmax_states(scores, 8, v))
full_norm = np.exp(scores - scores.max()).sum()
last = steps[-1]
print(f"last state: max {last['max']:.4f} (row max {scores.max():.4f})")
print(f"last state: normalizer {last['normalizer']:.4f} (full row {full_norm:.4f})")
fig, axes = plt.subplots(1, 2, figsize=(9.0, 2.8), layout="constrained")
blocks = np.arange(1, len(steps) + 1)
axes[0].step(blocks, [st["max"] for st in steps], where="mid", color="#e15759")
axes[0].set(xlabel="key blocks seen", ylabel="running max m", title="the max only grows")
axes[1].step(blocks, [st["normalizer"] for st in steps], where="mid", color="#4e79a7")
axes[1].set(xlabel="key blocks seen", ylabel="normalizer ℓ", title="ℓ, relative to the current max")
plt.show()

# %% [markdown]
# ### Exercise 1: the online-softmax update
#
# Write `my_update(state, scores_block, values_block)` for many queries at once: `state` is a dict with
# `"max"` (n_q,), `"normalizer"` (n_q,) and `"acc"` (n_q, d_v); `scores_block` is (n_q, b), where a
# masked key has score −∞; `values_block` is (b, d_v). Return the new dict. Hints: broadcast the
# rescaling factor with `[:, None]` when it multiplies `acc`; a query that has seen no key yet has
# max −∞, and `np.exp(-inf - (-inf))` is NaN, so shift by 0 where the new max is −∞.


# %%
def my_update(state, scores_block, values_block):
    raise NotImplementedError  # your code here


passed = check_online_softmax_update(my_update)

# %% [markdown]
# ## 3. Chunked attention (Rabe & Staats 2021): exact, with a few MiB
#
# Rabe & Staats apply the update to all queries of a chunk at once: cut the queries into chunks of
# `query_chunk` rows; for each chunk, stream the keys past it in chunks of `key_chunk`, computing one
# `query_chunk × key_chunk` tile of scores at a time and folding it into the chunk's running state. Only
# a few tiles exist at any moment, so the memory beyond inputs and output does not depend on n. Under a
# causal mask, tiles entirely in a query chunk's future are skipped. `chunked_attention` (numpy) is
# exact for any chunk sizes, including scores so large that a plain `exp` overflows:

# %%
q, k, v = (rng.standard_normal((2, 300, 32)) for _ in range(3))
for qc, kc, causal in [(64, 64, False), (37, 100, True), (300, 300, True), (1, 7, False)]:
    err = np.abs(
        chunked_attention(q, k, v, query_chunk=qc, key_chunk=kc, causal=causal)
        - attention(q, k, v, causal=causal)
    ).max()
    print(f"query_chunk={qc:3d} key_chunk={kc:3d} causal={causal!s:5}: max error < 1e-12: {err < 1e-12}")
big_q, big_k = q * 40, k * 40  # scores of several thousand
with np.errstate(over="ignore"):
    print(
        "plain exp overflows:", not np.isfinite(np.exp(big_q @ big_k.swapaxes(-1, -2) / math.sqrt(32))).all()
    )
out = chunked_attention(big_q, big_k, v, query_chunk=64, key_chunk=64)
print(
    "chunked: finite",
    np.isfinite(out).all(),
    "| equals dense:",
    np.allclose(out, attention(big_q, big_k, v), rtol=0, atol=1e-12),
)

# %% [markdown]
# Now the memory, measured with `peak_bytes` (tracemalloc sees every numpy allocation) for d = 64 in
# float64, chunks of 256, against the dense `attention` of lesson 01:

# %%
d, chunk = 64, 256


def peaks(n):
    q, k, v = (rng.standard_normal((n, d)) for _ in range(3))
    return {
        "dense attention": peak_bytes(attention, q, k, v),
        "chunked_attention": peak_bytes(chunked_attention, q, k, v, query_chunk=chunk, key_chunk=chunk),
    }


mem = sweep(peaks, [512, 1024, 2048, 4096])
for n, dense_b, tiled_b in zip(mem["n"], mem["dense attention"], mem["chunked_attention"], strict=True):
    out_b = n * d * 8
    print(f"n = {n:4d}: dense {dense_b / MIB:6.1f} MiB | chunked {tiled_b / MIB:4.2f} MiB", end=" | ")
    print(f"output alone {out_b / MIB:4.2f} MiB")
ratio = mem["dense attention"][-1] / mem["chunked_attention"][-1]
share = mem["chunked_attention"][-1] / (4096 * 4096 * 8)
print(f"at n = 4096: chunked needs {ratio:.0f}x less, {share:.1%} of one n x n float64 matrix")
slope_dense = loglog_slope(mem["n"], mem["dense attention"])
slope_tiled = loglog_slope(mem["n"], mem["chunked_attention"] - mem["n"] * d * 8)
print(f"log-log slopes: dense {slope_dense:.1f}, chunked minus the output {slope_tiled:.1f}")

# %%
fig, ax = plt.subplots(figsize=(4.6, 3.1), layout="constrained")
plot_scaling(
    mem["n"],
    {"dense attention": mem["dense attention"], "chunked_attention": mem["chunked_attention"]},
    ax=ax,
    ylabel="peak bytes",
    title="numpy, float64, d = 64, chunks of 256",
)
plt.show()

# %% [markdown]
# The dense peak grows as n² (slope 2); the chunked one is the n × d output plus a constant set by the
# chunk sizes alone (slope 0 once the output is subtracted). Rabe & Staats report the same picture on
# TPUs: at n = 16384 the memory overhead of attention drops **59×** for inference and **32×** for
# differentiation, with "time complexity … still O(n²)" (arXiv 2112.05682, abstract; their reference
# code uses query chunks of 1024 and key chunks of 4096).
#
# > **Myth:** "Memory-efficient attention is approximate, or does fewer FLOPs." **Fact:** it is exact
# > (rounding-level differences, shown above) and it does the **same** 4n²d FLOPs as dense attention:
# > only the memory changes. The counts below come from PyTorch's FLOP counter, on `flash_attention`
# > (section 4) and on SDPA's plain-math backend, which multiplies the whole matrices.

# %%
n, d = 1024, 64
q, k, v = (torch.randn(1, n, d) for _ in range(3))
print("flash_attention FLOPs:", f"{count_flops(flash_attention, q, k, v):,}")
print("dense SDPA FLOPs:     ", f"{count_flops(F.scaled_dot_product_attention, q, k, v):,}")
print("4 n² d:               ", f"{4 * n * n * d:,}")

# %% [markdown]
# ## 4. FlashAttention: tiles sized for fast memory, and the IO model
#
# Chunking saves *memory*. FlashAttention (Dao et al. 2022, arXiv 2205.14135) uses the same online
# softmax to save *time* on a GPU, where the bottleneck is moving data. An A100 has 40–80 GB of
# high-bandwidth memory (HBM, 1.5–2.0 TB/s) and 192 KB of on-chip SRAM per each of its 108 streaming
# multiprocessors (about 19 TB/s), as the paper puts it. Standard attention writes S to HBM, reads it
# back for the softmax, writes P, and reads it again for PV. FlashAttention loads blocks of Q, K and V
# into SRAM, computes a **tile** of scores, updates the running state there, and never writes S or P to
# HBM. It returns the output and, per query, the **logsumexp** $L = m + \log \ell$, the only statistic
# the backward pass needs (section 5).
#
# `tutor_lib.tiled.flash_attention` is the same algorithm in torch. On a CPU the L2 cache plays the role
# of SRAM: a *wave* of query blocks goes through each step as one batched matrix product (the CPU
# counterpart of the GPU's query blocks running in parallel), sized so that its score slab stays in
# cache; inside, the loop runs over key blocks; different heads run on different cores. It equals
# SDPA, and its logsumexp equals `torch.logsumexp` of the scores:

# %%
q, k, v = (torch.randn(2, 4, 300, 64, dtype=torch.float64) for _ in range(3))
out, lse = flash_attention(q, k, v, block_q=64, block_k=128, causal=True)
ref = F.scaled_dot_product_attention(q, k, v, is_causal=True)
print("equals SDPA (float64):", torch.allclose(out, ref, rtol=0, atol=1e-12))
scores = (q @ k.transpose(-1, -2) / 8).masked_fill(torch.ones(300, 300, dtype=torch.bool).triu(1), -math.inf)
print(
    "logsumexp equals torch.logsumexp:", torch.allclose(lse, torch.logsumexp(scores, -1), rtol=0, atol=1e-12)
)

# %% [markdown]
# Which tiles does it compute? All of them without a mask; under a causal mask, only tiles with at least
# one allowed (query, key) pair, so the work is about halved. The tile grid at n = 1024 with 128 × 128
# tiles, and the FLOPs counted:

# %%
grid = tiles_visited(1024, 1024, 128, 128, causal=True)
print(f"causal: {int(grid.sum())} of {grid.size} tiles computed ({grid.mean():.0%})")
q, k, v = (torch.randn(1, 1024, 64) for _ in range(3))
full = count_flops(flash_attention, q, k, v, block_q=128, block_k=128)
half = count_flops(flash_attention, q, k, v, block_q=128, block_k=128, causal=True)
print(f"FLOPs causal / full: {half / full:.4f}")
fig, ax = plt.subplots(figsize=(2.9, 2.9), layout="constrained")
plot_tile_schedule(grid, skipped=~grid, ax=ax, title="causal tiles computed (blue)")
plt.show()

# %% [markdown]
# **The IO model.** Count the numbers that move between HBM and SRAM for one head (the paper's
# Theorem 2; M = SRAM size in numbers):
#
# - standard attention (Algorithm 0): read Q, K, write S; read S, write P; read P and V, write O:
#   $4nd + 4n^2$ numbers, **Θ(nd + n²)**;
# - FlashAttention (Algorithm 1) with key blocks of $B_c = \lfloor M/4d \rfloor$: K and V are read once,
#   and for each of the $\lceil n/B_c \rceil$ key blocks every query block reads and writes its Q, O,
#   ℓ, m: about $3nd \cdot n/B_c = 12n^2d^2/M$ numbers, **Θ(n²d²/M)**.
#
# FlashAttention moves fewer numbers when $12d^2/M < 4$, i.e. when the SRAM holds more than $3d^2$
# numbers: 24 KiB of fp16 for d = 64, 96 KiB for d = 128; the margin grows with M. (The paper writes
# $B_c = \lceil M/4d \rceil$; we round down so the tiles fit.) `flash_hbm_accesses` counts Algorithm 1
# line by line:

# %%
n, d = 4096, 64
for sram_kib in (16, 64, 100, 192):
    sram = sram_kib * KIB // 2  # numbers of 2 bytes (fp16)
    b_r, b_c = flash_block_sizes(d, sram)
    ratio = standard_hbm_accesses(n, d) / flash_hbm_accesses(n, d, sram)
    print(f"SRAM {sram_kib:3d} KiB: tiles {b_r:2d} x {b_c:3d}, standard / flash traffic = {ratio:4.1f}x")

# %% [markdown]
# Slide the SRAM size, the length and the head dimension: with very small SRAM (or a large d) the tiles
# shrink, Q and O are re-read once per key block, and FlashAttention moves *more* than the standard
# algorithm; with realistic sizes it moves several times less. The static plot below is the starting
# view.

# %%
traffic = hbm_traffic_explorer(sram_kib=100, n=4096, d=64)
traffic

# %%
sizes = [kib * KIB // 2 for kib in (16, 32, 64, 100, 128, 192, 256, 512, 1024)]
fig, ax = plt.subplots(figsize=(4.6, 3.1), layout="constrained")
plot_hbm_traffic(
    sizes,
    [standard_hbm_accesses(4096, 64)] * len(sizes),
    [flash_hbm_accesses(4096, 64, m) for m in sizes],
    current=(traffic.sram, traffic.flash),
    ax=ax,
    title="n = 4096, d = 64, fp16",
)
plt.show()

# %% [markdown]
# ### Exercise 2 (not on the page): the largest tile that fits
#
# A kernel designer picks square tiles, B_q = B_k = b, with d_k = d_v = d. One tile step keeps on chip
# the query block, the key and value blocks, the output accumulator, the b × b score tile and the two
# statistics m and ℓ per query. Write `my_largest_tile(sram_bytes, d, bytes_per_value)` returning the
# largest b whose tile step fits in `sram_bytes` (0 if none). Hints: first write the bytes of one step
# as a function of b and check it against `tile_working_set_bytes(b, b, d, d, bytes_per_value)`; it
# only grows with b, so either search upwards or solve a quadratic inequality (and check the rounding).
# Before you run the check: how large a tile fits in 100 KiB with d = 64 in fp32?


# %%
def my_largest_tile(sram_bytes, d, bytes_per_value):
    raise NotImplementedError  # your code here


passed = check_largest_square_tile(my_largest_tile)

# %% [markdown]
# ## 5. The backward pass: recompute, don't store
#
# Training needs the gradients. Dense autograd keeps P (n × n per head) for the backward pass — the
# memory lesson 03 measured. FlashAttention keeps only the output O and the logsumexp L (n numbers per
# head) and **recomputes** each tile of P when it needs it: $P = e^{S - L}$, exactly the softmax,
# because $L$ is the log of the row's normalizer. With $dO = \partial \text{loss}/\partial O$, per tile:
#
# $$dV \mathrel{+}= P^\top dO, \qquad dP = dO\,V^\top, \qquad dS = P \circ (dP - D), \qquad
# dQ \mathrel{+}= \tfrac{1}{\sqrt d}\, dS\, K, \qquad dK \mathrel{+}= \tfrac{1}{\sqrt d}\, dS^\top Q,$$
#
# where $D_i = \sum_j P_{ij}\,dP_{ij} = \sum_c dO_{ic} O_{ic}$ is one number per query, computed once
# from dO and O (the softmax Jacobian's correction term). `flash_attention_backward` does this tile by
# tile; `flash_attention` is differentiable through it. Against autograd of the dense reference, in
# float64:

# %%
q, k, v = (torch.randn(2, 3, 200, 32, dtype=torch.float64, requires_grad=True) for _ in range(3))
dense_out = (
    torch.softmax(
        (q @ k.transpose(-1, -2) / math.sqrt(32)).masked_fill(
            torch.ones(200, 200, dtype=torch.bool).triu(1), -math.inf
        ),
        -1,
    )
    @ v
)
grad_out = torch.randn_like(dense_out)
expected = torch.autograd.grad(dense_out, (q, k, v), grad_out)
with torch.no_grad():
    out, lse = flash_attention(q, k, v, block_q=64, block_k=64, causal=True)
grads = flash_attention_backward(q, k, v, out, lse, grad_out, block_q=64, block_k=64, causal=True)
for name, got, want in zip(("dq", "dk", "dv"), grads, expected, strict=True):
    print(f"{name} equals autograd: {torch.allclose(got, want, rtol=0, atol=1e-12)}")

# %% [markdown]
# What each saves for the backward pass (`saved_bytes`, one head, float32) and what the recomputation
# costs in FLOPs (forward + backward, counted):

# %%
d = 64
for n in (512, 1024, 2048):
    q, k, v = (torch.randn(1, n, d, requires_grad=True) for _ in range(3))
    dense = saved_bytes(lambda q, k, v: torch.softmax(q @ k.transpose(1, 2) / 8, -1) @ v, q, k, v)
    flash = saved_bytes(flash_attention, q, k, v)
    print(f"n = {n:4d}: dense autograd saves {dense / MIB:5.1f} MiB", end=" | ")
    print(f"flash_attention saves {flash / MIB:4.2f} MiB")
n = 512
q, k, v = (torch.randn(1, n, d, requires_grad=True) for _ in range(3))
dense_flops = count_flops(lambda: (torch.softmax(q @ k.transpose(1, 2) / 8, -1) @ v).sum().backward())
flash_flops = count_flops(lambda: flash_attention(q, k, v)[0].sum().backward())
unit = n * n * d
print(f"forward + backward FLOPs / n²d: dense {dense_flops / unit:.0f}, flash {flash_flops / unit:.0f}")

# %% [markdown]
# Dense autograd saves the n × n weights (and more): quadratic. `flash_attention` saves Q, K, V, O and
# L: linear. The price is one extra matrix product per tile (recomputing S, 2n²d FLOPs), 14n²d
# instead of 12n²d; on a GPU it is more than paid for by not reading an n × n matrix from HBM.
#
# ### Exercise 3: the backward pass from the logsumexp
#
# Write `my_backward(q, k, v, out, logsumexp, grad_out, *, block_q, block_k, causal)` returning
# `(dq, dk, dv)` for torch float64 tensors q (n_q, d_k), k (n_k, d_k), v (n_k, d_v). You may treat the
# whole matrix as one tile (ignore the block sizes). Hints: recompute S and P from `logsumexp` (do not
# call softmax); under `causal` (bottom-right, query i sees keys j ≤ i + n_k − n_q) masked scores are
# −∞, and a query with no key has logsumexp −∞ and must get P = 0; D is a row sum of dO ∘ O.


# %%
def my_backward(q, k, v, out, logsumexp, grad_out, *, block_q, block_k, causal):
    raise NotImplementedError  # your code here


passed = check_attention_backward(my_backward)

# %% [markdown]
# ## 6. The production version: PyTorch's `scaled_dot_product_attention`
#
# On CPU, `F.scaled_dot_product_attention` dispatches to a fused flash-style kernel
# (`_scaled_dot_product_flash_attention_for_cpu`) for fp32, fp64, bf16 and fp16, with or without a
# mask, when q, k and v share their last dimension; it returns the same values as ours (float32 here,
# so rounding-level differences):

# %%
q, k, v = (torch.randn(1, 4, 1024, 64) for _ in range(3))
ours, _ = flash_attention(q, k, v, block_k=256)
print(
    "SDPA == flash_attention (float32, atol 1e-5):",
    torch.allclose(F.scaled_dot_product_attention(q, k, v), ours, rtol=0, atol=1e-5),
)


# %% [markdown]
# PyTorch's profiler shows what each backend allocates: `measure.allocated_bytes(fn)` sums every
# operator's own allocations under `torch.profiler` (`profile_memory=True`; everything allocated,
# not a peak). At n = 4096, d = 64, one head, float32, the plain-math backend builds n × n matrices
# (64 MiB each); the fused kernel only small per-thread buffers.


# %%
def sdpa_with(backend, q, k, v):
    with sdpa_kernel(backend):
        return F.scaled_dot_product_attention(q, k, v)


q, k, v = (torch.randn(1, 1, 4096, 64) for _ in range(3))
math_bytes = allocated_bytes(sdpa_with, SDPBackend.MATH, q, k, v)
flash_bytes = allocated_bytes(sdpa_with, SDPBackend.FLASH_ATTENTION, q, k, v)
print(
    f"MATH backend allocates {math_bytes / MIB:.0f} MiB ({math_bytes / (4096 * 4096 * 4):.1f} n x n matrices)"
)
print(f"FLASH backend allocates less than 1/20 of that: {flash_bytes < math_bytes / 20}")

# %% [markdown]
# And the clock. Dense attention in plain torch ops, SDPA's fused kernel, and our `flash_attention`, at
# n = 2048, 4 heads, d = 64, fp32, on one thread, fastest of 3 runs. On one thread we can measure the
# **CPU time** of this thread (`time.thread_time`) instead of the wall clock: it does not count the
# time spent waiting while other programs hold the core, so the comparison stays fair on a busy
# machine. Timings depend on the machine, so this cell's output is not checked. `make bench` runs the
# full comparison up to n = 8192 (on all threads, wall clock, and on one thread, CPU time).

# %%
# NBVAL_IGNORE_OUTPUT
threads = torch.get_num_threads()
torch.set_num_threads(1)
try:
    q, k, v = (torch.randn(1, 4, 2048, 64) for _ in range(3))
    with torch.no_grad():
        clock = {"repeat": 3, "reduce": "min", "timer": time.thread_time}
        t_dense = time_call(lambda: torch.softmax(q @ k.transpose(-1, -2) / 8, -1) @ v, **clock)
        t_sdpa = time_call(F.scaled_dot_product_attention, q, k, v, **clock)
        t_flash = time_call(flash_attention, q, k, v, block_k=512, **clock)
finally:
    torch.set_num_threads(threads)
print(f"dense {t_dense * 1e3:.0f} ms | SDPA {t_sdpa * 1e3:.0f} ms | flash_attention {t_flash * 1e3:.0f} ms")
print(f"flash_attention / SDPA: {t_flash / t_sdpa:.2f}x | dense / SDPA: {t_dense / t_sdpa:.2f}x")

# %% [markdown]
# Our version is a few Python-level steps of large batched matrix products and element-wise passes;
# SDPA fuses the whole tile loop into one C++ kernel, so it is faster, but the two are in the same
# league, and both avoid the n × n matrix. (One detail both share: exponentials are taken in base 2,
# $e^x = 2^{x \log_2 e}$, with $\log_2 e$ folded into the query scale, because `exp2` is cheaper than
# `exp`.)
#
# ## 7. What FlashAttention does on GPUs (published results, not measured here)
#
# All figures below are from the papers' abstracts and the reference implementation's README, measured
# on NVIDIA GPUs; this course runs on a CPU and does not reproduce them.

# %%
published = [  # (label, speed-up, source)
    ("FA1, GPT-2 training (1K)", 3.0, "Dao et al. 2022, arXiv 2205.14135"),
    ("FA1, BERT-large vs MLPerf 1.1 record", 1.15, "Dao et al. 2022"),
    ("FA1, Long-Range Arena (1K-4K)", 2.4, "Dao et al. 2022"),
    ("FA2 vs FA1 (A100)", 2.0, "Dao 2023, arXiv 2307.08691 ('around 2x')"),
    ("FA3 vs FA2 (H100, FP16)", 1.75, "Shah et al. 2024, arXiv 2407.08608 (1.5-2.0x)"),
]
fig, ax = plt.subplots(figsize=(6.4, 2.6), layout="constrained")
ax.barh([p[0] for p in published][::-1], [p[1] for p in published][::-1], color="#76b7b2")
ax.axvline(1.0, color="#555555", linewidth=0.8)
ax.set(xlabel="reported speed-up (x)", title="Published GPU results (not measured here)")
plt.show()
for label, speedup, source in published:
    print(f"{label:38s} {speedup:4.2f}x  [{source}]")

# %% [markdown]
# Other published figures: FlashAttention's README reports memory savings of **10× at sequence length
# 2K and 20× at 4K** (memory linear in the sequence length); FlashAttention-2 reaches **50–73 %** of the
# A100's theoretical maximum FLOP/s; FlashAttention-3 reaches up to **740 TFLOP/s in FP16 (75 %
# utilisation)** and close to **1.2 PFLOP/s in FP8** on an H100, with 2.6× lower FP8 error than a
# baseline FP8 attention. All GPU results; the CPU measurements of this lesson are the memory and
# exactness claims, which do not depend on the hardware.
#
# ## 8. Explore: online softmax, block by block
#
# Move the key-block slider to step through one query's scores: the current block is orange, the
# dashed line is the max before it and the solid line the max after. Below: the normalizer and the
# partial output before and after rescaling. At the last block, the result equals the full softmax. The
# right panel is the tile grid of a 16 × 16 attention matrix: visited tiles in blue, the column being
# computed in orange (all query blocks of a wave at once), and with "causal tiles" the skipped tiles
# in grey. The last line gives the bytes one tile step keeps on chip (d = 64, fp32). Things to try: block
# 1 (pure streaming) vs block 16 (one block, nothing to rescale); a seed where the max jumps late.

# %%
stepper = online_softmax_stepper(block=4, step=2, seed=0)
stepper

# %% [markdown]
# If the sliders do not show (a static view of this notebook), this is the starting view: key block 2
# of 4, where the max jumps and the first block's sums are rescaled.

# %%
state = stepper.state
m_before, m_after, rescale = (float(state[key]) for key in ("max_before", "max", "rescale"))
print(f"max {m_before:+.3f} -> {m_after:+.3f}, rescale {rescale:.3f}")
print(f"normalizer {float(state['normalizer_before']):.3f} -> {float(state['normalizer']):.3f}")
print(f"one 4 x 4 tile step with d = 64 in fp32 keeps {tile_working_set_bytes(4, 4, 64, 64, 4):,} bytes")
fig, axes = plt.subplots(1, 2, figsize=(8.6, 2.8), width_ratios=[1.7, 1], layout="constrained")
plot_online_softmax_step(
    stepper.scores,
    state["block"],
    float(state["max_before"]),
    float(state["max"]),
    ax=axes[0],
    title="key block 2 of 4",
)
plot_tile_schedule(stepper.visited, 1, ax=axes[1], title="16 x 16 scores, 4 x 4 tiles")
plt.show()

# %% [markdown]
# ## Summary
#
# - Computing the scores in blocks is not enough: a per-block softmax is wrong by the size of the
#   outputs. The **online softmax** fixes it exactly: keep a running max m, normalizer ℓ and output
#   accumulator, and multiply the old sums by $e^{m - m'}$ when the max grows. Partial states merge in
#   any order (ring attention in lesson 09 uses this).
# - **Chunked attention** (Rabe & Staats) applies it to tiles of queries × keys: exact, the same
#   O(n²d) time, and memory that no longer grows with n² (measured: a few MiB vs hundreds at n = 4096).
# - **FlashAttention** sizes the tiles for on-chip memory and keeps S and P out of slow memory: HBM
#   traffic Θ(n²d²/M) instead of Θ(nd + n²), with the same FLOPs. It stores only the logsumexp, and the
#   backward pass **recomputes** P from it (one extra matrix product per tile, gradients equal to
#   autograd's, memory linear in n).
# - Memory-efficient attention is **exact**, not an approximation, and does not reduce FLOPs. On CPU,
#   PyTorch's SDPA already uses such a fused kernel; on GPUs, FlashAttention 1/2/3 report 2–3× speed-ups
#   per generation (published GPU results).
# - Next, lesson 06 changes the model instead: linear attention removes the softmax and with it the
#   n² work, at the price of being a different model.
