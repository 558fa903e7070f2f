# %% [markdown]
# # 10 · Choosing a method: every technique of the course, measured side by side
#
# **What you will learn**
# - how the methods of lessons 01–09 compare when they run **on the same inputs, on your machine**:
#   time, memory, error against exact attention, and whether they are exact or change the model;
# - to read a **Pareto plot** (memory vs error vs time) and find the methods worth considering;
# - to **predict** a method's memory at lengths nothing could measure (128k tokens) from a model that
#   matches the measurements byte for byte, and to ask which methods fit a memory budget;
# - what each model-changing method **loses**, measured with lesson 09's long-range retrieval task;
# - the reference summary table of the course, filled in with your own measurements, beside the
#   published Long Range Arena benchmark (Tay et al. 2020, on TPUs);
# - a decision guide: training vs prefill vs decode, exact vs model-changing, CPU vs GPU.
#
# **Prerequisites:** all of lessons 01–09 (this lesson refers back to each). Lesson 03 (log-log slopes,
# decoding), 05 (exact memory-efficient attention), 06 (linear attention) and 09 (the retrieval task)
# matter most.
#
# **Runtime:** about 10 s on a quiet 2-core CPU, up to 20 s on a busy one (`make report`). The
# measurement cell shows a progress bar. No GPU, no downloads.

# %%
# %matplotlib inline
import time

import numpy as np
import torch
from matplotlib import pyplot as plt
from torch import nn
from tutor_lib.chunking import RETRIEVAL_METHODS, retrieval_correct, retrieval_task
from tutor_lib.compare import (
    A16_GROUPS,
    LRA_ACCURACY,
    LRA_NAMES,
    LRA_SOURCE,
    LRA_SPEED_4K,
    METHODS,
    a16_rows,
    cheapest_fitting,
    decode_cost,
    fit_table,
    measure_methods,
    method_retrieval,
    pareto_front,
    predicted_memory,
)
from tutor_lib.costs import GIB, KIB, MIB
from tutor_lib.exercises import check_longest_n, check_pareto_front, check_pick_method
from tutor_lib.measure import count_flops
from tutor_lib.plots import plot_budget, plot_pareto, plot_retrieval
from tutor_lib.training_memory import (
    AttentionSublayer,
    CheckpointedStack,
    MLPSublayer,
    ReversibleBlock,
    ReversibleStack,
    saved_tensor_bytes,
)
from tutor_lib.widgets import budget_explorer, progress

rng = np.random.default_rng(0)
torch.manual_seed(0)
np.set_printoptions(precision=3, suppress=True, linewidth=110)
print("numpy", np.__version__.split(".")[0], "| torch", torch.__version__.split("+")[0])

# %% [markdown]
# ## 1. The methods on the table
#
# `tutor_lib.compare.METHODS` holds one entry per variant the course built: how to run it, which
# lesson taught it, and two facts that decide most of what follows. **Exact** means equal to softmax
# attention up to rounding (lessons 05 and 09 proved it for tiling, FlashAttention-style kernels and
# ring attention); every other entry **changes the model**: a window, a sparse pattern, chunks, a
# kernel instead of the softmax, a projection of the sequence, fewer bits. **Causal** entries compute
# what a decoder needs (query i sees keys j ≤ i); the others are bidirectional, an encoder's attention.

# %%
print(f"{'method':30s} {'lesson':>6s}  {'model':9s} {'causal':6s} {'runs on':7s}  settings")
for m in METHODS:
    model = "exact" if m.exact else "changes"
    print(f"{m.name:30s} {m.lesson:>6s}  {model:9s} {m.causal!s:6s} {m.backend:7s}  {m.settings}")

# %% [markdown]
# ## 2. One run, every method
#
# `measure_methods` runs every entry at each length on **the same** random q, k, v (batch 1, 2 heads,
# d = 64): torch entries in float32, numpy entries in float64. For each it records
#
# - **time**: the methods take turns, one call each per round, so they all see the same machine load;
#   we keep the median over the rounds, measured as the CPU time of this thread on **one thread**
#   (`time.thread_time`, fair on a busy machine, as lesson 09 did);
# - **memory**: the `tracemalloc` peak of one call for numpy, and for torch the bytes autograd
#   **saves for the backward pass** (lesson 07): what training must keep, q, k and v left out;
# - **error**: max |out − exact| against softmax attention in float64 (causal where the method is);
# - **FLOPs**: what the method *must* compute (its model: the band of a window, not the n² scores a
#   dense mask computes anyway) and what the implementation *does* compute.
#
# Notebook-friendly lengths, n = 256, 512 and 1024 (`make bench` runs the same code up to 16k):

