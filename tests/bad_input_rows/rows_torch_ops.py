"""Bad inputs for tutor_lib.torch_ops, the checks every torch kernel shares (and default_scale)."""

import numpy as np
import torch

from bad_input_rows import error, result
from tutor_lib.torch_ops import (
    as_mask_array,
    as_qkv_tensors,
    check_float_dtype,
    check_output,
    check_tensor,
    default_scale,
    masked_softmax,
)

Q, K, V = torch.ones(2, 3, 4), torch.ones(3, 4), torch.ones(3, 5)
NAN = torch.tensor([[float("nan")]])

ROWS = [
    error(check_tensor, np.ones(3), "q", raises=TypeError, name="q", why="a numpy array"),
    error(
        check_tensor,
        torch.ones(3, dtype=torch.int64),
        "k",
        raises=TypeError,
        name="k",
        why="an int tensor",
    ),
    error(
        check_tensor,
        torch.ones(2, dtype=torch.complex64),
        "v",
        raises=TypeError,
        name="v",
        why="complex",
    ),
    error(check_tensor, NAN.bfloat16(), "q", name="q", why="NaN in bf16"),
    result(
        check_tensor,
        torch.ones(2, requires_grad=True),
        "q",
        check=lambda t: t.requires_grad,
        why="grad-requiring tensors are fine in torch",
    ),
    error(
        as_qkv_tensors,
        Q,
        K,
        torch.ones(3, 5, dtype=torch.float64),
        raises=TypeError,
        name="dtype",
        why="mixed dtypes",
    ),
    error(as_qkv_tensors, Q, K, torch.ones(4, 5), name="n_k", why="k and v lengths differ"),
    error(as_qkv_tensors, Q, torch.ones(3, 2), V, name="d_k", why="d_k differs"),
    error(as_qkv_tensors, torch.ones(0, 4), K, V, name="q", why="no queries"),
    error(as_qkv_tensors, Q, K.clone().fill_(float("inf")), V, name="k", why="inf in k"),
    result(
        as_qkv_tensors,
        Q,
        K,
        V,
        check=lambda t: t[1].shape == (2, 3, 4),
        why="leading dims broadcast",
    ),
    error(as_mask_array, np.ones((3, 3)), 3, 3, raises=TypeError, name="mask", why="float mask"),
    error(as_mask_array, np.ones((3, 2), dtype=bool), 3, 3, name="mask", why="wrong shape"),
    result(
        as_mask_array,
        torch.ones(2, 2, dtype=torch.bool),
        2,
        2,
        check=lambda m: m.dtype == bool and m.all(),
        why="a torch mask",
    ),
    error(
        masked_softmax,
        np.zeros((2, 2)),
        torch.ones(2, 2, dtype=torch.bool),
        raises=TypeError,
        name="scores",
        why="numpy scores",
    ),
    error(
        masked_softmax,
        torch.zeros(2, 2),
        torch.ones(2, 2),
        raises=TypeError,
        name="allowed",
        why="float allowed",
    ),
    result(
        masked_softmax,
        torch.zeros(1, 3),
        torch.zeros(1, 3, dtype=torch.bool),
        check=lambda w: bool((w == 0).all()),
        why="fully masked row → 0",
    ),
    error(check_output, torch.tensor([1.0, float("inf")]), name="q·kᵀ", why="inf output"),
    result(check_output, torch.zeros(0, 3), check=lambda t: t.shape == (0, 3), why="empty"),
    # default_scale (tutor_lib._validate, re-exported by torch_ops)
    error(default_scale, -1.0, 4, name="scale", why="negative"),
    error(default_scale, float("nan"), 4, name="scale", why="NaN"),
    error(default_scale, "0.5", 4, raises=TypeError, name="scale", why="a string"),
    error(default_scale, None, 0, name="d_k", why="d_k = 0"),
    error(default_scale, None, -4, name="d_k", why="negative d_k (was a complex scale)"),
    result(default_scale, None, 16, check=lambda s: s == 0.25, why="1/sqrt(d_k)"),
    error(check_float_dtype, "float64", raises=TypeError, name="dtype", why="a string"),
    error(check_float_dtype, np.float32, raises=TypeError, name="dtype", why="a numpy dtype"),
    error(check_float_dtype, torch.int8, "w_dtype", raises=TypeError, name="w_dtype", why="int8"),
    result(check_float_dtype, torch.bfloat16, check=lambda d: d is torch.bfloat16, why="bf16"),
]
