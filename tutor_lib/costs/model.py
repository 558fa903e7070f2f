"""Model shapes and their parameter counts (plain Python, no arrays).

Notation: d = d_model, m = d_ff, h = n_heads, d_h = d / h, n_kv = KV heads, L = n_layers.
"""

from __future__ import annotations

from dataclasses import dataclass

from tutor_lib._validate import check_bool, check_int

__all__ = [
    "FFN_KINDS",
    "ModelShape",
    "GPT3_175B",
    "MISTRAL_7B_LIKE",
    "GPT2_SMALL",
    "as_model_shape",
    "attention_params",
    "ffn_params",
    "param_breakdown",
    "param_count",
    "non_embedding_params",
    "moe_param_counts",
]

FFN_KINDS = ("relu", "gelu", "swiglu")


def _check_ffn_kind(ffn) -> str:
    if not isinstance(ffn, str) or ffn not in FFN_KINDS:
        raise ValueError(f"ffn must be one of {FFN_KINDS}, got {ffn!r}")
    return ffn


@dataclass(frozen=True)
class ModelShape:
    """The numbers that fix a decoder-only Transformer's size.

    ``n_kv_heads``: None means n_heads (multi-head attention); fewer is grouped-query attention.
    ``ffn``: "relu"/"gelu" (two matrices d×m, m×d) or "swiglu" (three: gate, up, down).
    ``bias``: True = GPT style (biases in every linear layer, LayerNorm with weight and bias);
    False = LLaMA/Mistral style (no linear biases, RMSNorm with a weight only).
    ``n_positions``: learned position embeddings (0 for rotary ones, which have no parameters).
    ``tied_embeddings``: the output layer reuses the token-embedding matrix.
    """

    n_layers: int
    d_model: int
    n_heads: int
    d_ff: int
    vocab_size: int
    n_kv_heads: int | None = None
    ffn: str = "gelu"
    bias: bool = True
    n_positions: int = 0
    tied_embeddings: bool = True
    name: str = ""

    def __post_init__(self):
        for field in ("n_layers", "d_model", "n_heads", "d_ff", "vocab_size"):
            check_int(getattr(self, field), field, minimum=1)
        check_int(self.n_positions, "n_positions", minimum=0)
        if self.d_model % self.n_heads:
            raise ValueError(
                f"d_model ({self.d_model}) must be divisible by n_heads ({self.n_heads})"
            )
        if self.n_kv_heads is not None:
            check_int(self.n_kv_heads, "n_kv_heads", minimum=1)
            if self.n_heads % self.n_kv_heads:
                raise ValueError(
                    f"n_heads ({self.n_heads}) must be divisible by n_kv_heads ({self.n_kv_heads})"
                )
        _check_ffn_kind(self.ffn)
        check_bool(self.bias, "bias")
        check_bool(self.tied_embeddings, "tied_embeddings")
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a str, got {type(self.name).__name__}")

    @property
    def d_head(self) -> int:
        return self.d_model // self.n_heads

    @property
    def kv_heads(self) -> int:
        """The number of key/value heads actually stored (n_kv_heads, or n_heads when None)."""
        return self.n_heads if self.n_kv_heads is None else self.n_kv_heads


# GPT-3 paper (Brown et al. 2020, arXiv 2005.14165) Table 2.1: GPT-2 style, d_ff = 4·d_model,
# n_ctx = 2048.
GPT3_175B = ModelShape(
    n_layers=96,
    d_model=12288,
    n_heads=96,
    d_ff=49152,
    vocab_size=50257,
    n_positions=2048,
    name="GPT-3 175B",
)
# Mistral-7B-v0.1's config.json: GQA with 8 KV heads, SwiGLU, RMSNorm, rotary positions, untied
# output layer. (Its sliding window is not modelled here, hence "like".)
MISTRAL_7B_LIKE = ModelShape(
    n_layers=32,
    d_model=4096,
    n_heads=32,
    d_ff=14336,
    vocab_size=32000,
    n_kv_heads=8,
    ffn="swiglu",
    bias=False,
    tied_embeddings=False,
    name="Mistral-7B-like",
)
# GPT-2 small (Radford et al. 2019): the 124M model.
GPT2_SMALL = ModelShape(
    n_layers=12,
    d_model=768,
    n_heads=12,
    d_ff=3072,
    vocab_size=50257,
    n_positions=1024,
    name="GPT-2 small",
)


