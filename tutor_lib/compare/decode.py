"""What one decoding step costs each method: FLOPs for the new token and the cache it must keep.

Per layer and (batch, head), after t tokens (the new one included), d_k and d_v per head. A
decoder attends causally, so each method is taken in its causal form: the window as a causal
window of ``WINDOW[0] + 1`` keys (a rolling buffer), chunks as the current chunk, linear attention
and Performer as RNNs with a fixed-size state (lesson 06), the quantized cache at ``KV_BITS`` with
its scales (lesson 08). Linformer (its projection mixes every position) and the BigBird-style
pattern (global tokens see the future) have no causal decoding step: their entry says so.

FLOPs count a multiply-add as 2, matmuls and the state update alike; the feature map's own work
is counted for Performer (its projections), not for elu + 1.
"""

from __future__ import annotations

import math

from tutor_lib._validate import check_int
from tutor_lib.compare.methods import Method
from tutor_lib.compare.patterns import strided_stride
from tutor_lib.compare.table import KV_BITS, LOCAL_CHUNK, NUM_FEATURES, STRIDE, WINDOW, get_method

__all__ = ["DECODE_KINDS", "decode_cost"]

_KV_GROUP, _SCALE_BYTES = 128, 2  # quantize_kv(group=128); scales and zero points kept in fp16

# method name → how it decodes (None: no causal decoding step)
DECODE_KINDS: dict[str, str | None] = {
    "SDPA": "full",
    "SDPA causal": "full",
    "dense (numpy)": "full",
    "chunked (numpy)": "full",
    "flash_attention": "full",
    "ring (numpy)": "full",
    "window, dense mask": "window",
    "window, banded": "window",
    "window, block-sparse": "window",
    "linear (elu+1)": "linear",
    "linear (elu+1) causal": "linear",
    "Performer": "performer",
    "Linformer": None,
    "BigBird, block-sparse": None,
    "memory-compressed (numpy)": "compressed",
    "KV 4-bit (numpy)": "quantized",
    "strided + local, block-sparse": "strided",
    "chunked local (numpy)": "chunk",
}

_NOTES = {
    "full": "reads every cached key and value: grows with t",
    "window": f"rolling buffer of the last {WINDOW[0] + 1} tokens (causal window)",
    "chunk": f"only the current chunk (≤ {LOCAL_CHUNK} tokens), emptied at each chunk start",
    "strided": "l + 1 recent keys and every l-th earlier one, l ≈ √t: all t stay cached",
    "linear": "an RNN: state S = Σ φ(k)[v, 1]ᵀ of d_k × (d_v + 1), whatever t",
    "performer": f"an RNN on {NUM_FEATURES} random features: state {NUM_FEATURES} × (d_v + 1)",
    "compressed": f"one slot per {STRIDE} tokens (the newest slot filling up)",
    "quantized": f"every token, at {KV_BITS} bits + a scale and zero point per group of 128",
}


def _keys(kind: str, t: int) -> int:
    """Keys the new token (position t − 1) attends to."""
    if kind == "window":
        return min(t, WINDOW[0] + 1)
    if kind == "chunk":
        return (t - 1) % LOCAL_CHUNK + 1
    if kind == "strided":
        i, stride = t - 1, strided_stride(t)
        return min(i, stride) + 1 + i // stride + 1 - 1 - (i >= stride)
    if kind == "compressed":
        return math.ceil(t / STRIDE)
    return t  # full, quantized


def _cached(kind: str, t: int) -> int:
    """Tokens (or slots) whose keys and values stay in the cache."""
    return t if kind == "strided" else _keys(kind, t)


def decode_cost(method: Method | str, t: int, d_k: int, d_v: int, *, itemsize: int = 2) -> dict:
    """``{"kind", "flops", "cache_bytes", "note"}`` of one decoding step of ``method`` after t
    tokens, per layer and head; ``itemsize`` bytes per cached value (2: fp16/bf16). ``flops`` and
    ``cache_bytes`` are None when the method has no causal decoding step."""
    method = get_method(method) if isinstance(method, str) else method
    if not isinstance(method, Method):
        raise TypeError(f"method must be a Method entry or its name, got {type(method).__name__}")
    if method.name not in DECODE_KINDS:
        raise ValueError(f"method {method.name!r} has no decode entry (add it to DECODE_KINDS)")
    t = check_int(t, "t", minimum=1)
    d_k, d_v = check_int(d_k, "d_k", minimum=1), check_int(d_v, "d_v", minimum=1)
    itemsize = check_int(itemsize, "itemsize", minimum=1, maximum=16)
    kind = DECODE_KINDS[method.name]
    if kind is None:
        why = (
            "its projection mixes every position"
            if "Linformer" in method.name
            else ("its global tokens see the whole sequence")
        )
        return {"kind": None, "flops": None, "cache_bytes": None, "note": f"not causal: {why}"}
    e = d_v + 1  # [v, 1]: numerator and normalizer
    if kind == "linear":  # read-out φ(q)ᵀ[S, z] and update S += φ(k)[v, 1]ᵀ
        flops, cache = 4 * d_k * e, d_k * e * itemsize
    elif kind == "performer":  # features of q and k (2·m·d_k each), then the same with d' = m
        flops, cache = 4 * NUM_FEATURES * d_k + 4 * NUM_FEATURES * e, NUM_FEATURES * e * itemsize
    else:  # q·kᵀ (2·d_k per key) and weights·V (2·d_v per key)
        flops = 2 * _keys(kind, t) * (d_k + d_v)
        cache = _cached(kind, t) * (d_k + d_v) * itemsize
        if kind == "quantized":  # payload at KV_BITS, plus (scale, zero point) pairs
            pairs = d_k * math.ceil(t / _KV_GROUP) + t * math.ceil(d_v / _KV_GROUP)
            cache = -(-t * (d_k + d_v) * KV_BITS // 8) + 2 * pairs * _SCALE_BYTES
    return {"kind": kind, "flops": flops, "cache_bytes": cache, "note": _NOTES[kind]}
