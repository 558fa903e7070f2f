"""tutor_lib: the small, tested numpy + torch library behind the efficient-attention lessons.

Concept modules (attention, ffn, costs, measure, masks, sparse, ...) hold the algorithms; ``plots``,
``widgets`` and ``exercises`` build on them for the notebooks. Import what you need, e.g.
``from tutor_lib.attention import attention``.

Functions whose memory grows with n² or a size you choose refuse to allocate more than 4 GiB;
``tutor_lib.set_max_bytes(limit)`` changes that limit (see :mod:`tutor_lib.limits`).
"""

from tutor_lib.limits import get_max_bytes, set_max_bytes

__all__ = ["get_max_bytes", "set_max_bytes"]
__version__ = "0.1.0"
