"""Lesson 06: causal linear attention (``tutor_lib.linear.linear_attention``, chunked) vs causal SDPA.

Different models (elu+1 features vs softmax), same shapes and the same causal mask: the question is
how the cost grows with n. SDPA's fused causal kernel does ~2·n²·d FLOPs per head; the chunked
linear form does O(n·(C + d)·d) (quadratic inside chunks of C tokens, a running d × d_v state
across them), nearly all of it in batched matmuls, so it is also reported as a fraction of this
machine's matmul rate (``measure.matmul_rate``, same thread count). fp32, 4 heads, d = 64, batch 1,
inference (no autograd); the fastest of several runs (the least disturbed one on a shared CPU).

Both kernels run on **one thread** unless ``--threads N`` is given: on a 2-core machine shared with
other jobs, a multi-threaded kernel made of many small operations (the chunked form) loses far more
to thread hand-offs than one big fused kernel (SDPA), so one thread each is the fair comparison.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from registry import Table, one_thread_unless_given, register

from tutor_lib.linear import DEFAULT_CHUNK, linear_attention
from tutor_lib.measure import count_flops, loglog_slope, matmul_rate, time_call

HEADS, D = 4, 64
SIZES = [2048, 4096, 8192, 16384, 32768]
QUICK_SIZES = [512, 1024, 2048]
TARGET_N, TARGET_RATIO, TARGET_SLOPE = 16384, 20.0, 1.15
SDPA_BUDGET_S = 60.0  # wall seconds allowed for the SDPA timings at one size


def _sdpa(q, k, v):
    return F.scaled_dot_product_attention(q, k, v, is_causal=True)


def _linear(q, k, v):
    return linear_attention(q, k, v, causal=True)


def _time_sdpa(n, q, k, v, sdpa: dict, quick: bool) -> None:
    repeat = 3
    if sdpa and not quick:  # SDPA time grows as n²: fewer repeats when one call is long
        last = max(sdpa)
        estimate = sdpa[last] * (n / last) ** 2
        repeat = max(1, min(3, int(SDPA_BUDGET_S // estimate)))
    sdpa[n] = time_call(_sdpa, q, k, v, repeat=repeat, warmup=1 if n <= 8192 else 0, reduce="min")


@register(
    "linear",
    "causal linear attention (chunked) vs causal SDPA, d = 64 (lesson 06)",
    default=False,
)
def linear(quick: bool) -> Table:
    with one_thread_unless_given():
        return _run(quick)


def _run(quick: bool) -> Table:
    sizes = QUICK_SIZES if quick else SIZES
    rate = matmul_rate()
    fast, sdpa, flops = {}, {}, {}
    for n in sizes:
        g = torch.Generator().manual_seed(n)
        q, k, v = (torch.randn(1, HEADS, n, D, generator=g) for _ in range(3))  # (b, h, n, d)
        with torch.no_grad():
            flops[n] = count_flops(_linear, q, k, v)
            fast[n] = time_call(_linear, q, k, v, repeat=5 if quick else 15, reduce="min")
            _time_sdpa(n, q, k, v, sdpa, quick)
    rows = []
    for i, n in enumerate(sizes):
        sdpa_flops = 2 * HEADS * n * (n + 1) * D  # causal QKᵀ and PV: n(n+1)/2 pairs, 2·2·d each
        prev = sizes[i - 1] if i else None
        rows.append(
            [
                n,
                f"{fast[n] * 1e3:,.1f}",
                f"{sdpa[n] * 1e3:,.1f}",
                f"{sdpa[n] / fast[n]:.1f}×",
                f"{math.log(fast[n] / fast[prev]) / math.log(n / prev):.2f}" if prev else "—",
                f"{flops[n] / fast[n] / rate:.0%}",
                f"{sdpa_flops / sdpa[n] / rate:.0%}",
            ]
        )
    return Table(
        title=f"fp32, {HEADS} heads, d = {D}, causal, chunk {DEFAULT_CHUNK}, "
        f"{torch.get_num_threads()} thread(s); fastest of several runs; matmul rate "
        f"{rate / 1e9:.0f} GFLOP/s",
        columns=[
            "n",
            "linear ms",
            "SDPA ms",
            "SDPA / linear",
            "linear slope",
            "linear % matmul rate",
            "SDPA % matmul rate",
        ],
        rows=rows,
        notes=_notes(sizes, fast, sdpa),
    )


def _notes(sizes, fast, sdpa) -> list[str]:
    fit_lin = loglog_slope(sizes, [fast[n] for n in sizes])
    fit_sdpa = loglog_slope(sizes, [sdpa[n] for n in sizes])
    notes = [
        f"slopes fitted over all n: linear {fit_lin:.2f}, SDPA {fit_sdpa:.2f} (the per-row slope "
        "divides two noisy times: information only)",
        "% matmul rate: FLOPs counted by FlopCounterMode (linear) or 2·n(n+1)·d per head (SDPA), "
        "divided by the time and by an (1024 × 1024) @ (1024 × 1024) fp32 matmul's rate",
    ]
    if TARGET_N in fast:
        ratio = sdpa[TARGET_N] / fast[TARGET_N]
        verdict = "met" if ratio >= TARGET_RATIO and fit_lin <= TARGET_SLOPE else "NOT met"
        notes.append(
            f"targets at n = {TARGET_N}: SDPA/linear {ratio:.1f}× (≥ {TARGET_RATIO:.0f}×), linear "
            f"slope {fit_lin:.2f} fitted over all n (≤ {TARGET_SLOPE}): {verdict}"
        )
    return notes