# %%
threads = torch.get_num_threads()
torch.set_num_threads(1)  # one thread: thread CPU time is then the whole story
try:
    result = measure_methods(
        [256, 512, 1024], heads=2, d=64, rounds=3, timer=time.thread_time, progress=progress
    )
finally:
    torch.set_num_threads(threads)
rows = {(r["method"], r["n"]): r for r in result["rows"]}
N = 1024
print(f"{len(result['rows'])} measurements, {len(result['skipped'])} skipped")

# %% [markdown]
# What does not depend on the machine: errors, memory and FLOPs at n = 1024. Errors of exact methods
# are shown against the rounding of their precision (float32: < 1e-6, float64: < 1e-12):


# %%
def error_text(row):
    if row["exact"]:
        return "< 1e-12" if row["dtype"] == "float64" else "< 1e-6"
    return f"{row['max_error']:.2g}"


print(f"{'method':30s} {'model':8s} {'max error':>9s} {'memory MiB':>11s} {'GFLOP must / done':>18s}")
for m in METHODS:
    r = rows[(m.name, N)]
    model = "exact" if m.exact else "changes"
    mem = f"{r['memory_bytes'] / MIB:.2f}" if m.backend == "torch" else f"{r['memory_bytes'] / MIB:.1f}"
    print(
        f"{m.name:30s} {model:8s} {error_text(r):>9s} {mem:>7s} {r['memory_kind']:5s}"
        f" {r['flops'] / 1e9:7.3f} / {r['flops_done'] / 1e9:.3f}"
    )

# %% [markdown]
# Read the memory column with its kind: the torch rows are what training keeps (SDPA's fused kernel
# keeps only its output and one logsumexp per query, lesson 05; the dense mask keeps an n × n float
# bias), the numpy rows are what one forward call holds at its peak (dense attention: three n × n
# float64 arrays). And the FLOP column: a window through a dense mask must do 0.13 GFLOP of work but
# does all 0.54 (lesson 04: a mask makes nothing cheaper); the banded kernel does little more than it
# must, while the strided pattern, 0.025 GFLOP of pairs, costs 0.30 in tiles: its stripes touch almost
# every 128 × 128 tile (lesson 04).
#
# The times. They depend on your machine and its load, so this cell's output is not checked: the
# median time at each n, the ratio to SDPA at n = 1024 (to `SDPA causal` for causal methods), the
# fraction of this machine's matmul rate reached on the FLOPs each method must do, and the log-log
# slope of time against n (lesson 03: 2 for n², 1 for linear).

# %%
# NBVAL_IGNORE_OUTPUT
ns = result["ns"]
rate = result["matmul_rate"]
print(
    f"matmul rate, 1 thread: float32 {rate['float32'] / 1e9:.0f}, float64 {rate['float64'] / 1e9:.0f} GFLOP/s"
)
print(f"{'method':30s} " + " ".join(f"{'n=' + str(n):>9s}" for n in ns) + "   ×SDPA  %peak  slope")
for m in METHODS:
    times = [rows[(m.name, n)]["median_s"] for n in ns]
    r = rows[(m.name, N)]
    slope = np.polyfit(np.log(ns), np.log(times), 1)[0]
    cells = " ".join(f"{t * 1e3:7.2f}ms" for t in times)
    print(f"{m.name:30s} {cells} {r['ratio_vs_sdpa']:7.2f} {r['matmul_fraction']:6.0%} {slope:6.1f}")

# %% [markdown]
# What to look for: at these short lengths SDPA's fused C++ kernel is hard to beat, and the numpy
# references trail it (float64, and Python-level loops for the blockwise ones). The methods whose time
# grows about linearly (banded window, linear attention, Linformer, chunks: slope near 1) overtake it
# between n = 256 and 1024, and the gap widens with n; `make bench` measures the same table up to
# n = 16k. The block-sparse entries run as Python loops over tiles (lesson 04), which is why they
# trail their FLOP counts.
#
# ## 3. Exact is not a synonym of slow
#
# > **Myth:** "Efficient attention is an approximation: you trade accuracy for speed." **Fact:** the
# > efficient methods split into two families with nothing in between. The **exact** ones (SDPA's
# > fused kernel, FlashAttention-style tiling, chunked attention, ring attention; and checkpointing
# > and reversible layers for training memory, section 7) give the same output up to rounding and
# > save memory, often time too. The **model-changing** ones (windows, sparse patterns, chunks, linear
# > attention, Performer, Linformer, compressed or quantized K/V) compute a different function, with
# > errors far above rounding. An accuracy-for-speed trade exists only inside the second family.

