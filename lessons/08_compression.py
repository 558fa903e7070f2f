# %% [markdown]
# # 08 · Memory compression: fewer bits, or fewer vectors
#
# **What you will learn**
# - the two ideas the source article files under "memory compression", and why they are different:
#   **quantization** stores every number in fewer bits; **memory-compressed attention** (Liu et al. 2018)
#   keeps fewer key/value vectors;
# - absmax (symmetric) and zero-point (asymmetric) quantization by hand, and the bound every scheme
#   keeps: the round-trip error of one number is at most half a step;
# - granularity (per tensor, per channel, per token), why **outlier channels** ruin a shared scale, and
#   the LLM.int8() decomposition that multiplies them in 16-bit floats and everything else in int8;
# - why weight-only quantization speeds up *decoding* (it reads fewer bytes per token) and what a CPU
#   without a fused kernel really shows;
# - KV-cache quantization (KIVI: keys per channel, values per token) and what it saves at 32k tokens;
# - memory-compressed attention: its cost, its error, and the causal subtlety of averaged slots;
# - what neither idea does: the n² of attention stays.
#
# **Prerequisites:** lesson 00 (KV-cache bytes), lesson 01 (attention), lesson 03 (decoding reads every
# weight once per token: it is memory-bound).
#
# **Runtime:** about 4 s on a quiet 2-core CPU, up to 23 s on a busy one (`make report`). No GPU, no
# downloads.

# %%
# %matplotlib inline
import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib import pyplot as plt
from tutor_lib.attention import attention
from tutor_lib.costs import GIB, MIB, MISTRAL_7B_LIKE, kv_cache_bytes, score_matrix_bytes, weight_bytes
from tutor_lib.exercises import check_compressed_causal_mask, check_llm_int8_matmul, check_quantize
from tutor_lib.measure import matvec_bandwidth, time_call
from tutor_lib.plots import plot_error_curves, plot_grid, plot_memory_bars, plot_scheme_errors
from tutor_lib.quant import (
    SCHEMES,
    compress_kv,
    dequantize,
    fake_quantize,
    int8_matmul,
    kv_cache_quant_bytes,
    llm_int8_matmul,
    outlier_activations,
    outlier_columns,
    quantize,
    quantize_kv,
    quantized_matmul,
    relative_error,
    weight_only_matvec,
)
from tutor_lib.widgets import quantization_explorer

rng = np.random.default_rng(0)
torch.manual_seed(0)
np.set_printoptions(precision=4, suppress=True, linewidth=110)

# %% [markdown]
# ## 1. Two different things called "memory compression"
#
# > **Myth:** "Memory compression means quantization (or sparsification) of the attention memory."
# > **Fact:** these are two different ideas. *Memory-compressed attention* (Liu et al. 2018, the paper
# > that coined the name) shortens the keys and values along the sequence with a strided convolution
# > (kernel 3, stride 3): **fewer vectors**, each still in full precision. *Quantization* (LLM.int8(),
# > KIVI, KVQuant) keeps every vector and stores each number in **fewer bits**. Both can cut a KV cache
# > by 4×, but they change different axes of the tensor, and they fail in different ways.
#
# The same keys, n = 1024 tokens × 64 channels in 16-bit floats, compressed 4× both ways:

# %%
n, d = 1024, 64
k = rng.standard_normal((n, d))
v = rng.standard_normal((n, d))
q4, scale4, zero4 = quantize(k, 4, axis=1)  # every number in 4 bits, one scale per channel
k_short, v_short = compress_kv(k, v, stride=4)  # the mean of every 4 consecutive keys
print(f"original     : shape {k.shape}, {n * d * 2 / 1024:.0f} KiB at 16 bits")
print(f"quantized    : shape {q4.shape}, {n * d * 4 / 8 / 1024:.0f} KiB at 4 bits (+ {scale4.size} scales)")
print(f"fewer vectors: shape {k_short.shape}, {k_short.size * 2 / 1024:.0f} KiB at 16 bits")

