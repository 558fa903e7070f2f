"""A GPT-2 style Transformer block written out op by op, so that what autograd saves can be read off.

``AttentionSublayer`` is f(x) = Dropout(Attention(LayerNorm(x))·W_O) and ``MLPSublayer`` is
g(x) = Dropout(GELU(LayerNorm(x)·W_1)·W_2); ``TransformerBlock`` is x + f(x) followed by x + g(x)
(pre-LN, as GPT-2). The same two sublayers make a reversible block (``ReversibleBlock(f, g)``), as in
the Reformer. Inputs and outputs: ``x (batch, n, d_model)``.

The attention core is explicit (QKᵀ, softmax, dropout, ·V), with dropout where Korthikanti et al.
2022 put it, so that ``tutor_lib.measure.saved_tensors`` shows the tensors that their 34 + 5·a·s/h
counts. ``fused=True`` calls ``torch.nn.functional.scaled_dot_product_attention`` instead: on CPU
without attention dropout it is a FlashAttention-style kernel that keeps no n × n tensor.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from tutor_lib._validate import check_bool, check_int
from tutor_lib.limits import guard_bytes
from tutor_lib.torch_ops import check_tensor

__all__ = ["AttentionSublayer", "MLPSublayer", "TransformerBlock"]


def _check_dropout(p) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)):
        raise TypeError(f"dropout must be a number in [0, 1), got {type(p).__name__}")
    if not 0 <= p < 1:
        raise ValueError(f"dropout must be in [0, 1), got {p}")
    return float(p)


def _check_input(x, d_model: int, dtype: torch.dtype) -> torch.Tensor:
    check_tensor(x, "x")
    if x.ndim != 3 or x.shape[-1] != d_model:
        raise ValueError(f"x must have shape (batch, n, {d_model}), got {tuple(x.shape)}")
    if x.dtype != dtype:
        raise TypeError(
            f"x must have the parameters' dtype {dtype}, got {x.dtype} (or .to(x.dtype))"
        )
    return x


def _guard_parameters(count: int, what: str) -> None:
    """The parameters are allocated (and initialised) at construction: check their bytes first."""
    guard_bytes(count * torch.get_default_dtype().itemsize, what)


class AttentionSublayer(nn.Module):
    """f(x) = Dropout(MultiHeadAttention(LayerNorm(x)) · W_O), causal, ``num_heads`` heads.

    x: (batch, n, d_model) → (batch, n, d_model). ``dropout`` is used twice, on the attention
    weights and on the output, only in training mode.
    """

    def __init__(self, d_model: int, num_heads: int, *, dropout: float = 0.0, fused: bool = False):
        super().__init__()
        self.d_model = check_int(d_model, "d_model", minimum=1)
        self.num_heads = check_int(num_heads, "num_heads", minimum=1)
        if d_model % num_heads:
            raise ValueError(f"d_model ({d_model}) must be divisible by num_heads ({num_heads})")
        self.dropout = _check_dropout(dropout)
        self.fused = check_bool(fused, "fused")
        # W_QKV, W_O (with biases) and the LayerNorm: 4d² + 6d
        _guard_parameters(4 * d_model**2 + 6 * d_model, f"AttentionSublayer(d_model={d_model})")
        self.norm = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = _check_input(x, self.d_model, self.out.weight.dtype).shape
        h, d_head = self.num_heads, d // self.num_heads
        p = self.dropout if self.training else 0.0
        # q, k, v: (b, h, n, d_head), views of one (b, n, 3d) tensor
        q, k, v = self.qkv(self.norm(x)).view(b, n, 3, h, d_head).permute(2, 0, 3, 1, 4)
        if not self.fused or p > 0:  # with dropout SDPA falls back to its n × n math path
            guard_bytes(3 * b * h * n * n * x.element_size(), f"AttentionSublayer(n={n})")
        if self.fused:
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        else:
            # causal: key j > query i gets -inf (an added constant: nothing extra is saved)
            bias = torch.full((n, n), float("-inf"), dtype=x.dtype, device=x.device).triu(1)
            # S = QKᵀ/√d_head + bias, P = softmax(S): (b, h, n, n)
            weights = torch.softmax(q @ k.transpose(-1, -2) * d_head**-0.5 + bias, dim=-1)
            y = F.dropout(weights, p) @ v  # (b, h, n, d_head)
        y = y.transpose(1, 2).reshape(b, n, d)  # heads merged: (b, n, d)
        return F.dropout(self.out(y), p)


class MLPSublayer(nn.Module):
    """g(x) = Dropout(GELU(LayerNorm(x) · W_1) · W_2), width ``d_ff`` (default 4·d_model).

    x: (batch, n, d_model) → (batch, n, d_model).
    """

    def __init__(self, d_model: int, d_ff: int | None = None, *, dropout: float = 0.0):
        super().__init__()
        self.d_model = check_int(d_model, "d_model", minimum=1)
        d_ff = 4 * d_model if d_ff is None else check_int(d_ff, "d_ff", minimum=1)
        self.dropout = _check_dropout(dropout)
        # W_1, W_2 (with biases) and the LayerNorm: 2·d·d_ff + d_ff + 3d
        _guard_parameters(
            2 * d_model * d_ff + d_ff + 3 * d_model, f"MLPSublayer(d_model={d_model}, d_ff={d_ff})"
        )
        self.norm = nn.LayerNorm(d_model)
        self.fc1 = nn.Linear(d_model, d_ff)
        self.fc2 = nn.Linear(d_ff, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, self.d_model, self.fc2.weight.dtype)
        p = self.dropout if self.training else 0.0
        return F.dropout(self.fc2(F.gelu(self.fc1(self.norm(x)))), p)


class TransformerBlock(nn.Module):
    """x + f(x), then x + g(x): a pre-LN GPT-2 block (``.attention`` = f, ``.mlp`` = g).

    x: (batch, n, d_model) → (batch, n, d_model).
    """

    def __init__(
        self,
        d_model: int,
        num_heads: int,
        d_ff: int | None = None,
        *,
        dropout: float = 0.0,
        fused: bool = False,
    ):
        super().__init__()
        self.attention = AttentionSublayer(d_model, num_heads, dropout=dropout, fused=fused)
        self.mlp = MLPSublayer(d_model, d_ff, dropout=dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(x)
        return x + self.mlp(x)
