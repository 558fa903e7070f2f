"""Auto-checked exercises: ``check_<name>(your_fn)`` prints feedback and returns True/False.

One module per concept module: ``exercises/<concept>.py`` checks learners' versions of functions in
``tutor_lib/<concept>.py`` and registers their answers right below each check. The reference answers
are the tested library functions; they are never pasted into a lesson.
"""

from tutor_lib.exercises.attention import check_attention, check_causal_mask, check_softmax
from tutor_lib.exercises.costs import (
    check_attention_params,
    check_crossover_length,
    check_kv_cache_bytes,
    check_score_matrix_bytes,
)
from tutor_lib.exercises.ffn import check_chunked_ffn
from tutor_lib.exercises.masks import check_dilated_mask, check_receptive_field, check_tile_sparsity
from tutor_lib.exercises.measure import check_loglog_slope
from tutor_lib.exercises.tiled import (
    check_attention_backward,
    check_largest_square_tile,
    check_online_softmax_update,
)

__all__ = [
    "check_attention",
    "check_attention_backward",
    "check_attention_params",
    "check_causal_mask",
    "check_chunked_ffn",
    "check_crossover_length",
    "check_dilated_mask",
    "check_kv_cache_bytes",
    "check_largest_square_tile",
    "check_loglog_slope",
    "check_online_softmax_update",
    "check_receptive_field",
    "check_score_matrix_bytes",
    "check_softmax",
    "check_tile_sparsity",
]