def attention_params(
    d_model: int, n_heads: int, n_kv_heads: int | None = None, *, bias: bool = False
) -> int:
    """Parameters of one attention layer: W_Q, W_O (d×d) and W_K, W_V (d × n_kv·d_h).

    With n_kv = h this is 4d² (+ 4d biases); grouped-query attention shrinks only W_K and W_V.
    """
    d = check_int(d_model, "d_model", minimum=1)
    h = check_int(n_heads, "n_heads", minimum=1)
    n_kv = h if n_kv_heads is None else check_int(n_kv_heads, "n_kv_heads", minimum=1, maximum=h)
    bias = check_bool(bias, "bias")
    if d % h:
        raise ValueError(f"d_model ({d}) must be divisible by n_heads ({h})")
    if h % n_kv:
        raise ValueError(f"n_heads ({h}) must be divisible by n_kv_heads ({n_kv})")
    d_kv = n_kv * (d // h)  # width of K and V
    weights = 2 * d * d + 2 * d * d_kv
    return weights + (2 * d + 2 * d_kv if bias else 0)


def ffn_params(d_model: int, d_ff: int, ffn: str = "gelu", *, bias: bool = False) -> int:
    """Parameters of one FFN: 2·d·m (+ m + d biases) for relu/gelu, 3·d·m for SwiGLU (+ 2m + d)."""
    d = check_int(d_model, "d_model", minimum=1)
    m = check_int(d_ff, "d_ff", minimum=1)
    _check_ffn_kind(ffn)
    bias = check_bool(bias, "bias")
    n_up = 2 if ffn == "swiglu" else 1  # SwiGLU has a gate and an up projection
    return (n_up + 1) * d * m + ((n_up * m + d) if bias else 0)


def as_model_shape(shape) -> ModelShape:
    """``shape`` if it is a :class:`ModelShape`, else a TypeError naming the argument."""
    if not isinstance(shape, ModelShape):
        raise TypeError(f"shape must be a ModelShape, got {type(shape).__name__}")
    return shape


def param_breakdown(shape: ModelShape) -> dict[str, int]:
    """Parameters by component: embeddings, attention, ffn, norms (all layers), and ``total``."""
    s = as_model_shape(shape)
    d, L = s.d_model, s.n_layers
    norm = 2 * d if s.bias else d  # LayerNorm (weight, bias) or RMSNorm (weight)
    embeddings = s.vocab_size * d * (1 if s.tied_embeddings else 2) + s.n_positions * d
    parts = {
        "embeddings": embeddings,
        "attention": L * attention_params(d, s.n_heads, s.n_kv_heads, bias=s.bias),
        "ffn": L * ffn_params(d, s.d_ff, s.ffn, bias=s.bias),
        "norms": (2 * L + 1) * norm,  # two per layer + the final one
    }
    parts["total"] = sum(parts.values())
    return parts


def param_count(shape: ModelShape) -> int:
    """Total number of parameters (see :func:`param_breakdown`)."""
    return param_breakdown(shape)["total"]


def non_embedding_params(shape: ModelShape) -> int:
    """Kaplan et al.'s N: the weight matrices of the layers (no embeddings, biases or norms).

    Each of these weights is used in exactly one multiply-add per token, so a forward pass costs 2N
    FLOPs per token plus attention's n-dependent part.
    """
    s = as_model_shape(shape)
    per_layer = attention_params(s.d_model, s.n_heads, s.n_kv_heads) + ffn_params(
        s.d_model, s.d_ff, s.ffn
    )
    return s.n_layers * per_layer


def moe_param_counts(shape: ModelShape, num_experts: int, top_k: int) -> dict[str, int]:
    """Parameters of ``shape`` with every FFN replaced by ``num_experts`` experts, ``top_k`` per token.

    Each layer keeps its attention and norms, holds ``num_experts`` copies of the FFN (each with
    the shape's own d_ff and kind) and a router W_r (d × E, no bias, as Mixtral's gate):

    * ``total``: every parameter (what must sit in memory);
    * ``active``: the parameters one token uses, i.e. ``total`` minus the E − k experts per layer it
      skips (embeddings, attention and router count in both).

    The Mistral-7B-like shape with 8 experts, top 2, gives Mixtral 8x7B's published 46.7 B total and
    12.9 B active (Jiang et al. 2024; Mistral AI's release notes).
    """
    s = as_model_shape(shape)
    e = check_int(num_experts, "num_experts", minimum=1)
    k = check_int(top_k, "top_k", minimum=1, maximum=e)
    expert = ffn_params(s.d_model, s.d_ff, s.ffn, bias=s.bias)  # one expert of one layer
    router = s.d_model * e
    total = param_count(s) + s.n_layers * ((e - 1) * expert + router)
    return {"total": total, "active": total - s.n_layers * (e - k) * expert}
