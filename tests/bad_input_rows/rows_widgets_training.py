"""Bad builder arguments for tutor_lib.widgets.training (lesson 07's training-memory explorer)."""

from bad_input_rows import error, noted, result
from tutor_lib.costs import GPT2_SMALL
from tutor_lib.widgets.training import TrainingMemoryExplorer, training_memory_explorer

ROWS = [
    result(
        training_memory_explorer,
        seq_len=5000,
        check=noted("using 4096", length_slider=4096),
        why="length 5000 → the nearest choice, 4096",
    ),
    result(
        TrainingMemoryExplorer,
        preset=GPT2_SMALL.name,
        batch=0,
        n_layers=1000,
        check=noted("n_layers = 1000", batch_slider=1, depth_slider=128),
        why="batch 0 → 1, 1000 layers → 128",
    ),
    result(
        training_memory_explorer,
        optimizer="sgd",
        mixed_precision=False,
        check=lambda e: e.error is None and e.parts["optimizer states"] == 0,
        why="plain fp32 SGD from the start",
    ),
    error(training_memory_explorer, preset="GPT-5", name="preset", why="unknown preset"),
    error(training_memory_explorer, recompute="half", name="recompute", why="unknown strategy"),
    error(training_memory_explorer, optimizer="adamw", name="optimizer", why="unknown optimizer"),
    error(training_memory_explorer, seq_len=0, name="seq_len", why="no tokens"),
    error(training_memory_explorer, batch=2.0, raises=TypeError, name="batch", why="float batch"),
    error(
        training_memory_explorer,
        mixed_precision="yes",
        raises=TypeError,
        name="mixed_precision",
        why='"yes"',
    ),
]
