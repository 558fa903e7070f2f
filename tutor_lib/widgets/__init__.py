"""Interactive explorers (ipywidgets). Each builder returns a widget whose current data is readable
as attributes, so pytest and the browser check can drive it like a learner would."""

from tutor_lib.widgets.attention import attention_explorer

__all__ = ["attention_explorer"]

from tutor_lib.widgets.flops import flop_share_explorer  # noqa: E402
from tutor_lib.widgets.memory import attention_memory_explorer, memory_explorer  # noqa: E402
from tutor_lib.widgets.progress import progress  # noqa: E402

__all__ += ["flop_share_explorer", "memory_explorer", "attention_memory_explorer", "progress"]

from tutor_lib.widgets.masks import mask_explorer  # noqa: E402

__all__ += ["mask_explorer"]
