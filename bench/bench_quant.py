"""Lesson 08: a decode-shaped product y = W x with int8 weights (weight-only quantization) vs fp32/bf16.

A vector goes through a stack of layers of d × d weights whose total is larger than the CPU's last-level
cache (as a real model's weights are), so every step streams the weights from memory. fp32 reads 4
bytes per weight, bf16 2, int8 1: a memory-bound step should speed up by those ratios if the kernel
reads nothing else. ``tutor_lib.quant.weight_only_matvec`` dequantizes a block of rows at a time (the
float copy stays in cache); "dequantize first" materialises a full float copy (the naive code);
``torch.compile`` of the same arithmetic generates one fused kernel that reads the int8 weights
directly. Public PyTorch APIs only (no ``torch._int_mm`` / ``torch._weight_int8pack_mm``: private).
"""

from __future__ import annotations

import time

import torch
from registry import Table, register

from tutor_lib.costs import MIB
from tutor_lib.measure import time_call
from tutor_lib.quant import weight_only_matvec

D, LAYERS = 4096, 4  # fp32 256 MiB, int8 64 MiB: both beyond a 32 MiB L3
QUICK_D, QUICK_LAYERS = 2048, 2
TARGET = 1.5  # int8 on the fly vs fp32, CPU time on 1 thread (the bytes allow 4x)


def _stack(d: int, layers: int):
    w32 = [torch.randn(d, d) for _ in range(layers)]
    scales = [w.abs().amax(dim=1) / 127 for w in w32]
    w8 = [torch.round(w / s[:, None]).to(torch.int8) for w, s in zip(w32, scales, strict=True)]
    return w32, [w.bfloat16() for w in w32], w8, scales


def _dequantized_rows(q: torch.Tensor, s: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """y = (q · s) x written as one expression, so that torch.compile can fuse the int8 → float
    conversion into the reduction (a public API generating the fused kernel)."""
    return (q.to(x.dtype) * x).sum(dim=1) * s


@register("quant", "int8 weight-only decode step vs fp32 / bf16 (lesson 08)")
def quant(quick: bool) -> Table:
    d, layers = (QUICK_D, QUICK_LAYERS) if quick else (D, LAYERS)
    repeat = 3 if quick else 15
    w32, w16, w8, scales = _stack(d, layers)
    x32 = torch.randn(d)
    x16 = x32.bfloat16()
    fused = torch.compile(_dequantized_rows, dynamic=False)
    pairs = list(zip(w8, scales, strict=True))
    variants = {
        "fp32 (torch.mv)": (lambda: [torch.mv(w, x32) for w in w32], 4),
        "bf16 (torch.mv)": (lambda: [torch.mv(w, x16) for w in w16], 2),
        "int8, dequantize first": (
            lambda: [torch.mv(q.float() * s[:, None], x32) for q, s in pairs],
            1,
        ),
        "int8, on the fly (256 rows)": (
            lambda: [weight_only_matvec(q, s, x32) for q, s in pairs],
            1,
        ),
        "int8, torch.compile (fused)": (lambda: [fused(q, s, x32) for q, s in pairs], 1),
    }
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: its CPU time is a fair clock on a shared machine
    try:
        start = time.perf_counter()
        fused(*pairs[0], x32)  # compile (tens of seconds on 2 cores)
        compile_s = time.perf_counter() - start
        cpu, wall = {}, {}
        for name, (fn, _) in variants.items():
            reps = 2 if name.startswith("int8, dequantize") else repeat
            cpu[name] = time_call(fn, repeat=reps, reduce="min", timer=time.thread_time)
            wall[name] = time_call(fn, repeat=reps, reduce="min")
    finally:
        torch.set_num_threads(threads)
    rows = []
    for name, (_, nbytes) in variants.items():
        read = layers * d * d * nbytes
        rows.append(
            [
                name,
                f"{read / MIB:.0f}",
                cpu[name] * 1e3,
                read / cpu[name] / 1e9,
                cpu["fp32 (torch.mv)"] / cpu[name],
                wall["fp32 (torch.mv)"] / wall[name],
                4 / nbytes,
            ]
        )
    got = cpu["fp32 (torch.mv)"] / cpu["int8, on the fly (256 rows)"]
    fused_got = cpu["fp32 (torch.mv)"] / cpu["int8, torch.compile (fused)"]
    return Table(
        title=f"decode step through {layers} layers of {d} x {d} weights, 1 thread (best of {repeat})",
        columns=[
            "weights",
            "MiB read",
            "CPU ms",
            "GB/s",
            "x fp32 (CPU)",
            "x fp32 (wall)",
            "bytes allow",
        ],
        rows=rows,
        notes=[
            f"target: int8 on the fly >= {TARGET}x fp32 (CPU time) -> {got:.2f}x: "
            + ("pass" if got >= TARGET else "short")
            + f"; the fused kernel reaches {fused_got:.2f}x (compiled in {compile_s:.0f} s)",
            "CPU time = time.thread_time of the one working thread (excludes time the core was taken "
            "by other programs); wall time is printed as a ratio only.",
            "'bytes allow' = the speed-up if time were bytes / bandwidth (fp32 bytes / these bytes).",
        ],
    )
