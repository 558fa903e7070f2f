"""Bad builder arguments for tutor_lib.widgets: a named error, or a clamped value with a note.

(What a learner does to a built explorer, moving sliders to extremes or typing NaN, is covered by
``test_explorers_survive_extreme_and_nan_control_values`` in tests/test_bad_inputs.py.)
"""

from bad_input_rows import error, noted, result
from tutor_lib.costs import GPT2_SMALL
from tutor_lib.widgets.attention import AttentionExplorer, attention_explorer
from tutor_lib.widgets.flops import FlopShareExplorer, flop_share_explorer
from tutor_lib.widgets.masks import MaskExplorer, mask_explorer, pattern_mask
from tutor_lib.widgets.memory import (
    AttentionMemoryExplorer,
    MemoryExplorer,
    attention_memory_explorer,
    attention_memory_formulas,
    memory_explorer,
    memory_formulas,
)
from tutor_lib.widgets.progress import Progress, in_kernel, progress

PARAMS = dict(
    n=8,
    left=1,
    right=1,
    dilation=1,
    block=4,
    stride=2,
    summary=1,
    causal=True,
    global_tokens=1,
    num_random=1,
    random_blocks=1,
    seed=0,
    use_window=True,
    use_strided=False,
    use_global=False,
    use_random=False,
)

ROWS = [
    # attention_explorer(d_k=3) raised an ipywidgets TraitError
    result(
        attention_explorer,
        d_k=3,
        check=noted("using 4", d_k_slider=4),
        why="d_k=3 → the nearest choice, 4",
    ),
    result(AttentionExplorer, n=1000, check=noted("n = 1000", n_slider=24), why="n above max"),
    error(attention_explorer, multiplier=float("nan"), name="multiplier", why="NaN multiplier"),
    error(attention_explorer, causal="False", raises=TypeError, name="causal", why='"False"'),
    error(attention_explorer, n=8.5, raises=TypeError, name="n", why="float n"),
    error(attention_explorer, dk=64, raises=TypeError, name="dk", why="a misspelt keyword"),
    result(
        flop_share_explorer,
        d_model=100,
        check=noted("using 128", d_slider=128),
        why="d_model=100 → 128",
    ),
    error(FlopShareExplorer, n="1k", raises=TypeError, name="n", why="a string n"),
    error(mask_explorer, pattern="sliding", name="pattern", why="unknown pattern"),
    result(
        MaskExplorer,
        n=4,
        tile=0,
        check=lambda e: e.error is None and "n = 4" in e.info.value,
        why="n and tile below their sliders",
    ),
    error(pattern_mask, "nope", PARAMS, name="pattern", why="unknown pattern"),
    error(pattern_mask, "local", {"n": 8}, name="params", why="missing values"),
    error(pattern_mask, "local", [8], raises=TypeError, name="params", why="a list"),
    result(
        pattern_mask,
        "fixed",
        {**PARAMS, "stride": 99, "summary": 99},
        check=lambda r: r[0].shape == (8, 8) and len(r[1]) == 2,
        why="clamped with notes",
    ),
    error(memory_explorer, preset="GPT-4", name="preset", why="unknown preset"),
    result(
        MemoryExplorer,
        context=1000,
        batch=0,
        check=noted("using 1024", context_slider=1024, batch_slider=1),
        why="context 1000 → 1024, batch 0 → 1",
    ),
    error(attention_memory_explorer, d_model=0, name="d_model", why="d_model 0"),
    result(
        AttentionMemoryExplorer,
        n_heads=3,
        n_layers=500,
        check=noted("n_layers = 500", heads_slider=4, layers_slider=96),
        why="3 heads → 4, 500 layers → 96",
    ),
    error(memory_formulas, "Mistral", 1024, raises=TypeError, name="shape", why="a name"),
    error(memory_formulas, GPT2_SMALL, 0, name="context", why="context 0"),
    error(
        attention_memory_formulas,
        8,
        d_model=8,
        n_heads=0,
        n_layers=1,
        name="n_heads",
        why="0 heads",
    ),
    # progress
    result(
        progress,
        (i for i in range(3)),
        check=lambda p: list(p) == [0, 1, 2] and p.bar.value == 3 and p.total is None,
        why="a generator, lazily",
    ),
    error(progress, 5, raises=TypeError, name="iterable", why="an int"),
    error(Progress, [1], show="yes", raises=TypeError, name="show", why='show="yes"'),
    result(in_kernel, check=lambda k: k is False, why="pytest is not a kernel"),
]
