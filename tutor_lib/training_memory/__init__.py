"""Training memory in torch: what autograd saves, and two ways to save less (lesson 07).

* :func:`saved_tensor_bytes` (= :func:`tutor_lib.measure.saved_bytes`): bytes autograd keeps for
  backward, counted with ``torch.autograd.graph.saved_tensors_hooks``, each storage once;
  ``tutor_lib.measure.saved_tensors`` lists them op by op.
* :mod:`~tutor_lib.training_memory.blocks`: a GPT-2 style block written op by op
  (:class:`AttentionSublayer`, :class:`MLPSublayer`, :class:`TransformerBlock`), to compare with
  Korthikanti et al.'s activation formula (``tutor_lib.costs.activation_bytes``).
* :mod:`~tutor_lib.training_memory.checkpoint`: :class:`CheckpointedStack`, activation
  checkpointing every k blocks (``torch.utils.checkpoint``, non-reentrant).
* :mod:`~tutor_lib.training_memory.reversible`: :class:`ReversibleBlock` and
  :class:`ReversibleStack`, whose custom backward recomputes inputs instead of storing them.

The byte *formulas* (training states, activations per layer) live in :mod:`tutor_lib.costs`; this
package measures real torch modules.
"""

from tutor_lib.measure import saved_bytes as saved_tensor_bytes
from tutor_lib.training_memory.blocks import AttentionSublayer, MLPSublayer, TransformerBlock
from tutor_lib.training_memory.checkpoint import CheckpointedStack, as_blocks
from tutor_lib.training_memory.reversible import (
    ReversibleBlock,
    ReversibleStack,
    reversible_forward,
    reversible_inverse,
)

__all__ = [
    "AttentionSublayer",
    "CheckpointedStack",
    "MLPSublayer",
    "ReversibleBlock",
    "ReversibleStack",
    "TransformerBlock",
    "as_blocks",
    "reversible_forward",
    "reversible_inverse",
    "saved_tensor_bytes",
]
