"""FlashAttention-style tiled attention in torch: forward, backward from the logsumexp, autograd.

The score matrix is cut into ``block_q × block_k`` tiles. For each query block, the forward pass
walks over the key blocks and updates the online-softmax state (running max m, normalizer ℓ, output
accumulator) of its queries, and keeps only the logsumexp
``L = m + log ℓ`` (one number per query) for the backward pass. The backward pass walks over the key
blocks again and **recomputes** each tile's probabilities from L, ``P = exp(S − L)``, instead of
reading a stored n×n matrix (Dao et al. 2022, arXiv 2205.14135, Algorithms 1–2; the rescaling is
done as in FlashAttention-2).

**How this maps onto a CPU.** A GPU runs the query blocks in parallel, one thread block each, every
one looping over the key blocks with its tiles in on-chip SRAM (FlashAttention-2's order). Here a
*wave* of consecutive query blocks goes through each step as one batched matrix product, the CPU
counterpart of those parallel thread blocks; a wave holds as many query blocks as keep its score
slab within :data:`SLAB_BYTES` per torch thread (the CPU's L2 cache stands in for SRAM), so small
problems run all query blocks at once. Different (batch, head) rows go to different cores: one
worker thread per torch thread, each running single-threaded ops, as SDPA's fused kernel splits its
work. The Python loop has (waves × key blocks) iterations, each a few large ``bmm`` calls and
in-place element-wise passes: no per-element Python. Memory: one score slab plus O(n) statistics,
never n_q × n_k. Under ``causal`` (bottom-right aligned, query i at position ``i + n_k − n_q``)
tiles entirely in the future are skipped and only the tiles that cross the diagonal are masked.
Exponentials are taken in base 2 (``e^x = 2^(x·log₂e)``, log₂e folded into the query scale), as
FlashAttention's kernels do: ``exp2`` is ~3× cheaper than ``exp`` in torch on a CPU.

Shapes: ``q (..., n_q, d_k)``, ``k (..., n_k, d_k)``, ``v (..., n_k, d_v)`` (leading dims
broadcast); ``logsumexp (..., n_q)``. float16/bfloat16 inputs are computed in float32 (as
FlashAttention accumulates in fp32) and the output is cast back.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import torch

from tutor_lib._validate import check_bool, check_int
from tutor_lib.costs import MIB
from tutor_lib.limits import guard_bytes
from tutor_lib.tiled.schedule import wave_steps
from tutor_lib.torch_ops import as_qkv_tensors, check_tensor, default_scale

__all__ = ["flash_attention", "flash_attention_backward"]


# Bytes of scores one step may hold per torch thread: a CPU core's L2 cache (1–2 MiB) plays the role
# of the GPU's on-chip SRAM. Query blocks are batched until their score slab reaches this size times
# the number of threads (each thread works on its share of the slab).
SLAB_BYTES = 2 * MIB
LOG2_E, LN_2 = 1 / math.log(2), math.log(2)


def _steps(n_q, n_k, batch, block_q, block_k, causal, itemsize):
    """The schedule (:func:`tutor_lib.tiled.schedule.wave_steps`) with waves of as many whole query
    blocks as keep their score slab (batch × rows × block_k) within SLAB_BYTES per torch thread."""
    per_row = batch * block_k * itemsize
    slab = SLAB_BYTES * torch.get_num_threads()
    rows = max(block_q, slab // per_row // block_q * block_q)
    return wave_steps(n_q, n_k, block_q, block_k, causal, rows)


def _scores(q_scaled, k_t, s0, w1, d1, k0, k1, offset):
    """S = (Q·scale) K_jᵀ for rows [s0, w1), -inf where a key is in a query's future."""
    s = torch.bmm(q_scaled[:, s0:w1], k_t[:, :, k0:k1])  # (B, rows, bk)
    if d1 > s0:  # tiles on the diagonal: mask the future (key j > i + offset)
        future = torch.arange(k0, k1)[None, :] > torch.arange(s0, d1)[:, None] + offset
        s[:, : d1 - s0].masked_fill_(future, -math.inf)
    return s


