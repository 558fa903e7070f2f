"""The lesson-09 checks (tutor_lib/exercises/chunking.py): a learner's correct answer, written the
way the lesson suggests, passes; typical mistakes fail with a hint; stubs are "not attempted yet"."""

from __future__ import annotations

import numpy as np
import pytest
from oracles import counting

from tutor_lib.exercises import (
    check_chunked_local_attention,
    check_ring_attention,
    check_txl_earliest_position,
)


def _softmax_attention(q, k, v, allowed):
    s = np.where(allowed, q @ k.T / np.sqrt(q.shape[1]), -np.inf)
    m = s.max(1, keepdims=True)
    p = np.exp(s - np.where(np.isfinite(m), m, 0))
    return p @ v / p.sum(1, keepdims=True)


def learner_chunked(q, k, v, chunk):
    out = np.empty((q.shape[0], v.shape[1]))
    for s in range(0, q.shape[0], chunk):
        e = s + chunk
        out[s:e] = _softmax_attention(q[s:e], k[s:e], v[s:e], True)
    return out


def chunked_added_not_concatenated(q, k, v, chunk):
    out = learner_chunked(q, k, v, chunk)
    return out + out.mean(0)  # "additive merge" of every chunk into each token


def learner_ring(q, k, v, num_devices, *, causal):
    """Per device: running max, normalizer, accumulator over the K/V blocks arriving on the ring."""
    n = q.shape[0]
    bounds = np.array_split(np.arange(n), num_devices)
    out = np.empty((n, v.shape[1]))
    for p, rows in enumerate(bounds):
        m = np.full(len(rows), -np.inf)
        norm, acc = np.zeros(len(rows)), np.zeros((len(rows), v.shape[1]))
        for step in range(num_devices):
            cols = bounds[(p - step) % num_devices]
            s = q[rows] @ k[cols].T / np.sqrt(q.shape[1])
            if causal:
                s = np.where(cols[None, :] <= rows[:, None], s, -np.inf)
            m_new = np.maximum(m, s.max(1))
            shift = np.where(np.isfinite(m_new), m_new, 0.0)
            e = np.exp(s - shift[:, None])
            scale = np.exp(m - shift)
            norm, acc, m = norm * scale + e.sum(1), acc * scale[:, None] + e @ v[cols], m_new
        out[rows] = acc / norm[:, None]
    return out


def ring_ignoring_causal(q, k, v, num_devices, *, causal):
    return learner_ring(q, k, v, num_devices, causal=False)


def learner_txl(position, segment, memory, layers):
    for _ in range(layers):
        position = max(0, position // segment * segment - memory)
    return position


def txl_one_layer_only(position, segment, memory, layers):
    return learner_txl(position, segment, memory, min(layers, 1))


@pytest.mark.parametrize(
    "check, good, bad",
    [
        (check_chunked_local_attention, learner_chunked, chunked_added_not_concatenated),
        (check_ring_attention, learner_ring, ring_ignoring_causal),
        (check_txl_earliest_position, learner_txl, txl_one_layer_only),
    ],
)
def test_good_passes_bad_fails_stub_not_attempted(check, good, bad, capsys):
    counted = counting(good)
    assert check(counted) is True
    assert counted.calls >= 5
    assert check(bad) is False
    out = capsys.readouterr().out
    assert "✓ passed" in out and "✗ case" in out and "hint:" in out

    def stub(*args, **kwargs):
        raise NotImplementedError

    assert check(stub) is False
    assert capsys.readouterr().out.strip() == "not attempted yet"
