"""One rank of :func:`tutor_lib.distributed.launch` (run as ``python -m tutor_lib.distributed.worker``).

It joins the process group through the launcher's TCP store, makes its block of Q, K, V (each block
from its own seeded generator, so rank 0 can rebuild the whole sequence for the check), runs
:func:`tutor_lib.distributed.ring_attention`, and sends its output and byte counts to rank 0, which
compares the gathered output with dense attention and puts the result in the store. On Linux the
worker asks the kernel to kill it if the launcher dies, so no process outlives its launcher.
"""

from __future__ import annotations

import argparse
import ctypes
import datetime
import json
import os
import signal
import sys
import time

import numpy as np
import torch
import torch.distributed as dist

from tutor_lib.attention import attention
from tutor_lib.chunking import block_bounds
from tutor_lib.distributed.ring import ring_attention

DTYPES = {"float64": torch.float64, "float32": torch.float32}
FAILED_AT = "ring worker failed at"  # + a Unix time, written to the log just before the traceback


def die_with_parent(parent: int) -> None:
    """Linux: SIGKILL this process when its parent exits (prctl PR_SET_PDEATHSIG); then exit now
    if the parent is already gone."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        sys.exit(3)


def block_data(seed: int, block: int, rows: int, d: int, dtype: torch.dtype) -> tuple:
    """(q, k, v) of sequence block ``block``, each (rows, d), from generator seed (seed, block)."""
    g = torch.Generator().manual_seed(seed * 100_003 + block)
    return tuple(torch.randn(rows, d, generator=g, dtype=torch.float64).to(dtype) for _ in range(3))


def _gather_on_rank0(out: torch.Tensor, stats: dict, bounds) -> tuple[list, list]:
    """Rank 0 receives every rank's output block and stats (point-to-point); others send."""
    rank, size = dist.get_rank(), dist.get_world_size()
    numbers = torch.tensor([stats["kv_peak_bytes"], stats["blocks_computed"]], dtype=torch.int64)
    if rank != 0:
        dist.send(out.contiguous(), 0)
        dist.send(numbers, 0)
        return [], []
    outs, every = [out], [numbers]
    for r in range(1, size):
        rows = bounds[r][1] - bounds[r][0]
        buf, nums = (
            torch.empty(rows, out.shape[-1], dtype=out.dtype),
            torch.empty(2, dtype=torch.int64),
        )
        dist.recv(buf, r)
        dist.recv(nums, r)
        outs.append(buf)
        every.append(nums)
    return outs, every


def _check_on_rank0(args, outs, every, bounds, dtype) -> dict:
    blocks = [block_data(args.seed, r, e - s, args.d, dtype) for r, (s, e) in enumerate(bounds)]
    q, k, v = (torch.cat([b[i] for b in blocks]).double().numpy() for i in range(3))
    dense = attention(q, k, v, causal=args.causal)
    err = float(np.abs(torch.cat(outs).double().numpy() - dense).max())
    return {
        "max_abs_error": err,
        "kv_peak_bytes": [int(x[0]) for x in every],
        "blocks_computed": [int(x[1]) for x in every],
        "query_blocks": [list(b) for b in bounds],
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    for name in ("rank", "world-size", "port", "n", "d", "seed", "parent"):
        p.add_argument(f"--{name}", type=int, required=True)
    p.add_argument("--timeout", type=float, required=True)
    p.add_argument("--dtype", choices=sorted(DTYPES), required=True)
    p.add_argument("--causal", action="store_true")
    p.add_argument("--fail-rank", type=int, default=-1)
    p.add_argument("--fail-how", choices=("raise", "hang"), default="raise")
    args = p.parse_args(argv)
    die_with_parent(args.parent)
    try:
        return _run(args)
    except BaseException:
        _say_failed()  # a failure before the group existed (the store unreachable, …)
        raise


def _say_failed(said=[]) -> None:  # noqa: B006 - remembers that it has spoken, once per process
    """Write the failure time to the log, once: the launcher blames the rank that failed first
    (its peers fail after it, when they find it gone)."""
    if not said:
        said.append(True)
        print(f"{FAILED_AT} {time.time():.6f}", file=sys.stderr, flush=True)


def _run(args) -> int:
    torch.set_num_threads(1)  # P processes share the cores; one thread each, deterministic sums
    timeout = datetime.timedelta(seconds=args.timeout)
    store = dist.TCPStore("127.0.0.1", args.port, is_master=False, timeout=timeout)
    dist.init_process_group(
        "gloo", store=store, rank=args.rank, world_size=args.world_size, timeout=timeout
    )
    try:
        if args.rank == args.fail_rank:  # fault injection: the clean-exit path is tested with it
            if args.fail_how == "hang":
                time.sleep(10 * args.timeout)
            raise RuntimeError(f"rank {args.rank}: injected failure (--fail-rank)")
        dtype = DTYPES[args.dtype]
        bounds = block_bounds(args.n, args.world_size)
        start, stop = bounds[args.rank]
        q, k, v = block_data(args.seed, args.rank, stop - start, args.d, dtype)
        out, stats = ring_attention(q, k, v, causal=args.causal, return_stats=True)
        outs, every = _gather_on_rank0(out, stats, bounds)
        if args.rank == 0:
            result = _check_on_rank0(args, outs, every, bounds, dtype)
            store.set("result", json.dumps(result))
        dist.barrier()
    except BaseException:
        _say_failed()  # now, before tearing down the group makes the peers fail too
        raise
    finally:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
