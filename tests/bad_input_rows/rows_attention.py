"""Bad inputs for tutor_lib.attention (numpy): NaN/inf named by argument, strict flags, guards."""

import numpy as np
import torch

from bad_input_rows import error, result, with_value
from tutor_lib.attention import (
    attention,
    causal_mask,
    merge_heads,
    multi_head_attention,
    random_attention_weights,
    row_stats,
    softmax,
    split_heads,
)
from tutor_lib.limits import TooLargeError

RNG = np.random.default_rng(10)
Q, K, V = RNG.standard_normal((3, 4)), RNG.standard_normal((5, 4)), RNG.standard_normal((5, 2))
NAN = np.array([[np.nan, 0.0, 0.0, 0.0]] + [[0.0] * 4] * 2)
INF_ROW = np.vstack([K[:4], np.full((1, 4), np.inf)])
W = np.eye(4)
X = RNG.standard_normal((3, 4))
TRIL = np.tril(np.ones((3, 5), dtype=bool))


def _same_as(reference):
    return lambda got: np.allclose(got, reference, rtol=0, atol=1e-12)


HUGE_MASKED_V = with_value(V, 4, 1e300)  # key 4 is masked for every query of TRIL
HUGE_MASKED_K = with_value(K, 4, 1e200)  # its scores overflow, but it is masked