# %% [markdown]
# Quantization keeps the shape and rounds every entry; compression keeps the precision and removes rows.
# Sections 2–8 are about bits, section 9 about vectors.
#
# ## 2. Absmax quantization by hand
#
# A b-bit **symmetric** (absmax) quantizer maps the largest magnitude onto the largest integer and rounds
# everything else to the nearest of the 2^b − 1 levels in between:
#
# $$s = \frac{\max_i |x_i|}{2^{b-1} - 1}, \qquad q_i = \operatorname{round}\!\left(\frac{x_i}{s}\right)
# \in [-(2^{b-1}-1),\ 2^{b-1}-1], \qquad \hat x_i = s\, q_i .$$
#
# For b = 8 that is the integers −127 … 127 (int8's −128 is left unused, so the grid is symmetric). We
# store q (1 byte each) and one float s. Rounding moves each number by at most half a step:
# |x − x̂| ≤ s/2.

# %%
x = np.array([0.9, -2.5, 0.1, 1.7, -0.4, 3.2])
bits = 4
q_max = 2 ** (bits - 1) - 1  # 7 levels each side of 0
s = np.abs(x).max() / q_max  # s = max|x| / (2^(b-1) - 1)
q = np.clip(np.rint(x / s), -q_max, q_max)  # q = round(x / s)
x_hat = s * q  # x̂ = s · q
print("q     :", q.astype(int))
print("x_hat :", x_hat.round(3))
print(f"step s = {s:.4f}; largest error {np.abs(x - x_hat).max():.4f} <= s/2 = {s / 2:.4f}")
q_lib, s_lib, zero_lib = quantize(x, bits)
print("same as tutor_lib.quant.quantize:", np.array_equal(q_lib, q) and np.isclose(s_lib.item(), s))

# %% [markdown]
# ## 3. Zero-point (asymmetric) quantization
#
# Symmetric grids waste half their levels on data that is one-sided (after a ReLU, or attention weights).
# A **zero-point** quantizer maps [min x, max x] onto all 2^b levels 0 … 2^b − 1 and remembers which
# integer stands for 0:
#
# $$s = \frac{\max x - \min x}{2^b - 1}, \qquad z = \operatorname{round}\!\left(-\frac{\min x}{s}\right),
# \qquad q_i = \operatorname{round}\!\left(\frac{x_i}{s}\right) + z, \qquad \hat x_i = s\,(q_i - z).$$
#
# z is an integer, so x = 0 is represented exactly (q = z), and the bound is the same half step.

# %%
gelu_out = np.array([-0.5, 0.0, 0.3, 1.2, 2.9, 0.7, -0.2, 1.9])  # mostly positive (a GELU output)
bits = 4
lo, hi = gelu_out.min(), gelu_out.max()
s = (hi - lo) / (2**bits - 1)  # s = (max - min) / (2^b - 1)
z = np.rint(-lo / s)  # the integer that stands for 0
q = np.clip(np.rint(gelu_out / s) + z, 0, 2**bits - 1)  # q = round(x / s) + z
print("q (0..15):", q.astype(int), f"| z = {int(z)} | s = {s:.4f}")
q_lib, s_lib, z_lib = quantize(gelu_out, bits, symmetric=False)
print(
    "same as quantize(symmetric=False):",
    np.array_equal(q_lib, q),
    "| round trip == s·(q - z):",
    np.allclose(dequantize(q_lib, s_lib, z_lib), s * (q - z)),
)

# %% [markdown]
# Every extra bit halves the step, so the error falls about 2× per bit. On one-sided data (here |x| for
# a standard normal x) the symmetric grid wastes its negative half, and the zero-point grid at b bits
# does exactly as well as the symmetric one at b + 1 bits:

# %%
gauss = rng.standard_normal(20_000)
one_sided = np.abs(gauss)
bit_range = np.arange(2, 9)
curves = {
    "symmetric, gaussian": [relative_error(fake_quantize(gauss, b), gauss) for b in bit_range],
    "symmetric, one-sided": [relative_error(fake_quantize(one_sided, b), one_sided) for b in bit_range],
    "zero-point, one-sided": [
        relative_error(fake_quantize(one_sided, b, symmetric=False), one_sided) for b in bit_range
    ],
}
for name, errs in curves.items():
    print(f"{name:22s}", " ".join(f"{e:.4f}" for e in errs), f"| ratio per bit ≈ {errs[3] / errs[4]:.1f}")
fig, ax = plt.subplots(figsize=(5.0, 3.2), layout="constrained")
for name, errs in curves.items():
    ax.plot(bit_range, errs, marker="o", label=name)
