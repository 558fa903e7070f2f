"""Interactive explorers (ipywidgets). Each builder returns a widget whose current data is readable
as attributes, so pytest and the browser check can drive it like a learner would."""

from tutor_lib.widgets.attention import attention_explorer

__all__ = ["attention_explorer"]
