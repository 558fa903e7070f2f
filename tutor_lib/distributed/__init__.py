"""Ring attention over real processes (torch.distributed, gloo, localhost) — lesson 09.

* :func:`ring_attention` (:mod:`tutor_lib.distributed.ring`): call it on every rank of an initialised
  process group with that rank's blocks of Q, K, V; returns that rank's exact output;
* :func:`launch` (:mod:`tutor_lib.distributed.launch`): starts ``world_size`` processes on
  127.0.0.1, runs the ring, checks the gathered output against dense attention, returns the error
  and each rank's peak K/V bytes, and never leaves a process behind;
* ``python -m tutor_lib.distributed --world-size 4 --n 4096`` does the same from a shell.

The simulated (single-process) version is :func:`tutor_lib.chunking.ring_attention`.
"""

from tutor_lib.distributed.launch import WorkerError, format_report, launch
from tutor_lib.distributed.ring import ring_attention

__all__ = ["WorkerError", "format_report", "launch", "ring_attention"]
