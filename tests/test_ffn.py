"""tutor_lib.ffn against torch's own layers; chunked == plain for every chunk size; peak memory."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import assert_close_f64
from torch import nn

from tutor_lib.ffn import chunked_ffn, ffn, gelu, silu, swiglu
from tutor_lib.measure import peak_bytes

SETTINGS = settings(max_examples=40, deadline=None)
# numpy's ufunc buffer (np.getbufsize() elements of 8 bytes) is allocated when b1 is broadcast over
# the rows; a little more covers array headers. Every other allocation is accounted for exactly.
SLACK = 8 * np.getbufsize() + 4096


def weights(rng, d, m):
    return (
        rng.standard_normal((d, m)),
        rng.standard_normal(m),
        rng.standard_normal((m, d)),
        rng.standard_normal(d),
    )


def torch_ffn(x, w1, b1, w2, b2, activation):
    """The same FFN as torch modules: nn.Linear stores W transposed, so copy w.T in."""
    d, m = w1.shape
    act = nn.ReLU() if activation == "relu" else nn.GELU()  # nn.GELU() is the exact erf form
    model = nn.Sequential(nn.Linear(d, m), act, nn.Linear(m, d)).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(w1.T))
        model[0].bias.copy_(torch.from_numpy(b1))
        model[2].weight.copy_(torch.from_numpy(w2.T))
        model[2].bias.copy_(torch.from_numpy(b2))
        return model(torch.from_numpy(x)).numpy()


shapes = st.tuples(
    st.sampled_from([(), (2,), (2, 3)]), st.integers(1, 12), st.integers(1, 6), st.integers(1, 10)
)


@SETTINGS
@given(shape=shapes, activation=st.sampled_from(["relu", "gelu"]), seed=st.integers(0, 99))
def test_ffn_matches_torch_linear_layers(shape, activation, seed):
    lead, n, d, m = shape
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((*lead, n, d))
    w = weights(rng, d, m)
    assert_close_f64(ffn(x, *w, activation=activation), torch_ffn(x, *w, activation))


def test_gelu_is_torchs_exact_erf_form_not_the_tanh_one():
    x = np.linspace(-12, 12, 2001)
    assert_close_f64(gelu(x), F.gelu(torch.from_numpy(x)).numpy(), tol=1e-14)
    tanh_form = F.gelu(torch.from_numpy(x), approximate="tanh").numpy()
    assert np.abs(gelu(x) - tanh_form).max() > 1e-5  # negative control: the approximation differs


def test_gelu_keeps_float32():
    assert gelu(np.ones(3, dtype=np.float32)).dtype == np.float32


def test_silu_matches_torch_and_never_overflows():
    x = np.array([-1000.0, -50.0, -1.0, 0.0, 1.0, 50.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        ours = silu(x)
    assert_close_f64(ours, F.silu(torch.from_numpy(x)).numpy(), tol=1e-12)


@SETTINGS
@given(shape=shapes, seed=st.integers(0, 99))
def test_swiglu_matches_torch(shape, seed):
    lead, n, d, m = shape
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((*lead, n, d))
    w_gate, w_up, w_down = (
        rng.standard_normal((d, m)),
        rng.standard_normal((d, m)),
        rng.standard_normal((m, d)),
    )
    gate, up, down = (nn.Linear(*s, bias=False).double() for s in ((d, m), (d, m), (m, d)))
    with torch.no_grad():
        for layer, w in ((gate, w_gate), (up, w_up), (down, w_down)):
            layer.weight.copy_(torch.from_numpy(w.T))
        xt = torch.from_numpy(x)
        expected = down(F.silu(gate(xt)) * up(xt)).numpy()
    assert_close_f64(swiglu(x, w_gate, w_up, w_down), expected)


@SETTINGS
@given(
    lead=st.sampled_from([(), (3,)]),
    n=st.integers(1, 20),
    chunk_size=st.integers(1, 25),
    activation=st.sampled_from(["relu", "gelu"]),
    seed=st.integers(0, 99),
)
def test_chunked_ffn_equals_ffn_for_every_chunk_size(lead, n, chunk_size, activation, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((*lead, n, 4))
    w = weights(rng, 4, 7)
    plain = ffn(x, *w, activation=activation)
    assert_close_f64(
        chunked_ffn(x, *w, chunk_size=chunk_size, activation=activation), plain, tol=1e-12
    )


@pytest.mark.parametrize("chunk_size", [9, 10, 1000])
def test_chunked_ffn_with_one_chunk_is_bitwise_the_baseline(chunk_size):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 9, 5))
    w = weights(rng, 5, 11)
    assert np.array_equal(chunked_ffn(x, *w, chunk_size=chunk_size), ffn(x, *w))


def test_negative_control_dropping_the_short_last_chunk_is_caught():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((10, 3))
    w = weights(rng, 3, 6)
    out = np.zeros_like(x)
    for start in range(0, 10 - 10 % 4, 4):  # forgets rows 8, 9
        out[start : start + 4] = ffn(x[start : start + 4], *w)
    assert not np.allclose(out, ffn(x, *w))


def test_ffn_is_position_wise():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((8, 4))
    w = weights(rng, 4, 16)
    perm = rng.permutation(8)
    assert_close_f64(ffn(x[perm], *w), ffn(x, *w)[perm])
    changed = x.copy()
    changed[5] += 1.0
    diff = np.abs(ffn(changed, *w) - ffn(x, *w)).max(axis=-1)
    assert diff[5] > 0 and np.all(np.delete(diff, 5) == 0)


def test_peak_memory_plain_holds_the_whole_hidden_layer():
    n, d, m = 1024, 32, 128
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((n, d)), weights(rng, d, m)
    expected = 8 * (n * m + n * d)  # hidden (n, m) + output (n, d), float64
    assert expected <= peak_bytes(ffn, x, *w) <= expected + SLACK


@pytest.mark.parametrize("chunk_size", [512, 128, 16, 1])
def test_peak_memory_chunked_is_output_plus_one_chunk(chunk_size):
    n, d, m = 1024, 32, 128
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((n, d)), weights(rng, d, m)
    expected = 8 * (n * d + chunk_size * (m + d))  # output + one chunk's hidden and output
    assert expected <= peak_bytes(chunked_ffn, x, *w, chunk_size=chunk_size) <= expected + SLACK


def test_peak_memory_is_ordered_as_predicted():
    n, d, m = 2048, 16, 256
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((n, d)), weights(rng, d, m)
    peaks = [peak_bytes(chunked_ffn, x, *w, chunk_size=c) for c in (1024, 256, 64, 16)]
    assert peak_bytes(ffn, x, *w) > peaks[0]
    assert peaks == sorted(peaks, reverse=True) and len(set(peaks)) == 4


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda x, w: ffn(x, w[0][:3], *w[1:]), "w1"),
        (lambda x, w: ffn(x, w[0], w[1][:2], *w[2:]), "b1"),
        (lambda x, w: ffn(x, w[0], w[1], w[2].T, w[3]), "w2"),
        (lambda x, w: ffn(x, *w[:3], w[3][:1]), "b2"),
        (lambda x, w: ffn(x, *w, activation="tanh"), "activation"),
        (lambda x, w: chunked_ffn(x, *w, chunk_size=0), "chunk_size"),
        (lambda x, w: chunked_ffn(x[0], *w, chunk_size=2), "x"),
        (lambda x, w: swiglu(x, w[0], w[0][:, :2], w[2]), "w_up"),
        (lambda x, w: swiglu(x, w[0], w[0], w[0]), "w_down"),
        (lambda x, w: swiglu(x, w[2], w[0], w[2]), "w_gate"),
    ],
)
def test_bad_shapes_raise_value_error_naming_the_argument(call, match):
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((5, 4)), weights(rng, 4, 6)
    with pytest.raises(ValueError, match=match):
        call(x, w)


def test_wrong_kinds_raise_type_error():
    rng = np.random.default_rng(8)
    w = weights(rng, 4, 6)
    with pytest.raises(TypeError, match="x"):
        ffn("not an array", *w)
    with pytest.raises(TypeError, match="chunk_size"):
        chunked_ffn(np.ones((3, 4)), *w, chunk_size=2.0)
