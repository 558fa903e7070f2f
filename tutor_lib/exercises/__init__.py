"""Auto-checked exercises: ``check_<name>(your_fn)`` prints feedback and returns True/False.

The reference answers are the tested library functions; they are never pasted into a lesson.
"""

from tutor_lib.exercises.attention import check_attention, check_causal_mask, check_softmax

__all__ = ["check_attention", "check_causal_mask", "check_softmax"]
