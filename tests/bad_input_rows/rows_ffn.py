"""Bad inputs for tutor_lib.ffn: floating activations, finite inputs, hidden-layer guards."""

import numpy as np
import torch

from bad_input_rows import error, result, with_value
from tutor_lib.ffn import chunked_ffn, ffn, gelu, relu, silu, swiglu
from tutor_lib.limits import TooLargeError

RNG = np.random.default_rng(20)
D, M = 3, 5
X = RNG.standard_normal((4, D))
W1, B1 = RNG.standard_normal((D, M)), RNG.standard_normal(M)
W2, B2 = RNG.standard_normal((M, D)), RNG.standard_normal(D)
GATE, UP, DOWN = (
    RNG.standard_normal((D, M)),
    RNG.standard_normal((D, M)),
    RNG.standard_normal((M, D)),
)


def _floats(expected):
    return lambda y: y.dtype.kind == "f" and np.allclose(y, expected, atol=1e-8)


# 65536 tokens of width 1 against a hidden layer of 65536 units: a (65536, 65536) hidden layer
# (32 GiB) from inputs of 1 MiB
TOKENS = np.ones((2**16, 1))
BIG_W1, BIG_B1 = np.ones((1, 2**16)), np.zeros(2**16)
BIG_W2, BIG_B2 = np.ones((2**16, 1)), np.zeros(1)

ROWS = [
    # activations: floating output for integer input (gelu([1, 2, -1]) was [0 1 0])
    result(gelu, [1, 2, -1], check=_floats([0.841345, 1.954500, -0.158655]), why="int list"),
    result(relu, np.array([1, -2]), check=_floats([1.0, 0.0]), why="int array"),
    result(silu, 3, check=_floats(3 / (1 + np.exp(-3))), why="an int scalar"),
    result(gelu, np.zeros(0), check=lambda y: y.shape == (0,), why="empty stays empty"),
    result(relu, np.array([np.nan]), check=lambda y: np.isnan(y).all(), why="NaN propagates"),
    error(gelu, "1", raises=TypeError, name="x", why="a string"),
    error(relu, [True, False], raises=TypeError, name="x", why="booleans"),
    error(
        silu,
        torch.ones(2, requires_grad=True),
        raises=TypeError,
        name="x",
        why="a grad-requiring tensor",
    ),
    error(gelu, [[1.0], [1.0, 2.0]], name="x", why="ragged list"),
    # ffn
    error(ffn, with_value(X, (0, 0), np.nan), W1, B1, W2, B2, name="x", why="NaN in x"),
    error(ffn, X, with_value(W1, (0, 0), np.inf), B1, W2, B2, name="w1", why="inf in w1"),
    error(ffn, X, W1, B1, W2, with_value(B2, 0, np.nan), name="b2", why="NaN in b2"),
    error(ffn, X, W1, B1[:2], W2, B2, name="b1", why="b1 shape"),
    error(ffn, X, W1, B1, W2, B2, activation="tanh", name="activation", why="unknown"),
    error(ffn, X, W1, B1, W2, B2, activation=None, name="activation", why="None"),
    error(ffn, X[:0], W1, B1, W2, B2, name="x", why="no tokens"),
    error(
        ffn,
        TOKENS,
        BIG_W1,
        BIG_B1,
        BIG_W2,
        BIG_B2,
        raises=TooLargeError,
        name="ffn with 65536 tokens",
        why="a 32 GiB hidden layer",
    ),
    result(
        ffn,
        X.astype(int),
        W1,
        B1,
        W2,
        B2,
        check=lambda y: y.dtype == np.float64 and y.shape == X.shape,
        why="int x",
    ),
    # chunked_ffn
    error(chunked_ffn, X, W1, B1, W2, B2, chunk_size=0, name="chunk_size", why="zero chunk"),
    error(
        chunked_ffn,
        X,
        W1,
        B1,
        W2,
        B2,
        chunk_size=2.0,
        raises=TypeError,
        name="chunk_size",
        why="float chunk",
    ),
    error(chunked_ffn, X[0], W1, B1, W2, B2, chunk_size=2, name="x", why="no sequence axis"),
    error(
        chunked_ffn,
        X,
        with_value(W1, 1, np.nan),
        B1,
        W2,
        B2,
        chunk_size=2,
        name="w1",
        why="NaN in w1",
    ),
    error(
        chunked_ffn,
        TOKENS,
        BIG_W1,
        BIG_B1,
        BIG_W2,
        BIG_B2,
        chunk_size=2**15,
        raises=TooLargeError,
        name="chunk_size=32768",
        why="16 GiB chunks",
    ),
    result(
        chunked_ffn,
        X,
        W1,
        B1,
        W2,
        B2,
        chunk_size=10**9,
        check=lambda y: np.allclose(y, ffn(X, W1, B1, W2, B2), rtol=0, atol=1e-12),
        why="chunk_size > n is one chunk",
    ),
    # swiglu
    error(swiglu, X, with_value(GATE, 0, np.nan), UP, DOWN, name="w_gate", why="NaN in w_gate"),
    error(swiglu, X, GATE, UP[:, :2], DOWN, name="w_up", why="w_up shape"),
    error(swiglu, X, GATE, UP, DOWN.T, name="w_down", why="w_down transposed"),
    error(
        swiglu,
        TOKENS,
        BIG_W1,
        BIG_W1,
        BIG_W2,
        raises=TooLargeError,
        name="swiglu",
        why="a 32 GiB gate",
    ),
    result(
        swiglu,
        X,
        np.zeros((D, M)),
        UP,
        DOWN,
        check=lambda y: np.all(y == 0),
        why="a zero gate gives 0",
    ),
]
