"""Byte units, defined once for the whole library, and exact byte arithmetic.

Memory is counted in binary units (KiB = 2¹⁰ bytes, MiB = 2²⁰, GiB = 2³⁰): RAM and accelerator memory
(HBM) come in powers of two. Plots, widgets and lessons import these names instead of writing
``2**30`` again.
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction

__all__ = ["KIB", "MIB", "GIB", "GPU_80GB_BYTES", "whole_bytes"]

KIB = 2**10
MIB = 2**20
GIB = 2**30
# One "80 GB" accelerator (A100 80GB, H100 80GB), in bytes. HBM capacity comes in binary units, so
# the "80 GB" of the product name is 80 GiB: `nvidia-smi` reports 81,920 MiB (= 80 GiB) on an
# A100 80GB and 81,559 MiB (79.6 GiB) on an H100 80GB (figures as reported by nvidia-smi; e.g. the
# table in modal-labs/modal-client PR #2797). Converting 80·10⁹ bytes to 74.5 GiB undercounts it.
GPU_80GB_BYTES = 80 * GIB


def whole_bytes(values: int, bytes_per_value) -> int:
    """``values × bytes_per_value`` as an exact int (``bytes_per_value`` may be 0.5 for int4).

    The product is computed with fractions, not floats, so counts stay exact for any n; a total that
    is not a whole number of bytes (3 values at 0.5 bytes) is a ValueError.
    """
    if isinstance(bytes_per_value, bool) or not isinstance(bytes_per_value, numbers.Real):
        raise TypeError(f"bytes_per_value must be a number, got {type(bytes_per_value).__name__}")
    if not (math.isfinite(bytes_per_value) and bytes_per_value > 0):
        raise ValueError(f"bytes_per_value must be a finite number > 0, got {bytes_per_value}")
    if isinstance(values, bool) or not isinstance(values, numbers.Integral):
        raise TypeError(f"values must be an int, got {type(values).__name__}")
    if values < 0:
        raise ValueError(f"values must be >= 0, got {values}")
    exact = (
        bytes_per_value if isinstance(bytes_per_value, numbers.Rational) else float(bytes_per_value)
    )
    total = int(values) * Fraction(exact)  # np.float32(0.5) → 0.5 exactly
    if total.denominator != 1:
        raise ValueError(
            f"bytes_per_value {bytes_per_value} × {values} values is not a whole number of bytes"
        )
    return int(total)
