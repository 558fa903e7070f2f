"""Lesson 10: every attention method side by side, and the course's performance targets.

One run of ``tutor_lib.compare.measure_methods`` over n = 1k … 16k (batch 1, 4 heads, d = 64, the
same random q, k, v for every method): median time, ratio to SDPA, memory, max error vs exact
attention, exact or model-changing, and the fraction of this machine's matmul rate reached on the
FLOPs each method must do. The targets of lessons 04–06 are judged on the same measurements (their
thresholds come from bench_sliding_window, bench_flash and bench_linear, which stay runnable by
name for their own detail tables). Where a target is short, the kernel is profiled
(``measure.op_times``) and the table says where its time goes.

One thread unless ``--threads N`` is given, timed on the thread's CPU time (``time.thread_time``):
on a 2-core machine shared with other jobs, every multi-threaded torch operator can stall for a
scheduler tick waiting for a core another program holds, which says nothing about the kernel.
"""

from __future__ import annotations

import os
import time

import torch
from bench_flash import MEMORY_N, MEMORY_TARGET
from bench_flash import TARGET_N as TILED_N
from bench_flash import TARGET_RATIO as TILED_RATIO
from bench_linear import TARGET_N as LINEAR_N
from bench_linear import TARGET_RATIO as LINEAR_RATIO
from bench_linear import TARGET_SLOPE as LINEAR_SLOPE
from bench_sliding_window import TARGET_N as BAND_N
from bench_sliding_window import TARGET_RATIO as BAND_RATIO
from bench_sliding_window import TARGET_SLOPE as BAND_SLOPE
from progress import ProgressBar
from registry import Table, one_thread_unless_given, register

from tutor_lib.compare import get_method, measure_methods
from tutor_lib.costs import MIB
from tutor_lib.measure import loglog_slope, op_times, time_call

HEADS, D = 4, 64
NS = [1024, 2048, 4096, 8192, 16384]
ROUNDS = {1024: 7, 2048: 7, 4096: 7, 8192: 5, 16384: 3}
QUICK_NS, QUICK_ROUNDS = [256, 512, 1024], 3
BAND_MATMUL = 0.60  # banded: ≥ 60 % of the matmul rate on its 4·n·w·d FLOPs per head
TILED, BANDED, DENSE_WINDOW = "flash_attention", "window, banded", "window, dense mask"
LINEAR, CAUSAL_SDPA, CHUNKED = "linear (elu+1) causal", "SDPA causal", "chunked (numpy)"


@register("compare", "every attention method side by side: time, memory, error (lesson 10)")
def compare(quick: bool) -> list[Table]:
    with one_thread_unless_given():
        return _run(quick)


def _run(quick: bool) -> list[Table]:
    ns, rounds = (QUICK_NS, QUICK_ROUNDS) if quick else (NS, ROUNDS)
    one_thread = torch.get_num_threads() == 1
    timer = time.thread_time if one_thread else time.perf_counter
    load_before = os.getloadavg()[0]
    result = measure_methods(
        ns,
        heads=HEADS,
        d=D,
        rounds=rounds,
        timer=timer,
        progress=lambda steps: ProgressBar(steps, "compare"),
    )
    result["load"] = (load_before, os.getloadavg()[0])
    return [_main_table(result), _targets_table(result, quick)]


def _by(result: dict) -> dict[tuple[str, int], dict]:
    return {(row["method"], row["n"]): row for row in result["rows"]}


def _main_table(result: dict) -> Table:
    order = {name: i for i, name in enumerate(dict.fromkeys(r["method"] for r in result["rows"]))}
    rows = []
    for row in sorted(result["rows"], key=lambda r: (order[r["method"]], r["n"])):
        ratio = row["ratio_vs_sdpa"]
        rows.append(
            [
                row["method"],
                row["lesson"],
                "exact" if row["exact"] else "changes the model",
                row["n"],
                f"{row['median_s'] * 1e3:,.1f}",
                "—" if ratio is None else f"{ratio:.2f}×",
                f"{row['matmul_fraction']:.0%}",
                f"{row['memory_bytes'] / MIB:,.2f} ({row['memory_kind']})",
                f"{row['max_error']:.1e}",
            ]
        )
    return Table(
        title=f"every method side by side: batch 1, {HEADS} heads, d = {D}, random q, k, v; "
        f"{_clock_text(result)}",
        columns=[
            "method",
            "lesson",
            "model",
            "n",
            "median ms",
            "× SDPA",
            "% matmul",
            "memory MiB",
            "max error",
        ],
        rows=rows,
        notes=_main_notes(result),
    )


def _clock_text(result: dict) -> str:
    if result["timer"] == "thread_time":
        return "1 thread, CPU time of the thread (time.thread_time)"
    return f"{result['threads']} threads, wall clock"


