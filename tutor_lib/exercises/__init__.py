"""Auto-checked exercises: ``check_<name>(your_fn)`` prints feedback and returns True/False.

The reference answers are the tested library functions; they are never pasted into a lesson.
"""

from tutor_lib.exercises.attention import check_attention, check_causal_mask, check_softmax

__all__ = ["check_attention", "check_causal_mask", "check_softmax"]

from tutor_lib.exercises.costs import (  # noqa: E402
    check_attention_params,
    check_chunked_ffn,
    check_crossover_length,
    check_kv_cache_bytes,
    check_loglog_slope,
    check_score_matrix_bytes,
)

__all__ += [
    "check_attention_params",
    "check_chunked_ffn",
    "check_crossover_length",
    "check_kv_cache_bytes",
    "check_loglog_slope",
    "check_score_matrix_bytes",
]

from tutor_lib.exercises.masks import (  # noqa: E402
    check_dilated_mask,
    check_receptive_field,
    check_tile_sparsity,
)

__all__ += ["check_dilated_mask", "check_receptive_field", "check_tile_sparsity"]
