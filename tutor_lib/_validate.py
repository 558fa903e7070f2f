"""Input checks shared by every module: one place, one wording for the error messages.

Each helper raises ``TypeError`` (wrong kind of object) or ``ValueError`` (wrong shape, size or range)
with a message that names the argument and says what was expected.
"""

from __future__ import annotations

import numbers

import numpy as np


def as_float_array(x, name: str, *, min_ndim: int = 1, allow_empty: bool = False) -> np.ndarray:
    """``x`` as a floating numpy array (ints are promoted to float64); rejects other kinds.

    Errors name ``name``: a complex, boolean or text array, a ragged list, a torch tensor that
    requires grad (numpy cannot backpropagate: pass ``x.detach()``), fewer than ``min_ndim``
    dimensions, or an empty array (unless ``allow_empty``).
    """
    if isinstance(x, np.ndarray):
        arr = x
    elif _is_torch_tensor(x):
        if getattr(x, "requires_grad", False):
            raise TypeError(
                f"{name} is a torch tensor that requires grad: this numpy function cannot "
                f"backpropagate; pass {name}.detach() (or use a torch function)"
            )
        if x.is_floating_point() and str(x.dtype) not in _NUMPY_FLOATS:
            x = x.double()  # bf16 and fp8 have no numpy dtype
        arr = np.asarray(x)
    elif isinstance(x, (list, tuple, numbers.Real)):
        try:
            arr = np.asarray(x)
        except ValueError:
            raise ValueError(
                f"{name} must be a rectangular array, got a ragged nested list"
            ) from None
    else:
        raise TypeError(f"{name} must be a numpy array, got {type(x).__name__}")
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    if arr.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimensions, got shape {arr.shape}")
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    return arr


def as_bool_mask(mask, name: str = "mask") -> np.ndarray:
    """``mask`` as a boolean numpy array (True = may attend); rejects float masks."""
    arr = np.asarray(mask) if not isinstance(mask, np.ndarray) else mask
    if arr.dtype != bool:
        raise TypeError(
            f"{name} must be boolean (True = may attend), got dtype {arr.dtype}; "
            f"for an additive float mask add it to the scores yourself"
        )
    return arr


def check_int(value, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as a Python int within ``[minimum, maximum]``; bools and floats are rejected."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_positive_float(value, name: str) -> float:
    """``value`` as a finite float > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return value


def _is_torch_tensor(x) -> bool:
    return type(x).__module__.startswith("torch") and hasattr(x, "detach")


# torch floating dtypes numpy also has; others (bf16, fp8) are converted to float64
_NUMPY_FLOATS = frozenset({"torch.float16", "torch.float32", "torch.float64"})


def check_bool(value, name: str) -> bool:
    """``value`` as a bool; anything else (``"False"``, 0, None) is a TypeError naming ``name``.

    A string ``"False"`` is truthy, so accepting it would silently switch a flag on.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")


def check_finite(x, name: str) -> None:
    """ValueError naming ``name`` if the array or tensor ``x`` holds NaN or ±inf.

    Attention inputs must be finite: a NaN in a key a query cannot even see would still turn the
    query's output into NaN (0 · NaN = NaN in the weighted sum), and +inf logits have no softmax.
    """
    if x.numel() == 0 if _is_torch_tensor(x) else x.size == 0:
        return
    # min and max propagate NaN and hold ±inf, and need no temporary array of x's size (torch
    # finds both in one pass over a floating tensor; numpy takes two)
    if _is_torch_tensor(x) and x.is_floating_point():
        low, high = (float(t) for t in x.aminmax())
    else:
        low, high = float(x.min()), float(x.max())
    if not (np.isfinite(low) and np.isfinite(high)):
        bad = "NaN" if np.isnan(low) or np.isnan(high) else "inf"
        raise ValueError(f"{name} must be finite, but it contains {bad}")


def default_scale(scale, d_k: int) -> float:
    """The softmax scale: ``1/sqrt(d_k)`` when ``scale`` is None, else ``scale`` (a finite float > 0)."""
    d_k = check_int(d_k, "d_k", minimum=1)
    return d_k**-0.5 if scale is None else check_positive_float(scale, "scale")


def check_qkv_shapes(q_shape, k_shape, v_shape) -> tuple[int, ...]:
    """Check ``q (..., n_q, d_k)``, ``k (..., n_k, d_k)``, ``v (..., n_k, d_v)``; return the
    broadcast leading shape. Works on numpy and torch shapes alike (one wording for both)."""
    shapes = {"q": tuple(q_shape), "k": tuple(k_shape), "v": tuple(v_shape)}
    for name, shape in shapes.items():
        if len(shape) < 2 or 0 in shape[-2:]:
            raise ValueError(f"{name} must have shape (..., n >= 1, d >= 1), got {shape}")
    q, k, v = shapes.values()
    if q[-1] != k[-1]:
        raise ValueError(f"q and k must share the last dim d_k, got q {q} and k {k}")
    if k[-2] != v[-2]:
        raise ValueError(f"k and v must have the same number of keys n_k (dim -2), got {k}, {v}")
    try:
        return tuple(np.broadcast_shapes(q[:-2], k[:-2], v[:-2]))
    except ValueError:
        raise ValueError(f"leading (batch/head) dims of q {q}, k {k}, v {v} must match") from None


def as_qkv_arrays(q, k, v) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """numpy ``q (..., n_q, d_k)``, ``k (..., n_k, d_k)``, ``v (..., n_k, d_v)``: floating, finite,
    compatible shapes (leading dims broadcast). The torch twin is ``torch_ops.as_qkv_tensors``."""
    arrays = tuple(
        as_float_array(x, name, min_ndim=2) for name, x in (("q", q), ("k", k), ("v", v))
    )
    check_qkv_shapes(*(a.shape for a in arrays))
    for name, arr in zip("qkv", arrays, strict=True):
        check_finite(arr, name)
    return arrays