def _main_notes(result: dict) -> list[str]:
    rates = result["matmul_rate"]
    skipped = sorted({(s["method"], s["reason"]) for s in result["skipped"]})
    notes = [
        "matmul rate (1024² matmul, same threads and clock): "
        + ", ".join(f"{dtype} {rate / 1e9:.0f} GFLOP/s" for dtype, rate in rates.items())
        + "; torch rows run in float32, numpy rows in float64 (each row's % is of its own dtype)",
        "× SDPA: median / SDPA's median at the same n (causal methods: / SDPA causal); "
        "% matmul: the FLOPs the method must do (dense 4·n²·d per head, causal 2·n(n+1)·d, "
        "window 4·(allowed pairs)·d, elu+1 4·n·d·(d+1), …: tutor_lib.compare.table) / median "
        "time / matmul rate",
        "memory: (peak) tracemalloc peak of one numpy call, output included, inputs excluded; "
        "(saved) bytes torch autograd saves for backward, q, k, v excluded",
        f"max error: max |out − exact softmax attention| (float64; causal methods vs causal "
        f"attention) over {result['error_rows']} query rows spread over the sequence; exact "
        "methods show float32 rounding (~1e-7) or float64 rounding (~1e-16)",
        f"timed in alternating rounds (every method one call per round, same load); rounds per "
        f"n: {_rounds_text(result)}; load average {result['load'][0]:.1f} before, "
        f"{result['load'][1]:.1f} after, on {os.cpu_count()} cores",
    ]
    if skipped:
        notes.append("not run: " + "; ".join(f"{m} ({r})" for m, r in skipped))
    return notes


def _rounds_text(result: dict) -> str:
    counts = {row["n"]: row["rounds"] for row in result["rows"]}
    return ", ".join(f"{n}: {c}" for n, c in sorted(counts.items()))


# -- targets: judged on the same measurements; a short one gets a profile of where its time goes --


def _targets_table(result: dict, quick: bool) -> Table:
    by, ns = _by(result), result["ns"]
    targets = [
        _tiled(by),
        _speedup(
            by, BANDED, DENSE_WINDOW, BAND_N, BAND_RATIO, "banded ≥ {r:.0f}× faster than dense"
        ),
        _slope(by, ns, BANDED, BAND_N, BAND_SLOPE),
        _speedup(
            by, LINEAR, CAUSAL_SDPA, LINEAR_N, LINEAR_RATIO, "causal linear ≥ {r:.0f}× faster"
        ),
        _slope(by, ns, LINEAR, LINEAR_N, LINEAR_SLOPE),
        _band_rate(by, result),
        _chunked_memory(by),
    ]
    rows = [[t["target"], t["n"], t["measured"], t["verdict"], t["why"]] for t in targets]
    notes = [f"{t['target']}: {t['detail']}" for t in targets if t.get("detail")]
    if quick:
        notes.append("--quick measures n ≤ 1024 only: the targets need n = 4096 and 16384")
    return Table(
        title="targets (pass / short), judged on the measurements above",
        columns=["target", "n", "measured", "verdict", "why (where the time goes, when short)"],
        rows=rows,
        notes=notes,
    )


def _missing(target: str, n: int) -> dict:
    return {"target": target, "n": n, "measured": "not measured", "verdict": "—", "why": ""}


def _verdict(target: str, n: int, measured: str, ok: bool, why) -> dict:
    """A target's row; ``why()`` (a profile) runs only when the target is short."""
    row = {"target": target, "n": n, "measured": measured, "verdict": "pass" if ok else "short"}
    row["why"], row["detail"] = ("", None) if ok else why()
    return row


def _tiled(by) -> dict:
    target = f"tiled ≤ {TILED_RATIO}× SDPA's time"
    if (TILED, TILED_N) not in by:
        return _missing(target, TILED_N)
    ratio = by[(TILED, TILED_N)]["ratio_vs_sdpa"]
    return _verdict(
        target,
        TILED_N,
        f"{ratio:.2f}×",
        ratio <= TILED_RATIO,
        lambda: _profile_text(TILED, TILED_N),
    )


def _speedup(by, fast, slow, n, goal, label) -> dict:
    target = label.format(r=goal) + f" ({slow})"
    if (fast, n) not in by or (slow, n) not in by:
        return _missing(target, n)
    ratio = by[(slow, n)]["median_s"] / by[(fast, n)]["median_s"]
    return _verdict(target, n, f"{ratio:.1f}×", ratio >= goal, lambda: _profile_text(fast, n))


def _slope(by, ns, name, n, goal) -> dict:
    target = f"{name}: log-log slope of time vs n ≤ {goal}"
    measured = [m for m in ns if (name, m) in by]
    if n not in measured or len(measured) < 2:
        return _missing(target, n)
    slope = loglog_slope(measured, [by[(name, m)]["median_s"] for m in measured])
    text = f"{slope:.2f} (n = {measured[0]}…{measured[-1]})"
    return _verdict(target, n, text, slope <= goal, lambda: _growth_text(name, measured[0], n))


