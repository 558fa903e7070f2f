"""Memory compression: quantization (weights, activations, KV cache) and memory-compressed attention.

numpy throughout (the readable reference), except :func:`weight_only_matvec` (torch, timed in lesson 08).

* :func:`quantize` / :func:`dequantize`: a real number x is stored as a small integer q with a float
  ``scale`` (and an integer ``zero_point``): x̂ = scale · (q − zero_point). Symmetric (absmax) keeps
  zero_point = 0 and q ∈ [−(2^(b−1) − 1), 2^(b−1) − 1]; asymmetric (zero-point) maps [min x, max x]
  onto q ∈ [0, 2^b − 1] with an integer zero_point (the q that stands for x = 0).
  Either way |x − x̂| ≤ scale / 2 for every element (up to float rounding).
* :func:`int8_matmul`: integer matmul with int32 accumulation (exact).
* :func:`llm_int8_matmul`: LLM.int8() (Dettmers et al. 2022): outlier feature columns of x in float,
  the rest vector-wise int8 (a scale per row of x and per column of w).
* :func:`quantize_kv`: KIVI (Liu et al. 2024): keys per channel, values per token.
* :func:`compress_kv`: memory-compressed attention (Liu et al. 2018): K and V shortened along the
  sequence; a different idea from quantization (fewer vectors, not fewer bits per number).

Submodules: :mod:`~tutor_lib.quant.core` (quantize, dequantize, int8 matmul),
:mod:`~tutor_lib.quant.matmul` (LLM.int8, quantized products, weight-only decoding),
:mod:`~tutor_lib.quant.kv` (KV-cache quantization and memory-compressed attention).
"""

from tutor_lib.quant.core import (
    dequantize,
    fake_quantize,
    int8_matmul,
    quantize,
    relative_error,
)
from tutor_lib.quant.kv import (
    compress_kv,
    compressed_causal_mask,
    kv_cache_quant_bytes,
    quantize_kv,
)
from tutor_lib.quant.matmul import (
    SCHEMES,
    activation_scales,
    llm_int8_matmul,
    outlier_activations,
    outlier_columns,
    quantized_bytes,
    quantized_matmul,
    weight_only_matvec,
)

__all__ = [
    "SCHEMES",
    "activation_scales",
    "compress_kv",
    "compressed_causal_mask",
    "dequantize",
    "fake_quantize",
    "int8_matmul",
    "kv_cache_quant_bytes",
    "llm_int8_matmul",
    "outlier_activations",
    "outlier_columns",
    "quantize",
    "quantize_kv",
    "quantized_bytes",
    "quantized_matmul",
    "relative_error",
    "weight_only_matvec",
]