ROWS = [
    # softmax
    error(softmax, [np.nan, 1.0], name="x", why="NaN"),
    error(softmax, [np.inf, 1.0], name="x", why="+inf"),
    error(softmax, np.zeros(0), name="x", why="empty array"),
    error(softmax, "abc", raises=TypeError, name="x", why="a string"),
    error(softmax, [1.0 + 1j], raises=TypeError, name="x", why="complex"),
    error(softmax, [[1.0, 2.0], [3.0]], name="x", why="ragged list"),
    error(
        softmax, torch.ones(3, requires_grad=True), raises=TypeError, name="x", why="grad tensor"
    ),
    error(softmax, [1.0, 2.0], axis=3, name="axis", why="axis out of range"),
    error(softmax, [1.0, 2.0], axis=0.5, raises=TypeError, name="axis", why="float axis"),
    result(softmax, [1, 2, 3], check=lambda p: p.dtype.kind == "f", why="ints give floats"),
    result(softmax, [-np.inf, -np.inf], check=lambda p: np.all(p == 0), why="all -inf row → 0"),
    result(softmax, [1000.0, 0.0], check=lambda p: np.isclose(p[0], 1.0), why="huge logits"),
    # causal_mask
    error(causal_mask, 0, name="n_q", why="zero length"),
    error(causal_mask, 4, 2.0, raises=TypeError, name="n_k", why="float n_k"),
    error(causal_mask, 10**6, raises=TooLargeError, name="causal_mask", why="a 1 TB mask"),
    result(causal_mask, 1, 5, check=lambda m: m.all(), why="one decoding step sees every key"),
    # attention
    error(attention, NAN, K, V, name="q", why="NaN in q"),
    error(attention, Q, INF_ROW, V, name="k", why="inf in k"),
    error(attention, Q, K, with_value(V, 4, np.nan), TRIL, name="v", why="NaN in a masked v row"),
    error(attention, Q, K, V, causal="False", raises=TypeError, name="causal", why='"False"'),
    error(attention, Q, K, V, causal=1, raises=TypeError, name="causal", why="causal=1"),
    error(
        attention,
        Q,
        K,
        V,
        return_weights="yes",
        raises=TypeError,
        name="return_weights",
        why="string flag",
    ),
    error(attention, Q, K, V, scale=0.0, name="scale", why="zero scale"),
    error(attention, Q, K, V, scale=np.nan, name="scale", why="NaN scale"),
    error(attention, Q, K[:, :3], V, name="d_k", why="q and k disagree on d_k"),
    error(attention, Q, K, V[:4], name="n_k", why="k and v disagree on n_k"),
    error(
        attention,
        Q,
        K,
        V,
        np.ones((3, 5), dtype=int),
        raises=TypeError,
        name="mask",
        why="int mask",
    ),
    error(attention, Q, K, V, np.ones((2, 5), dtype=bool), name="mask", why="mask shape"),
    error(attention, Q[:0], K, V, name="q", why="no queries"),
    error(attention, Q * 1e200, with_value(K, 0, 1e200), V, name="q and k", why="scores overflow"),
    error(
        attention,
        *(np.ones((60000, 2)),) * 3,
        raises=TooLargeError,
        name="n_q=60000",
        why="n = 60000 needs 80 GiB of scores",
    ),
    result(
        attention,
        Q,
        K,
        HUGE_MASKED_V,
        TRIL,
        check=_same_as(attention(Q, K, V, TRIL)),
        why="a huge masked value changes nothing",
    ),
    result(
        attention,
        Q,
        HUGE_MASKED_K,
        V,
        TRIL,
        check=_same_as(attention(Q, K, V, TRIL)),
        why="a masked key whose scores overflow changes nothing",
    ),
    result(
        attention,
        Q,
        K,
        V,
        np.zeros((3, 5), dtype=bool),
        check=lambda o: np.all(o == 0),
        why="fully masked rows give 0",
    ),
    result(
        attention,
        Q.astype(int),
        K.astype(int),
        V.astype(int),
        check=lambda o: o.dtype == np.float64,
        why="int inputs become float64",
    ),
    # split_heads / merge_heads
    error(split_heads, X, 3, name="num_heads", why="4 not divisible by 3"),
    error(split_heads, X, 0, name="num_heads", why="zero heads"),
    error(split_heads, X, 2.0, raises=TypeError, name="num_heads", why="float heads"),
    error(split_heads, X[0], 2, name="x", why="1-D x"),
    error(merge_heads, X, name="x", why="2-D x has no head axis"),
    error(merge_heads, np.zeros((2, 0, 3)), name="x", why="empty"),
    result(merge_heads, split_heads(X, 2), check=_same_as(X), why="inverts split_heads"),
    # multi_head_attention
    error(
        multi_head_attention,
        X,
        with_value(W, (0, 0), np.nan),
        W,
        W,
        W,
        2,
        name="w_q",
        why="NaN in w_q",
    ),
    error(
        multi_head_attention,
        X,
        W,
        W,
        W,
        with_value(W, (1, 1), np.inf),
        2,
        name="w_o",
        why="inf in w_o",
    ),
    error(
        multi_head_attention, with_value(X, (0, 0), np.nan), W, W, W, W, 2, name="x", why="NaN in x"
    ),
    error(multi_head_attention, X, W, W[:3], W, W, 2, name="w_k", why="w_k shape"),
    error(multi_head_attention, X, W, W, W, W, 3, name="num_heads", why="d_model % heads"),
    error(
        multi_head_attention,
        X,
        W,
        W,
        W,
        W,
        2,
        causal="True",
        raises=TypeError,
        name="causal",
        why='"True"',
    ),
    error(
        multi_head_attention,
        X * 1e300,
        W * 1e10,
        W,
        W,
        W,
        2,
        name="x @ w_q",
        why="the projection overflows",
    ),
    result(
        multi_head_attention,
        X,
        W,
        W,
        W,
        W,
        1,
        check=_same_as(attention(X, X, X)),
        why="identity weights, one head = attention",
    ),
    # random_attention_weights
    error(
        random_attention_weights,
        8,
        4,
        causal="no",
        raises=TypeError,
        name="causal",
        why="string causal",
    ),
    error(
        random_attention_weights,
        8,
        4,
        sqrt_scaling=None,
        raises=TypeError,
        name="sqrt_scaling",
        why="None flag",
    ),
    error(random_attention_weights, 8, 4, multiplier=np.inf, name="multiplier", why="inf"),
    error(random_attention_weights, 8, 4, seed=-1, name="seed", why="negative seed"),
    error(random_attention_weights, 10**5, 4, raises=TooLargeError, name="n=100000", why="300 GiB"),
    result(
        random_attention_weights,
        1,
        1,
        check=lambda r: r[1].shape == (1, 1) and r[1][0, 0] == 1,
        why="one token",
    ),
    # row_stats
    error(row_stats, np.array([[np.nan, 1.0]]), name="weights", why="NaN weights"),
    error(row_stats, np.array([[2.0, -1.0]]), name="weights", why="scores, not weights"),
    error(row_stats, np.eye(3), np.ones((2, 3), dtype=bool), name="mask", why="mask shape"),
    error(row_stats, np.zeros((0, 3)), name="weights", why="empty"),
    result(
        row_stats,
        np.full((2, 4), 0.25),
        check=lambda s: np.isclose(s["entropy_bits"], 2.0),
        why="uniform rows: 2 bits",
    ),
]