ax.set(yscale="log", xlabel="bits", ylabel="relative error ‖x − x̂‖ / ‖x‖", title="error vs bits")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 4. Granularity: which numbers share a scale
#
# One scale for a whole tensor is cheap to store but lets the largest entry set the step for everyone.
# The fix is more scales: `quantize(x, bits, axis=...)` gives **each entry of `axis` its own scale**,
# computed over the other axes. For activations x of shape (tokens, channels):
#
# | `axis` | name | scales | each scale is the max over |
# |---|---|---|---|
# | `None` | per tensor | 1 | everything |
# | `0` | per token (a row of x) | n | that token's channels |
# | `1` | per channel (a column of x) | d | that channel's tokens |
#
# Large language models have **outlier features**: a few channels are large for *every* token
# (Dettmers et al. 2022 find them in all layers of models from 6.7B parameters on, with magnitudes up
# to 20 times the others). `outlier_activations` makes such data: standard normal entries plus
# ±magnitude in a few whole channels.

# %%
x = outlier_activations(64, 256, 60.0, channels=1, seed=0)  # (tokens, channels), one outlier channel
print("outlier channel(s):", outlier_columns(x), "| typical |x|:", round(float(np.median(np.abs(x))), 2))
for name, axis in [("per tensor", None), ("per token", 0), ("per channel", 1)]:
    _, scale, _ = quantize(x, 8, axis=axis)
    err = relative_error(fake_quantize(x, 8, axis=axis), x)
    ordinary = np.delete(np.arange(256), outlier_columns(x))
    err_ordinary = relative_error(fake_quantize(x, 8, axis=axis)[:, ordinary], x[:, ordinary])
    print(
        f"{name:11s}: {scale.size:3d} scale(s), median step {np.median(scale):.4f} | error {err:.4f}, "
        f"on the ordinary channels {err_ordinary:.4f}"
    )

# %% [markdown]
# Per tensor and per token, the outlier sets the step (60/127 ≈ 0.5) for the ordinary channels too, whose
# values are mostly below 1: they land on a handful of levels. Per channel, every ordinary channel gets
# a step about 20× finer.
#
# ### Exercise 1: absmax quantization with a granularity
#
# Write `my_quantize(x, bits, axis=None)` returning `(q, scale, zero_point)` for the **symmetric**
# quantizer of section 2, where `axis` (None, an int or a tuple of ints) names the axes that keep their
# own scale. Hints: the max must run over every axis that is *not* kept, with `keepdims=True` so that
# `x / scale` broadcasts; give an all-zero slice the scale 1; `q` must be integers (`np.int8`), and the
# zero point of a symmetric scheme is 0.


# %%
def my_quantize(x, bits, axis=None):
    raise NotImplementedError  # your code here


passed = check_quantize(my_quantize)

# %% [markdown]
# ## 5. Outliers in a matrix product: LLM.int8()
#
# Quantization is worth the trouble in the big matrix products y = x W (x: tokens × d_in, W: d_in ×
# d_out). With an integer q for each number, the product becomes an **integer** matmul followed by one
# rescale, but only if the scales can be pulled out of the sum over k:
#
# $$y_{ij} = \sum_k x_{ik} w_{kj} \approx \sum_k (s_i q_{ik})(t_j r_{kj}) = s_i t_j \sum_k q_{ik} r_{kj}.$$
#
# A scale per **row of x** (s_i, per token) and per **column of W** (t_j) factor out: this is
# LLM.int8()'s *vector-wise* quantization. A scale per **column of x** (per channel, k) would sit inside
# the sum: no integer kernel can use it. So the granularity that handles outlier *channels* best is the
# one the matmul cannot use.
#
# The integer part accumulates in int32 (an int8 × int8 product is at most 2¹⁴; int8 sums would wrap
# around). It is exact, which we check against Python's unbounded integers:

