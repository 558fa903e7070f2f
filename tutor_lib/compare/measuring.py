"""Every method of the table at every length n, side by side: time, memory, error, FLOP rate.

:func:`measure_methods` returns plain data (a dict of lists and numbers, nothing printed), which
``make bench`` formats into its table and lesson 10 plots. How each number is measured:

* **time**: methods take turns, one call each per round, so every method sees the same machine
  load; the median and the minimum over the rounds are kept (``timer`` picks the clock);
* **memory**: numpy methods: ``tracemalloc`` peak of one call (temporaries and output, beyond the
  inputs); torch methods: the bytes autograd saves for the backward pass (q, k, v excluded), what
  training must keep (torch allocations are invisible to tracemalloc);
* **error**: max |out − exact| against softmax attention in float64 (causal for causal methods),
  on ``error_rows`` query rows spread over the sequence (:mod:`tutor_lib.compare.errors`);
* **FLOP rate**: the FLOPs the method must do (:class:`~tutor_lib.compare.methods.Method`) per
  median second, as a fraction of this machine's matmul rate in the same dtype and threads.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from tutor_lib._validate import check_int
from tutor_lib.compare.errors import error_on_rows, exact_rows, sample_rows
from tutor_lib.compare.methods import Method
from tutor_lib.compare.table import METHODS, get_method
from tutor_lib.limits import TooLargeError, guard_bytes
from tutor_lib.measure import matmul_rate, peak_bytes, saved_bytes, time_call

__all__ = ["measure_methods", "random_qkv"]

SPEED = {"torch": 5e10, "numpy": 1e10}  # FLOP/s guesses, only to weight the progress steps


@dataclass(frozen=True)
class Step:
    """One unit of work of :func:`measure_methods`, as a progress bar sees it: a method's first
    call at length ``n`` (memory and error) or one timed round of every method at ``n``.
    ``cost`` is a rough estimate in seconds, to weight a bar by work rather than by steps."""

    n: int
    kind: str  # "first call" or "round"
    label: str
    cost: float

    def __str__(self) -> str:
        return f"n = {self.n}: {self.label}"


def _methods(methods) -> list[Method]:
    if methods is None:
        return list(METHODS)
    if isinstance(methods, (str, Method)) or not isinstance(methods, Iterable):
        raise TypeError("methods must be a list of Method entries or names")
    chosen = [get_method(m) if isinstance(m, str) else m for m in methods]
    if not chosen or not all(isinstance(m, Method) for m in chosen):
        raise ValueError("methods must be a non-empty list of Method entries or names")
    if len({m.name for m in chosen}) != len(chosen):
        raise ValueError("methods must not name a method twice")
    return chosen


def _rounds(rounds, ns) -> dict[int, int]:
    if isinstance(rounds, Mapping):
        missing = [n for n in ns if n not in rounds]
        if missing:
            raise ValueError(f"rounds must give a count for every n, missing {missing}")
        return {n: check_int(rounds[n], "rounds[n]", minimum=1, maximum=1000) for n in ns}
    count = check_int(rounds, "rounds", minimum=1, maximum=1000)
    return {n: count for n in ns}


def _cost(method: Method, n: int, heads: int, d: int) -> float:
    return heads * method.computed_flops(n, d, d) / SPEED[method.backend]


def _schedule(ns, methods, rounds, heads, d) -> list[Step]:
    steps = []
    for n in ns:
        here = [m for m in methods if m.max_n is None or n <= m.max_n]
        steps += [Step(n, "first call", m.name, 3 * _cost(m, n, heads, d)) for m in here]
        round_cost = sum(_cost(m, n, heads, d) for m in here)
        steps += [
            Step(n, "round", f"round {r + 1}/{rounds[n]}", round_cost) for r in range(rounds[n])
        ]
    return steps


def random_qkv(n: int, heads: int, d: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """The q, k, v :func:`measure_methods` uses at length n: standard normal float64 tensors of
    shape (1, heads, n, d), the same for the same (n, heads, d, seed)."""
    n, heads = check_int(n, "n", minimum=1), check_int(heads, "heads", minimum=1)
    d, seed = check_int(d, "d", minimum=1), check_int(seed, "seed", minimum=0)
    guard_bytes(3 * heads * n * d * 8, f"random_qkv(n={n}, heads={heads}, d={d})")
    g = torch.Generator().manual_seed(seed * 1_000_003 + n)
    return tuple(torch.randn(1, heads, n, d, generator=g, dtype=torch.float64) for _ in range(3))


def _inputs(n: int, heads: int, d: int, dtype: torch.dtype, seed: int) -> dict:
    q, k, v = random_qkv(n, heads, d, seed)  # (1, h, n, d) float64
    return {
        "torch": tuple(t.to(dtype) for t in (q, k, v)),  # (1, h, n, d)
        "numpy": tuple(t.numpy() for t in (q, k, v)),  # float64, same values
    }


def _first_call(method: Method, fn: Callable, args: tuple) -> tuple[int, object]:
    """(memory in bytes, output) of one call: tracemalloc peak (numpy) or saved bytes (torch)."""
    box = []
    if method.backend == "numpy":
        return peak_bytes(lambda: box.append(fn(*args))), box[0]
    leaves = tuple(t.detach().requires_grad_() for t in args)
    memory = saved_bytes(lambda: box.append(fn(*leaves)), exclude=leaves)
    return memory, box[0].detach()


def _timed(method: Method, fn: Callable, args: tuple, timer) -> float:
    if method.backend == "numpy":
        return time_call(fn, *args, repeat=1, warmup=0, timer=timer)
    with torch.no_grad():
        return time_call(fn, *args, repeat=1, warmup=0, timer=timer)


def _check_setup(ns, heads, d, dtype, error_rows, seed, timer, progress) -> list[int]:
    if isinstance(ns, (str, bytes)) or not isinstance(ns, Iterable):
        raise TypeError(f"ns must be a list of ints, got {type(ns).__name__}")
    ns = [check_int(n, "ns[i]", minimum=1) for n in ns]
    if not ns or len(set(ns)) != len(ns):
        raise ValueError(f"ns must be a non-empty list of distinct lengths, got {ns}")
    check_int(heads, "heads", minimum=1)
    check_int(d, "d", minimum=1)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch dtype, got {dtype!r}")
    check_int(error_rows, "error_rows", minimum=1)
    check_int(seed, "seed", minimum=0)
    if not callable(timer):
        raise TypeError(f"timer must be a zero-argument clock, got {type(timer).__name__}")
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be callable (wraps an iterable), got {progress!r}")
    return ns


def measure_methods(
    ns: Sequence[int],
    methods: Sequence[Method | str] | None = None,
    *,
    heads: int = 4,
    d: int = 64,
    rounds: int | Mapping[int, int] = 5,
    dtype: torch.dtype = torch.float32,
    error_rows: int = 256,
    seed: int = 0,
    timer: Callable[[], float] = time.perf_counter,
    progress: Callable[[Iterable], Iterable] | None = None,
) -> dict:
    """Measure ``methods`` (default: all of :data:`~tutor_lib.compare.methods.METHODS`) at every
    length in ``ns`` on the same random q, k, v (batch 1, ``heads`` heads, d_k = d_v = ``d``).

    torch methods run in ``dtype`` on torch's current threads, numpy methods in float64. A method
    is skipped above its ``max_n`` or when a size guard refuses it (``"skipped"`` says why). The
    inputs at each n are :func:`random_qkv` ``(n, heads, d, seed)``.
    ``rounds``: timed rounds per n (an int, or a dict n → int). ``progress`` wraps the list of
    :class:`Step` (e.g. ``tutor_lib.widgets.progress`` or a terminal bar).

    Returns ``{"rows": [...], "skipped": [...], "matmul_rate": {dtype: FLOP/s}, "threads",
    "timer", "heads", "d", "ns", "error_rows"}``; each row is a dict with the method's entry
    (``method, family, lesson, exact, causal, backend, settings``) and ``n, dtype, median_s, min_s,
    rounds, memory_bytes, memory_kind`` ("peak" or "saved"), ``max_error, flops`` (all heads),
    ``matmul_fraction`` (FLOPs / median / matmul rate), ``baseline`` and ``ratio_vs_sdpa``
    (median / the baseline's median at the same n and causality; None without a baseline).
    """
    ns = _check_setup(ns, heads, d, dtype, error_rows, seed, timer, progress)
    methods, rounds = _methods(methods), _rounds(rounds, ns)
    rates = _matmul_rates(methods, dtype, timer)
    by_name = {m.name: m for m in methods}
    skipped = _above_max_n(ns, methods)
    results: dict[int, dict] = {}  # n → {method name: {"times", "memory", "error"}}
    current = None  # the inputs of the length being measured (one length alive at a time)
    steps = _schedule(ns, methods, rounds, heads, d)
    for step in steps if progress is None else progress(steps):
        if current is None or current["n"] != step.n:
            current = None  # free the previous length's inputs first
            current = _start(step.n, heads, d, dtype, seed, error_rows)
            results[step.n] = current["results"]
        _run_step(step, current, by_name, dtype, timer, skipped)
    rows = _rows(ns, methods, results, rates, heads, d, dtype)
    return {
        "rows": rows,
        "skipped": skipped,
        "matmul_rate": rates,
        "threads": torch.get_num_threads(),
        "timer": getattr(timer, "__name__", repr(timer)),
        "heads": heads,
        "d": d,
        "ns": ns,
        "error_rows": error_rows,
    }


def _matmul_rates(methods: list[Method], dtype: torch.dtype, timer) -> dict[str, float]:
    """This machine's matmul rate in each dtype the methods run in: ``dtype`` for torch methods,
    float64 for numpy methods (the denominator of ``matmul_fraction``)."""
    rates = {}
    if any(m.backend == "torch" for m in methods):
        rates[_dtype_name(dtype)] = matmul_rate(dtype=dtype, timer=timer)
    if any(m.backend == "numpy" for m in methods):
        rates["float64"] = matmul_rate(dtype=np.float64, timer=timer)
    return rates


def _above_max_n(ns: list[int], methods: list[Method]) -> list[dict]:
    """The skipped entries of the lengths above each method's ``max_n``."""
    return [
        {"method": m.name, "n": n, "reason": f"n > max_n = {m.max_n}"}
        for n in ns
        for m in methods
        if m.max_n is not None and n > m.max_n
    ]


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _start(n: int, heads: int, d: int, dtype: torch.dtype, seed: int, error_rows: int) -> dict:
    inputs = _inputs(n, heads, d, dtype, seed)
    rows = sample_rows(n, error_rows)
    q, k, v = inputs["numpy"]
    exact = {False: exact_rows(q, k, v, rows), True: exact_rows(q, k, v, rows, causal=True)}
    return {"n": n, "inputs": inputs, "rows": rows, "exact": exact, "fns": {}, "results": {}}


def _run_step(step: Step, current: dict, by_name: dict, dtype, timer, skipped: list) -> None:
    """Run one step: a method's first call (memory, error) or one timed round of every method."""
    inputs, fns, results = current["inputs"], current["fns"], current["results"]
    if step.kind == "round":
        for name, fn in fns.items():
            method = by_name[name]
            results[name]["times"].append(_timed(method, fn, inputs[method.backend], timer))
        return
    method = by_name[step.label]
    try:
        fn = method.make(step.n, dtype)
        memory, out = _first_call(method, fn, inputs[method.backend])
    except TooLargeError as err:  # a size guard refused this length: say so, go on
        skipped.append({"method": method.name, "n": step.n, "reason": str(err)})
        return
    error = error_on_rows(out, current["exact"][method.causal], current["rows"])
    fns[method.name] = fn
    results[method.name] = {"times": [], "memory": int(memory), "error": float(error)}


def _rows(ns, methods, results, rates, heads, d, dtype) -> list[dict]:
    rows = []
    for n in ns:
        found = results.get(n, {})
        medians = {name: float(np.median(r["times"])) for name, r in found.items()}
        baselines = {}  # causal → the first baseline measured at n with that causality
        for m in methods:
            if m.baseline and m.name in found:
                baselines.setdefault(m.causal, m.name)
        for m in methods:
            if m.name not in found:
                continue
            r, median = found[m.name], medians[m.name]
            row_dtype = "float64" if m.backend == "numpy" else _dtype_name(dtype)
            flops = heads * m.flops(n, d, d)
            base = baselines.get(m.causal)
            rows.append(
                {
                    "method": m.name,
                    "family": m.family,
                    "lesson": m.lesson,
                    "exact": m.exact,
                    "causal": m.causal,
                    "backend": m.backend,
                    "settings": m.settings,
                    "n": n,
                    "dtype": row_dtype,
                    "median_s": median,
                    "min_s": float(min(r["times"])),
                    "rounds": len(r["times"]),
                    "memory_bytes": r["memory"],
                    "memory_kind": "peak" if m.backend == "numpy" else "saved",
                    "max_error": r["error"],
                    "flops": flops,
                    "flops_done": heads * m.computed_flops(n, d, d),
                    "matmul_fraction": flops / max(median, 1e-12) / rates[row_dtype],
                    "baseline": base,
                    "ratio_vs_sdpa": None if base is None else median / max(medians[base], 1e-12),
                }
            )
    return rows
