"""measure.op_times (where a torch call's time goes) and matmul_rate's clock and numpy dtypes."""

from __future__ import annotations

import numpy as np
import torch

from tutor_lib import measure
from tutor_lib.measure import op_times, timing


def test_op_times_puts_a_matmul_heavy_call_in_mm_and_keeps_stderr_clean(capfd):
    a = torch.randn(256, 256)
    times = op_times(lambda: torch.relu(a @ a @ a))  # two matmuls, one cheap element-wise op
    assert list(times)[0] == "aten::mm"  # largest first
    assert times["aten::mm"] > times.get("aten::relu", 0.0) >= 0
    assert all(t > 0 for t in times.values())
    assert list(times.values()) == sorted(times.values(), reverse=True)
    assert "profiler" not in capfd.readouterr().err  # the profiler's C++ start/stop lines


def test_op_times_sees_nothing_outside_torch():
    assert op_times(np.ones, (64, 64)) == {}


def test_matmul_rate_times_numpy_for_a_numpy_dtype_with_the_given_clock(monkeypatch):
    calls = []

    def fake_time_call(fn, *args, repeat, reduce, timer, **kwargs):
        calls.append((fn, [(a.shape, a.dtype) for a in args], timer))
        return 0.25

    def clock():
        return 0.0

    monkeypatch.setattr(timing, "time_call", fake_time_call)  # where matmul_rate looks it up
    assert measure.matmul_rate(32, dtype=np.float64, timer=clock) == 2 * 32**3 / 0.25
    assert measure.matmul_rate(16, dtype=torch.float32) == 2 * 16**3 / 0.25
    assert calls[0] == (np.matmul, [((32, 32), np.float64)] * 2, clock)
    assert calls[1][0] is torch.matmul and calls[1][1] == [((16, 16), torch.float32)] * 2