# %%
x_q, s_x, _ = quantize(x, 8, axis=0)  # (64, 256) int8, s_x (64, 1): one scale per token
w = rng.standard_normal((256, 96)) / 16
w_q, s_w, _ = quantize(w, 8, axis=1)  # (256, 96) int8, s_w (1, 96): one scale per output column
acc = int8_matmul(x_q, w_q)  # (64, 96) int32
exact = [
    [sum(int(a) * int(b) for a, b in zip(x_q[i], w_q[:, j], strict=True)) for j in range(3)] for i in range(3)
]
print("int32 accumulation is exact:", np.array_equal(acc[:3, :3], np.array(exact)), "| dtype", acc.dtype)
y_vectorwise = s_x * s_w * acc  # y ≈ (s_x s_wᵀ) ∘ (X_q W_q)
y = x @ w
print(f"vector-wise int8 relative error: {relative_error(y_vectorwise, y):.4f}")

# %% [markdown]
# The outlier channel still hurts: it makes every token's scale s_i large. LLM.int8()'s answer is a
# **mixed-precision decomposition**: the feature columns of x that hold any |x| ≥ 6 (the paper's
# threshold) and the matching rows of W are multiplied in 16-bit floats; all other columns in
# vector-wise int8:
#
# $$x W \approx \underbrace{x_{:,O}\, W_{O,:}}_{\text{float, few columns}} + \underbrace{(s\, t^\top) \circ
# (Q_{:,\bar O}\, R_{\bar O,:})}_{\text{int8, the rest}}, \qquad O = \{k : \max_i |x_{ik}| \ge 6\}.$$
#
# (Here the float part is float64 instead of fp16; the point is that it is not rounded to 8 bits.)

# %%
errors = {scheme: relative_error(quantized_matmul(x, w, scheme=scheme), y) for scheme in SCHEMES}
for scheme, err in errors.items():
    print(f"{scheme:9s}: relative error {err:.4f}")
print(f"LLM.int8 vs plain vector-wise int8: {errors['token'] / errors['llm.int8']:.0f}x smaller error")
print(
    "llm_int8_matmul(x, w) is the 'llm.int8' scheme:",
    np.allclose(llm_int8_matmul(x, w), quantized_matmul(x, w, scheme="llm.int8")),
)
share = 1 - len(outlier_columns(x)) / x.shape[1]
print(f"multiply-adds done in int8: {share:.1%} (the paper: more than 99.9% in large models)")

# %% [markdown]
# ("channel" is the per-channel scale of x, computed in float to show what it *would* cost; "tensor" is
# one scale for x and one for W.) Sweeping the outlier magnitude shows the story: without outliers all
# integer schemes are alike; as the outlier grows, per tensor and per token degrade, and the
# decomposition gets *better*, because the outlier leaves the int8 part entirely.

# %%
magnitudes = [0, 3, 6, 10, 20, 40, 60, 100]
sweep_errors = {scheme: [] for scheme in SCHEMES}
for m in magnitudes:
    xm = outlier_activations(64, 256, float(m), channels=1, seed=0)
    ym = xm @ w
    for scheme in SCHEMES:
        sweep_errors[scheme].append(relative_error(quantized_matmul(xm, w, scheme=scheme), ym))
for scheme in SCHEMES:
    print(f"{scheme:9s}", " ".join(f"{e:.4f}" for e in sweep_errors[scheme]))
fig, ax = plt.subplots(figsize=(5.4, 3.3), layout="constrained")
plot_error_curves(magnitudes, sweep_errors, ax=ax, title="int8 y = xW with one outlier channel")
ax.axvline(6, color="grey", linestyle=":", linewidth=1)
ax.text(7, max(sweep_errors["tensor"]), "threshold 6", fontsize=8, va="top")
ax.legend(fontsize=8, loc="lower left")
plt.show()

# %% [markdown]
# ### Exercise 2: the LLM.int8() decomposition
#
# Write `my_llm_int8_matmul(x, w, threshold)` ≈ x @ w as above. You may use `quantize`, `int8_matmul`
# and `outlier_columns` from `tutor_lib.quant`. Hints: split the column indices of x into outliers and
# the rest (`np.setdiff1d`); the outlier part is a plain float product; quantize `x[:, rest]` per token
# and `w[rest]` per output column, multiply the integers, and rescale by the outer product of the two
# scales.


# %%
def my_llm_int8_matmul(x, w, threshold):
    raise NotImplementedError  # your code here


passed = check_llm_int8_matmul(my_llm_int8_matmul)

