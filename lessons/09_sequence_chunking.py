# %% [markdown]
# # 09 · Sequence chunking: what it loses, and what brings long range back
#
# **What you will learn**
# - that cutting a sequence into chunks and attending inside each one **is** attention with a
#   block-diagonal mask (proved by running both), and what it costs: O(n·m·d) work for chunks of m;
# - what chunking loses, measured on a synthetic **long-range retrieval** task with a hand-built
#   retrieval head: accuracy vs distance for full attention, chunks, chunks + global tokens, sliding
#   windows, attention sinks (StreamingLLM), dilated windows, BigBird and Transformer-XL memory — the
#   quality side of every pattern lesson 04 only counted;
# - why the only merge of chunk outputs that means anything is **concatenation**, and why an NSP-style
#   loss creates no path between chunks (two claims of the source article, corrected);
# - what does bring long range back: overlap, global tokens, **Transformer-XL memory** (with
#   stop-gradient: no gradient reaches the memory) and **ring attention**, which is exact — first
#   simulated, then across real processes with `torch.distributed`;
# - per-device memory O(n/P) for ring attention, computed and measured.
#
# **Prerequisites:** lesson 01 (attention, boolean masks), lesson 04 (mask patterns, receptive field
# through L layers), lesson 05 (online softmax: `block_state`, `merge_partials`, `finalize`).
#
# **Runtime:** about 8 s on a quiet 2-core CPU, up to 20 s on a busy one (`make report`). It starts
# three worker processes. No GPU, no downloads.

# %%
# %matplotlib inline
import os
import time

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib import pyplot as plt
from tutor_lib import masks
from tutor_lib.attention import attention
from tutor_lib.chunking import (
    RETRIEVAL_METHODS,
    block_bounds,
    chunked_local_attention,
    chunking_mask,
    overlapping_chunk_attention,
    retrieval_correct,
    retrieval_task,
    ring_attention,
    ring_memory_bytes,
    ring_schedule,
    segment_recurrence,
    streaming_mask,
    transformer_xl_attention,
)
from tutor_lib.costs import KIB, MIB
from tutor_lib.distributed import launch
from tutor_lib.exercises import (
    check_chunked_local_attention,
    check_ring_attention,
    check_txl_earliest_position,
)
from tutor_lib.measure import count_flops, loglog_slope, peak_bytes, sweep, time_call
from tutor_lib.plots import plot_mask, plot_query_reach, plot_retrieval, plot_ring_schedule
from tutor_lib.tiled import block_state, finalize, initial_state, merge_partials
from tutor_lib.widgets import chunking_explorer

rng = np.random.default_rng(0)
torch.manual_seed(0)
np.set_printoptions(precision=3, suppress=True, linewidth=110)

# %% [markdown]
# ## 1. Chunking is attention with a block-diagonal mask
#
# The source article's recipe: cut a sequence of n tokens into n/m chunks of m tokens, run attention
# inside each chunk, put the results back together. Liu et al. (2018, "Generating Wikipedia by
# Summarizing Long Sequences") used exactly this "local attention" with chunks of 256 tokens. For a
# query i in chunk $c(i)$,
#
# $$\text{out}_i = \sum_{j:\, c(j) = c(i)} \frac{e^{s_{ij}}}{\sum_{l:\, c(l) = c(i)} e^{s_{il}}}\, v_j ,$$
#
# which is lesson 01's masked attention with the mask $M_{ij} = [c(i) = c(j)]$: a **block-diagonal**
# mask (`masks.block_mask`). The core lines, then the proof by running both:

# %%
n, m, d = 40, 8, 16
q, k, v = (rng.standard_normal((n, d)) for _ in range(3))
chunk_outputs = []
for start in range(0, n, m):
    s = slice(start, start + m)  # one chunk of m tokens (the last may be shorter)
    chunk_outputs.append(attention(q[s], k[s], v[s]))
by_chunks = np.concatenate(chunk_outputs)  # (n, d): chunk outputs stacked in sequence order
masked = attention(q, k, v, masks.block_mask(n, m))
print(
    "chunks concatenated == dense with block_mask (max error < 1e-15):",
    np.abs(by_chunks - masked).max() < 1e-15,
)
print(
    "library chunked_local_attention agrees:",
    np.allclose(chunked_local_attention(q, k, v, m), masked, rtol=0, atol=1e-15),
)
print(
    "but it is a different model: max |chunked - full attention| =",
    round(float(np.abs(masked - attention(q, k, v)).max()), 2),
)

