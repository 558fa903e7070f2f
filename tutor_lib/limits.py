"""Size guards: a function whose memory grows with n² or a user-chosen size checks its bytes first.

A typo (``n=100000`` instead of ``n=1000``) should give a clear error in a second, not freeze the
notebook while the machine swaps. Every such function estimates what it will allocate and calls
:func:`guard_bytes`, which raises :class:`TooLargeError` (a ValueError) above the limit. The limit
is 4 GiB by default; :func:`set_max_bytes` raises or lowers it (also exported as
``tutor_lib.set_max_bytes``).
"""

from __future__ import annotations

import numbers

from tutor_lib.costs.units import GIB, KIB

__all__ = [
    "DEFAULT_MAX_BYTES",
    "TooLargeError",
    "set_max_bytes",
    "get_max_bytes",
    "format_bytes",
    "guard_bytes",
]


def _check_limit(limit) -> int:
    if isinstance(limit, bool) or not isinstance(limit, numbers.Integral):
        raise TypeError(f"limit must be an int number of bytes or None, got {type(limit).__name__}")
    if limit < 1:
        raise ValueError(f"limit must be >= 1 byte, got {limit}")
    return int(limit)


DEFAULT_MAX_BYTES = 4 * GIB
_limit = {"bytes": DEFAULT_MAX_BYTES}


class TooLargeError(ValueError):
    """A call would allocate more than the limit set by :func:`set_max_bytes` (default 4 GiB)."""


def set_max_bytes(limit: int | None) -> int:
    """Set the largest allocation a tutor_lib function may attempt (None: back to 4 GiB).

    Returns the previous limit, so ``old = set_max_bytes(16 * GIB)`` … ``set_max_bytes(old)``.
    The limit protects a notebook from a typo (``n=100000`` instead of ``n=1000``) that would freeze
    the kernel while the machine swaps; raise it deliberately when you have the memory.
    """
    previous = _limit["bytes"]
    _limit["bytes"] = DEFAULT_MAX_BYTES if limit is None else _check_limit(limit)
    return previous


def get_max_bytes() -> int:
    """The current limit of :func:`set_max_bytes`."""
    return _limit["bytes"]


def format_bytes(nbytes: float) -> str:
    """``9.3 GiB``-style text for a byte count (binary units)."""
    value, unit = float(nbytes), "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if abs(value) < KIB or unit == "EiB":
            break
        value /= KIB
    return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"


def guard_bytes(nbytes: int, what: str, *, hint: str = "") -> None:
    """Raise :class:`TooLargeError` before allocating when ``nbytes`` exceeds the limit.

    ``what`` names the call (e.g. ``"local_mask(n=100000)"``); ``hint`` suggests a cheaper route.
    """
    limit = _limit["bytes"]
    if nbytes > limit:
        raise TooLargeError(
            f"{what} needs {format_bytes(nbytes)}, over the limit of {format_bytes(limit)}; "
            f"raise it with tutor_lib.set_max_bytes(...) if you have the memory"
            + (f", or {hint}" if hint else "")
        )
