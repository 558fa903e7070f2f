"""Auto-checked exercises: ``check_<name>(your_fn)`` prints feedback and returns True/False.

One module per concept module: ``exercises/<concept>.py`` checks learners' versions of functions in
``tutor_lib/<concept>.py`` and registers their answers right below each check (a large concept
package may be split along its modules: ``exercises/roofline.py`` and ``exercises/training.py`` for
``tutor_lib.costs.roofline`` and ``tutor_lib.costs.training``). The reference answers are the tested
library functions; they are never pasted into a lesson.
"""

from tutor_lib.exercises.attention import (
    check_attention,
    check_causal_mask,
    check_gqa_attention,
    check_softmax,
)
from tutor_lib.exercises.chunking import (
    check_chunked_local_attention,
    check_ring_attention,
    check_txl_earliest_position,
)
from tutor_lib.exercises.compare import (
    check_longest_n,
    check_pareto_front,
    check_pick_method,
)
from tutor_lib.exercises.costs import (
    check_attention_params,
    check_causal_crossover,
    check_crossover_length,
    check_kv_cache_bytes,
    check_max_cached_tokens,
    check_score_matrix_bytes,
)
from tutor_lib.exercises.ffn import check_chunked_ffn
from tutor_lib.exercises.linear import (
    check_associativity_crossover,
    check_linear_attention,
    check_linear_attention_step,
)
from tutor_lib.exercises.masks import (
    check_dilated_mask,
    check_receptive_field,
    check_tile_sparsity,
    check_two_hop_pattern,
)
from tutor_lib.exercises.measure import check_loglog_slope
from tutor_lib.exercises.quant import (
    check_compressed_causal_mask,
    check_llm_int8_matmul,
    check_quantize,
)
from tutor_lib.exercises.roofline import check_decode_critical_batch
from tutor_lib.exercises.tiled import (
    check_attention_backward,
    check_largest_square_tile,
    check_online_softmax_update,
)
from tutor_lib.exercises.training import check_activation_bytes, check_max_batch_size
from tutor_lib.exercises.training_memory import check_reversible_inverse

__all__ = [
    "check_activation_bytes",
    "check_associativity_crossover",
    "check_attention",
    "check_attention_backward",
    "check_attention_params",
    "check_causal_crossover",
    "check_causal_mask",
    "check_chunked_ffn",
    "check_chunked_local_attention",
    "check_compressed_causal_mask",
    "check_crossover_length",
    "check_decode_critical_batch",
    "check_dilated_mask",
    "check_gqa_attention",
    "check_kv_cache_bytes",
    "check_largest_square_tile",
    "check_linear_attention",
    "check_linear_attention_step",
    "check_llm_int8_matmul",
    "check_longest_n",
    "check_loglog_slope",
    "check_max_batch_size",
    "check_max_cached_tokens",
    "check_online_softmax_update",
    "check_pareto_front",
    "check_pick_method",
    "check_quantize",
    "check_receptive_field",
    "check_reversible_inverse",
    "check_ring_attention",
    "check_score_matrix_bytes",
    "check_softmax",
    "check_tile_sparsity",
    "check_two_hop_pattern",
    "check_txl_earliest_position",
]