# %%
exact_worst = max(r["max_error"] for r in result["rows"] if r["exact"] and r["dtype"] == "float32")
exact64_worst = max(r["max_error"] for r in result["rows"] if r["exact"] and r["dtype"] == "float64")
changed = {r["method"]: r["max_error"] for r in result["rows"] if not r["exact"] and r["n"] == N}
print(f"exact methods, float32, every n: worst error < 1e-6: {exact_worst < 1e-6}")
print(f"exact methods, float64, every n: worst error < 1e-12: {exact64_worst < 1e-12}")
closest = min(changed, key=changed.get)
print(f"model-changing methods at n = {N}: smallest error > 0.01: {changed[closest] > 0.01} ({closest})")
print(
    f"SDPA (exact) keeps {rows[('SDPA', N)]['memory_bytes'] / MIB:.2f} MiB for backward at n = {N}; "
    f"the dense numpy reference peaks at {rows[('dense (numpy)', N)]['memory_bytes'] / MIB:.0f} MiB"
)

# %% [markdown]
# The smallest error of any model-changing method at n = 1024 (4-bit keys and values) is ten
# thousand times the largest error of any exact one. (At n = 256 the ±128 window and the chunks of
# 256 cover almost every key, so they come close to exact there: a model change shows only once the
# sequence is longer than what the pattern covers.) And the exact SDPA is also the method with the
# least memory here: in
# lesson 05's words, memory-efficient attention is exact and does not reduce FLOPs; it reduces memory
# traffic. Lesson 06's linear attention and lesson 04's windows reduce FLOPs, by changing the model.
#
# ## 4. The Pareto plot: memory vs error vs time
#
# No method wins on every axis. A method is worth considering only if no other method is at least as
# good on every axis and better on one: those are the **Pareto front** (`compare.pareto_front`). On
# memory and error alone (deterministic), at n = 1024:

# %%
names = [m.name for m in METHODS]
at_n = [rows[(name, N)] for name in names]
memory = np.array([r["memory_bytes"] for r in at_n], dtype=float)
error = np.array([0.0 if r["exact"] else r["max_error"] for r in at_n])  # exact: rounding → 0
front = pareto_front(np.stack([memory, error], axis=1))
print("front on (memory, error):", [names[i] for i in front])

# %% [markdown]
# Exact methods all have error 0 here (their rounding set to zero), so on these two axes the exact
# methods with the least memory win: SDPA's fused kernel (and our FlashAttention-style kernel, which
# keeps the same output and logsumexp). No model-changing method keeps less, so none makes this front.
# Adding time (machine-dependent, output not checked) lets the fast model-changing methods in:

# %%
# NBVAL_IGNORE_OUTPUT
seconds = np.array([r["median_s"] for r in at_n])
front3 = pareto_front(np.stack([memory, error, seconds], axis=1))
print("front on (memory, error, time):", [names[i] for i in front3])
fig, ax = plt.subplots(figsize=(8.6, 6.2), layout="constrained")
plot_pareto(
    names,
    memory,
    error,
    seconds=seconds,
    exact=np.array([r["exact"] for r in at_n]),
    ax=ax,
    title=f"n = {N}, 2 heads, d = 64 (measured; colour: median time, one thread)",
)
plt.show()

# %% [markdown]
# The error axis measures *how different a model* a method is on random inputs, which is not the same
# as *how much worse* it is on a task: a trained model adapts to its own attention. Section 6 measures
# what each one loses on a task.
#
# ## 5. Predicting memory where nothing can be measured
#
# Measuring dense attention at n = 128k would need three 128k × 128k float64 arrays: 384 GiB. But
# each method's memory follows from what it keeps, and `compare.predicted_memory` writes that down
# per implementation (lessons 03, 05 and 07 derived the pieces): SDPA keeps n·(d + 1) floats per head,
# the banded kernel its key/value spans and band mask, a block-sparse kernel the scores of the keys
# each query tile gathers (from the pattern's tiles, computed without the n × n mask), and so on. The
# model must first agree with the measurements:

