"""The table-driven bad-input suite: every public function of every concept module, fed bad or
extreme inputs, gives a named error or a correct (clamped) result, within a time limit.

Rows live in ``tests/bad_input_rows/rows_<module>.py`` (see its ``__init__``). A contributor who adds
a public function gets a failing ``test_every_public_function_has_rows`` until it has rows.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import signal
from contextlib import contextmanager

import pytest
from bad_input_rows import Row

import tutor_lib

UI_PACKAGES = {"plots", "widgets", "exercises"}
SECONDS = 10  # a row that takes longer is a hang, not an error message
# Public functions that have no rows yet. Issue 10 empties this list; never add to it.
PENDING: set[str] = {
    "tutor_lib._validate.default_scale",
    "tutor_lib.attention.attention",
    "tutor_lib.attention.causal_mask",
    "tutor_lib.attention.merge_heads",
    "tutor_lib.attention.multi_head_attention",
    "tutor_lib.attention.random_attention_weights",
    "tutor_lib.attention.row_stats",
    "tutor_lib.attention.softmax",
    "tutor_lib.attention.split_heads",
    "tutor_lib.costs.flops.attention_flops",
    "tutor_lib.costs.flops.crossover_length",
    "tutor_lib.costs.flops.ffn_flops",
    "tutor_lib.costs.flops.flops_per_token",
    "tutor_lib.costs.flops.layer_flops",
    "tutor_lib.costs.flops.training_flops",
    "tutor_lib.costs.memory.attention_training_bytes",
    "tutor_lib.costs.memory.kv_cache_bytes",
    "tutor_lib.costs.memory.memory_breakdown",
    "tutor_lib.costs.memory.score_matrix_bytes",
    "tutor_lib.costs.memory.weight_bytes",
    "tutor_lib.costs.model.ModelShape",
    "tutor_lib.costs.model.as_model_shape",
    "tutor_lib.costs.model.attention_params",
    "tutor_lib.costs.model.ffn_params",
    "tutor_lib.costs.model.non_embedding_params",
    "tutor_lib.costs.model.param_breakdown",
    "tutor_lib.costs.model.param_count",
    "tutor_lib.costs.units.whole_bytes",
    "tutor_lib.ffn.chunked_ffn",
    "tutor_lib.ffn.ffn",
    "tutor_lib.ffn.gelu",
    "tutor_lib.ffn.relu",
    "tutor_lib.ffn.silu",
    "tutor_lib.ffn.swiglu",
    "tutor_lib.masks.analysis.compose_layers",
    "tutor_lib.masks.analysis.density",
    "tutor_lib.masks.analysis.keys_per_query",
    "tutor_lib.masks.analysis.mask_stats",
    "tutor_lib.masks.analysis.receptive_field",
    "tutor_lib.masks.analysis.tile_mask",
    "tutor_lib.masks.analysis.tile_savings",
    "tutor_lib.masks.analysis.tile_sparsity",
    "tutor_lib.masks.patterns.block_local_mask",
    "tutor_lib.masks.patterns.block_mask",
    "tutor_lib.masks.patterns.block_random_mask",
    "tutor_lib.masks.patterns.causal_mask",
    "tutor_lib.masks.patterns.dilated_mask",
    "tutor_lib.masks.patterns.fixed_mask",
    "tutor_lib.masks.patterns.global_mask",
    "tutor_lib.masks.patterns.local_mask",
    "tutor_lib.masks.patterns.random_mask",
    "tutor_lib.masks.patterns.strided_mask",
    "tutor_lib.measure.count_flops",
    "tutor_lib.measure.flop_counts_by_op",
    "tutor_lib.measure.loglog_slope",
    "tutor_lib.measure.peak_bytes",
    "tutor_lib.measure.sweep",
    "tutor_lib.measure.time_call",
    "tutor_lib.sparse.block_sparse_attention",
    "tutor_lib.sparse.cached_bytes",
    "tutor_lib.sparse.default_query_block",
    "tutor_lib.sparse.sliding_window_attention",
    "tutor_lib.torch_ops.as_mask_array",
    "tutor_lib.torch_ops.as_qkv_tensors",
    "tutor_lib.torch_ops.check_tensor",
    "tutor_lib.torch_ops.masked_softmax",
}


def _row_modules() -> list:
    import bad_input_rows

    names = [
        m.name for m in pkgutil.iter_modules(bad_input_rows.__path__) if m.name.startswith("rows_")
    ]
    return [importlib.import_module(f"bad_input_rows.{name}") for name in sorted(names)]


ROWS: list[Row] = [row for module in _row_modules() for row in module.ROWS]


def _public_functions() -> dict[str, object]:
    """``module.qualname`` → object for every callable in a concept module's ``__all__``
    (re-exports count once, under the module that defines them)."""
    found = {}
    for info in pkgutil.walk_packages(tutor_lib.__path__, "tutor_lib."):
        parts = info.name.split(".")
        if UI_PACKAGES & set(parts) or parts[-1].startswith("_"):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if callable(obj) and getattr(obj, "__module__", "").startswith("tutor_lib"):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


def _key(func) -> str:
    return f"{func.__module__}.{func.__qualname__}"


@contextmanager
def _time_limit(seconds: int):
    def on_alarm(signum, frame):
        raise TimeoutError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_every_public_function_has_rows():
    covered = {_key(row.func) for row in ROWS}
    missing = sorted(set(_public_functions()) - covered - PENDING)
    assert not missing, (
        "these public functions have no bad-input rows: add them to "
        "tests/bad_input_rows/rows_<module>.py: " + ", ".join(missing)
    )
    stale = sorted(PENDING & covered)
    assert not stale, f"remove from PENDING (they have rows now): {stale}"


@pytest.mark.parametrize("row", ROWS, ids=[f"{row.func.__name__}: {row.why}" for row in ROWS])
def test_row(row: Row):
    with _time_limit(SECONDS):
        if row.raises is not None:
            with pytest.raises(row.raises, match=re.escape(row.name)):
                row.func(*row.args, **row.kwargs)
        else:
            value = row.func(*row.args, **row.kwargs)
            assert row.check(value), f"{row.func.__name__}({row.why}) returned {value!r}"


def test_the_table_is_not_empty_and_rows_are_well_formed():
    assert len(ROWS) >= 5
    assert all(inspect.isroutine(row.func) or inspect.isclass(row.func) for row in ROWS)