# %%
fig, axes = plt.subplots(1, 2, figsize=(6.4, 3.0), layout="constrained")
plot_mask(masks.block_mask(n, m), ax=axes[0], title="chunks of 8: block-diagonal")
plot_mask(np.ones((n, n), dtype=bool), ax=axes[1], title="full attention")
plt.show()

# %% [markdown]
# **Cost.** Each chunk does the work of attention on m tokens, $4m^2d$ FLOPs, and there are n/m chunks:
# $4nmd$ in total, **linear in n** for a fixed chunk, against $4n^2d$ for full attention. Counted by
# PyTorch's FLOP counter (`measure.count_flops`) on the same loop written with torch's SDPA, d = 64,
# chunks of 128:

# %%
d, m = 64, 128


def chunked_sdpa(q, k, v, m):  # the loop above, in torch
    return torch.cat(
        [
            F.scaled_dot_product_attention(q[s : s + m], k[s : s + m], v[s : s + m])
            for s in range(0, q.shape[0], m)
        ]
    )


for n_ in (1024, 2048, 4096):
    q, k, v = (torch.randn(n_, d) for _ in range(3))
    dense_flops = count_flops(F.scaled_dot_product_attention, q, k, v)
    chunk_flops = count_flops(chunked_sdpa, q, k, v, m)
    print(
        f"n = {n_:4d}: full {dense_flops / 1e6:6.0f} MFLOP (4n²d = {4 * n_ * n_ * d / 1e6:.0f}) | "
        f"chunked {chunk_flops / 1e6:4.0f} MFLOP (4nmd = {4 * n_ * m * d / 1e6:.0f})"
    )

# %% [markdown]
# Processed one after the other, only one chunk's m × m scores exist at a time. Peak memory, measured
# with `tracemalloc` (numpy, float64), against dense attention:

# %%


def peaks(n):
    q, k, v = (rng.standard_normal((n, d)) for _ in range(3))
    return {
        "dense": peak_bytes(attention, q, k, v),
        "chunked": peak_bytes(chunked_local_attention, q, k, v, m),
    }


mem = sweep(peaks, [512, 1024, 2048])
for n_, dense_b, chunked_b in zip(mem["n"], mem["dense"], mem["chunked"], strict=True):
    print(
        f"n = {n_:4d}: dense {dense_b / MIB:5.1f} MiB | chunked {chunked_b / MIB:4.2f} MiB "
        f"(output alone {n_ * d * 8 / MIB:.2f})"
    )
print(f"log-log slope of dense attention's peak memory: {loglog_slope(mem['n'], mem['dense']):.1f}")
beyond_output = [(b - n_ * d * 8) / MIB for n_, b in zip(mem["n"], mem["chunked"], strict=True)]
print(
    "chunked minus its output (MiB):",
    ", ".join(f"{x:.2f}" for x in beyond_output),
    "- one chunk's scores, whatever n",
)

# %% [markdown]
# Dense attention's peak grows as n² (slope 2); chunked attention's is its n × d output plus one
# chunk's scores, a constant set by m alone.
#
# And the time, of the torch loop above against SDPA's full attention, on one thread: we measure the
# CPU time of this thread (`time.thread_time`), which does not count time spent waiting while other
# programs hold the core, so it stays fair on a busy machine. Timings depend on the machine, so the
# cell's output is not checked; the slopes of log time vs log n come out near 2 (full) and 1 (chunks).

# %%
# NBVAL_IGNORE_OUTPUT
lengths = [1024, 2048, 4096]
times = {"full": [], "chunked": []}
threads = torch.get_num_threads()
torch.set_num_threads(1)
try:
    for n_ in lengths:
        q, k, v = (torch.randn(n_, d) for _ in range(3))
        clock = {"repeat": 3, "reduce": "min", "timer": time.thread_time}
        times["full"].append(time_call(F.scaled_dot_product_attention, q, k, v, **clock))
        times["chunked"].append(time_call(chunked_sdpa, q, k, v, m, **clock))
finally:
    torch.set_num_threads(threads)
slopes = {name: loglog_slope(lengths, t) for name, t in times.items()}
print(f"time slopes: full {slopes['full']:.1f}, chunked {slopes['chunked']:.1f}")
print(f"at n = 4096: chunked is {times['full'][-1] / times['chunked'][-1]:.1f}x faster")

