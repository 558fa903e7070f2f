"""Hypothesis fuzzing of bad inputs: random shapes, special values (NaN, ±inf, 1e200), odd types and
sizes. Every call must end in one of two ways:

* a ``ValueError`` / ``TypeError`` whose message names an argument of the call (TooLargeError is a
  ValueError), or
* a correct result: equal to an independent reference (tests/oracles.py, torch, an ``arange``
  oracle, the closed-form count), and finite.

Never a hang, a NaN, a silently wrong answer or an error from numpy's internals. The exercise checks
get random "learner answers" of every kind and must print one ✓/✗ line and return a bool.
"""

from __future__ import annotations

import contextlib
import io
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracles import dense_reference

from tutor_lib import costs, exercises, masks
from tutor_lib.attention import attention
from tutor_lib.ffn import ffn
from tutor_lib.sparse import block_sparse_attention, sliding_window_attention

FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,  # the same examples on every run: a red CI is reproducible
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SPECIALS = (np.nan, np.inf, -np.inf, 1e200, -1e200, 0.0)


def named_error_or(call, check, names):
    """``call()`` raises a ValueError/TypeError naming one of ``names``, or returns a value that
    passes ``check``. Returns the value (None after an error)."""
    try:
        value = call()
    except (ValueError, TypeError) as err:
        text = str(err)
        assert any(name in text for name in names), f"the error names none of {names}: {text!r}"
        return None
    assert check(value), f"wrong result {value!r}"
    return value


def close(got, expected) -> bool:
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    return (
        got.shape == expected.shape
        and bool(np.isfinite(got).all())
        and bool(np.allclose(got, expected, rtol=1e-9, atol=1e-9))
    )


