"""Measuring instead of asserting: peak memory, wall time, log-log slopes, sweeps over n.

* :func:`peak_bytes` uses ``tracemalloc``: it sees **numpy** allocations, not torch's (torch
  allocates outside Python's tracked allocators), so measure memory on numpy code.
* :func:`saved_bytes` counts what **torch autograd** keeps for the backward pass
  (``torch.autograd.graph.saved_tensors_hooks``): the memory training needs on top of inference;
  :func:`saved_tensors` lists it tensor by tensor, with the operation that saved each.
* :func:`allocated_bytes` sums what torch's operators allocate (``torch.profiler``), for torch code
  whose memory tracemalloc cannot see; :func:`op_times` says which operators the time goes to;
* :func:`count_flops` counts the FLOPs torch performs (``FlopCounterMode``), with attention forced
  onto SDPA's math path so that its matmuls are visible to the counter.
* :func:`time_call` is the median (or minimum) of several runs after a warm-up. Timings are noisy,
  so lessons print them in cells whose output is not compared, and report slopes or ratios.
* :func:`sweep` runs a measurement for every n and returns the columns as arrays.

Nothing here prints or imports ipywidgets: a progress bar is passed in by the caller
(see :func:`sweep`).
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.overrides import TorchFunctionMode
from torch.profiler import ProfilerActivity, profile
from torch.utils.flop_counter import FlopCounterMode

from tutor_lib._validate import as_float_array, check_int
from tutor_lib.limits import guard_bytes

__all__ = [
    "peak_bytes",
    "SavedTensor",
    "saved_tensors",
    "saved_bytes",
    "allocated_bytes",
    "op_times",
    "count_flops",
    "flop_counts_by_op",
    "time_call",
    "matmul_rate",
    "matvec_bandwidth",
    "linear_batch_times",
    "loglog_slope",
    "sweep",
]


def peak_bytes(fn: Callable, *args, **kwargs) -> int:
    """Peak bytes allocated (and traced by ``tracemalloc``) while ``fn(*args, **kwargs)`` runs.

    Measured from the memory in use when the call starts, so the inputs do not count but every
    temporary does, including the result. The result itself is discarded.

    **numpy allocations are traced, torch's are not**: a 64 MiB numpy array shows 64 MiB, a 64 MiB
    torch tensor shows about 0. Python objects (lists, floats) are traced too, including those of
    other threads (a notebook kernel's I/O threads add a few KiB of noise). If tracing is already on
    (someone called ``tracemalloc.start()``), it is left on and only its peak is reset.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start, _ = tracemalloc.get_traced_memory()
        fn(*args, **kwargs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return max(0, peak - start)


@dataclass(frozen=True)
class SavedTensor:
    """One storage autograd keeps for backward: the torch function that saved it first (as called
    from Python: ``linear``, ``softmax``, ``__matmul__``…, or ``"?"`` outside any), the shape and
    dtype of the tensor saved, and the bytes of its whole storage."""

    op: str
    shape: tuple[int, ...]
    dtype: torch.dtype
    nbytes: int


class _OpLabel(TorchFunctionMode):
    """Remembers the outermost torch function running (torch disables the mode inside it)."""

    current = "?"

    def __torch_function__(self, func, types, args=(), kwargs=None):
        outer, self.current = self.current, getattr(func, "__name__", str(func))
        try:
            return func(*args, **(kwargs or {}))
        finally:
            self.current = outer


def _storage_key(t: torch.Tensor) -> tuple[int, int]:
    storage = t.untyped_storage()
    return storage.data_ptr(), storage.nbytes()


def _collect_saved(fn: Callable, args, kwargs, exclude, *, label_ops: bool) -> list[SavedTensor]:
    """The one implementation behind :func:`saved_tensors` and :func:`saved_bytes`."""
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    if isinstance(exclude, torch.Tensor):
        exclude = (exclude,)
    try:
        excluded = {_storage_key(t) for t in exclude}
    except (TypeError, AttributeError):
        raise TypeError(
            "exclude must be an iterable of tensors (e.g. model.parameters())"
        ) from None
    found: dict[tuple[int, int], tuple[SavedTensor, torch.UntypedStorage]] = {}
    label = _OpLabel()

    def pack(t: torch.Tensor):
        key = _storage_key(t)
        if key not in excluded and key not in found:
            record = SavedTensor(label.current, tuple(t.shape), t.dtype, key[1])
            found[key] = (record, t.untyped_storage())  # the storage stays alive: no reuse
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        if label_ops:
            with label:
                fn(*args, **kwargs)
        else:
            fn(*args, **kwargs)
    return [record for record, _ in found.values()]


def saved_tensors(fn: Callable, *args, exclude: Iterable = (), **kwargs) -> list[SavedTensor]:
    """The storages torch autograd saves for backward while ``fn(*args, **kwargs)`` runs, in the
    order they are first saved, one :class:`SavedTensor` each.

    Seen with ``torch.autograd.graph.saved_tensors_hooks``. A storage counts once however many
    operations save it or views of it (``x`` used by two matmuls; q, k, v sliced from one tensor);
    every saved storage is kept alive until ``fn`` returns, so a freed one's address cannot be reused
    and merged with another. Storages of the tensors in ``exclude`` (e.g. ``model.parameters()``:
    weights are not activations) are left out. Something must require grad, otherwise nothing is
    saved. The op labels come from a ``TorchFunctionMode`` (the call runs a little slower).
    """
    return _collect_saved(fn, args, kwargs, exclude, label_ops=True)


def saved_bytes(fn: Callable, *args, exclude: Iterable = (), **kwargs) -> int:
    """Bytes of the tensors torch autograd saves for backward while ``fn(*args, **kwargs)`` runs.

    The sum over what :func:`saved_tensors` lists (without its op labels, so a little faster): each
    storage counts once, however many operations save it (``x`` used by two matmuls is stored once);
    saved inputs and weights count too, unless passed in ``exclude`` (``exclude=model.parameters()``
    counts the activations only). Something must require grad, otherwise nothing is saved and the
    result is 0.
    """
    records = _collect_saved(fn, args, kwargs, exclude, label_ops=False)
    return sum(record.nbytes for record in records)


@contextlib.contextmanager
def _quiet_stderr():
    """Send file descriptor 2 to /dev/null: torch's profiler prints start/stop lines there from C++
    (a notebook would show them, with timestamps), and Python's redirect cannot catch them."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def allocated_bytes(fn: Callable, *args, **kwargs) -> int:
    """Bytes torch's operators allocate while ``fn(*args, **kwargs)`` runs (CPU).

    The sum over operators of their own allocations, from ``torch.profiler`` with
    ``profile_memory=True``: everything allocated, including what is freed again soon after, so it
    is an upper bound on the peak, not the peak itself. numpy allocations are not seen (use
    :func:`peak_bytes` for numpy).
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    with _quiet_stderr(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn(*args, **kwargs)
    return int(sum(max(event.self_cpu_memory_usage, 0) for event in prof.key_averages()))


def op_times(fn: Callable, *args, **kwargs) -> dict[str, float]:
    """Where the time goes: CPU seconds each torch operator spends in its own code (self time,
    its sub-operators excluded) while ``fn(*args, **kwargs)`` runs, largest first.

    From ``torch.profiler`` (which slows small operators down a little). Only operators called on
    the calling thread are seen, and numpy is invisible: profile torch code on one thread. Time
    spent outside any operator (Python itself) is not in the dict: compare the sum with the call's
    time to see it.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    with _quiet_stderr(), profile(activities=[ProfilerActivity.CPU]) as prof:
        fn(*args, **kwargs)
    times = {e.key: e.self_cpu_time_total / 1e6 for e in prof.key_averages()}
    return dict(sorted(((k, t) for k, t in times.items() if t > 0), key=lambda kv: -kv[1]))


def _counted(fn: Callable, args, kwargs) -> FlopCounterMode:
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        fn(*args, **kwargs)
    return counter


def count_flops(fn: Callable, *args, **kwargs) -> int:
    """FLOPs torch counts while ``fn(*args, **kwargs)`` runs (forward and, if ``fn`` calls it, backward).

    Counted with ``torch.utils.flop_counter.FlopCounterMode``: a matmul (m, k) @ (k, p) is 2·m·k·p
    FLOPs (one multiply-add = 2), element-wise work (softmax, masking, activations) is not counted.

    ``F.scaled_dot_product_attention`` is forced onto its **math** backend while ``fn`` runs: on CPU
    the default is a fused flash-style kernel whose matmuls happen inside one opaque operator that
    the counter cannot see (it would report 0 FLOPs for the attention itself). The math backend does
    the same QKᵀ and PV matmuls as separate, countable operators. numpy code is invisible too.
    """
    return int(_counted(fn, args, kwargs).get_total_flops())


def flop_counts_by_op(fn: Callable, *args, **kwargs) -> dict[str, int]:
    """Like :func:`count_flops`, split by operator: ``{"aten.mm": …, "aten.bmm": …}``."""
    counts = _counted(fn, args, kwargs).get_flop_counts().get("Global", {})
    return {str(op): int(flops) for op, flops in counts.items()}


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


def loglog_slope(xs, ys) -> float:
    """Least-squares slope p of log y = p · log x + c: the exponent if y ∝ x^p.

    xs, ys: 1-D, same length ≥ 2, every value > 0, at least two distinct xs.
    """
    x = as_float_array(xs, "xs")
    y = as_float_array(ys, "ys")
    if x.ndim != 1 or y.ndim != 1 or x.shape != y.shape or x.size < 2:
        raise ValueError(
            f"xs and ys must be 1-D of the same length >= 2, got {x.shape} and {y.shape}"
        )
    if not (np.all(x > 0) and np.all(y > 0)) or not np.all(np.isfinite(x) & np.isfinite(y)):
        raise ValueError("xs and ys must be finite and > 0 (logarithms are taken)")
    lx, ly = np.log(x), np.log(y)
    lx_c = lx - lx.mean()
    if not np.any(lx_c != 0):
        raise ValueError("xs must contain at least two distinct values")
    # p = Σ (lx - mean)(ly - mean) / Σ (lx - mean)²
    return float(np.dot(lx_c, ly - ly.mean()) / np.dot(lx_c, lx_c))


def sweep(
    fn: Callable, ns: Sequence[int], *, progress: Callable[[Iterable], Iterable] | None = None
) -> dict[str, np.ndarray]:
    """Call ``fn(n)`` for every n in ``ns`` and collect the results as columns.

    ``fn(n)`` returns a number (column ``"value"``) or a dict of numbers (one column per key, the
    same keys every time). Returns ``{"n": array(ns), <column>: array, ...}``, ready for
    :func:`loglog_slope` and plotting.

    ``progress`` wraps the iteration, e.g. ``tutor_lib.widgets.progress`` (an ipywidgets bar in a
    notebook, silent elsewhere). It is a parameter rather than built in because concept modules
    never import ipywidgets: this module stays usable (and testable) without a front end, and the
    lesson decides how to show progress. Default: no progress display.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be callable (e.g. widgets.progress), got {progress!r}")
    if isinstance(ns, (str, bytes)) or not isinstance(ns, Iterable):
        raise TypeError(f"ns must be a list of ints, got {type(ns).__name__}")
    ns = [check_int(n, "ns[i]") for n in ns]
    if not ns:
        raise ValueError("ns must contain at least one value")
    rows = []
    for n in ns if progress is None else progress(ns):
        result = fn(n)
        rows.append(dict(result) if isinstance(result, dict) else {"value": result})
    keys = list(rows[0])
    if "n" in keys:
        raise ValueError("fn(n) must not return a key named 'n' (that column holds ns)")
    if any(list(row) != keys for row in rows):
        raise ValueError(f"fn(n) must return the same keys for every n, first returned {keys}")
    columns = {"n": np.array(ns)}
    columns.update({key: np.array([row[key] for row in rows]) for key in keys})
    return columns
