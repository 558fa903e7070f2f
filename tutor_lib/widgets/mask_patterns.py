"""The mask explorer's patterns: control values → a boolean mask, with notes about clamped values.

:func:`pattern_mask` turns a pattern key of :data:`PATTERNS` and the explorer's control values into
an (n, n) mask built with :mod:`tutor_lib.masks` (the mask rules live there, not here); values that
make no sense together (more global tokens than tokens, a summary wider than the stride…) are
clamped and a note says so. :func:`clamp_param` and :func:`pattern_summary` are shared with
:mod:`tutor_lib.widgets.masks`.
"""

from __future__ import annotations

import numpy as np

from tutor_lib import masks

__all__ = ["pattern_mask", "PATTERNS", "VISIBLE", "PART_CONTROLS"]

# dropdown label → pattern key
PATTERNS = {
    "local window (Longformer, ±w/2)": "local",
    "causal sliding window (Mistral)": "causal",
    "dilated window (Longformer)": "dilated",
    "block-diagonal chunks (Liu et al. 2018)": "block",
    "strided (Sparse Transformer)": "strided",
    "fixed (Sparse Transformer)": "fixed",
    "Longformer: window + global": "longformer",
    "BigBird: blocks (window + global + random)": "bigbird",
    "combine: pick the parts": "combine",
}

# the pattern-specific controls each pattern shows (n, layers and tile are always shown)
VISIBLE = {
    "local": ("left", "right"),
    "causal": ("left",),
    "dilated": ("left", "right", "dilation"),
    "block": ("block",),
    "strided": ("stride", "causal"),
    "fixed": ("stride", "summary", "causal"),
    "longformer": ("left", "right", "global_tokens"),
    "bigbird": ("block", "global_tokens", "random_blocks", "seed"),
    "combine": ("use_window", "use_strided", "use_global", "use_random", "causal"),
}
# in "combine", each ticked part brings its own sliders
PART_CONTROLS = {
    "use_window": ("left", "right"),
    "use_strided": ("stride",),
    "use_global": ("global_tokens",),
    "use_random": ("num_random", "seed"),
}


def _window(p: dict, n: int, notes: list[str]) -> tuple[int, int]:
    left, right = p["left"], p["right"]
    if max(left, right) > n - 1:
        notes.append(f"a window side > n − 1 = {n - 1} already covers the sequence: clipped")
    return min(left, n - 1), min(right, n - 1)


def clamp_param(p: dict, key: str, top: int, notes: list[str], why: str) -> int:
    """``p[key]``, or ``top`` (and a note naming ``why``) when it is larger."""
    if p[key] > top:
        notes.append(f"{key} = {p[key]} > {why} = {top}: using {top}")
        return top
    return p[key]


def _combine(p: dict, n: int, notes: list[str]) -> np.ndarray:
    mask = np.zeros((n, n), dtype=bool)
    if p["use_window"]:
        mask |= masks.local_mask(n, *_window(p, n, notes))
    if p["use_strided"]:
        mask |= masks.strided_mask(n, clamp_param(p, "stride", n, notes, "n"), causal=False)
    if p["use_global"]:
        mask |= masks.global_mask(n, clamp_param(p, "global_tokens", n, notes, "n"))
    if p["use_random"]:
        mask |= masks.random_mask(n, clamp_param(p, "num_random", n, notes, "n"), p["seed"])
    if not (p["use_window"] or p["use_strided"] or p["use_global"] or p["use_random"]):
        notes.append("no part ticked: the mask is empty")
    return mask & masks.causal_mask(n) if p["causal"] else mask


def _bigbird(p: dict, n: int, notes: list[str]) -> np.ndarray:
    """BigBird's block-sparse layout: window of 3 blocks | global tokens | random key blocks."""
    block = clamp_param(p, "block", n, notes, "n")
    blocks = -(-n // block)  # ceil(n / block)
    random_blocks = clamp_param(p, "random_blocks", blocks, notes, "the number of blocks")
    mask = masks.block_local_mask(n, block, 1, 1)
    mask |= masks.global_mask(n, clamp_param(p, "global_tokens", n, notes, "n"))
    return mask | masks.block_random_mask(n, block, random_blocks, p["seed"])


def pattern_summary(pattern: str, params: dict) -> str:
    """The values a pattern really uses (after clamping), so that every slider shows its effect
    even when the mask does not change (BigBird at small n is one dense block)."""
    if pattern != "bigbird":
        return ""
    n = params["n"]
    block = min(params["block"], n)
    blocks = -(-n // block)
    random_blocks = min(params["random_blocks"], blocks)
    return (
        f"{blocks} block(s) of {block} tokens, {min(params['global_tokens'], n)} global "
        f"token(s), {random_blocks} random block(s) per query block (seed {params['seed']}) · "
    )


_PARAM_KEYS = frozenset(
    {"n", "left", "right", "dilation", "block", "stride", "summary", "causal", "global_tokens"}
    | {
        "num_random",
        "random_blocks",
        "seed",
        "use_window",
        "use_strided",
        "use_global",
        "use_random",
    }
)


def pattern_mask(pattern: str, params: dict) -> tuple[np.ndarray, list[str]]:
    """(mask (n, n), notes about clamped values) for a pattern key of :data:`PATTERNS`.

    ``params`` holds every control value: n, left, right, dilation, block, stride, summary, causal,
    global_tokens, num_random, random_blocks, seed, use_window, use_strided, use_global, use_random.
    """
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of control values, got {type(params).__name__}")
    missing = sorted(_PARAM_KEYS - set(params))
    if missing:
        raise ValueError(f"params is missing the control values {missing}")
    if not isinstance(pattern, str) or pattern not in VISIBLE:
        raise ValueError(f"pattern must be one of {sorted(VISIBLE)}, got {pattern!r}")
    p, n, notes = params, params["n"], []
    if pattern in ("local", "causal", "longformer"):
        left, right = _window(p, n, notes)
        mask = masks.local_mask(n, left, 0 if pattern == "causal" else right)
        if pattern == "longformer":
            mask |= masks.global_mask(n, clamp_param(p, "global_tokens", n, notes, "n"))
    elif pattern == "bigbird":
        mask = _bigbird(p, n, notes)
    elif pattern == "dilated":
        mask = masks.dilated_mask(n, *_window(p, n, notes), p["dilation"])
    elif pattern == "block":
        mask = masks.block_mask(n, clamp_param(p, "block", n, notes, "n"))
    elif pattern == "strided":
        mask = masks.strided_mask(n, clamp_param(p, "stride", n, notes, "n"), causal=p["causal"])
    elif pattern == "fixed":
        stride = clamp_param(p, "stride", n, notes, "n")
        summary = clamp_param(p, "summary", stride, notes, "stride")
        mask = masks.fixed_mask(n, stride, summary, causal=p["causal"])
    elif pattern == "combine":
        mask = _combine(p, n, notes)
    else:
        raise ValueError(f"pattern must be one of {sorted(VISIBLE)}, got {pattern!r}")
    return mask, notes