@st.composite
def arrays(draw, shape, *, specials=True):
    """A float64 array of ``shape``: normal values and, in one array out of ten, 1 to 3 special
    values (NaN, ±inf, ±1e200, 0) at random places. Drawn from a seeded RNG (see :func:`mostly`)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    a = rng.standard_normal(shape)
    if specials and a.size and rng.random() < 0.1:
        for _ in range(rng.integers(1, 4)):
            a.flat[rng.integers(a.size)] = SPECIALS[rng.integers(len(SPECIALS))]
    return a


def mostly(good, bad, p_bad=0.07):
    """A good value most of the time (so results get checked too), a bad one with probability
    ``p_bad``. The choice is made by a seeded RNG: hypothesis alone favours the edge cases."""

    def pick(seed):
        rng = np.random.default_rng(seed)
        pool = bad if rng.random() < p_bad else good
        return pool[rng.integers(len(pool))]

    return st.integers(0, 2**32 - 1).map(pick)


FLAG = mostly([True, False], ["False", 0, 1, None])
DIM = mostly([1, 2, 3, 4], [0])


# -- numpy attention ------------------------------------------------------------------------------


@FUZZ
@given(
    data=st.data(),
    lead=st.sampled_from([(), (2,), (1, 2)]),
    n_q=DIM,
    n_k=DIM,
    d_k=DIM,
    d_v=DIM,
    bad_d=mostly([False], [True]),
)
def test_attention_named_error_or_the_dense_reference(data, lead, n_q, n_k, d_k, d_v, bad_d):
    q = data.draw(arrays((*lead, n_q, d_k)))
    k = data.draw(arrays((*lead, n_k, d_k + (1 if bad_d else 0))))
    v = data.draw(arrays((*lead, n_k, d_v)))
    mask_kind = data.draw(mostly(["none", "bool"], ["wrong shape", "ints"]))
    mask = {
        "none": None,
        "bool": np.random.default_rng(n_q).random((n_q, n_k)) < 0.6,
        "wrong shape": np.ones((n_q + 1, n_k), dtype=bool),
        "ints": np.ones((n_q, n_k), dtype=int),
    }[mask_kind]
    causal = data.draw(FLAG)
    scale = data.draw(mostly([None, 0.5, 3.0], [0.0, -1.0, np.nan, "0.5"]))

    def reference(out):
        return close(out, dense_reference(q, k, v, mask, causal=causal, scale=scale))

    named_error_or(
        lambda: attention(q, k, v, mask, causal=causal, scale=scale),
        reference,
        ("q", "k", "v", "mask", "causal", "scale", "d_k", "n_k"),
    )


# -- torch kernels --------------------------------------------------------------------------------


@FUZZ
@given(
    data=st.data(),
    n=mostly(list(range(1, 13)), [0]),
    d=st.integers(1, 3),
    left=mostly([0, 1, 3, 10**6], [-1, 1.5]),
    right=mostly([0, 2, 10**6], [-2, None]),
    block=mostly([None, 1, 3, 10**6], [0, 2.0]),
)
def test_sliding_window_named_error_or_the_dense_reference(data, n, d, left, right, block):
    q, k, v = (torch.from_numpy(data.draw(arrays((1, n, d)))) for _ in range(3))

    def reference(out):
        band = masks.local_mask(n, min(left, n), min(right, n))
        return close(out.numpy(), dense_reference(q.numpy(), k.numpy(), v.numpy(), band))

    named_error_or(
        lambda: sliding_window_attention(q, k, v, left=left, right=right, block=block),
        reference,
        ("q", "k", "v", "left", "right", "block", "overflow"),
    )


@FUZZ
@given(
    data=st.data(),
    n_q=mostly(list(range(1, 10)), [0]),
    n_k=st.integers(1, 9),
    block=mostly([1, 2, 4, 10**6], [0, -3, 2.5]),
)
def test_block_sparse_named_error_or_the_dense_reference(data, n_q, n_k, block):
    q = torch.from_numpy(data.draw(arrays((n_q, 2))))
    k = torch.from_numpy(data.draw(arrays((n_k, 2))))
    v = torch.from_numpy(data.draw(arrays((n_k, 3))))
    mask = np.random.default_rng(n_q * 10 + n_k).random((n_q, n_k)) < 0.4

    def reference(out):
        return close(out.numpy(), dense_reference(q.numpy(), k.numpy(), v.numpy(), mask))

    named_error_or(
        lambda: block_sparse_attention(q, k, v, mask, block=block),
        reference,
        ("q", "k", "v", "mask", "block", "overflow"),
    )


def _elu_plus_one(x: np.ndarray) -> np.ndarray:
    """φ(x) = elu(x) + 1 in numpy, written out: x + 1 for x > 0, exp(x) otherwise."""
    return np.where(x > 0, x + 1, np.exp(np.minimum(x, 0)))


def _linear_reference(q, k, v, causal: bool) -> np.ndarray:
    """Linear attention left to right, the n_q × n_k matrix built: A = φ(Q)φ(K)ᵀ, masked
    bottom-right if causal, out = A V / A 1 (0 where A 1 = 0)."""
    a = _elu_plus_one(q) @ np.swapaxes(_elu_plus_one(k), -1, -2)  # (..., n_q, n_k)
    if causal:
        n_q, n_k = a.shape[-2:]
        a = a * np.tri(n_q, n_k, n_k - n_q, dtype=bool)
    den = a.sum(-1, keepdims=True)
    return (a @ v) / np.where(den > 0, den, 1)


@FUZZ
@given(
    data=st.data(),
    lead=st.sampled_from([(), (2,)]),
    n_q=mostly(list(range(1, 10)), [0]),
    n_k=st.integers(1, 9),
    d=st.integers(1, 3),
    causal=FLAG,
    chunk=mostly([None, 1, 2, 3, 10**9], [0, -1, 2.5, "4"]),
)
def test_linear_attention_named_error_or_the_quadratic_reference(
    data, lead, n_q, n_k, d, causal, chunk
):
    from tutor_lib.linear import linear_attention

    q, k = (torch.from_numpy(data.draw(arrays((*lead, n, d)))) for n in (n_q, n_k))
    v = torch.from_numpy(data.draw(arrays((*lead, n_k, 2))))

    def reference(out):
        return close(out.numpy(), _linear_reference(q.numpy(), k.numpy(), v.numpy(), causal))

    named_error_or(
        lambda: linear_attention(q, k, v, causal=causal, chunk=chunk),
        reference,
        ("q", "k", "v", "causal", "chunk"),
    )


@FUZZ
@given(
    data=st.data(),
    shape=st.sampled_from([(4,), (3, 5), (2, 3, 2)]),
    bits=mostly([2, 3, 4, 8], [1, 9, 8.0, None]),
    axis=mostly([None, 0, -1], [5, "0", (0, 0)]),
    symmetric=FLAG,
)
def test_quantize_named_error_or_within_half_a_step(data, shape, bits, axis, symmetric):
    from tutor_lib.quant import dequantize, quantize

    x = data.draw(arrays(shape))

    def within_half_a_step(parts):
        q, scale, zero_point = parts
        x_hat = dequantize(q, scale, zero_point)
        levels = 2**bits - 1 if symmetric is False else 2 ** (bits - 1) - 1
        in_range = (0 <= q.min() and q.max() <= levels) if not symmetric else abs(q).max() <= levels
        err = np.abs(x - x_hat)
        return in_range and bool(np.all(err <= scale / 2 * (1 + 1e-9) + 1e-300))

    named_error_or(
        lambda: quantize(x, bits, axis=axis, symmetric=symmetric),
        within_half_a_step,
        ("x", "bits", "axis", "symmetric"),
    )


# -- ffn ------------------------------------------------------------------------------------------


@FUZZ
@given(
    data=st.data(),
    n=DIM,
    d=st.integers(1, 3),
    m=st.integers(1, 4),
    wrong=mostly([None], ["w1", "b1", "w2", "b2"]),
    activation=mostly(["relu", "gelu"], ["tanh", None]),
)
def test_ffn_named_error_or_the_torch_reference(data, n, d, m, wrong, activation):
    shapes = {"x": (n, d), "w1": (d, m), "b1": (m,), "w2": (m, d), "b2": (d,)}
    if wrong:
        shapes[wrong] = (*shapes[wrong][:-1], shapes[wrong][-1] + 1)
    x, w1, b1, w2, b2 = (data.draw(arrays(shape)) for shape in shapes.values())

    def reference(out):
        t = [torch.from_numpy(a) for a in (x, w1, b1, w2, b2)]
        act = F.relu if activation == "relu" else F.gelu
        return close(out, (act(t[0] @ t[1] + t[2]) @ t[3] + t[4]).numpy())

    named_error_or(
        lambda: ffn(x, w1, b1, w2, b2, activation=activation),
        reference,
        ("x", "w1", "b1", "w2", "b2", "activation"),
    )


# -- mask factories -------------------------------------------------------------------------------

ODD = mostly([1, 2, 3, 7, 10**6], [-1, 0, 2.5, True, "8", None])


def _oracle(name, n, a, b, c):
    i, j = np.arange(n)[:, None], np.arange(n)[None, :]
    rules = {
        "local_mask": lambda: (j - i >= -a) & (j - i <= b),
        "dilated_mask": lambda: ((j - i) % c == 0) & (j - i >= -a * c) & (j - i <= b * c),
        "block_mask": lambda: i // a == j // a,
        "strided_mask": lambda: ((i - j) % a == 0) & (j <= i),
        "block_local_mask": lambda: (j // a - i // a >= -b) & (j // a - i // a <= c),
    }
    return np.broadcast_to(rules[name](), (n, n))


FACTORY_ARGS = {
    "local_mask": (lambda n, a, b, c: masks.local_mask(n, a, b), ("n", "left", "right")),
    "dilated_mask": (masks.dilated_mask, ("n", "left", "right", "dilation")),
    "block_mask": (lambda n, a, b, c: masks.block_mask(n, a), ("n", "block")),
    "strided_mask": (lambda n, a, b, c: masks.strided_mask(n, a), ("n", "stride")),
    "block_local_mask": (masks.block_local_mask, ("n", "block", "left_blocks", "right_blocks")),
}


@FUZZ
@given(name=st.sampled_from(sorted(FACTORY_ARGS)), n=ODD, a=ODD, b=ODD, c=ODD)
def test_mask_factories_named_error_or_the_arange_oracle(name, n, a, b, c):
    factory, names = FACTORY_ARGS[name]
    # a row of 10**6 keys is fine for the oracle only when the mask itself is small
    small = isinstance(n, int) and not isinstance(n, bool) and 0 < n < 100

    def reference(mask):
        return small and mask.dtype == bool and np.array_equal(mask, _oracle(name, n, a, b, c))

    named_error_or(lambda: factory(n, a, b, c), reference, (*names, f"{name}(n="))


# -- exact counts ---------------------------------------------------------------------------------

COUNT = st.one_of(st.integers(-3, 10**30), st.sampled_from([1.5, 2.0, math.nan, True, "64", None]))


@FUZZ
@given(n=COUNT, d=COUNT, m=COUNT, gated=FLAG)
def test_counts_named_error_or_the_exact_formula(n, d, m, gated):
    def exact(flops):
        return type(flops) is int and flops == (6 if gated else 4) * n * d * m

    named_error_or(
        lambda: costs.ffn_flops(n, d, m, gated=gated), exact, ("n", "d_model", "d_ff", "gated")
    )
    named_error_or(
        lambda: costs.score_matrix_bytes(n, d, 4),
        lambda b: type(b) is int and b == 4 * d * n * n,
        ("n", "n_heads"),
    )


# -- exercise checks against random learner answers -------------------------------------------------

ANSWERS = st.one_of(
    st.none(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.complex_numbers(),
    st.text(max_size=5),
    st.lists(st.floats(), max_size=4),
    st.tuples(st.integers(0, 5), st.integers(0, 5)).map(lambda s: np.zeros(s)),
    st.sampled_from(
        [
            torch.ones(2, 2, dtype=torch.bfloat16),
            torch.ones(3, dtype=torch.complex64),
            torch.ones(1, requires_grad=True),
            np.array(["a", "b"]),
            np.array([1, None], dtype=object),
            np.ones((2, 2), dtype=bool),
            {"a": 1},
        ]
    ),
)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(check=st.sampled_from(exercises.__all__), answer=ANSWERS)
def test_checks_print_one_line_and_return_a_bool_whatever_the_answer(check, answer):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        passed = getattr(exercises, check)(lambda *args, **kwargs: answer)
    lines = out.getvalue().splitlines()
    assert passed is False and err.getvalue() == ""
    assert lines and lines[0].startswith("✗ case 1 of ") and len(lines) <= 2, out.getvalue()


def test_named_error_or_fails_on_an_unnamed_error_and_on_a_wrong_result():
    """Negative control for the helper every fuzz test uses."""
    with pytest.raises(AssertionError, match="names none"):
        named_error_or(lambda: np.zeros(3).reshape(2, 2), lambda v: True, ("q",))
    with pytest.raises(AssertionError, match="wrong result"):
        named_error_or(lambda: 3, lambda v: v == 4, ("q",))
