"""Lesson 03: decoding is memory-bound. y = x @ W for batches 1 … 256 against this CPU's roofline.

W is 4096 × 4096 fp32 (64 MiB, larger than typical CPU caches). The roofline bound of each batch is
max(FLOPs / matmul rate, bytes / matrix-vector bandwidth), both ceilings measured here on one thread
(``measure.matmul_rate``, ``measure.matvec_bandwidth``), as is the sweep (``measure.linear_batch_times``).
"""

from __future__ import annotations

import torch
from registry import Table, register

from tutor_lib.costs import matmul_cost, roofline_seconds
from tutor_lib.measure import linear_batch_times, loglog_slope, matmul_rate, matvec_bandwidth

D_IN = D_OUT = 4096
BATCHES = [1, 2, 4, 8, 16, 32, 64, 128, 256]
QUICK_BATCHES = [1, 4, 16, 64]
TARGET_PER_ROW = (
    4.0  # batch 256 must cost at least 4× less per row than batch 1 (theory: 2 × ridge)
)


@register("decode_roofline", "y = xW batch sweep vs the measured roofline, one thread (lesson 03)")
def decode_roofline(quick: bool) -> Table:
    batches = QUICK_BATCHES if quick else BATCHES
    repeat = 3 if quick else 9
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        rate = matmul_rate(1024, repeat=repeat)
        bandwidth = matvec_bandwidth(D_IN, D_OUT, repeat=repeat)
        times = linear_batch_times(batches, D_IN, D_OUT, repeat=repeat)
    finally:
        torch.set_num_threads(threads)
    rows, bounds = [], []
    for b, t in zip(batches, times["seconds"], strict=True):
        cost = matmul_cost(b, D_IN, D_OUT)
        bound = roofline_seconds(
            cost["flops"], cost["bytes"], flops_per_second=rate, bytes_per_second=bandwidth
        )
        bounds.append(bound)
        per_row = t / b
        rows.append(
            [
                b,
                f"{t * 1e3:.2f}",
                f"{bound * 1e3:.2f}",
                f"{t / bound:.1f}×",
                f"{per_row * 1e3:.3f}",
                f"{times['seconds'][0] / per_row:.1f}×",
            ]
        )
    return Table(
        title=f"y = x @ W, W {D_IN} × {D_OUT} fp32, one thread; best of {repeat} runs",
        columns=[
            "batch",
            "measured ms",
            "roofline ms",
            "measured / roofline",
            "ms per row",
            "per-row saving vs batch 1",
        ],
        rows=rows,
        notes=_notes(batches, times["seconds"], rate, bandwidth),
    )


def _notes(batches, seconds, rate, bandwidth) -> list[str]:
    ridge = rate / bandwidth
    critical = next(
        (
            b
            for b in batches
            if matmul_cost(b, D_IN, D_OUT)["flops"] / rate
            >= matmul_cost(b, D_IN, D_OUT)["bytes"] / bandwidth
        ),
        None,
    )
    notes = [
        f"ceilings: {rate / 1e9:.0f} GFLOP/s (1024³ matmul), {bandwidth / 1e9:.1f} GB/s (64 MiB "
        f"matrix-vector) → ridge {ridge:.1f} FLOP/byte; predicted critical batch "
        f"{critical if critical else 'beyond the sweep'}"
    ]
    large = [i for i, b in enumerate(batches) if b >= 64]
    if len(large) >= 2:
        slope = loglog_slope([batches[i] for i in large], [seconds[i] for i in large])
        notes.append(f"log-log slope over batch ≥ 64: {slope:.2f} (compute-bound → 1)")
    if batches[-1] == 256:
        saving = seconds[0] / (seconds[-1] / 256)
        verdict = "met" if saving >= TARGET_PER_ROW else "NOT met"
        notes.append(
            f"target: batch 256 costs ≥ {TARGET_PER_ROW:.0f}× less per row than batch 1: "
            f"{saving:.1f}× ({verdict})"
        )
    return notes