# %%
torch_exact, numpy_close = [], []
for r in result["rows"]:
    predicted = predicted_memory(r["method"], r["n"], 64, heads=2)
    if r["backend"] == "torch":
        torch_exact.append(predicted == r["memory_bytes"])
    else:
        numpy_close.append(abs(r["memory_bytes"] / predicted - 1) < 0.15)
print(f"torch: predicted == measured saved bytes, {sum(torch_exact)} of {len(torch_exact)}")
print(f"numpy: predicted within 15 % of the tracemalloc peak, {sum(numpy_close)} of {len(numpy_close)}")

# %% [markdown]
# Byte for byte for every torch measurement; the numpy peaks hold a few small temporaries the model
# leaves out. Now the same models at n = 131072 (128k tokens), 2 heads, d = 64 — one layer:

# %%
for row in fit_table(131072, 64, 1 * GIB, heads=2):
    gib = row["memory"] / GIB
    print(f"{row['method']:30s} {gib:9.3f} GiB ({row['memory_kind']:5s})  fits 1 GiB: {row['fits']}")

# %% [markdown]
# The n² methods need tens to hundreds of GiB for one layer; SDPA's fused kernel keeps 65 MiB. The
# widget in section 9 asks the same question for any n, d and budget.
#
# ## 6. What the model-changing methods lose: lesson 09's retrieval task
#
# Lesson 09 built a task where the last token must fetch the value of a needle `distance` tokens back,
# with a hand-set retrieval head (no training): it succeeds when the needle is among the keys the
# query sees *and* the attention stays sharp enough to single it out. Here every method of the table
# gets the same task (`compare.method_retrieval`: the same q, k, v, q scaled so that each method's
# default 1/√d scale gives the task's scores; torch methods in float64). 103 trials, distances 1, 6,
# 11, … 511; "near" = within the window's 128 keys, "far" = beyond:

# %%
task = retrieval_task(512, np.arange(1, 512, 5), seed=0)
distance = task["distance"]
near = distance <= 128
retrieved = {m.name: method_retrieval(m, task) for m in METHODS}
far_accuracy = {}
print(f"{'method':30s} {'model':8s} {'near':>5s} {'far':>5s}   (chance 0.06)")
for m in METHODS:
    ok = retrieved[m.name]
    far_accuracy[m.name] = float(ok[~near].mean())
    model = "exact" if m.exact else "changes"
    print(f"{m.name:30s} {model:8s} {ok[near].mean():5.2f} {far_accuracy[m.name]:5.2f}")

# %% [markdown]
# Every exact method retrieves every needle, as full attention does. The model-changing ones fail in
# three different ways:
#
# - **they cannot see it**: the window and the chunks retrieve what lies inside (the window's 128 keys,
#   the query's chunk of 256) and nothing beyond; the strided pattern only its local band and every
#   l-th position; BigBird-style blocks their window, the global block and a few random blocks;
# - **they see it but cannot single it out**: elu+1 linear attention has no exponential, so the needle's
#   score does not dominate (lesson 06: a different model); Performer's random features estimate the
#   exponential, with an error that grows with the score (lesson 06: ~1/√m);
# - **they mix it with its neighbours**: memory-compressed attention averages 4 keys per slot (lesson
#   08), Linformer projects all 512 positions onto 256 random mixtures, so the needle's key is blurred.
#
# 4-bit keys and values (lesson 08) keep the needle: quantization changes the numbers, not which keys
# are seen. And lesson 09's own patterns, through lesson 09's own code (their windows and chunks are
# 64 keys, so the first column is their reach):

# %%
bins = {"1-64": distance <= 64, "65-128": (distance > 64) & near, ">128": ~near}
print(f"{'pattern (lesson 09)':20s} " + " ".join(f"{b:>7s}" for b in bins))
for name in RETRIEVAL_METHODS:
    ok = retrieval_correct(task, name)
    print(f"{name:20s} " + " ".join(f"{ok[mask].mean():7.2f}" for mask in bins.values()))