# %% [markdown]
# ## 6. Explore: bits, scheme and outliers
#
# The explorer quantizes 64 tokens × 64 channels with one outlier channel. Left: the values of the
# ordinary channels, with the grid that rounds one of their entries (x[0, c]) under the chosen scheme;
# right: the error of y = xW for all four schemes at these bits; below: the bytes of x stored that way.
# Things to try: per tensor at 8 bits, then raise the outlier size (the grid spreads out); switch to
# LLM.int8 (the grid snaps back); go down to 4 and 2 bits; set the outlier size below 6.

# %%
explorer = quantization_explorer(bits=8, scheme="tensor", magnitude=40.0)
explorer

# %% [markdown]
# Where the sliders do not run (a static view of this notebook), this is its starting view:

# %%
fig, (ax_grid, ax_err) = plt.subplots(
    1, 2, figsize=(9.6, 3.2), layout="constrained", gridspec_kw={"width_ratios": [3, 2]}
)
plot_grid(
    np.delete(explorer.x, explorer.outliers, axis=1),
    explorer.levels,
    ax=ax_grid,
    span=4.5,
    title=f"per tensor, 8 bits: step {explorer.step:.3f} for the ordinary values",
)
plot_scheme_errors(explorer.errors, highlight="tensor", ax=ax_err, title="8 bits: error of y = xW")
plt.show()
print(f"x in {explorer.bytes['total']:,} bytes vs {2 * 64 * 64:,} in fp16")

# %% [markdown]
# ## 7. Weight-only quantization: why it speeds up decoding
#
# Lesson 03 measured that generating one token is **memory-bound**: a decode step multiplies a single
# token's vector by every weight matrix, so it reads every weight once and does only 2 FLOPs per weight
# read. Its time is roughly bytes read ÷ memory bandwidth. Store the weights in b bits instead of 16 and
# the bytes per step fall by 16/b, whatever happens to the activations (which stay in float: *weight-only*
# quantization). For the Mistral-7B-like shape:

# %%
bf16 = weight_bytes(MISTRAL_7B_LIKE, 2)
for name, bits in [("bf16", 16), ("int8", 8), ("int4", 4)]:
    step = weight_bytes(MISTRAL_7B_LIKE, bits / 8)
    print(f"{name}: {step / GIB:5.2f} GiB read per token | bf16 / this = {bf16 / step:.0f} = 16/bits")

# %% [markdown]
# Divided by this machine's bandwidth (measured on a large matrix-vector product, as in lesson 03), that
# is an upper bound on tokens per second, whatever the FLOPs:

# %%
# NBVAL_IGNORE_OUTPUT
bandwidth = matvec_bandwidth()  # bytes/s this CPU streams through a matrix-vector product
print(f"this CPU's matrix-vector bandwidth: {bandwidth / 1e9:.1f} GB/s")
for name, bits in [("bf16", 16), ("int8", 8), ("int4", 4)]:
    print(f"{name}: at most {bandwidth / weight_bytes(MISTRAL_7B_LIKE, bits / 8):5.2f} tokens/s here")

# %% [markdown]
# Fewer bytes only help if the kernel really reads the int8 matrix and nothing bigger. We time a
# decode-shaped product, a vector through a stack of 3 layers of 4096 × 4096 weights (fp32: 192 MiB, int8:
# 48 MiB, both larger than this CPU's 32 MiB last-level cache, as a real model's weights are), three ways,
# on one thread:
#
# - **fp32**: `torch.mv`, reads 4 bytes per weight;
# - **int8, dequantize first**: `(w_q.float() * scale) @ x`, the obvious code. It reads 1 byte per
#   weight but then *writes and reads* a full fp32 copy: more traffic than fp32 itself;
# - **int8, dequantize on the fly**: `weight_only_matvec` converts 256 rows at a time, so the float copy
#   of a block stays in cache and main memory only sees the int8 matrix (the idea of tiling, lesson 05).

# %%
d_w, layers = 4096, 3
w32 = [torch.randn(d_w, d_w) for _ in range(layers)]
scales = [w.abs().amax(dim=1) / 127 for w in w32]  # per output row (absmax)
w8 = [torch.round(w / s[:, None]).to(torch.int8) for w, s in zip(w32, scales, strict=True)]
vec = torch.randn(d_w)
y_ref = torch.cat([torch.mv(w, vec) for w in w32])
y_int8 = torch.cat([weight_only_matvec(q, s, vec) for q, s in zip(w8, scales, strict=True)])
print(f"bytes per step: fp32 {4 * layers * d_w * d_w / MIB:.0f} MiB, int8 {layers * d_w * d_w / MIB:.0f} MiB")
print(f"int8 weight-only relative error: {relative_error(y_int8.numpy(), y_ref.numpy()):.4f}")


