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

One import for all of it: ``from tutor_lib.measure import peak_bytes, time_call``. The code lives
in small modules, by instrument:

* :mod:`tutor_lib.measure.memory`: ``tracemalloc`` and autograd's saved tensors;
* :mod:`tutor_lib.measure.profiling`: torch's profiler and FLOP counter;
* :mod:`tutor_lib.measure.timing`: the clock, and this machine's matmul rate and memory bandwidth;
* :mod:`tutor_lib.measure.sweeps`: sweeps over n and their log-log slopes.
"""

from tutor_lib.measure.memory import SavedTensor, peak_bytes, saved_bytes, saved_tensors
from tutor_lib.measure.profiling import allocated_bytes, count_flops, flop_counts_by_op, op_times
from tutor_lib.measure.sweeps import loglog_slope, sweep
from tutor_lib.measure.timing import linear_batch_times, matmul_rate, matvec_bandwidth, time_call

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
