"""Bad inputs for tutor_lib.ffn.moe_ffn (the Mixture-of-Experts FFN)."""

import numpy as np

from bad_input_rows import error, result
from tutor_lib.ffn import moe_ffn

_x = np.ones((3, 2))
_expert = (np.ones((2, 4)), np.zeros(4), np.ones((4, 2)), np.zeros(2))
_router = np.zeros((2, 2))

ROWS = [
    error(moe_ffn, _x, _router, [], raises=TypeError, name="experts", why="no experts"),
    error(
        moe_ffn,
        _x,
        _router,
        _expert,
        raises=TypeError,
        name="experts",
        why="one tuple instead of a list of tuples",
    ),
    error(
        moe_ffn,
        _x,
        _router,
        [_expert, _expert[:3]],
        raises=TypeError,
        name="experts[1]",
        why="an expert with 3 arrays",
    ),
    error(
        moe_ffn,
        _x,
        _router,
        [_expert, (np.ones((3, 4)),) + _expert[1:]],
        name="experts[1]",
        why="an expert of the wrong width d",
    ),
    error(
        moe_ffn,
        _x,
        np.zeros((2, 3)),
        [_expert, _expert],
        name="w_router",
        why="router with 3 columns for 2 experts",
    ),
    error(moe_ffn, _x, _router, [_expert, _expert], top_k=3, name="top_k", why="top_k > E"),
    error(moe_ffn, _x, _router, [_expert, _expert], top_k=0, name="top_k", why="top_k = 0"),
    error(
        moe_ffn,
        _x,
        _router,
        [_expert, _expert],
        top_k=1.0,
        raises=TypeError,
        name="top_k",
        why="float top_k",
    ),
    error(
        moe_ffn,
        np.ones((2, 3, 2)),
        _router,
        [_expert, _expert],
        name="x",
        why="a batch axis: x must be (n, d)",
    ),
    error(
        moe_ffn,
        _x,
        _router,
        [_expert, _expert],
        activation="tanh",
        name="activation",
        why="unknown activation",
    ),
    error(moe_ffn, "x", _router, [_expert, _expert], raises=TypeError, name="x", why="a string"),
    result(
        moe_ffn,
        np.ones((1, 2)),
        _router,
        [_expert, _expert],
        top_k=2,
        check=lambda r: r[1].tolist() == [1, 1] and np.isfinite(r[0]).all(),
        why="one token, tied logits: both experts, lower index first",
    ),
]
