"""Bad inputs for tutor_lib.costs.training (states, activations, budget, largest batch)."""

from bad_input_rows import error, result
from tutor_lib.costs import (
    GPT2_SMALL,
    GPT3_175B,
    activation_bytes,
    max_batch_size,
    training_budget,
    training_state_bytes,
)

ROWS = [
    error(training_state_bytes, "GPT-3", raises=TypeError, name="shape", why="a name, not a shape"),
    error(training_state_bytes, GPT2_SMALL, optimizer="adamw", name="optimizer", why="unknown"),
    error(
        training_state_bytes,
        GPT2_SMALL,
        mixed_precision="yes",
        raises=TypeError,
        name="mixed_precision",
        why="a string flag",
    ),
    error(activation_bytes, GPT2_SMALL, 0, 1, name="seq_len", why="no tokens"),
    error(activation_bytes, GPT2_SMALL, 1024, -1, name="batch", why="negative batch"),
    error(activation_bytes, GPT2_SMALL, 1024.0, 1, raises=TypeError, name="seq_len", why="float"),
    error(activation_bytes, GPT2_SMALL, 8, 1, recompute="some", name="recompute", why="unknown"),
    error(activation_bytes, GPT2_SMALL, 8, 1, bytes_per_value=0, name="bytes_per_value", why="0"),
    error(activation_bytes, GPT2_SMALL, 8, 1, mask_bytes=-1, name="bytes_per_value", why="mask<0"),
    error(
        activation_bytes, GPT2_SMALL, 8, 1, dropout=1, raises=TypeError, name="dropout", why="int"
    ),
    result(
        activation_bytes,
        GPT3_175B,
        10**7,
        10**4,
        check=lambda v: isinstance(v, int) and v == 96 * (34 * 10**11 * 12288 + 5 * 96 * 10**18),
        why="a huge length is exact (no float overflow)",
    ),
    error(training_budget, GPT2_SMALL, 1024, 1, optimizer="lion", name="optimizer", why="unknown"),
    error(training_budget, GPT2_SMALL, 1024, 0, name="batch", why="zero batch"),
    error(max_batch_size, GPT2_SMALL, 1024, -1, name="budget_bytes", why="negative budget"),
    error(
        max_batch_size, GPT2_SMALL, 1024, 8e10, raises=TypeError, name="budget_bytes", why="float"
    ),
    result(max_batch_size, GPT2_SMALL, 1024, 0, check=lambda v: v == 0, why="no budget: batch 0"),
]
