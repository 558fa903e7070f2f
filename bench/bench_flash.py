"""Lesson 05: ``tutor_lib.tiled.flash_attention`` (forward) vs PyTorch's fused SDPA kernel, and the
peak memory of the numpy ``chunked_attention`` vs dense attention.

Speed: fp32, batch 1, 4 heads, d = 64, non-causal, inference. SDPA and flash are timed in alternating
rounds (so both see the same load), each round one call through ``measure.time_call``; the table
gives the minimum (the least disturbed run) and the median. Two settings:
* all threads, wall clock (the headline; on a machine shared with other jobs the many parallel
  regions of an eager kernel suffer more than SDPA's single fused one);
* one thread, CPU time of the calling thread (``time.thread_time``): what each kernel costs in CPU
  work, insensitive to time spent waiting for a core.
The FLOP rate column divides the 4·n²·d·h FLOPs by the time and by this machine's fp32 matmul rate.
On a machine shared with other jobs, ``nice -n -19 make bench`` (as root) gives the benchmark the
cores first and steadier wall-clock rows; the load average before and after is printed either way.

Memory: tracemalloc peak of ``chunked_attention`` (chunks of 256) vs ``attention`` at d = 64, float64.
"""

from __future__ import annotations

import os
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from registry import Table, register

from tutor_lib.attention import attention
from tutor_lib.compare import CHUNK, FLASH_BLOCKS
from tutor_lib.costs import MIB
from tutor_lib.measure import matmul_rate, peak_bytes, time_call
from tutor_lib.tiled import chunked_attention, flash_attention

HEADS, D = 4, 64
BLOCK_Q, BLOCK_K = FLASH_BLOCKS  # 128, 512: the side-by-side comparison's settings
SIZES, QUICK_SIZES = [1024, 2048, 4096, 8192], [512, 1024]
TARGET_N, TARGET_RATIO = 4096, 1.5
MEMORY_N, MEMORY_TARGET = 4096, 0.04  # chunks of CHUNK = 256: ≤ 4 % of one n×n float64 matrix


def _rounds(fns: dict, rounds: int, timer) -> dict[str, list[float]]:
    times = {name: [] for name in fns}
    for fn in fns.values():
        fn()  # warm-up
    for _ in range(rounds):
        for name, fn in fns.items():
            times[name].append(time_call(fn, repeat=1, warmup=0, reduce="min", timer=timer))
    return times


def _speed_rows(sizes, rounds, threads, timer) -> tuple[list, dict, float]:
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    rows, ratios = [], {}
    try:
        rate = matmul_rate(1024, timer=timer)  # same threads and clock as the rows
        for n in sizes:
            g = torch.Generator().manual_seed(n)
            q, k, v = (torch.randn(1, HEADS, n, D, generator=g) for _ in range(3))
            with torch.no_grad():
                times = _rounds(
                    {
                        "sdpa": lambda q=q, k=k, v=v: F.scaled_dot_product_attention(q, k, v),
                        "flash": lambda q=q, k=k, v=v: flash_attention(
                            q, k, v, block_q=BLOCK_Q, block_k=BLOCK_K
                        ),
                    },
                    rounds,
                    timer,
                )
            best = {name: min(t) for name, t in times.items()}
            median = {name: statistics.median(t) for name, t in times.items()}
            ratios[n] = best["flash"] / best["sdpa"]
            flops = 4 * n * n * D * HEADS
            rows.append(
                [
                    f"{threads} ({'wall' if timer is time.perf_counter else 'cpu'})",
                    n,
                    f"{best['sdpa'] * 1e3:,.1f}",
                    f"{best['flash'] * 1e3:,.1f}",
                    f"{ratios[n]:.2f}×",
                    f"{median['flash'] / median['sdpa']:.2f}×",
                    f"{flops / best['sdpa'] / rate:.0%}",
                    f"{flops / best['flash'] / rate:.0%}",
                ]
            )
    finally:
        torch.set_num_threads(previous)
    return rows, ratios, rate


def _memory_notes() -> list[str]:
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((MEMORY_N, D)) for _ in range(3))
    peak_bytes(chunked_attention, q, k, v, query_chunk=CHUNK, key_chunk=CHUNK)  # one-off objects
    tiled = peak_bytes(chunked_attention, q, k, v, query_chunk=CHUNK, key_chunk=CHUNK)
    dense = peak_bytes(attention, q, k, v)
    matrix = MEMORY_N * MEMORY_N * 8
    share = tiled / matrix
    verdict = "met" if share <= MEMORY_TARGET else "NOT met"
    return [
        f"memory (numpy, float64, n = {MEMORY_N}, d = {D}, tracemalloc peak): chunked_attention "
        f"with {CHUNK}×{CHUNK} chunks {tiled / MIB:.2f} MiB (output included) vs dense attention "
        f"{dense / MIB:.1f} MiB: {dense / tiled:.0f}× less; {share:.1%} of one n×n float64 matrix "
        f"({matrix / MIB:.0f} MiB), target ≤ {MEMORY_TARGET:.0%}: {verdict}",
    ]


@register(
    "flash",
    "flash_attention forward vs SDPA, chunked_attention peak memory (lesson 05)",
    default=False,
)
def flash(quick: bool) -> Table:
    sizes, rounds = (QUICK_SIZES, 2) if quick else (SIZES, 7)
    load_before = os.getloadavg()[0]
    threads = torch.get_num_threads()
    all_rows, all_ratios, rate = _speed_rows(sizes, rounds, threads, time.perf_counter)
    one_sizes = [n for n in sizes if n <= TARGET_N]
    one_rows, one_ratios, rate_one = _speed_rows(one_sizes, rounds, 1, time.thread_time)
    load_after = os.getloadavg()[0]
    notes = [
        f"flash_attention(block_q={BLOCK_Q}, block_k={BLOCK_K}); fp32, batch 1, {HEADS} heads, "
        f"d = {D}, non-causal; {rounds} alternating rounds. FLOP rate: 4·n²·d·h FLOPs / time / "
        f"this machine's fp32 matmul rate ({rate / 1e9:.0f} GFLOP/s on {threads} threads, "
        f"{rate_one / 1e9:.0f} on one)",
        f"load average {load_before:.1f} before, {load_after:.1f} after, on {os.cpu_count()} cores "
        "(above the core count other jobs were competing: the wall-clock rows are then pessimistic "
        "for the eager kernel)",
    ]
    if TARGET_N in all_ratios:
        ratio = all_ratios[TARGET_N]
        notes.append(
            f"target at n = {TARGET_N}: flash / SDPA ≤ {TARGET_RATIO}× — all threads (wall, min) "
            f"{ratio:.2f}×: {'met' if ratio <= TARGET_RATIO else 'NOT met'}; one thread (CPU time, "
            f"min) {one_ratios[TARGET_N]:.2f}×: "
            f"{'met' if one_ratios[TARGET_N] <= TARGET_RATIO else 'NOT met'}"
        )
    notes += _memory_notes()
    return Table(
        title="flash_attention forward vs SDPA (CPU flash kernel): milliseconds, ratio of times",
        columns=[
            "threads",
            "n",
            "SDPA ms",
            "flash ms",
            "flash/SDPA min",
            "flash/SDPA median",
            "SDPA % of matmul",
            "flash % of matmul",
        ],
        rows=all_rows + one_rows,
        notes=notes,
    )
