"""Start a ring of real processes on this machine, check their result, and always clean up.

:func:`launch` opens a TCP store on 127.0.0.1 (port 0: the OS picks a free port, and the launcher
holds it, so no other program can take it in between), starts ``world_size`` worker processes
(``python -m tutor_lib.distributed.worker``) that join a gloo process group through it, and
waits. It never leaves a process behind:

* a worker that fails (non-zero exit) → every other worker is killed and a RuntimeError carries
  the failing rank's last error lines;
* past ``timeout`` seconds → every worker is killed and TimeoutError is raised;
* the launcher itself interrupted (Ctrl-C, an exception) → workers are killed in ``finally``;
  killed outright → the kernel kills the workers (Linux, PR_SET_PDEATHSIG in the worker);
* communication timeouts inside the group equal ``timeout``, so a rank waiting for a dead peer
  gives up by itself too.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import tempfile
import time

import torch.distributed as dist

from tutor_lib._validate import check_bool, check_int, check_positive_float
from tutor_lib.costs import MIB
from tutor_lib.distributed.worker import FAILED_AT
from tutor_lib.limits import guard_bytes

__all__ = ["WorkerError", "launch", "format_report"]

MAX_WORLD_SIZE = 16


class WorkerError(RuntimeError):
    """A worker process failed; ``.rank`` is its rank, ``.pids`` every worker's process id."""

    def __init__(self, message: str, rank: int, pids: list[int]):
        super().__init__(message)
        self.rank, self.pids = rank, pids


def _stop_all(procs: list[subprocess.Popen]) -> None:
    """Kill every worker still running and reap them all (no zombie, no orphan)."""
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL cannot be ignored
            pass


def _tail(path: str, lines: int = 6) -> str:
    with open(path, errors="replace") as f:
        return "\n".join(f.read().strip().splitlines()[-lines:])


def _command(rank: int, world_size: int, port: int, opts: dict) -> list[str]:
    cmd = [sys.executable, "-m", "tutor_lib.distributed.worker", "--rank", str(rank)]
    cmd += ["--world-size", str(world_size), "--port", str(port), "--parent", str(os.getpid())]
    for key in ("n", "d", "seed", "timeout", "dtype", "fail_rank", "fail_how"):
        cmd += [f"--{key.replace('_', '-')}", str(opts[key])]
    return cmd + (["--causal"] if opts["causal"] else [])


def _failure_time(log: str) -> float:
    """When the worker wrote to ``log`` that it failed (inf if it did not say)."""
    with open(log, errors="replace") as f:
        for line in f:
            if line.startswith(FAILED_AT):
                return float(line.split()[-1])
    return float("inf")


def _first_cause(procs, logs) -> tuple[int, list[int]]:
    """(the rank that failed first, every failed rank). When one rank dies its peers fail too
    ("connection closed by peer"), sometimes before the launcher notices the first: give them a
    moment to exit, then blame the rank whose failure has the earliest time stamp."""
    grace = time.monotonic() + 1.0
    while time.monotonic() < grace and any(p.poll() is None for p in procs):
        time.sleep(0.02)
    failed = [r for r, p in enumerate(procs) if p.poll() not in (None, 0)]
    return min(failed, key=lambda r: (_failure_time(logs[r]), r)), failed


def _wait(procs, logs, deadline: float, timeout: float) -> None:
    pids = [p.pid for p in procs]
    while True:
        codes = [p.poll() for p in procs]
        if any(code not in (None, 0) for code in codes):
            rank, failed = _first_cause(procs, logs)
            code = procs[rank].poll()
            _stop_all(procs)
            raise WorkerError(
                f"rank {rank} exited with code {code} (failed: ranks {failed}); all workers "
                f"stopped. Its last lines:\n{_tail(logs[rank])}",
                rank,
                pids,
            )
        if all(code == 0 for code in codes):
            return
        if time.monotonic() > deadline:
            _stop_all(procs)
            raise TimeoutError(f"the ring did not finish within {timeout:g} s: all workers killed")
        time.sleep(0.02)