# %% [markdown]
# ### Exercise 1: chunked local attention
#
# Write `my_chunked(q, k, v, chunk)` for numpy `q, k (n, d_k)`, `v (n, d_v)`: attention inside
# consecutive chunks of `chunk` tokens, the last chunk possibly shorter, `chunk` possibly longer than
# n. You may call `attention` from `tutor_lib.attention`.


# %%
def my_chunked(q, k, v, chunk):
    raise NotImplementedError  # your code here


passed = check_chunked_local_attention(my_chunked)

# %% [markdown]
# ## 2. What is lost: a long-range retrieval task
#
# Counting keys per query (lesson 04) says what a pattern *costs*. What it *loses* needs a task where
# the answer sits far away. Ours: a sequence of n = 512 tokens, and the last token must fetch the
# value of one earlier token, the **needle**, `distance` positions back.
#
# **The task.** Token j carries an *address* $a_j$ (a random unit vector in $\mathbb{R}^{32}$, what it
# can be found by), a *request* $c_j$ (what it looks for) and a *value* $y_j$ (one of 16 classes,
# one-hot). The last token's request is the needle's address.
#
# **The retrieval head**, built by hand instead of trained: one attention layer whose query reads the
# request, $q_i = \beta c_i$; whose key reads the address, $k_j = a_j$; and whose value reads the
# one-hot value, $v_j = e_{y_j}$ (scale 1, $\beta = 12$). The needle scores $\beta\, a_p \cdot a_p =
# 12$; any other token scores $\beta\, a_p \cdot a_j$, about $\mathcal N(0, \beta^2/32)$, so roughly
# ±2. After the softmax nearly all the weight is on the needle, and the prediction $\arg\max$ of the
# output is its value — **if the needle is among the keys the query may see**. If not, the output is a
# blend of random values and the prediction is right by chance, 1/16. Every pattern runs through the
# library's own functions (`chunked_local_attention`, `transformer_xl_attention`, or `attention` with
# the pattern's mask), with 64–128 keys for the last query, so they cost about the same:

# %%
n = 512
task = retrieval_task(n, np.arange(1, n), seed=0)  # one trial per distance 1 … 511
correct = {method: retrieval_correct(task, method) for method in RETRIEVAL_METHODS}
distance = task["distance"]
near, mid, far = distance <= 32, (distance > 32) & (distance <= 128), distance > 128
print(f"{'method':18s} {'params':48s} {'≤32':>5s} {'33-128':>7s} {'>128':>5s}")
for method, ok in correct.items():
    params = ", ".join(f"{k}={v}" for k, v in RETRIEVAL_METHODS[method].items()) or "-"
    print(f"{method:18s} {params:48s} {ok[near].mean():5.2f} {ok[mid].mean():7.2f} {ok[far].mean():5.2f}")

# %%
fig, axes = plt.subplots(2, 4, figsize=(11.0, 4.6), sharex=True, sharey=True, layout="constrained")
for ax, (method, ok) in zip(axes.flat, correct.items(), strict=True):
    plot_retrieval(distance, ok, bin_width=16, chance=1 / 16, ax=ax, title=method)
for ax in axes.flat:
    ax.label_outer()
plt.show()

# %% [markdown]
# Read the curves as "which distances can one layer of this pattern retrieve":
#
# - **full attention**: every distance (the cost is n keys per query);
# - **chunked**: only the needle inside the query's own chunk; the last query sits at the end of its
#   chunk, so distances 1–63; everything else is chance. A query at the *start* of a chunk would see
#   nothing of the past at all;
# - **chunked + global**: the 8 global tokens add exactly 8 more retrievable positions, at the far end
#   (distances 504–511, the last bin). In one layer a global token is just one more key;
# - **sliding window** (64 keys): distances 1–63, like the chunk but for *every* query;
# - **window + sinks** (StreamingLLM: 60 recent + 4 first tokens): the window, plus the 4 sink
#   positions at the far end; nothing in between;
# - **dilated** (64 keys, dilation 4): four times the reach but only every 4th distance: about 25 %
#   up to 252, then nothing;
# - **BigBird-style** (window of blocks + a global block + 2 random blocks of 16): its window and
#   global block, plus 2 random blocks out of 32 — about 6 % extra at any distance, averaged over 16
#   random layouts;
# - **Transformer-XL** (segments of 64, memory 64): the last segment and the 64 cached positions
#   before it, distances 1–127.
#
# One layer retrieves what it can see, and nothing else. Stacking layers makes **information travel**
# (lesson 04's receptive field), but a far needle then has to be *carried* by the tokens in between,
# in a fixed-size vector that does not know what will be asked: reach is necessary, not sufficient.
# Sections 5–7 come back to this for global tokens and memory.

