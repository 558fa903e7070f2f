"""Bad inputs for tutor_lib.masks.content (top-k, content-based sparsity)."""

import numpy as np

from bad_input_rows import error, result
from tutor_lib.limits import TooLargeError
from tutor_lib.masks import topk_mask

HUGE = np.broadcast_to(0.0, (100_000, 100_000))  # a view: 10¹⁰ scores, no memory until touched

ROWS = [
    error(topk_mask, np.zeros(5), 1, name="scores", why="one row, not a matrix"),
    error(topk_mask, np.array([[0.0, np.nan]]), 1, name="scores", why="NaN score"),
    error(topk_mask, np.zeros((2, 2), dtype=bool), 1, raises=TypeError, name="scores", why="bools"),
    error(topk_mask, "scores", 1, raises=TypeError, name="scores", why="a string"),
    error(topk_mask, np.zeros((2, 3)), -1, name="k", why="negative k"),
    error(topk_mask, np.zeros((2, 3)), 1.5, raises=TypeError, name="k", why="float k"),
    error(topk_mask, HUGE, 3, raises=TooLargeError, name="topk_mask", why="10¹⁰ scores"),
    result(topk_mask, np.zeros((2, 3)), 10**9, check=lambda m: m.all(), why="k ≥ n_k keeps all"),
    result(topk_mask, np.zeros((2, 3)), 0, check=lambda m: not m.any(), why="k = 0 keeps none"),
    result(
        topk_mask,
        np.array([[-np.inf, np.inf]]),
        1,
        check=lambda m: m.tolist() == [[False, True]],
        why="infinite scores are ranked",
    ),
]