def fp32_step():
    return [torch.mv(w, vec) for w in w32]


def dequantize_first_step():
    return [torch.mv(q.float() * s[:, None], vec) for q, s in zip(w8, scales, strict=True)]


def on_the_fly_step():
    return [weight_only_matvec(q, s, vec) for q, s in zip(w8, scales, strict=True)]


# %%
# NBVAL_IGNORE_OUTPUT
threads = torch.get_num_threads()
torch.set_num_threads(1)  # one thread: fair on a shared CPU
try:
    times = {
        "fp32": time_call(fp32_step, repeat=7, reduce="min", timer=time.thread_time),
        "int8, dequantize first": time_call(dequantize_first_step, repeat=1, timer=time.thread_time),
        "int8, on the fly": time_call(on_the_fly_step, repeat=7, reduce="min", timer=time.thread_time),
    }
finally:
    torch.set_num_threads(threads)
for name, seconds in times.items():
    print(f"{name:24s}: {seconds * 1e3:7.1f} ms per step | {times['fp32'] / seconds:4.2f}x the speed of fp32")

# %% [markdown]
# The clock is `time.thread_time`, the CPU time of the one thread doing the work: it leaves out the
# moments when other programs had the core, so the comparison holds on a busy machine too (memory stalls
# still count, as they should). What this CPU shows (the printout is this run's): dequantizing the whole
# matrix first is many times *slower* than fp32, and the on-the-fly version is faster than fp32, but far
# from the 4× the bytes allow: 1.1–1.5× in the runs made while this lesson was written. Each block is
# converted by a separate PyTorch call that writes a float copy and reads it back, which costs almost as
# much as the bytes it saves. A **fused** kernel converts inside the multiply-add loop and never writes
# the copy: `torch.compile` generates one from the same arithmetic, `(w_q.float() * x).sum(1) * scale`,
# and it reached about 3× fp32 in `make bench` (`bench/bench_quant.py`; compiling takes tens of seconds
# on 2 cores, too long for this notebook).
#
# Production inference uses such fused kernels (llama.cpp's quantized CPU kernels, bitsandbytes and
# torchao on GPUs) and gets close to the byte ratio. In PyTorch itself:
#
# - `torch.ao.quantization` (`quantize_dynamic` and friends) still runs in torch 2.13, but it is
#   **deprecated**: its own warning says so, and points to torchao. We do not build on it.
# - `torch._int_mm` (int8 × int8 → int32) works on CPU and is exact, but the leading underscore marks a
#   private API that may change without notice; this course uses public APIs only, and does its integer
#   matmuls in numpy (`int8_matmul`), where exactness is easy to see.

# %%
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import torch.ao.quantization as tq

    tq.quantize_dynamic(torch.nn.Sequential(torch.nn.Linear(8, 8)), {torch.nn.Linear}, dtype=torch.qint8)
deprecations = [str(w.message).splitlines()[0] for w in caught if w.category is DeprecationWarning]
print(deprecations[0])

# %% [markdown]
# ## 8. KV-cache quantization: keys per channel, values per token
#
# At long context the KV cache, not the weights, fills the memory (lesson 00). Quantizing it is the same
# idea with a different granularity. KIVI (Liu et al. 2024) observed that **keys** have outlier
# *channels* (like the activations above) while **values** do not, and quantizes keys per channel and
# values per token, 2 bits, with a zero point and one scale per group of 32–128 numbers (keeping the
# most recent tokens in full precision, which we leave out). `quantize_kv(k, v, bits, group=128)` does
# that for k (…, n, d_k) and v (…, n, d_v): keys get a scale per channel for every 128 tokens.
#
# Keys with three outlier channels, 8 heads × 512 tokens × 64 channels:

