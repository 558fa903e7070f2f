"""Published counterpart of lesson 10's comparison: Long Range Arena (Tay et al. 2020).

"Long Range Arena: A Benchmark for Efficient Transformers", Tay, Dehghani, Abnar, Shen, Bahri,
Pham, Rao, Yang, Ruder, Metzler, arXiv 2011.04006 (ICLR 2021). Every model was re-implemented in
JAX/Flax and trained **from scratch** on each task with shared hyperparameters; the efficiency
benchmark ran on **4x4 TPU V3 chips**, batch 32, on the byte-level text task. These are the
paper's numbers, quoted, not measured here:

* :data:`LRA_ACCURACY` (Table 1): test accuracy (%) per task; Path-X (16K tokens) is left out,
  every model failed it (chance level); ``avg`` is the paper's average of the other five;
* :data:`LRA_SPEED_4K` (Table 2, the 4K column): training steps per second and peak memory per
  TPU device (GB). Sparse Transformer and Longformer are not in Table 2 (the paper ran them as
  dense masked implementations, so their speed would say nothing about the method).

Only the rows of methods the course builds are quoted (Sinkhorn, Synthesizer and Longformer are
left out). :data:`LRA_NAMES` maps each row to the entry of our method table closest to it; the
models differ in everything but the attention pattern (learned weights, depth, Local Attention's
exact window), so the comparison is of trends, not of numbers.
"""

from __future__ import annotations

__all__ = ["LRA_SOURCE", "LRA_TASKS", "LRA_ACCURACY", "LRA_SPEED_4K", "LRA_NAMES"]

LRA_SOURCE = (
    "Tay et al. 2020, Long Range Arena, arXiv 2011.04006: Table 1 (accuracy, %) and "
    "Table 2 (4K column: steps/s and peak memory per device, 4x4 TPU V3, batch 32)"
)
LRA_TASKS = ("ListOps", "Text", "Retrieval", "Image", "Pathfinder")


def _row(accuracies: tuple[float, ...], avg: float) -> dict[str, float]:
    return {**dict(zip(LRA_TASKS, accuracies, strict=True)), "avg": avg}


# Table 1: accuracy (%) on ListOps, Text, Retrieval, Image, Pathfinder, and the paper's average
LRA_ACCURACY: dict[str, dict[str, float]] = {
    "Transformer": _row((36.37, 64.27, 57.46, 42.44, 71.40), 54.39),
    "Local Attention": _row((15.82, 52.98, 53.39, 41.46, 66.63), 46.06),
    "Sparse Trans.": _row((17.07, 63.58, 59.59, 44.24, 71.71), 51.24),
    "Linformer": _row((35.70, 53.94, 52.27, 38.56, 76.34), 51.36),
    "Reformer": _row((37.27, 56.10, 53.40, 38.07, 68.50), 50.67),
    "BigBird": _row((36.05, 64.02, 59.29, 40.83, 74.87), 55.01),
    "Linear Trans.": _row((16.13, 65.90, 53.09, 42.34, 75.30), 50.55),
    "Performer": _row((18.01, 65.40, 53.82, 42.77, 77.05), 51.41),
}

# Table 2, sequence length 4K: training steps per second and peak memory per TPU device (GB)
LRA_SPEED_4K: dict[str, dict[str, float]] = {
    "Transformer": {"steps_per_s": 1.4, "memory_gb": 9.48},
    "Local Attention": {"steps_per_s": 7.4, "memory_gb": 1.37},
    "Linformer": {"steps_per_s": 7.7, "memory_gb": 0.99},
    "Reformer": {"steps_per_s": 1.1, "memory_gb": 2.28},
    "BigBird": {"steps_per_s": 1.5, "memory_gb": 2.88},
    "Linear Trans.": {"steps_per_s": 7.8, "memory_gb": 1.03},
    "Performer": {"steps_per_s": 8.0, "memory_gb": 1.06},
}

# LRA row → the entry of tutor_lib.compare.METHODS closest to it (None: not built here)
LRA_NAMES: dict[str, str | None] = {
    "Transformer": "SDPA",
    "Local Attention": "window, banded",
    "Sparse Trans.": "strided + local, block-sparse",
    "Linformer": "Linformer",
    "Reformer": None,
    "BigBird": "BigBird, block-sparse",
    "Linear Trans.": "linear (elu+1)",
    "Performer": "Performer",
}
