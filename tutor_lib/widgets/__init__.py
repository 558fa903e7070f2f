"""Interactive explorers (ipywidgets). Each builder returns a widget whose current data is readable
as attributes, so pytest and the browser check can drive it like a learner would."""

from tutor_lib.widgets.attention import attention_explorer
from tutor_lib.widgets.chunking import chunking_explorer
from tutor_lib.widgets.compare import budget_explorer
from tutor_lib.widgets.flops import flop_share_explorer
from tutor_lib.widgets.linear import performer_explorer
from tutor_lib.widgets.masks import mask_explorer
from tutor_lib.widgets.memory import attention_memory_explorer, memory_explorer
from tutor_lib.widgets.progress import progress
from tutor_lib.widgets.quant import quantization_explorer
from tutor_lib.widgets.tiled import hbm_traffic_explorer, online_softmax_stepper
from tutor_lib.widgets.training import training_memory_explorer

__all__ = [
    "attention_explorer",
    "attention_memory_explorer",
    "budget_explorer",
    "chunking_explorer",
    "flop_share_explorer",
    "hbm_traffic_explorer",
    "mask_explorer",
    "memory_explorer",
    "online_softmax_stepper",
    "performer_explorer",
    "progress",
    "quantization_explorer",
    "training_memory_explorer",
]
