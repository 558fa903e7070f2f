"""Bad inputs for tutor_lib.linear (linear attention, Performer, Linformer)."""

import numpy as np
import torch

from bad_input_rows import error, result
from tutor_lib.limits import TooLargeError
from tutor_lib.linear import (
    apply_feature_map,
    associativity_crossover,
    associativity_flops,
    elu_feature_map,
    linear_attention,
    linear_attention_from_features,
    linear_attention_recurrent,
    linear_attention_step,
    linformer_attention,
    linformer_projection,
    performer_attention,
    performer_error,
    performer_features,
    quadratic_linear_attention,
    random_projection,
    recurrent_state_bytes,
)

X = torch.ones(2, 5, 4)  # (…, n, d)
V = torch.ones(2, 5, 3)
NAN = torch.full((2, 5, 4), float("nan"))
S, Z = torch.zeros(4, 3), torch.zeros(4)  # state for d' = 4, d_v = 3
EYE = torch.eye(5)


def _finite(out) -> bool:
    return bool(torch.isfinite(out).all())


ROWS = [
    error(elu_feature_map, np.ones((3, 2)), raises=TypeError, name="x", why="numpy array"),
    error(
        elu_feature_map, torch.ones(3, dtype=torch.int64), raises=TypeError, name="x", why="ints"
    ),
    error(apply_feature_map, 3, X, "q", raises=TypeError, name="feature_map", why="not callable"),
    error(apply_feature_map, torch.sin, X * -1, "q", name="non-negative", why="negative φ"),
    error(apply_feature_map, lambda x: x[..., 0], X, "q", name="feature_map(q)", why="drops d"),
    error(linear_attention, X.numpy(), X, V, raises=TypeError, name="q", why="numpy q"),
    error(linear_attention, X, NAN, V, name="k", why="NaN in k"),
    error(linear_attention, X, X, V[:, :4], name="n_k", why="k and v lengths differ"),
    error(linear_attention, X, X, V, causal="yes", raises=TypeError, name="causal", why="str"),
    error(linear_attention, X, X, V, chunk=0, name="chunk", why="chunk 0"),
    error(linear_attention, -X, X, V, feature_map=torch.sin, name="non-negative", why="sin φ"),
    error(
        linear_attention,
        X,
        X,
        V,
        feature_map=lambda x: x.exp() * float("inf"),
        name="finite",
        why="φ overflows",
    ),
    result(linear_attention, X[:, :1], X, V, causal=True, check=_finite, why="decode step n_q=1"),
    result(
        linear_attention, -X, X, V, feature_map=torch.relu, check=lambda o: not o.any(), why="φ=0"
    ),
    error(linear_attention_from_features, -X, X, V, name="phi_q", why="negative φ(Q)"),
    error(
        linear_attention_recurrent,
        X,
        X,
        V[:1, :, :2].expand(3, 5, 2),
        name="leading",
        why="bad lead",
    ),
    result(linear_attention_recurrent, X[:, :2], X, V, check=_finite, why="n_q < n_k"),
    error(linear_attention_step, S, Z[:3], X[0, 0], X[0, 0], V[0, 0], name="z", why="z wrong size"),
    error(linear_attention_step, S, Z, X[0, 0], X[0, 0, :3], V[0, 0], name="q and k", why="d_k"),
    error(linear_attention_step, S, Z, X[0, 0], X[0, 0], V[0, 0, :2], name="d_v", why="v width"),
    error(
        quadratic_linear_attention,
        torch.ones(1, 60_000, 1),
        torch.ones(1, 60_000, 1),
        torch.ones(1, 60_000, 1),
        raises=TooLargeError,
        name="linear_attention",
        why="n×n of 13 GiB",
    ),
    error(
        quadratic_linear_attention, X, X, V, causal=1, raises=TypeError, name="causal", why="int"
    ),
    error(associativity_flops, 0, 4, 4, 4, name="n_q", why="n_q 0"),
    error(associativity_flops, 4, 4, 4.0, 4, raises=TypeError, name="num_features", why="float"),
    error(associativity_crossover, 64, 0, name="d_v", why="d_v 0"),
    result(associativity_crossover, 1, 1, check=lambda n: n == 2, why="smallest dims"),
    error(recurrent_state_bytes, 64, 64, num_heads=0, name="num_heads", why="0 heads"),
    error(recurrent_state_bytes, 64, 64, bytes_per_value=-2, name="bytes_per_value", why="< 0"),
    error(random_projection, 0, 4, seed=0, name="num_features", why="no features"),
    error(random_projection, 8, 4, seed=-1, name="seed", why="negative seed"),
    error(
        random_projection,
        8,
        4,
        seed=0,
        orthogonal="no",
        raises=TypeError,
        name="orthogonal",
        why="str",
    ),
    error(
        random_projection,
        10**6,
        10**4,
        seed=0,
        raises=TooLargeError,
        name="random_projection",
        why="160 GB",
    ),
    error(performer_features, X, torch.ones(8, 3), name="projection", why="dims differ"),
    error(performer_features, [1.0, 2.0], torch.ones(8, 2), raises=TypeError, name="x", why="list"),
    error(performer_attention, X, X, V, num_features=0, seed=0, name="num_features", why="m = 0"),
    error(
        performer_attention,
        X,
        X,
        V,
        num_features=8,
        seed=1.5,
        raises=TypeError,
        name="seed",
        why="float seed",
    ),
    error(
        performer_attention,
        X,
        X,
        V,
        num_features=10**9,
        seed=0,
        raises=TooLargeError,
        name="performer_attention",
        why="features of 80 GB",
    ),
    error(performer_error, X, X, V, num_features=8, seeds=[], name="seeds", why="no seed"),
    result(
        performer_error,
        X,
        X,
        V,
        num_features=8,
        seeds=[0, 1],
        check=lambda e: e.shape == (2,),
        why="two seeds",
    ),
    error(linformer_attention, X, X, V, EYE[:3], EYE[:4], name="k_proj", why="e and f differ"),
    error(linformer_attention, X, X, V, torch.eye(4), EYE, name="e", why="e not (k_proj, n_k)"),
    error(linformer_attention, X, X, V, EYE, EYE.double(), raises=TypeError, name="f", why="dtype"),
    error(linformer_projection, 0, 5, seed=0, name="k_proj", why="k_proj 0"),
    error(
        linformer_projection,
        10**6,
        10**6,
        seed=0,
        raises=TooLargeError,
        name="linformer_projection",
        why="8 TB",
    ),
]
