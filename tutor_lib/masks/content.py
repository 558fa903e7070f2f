"""Content-based sparsity (numpy): which keys a query keeps is decided by the scores themselves.

The patterns of :mod:`tutor_lib.masks.patterns` depend only on positions, so they are known before
any score is computed and a kernel can skip whole tiles. A content-based pattern such as top-k
(each query keeps its k highest-scoring keys) is known only **after** every score has been computed,
and its kept keys are scattered over the whole row: it saves nothing in a tiled kernel. That is why
learned patterns (Reformer's LSH buckets, the Routing Transformer's k-means clusters) sort or cluster
the tokens first, so that the kept pairs fall into a few dense blocks.
"""

from __future__ import annotations

import numpy as np

from tutor_lib._validate import as_float_array, check_int
from tutor_lib.limits import guard_bytes

__all__ = ["topk_mask"]


def topk_mask(scores, k: int) -> np.ndarray:
    """Boolean mask, shape of ``scores (..., n_q, n_k)``: each query (row) keeps its ``k`` largest
    scores, True = may attend.

    Ties go to the lower key index (a stable sort). ``k >= n_k`` keeps every key; ``k = 0`` keeps
    none (such a query's output is 0). ``±inf`` scores are ranked like any number; NaN is an error.
    Every score must exist first: the mask costs the full n_q × n_k score matrix plus a sort.
    """
    s = as_float_array(scores, "scores", min_ndim=2)
    k = check_int(k, "k", minimum=0)
    # temporaries: NaN test (1 byte per score), -s (8), the int64 order (8) and the mask (1)
    guard_bytes(18 * s.size, f"topk_mask(scores of shape {s.shape})")
    if np.isnan(s).any():
        raise ValueError("scores must not contain NaN (a NaN score has no rank)")
    if k >= s.shape[-1]:
        return np.ones(s.shape, dtype=bool)
    # rank keys by descending score; a stable sort of -s keeps equal scores in index order
    order = np.argsort(-s, axis=-1, kind="stable")[..., :k]  # (..., n_q, k) kept key indices
    mask = np.zeros(s.shape, dtype=bool)
    np.put_along_axis(mask, order, True, axis=-1)
    return mask
