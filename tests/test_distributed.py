"""tutor_lib.distributed: ring attention over real processes equals dense attention, and every
process exits, also when a rank fails or hangs.

Real runs start 2 or 3 worker processes (each imports torch: a few seconds). The result is checked
twice: by rank 0 inside the run (against tutor_lib.attention) and here, independently, against the
torch oracle on the same seeded blocks. After every run, failed or not, no worker may be alive.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
import torch.distributed as dist
from oracles import assert_close_f64, dense_reference

from tutor_lib.chunking import block_bounds
from tutor_lib.costs import MIB
from tutor_lib.distributed import WorkerError, format_report, launch, ring_attention
from tutor_lib.distributed.worker import block_data


def _alive(pid: int) -> bool:
    """True if ``pid`` is a live process (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return found


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


@linux_only
def test_two_processes_equal_dense_attention_and_exit():
    result = launch(2, 200, d=8, timeout=90)
    assert result["max_abs_error"] < 1e-12
    # independent check of what rank 0 compared against: the same seeded blocks, torch oracle
    bounds = block_bounds(200, 2)
    assert result["query_blocks"] == [list(b) for b in bounds]
    # K/V per rank: its block of 100 tokens + the one arriving, (d_k + d_v) = 16 float64 each
    assert result["kv_peak_bytes"] == [2 * 100 * 16 * 8] * 2
    assert result["blocks_computed"] == [2, 2]
    assert not any(_alive(pid) for pid in result["pids"])
    text = format_report(result)
    assert "max abs error vs dense attention" in text and "rank 1: tokens 100-199" in text


@linux_only
def test_three_processes_causal_uneven_blocks():
    result = launch(3, 301, d=4, causal=True, dtype="float64", seed=3, timeout=90)
    assert result["max_abs_error"] < 1e-12
    assert result["query_blocks"] == [[0, 101], [101, 201], [201, 301]]
    # each rank at some step holds block 0 (101 tokens) and another (100): 201 tokens of K and V
    assert result["kv_peak_bytes"] == [(101 + 100) * 8 * 8] * 3
    # causal: rank r needs blocks 0 … r only; the rest are passed on without computing
    assert result["blocks_computed"] == [1, 2, 3]
    assert not any(_alive(pid) for pid in result["pids"])


def test_the_seeded_blocks_rebuild_the_sequence_the_oracle_checks():
    """What rank 0 compares with: the blocks concatenated, dense attention by the torch oracle."""
    bounds = block_bounds(30, 3)
    blocks = [block_data(3, r, e - s, 4, torch.float64) for r, (s, e) in enumerate(bounds)]
    q, k, v = (torch.cat([b[i] for b in blocks]).numpy() for i in range(3))
    assert q.shape == (30, 4) and not np.allclose(q, k)
    from tutor_lib.chunking import ring_attention as simulated

    assert_close_f64(simulated(q, k, v, 3, causal=True), dense_reference(q, k, v, causal=True))


@linux_only
def test_a_failing_rank_stops_every_process():
    started = time.monotonic()
    with pytest.raises(WorkerError, match="rank 1") as info:
        launch(3, 60, d=4, fail_rank=1, timeout=90)
    assert info.value.rank == 1 and "injected failure" in str(info.value)
    assert len(info.value.pids) == 3
    assert not any(_alive(pid) for pid in info.value.pids)
    assert time.monotonic() - started < 60  # stopped on the failure, not at the timeout


@linux_only
def test_a_hanging_rank_is_killed_at_the_timeout():
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="killed"):
        launch(2, 40, d=4, fail_rank=0, fail_how="hang", timeout=3.0)
    assert time.monotonic() - started < 20
    assert not _children(os.getpid())  # nothing left behind


def test_ring_attention_in_a_one_process_group_is_dense():
    store = dist.HashStore()
    dist.init_process_group(
        "gloo", store=store, rank=0, world_size=1, timeout=datetime.timedelta(seconds=30)
    )
    try:
        g = torch.Generator().manual_seed(0)
        q, k, v = (torch.randn(2, 9, 3, generator=g, dtype=torch.float64) for _ in range(3))
        out, stats = ring_attention(q, k, v, causal=True, return_stats=True)
        assert_close_f64(out.numpy(), dense_reference(q, k, v, causal=True))
        assert stats == {"kv_peak_bytes": 2 * 9 * 6 * 8, "blocks_computed": 1, "steps": 1}
    finally:
        dist.destroy_process_group()


def test_ring_attention_outside_a_process_group_says_so():
    x = torch.zeros(2, 2)
    with pytest.raises(RuntimeError, match="process group"):
        ring_attention(x, x, x)


@linux_only
def test_the_command_line_prints_the_error_and_bytes():
    run = subprocess.run(
        [sys.executable, "-m", "tutor_lib.distributed", "--world-size", "2", "--n", "64"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("ring attention over 2 processes")
    assert float(lines[1].rsplit(":", 1)[1]) < 1e-12
    per_rank = f"peak K/V bytes {2 * 32 * 128 * 8:,} ({2 * 32 * 128 * 8 / MIB:.2f} MiB"
    assert all(per_rank in line for line in lines[2:4])


@linux_only
def test_killing_the_launcher_kills_its_workers():
    """The launcher killed outright (no finally runs): the workers die with it (PR_SET_PDEATHSIG,
    or the parent check at worker start-up)."""
    cli = subprocess.Popen(
        [sys.executable, "-m", "tutor_lib.distributed", "--world-size", "2", "--n", "8"]
        + ["--fail-rank", "0", "--fail-how", "hang", "--timeout", "60"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    workers = []
    while len(workers) < 2 and time.monotonic() < deadline:
        workers = _children(cli.pid)
        time.sleep(0.05)
    assert len(workers) == 2, "the launcher never started its workers"
    cli.kill()
    cli.wait()
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers)