def _band_rate(by, result) -> dict:
    target = f"banded ≥ {BAND_MATMUL:.0%} of the matmul rate on 4·n·w·d FLOPs per head"
    if (BANDED, BAND_N) not in by:
        return _missing(target, BAND_N)
    fraction = by[(BANDED, BAND_N)]["matmul_fraction"]
    rate = result["matmul_rate"]["float32"]
    return _verdict(
        target,
        BAND_N,
        f"{fraction:.0%}",
        fraction >= BAND_MATMUL,
        lambda: _profile_text(BANDED, BAND_N, rate=rate),
    )


def _chunked_memory(by) -> dict:
    target = f"numpy chunked peak ≤ {MEMORY_TARGET:.0%} of one n×n float64 matrix (per head)"
    if (CHUNKED, MEMORY_N) not in by:
        return _missing(target, MEMORY_N)
    peak = by[(CHUNKED, MEMORY_N)]["memory_bytes"]
    share = peak / (HEADS * MEMORY_N**2 * 8)
    output = HEADS * MEMORY_N * D * 8

    def why():
        text = f"output {output / MIB:.1f} MiB + {(peak - output) / MIB:.1f} MiB of score tiles"
        return text, f"peak {peak / MIB:.1f} MiB = {text} (heads × chunk² × 8 bytes each)"

    return _verdict(
        target, MEMORY_N, f"{share:.1%} ({peak / MIB:.1f} MiB)", share <= MEMORY_TARGET, why
    )


# -- profiles -------------------------------------------------------------------------------------


def _profiled(name: str, n: int) -> tuple[dict[str, float], float]:
    """(self CPU seconds per torch operator in one profiled call, median CPU seconds of a call
    without the profiler) of the method at length n, on one thread (the profiler sees the calling
    thread only)."""
    fn = get_method(name).make(n, torch.float32)
    g = torch.Generator().manual_seed(n)
    args = tuple(torch.randn(1, HEADS, n, D, generator=g) for _ in range(3))
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.no_grad():
            seconds = time_call(fn, *args, repeat=3, timer=time.thread_time)
            op_times(torch.zeros, 1)  # the profiler's first start in a process is slow
            ops = op_times(fn, *args)
    finally:
        torch.set_num_threads(previous)
    return {op.removeprefix("aten::"): t for op, t in ops.items()}, seconds


def _profile_text(name: str, n: int, *, rate: float | None = None) -> tuple[str, str]:
    ops, seconds = _profiled(name, n)
    inside = sum(ops.values())  # the profiler slows operators down: shares are of this sum
    top = list(ops.items())[:5]
    outside = max(0.0, 1 - inside / seconds)
    shares = [f"{op} {t / inside:.0%}" for op, t in top]
    short = ", ".join(shares[:2]) + f"; Python {outside:.0%}"
    detail = (
        f"one call at n = {n} on 1 thread ({seconds * 1e3:,.0f} ms CPU); shares of the time "
        f"inside torch operators (self time, profiled): {', '.join(shares)}; outside any "
        f"operator (Python): {outside:.0%} of the call"
    )
    if rate is not None:
        method, (op, op_seconds) = get_method(name), top[0]
        useful, done = (HEADS * f(n, D, D) for f in (method.flops, method.computed_flops))
        detail += (
            f". It must do {useful / 1e9:.2f} GFLOP and computes {done / 1e9:.2f} "
            f"({done / useful:.2f}×); {op} takes {op_seconds / inside:.0%} of the time and "
            f"reaches about {done / (seconds * op_seconds / inside) / rate:.0%} of the matmul "
            f"rate on what it computes there; the other {1 - op_seconds / inside:.0%} goes to "
            "the operators listed after it"
        )
    return short, detail


def _growth_text(name: str, n0: int, n1: int) -> tuple[str, str]:
    """Which operators' time per token grows between n0 and n1 (why the slope is above 1)."""
    (ops0, s0), (ops1, s1) = _profiled(name, n0), _profiled(name, n1)
    grown = sorted(ops1, key=lambda op: ops1[op] / n1 - ops0.get(op, 0.0) / n0, reverse=True)
    parts = [
        f"{op} {ops0.get(op, 0.0) / n0 * 1e6:.2f} → {ops1[op] / n1 * 1e6:.2f} µs"
        for op in grown[:3]
    ]
    total = f"all {s0 / n0 * 1e6:.2f} → {s1 / n1 * 1e6:.2f} µs per token"
    short = f"per token {parts[0]}; {total}"
    detail = f"time per token, n = {n0} → {n1} (1 thread, profiled): " + ", ".join(parts)
    return short, detail + f"; {total}"