# %%
fig, axes = plt.subplots(2, 4, figsize=(11.0, 4.4), sharex=True, sharey=True, layout="constrained")
shown = [
    "window, banded",
    "strided + local, block-sparse",
    "BigBird, block-sparse",
    "chunked local (numpy)",
    "linear (elu+1)",
    "Performer",
    "Linformer",
    "memory-compressed (numpy)",
]
for ax, name in zip(axes.flat, shown, strict=True):
    plot_retrieval(distance, retrieved[name], bin_width=64, chance=1 / 16, ax=ax, title=name)
for ax in axes.flat:
    ax.label_outer()
plt.show()

# %% [markdown]
# ## 7. The summary table, filled in
#
# The reference table of this course (`compare.A16_GROUPS`, from the facts sheet every lesson is
# checked against) lists each technique with its asymptotic costs. Below, each row gets what you just
# measured at n = 1024 (2 heads, d = 64): error, memory (and its log-log slope over n = 256…1024:
# 2 for n², 1 for linear), FLOPs, the decoding step at t = 1024 (per layer and head, fp16 cache;
# `compare.decode_cost`) and the retrieval accuracy beyond 128 tokens. Times are in the next cell.

# %%
summary = a16_rows(result, n=N, retrieval=far_accuracy)
print(
    f"{'technique':33s} {'ours':30s} {'error':>7s} {'MiB':>6s} {'slope':>5s} {'GFLOP':>6s}"
    f" {'decode FLOP':>11s} {'cache KiB':>9s} {'far':>4s}"
)
for s in summary:
    if s["method"] is None:
        print(f"{s['technique']:33s} (not built as a kernel; see below)")
        continue
    dec = s["decode"]
    flop = "n/a" if dec["flops"] is None else f"{dec['flops']:,}"
    cache = "n/a" if dec["cache_bytes"] is None else f"{dec['cache_bytes'] / KIB:.1f}"
    error_s = "exact" if s["exact"] else f"{s['max_error']:.2g}"
    print(
        f"{s['technique']:33s} {s['method']:30s} {error_s:>7s} {s['memory_bytes'] / MIB:6.1f}"
        f" {s['memory_slope']:5.1f} {s['flops_done'] / 1e9:6.2f} {flop:>11s} {cache:>9s}"
        f" {s['retrieval']:4.2f}"
    )

# %% [markdown]
# The reference's asymptotic columns, for comparison:

# %%
for technique, time_o, memory_o, decode_o, _ in A16_GROUPS:
    print(f"{technique:33s} fwd {time_o:24s} train memory {memory_o:22s} decode {decode_o}")

# %%
# NBVAL_IGNORE_OUTPUT
for s in summary:
    if s["method"] is not None:
        ratio = s["ratio_vs_sdpa"]
        print(f"{s['technique']:33s} {s['method']:30s} {s['median_s'] * 1e3:7.2f} ms  {ratio:5.2f}× SDPA")

# %% [markdown]
# Two rows have no kernel in the table. **Reformer's LSH attention** (lesson 04 §8 mentions it with
# content-based sparsity) is not built in this course: its buckets change with the content, so no
# fixed tile pattern exists, and it is approximate. **Checkpointing and reversible layers** (lesson
# 07) act on whole blocks, not on the attention kernel; measured here on 16 reversible blocks
# (attention + MLP, d = 48, 4 heads, 64 tokens, float64): what autograd keeps, and the price in FLOPs.

# %%
torch.manual_seed(1)
blocks = [ReversibleBlock(AttentionSublayer(48, 4), MLPSublayer(48)).double().eval() for _ in range(16)]
weights = list(nn.ModuleList(blocks).parameters())
x1, x2 = (torch.randn(2, 64, 48, dtype=torch.float64, requires_grad=True) for _ in range(2))
stacks = {
    "plain": CheckpointedStack(blocks),
    "checkpoint every 4 = √L": CheckpointedStack(blocks, every=4),
    "reversible": ReversibleStack(blocks),
}


def step(stack):
    y1, y2 = stack(x1, x2)
    (y1 * y2).sum().backward()


def gradients(stack):
    x1.grad = x2.grad = None
    step(stack)
    return [x1.grad.clone(), x2.grad.clone()]


