"""Bad inputs for the second-edition functions of tutor_lib.costs (MoE parameters and FLOPs, the
context that fits next to the weights)."""

from bad_input_rows import error, result
from tutor_lib.costs import (
    GPT2_SMALL,
    GPT3_175B,
    MISTRAL_7B_LIKE,
    max_cached_tokens,
    moe_ffn_flops,
    moe_param_counts,
)

ROWS = [
    error(moe_param_counts, GPT2_SMALL, 0, 1, name="num_experts", why="no experts"),
    error(moe_param_counts, GPT2_SMALL, 8, 9, name="top_k", why="top_k > num_experts"),
    error(moe_param_counts, GPT2_SMALL, 8, 0, name="top_k", why="top_k = 0"),
    error(moe_param_counts, {"d_model": 8}, 8, 2, raises=TypeError, name="shape", why="a dict"),
    error(moe_param_counts, GPT2_SMALL, 8.0, 2, raises=TypeError, name="num_experts", why="float"),
    result(
        moe_param_counts,
        MISTRAL_7B_LIKE,
        10**6,
        10**6,
        check=lambda c: c["total"] == c["active"] > 10**15,
        why="a million experts: exact ints, no allocation",
    ),
    error(moe_ffn_flops, 4, 8, 8, num_experts=4, top_k=5, name="top_k", why="top_k > E"),
    error(moe_ffn_flops, 0, 8, 8, num_experts=4, top_k=1, name="n", why="n = 0"),
    error(
        moe_ffn_flops,
        4,
        8,
        8,
        num_experts=4,
        top_k=1,
        gated="no",
        raises=TypeError,
        name="gated",
        why="gated a string",
    ),
    error(max_cached_tokens, GPT2_SMALL, -1, name="memory_bytes", why="negative memory"),
    error(
        max_cached_tokens,
        GPT2_SMALL,
        2.0**30,
        raises=TypeError,
        name="memory_bytes",
        why="float bytes",
    ),
    error(max_cached_tokens, GPT2_SMALL, 2**30, batch=0, name="batch", why="batch 0"),
    error(
        max_cached_tokens,
        GPT2_SMALL,
        2**30,
        bytes_per_value=0,
        name="bytes_per_value",
        why="0 bytes per value",
    ),
    result(
        max_cached_tokens,
        GPT3_175B,
        2**30,
        check=lambda t: t == 0,
        why="weights do not fit: 0 tokens",
    ),
    result(
        max_cached_tokens,
        GPT2_SMALL,
        10**30,
        check=lambda t: t > 10**20,
        why="huge memory: exact int",
    ),
]