def _setup(q, k, v, block_q, block_k, causal, scale):
    q, k, v = as_qkv_tensors(q, k, v)
    block_q = check_int(block_q, "block_q", minimum=1)
    block_k = check_int(block_k, "block_k", minimum=1)
    causal = check_bool(causal, "causal")
    scale = default_scale(scale, q.shape[-1])
    n_q, n_k = q.shape[-2], k.shape[-2]
    block_q, block_k = min(block_q, n_q), min(block_k, n_k)
    batch = math.prod(q.shape[:-2])
    guard_bytes(  # two score slabs (S and dP in the backward pass), at least one tile each
        2 * max(SLAB_BYTES * torch.get_num_threads(), batch * block_q * block_k * 4),
        f"flash_attention(block_q={block_q}, block_k={block_k}, batch={batch})",
        hint="use smaller blocks",
    )
    return q, k, v, block_q, block_k, causal, scale


def _work_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


def _forward_tiles(q, k, v, block_q, block_k, causal, scale):
    """q (B, n_q, d_k), k (B, n_k, d_k), v (B, n_k, d_v) in the work dtype → (out, lse)."""
    (batch, n_q, _), n_k = q.shape, k.shape[1]
    # scores in base 2: s₂ = s·log₂e, so e^{s − m} = 2^{s₂ − m₂}; log₂e is folded into the query
    # scale once (exp2 is ~3× cheaper than exp in torch on a CPU; FlashAttention does the same)
    q_scaled = q * (scale * LOG2_E)  # (B, n_q, d_k)
    k_t = k.transpose(1, 2)  # (B, d_k, n_k)
    m = q.new_full((batch, n_q, 1), -math.inf)  # running max (base 2)         (B, n_q, 1)
    l = q.new_zeros((batch, n_q, 1))  # noqa: E741 - running normalizer ℓ       (B, n_q, 1)
    acc = q.new_zeros((batch, n_q, v.shape[2]))  # Σ e^{s − m} v                 (B, n_q, d_v)
    steps = _steps(n_q, n_k, batch, block_q, block_k, causal, q.element_size())
    for _, w1, s0, d1, k0, k1 in steps:
        s = _scores(q_scaled, k_t, s0, w1, d1, k0, k1, n_k - n_q)  # (B, rows, bk)
        m_r, l_r, acc_r = m[:, s0:w1], l[:, s0:w1], acc[:, s0:w1]  # views: updated in place
        # m' = max(m, rowmax(S)); a row that has seen no allowed key keeps -inf, shifted by 0
        m_new = torch.maximum(m_r, s.amax(dim=2, keepdim=True))
        shift = m_new.nan_to_num(neginf=0.0)
        # P~ = e^{S − m'} = 2^{S₂ − m₂'}  (in place: S becomes P~)
        p = torch.exp2(s.sub_(shift), out=s)
        # α = e^{m − m'} rescales the old sums to the new max
        alpha = torch.exp2(m_r - shift)
        # ℓ' = α·ℓ + rowsum(P~);  acc' = α·acc + P~ V_j
        l_r.mul_(alpha).add_(p.sum(dim=2, keepdim=True))
        acc_r.mul_(alpha).add_(torch.bmm(p, v[:, k0:k1]))
        m_r.copy_(m_new)
    seen = l > 0  # a query with no allowed key: output 0, logsumexp -inf
    out = acc.div_(torch.where(seen, l, torch.ones_like(l)))  # O = acc / ℓ
    # L = m + log ℓ, back in natural-log units
    lse = torch.where(seen, (m + torch.log2(l)) * LN_2, m.new_tensor(-math.inf))
    return out, lse.squeeze(2)