plain_saved = saved_tensor_bytes(stacks["plain"], x1, x2, exclude=weights)
forward = count_flops(stacks["plain"], x1, x2)
reference = gradients(stacks["plain"])
for name, stack in stacks.items():
    saved = saved_tensor_bytes(stack, x1, x2, exclude=weights)
    err = max((a - b).abs().max().item() for a, b in zip(gradients(stack), reference, strict=True))
    print(
        f"{name:24s} saves {saved / KIB:7.0f} KiB (÷{plain_saved / saved:4.1f}) | "
        f"forward + backward = {count_flops(step, stack) / forward:.2f} forwards | "
        f"gradients equal (< 1e-10): {err < 1e-10}"
    )

# %% [markdown]
# Exact gradients, a fraction of the memory, one extra forward pass at most: the training-memory
# techniques belong to the exact family too.
#
# ## 8. The published counterpart: Long Range Arena (TPU figures, quoted)
#
# Tay et al. (2020) trained every efficient Transformer of its day from scratch on the same six tasks
# (1k–16k tokens) with the same hyperparameters, in JAX on TPUs. Their Table 1 is accuracy, their
# Table 2 training speed and memory. Quoted below (published TPU results, not measured here), each row
# beside the entry of our table closest to it; "ours" is this lesson's far retrieval accuracy and our
# memory at n = 1024 relative to the dense numpy reference:

# %%
print(LRA_SOURCE)
print(
    f"{'LRA model':16s} {'avg acc':>7s} {'Retrieval':>9s} {'speed 4K':>8s} {'mem 4K':>7s} | "
    f"{'ours':30s} {'far':>4s} {'memory/dense':>12s}"
)
base = LRA_SPEED_4K["Transformer"]["steps_per_s"]
dense_mem = rows[("dense (numpy)", N)]["memory_bytes"]
for model, acc in LRA_ACCURACY.items():
    speed = LRA_SPEED_4K.get(model)
    speed_s = f"{speed['steps_per_s'] / base:7.1f}×" if speed else f"{'—':>8s}"
    mem_s = f"{speed['memory_gb']:5.2f}GB" if speed else f"{'—':>7s}"
    ours = LRA_NAMES[model]
    our_s = (
        f"{'(not built)':30s} {'':>4s} {'':>12s}"
        if ours is None
        else (f"{ours:30s} {far_accuracy[ours]:4.2f} {rows[(ours, N)]['memory_bytes'] / dense_mem:12.3f}")
    )
    print(f"{model:16s} {acc['avg']:7.2f} {acc['Retrieval']:9.2f} {speed_s} {mem_s} | {our_s}")

# %% [markdown]
# (Sparse Transformer is not in the paper's Table 2: it was implemented with masks there, so a speed
# figure would say nothing about the method. Our memory ratio compares different kinds — saved bytes
# for torch, a forward peak for numpy — and only the order of magnitude is meant.)
#
# What carries over, and what does not:
#
# - **Speed and memory agree in direction**: the kernel and low-rank methods (Performer, Linear
#   Transformer, Linformer, local attention) are 5–6× faster than the Transformer at 4K on TPUs with
#   about a tenth of the memory; on our CPU the same entries grow linearly (section 2) and keep a few
#   MiB. BigBird, block-sparse with per-block overheads, is barely faster than dense in both.
# - **Quality does not carry over**: LRA's models are *trained*, and every one lands within a few
#   points of the Transformer on average (46–55 %); the method with the best average is BigBird, not a
#   fast one. Our head is hand-set, not trained, so it shows the raw loss (a far needle is chance for
#   a window) that training partly works around — or does not, as LRA's Local Attention (46 %) shows.
#   No fixed benchmark answers "which method for my task".
#
# ## 9. Decision guide
#
# Which technique, when? The answer depends first on **what you are doing** (training, prefill or
# decode), then on whether you may **change the model**, then on the hardware.
#
# **Training** keeps, for every layer, what backward needs. Exact first: a fused attention kernel
# (SDPA, FlashAttention) keeps O(n) per layer instead of O(n²) (section 2: 0.5 MiB vs the n² arrays),
# and checkpointing or reversible layers cut the per-layer activations for one extra forward
# (section 7). Change the model only if the exact options do not fit, and then train *with* that
# attention from the start (LRA's lesson: a trained model adapts to its attention).
#
# **Prefill** (the prompt, all n tokens at once) is a forward pass: compute-bound, O(n²d) for exact
# attention. The exact kernels save memory, not FLOPs; only a model-changing method saves FLOPs — a
# window (Mistral, Gemma) or linear attention — and only with a kernel that skips the work (lesson 04).
#
# **Decode** (one token at a time) reads the whole KV cache per token and is memory-bound (lesson 03).
# What matters is the cache each method must keep: per layer and head, in fp16, after t = 32768 tokens:

