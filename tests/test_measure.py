"""tutor_lib.measure: deterministic byte counts on known allocations, fake clocks, exact power laws."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor_lib.measure import (
    allocated_bytes,
    loglog_slope,
    peak_bytes,
    saved_bytes,
    sweep,
    time_call,
)
from tutor_lib.widgets.progress import Progress, in_kernel, progress

OVERHEAD = 2048  # array headers and Python objects around a known allocation


# -- peak_bytes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 1000, 10**6])
def test_peak_bytes_of_one_numpy_array(size):
    expected = 8 * size
    assert expected <= peak_bytes(np.ones, size) <= expected + OVERHEAD
    assert size <= peak_bytes(np.zeros, size, dtype=np.uint8) <= size + OVERHEAD


def test_peak_is_the_maximum_not_the_sum_of_what_was_allocated():
    def one_after_another():
        for _ in range(3):
            a = np.ones(10**6)  # freed (del) before the next one is made
            del a

    def all_at_once():
        return [np.ones(10**6) for _ in range(3)]

    mib8 = 8 * 10**6
    assert mib8 <= peak_bytes(one_after_another) <= mib8 + OVERHEAD
    assert 3 * mib8 <= peak_bytes(all_at_once) <= 3 * mib8 + OVERHEAD


def test_inputs_do_not_count_but_the_result_does():
    x = np.ones(10**6)
    assert peak_bytes(np.sum, x) <= OVERHEAD
    assert 8 * 10**6 <= peak_bytes(np.copy, x) <= 8 * 10**6 + OVERHEAD


def test_torch_allocations_are_not_traced():
    # Documented limitation: torch allocates outside Python's tracked allocators.
    assert peak_bytes(torch.ones, 10**6, dtype=torch.float64) < OVERHEAD


def test_peak_bytes_restores_the_tracing_state():
    assert not tracemalloc.is_tracing()
    peak_bytes(np.ones, 10)
    assert not tracemalloc.is_tracing()
    tracemalloc.start()
    try:
        assert 8000 <= peak_bytes(np.ones, 1000) <= 8000 + OVERHEAD
        assert tracemalloc.is_tracing()
    finally:
        tracemalloc.stop()


def test_peak_bytes_stops_tracing_when_fn_raises():
    def boom():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        peak_bytes(boom)
    assert not tracemalloc.is_tracing()


# -- saved_bytes ---------------------------------------------------------------------------------


def test_saved_bytes_of_a_matmul_is_both_inputs():
    x = torch.randn(30, 20, dtype=torch.float64, requires_grad=True)
    w = torch.randn(20, 10, dtype=torch.float64, requires_grad=True)
    assert saved_bytes(torch.matmul, x, w) == 8 * (30 * 20 + 20 * 10)


def test_saved_bytes_counts_a_storage_once():
    x = torch.randn(100, requires_grad=True)
    assert saved_bytes(lambda t: t * t, x) == 4 * 100  # x saved twice, stored once
    assert saved_bytes(torch.exp, x) == 4 * 100  # exp saves its output
    assert saved_bytes(lambda t: torch.exp(t) * t, x) == 2 * 4 * 100


def test_saved_bytes_is_zero_without_grad():
    x = torch.randn(100)
    assert saved_bytes(torch.exp, x) == 0
    with torch.no_grad():
        assert saved_bytes(torch.exp, x.requires_grad_()) == 0


# -- time_call -----------------------------------------------------------------------------------


def fake_clock(deltas):
    """A clock whose consecutive start/stop readings are `deltas` apart."""
    readings, now = [], 0.0
    for delta in deltas:
        readings += [now, now + delta]
        now += delta + 100.0
    return iter(readings).__next__


def test_time_call_returns_the_median_and_calls_warmup_plus_repeat_times():
    calls = []
    t = time_call(calls.append, 1, repeat=5, warmup=2, timer=fake_clock([5.0, 1.0, 3.0, 9.0, 2.0]))
    assert t == 3.0
    assert calls == [1] * 7


def test_time_call_even_repeat_is_the_mean_of_the_middle_two():
    assert (
        time_call(lambda: None, repeat=4, warmup=0, timer=fake_clock([4.0, 1.0, 2.0, 8.0])) == 3.0
    )


def test_time_call_on_a_real_clock_is_positive():
    assert time_call(np.ones, 1000, repeat=3) > 0


@pytest.mark.parametrize("kwargs, match", [({"repeat": 0}, "repeat"), ({"warmup": -1}, "warmup")])
def test_time_call_bad_counts(kwargs, match):
    with pytest.raises(ValueError, match=match):
        time_call(lambda: None, **kwargs)


# -- loglog_slope --------------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(
    p=st.floats(-3, 3),
    c=st.floats(1e-6, 1e6),
    xs=st.lists(st.integers(1, 10**6), min_size=2, max_size=8, unique=True),
)
def test_loglog_slope_recovers_the_exponent_of_a_power_law(p, c, xs):
    xs = np.array(xs, dtype=float)
    assert abs(loglog_slope(xs, c * xs**p) - p) < 1e-9


def test_loglog_slope_is_the_least_squares_fit():
    rng = np.random.default_rng(0)
    xs = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    ys = xs**2 * np.exp(0.3 * rng.standard_normal(5))
    # independent reference: numpy's polynomial fit on the logs
    assert abs(loglog_slope(xs, ys) - np.polyfit(np.log(xs), np.log(ys), 1)[0]) < 1e-12


@pytest.mark.parametrize(
    "xs, ys, match",
    [
        ([1, 2, 3], [1, 2], "xs and ys"),
        ([1], [1], "xs and ys"),
        ([1, 2], [0, 1], "> 0"),
        ([-1, 2], [1, 1], "> 0"),
        ([3, 3, 3], [1, 2, 3], "distinct"),
        ([[1, 2]], [[1, 2]], "1-D"),
    ],
)
def test_loglog_slope_bad_input(xs, ys, match):
    with pytest.raises(ValueError, match=match):
        loglog_slope(xs, ys)


# -- sweep and the progress bar ------------------------------------------------------------------


def test_sweep_collects_numbers_as_a_value_column():
    out = sweep(lambda n: n * n, [2, 3, 5])
    assert out["n"].tolist() == [2, 3, 5] and out["value"].tolist() == [4, 9, 25]


def test_sweep_collects_dicts_as_columns_and_fits_a_slope():
    out = sweep(lambda n: {"bytes": 8 * n * n, "time": 1e-9 * n**3}, [64, 128, 256])
    assert set(out) == {"n", "bytes", "time"}
    assert abs(loglog_slope(out["n"], out["bytes"]) - 2) < 1e-12
    assert abs(loglog_slope(out["n"], out["time"]) - 3) < 1e-12


def test_sweep_iterates_through_the_progress_wrapper():
    seen = []

    def wrapper(items):
        seen.append(list(items))
        return iter(items)

    sweep(lambda n: n, [1, 2, 3], progress=wrapper)
    assert seen == [[1, 2, 3]]


def test_sweep_with_the_progress_widget_counts_every_item():
    bars = []

    def wrapper(items):
        bars.append(progress(items, show=False))
        return bars[-1]

    out = sweep(lambda n: n + 1, [4, 5], progress=wrapper)
    assert out["value"].tolist() == [5, 6]
    assert bars[0].bar.value == 2 and bars[0].bar.max == 2 and bars[0].bar.bar_style == "success"


def test_sweep_bad_input():
    with pytest.raises(ValueError, match="ns"):
        sweep(lambda n: n, [])
    with pytest.raises(ValueError, match="same keys"):
        sweep(lambda n: {"a": 1} if n == 1 else {"b": 2}, [1, 2])
    with pytest.raises(ValueError, match="'n'"):
        sweep(lambda n: {"n": n}, [1])
    with pytest.raises(TypeError, match="fn"):
        sweep("not callable", [1])
    with pytest.raises(TypeError, match="ns"):
        sweep(lambda n: n, [1.5])


def test_progress_is_silent_outside_a_kernel(capsys):
    assert not in_kernel()
    p = progress(range(3))
    assert isinstance(p, Progress) and not p.show and len(p) == 3
    assert list(p) == [0, 1, 2] and p.bar.value == 3
    assert capsys.readouterr().out == ""


def test_progress_displays_its_initial_repr_once_when_shown(capsys):
    p = progress(["a", "b"], description="sizes", show=True)
    assert list(p) == ["a", "b"]
    out = capsys.readouterr().out  # IPython's display() prints the repr outside a kernel
    assert out.count("IntProgress(") == 1 and "value=0" in out and "max=2" in out


def test_machine_rates_divide_the_work_by_the_best_time(monkeypatch):
    """matmul_rate = 2·n³ FLOPs / time, matvec_bandwidth = bytes of W / time, each with the best
    (reduce="min") of its runs. The clock is replaced, so the test is exact and never flaky; the
    real rates are what `make bench` prints."""
    from tutor_lib import measure
    from tutor_lib.measure import timing

    calls = []

    def fake_time_call(fn, *args, repeat, reduce, **kwargs):
        calls.append((fn, reduce, repeat, [tuple(a.shape) for a in args]))
        return 0.5

    # patched where matmul_rate and matvec_bandwidth look it up (the package only re-exports it)
    monkeypatch.setattr(timing, "time_call", fake_time_call)
    assert measure.matmul_rate(256, repeat=3) == 2 * 256**3 / 0.5
    assert measure.matmul_rate(64, dtype=torch.float64) == 2 * 64**3 / 0.5
    assert measure.matvec_bandwidth(1024, 512, repeat=2) == 1024 * 512 * 4 / 0.5
    assert measure.matvec_bandwidth(128, 64, dtype=torch.float64) == 128 * 64 * 8 / 0.5
    assert [c[0] for c in calls] == [torch.matmul, torch.matmul, torch.mv, torch.mv]
    assert all(c[1] == "min" for c in calls)
    assert calls[0][3] == [(256, 256), (256, 256)] and calls[2][3] == [(1024, 512), (512,)]


def test_allocated_bytes_sees_torch_allocations_and_keeps_stderr_clean(capfd):
    four_mib = allocated_bytes(lambda: torch.ones(1024, 1024))  # float32: 4 MiB
    assert 4 * 1024 * 1024 <= four_mib < 5 * 1024 * 1024
    assert allocated_bytes(lambda: None) == 0
    assert "profiler" not in capfd.readouterr().err  # the profiler's C++ start/stop lines
    with pytest.raises(TypeError, match="fn"):
        allocated_bytes("not a function")