# %%
heads, n_ctx, d_h = 8, 512, 64
k = rng.standard_normal((heads, n_ctx, d_h))
k[..., [3, 17, 40]] += np.array([15.0, -12.0, 20.0])  # large in the same channels for every token
v = rng.standard_normal((heads, n_ctx, d_h))
qry = rng.standard_normal((heads, 16, d_h))
out = attention(qry, k, v)
for bits in (8, 4, 2):
    (k_parts, v_parts) = quantize_kv(k, v, bits, group=128)
    k_chan, v_tok = dequantize(*k_parts), dequantize(*v_parts)
    k_tok = fake_quantize(k, bits, axis=(0, 1), symmetric=False)  # keys per token instead
    print(
        f"{bits} bits | key error: per channel {relative_error(k_chan, k):.3f}, per token "
        f"{relative_error(k_tok, k):.3f} | attention output error: KIVI "
        f"{relative_error(attention(qry, k_chan, v_tok), out):.3f}, keys per token "
        f"{relative_error(attention(qry, k_tok, v_tok), out):.3f}"
    )

# %% [markdown]
# Per-channel keys win at every bit width, in the keys and in the attention output. At 2 bits both are
# poor on this synthetic data; KIVI also keeps the most recent tokens in full precision, which we left
# out.
#
# Now the memory. `kv_cache_quant_bytes` counts the payload (2·L·n_kv·d_h·tokens·bits/8, lesson 00's
# formula at fewer bits) plus one 16-bit scale and zero point per group of 128 numbers, as
# `quantize_kv(..., group=128)` keeps them (keys: 128 tokens of one channel; values: the 128 channels of
# one token and head). The Mistral-7B-like shape (32 layers,
# 8 KV heads of 128) at 32k tokens:

# %%
context = 32_768
fp16 = kv_cache_bytes(MISTRAL_7B_LIKE, context)
sizes = {"fp16": fp16}
print(f"fp16 : {fp16 / GIB:.3f} GiB ({fp16 // context // 1024} KiB per token)")
for bits in (8, 4, 2):
    b = kv_cache_quant_bytes(MISTRAL_7B_LIKE, context, bits, group=128)
    sizes[f"{bits}-bit"] = b["total"]
    saved = (fp16 - b["total"]) / GIB
    print(
        f"{bits}-bit: {b['total'] / GIB:.3f} GiB = {b['payload'] / GIB:.3f} payload + "
        f"{b['scales'] / GIB:.3f} scales | saves {saved:.3f} GiB, {fp16 / b['total']:.2f}x smaller"
    )
fig, ax = plt.subplots(figsize=(5.4, 2.4), layout="constrained")
plot_memory_bars(sizes, ax=ax, title="Mistral-7B-like KV cache at 32k tokens, batch 1")
plt.show()

# %% [markdown]
# 2-bit keys and values bring the 4 GiB cache to about 0.56 GiB: about 3.4 GiB saved per sequence, which
# on a fixed memory budget means a larger batch or a longer context. KIVI reports 2.6× less peak memory
# (weights included) and 2.35–3.47× more throughput from larger batches on GPUs (published GPU results,
# not measured here); KVQuant pushes 3-bit keys far enough to fit 1M tokens of LLaMA-7B on one 80 GB GPU.
#
# ## 9. Memory-compressed attention: fewer vectors
#
# Liu et al. (2018) shortened K and V along the sequence with a strided convolution (kernel 3, stride 3),
# then let every query attend to the m = ⌈n/stride⌉ compressed slots. `compress_kv(k, v, stride)` uses
# the simplest such convolution, the mean of every `stride` consecutive tokens (a learned convolution
# would weight them). The score matrix shrinks from n × n to n × m, and the score FLOPs from 4n²d to
# 4nmd (QKᵀ and PV, each 2nmd: lesson 01 counted this formula with PyTorch's FLOP counter):

# %%
n, d = 1024, 64
q_t, k_t, v_t = (torch.randn(1, n, d, dtype=torch.float64) for _ in range(3))
full = F.scaled_dot_product_attention(q_t, k_t, v_t)
print(f"{'stride':>6} | {'scores':>12} | {'MFLOPs 4·n·m·d':>14} | error vs full attention")
for stride in (1, 2, 4, 8, 32):
    k_c, v_c = (torch.from_numpy(t) for t in compress_kv(k_t.numpy(), v_t.numpy(), stride))
    scores = q_t @ k_c.transpose(-1, -2)  # (1, n, m): the score matrix, measured
    m = scores.shape[-1]
    err = relative_error(F.scaled_dot_product_attention(q_t, k_c, v_c).numpy(), full.numpy())
    print(f"{stride:>6} | {str(tuple(scores.shape[1:])):>12} | {4 * n * m * d / 1e6:14.1f} | {err:.3f}")

