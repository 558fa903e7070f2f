"""Input checks shared by every module: one place, one wording for the error messages.

Each helper raises ``TypeError`` (wrong kind of object) or ``ValueError`` (wrong shape, size or range)
with a message that names the argument and says what was expected.
"""

from __future__ import annotations

import numbers

import numpy as np


def as_float_array(x, name: str, *, min_ndim: int = 1) -> np.ndarray:
    """``x`` as a floating numpy array (ints are promoted to float64); rejects other kinds."""
    if isinstance(x, np.ndarray):
        arr = x
    elif isinstance(x, (list, tuple, numbers.Real)) or _is_torch_tensor(x):
        arr = np.asarray(x)
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
