"""Time, measured: one call (median or best of several runs), and this machine's two ceilings.

* :func:`time_call` is the median (or minimum) of several runs after a warm-up. Timings are noisy,
  so lessons print them in cells whose output is not compared, and report slopes or ratios.
* :func:`matmul_rate` (FLOP/s of a large matmul) and :func:`matvec_bandwidth` (bytes/s streamed by
  a matrix-vector product) are the compute and memory ceilings of this CPU;
  :func:`linear_batch_times` times ``y = x @ W`` over batch sizes to show which one binds.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch

from tutor_lib._validate import check_int
from tutor_lib.limits import guard_bytes
from tutor_lib.measure.sweeps import sweep

__all__ = ["time_call", "matmul_rate", "matvec_bandwidth", "linear_batch_times"]


MAX_REPEAT = 10_000  # more runs than this is a typo (or a benchmark that belongs in bench/)


def time_call(
    fn: Callable,
    *args,
    repeat: int = 5,
    warmup: int = 1,
    reduce: str = "median",
    timer: Callable[[], float] = time.perf_counter,
    **kwargs,
) -> float:
    """Wall-clock seconds of ``fn(*args, **kwargs)`` over ``repeat`` runs (after ``warmup`` runs).

    ``reduce="median"`` ignores the odd run slowed down by another process; ``reduce="min"`` is the
    best case, the least disturbed run (better for comparing two kernels on a busy machine). The
    warm-up absorbs one-off costs (allocations, thread-pool start-up). ``timer`` is a zero-argument
    clock (for tests).
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    repeat = check_int(repeat, "repeat", minimum=1, maximum=MAX_REPEAT)
    warmup = check_int(warmup, "warmup", minimum=0, maximum=MAX_REPEAT)
    if not callable(timer):
        raise TypeError(f"timer must be a zero-argument clock, got {type(timer).__name__}")
    reducers = {"median": statistics.median, "min": min}
    if reduce not in reducers:
        raise ValueError(f"reduce must be one of {sorted(reducers)}, got {reduce!r}")
    for _ in range(warmup):
        fn(*args, **kwargs)
    times = []
    for _ in range(repeat):
        start = timer()
        fn(*args, **kwargs)
        times.append(timer() - start)
    return float(reducers[reduce](times))


def matmul_rate(
    n: int = 1024,
    *,
    dtype=torch.float32,
    repeat: int = 5,
    timer: Callable[[], float] = time.perf_counter,
) -> float:
    """This machine's matrix-multiply throughput in FLOP/s: ``2·n³`` FLOPs of an (n, n) @ (n, n)
    matmul divided by its best time over ``repeat`` runs (the physical ceiling a kernel made of
    matmuls can approach on this CPU). A torch ``dtype`` times torch's matmul with torch's current
    thread count; a numpy dtype (``np.float64``) times numpy's (its BLAS, its own threads).
    ``timer`` is the clock, as in :func:`time_call` (``time.thread_time``: CPU time of one thread).
    """
    n = check_int(n, "n", minimum=16, maximum=8192)
    if isinstance(dtype, torch.dtype):
        if not dtype.is_floating_point:
            raise TypeError(f"dtype must be a floating dtype, got {dtype}")
        a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
        product = torch.matmul
    else:
        try:
            np_dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(
                f"dtype must be a torch or numpy floating dtype, got {dtype!r}"
            ) from None
        if not np.issubdtype(np_dtype, np.floating):
            raise TypeError(f"dtype must be a floating dtype, got {np_dtype}")
        rng = np.random.default_rng(0)
        a, b = (rng.standard_normal((n, n)).astype(np_dtype) for _ in range(2))
        product = np.matmul
    seconds = time_call(product, a, b, repeat=repeat, reduce="min", timer=timer)
    return 2 * n**3 / max(seconds, 1e-9)


def matvec_bandwidth(
    rows: int = 4096, cols: int = 4096, *, dtype: torch.dtype = torch.float32, repeat: int = 5
) -> float:
    """Bytes per second a matrix-vector product streams from memory: ``W (rows, cols)`` read once
    for ``y = W x``, divided by the best time. With W larger than the CPU caches (64 MiB at the
    default size in fp32) this is the memory-bandwidth ceiling that decoding runs into."""
    rows = check_int(rows, "rows", minimum=16, maximum=65536)
    cols = check_int(cols, "cols", minimum=16, maximum=65536)
    w, x = torch.randn(rows, cols, dtype=dtype), torch.randn(cols, dtype=dtype)
    seconds = time_call(torch.mv, w, x, repeat=repeat, reduce="min")
    return w.nbytes / seconds


def linear_batch_times(
    batches: Sequence[int],
    d_in: int = 4096,
    d_out: int = 4096,
    *,
    dtype: torch.dtype = torch.float32,
    repeat: int = 5,
    progress: Callable[[Iterable], Iterable] | None = None,
) -> dict[str, np.ndarray]:
    """Best-of-``repeat`` seconds of ``y = x @ W`` for each batch size: ``x (batch, d_in)``, one
    fixed ``W (d_in, d_out)`` (64 MiB at the default size in fp32, more than most CPU caches).

    Every call reads all of W and does 2·batch·d_in·d_out FLOPs, so the time shows which ceiling
    binds: flat while streaming W dominates (memory-bound), growing with the batch once the
    arithmetic does (compute-bound). Returns ``{"batch": array, "seconds": array}``; ``progress``
    wraps the loop as in :func:`sweep`.
    """
    batches = [check_int(b, "batches[i]", minimum=1) for b in batches]
    if not batches:
        raise ValueError("batches must contain at least one batch size")
    d_in = check_int(d_in, "d_in", minimum=1)
    d_out = check_int(d_out, "d_out", minimum=1)
    size = torch.empty((), dtype=dtype).element_size()
    guard_bytes(size * (d_in * d_out + max(batches) * (d_in + d_out)), "linear_batch_times")
    w = torch.randn(d_in, d_out, dtype=dtype)  # (d_in, d_out), shared by every batch size

    def seconds(batch: int) -> float:
        x = torch.randn(batch, d_in, dtype=dtype)  # (batch, d_in)
        with torch.no_grad():
            return time_call(torch.matmul, x, w, repeat=repeat, reduce="min")

    times = sweep(seconds, batches, progress=progress)
    return {"batch": times["n"], "seconds": times["value"]}