def _options(world_size, n, d, causal, dtype, seed, timeout, fail_rank, fail_how) -> dict:
    """The checked settings of :func:`launch` (a named error for the first bad one)."""
    world_size = check_int(world_size, "world_size", minimum=1, maximum=MAX_WORLD_SIZE)
    n = check_int(n, "n", minimum=world_size)
    d = check_int(d, "d", minimum=1)
    causal = check_bool(causal, "causal")
    if dtype not in ("float64", "float32"):
        raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
    seed = check_int(seed, "seed", minimum=0)
    timeout = check_positive_float(timeout, "timeout")
    if fail_rank is not None:
        check_int(fail_rank, "fail_rank", minimum=0, maximum=world_size - 1)
    if fail_how not in ("raise", "hang"):
        raise ValueError(f"fail_how must be 'raise' or 'hang', got {fail_how!r}")
    guard_bytes(3 * n * n * 8, f"launch(n={n})", hint="rank 0 checks against dense attention")
    opts = dict(world_size=world_size, n=n, d=d, seed=seed, timeout=timeout, dtype=dtype)
    opts.update(causal=causal, fail_rank=-1 if fail_rank is None else fail_rank, fail_how=fail_how)
    return opts


def _spawn(rank: int, port: int, opts: dict, log_path: str) -> subprocess.Popen:
    """Start worker ``rank``, its stdout and stderr going to ``log_path``."""
    with open(log_path, "w") as log:
        return subprocess.Popen(
            _command(rank, opts["world_size"], port, opts),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C reaches the launcher only
        )


def launch(
    world_size: int = 4,
    n: int = 4096,
    *,
    d: int = 64,
    causal: bool = False,
    dtype: str = "float64",
    seed: int = 0,
    timeout: float = 120.0,
    fail_rank: int | None = None,
    fail_how: str = "raise",
) -> dict:
    """Run ring attention over ``world_size`` processes (gloo, 127.0.0.1), n tokens, head dim d.

    Returns a dict: ``max_abs_error`` (gathered output vs dense attention, computed on rank 0),
    ``kv_peak_bytes`` and ``blocks_computed`` per rank, ``query_blocks`` [(start, stop)] per rank,
    ``pids`` of the (finished) workers, and the settings. ``fail_rank`` / ``fail_how`` ("raise" or
    "hang") make one rank fail on purpose, to exercise the clean-up (tests and the curious).
    """
    opts = _options(world_size, n, d, causal, dtype, seed, timeout, fail_rank, fail_how)
    timeout = opts["timeout"]
    store = dist.TCPStore(
        "127.0.0.1",
        0,
        is_master=True,
        wait_for_workers=False,
        timeout=datetime.timedelta(seconds=timeout),
    )
    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="ring-") as tmp:
        logs = [os.path.join(tmp, f"rank{r}.log") for r in range(opts["world_size"])]
        try:
            for rank, log_path in enumerate(logs):  # one at a time, so `finally` stops every
                procs.append(_spawn(rank, store.port, opts, log_path))  # worker already started
            _wait(procs, logs, time.monotonic() + timeout, timeout)
        finally:
            _stop_all(procs)
    result = json.loads(store.get("result"))
    result.update({key: opts[key] for key in ("world_size", "n", "d", "causal", "dtype")})
    result["pids"] = [p.pid for p in procs]
    return result


def format_report(result: dict) -> str:
    """The text ``python -m tutor_lib.distributed`` prints for a :func:`launch` result."""
    if not isinstance(result, dict) or "kv_peak_bytes" not in result:
        raise TypeError("result must be the dict returned by launch()")
    itemsize = 8 if result["dtype"] == "float64" else 4
    full = result["n"] * 2 * result["d"] * itemsize
    lines = [
        f"ring attention over {result['world_size']} processes (torch.distributed, gloo, "
        f"127.0.0.1): n = {result['n']}, d = {result['d']}, {result['dtype']}, "
        + ("causal" if result["causal"] else "non-causal"),
        f"max abs error vs dense attention: {result['max_abs_error']:.2e}",
    ]
    for rank, (bytes_, (start, stop)) in enumerate(
        zip(result["kv_peak_bytes"], result["query_blocks"], strict=True)
    ):
        lines.append(
            f"rank {rank}: tokens {start}-{stop - 1}, peak K/V bytes {bytes_:,} "
            f"({bytes_ / MIB:.2f} MiB; all of K and V: {full / MIB:.2f} MiB)"
        )
    return "\n".join(lines)