def _backward_tiles(q, k, v, out, lse, grad_out, grad_lse, block_q, block_k, causal, scale):
    """All (B, n, d) in the work dtype; lse, grad_lse (B, n_q) → (dq, dk, dv)."""
    (batch, n_q, _), n_k = q.shape, k.shape[1]
    q_scaled = q * (scale * LOG2_E)  # base-2 scores, as in the forward pass
    k_t, v_t = k.transpose(1, 2), v.transpose(1, 2)
    # D_i = rowsum(dO ∘ O) − dL_i, the softmax-Jacobian term of each row (FlashAttention eq. 4;
    # a gradient dL_i into the logsumexp adds dL_i·P_ij to dS_ij since ∂L_i/∂s_ij = P_ij)
    delta = (grad_out * out).sum(dim=2, keepdim=True)
    if grad_lse is not None:
        delta = delta - grad_lse.unsqueeze(2)
    # rows with no allowed key (L = -inf) must get P = 0: use L = +inf there
    lse = torch.where(torch.isfinite(lse), lse * LOG2_E, lse.new_tensor(math.inf)).unsqueeze(2)
    dq, dk, dv = torch.zeros_like(q), torch.zeros_like(k), torch.zeros_like(v)
    steps = _steps(n_q, n_k, batch, block_q, block_k, causal, q.element_size())
    for _, w1, s0, d1, k0, k1 in steps:
        s = _scores(q_scaled, k_t, s0, w1, d1, k0, k1, n_k - n_q)  # S, recomputed
        p = torch.exp2(s.sub_(lse[:, s0:w1]), out=s)  # P = e^{S − L}, recomputed from L
        d_out = grad_out[:, s0:w1]
        dv[:, k0:k1] += torch.bmm(p.transpose(1, 2), d_out)  # dV_j += Pᵀ dO
        dp = torch.bmm(d_out, v_t[:, :, k0:k1])  # dP = dO V_jᵀ                 (B, rows, bk)
        ds = dp.sub_(delta[:, s0:w1]).mul_(p)  # dS = P ∘ (dP − D)
        dq[:, s0:w1].add_(torch.bmm(ds, k[:, k0:k1]), alpha=scale)  # dQ += scale · dS K_j
        dk[:, k0:k1].add_(
            torch.bmm(ds.transpose(1, 2), q[:, s0:w1]), alpha=scale
        )  # dK_j += scale·dSᵀQ
    return dq, dk, dv


