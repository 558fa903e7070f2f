"""tutor_lib: the small, tested numpy + torch library behind the efficient-attention lessons.

Concept modules (attention, ffn, costs, measure, masks, sparse, ...) hold the algorithms; ``plots``,
``widgets`` and ``exercises`` build on them for the notebooks. Import what you need, e.g.
``from tutor_lib.attention import attention``.
"""

__version__ = "0.1.0"
