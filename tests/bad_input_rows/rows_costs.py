"""Bad inputs for tutor_lib.costs: exact int counts for any n, strict flags, named errors."""

import numpy as np

from bad_input_rows import Row, error, result
from tutor_lib.costs import (
    GPT2_SMALL,
    MISTRAL_7B_LIKE,
    ModelShape,
    as_model_shape,
    attention_flops,
    attention_params,
    attention_training_bytes,
    crossover_length,
    ffn_flops,
    ffn_params,
    flops_per_token,
    kv_cache_bytes,
    layer_flops,
    memory_breakdown,
    non_embedding_params,
    param_breakdown,
    param_count,
    score_matrix_bytes,
    training_flops,
    weight_bytes,
    whole_bytes,
)

BIG = 10**8 + 1  # n² · 4 is not representable as a float64: a float count would be off


def _exactly(expected):
    return lambda got: type(got) is int and got == expected


SHAPE = dict(n_layers=2, d_model=8, n_heads=2, d_ff=16, vocab_size=10)

ROWS = [
    # exact counts for huge n
    result(score_matrix_bytes, BIG, 1, 4, check=_exactly(4 * BIG**2), why="n = 10**8 + 1"),
    result(
        score_matrix_bytes,
        BIG,
        3,
        0.5,
        batch=2,
        check=_exactly(3 * BIG**2),
        why="int4: half a byte, exactly",
    ),
    error(
        score_matrix_bytes,
        7,
        1,
        np.float32(0.5),
        name="whole number of bytes",
        why="49 values at half a byte",
    ),
    result(
        attention_flops,
        BIG,
        4096,
        check=lambda f: f["scores"] == 4 * BIG**2 * 4096,
        why="n = 10**8 + 1",
    ),
    result(layer_flops, BIG, 8, 32, check=lambda f: type(f["total"]) is int, why="int total"),
    result(
        kv_cache_bytes,
        MISTRAL_7B_LIKE,
        BIG,
        2,
        check=_exactly(2 * 32 * 8 * 128 * BIG * 2),
        why="n = 10**8 + 1",
    ),
    result(
        training_flops,
        175 * 10**9 + 1,
        300e9,
        check=_exactly(6 * (175 * 10**9 + 1) * 300 * 10**9),
        why="exact int, 300e9 accepted",
    ),
    error(training_flops, 1.5, 10, name="n_params", why="not a whole number"),
    error(training_flops, 10, float("nan"), name="tokens", why="NaN"),
    error(training_flops, -1, 10, name="n_params", why="negative"),
    error(training_flops, "7e9", 10, raises=TypeError, name="n_params", why="a string"),
    # strict flags
    error(ffn_flops, 8, 4, 16, gated="False", raises=TypeError, name="gated", why='"False"'),
    error(layer_flops, 8, 4, 16, gated=1, raises=TypeError, name="gated", why="gated=1"),
    error(attention_params, 8, 2, bias="no", raises=TypeError, name="bias", why='"no"'),
    error(ffn_params, 8, 16, bias=None, raises=TypeError, name="bias", why="None"),
    error(ModelShape, **SHAPE, bias="False", raises=TypeError, name="bias", why='"False"'),
    error(
        ModelShape, **SHAPE, tied_embeddings=0, raises=TypeError, name="tied_embeddings", why="0"
    ),
    error(ModelShape, **SHAPE, ffn=["gelu"], name="ffn", why="a list"),
    error(ModelShape, **{**SHAPE, "n_heads": 3}, name="n_heads", why="d_model % n_heads"),
    Row(ModelShape, (), {**SHAPE, "name": 3}, raises=TypeError, name="name", why="an int name"),
    error(
        ModelShape,
        **{**SHAPE, "n_layers": 1.5},
        raises=TypeError,
        name="n_layers",
        why="float layers",
    ),
    error(ModelShape, **SHAPE, n_kv_heads=3, name="n_kv_heads", why="2 heads % 3"),
    # types and ranges
    error(attention_flops, 0, 8, name="n", why="n = 0"),
    error(attention_flops, 8.0, 8, raises=TypeError, name="n", why="float n"),
    error(crossover_length, 8, 0, name="d_ff", why="d_ff = 0"),
    error(ffn_flops, 8, 4, True, raises=TypeError, name="d_ff", why="bool d_ff"),
    error(flops_per_token, GPT2_SMALL, 0, name="n_ctx", why="n_ctx = 0"),
    error(flops_per_token, "gpt2", 8, raises=TypeError, name="shape", why="a string"),
    error(attention_params, 8, 3, name="divisible", why="8 % 3"),
    error(attention_params, 8, 2, 4, name="n_kv_heads", why="more KV heads than heads"),
    error(ffn_params, 8, 16, "tanh", name="ffn", why="unknown kind"),
    error(as_model_shape, {"n_layers": 2}, raises=TypeError, name="shape", why="a dict"),
    error(param_breakdown, None, raises=TypeError, name="shape", why="None"),
    error(param_count, 124e6, raises=TypeError, name="shape", why="a number"),
    error(non_embedding_params, [], raises=TypeError, name="shape", why="a list"),
    error(weight_bytes, GPT2_SMALL, 0, name="bytes_per_value", why="zero bytes"),
    error(weight_bytes, GPT2_SMALL, float("inf"), name="bytes_per_value", why="inf bytes"),
    error(kv_cache_bytes, GPT2_SMALL, -1, name="tokens", why="negative tokens"),
    error(kv_cache_bytes, GPT2_SMALL, 8, 2, 0, name="batch", why="batch 0"),
    error(memory_breakdown, GPT2_SMALL, 8, n_kv_heads=5, name="n_kv_heads", why="12 % 5"),
    error(
        memory_breakdown,
        GPT2_SMALL,
        8,
        bytes_per_value="2",
        raises=TypeError,
        name="bytes_per_value",
        why="a string",
    ),
    error(
        attention_training_bytes,
        8,
        d_model=0,
        n_heads=1,
        n_layers=1,
        name="d_model",
        why="d_model 0",
    ),
    error(
        attention_training_bytes,
        8,
        d_model=8,
        n_heads=1,
        n_layers=1.0,
        raises=TypeError,
        name="n_layers",
        why="float layers",
    ),
    result(
        attention_training_bytes,
        BIG,
        d_model=8,
        n_heads=1,
        n_layers=1,
        check=lambda p: all(type(v) is int for v in p.values()),
        why="exact ints",
    ),
    error(whole_bytes, 3, 0.5, name="whole number", why="1.5 bytes"),
    error(whole_bytes, 2.0, 4, raises=TypeError, name="values", why="float values"),
    error(whole_bytes, 2, True, raises=TypeError, name="bytes_per_value", why="bool"),
    error(whole_bytes, -2, 4, name="values", why="negative values"),
    result(
        whole_bytes,
        2 * BIG**2,
        np.float32(0.5),
        check=_exactly(BIG**2),
        why="a numpy float32 half byte, exactly",
    ),
]