# %% [markdown]
# FLOPs fall by the stride, but the output is a **different model**: each slot is a blur of `stride`
# tokens, and a query can no longer single one of them out (random data is the worst case; a trained
# model learns what to keep). Its cost is still O(n²·d / stride): quadratic in n, with a smaller constant.
# Liu et al. used it next to local attention, and only in a decoder language model.
#
# In a decoder there is a catch: slot j averages tokens j·stride, …, and a causal query must not read the
# future, not even through an average.
#
# ### Exercise 3: which slots may a causal query read? (design)
#
# Write `my_compressed_causal_mask(n, stride)` returning a boolean (n, ⌈n/stride⌉) mask whose entry
# [i, j] says whether query i may read compressed slot j without seeing any token after i. The answer is
# not on this page. Hints: write down which tokens slot j averages, including the last, shorter slot
# when `stride` does not divide n; ask which of them must be ≤ i; with `stride = 1` your mask must be
# the ordinary causal mask. What happens to the first queries?


# %%
def my_compressed_causal_mask(n, stride):
    raise NotImplementedError  # your code here


passed = check_compressed_causal_mask(my_compressed_causal_mask)

# %% [markdown]
# ## 10. What neither idea fixes
#
# > **Myth:** "Quantization fixes attention's O(n²) cost."
# > **Fact:** it divides the bytes of each number by 16/bits, a constant factor. The number of scores is
# > still n² per head and layer, and computing them is still O(n²·d): an 8-bit score matrix is half the
# > size of a 16-bit one at every n, and it still grows 4× each time n doubles.

# %%
print(f"{'n':>6} | {'scores, 16-bit':>14} | {'scores, 8-bit':>13} | ratio | growth since n/2")
previous = None
for n in (4096, 8192, 16384, 32768):
    b16, b8 = score_matrix_bytes(n, 32, 2), score_matrix_bytes(n, 32, 1)
    growth = "" if previous is None else f"{b8 / previous:.0f}x"
    print(f"{n:>6} | {b16 / GIB:10.1f} GiB | {b8 / GIB:9.1f} GiB | {b16 / b8:5.1f} | {growth}")
    previous = b8

# %% [markdown]
# (32 heads, one layer, no fused kernel.) Memory-compressed attention divides the n² by the stride, and
# is still quadratic. What removes the n × n matrix is a different idea: exact tiling with online softmax
# (lesson 05), restricted patterns (lesson 04) or a different model (lesson 06).
#
# ## Summary
#
# - "Memory compression" is two ideas: **quantization** (fewer bits per number: weights, activations, KV
#   cache) and **memory-compressed attention** (fewer key/value vectors: a strided average or convolution
#   along the sequence). Neither removes the n² of attention; both shrink constants.
# - Absmax: s = max|x| / (2^(b−1) − 1), q = round(x/s); zero-point: s = (max − min)/(2^b − 1),
#   z = round(−min/s). Every element is within s/2 of its original; each bit halves the error.
# - Granularity decides who shares a step. Outlier channels ruin per-tensor and per-token scales; per
#   channel would fix it but cannot be factored out of a matmul. LLM.int8() multiplies the few outlier
#   columns in 16-bit floats and the rest in vector-wise int8 with exact int32 accumulation: at a 60×
#   outlier its error here was about 14× smaller than plain vector-wise int8.
# - Weight-only quantization speeds up decoding because decoding is memory-bound: bytes per token fall by
#   16/bits. The speed-up needs a kernel that never materialises the float weights: dequantizing first
#   is slower than fp32 on this CPU, block by block gains a little, a fused kernel about 3×.
# - KV-cache quantization follows the data: keys per channel, values per token (KIVI). At 32k tokens the
#   Mistral-7B-like cache drops from 4 GiB to about 0.56 GiB at 2 bits, scales included.
# - `torch.ao.quantization` is deprecated; `torch._int_mm` is private. Explicit tensors (scale, round,
#   clamp, int32 accumulation) teach the same thing with public APIs.
# - Next, lesson 09 chunks the sequence itself, and shows what each way of getting long-range information
#   back costs.