# %%
t = 32768
print(f"{'method':30s} {'cache per layer·head':>21s} {'FLOPs per token':>16s}  how")
for m in METHODS:
    c = decode_cost(m, t, 64, 64)
    cache = "n/a" if c["cache_bytes"] is None else f"{c['cache_bytes'] / KIB:,.1f} KiB"
    flops = "n/a" if c["flops"] is None else f"{c['flops']:,}"
    print(f"{m.name:30s} {cache:>21s} {flops:>16s}  {c['note']}")

# %% [markdown]
# The exact methods all keep the full cache (FlashAttention helps the prefill, not the cache); a
# window keeps a rolling buffer (Mistral's 8× saving at 32k, lesson 04), linear attention and Performer
# a fixed state (lesson 06), quantization a quarter of the bytes at 4 bits (lesson 08). Linformer and
# the BigBird-style pattern have no causal decoding step at all.
#
# **Exact or model-changing?** Exact methods are drop-in replacements: swap the kernel, keep the
# weights. A model-changing method is a different architecture: it must be trained (or at least
# fine-tuned) with that attention, and it loses what the retrieval task showed. The simple rule
# `compare.cheapest_fitting` — *the method that fits the memory budget, is exact if asked, has the
# right causality, and computes the fewest FLOPs* — looks only at cost:

# %%
scenarios = [
    ("train a decoder, 32k tokens, exact, 1 GiB per layer", 32768, 1 * GIB, True, True),
    ("the same, may change the model", 32768, 1 * GIB, False, True),
    ("an encoder at 4k tokens, 64 MiB", 4096, 64 * MIB, False, False),
    ("exact, 128k tokens, 256 MiB", 131072, 256 * MIB, True, True),
]
for text, n_, budget, exact, causal in scenarios:
    pick = cheapest_fitting(n_, 64, budget, heads=8, exact=exact, causal=causal)
    print(f"{text:52s} → {pick}")

# %% [markdown]
# The rule picks linear attention whenever the model may change, because it is the cheapest in FLOPs —
# and section 6 showed it cannot retrieve a needle at all. A real decision weighs the retrieval column
# too (or a task-specific benchmark), which no byte count can replace.
#
# **CPU vs GPU.** Everything in this course ran on a CPU, where PyTorch's SDPA already has a fused
# FlashAttention-style kernel (`_scaled_dot_product_flash_attention_for_cpu`, lesson 05) and a method
# reaches a fraction of the machine's matmul rate that section 2 measured. On GPUs the same ideas are
# worth more, because on-chip memory is small and fast and HBM traffic is the bottleneck. Published GPU
# results (not measured here): FlashAttention 3× faster GPT-2 training at 1K and 10× / 20× less memory
# at 2K / 4K (Dao et al. 2022 and its README); FlashAttention-2 about 2× faster again, 50–73 % of an
# A100's peak (Dao 2023); FlashAttention-3 1.5–2.0× over FlashAttention-2 on H100, up to 740 TFLOP/s in
# FP16 (Shah et al. 2024); Mistral 7B's sliding window 2× faster than vanilla attention at 16K with
# W = 4096 (Jiang et al. 2023). On a GPU, reach for the fused exact kernel first; it is also the right
# default on a CPU.
#
# ## 10. Explore: which methods fit?
#
# Choose n, d, the number of heads and a memory budget for one layer's attention: the bars are each
# method's predicted memory (green: fits; ✓: exact), the line below names the method the decision rule
# picks, and the table gives the predicted memory, the GFLOP the implementation computes, the time
# those FLOPs take at this machine's matmul rate (a lower bound), the longest n that fits the budget,
# and — at the lengths measured in section 2 (2 heads, d = 64) — the measured time, memory and error.
# Things to try: n = 128k with 1 GiB, then tick "must be exact"; shrink the budget until no exact
# method fits; 16 heads instead of 2.

# %%
explorer = budget_explorer(result, n=1024, d=64, heads=2, budget_mib=16)
explorer

# %% [markdown]
# If the sliders do not show (a static view of this notebook), this is the starting view: n = 1024,
# 2 heads, d = 64, a budget of 16 MiB.

