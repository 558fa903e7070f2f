"""Lesson 09's long-range retrieval task run through every method of the table.

The task (:func:`tutor_lib.chunking.retrieval_task`) hands the last token a request for the value of
a needle ``distance`` tokens back; a hand-built head (scores = SHARPNESS · cos, scale 1) retrieves
it if the needle is among the keys the last query sees and the method keeps the sharp softmax.
Each method gets the same q, k, v, with q multiplied by √d_key so that its default scale 1/√d_key
gives exactly the task's scores. Exact methods retrieve what full attention retrieves; a method
that changes the model shows what it loses: the window's far needles, linear attention's
sharpness, Linformer's positions mixed together.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from tutor_lib._validate import check_int
from tutor_lib.compare.methods import Method
from tutor_lib.compare.table import get_method
from tutor_lib.limits import guard_bytes

__all__ = ["method_retrieval"]


def _check_task(task) -> tuple[int, int, int]:
    if not isinstance(task, dict) or not {"q", "k", "v", "target"} <= set(task):
        raise TypeError("task must be the dict made by tutor_lib.chunking.retrieval_task")
    trials, n, d_key = task["q"].shape
    return trials, n, d_key


def method_retrieval(method: Method | str, task: dict, *, batch: int = 16) -> np.ndarray:
    """(T,) booleans: did ``method`` (an entry of the table or its name) hand the last token the
    needle's value, for each trial of ``task``? Trials run ``batch`` at a time (as heads of one
    sequence); torch methods in float64, so that the verdicts do not depend on the thread count."""
    method = get_method(method) if isinstance(method, str) else method
    if not isinstance(method, Method):
        raise TypeError(f"method must be a Method entry or its name, got {type(method).__name__}")
    trials, n, d_key = _check_task(task)
    batch = check_int(batch, "batch", minimum=1)
    guard_bytes(  # a dense method's three (batch, n, n) float64 arrays
        3 * min(batch, trials) * n * n * 8,
        f"method_retrieval(n={n}, batch={batch})",
        hint="use a smaller batch",
    )
    fn = method.make(n, torch.float64)
    q = task["q"] * math.sqrt(d_key)  # default scale 1/√d_key → the task's scale-1 scores
    outputs = []
    for start in range(0, trials, batch):
        part = slice(start, start + batch)
        args = tuple(x[None, part] for x in (q, task["k"], task["v"]))  # (1, B, n, ·)
        if method.backend == "torch":
            with torch.no_grad():
                out = fn(*(torch.from_numpy(np.ascontiguousarray(a)) for a in args)).numpy()
        else:
            out = np.asarray(fn(*args))
        outputs.append(out[0, :, -1])  # (B, num_values): the last query's output
    return np.concatenate(outputs).argmax(axis=-1) == task["target"]