# %% [markdown]
# ## 3. Merging chunk outputs: concatenation, nothing else
#
# > **Myth:** "After chunking, merge the chunk outputs with an additive or gated merge." **Fact:** the
# > chunk outputs belong to **disjoint sets of queries** (chunk 1 holds the outputs of tokens 0–7,
# > chunk 2 those of tokens 8–15, …). Putting them back in sequence order — concatenation — is the
# > only merge that gives every token its output; adding or gating chunk 1 with chunk 2 mixes the
# > output of token 3 with that of token 11. Additive or gated merges belong to *branches over the
# > same queries* (a local branch and a global or memory branch), and there the exact merge is not a
# > fixed sum but lesson 05's online-softmax merge.

# %%
n, m = 32, 8
q, k, v = (rng.standard_normal((n, 16)) for _ in range(3))
parts = [chunked_local_attention(q, k, v, m)[s:e] for s, e in block_bounds(n, n // m)]
print("shapes of the chunk outputs:", [p.shape for p in parts])
print(
    "concatenated:",
    np.concatenate(parts).shape,
    "| an additive merge:",
    np.sum(parts, axis=0).shape,
    "(outputs for 8 tokens, not 32)",
)

# %% [markdown]
# Two **branches over the same queries** — here a local window and a few global keys, disjoint key
# sets — do combine, and exactly: each branch's online-softmax state carries its own max and
# normalizer, and `merge_partials` weights the branches by their softmax mass. That weight is a *gate*
# computed from the scores, $\sigma(\mathrm{lse}_1 - \mathrm{lse}_2)$, not a learned constant. A fixed
# 50/50 additive merge is a different (and here wrong) model:

# %%
local = masks.local_mask(n, 3, 0)  # a causal window of 4 keys
far = np.zeros((n, n), dtype=bool)
far[:, :2] = True  # two global keys every query may see
far &= ~local  # disjoint key sets


def branch_state(allowed):
    scores = np.where(allowed, q @ k.T / 4.0, -np.inf)  # scale 1/sqrt(16)
    return block_state(scores, v)


exact_merge, _ = finalize(merge_partials(branch_state(local), branch_state(far)))
target = attention(q, k, v, local | far)
half_half = 0.5 * attention(q, k, v, local) + 0.5 * attention(q, k, v, far)
lse_local, lse_far = finalize(branch_state(local))[1], finalize(branch_state(far))[1]
gate = 1 / (1 + np.exp(lse_far - lse_local))  # σ(lse_local − lse_far): the local branch's share
gated = gate[:, None] * attention(q, k, v, local) + (1 - gate[:, None]) * attention(q, k, v, far)
print(
    "online-softmax merge == attention over the union:", np.allclose(exact_merge, target, rtol=0, atol=1e-12)
)
print("the gate σ(lse_1 - lse_2) gives the same:", np.allclose(gated, target, rtol=0, atol=1e-12))
print(f"a fixed 50/50 additive merge is off by up to {np.abs(half_half - target).max():.2f}")

# %% [markdown]
# ## 4. An auxiliary loss creates no path between chunks
#
# > **Myth:** "Add an auxiliary loss such as NSP (next-sentence prediction) to recover the dependencies
# > between chunks." **Fact:** a loss changes the *weights*; what a token can read is fixed by the
# > *mask*. With chunked attention the output of a token in chunk 2 is a function of chunk 2's tokens
# > only, through any number of layers, whatever the weights — so no loss can make it depend on chunk
# > 1. NSP is BERT's sentence-pair classification loss; RoBERTa (Liu et al. 2019, §4.2) found that
# > removing it "matches or slightly improves downstream task performance". What does restore the
# > flow: overlap, global tokens, recurrence (Transformer-XL) or exact attention over everything
# > (ring attention).
#
# The evidence: change every key and value of chunk 0 and see how much the other chunks' outputs move,
# and the receptive field of chunks through 6 layers (lesson 04's boolean matrix power):

# %%
k2, v2 = k.copy(), v.copy()
k2[:m], v2[:m] = rng.standard_normal((m, 16)) * 5, rng.standard_normal((m, 16)) * 5
moved = np.abs(chunked_local_attention(q, k2, v2, m) - chunked_local_attention(q, k, v, m))
print(f"largest change of chunk 0's outputs: {moved[:m].max():.2f}; of every other chunk: {moved[m:].max()}")
reach = masks.receptive_field(masks.block_mask(n, m), 6)
print(
    "after 6 layers, any token outside its own chunk reachable:",
    bool((reach & ~masks.block_mask(n, m)).any()),
)

# %% [markdown]
# ## 5. Overlap and global tokens
#
# **Overlap**: query chunk $[s, e)$ also sees `overlap` keys on either side, $[s - o, e + o)$.
# `overlapping_chunk_attention` equals dense attention with that mask (`chunking_mask`). In one pass
# through L layers the overlaps chain: each layer moves information one overlap further. (Cutting a
# document into overlapping *windows processed separately* — one forward pass per window — does not
# chain: the reach stays one window.)
#
# **Global tokens** (Longformer, BigBird): a few tokens whose rows and columns are all allowed. After
# two layers every token is connected to every other through them; after one, a global token is just
# one more key (section 2).

# %%
n, m = 64, 16
q, k, v = (rng.standard_normal((n, 8)) for _ in range(3))
ok = np.allclose(
    overlapping_chunk_attention(q, k, v, m, 4),
    attention(q, k, v, chunking_mask(n, m, overlap=4)),
    rtol=0,
    atol=1e-12,
)
print("overlapping_chunk_attention == dense with chunking_mask(overlap=4):", ok)
for name, mask in [
    ("chunks of 16", chunking_mask(n, m)),
    ("+ overlap 4", chunking_mask(n, m, overlap=4)),
    ("+ 2 global tokens", chunking_mask(n, m, global_tokens=2)),
]:
    cover = [masks.receptive_field(mask, layers).mean() for layers in (1, 2, 4)]
    print(f"{name:18s} pairs connected after 1, 2, 4 layers: " + ", ".join(f"{c:.0%}" for c in cover))

# %% [markdown]
# Connected is not the same as retrievable. To hand a far needle to the last token through a global
# token, the global token would have to gather, in layer 1, the one value the last token will ask for
# in layer 2 — without knowing the question. That is why Longformer makes the **question** tokens
# global in question answering: a global token that *is* the question can look for the answer
# everywhere in layer 1 and every token can read it in layer 2.
#
# ## 6. Attention sinks: streaming decode with a fixed-size cache
#
# A decoder that keeps only a window of recent keys has a fixed-size KV cache (lesson 04's rolling
# buffer). Xiao et al. (2023, "Efficient Streaming Language Models with Attention Sinks", arXiv
# 2309.17453) found that real LLMs put a large share of attention on the **first tokens** whatever they
# say — the softmax has to put its weight somewhere, and the first tokens are visible to every query —
# and that evicting them breaks the model. StreamingLLM keeps the first few tokens (4 in the paper)
# plus a window of recent ones. **Published results** (abstract; real LLMs, not measured here):
# "StreamingLLM can enable Llama-2, MPT, Falcon, and Pythia to perform stable and efficient language
# modeling with up to 4 million tokens and more", and "outperforms the sliding window recomputation
# baseline by up to 22.2x speedup". The claim is *stable perplexity*, not recall of evicted tokens.
#
# As a mask (`streaming_mask`): query i sees $j < \text{sinks}$ and $i - W < j \le i$; the cache holds
# at most sinks + W keys, however long the stream:

# %%
sink_mask = streaming_mask(24, 2, 5)
print("keys per query (never more than 2 + 5):", sink_mask.sum(1))
ok = correct["window + sinks"]
print(
    f"retrieval with 4 sinks + 60 recent: distances 1-59 {ok[:59].mean():.0%}, "
    f"60-507 {ok[59:507].mean():.0%} (chance 6%), 508-511 (the sinks) {ok[507:].mean():.0%}"
)

# %% [markdown]
# On our task the sinks retrieve exactly what sits in them — the first 4 tokens — and nothing of the
# hundreds evicted in between: a sink is an anchor that keeps the softmax well-behaved, not a memory.
#
# ## 7. Transformer-XL: a memory of the previous segment, with stop-gradient
#
# Transformer-XL (Dai et al. 2019, arXiv 1901.02860) processes a long text one segment at a time and
# keeps, at every layer, the hidden states of the previous segment as extra keys and values:
# $\tilde h = [\mathrm{SG}(h_{\tau-1});\, h_\tau]$, where SG is **stop-gradient**. One attention step is
# dense attention over [memory; segment] with the bottom-right causal mask (the segment is causal on
# itself, the memory fully visible); the model needs relative positional encodings so that cached
# positions mean the same in the next segment.

# %%
seg, mem_len, d = 8, 6, 8
q, k, v = (rng.standard_normal((seg, d)) for _ in range(3))
mem_k, mem_v = rng.standard_normal((mem_len, d)), rng.standard_normal((mem_len, d))
keys, values = np.concatenate([mem_k, k]), np.concatenate([mem_v, v])  # (mem + seg, d)
dense = attention(q, keys, values, causal=True)  # bottom-right: query i sees j <= i + mem_len
print(
    "transformer_xl_attention == dense causal over [memory; segment]:",
    np.allclose(transformer_xl_attention(q, k, v, mem_k, mem_v), dense, rtol=0, atol=1e-12),
)

# %% [markdown]
# Run segment by segment through L layers (`segment_recurrence`, torch), this is the same as one pass
# over the whole sequence with the mask "own segment causally + the `memory` positions before it" at
# every layer — so the reach grows with depth. And the stop-gradient: a loss on the last segment sends
# **no gradient** into earlier segments (training memory stays one segment deep), while the forward
# pass still reads them. Without SG the gradient flows back through every cached state.

# %%
n, seg, mem_len, d, layers = 32, 8, 8, 4, 3
g = torch.Generator().manual_seed(0)
weights = [
    tuple(torch.randn(d, d, generator=g, dtype=torch.float64) / 2 for _ in range(3)) for _ in range(layers)
]
x = torch.randn(n, d, generator=g, dtype=torch.float64)
mask = torch.from_numpy(chunking_mask(n, seg, memory=mem_len, causal=True))
h = x
for w_q, w_k, w_v in weights:  # one dense masked pass per layer, with residual
    scores = (h @ w_q) @ (h @ w_k).T / d**0.5
    h = h + torch.softmax(scores.masked_fill(~mask, -torch.inf), -1) @ (h @ w_v)
print(
    "segment by segment == one masked pass:",
    torch.allclose(segment_recurrence(x, weights, segment=seg, memory=mem_len), h, rtol=0, atol=1e-12),
)
for stop in (True, False):
    xg = x.clone().requires_grad_(True)
    segment_recurrence(xg, weights, segment=seg, memory=mem_len, stop_gradient=stop)[-seg:].sum().backward()
    print(
        f"stop_gradient={stop!s:5}: largest gradient reaching earlier segments = "
        f"{xg.grad[:-seg].abs().max():.3f}"
    )

# %% [markdown]
# How far back can the last token's output depend on its inputs? Through the receptive field of that
# mask (lesson 04):

# %%
txl_mask = chunking_mask(n, seg, memory=mem_len, causal=True)
for layers in (1, 2, 3):
    first = int(np.flatnonzero(masks.receptive_field(txl_mask, layers)[n - 1])[0])
    print(f"{layers} layer(s): the output at position {n - 1} depends on positions {first}-{n - 1}")

# %% [markdown]
# Each layer adds about one memory's worth: the paper's largest possible dependency length grows
# linearly with the number of layers and the segment length, O(N × L). Its
# abstract reports dependencies "80% longer than RNNs and 450% longer than vanilla Transformers" and
# evaluation "up to 1,800+ times faster than vanilla Transformers" (published results).
#
# ### Exercise 2 (not on the page): how far back does Transformer-XL reach?
#
# Write `my_txl_reach(position, segment, memory, layers)` returning the earliest position whose input
# can influence the output at `position` after `layers` Transformer-XL layers (segments of `segment`
# tokens starting at 0, `memory` cached positions per layer; never below 0). The cell above gives
# three values for one setting; the check tries memories shorter and longer than a segment. Hints:
# with one layer, which keys does a query see? A key is itself the output of the layer below — which
# keys did *it* see? Is the earliest one all you need to follow?


# %%
def my_txl_reach(position, segment, memory, layers):
    raise NotImplementedError  # your code here


passed = check_txl_earliest_position(my_txl_reach)

# %% [markdown]
# ## 8. Ring attention: exact attention with the sequence spread over P devices
#
# Every pattern so far changes the model. Ring attention (Liu, Zaharia & Abbeel 2023, arXiv 2310.01889)
# does not: it splits the sequence over P devices, device p holding query block $Q_p$ and, at first,
# key/value block $K_p, V_p$. In each of P steps every device computes its queries against the K/V
# block it holds, folds the result into its online-softmax state (lesson 05: running max, normalizer,
# accumulator), and **passes the block to the next device** while receiving one from the previous. After
# P steps each device has seen every block — exact attention for its queries — while holding only its
# own blocks and the one in flight: **O(n/P) memory per device**, O(n²d/P) work, and the sends overlap
# the compute. The core lines (P devices simulated one after the other):

# %%
n, P, d = 24, 4, 8
q, k, v = (rng.standard_normal((n, d)) for _ in range(3))
bounds = block_bounds(n, P)  # [(start, stop)] of each device's block
out = np.empty((n, d))
for p, (q0, q1) in enumerate(bounds):
    state = initial_state(np.zeros(q1 - q0), d)  # max -inf, normalizer 0, acc 0
    for step in range(P):
        k0, k1 = bounds[(p - step) % P]  # the block that reached device p at this step
        scores = q[q0:q1] @ k[k0:k1].T / np.sqrt(d)
        state = merge_partials(state, block_state(scores, v[k0:k1]))  # online-softmax rescaling
    out[q0:q1] = finalize(state)[0]
print("ring (core lines) == dense:", np.allclose(out, attention(q, k, v), rtol=0, atol=1e-12))
for devices, causal in [(1, False), (3, True), (4, False), (5, True)]:
    err = np.abs(ring_attention(q, k, v, devices, causal=causal) - attention(q, k, v, causal=causal)).max()
    print(f"ring_attention, {devices} device(s), causal={causal!s:5}: max error < 1e-12: {err < 1e-12}")

# %% [markdown]
# The schedule: device p holds K/V block (p − s) mod P at step s. Under a causal mask a device needs
# only the blocks at or before its own; the others are passed on without computing (grey). Device 0
# computes 1 block, device P − 1 all P, and since every step waits for the slowest device, the ring
# takes as long as without the mask although half the work is skipped. Striped Attention fixes the
# imbalance by giving each device tokens spread over the whole sequence instead of one contiguous
# block (published: up to 1.45× end-to-end throughput over Ring Attention at 256k tokens, on A100
# GPUs and TPUv4s; Brandon et al. 2023, arXiv 2311.09431).

# %%
table = ring_schedule(4)
fig, axes = plt.subplots(1, 2, figsize=(7.6, 3.0), layout="constrained")
plot_ring_schedule(table, ax=axes[0], title="non-causal: every block computed")
plot_ring_schedule(table, table <= np.arange(4)[None, :], ax=axes[1], title="causal: grey = skipped")
plt.show()

# %% [markdown]
# Memory per device (`ring_memory_bytes`; one head, d = 128, fp16, n = 131072 tokens): what the
# busiest device holds halves with every doubling of P (at P = 1 nothing travels, so there is no
# second K/V block), while a single device would hold all of K and V.

# %%
for devices in (1, 2, 4, 8, 16):
    b = ring_memory_bytes(131072, 128, 128, devices, bytes_per_value=2)
    print(
        f"P = {devices:2d}: per device {b['total'] / MIB:6.1f} MiB (K/V {b['kv'] / MIB:5.1f}) | "
        f"all of K and V: {b['kv_full'] / MIB:.0f} MiB"
    )

# %% [markdown]
# ### Exercise 3: ring attention, causal, with uneven blocks
#
# Write `my_ring(q, k, v, num_devices, *, causal)` (numpy, q and k (n, d_k), v (n, d_v)) returning
# exact attention computed as the devices of a ring would: blocks as `block_bounds(n, num_devices)`
# (the first n mod P blocks one token longer), one online-softmax state per device. Under `causal`,
# query position i may see key positions j ≤ i; remember that a device's state can still be empty when
# a block is entirely in the future.


# %%
def my_ring(q, k, v, num_devices, *, causal):
    raise NotImplementedError  # your code here


passed = check_ring_attention(my_ring)

# %% [markdown]
# ### Ring attention across real processes
#
# `tutor_lib.distributed` runs the same algorithm with `torch.distributed`: one operating-system
# process per "device", talking over the gloo backend on 127.0.0.1 (a free port picked by the OS).
# Each rank creates only its own block of Q, K, V, sends its K/V block to the next rank with
# `isend` while it computes on the one it holds, receives the previous rank's with `irecv`, and merges
# with the same online-softmax functions. Rank 0 gathers the outputs and compares them with dense
# attention. From a shell:
#
# ```
# python -m tutor_lib.distributed --world-size 4 --n 4096
# ```
#
# prints the max abs error and each rank's peak K/V bytes. Here, three processes and 600 tokens (most
# of the time goes into starting Python and importing torch in each process):

# %%
result = launch(world_size=3, n=600, d=64, causal=True, timeout=120)
print(f"max abs error vs dense attention < 1e-12: {result['max_abs_error'] < 1e-12}")
full_kv = 600 * 2 * 64 * 8  # all of K and V, float64
for rank, (kv_bytes, (start, stop)) in enumerate(
    zip(result["kv_peak_bytes"], result["query_blocks"], strict=True)
):
    print(
        f"rank {rank}: tokens {start}-{stop - 1}, peak K/V {kv_bytes / KIB:.0f} KiB = "
        f"{kv_bytes / full_kv:.2f} of all K and V, blocks computed {result['blocks_computed'][rank]}"
    )


def alive(pid):
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    return True


print("every worker process has exited:", not any(alive(pid) for pid in result["pids"]))

# %% [markdown]
# Each rank holds 2/3 of K and V at its peak (its own block + the one arriving): with P ranks, 2/P,
# the O(n/P) of the paper. The processes always exit: a rank that fails makes the launcher stop the
# others, a run past its timeout is killed, and a worker dies with its launcher.
#
# ## 9. Explore: chunks, overlap, global tokens, memory
#
# Move the sliders: the left panel is the one-layer mask, the middle one the receptive field after L
# layers, the strip below which keys reach the chosen query at each depth. Things to try: chunks alone
# never connect (the strip stays the same at every depth); overlap chains one overlap per layer;
# one global token connects everything in two layers; memory grows the reach one memory per layer,
# causally.

# %%
explorer = chunking_explorer(n=64, chunk=16, memory=8, layers=3, query=63, causal=True)
explorer

# %% [markdown]
# If the sliders do not show (a static view of this notebook), this is the starting view:
# Transformer-XL-like chunks of 16 with a memory of 8, through 3 layers.

# %%
print("query 63 reaches back to positions (per layer):", explorer.stats["query_first_key"])
fig, axes = plt.subplots(1, 2, figsize=(7.6, 3.2), width_ratios=[1, 1.6], layout="constrained")
plot_mask(explorer.mask, ax=axes[0], title="chunks of 16 + memory 8, causal")
plot_query_reach(explorer.query_reach, 63, ax=axes[1], title="keys that reach query 63")
plt.show()

# %% [markdown]
# ## Summary
#
# - **Chunking is attention with a block-diagonal mask**: concatenating per-chunk outputs equals dense
#   attention with `block_mask`, and costs O(n·m·d) — linear in n. It is a different model: a token
#   never sees another chunk, through any number of layers.
# - **What it loses** is measurable: on the retrieval task, one layer retrieves exactly the needles its
#   pattern lets the query see — chunks and windows the last 63 tokens, dilation every 4th token up to
#   252, sinks and global tokens only their own few positions, BigBird a random ~6 % of the far blocks,
#   Transformer-XL the segment plus its memory.
# - **Merging**: chunk outputs cover disjoint queries, so concatenation is the only merge; branches over
#   the same queries merge exactly with the online-softmax weights, a gate σ(lse₁ − lse₂), not a fixed
#   sum. **NSP** creates no attention path (RoBERTa dropped it).
# - **What brings long range back**: overlap and global tokens connect chunks over layers; attention
#   sinks keep streaming decode stable with a fixed cache but do not remember evicted tokens;
#   Transformer-XL's stop-gradient memory extends the reach by one memory per layer at the cost of one
#   segment of gradients; **ring attention is exact** and spreads memory as O(n/P) per device.
