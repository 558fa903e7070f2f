"""What torch's own instruments see: its profiler (bytes allocated, time per operator) and its FLOP
counter.

* :func:`allocated_bytes` sums what torch's operators allocate (``torch.profiler``), for torch code
  whose memory tracemalloc cannot see; :func:`op_times` says which operators the time goes to;
* :func:`count_flops` counts the FLOPs torch performs (``FlopCounterMode``), with attention forced
  onto SDPA's math path so that its matmuls are visible to the counter;
  :func:`flop_counts_by_op` splits the count by operator.

numpy code is invisible to all of them.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable

from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.profiler import ProfilerActivity, profile
from torch.utils.flop_counter import FlopCounterMode

__all__ = ["allocated_bytes", "op_times", "count_flops", "flop_counts_by_op"]


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