def _per_batch(kernel, tensors: list, *config) -> tuple:
    """Run ``kernel(*tensors, *config)`` on slices of the batch dim (dim 0), one worker per torch
    thread, each worker running single-threaded torch ops; concatenate the results.

    Batch rows (batch × heads) are independent, so this is how the CPU runs "the query blocks of
    different heads in parallel", as SDPA's fused kernel does: one join per call, instead of a
    fork/join inside every operator (which stalls whenever another program holds a core).
    A single batch row, or a single thread, runs directly with torch's own threads.
    """
    threads = torch.get_num_threads()
    batch = tensors[0].shape[0]
    workers = min(threads, batch)
    if workers <= 1:
        return kernel(*tensors, *config)
    bounds = [batch * i // workers for i in range(workers + 1)]
    slices = [slice(lo, hi) for lo, hi in zip(bounds, bounds[1:], strict=False)]

    def work(rows: slice):
        torch.set_num_threads(1)  # this worker thread's ops run on its own core
        with torch.no_grad():  # grad mode is per thread: the kernels never record a graph
            return kernel(*(None if t is None else t[rows] for t in tensors), *config)

    try:
        with ThreadPoolExecutor(workers) as pool:
            parts = list(pool.map(work, slices))
    finally:
        torch.set_num_threads(threads)  # the math libraries' thread count is process-wide
    return tuple(torch.cat(chunks) for chunks in zip(*parts, strict=True))


def _forward(q, k, v, block_q, block_k, causal, scale):
    return _per_batch(_forward_tiles, [q, k, v], block_q, block_k, causal, scale)


def _backward(q, k, v, out, lse, grad_out, grad_lse, block_q, block_k, causal, scale):
    tensors = [q, k, v, out, lse, grad_out, grad_lse]
    return _per_batch(_backward_tiles, tensors, block_q, block_k, causal, scale)


class _FlashAttention(torch.autograd.Function):
    """Saves q, k, v, out and the logsumexp (O(n) memory), recomputes P in the backward pass."""

    @staticmethod
    def forward(ctx, q, k, v, block_q, block_k, causal, scale):
        out, lse = _forward(q, k, v, block_q, block_k, causal, scale)
        ctx.save_for_backward(q, k, v, out, lse)
        ctx.config = (block_q, block_k, causal, scale)
        return out, lse

    @staticmethod
    def backward(ctx, grad_out, grad_lse):
        q, k, v, out, lse = ctx.saved_tensors
        grads = _backward(q, k, v, out, lse, grad_out, grad_lse, *ctx.config)
        return (*grads, None, None, None, None)


def _flatten(t: torch.Tensor, work: torch.dtype) -> torch.Tensor:
    """(..., n, d) → (B, n, d) contiguous in the work dtype (differentiable)."""
    return t.reshape(-1, *t.shape[-2:]).to(work).contiguous()


def flash_attention(
    q, k, v, *, block_q: int = 128, block_k: int = 128, causal: bool = False, scale=None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact attention by tiles, never holding the n_q × n_k matrix → ``(out, logsumexp)``.

    q: (..., n_q, d_k), k: (..., n_k, d_k), v: (..., n_k, d_v) → out (..., n_q, d_v) and
    logsumexp (..., n_q) = log Σ_j exp(s_ij) over the allowed keys (``-inf`` and output 0 for a query
    with no allowed key). Equal to ``softmax(q kᵀ·scale) v`` and to SDPA. Differentiable: the
    backward pass is :func:`flash_attention_backward` (recomputation from the logsumexp), and a
    gradient flowing into ``logsumexp`` is handled too.
    """
    q, k, v, block_q, block_k, causal, scale = _setup(q, k, v, block_q, block_k, causal, scale)
    lead, n_q = q.shape[:-2], q.shape[-2]
    work = _work_dtype(q.dtype)
    flat = [_flatten(t, work) for t in (q, k, v)]
    if torch.is_grad_enabled() and any(t.requires_grad for t in flat):
        out, lse = _FlashAttention.apply(*flat, block_q, block_k, causal, scale)
    else:
        out, lse = _forward(*flat, block_q, block_k, causal, scale)
    return out.to(q.dtype).reshape(*lead, n_q, -1), lse.reshape(*lead, n_q)


def flash_attention_backward(
    q,
    k,
    v,
    out,
    logsumexp,
    grad_out,
    *,
    block_q: int,
    block_k: int,
    causal: bool = False,
    scale=None,
    grad_logsumexp=None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gradients ``(dq, dk, dv)`` of attention from its output and logsumexp, tile by tile.

    q, k, v as for :func:`flash_attention`; out (..., n_q, d_v) and logsumexp (..., n_q) are what
    it returned; grad_out (..., n_q, d_v) = ∂loss/∂out; grad_logsumexp (..., n_q) optional. Per tile:
    ``P = exp(S − L)`` (recomputed, never stored), ``dV += Pᵀ dO``, ``dP = dO Vᵀ``,
    ``dS = P ∘ (dP − D)`` with ``D = rowsum(dO ∘ O)``, ``dQ += scale·dS K``, ``dK += scale·dSᵀ Q``.
    Each gradient has the shape of its (un-broadcast) input.
    """
    shapes = [t.shape for t in (q, k, v)]
    q, k, v, block_q, block_k, causal, scale = _setup(q, k, v, block_q, block_k, causal, scale)
    lead, n_q, d_v = q.shape[:-2], q.shape[-2], v.shape[-1]
    for name, t, shape in (
        ("out", out, (*lead, n_q, d_v)),
        ("grad_out", grad_out, (*lead, n_q, d_v)),
        ("logsumexp", logsumexp, (*lead, n_q)),
        ("grad_logsumexp", grad_logsumexp, (*lead, n_q)),
    ):
        if t is None and name == "grad_logsumexp":
            continue
        if isinstance(t, torch.Tensor) and name == "logsumexp":  # -inf marks empty rows
            t = t.masked_fill(torch.isneginf(t), 0.0)
        check_tensor(t, name)
        if tuple(t.shape) != tuple(shape):
            raise ValueError(f"{name} must have shape {tuple(shape)}, got {tuple(t.shape)}")
    work = _work_dtype(q.dtype)
    flat = [_flatten(t, work) for t in (q, k, v, out, grad_out)]
    lse = logsumexp.reshape(-1, n_q).to(work)
    g_lse = None if grad_logsumexp is None else grad_logsumexp.reshape(-1, n_q).to(work)
    with torch.no_grad():
        grads = _backward(*flat[:3], flat[3], lse, flat[4], g_lse, block_q, block_k, causal, scale)
    return tuple(
        g.reshape(*lead, *g.shape[-2:]).sum_to_size(shape).to(t.dtype)
        for g, shape, t in zip(grads, shapes, (q, k, v), strict=True)
    )
