"""tutor_lib.measure.linear_batch_times: the y = xW batch sweep times the matmul it says it times
(a fake clock makes the numbers exact) and checks its sizes before allocating."""

from __future__ import annotations

import pytest
import torch

import tutor_lib.measure.timing as timing
from tutor_lib.limits import TooLargeError, set_max_bytes
from tutor_lib.measure import linear_batch_times


def test_columns_follow_the_batches_and_every_call_is_x_at_w(monkeypatch):
    shapes, seen = [], []

    def fake_time_call(fn, *args, repeat, reduce, **kwargs):
        x, w = args
        assert fn is torch.matmul and reduce == "min" and repeat == 2
        shapes.append((tuple(x.shape), tuple(w.shape)))
        seen.append(w.data_ptr())
        return 1e-3 * x.shape[0]  # a fake time: 1 ms per row

    monkeypatch.setattr(timing, "time_call", fake_time_call)  # where linear_batch_times looks it up
    result = linear_batch_times([1, 4, 2], 6, 5, repeat=2)
    assert result["batch"].tolist() == [1, 4, 2]
    assert result["seconds"].tolist() == pytest.approx([1e-3, 4e-3, 2e-3])
    assert shapes == [((1, 6), (6, 5)), ((4, 6), (6, 5)), ((2, 6), (6, 5))]
    assert len(set(seen)) == 1  # one W shared by every batch size


def test_real_timings_are_positive_and_dtype_is_used():
    result = linear_batch_times([1, 2], 16, 8, dtype=torch.float64, repeat=1)
    assert (result["seconds"] > 0).all() and result["batch"].dtype.kind == "i"


def test_size_is_checked_before_allocating():
    old = set_max_bytes(1024)
    try:
        with pytest.raises(TooLargeError, match="linear_batch_times"):
            linear_batch_times([1], 32, 32)  # W alone is 4 KiB in fp32
        linear_batch_times([1], 8, 8, repeat=1)  # 256 B + x and y: fits
    finally:
        set_max_bytes(old)
