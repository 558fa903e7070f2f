"""Closed-form cost formulas (plain Python, no arrays): FLOPs and bytes of a Transformer layer.

FLOPs count one multiply-add as 2 FLOPs (the convention of Kaplan et al. and torch's FlopCounterMode).
"""

from __future__ import annotations

from tutor_lib._validate import check_int

__all__ = ["attention_flops"]


def attention_flops(n: int, d_model: int) -> dict[str, int]:
    """Forward FLOPs of one self-attention layer on one sequence of ``n`` tokens.

    ``projections``: Q, K, V and output projections, 4 matmuls (n, d) @ (d, d) → 8·n·d².
    ``scores``: Q Kᵀ (2·n²·d) plus P V (2·n²·d) → 4·n²·d, summed over heads (h · d_h = d).
    Softmax, scaling and masking are O(n²·h) element-wise work and are not counted.
    """
    n = check_int(n, "n", minimum=1)
    d_model = check_int(d_model, "d_model", minimum=1)
    return {"projections": 8 * n * d_model**2, "scores": 4 * n**2 * d_model}