# %%
print(f"{len(explorer.fitting)} of {len(explorer.table)} fit; the rule picks {explorer.pick}")
print("too big:", [r["method"] for r in explorer.table if not r["fits"]])
fig, ax = plt.subplots(figsize=(7.2, 5.6), layout="constrained")
plot_budget(
    [r["method"] for r in explorer.table],
    [r["memory"] for r in explorer.table],
    16 * MIB,
    exact=np.array([r["exact"] for r in explorer.table]),
    ax=ax,
    xlim=(1e-3, 1e7),
    title="n = 1024, d = 64, 2 heads: predicted memory vs a 16 MiB budget",
)
plt.show()

# %% [markdown]
# ## 11. Exercises
#
# ### Exercise 1: the Pareto front
#
# Write `my_front(points)`: `points` is a list of rows, every column an objective to minimise (memory,
# error, time). Return the indices (in any order) of the points that no other point **dominates**: a
# dominates b if a is no worse in every column and strictly better in at least one. Two equal points do
# not dominate each other.


# %%
def my_front(points):
    raise NotImplementedError  # your code here


passed = check_pareto_front(my_front)

# %% [markdown]
# ### Exercise 2 (not on the page): the longest sequence a budget allows
#
# Write `my_longest(memory, budget, *, n_max)`: `memory(n)` gives the bytes a method needs at length n
# and never decreases with n. Return the largest n in [1, n_max] with `memory(n) <= budget`, or 0 if
# not even n = 1 fits. One case has a budget of 1 TiB for a method linear in n: about 10⁹ lengths
# fit, and the check gives each case a few seconds. Hints: what does a doubling n tell you as soon as
# memory(n) stops fitting? Between a length that fits and one that does not, where must the answer
# be, and how fast can you halve that interval?


# %%
def my_longest(memory, budget, *, n_max):
    raise NotImplementedError  # your code here


passed = check_longest_n(my_longest)

# %% [markdown]
# ### Exercise 3 (needs reasoning): a decision rule
#
# Write `my_pick(n, d, budget, *, heads, exact, causal)` returning the name of the method of the table
# that (1) fits `budget` bytes by its predicted memory, (2) is exact if `exact` is True, (3) is causal
# exactly when `causal` is True (a decoder cannot use a bidirectional method, and an encoder would lose
# half its keys with a causal one), and (4) among those computes the fewest FLOPs; None if no method
# qualifies. Hints: `fit_table(n, d, budget, heads=heads)` gives one row per method with `fits`,
# `exact`, `causal` and `flops_done` (what the implementation computes, not what the model must). Then
# ask yourself what this rule leaves out (section 6).


# %%
def my_pick(n, d, budget, *, heads, exact, causal):
    raise NotImplementedError  # your code here


passed = check_pick_method(my_pick)

# %% [markdown]
# ## Summary
#
# - Efficient attention is **two families**. Exact methods (fused SDPA, FlashAttention-style tiling,
#   chunked and ring attention, checkpointing, reversible layers) match softmax attention to rounding
#   (< 1e-6 in float32 here) and save memory; model-changing methods (windows, sparse patterns,
#   chunks, linear attention, Performer, Linformer, compressed or quantized K/V) differ by the size of
#   the outputs (> 0.01 here) and save FLOPs.
# - Measured side by side, SDPA's fused kernel keeps the least memory of all for backward, O(n); the
#   n² methods are the dense references and dense masks. Memory models that match the measurements
#   byte for byte answer for lengths nothing could measure: at 128k tokens only the O(n) methods fit a
#   GiB.
# - The **Pareto front** (memory, error, time) names the methods worth considering; the error axis
#   measures how different a model is, and lesson 09's retrieval task what it loses: windows and
#   chunks cannot see far, linear attention cannot single a key out, Linformer and compressed K/V
#   blur it; quantized K/V and every exact method keep it.
# - The reference table is now filled with your machine's numbers; Long Range Arena's published TPU
#   figures agree on speed and memory, and show that trained models hide much of the quality loss.
# - **Decision guide**: training → exact fused kernel plus checkpointing first; prefill → compute-bound,
#   only model-changing methods with real sparse kernels cut FLOPs; decode → the cache decides (window,
#   linear state, quantization); change the model only when the exact options do not fit, and judge
#   the change on a task, not on a byte count.
